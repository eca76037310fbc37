/*
 * helpers.h - sandboxes and child processes for the tests.
 *
 * Every test makes its own sandbox directory (th_sandbox) and runs real
 * programs (git, slipway, bsdtar) through th_run(), which captures stdout,
 * stderr and the exit status.
 */
#ifndef SW_TEST_HELPERS_H
#define SW_TEST_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Where a helper was called from.  The helpers that check something take
 * it through a macro of the helper's own name, so a failed check names
 * the test's line ("at tests/integration/test_x.c:42: ...") and not only
 * the helper's.
 */
struct th_at {
	const char *file;
	int line;
};
#define TH_AT ((struct th_at){ __FILE__, __LINE__ })

struct th_result {
	int status;   /* exit code, or 128+signal */
	char *out;    /* stdout, NUL-terminated */
	char *err;    /* stderr, NUL-terminated */
};

/* A fresh directory under $TMPDIR (or /tmp); malloc'ed path. */
char *th_sandbox(void);

/* rm -rf the sandbox and free the path. */
void th_sandbox_free(char *dir);

/*
 * Runs argv (NULL-terminated) in dir (NULL = cwd) with extra environment
 * entries "K=V" (NULL-terminated list, may be NULL) added to ours, stdin
 * from input (NULL = /dev/null).  Returns the result; free with th_result_free.
 */
struct th_result th_run(const char *dir, const char *const *env,
			const char *input, const char *const *argv);

/* th_run with argv given inline: th_runv(dir, env, "git", "init", NULL). */
struct th_result th_runv(const char *dir, const char *const *env, ...);

/* th_runv with the NULL-terminated argv as a va_list (for wrappers). */
struct th_result th_runva(const char *dir, const char *const *env, va_list ap);

void th_result_free(struct th_result *r);

/* Writes a file (creating parent directories), with mode. */
void th_write(const char *path, const char *content, unsigned mode);

/*
 * A TCP port nothing on this machine holds now, in 10000-19899: outside
 * the kernel's ephemeral range, so no test's outgoing connection takes it
 * as its source port before the test binds it; never the same twice.
 */
int th_free_port(void);

/*
 * When run as root: becomes the unprivileged user the product runs as in
 * the add-on tests ($SLIPWAY_TEST_USER, else "nobody"; PostgreSQL refuses
 * root), own (may be NULL) given to it first.  Does nothing otherwise.
 */
void th_become_test_user(const char *own);

/* "FIRST-LAST", a range of 21 add-on ports of its own (slipway.addonPortRange), malloc'ed. */
char *th_addon_port_range(void);

/* Formats a path: th_path("%s/a/b", dir); malloc'ed. */
char *th_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reads a whole file; malloc'ed, NULL if missing. */
char *th_read(const char *path, size_t *len);

/* How many entries dir holds, dot-names left out (0 when it is missing). */
int th_entries(const char *dir);

/* Number of lines in s that contain needle. */
int th_count(const char *s, const char *needle);

/* How many processes of the machine have needle in their command line (arguments joined by spaces). */
int th_processes_with(const char *needle);

/* The parent of pid, from /proc (0: unknown, or gone). */
pid_t th_parent_of(pid_t pid);

/* Keeps p (malloc'ed; aborts if NULL) until th_keep_free(); returns it. */
char *th_keep(char *p);

/* Frees what th_keep() kept (a test's teardown). */
void th_keep_free(void);

/*
 * Makes home (created if missing) the only place libgit2 looks for the
 * server user's global, XDG and system git config, with an empty
 * home/.gitconfig: the test's settings are its own.
 */
void th_git_home(const char *home);

/* Flips one byte in the middle of a file (a store file: made writable first). */
void th_corrupt(const char *file);

#endif
