/*
 * app_sandbox.h - one app on a throwaway slipway server, for the
 * end-to-end tests.
 *
 * A sandbox is a fresh directory (th_sandbox) holding the server root, the
 * app's repository and the pusher's checkout, and the environment every
 * command of the test runs with.  The calling sequence:
 *
 *	static struct app_sandbox sb;
 *
 *	static void setup(void)     { app_sandbox_init(&sb, "myapp", 0); }
 *	static void teardown(void)  { app_sandbox_release(&sb); }
 *
 *	Test(suite, deploys)
 *	{
 *		app_sandbox_create(&sb, NULL);
 *		app_sandbox_write(&sb, "Procfile", "web: ./run\n", 0644);
 *		app_sandbox_checkout(&sb, NULL, "main", "first");
 *		free(app_sandbox_push(&sb, "main"));
 *		cr_assert_eq(app_sandbox_release_count(&sb), 1);
 *	}
 *
 * Helpers that run something which must work assert it (Criterion), so a
 * failed step stops the test with the command's output.  Strings they
 * return are malloc'ed and the caller's.
 */
#ifndef SW_TEST_APP_SANDBOX_H
#define SW_TEST_APP_SANDBOX_H

#include "tests/helpers.h"

#include <stddef.h>
#include <sys/types.h>

#define APP_SANDBOX_ENV_MAX 24

struct app_sandbox {
	char *dir;  /* the sandbox; also $HOME */
	char *root; /* SLIPWAY_ROOT: <dir>/root */
	char *src;  /* the pusher's working tree: <dir>/src (made, empty) */
	char *repo; /* the app's repository: <root>/apps/<app>.git */
	char *app;
	int http_port; /* the router's: SLIPWAY_HTTP_PORT, a free port on 127.0.0.1 */
	/* "K=V" entries every command gets, NULL-terminated; owned copies */
	const char *env[APP_SANDBOX_ENV_MAX + 1];
	size_t nenv;
};

enum {
	/* git never prompts and speaks English: GIT_TERMINAL_PROMPT=0, LC_ALL=C */
	APP_SANDBOX_BATCH = 1 << 0,
	/* run `slipway apps:create APP` at the end of app_sandbox_init */
	APP_SANDBOX_CREATE = 1 << 1,
};

/*
 * Makes the sandbox for app.  The environment is SLIPWAY_ROOT, HOME, a git
 * author and committer "t <t@example.com>" and GIT_CONFIG_NOSYSTEM=1, plus
 * what flags add.  Release it with app_sandbox_release.
 */
void app_sandbox_init(struct app_sandbox *s, const char *app, unsigned flags);

/* Removes the sandbox directory and frees the contents of s. */
void app_sandbox_release(struct app_sandbox *s);

/* Adds "K=V" (copied) to the environment of every command run from now on. */
void app_sandbox_setenv(struct app_sandbox *s, const char *kv);

/*
 * Runs argv in dir (NULL: s->src) with the sandbox's environment and input
 * on stdin (NULL: none).  Free the result with th_result_free.
 */
struct th_result app_sandbox_run(const struct app_sandbox *s, const char *dir,
				 const char *input, const char *const *argv);

/* app_sandbox_run with argv inline, NULL-terminated (see SANDBOX_RUN). */
struct th_result app_sandbox_runv(const struct app_sandbox *s, const char *dir, ...);

/* Asserts r exited 0 (what names it in the failure); returns its stdout. */
char *app_sandbox_must_at(struct th_at at, struct th_result r, const char *what);
#define app_sandbox_must(...) app_sandbox_must_at(TH_AT, __VA_ARGS__)

/* SANDBOX_RUN(s, dir, "git", "status"): no trailing NULL needed. */
#define SANDBOX_RUN(s, dir, ...) app_sandbox_runv((s), (dir), __VA_ARGS__, (const char *)NULL)

/* SANDBOX_OK(s, dir, ...): SANDBOX_RUN that must succeed; its stdout. */
#define SANDBOX_OK(s, dir, ...) app_sandbox_must(SANDBOX_RUN(s, dir, __VA_ARGS__), #__VA_ARGS__)

/* SANDBOX_OK for a helper that was itself given where it was called from. */
#define SANDBOX_OK_AT(at, s, dir, ...) \
	app_sandbox_must_at((at), SANDBOX_RUN(s, dir, __VA_ARGS__), #__VA_ARGS__)

/* Asserts a refused command: exit status, exact stderr, nothing on stdout; frees r. */
void app_sandbox_refused_at(struct th_at at, struct th_result r, int status, const char *err);
#define app_sandbox_refused(...) app_sandbox_refused_at(TH_AT, __VA_ARGS__)

/* The same for the usual refusal: exit 1 and the one line " !    LINE" on stderr. */
#define app_sandbox_refused_line(r, line) \
	app_sandbox_refused_line_at(TH_AT, (r), (line))
void app_sandbox_refused_line_at(struct th_at at, struct th_result r, const char *line);

/*
 * For suites whose commands run add-ons (PostgreSQL refuses root): becomes
 * the test user (tests/helpers.h th_become_test_user(), TMPDIR /tmp so it
 * reaches the sandbox), then app_sandbox_init(sb, app, 0) with
 * SLIPWAY_USER=alice@example.com and a free SLIPWAY_ADDON_PORT_RANGE.
 */
void app_sandbox_init_addons(struct app_sandbox *sb, const char *app);

/* Strips trailing newlines from line in place; returns it. */
char *app_sandbox_chomp(char *line);

/* `slipway apps:create APP [option]`, which must succeed (option may be NULL). */
void app_sandbox_create_at(struct th_at at, const struct app_sandbox *s, const char *option);
#define app_sandbox_create(...) app_sandbox_create_at(TH_AT, __VA_ARGS__)

/* Writes <src>/name (creating directories), with mode. */
void app_sandbox_write(const struct app_sandbox *s, const char *name, const char *content,
		       unsigned mode);

/*
 * Makes dir (NULL: s->src; created if missing) a git repository whose first
 * branch is branch, commits everything in it with message msg (NULL: no
 * commit) and adds the remote "heroku" for the app.
 */
void app_sandbox_checkout_at(struct th_at at, const struct app_sandbox *s, const char *dir,
			     const char *branch, const char *msg);
#define app_sandbox_checkout(...) app_sandbox_checkout_at(TH_AT, __VA_ARGS__)

/* The full sha of HEAD in dir (NULL: s->src). */
char *app_sandbox_head_at(struct th_at at, const struct app_sandbox *s, const char *dir);
#define app_sandbox_head(...) app_sandbox_head_at(TH_AT, __VA_ARGS__)

/* `git push heroku refspec` from s->src, which must exit 0; returns its stderr. */
char *app_sandbox_push_at(struct th_at at, const struct app_sandbox *s, const char *refspec);
#define app_sandbox_push(...) app_sandbox_push_at(TH_AT, __VA_ARGS__)

/* git push heroku REFSPEC, either way: its exit status in *status, what git printed on stderr. */
char *app_sandbox_push_status(const struct app_sandbox *s, const char *refspec, int *status);

/* git push heroku REFSPEC, which pre-receive must refuse; returns what git printed on stderr. */
char *app_sandbox_push_rejected_at(struct th_at at, const struct app_sandbox *s,
				   const char *refspec);
#define app_sandbox_push_rejected(...) app_sandbox_push_rejected_at(TH_AT, __VA_ARGS__)

/* How many releases `slipway releases -a APP --json` lists (all of them). */
int app_sandbox_release_count(const struct app_sandbox *s);

/* Whether the app's repository has ref. */
int app_sandbox_has_ref(const struct app_sandbox *s, const char *ref);

/* The sha ref names in the app's repository, which must have it. */
char *app_sandbox_ref_at(struct th_at at, const struct app_sandbox *s, const char *ref);
#define app_sandbox_ref(...) app_sandbox_ref_at(TH_AT, __VA_ARGS__)

/* How many run directories (<root>/runs/ *: copies of slugs) are left. */
int app_sandbox_runs_left(const struct app_sandbox *s);

/*
 * Starts argv (argv[0] a path) in s->src with the sandbox's environment,
 * stdin from /dev/null and stdout and stderr into the file log; its pid.
 */
pid_t app_sandbox_start(const struct app_sandbox *s, const char *log, const char *const *argv);

/* Waits up to 20 s for the file to hold needle; fails the test if it never does. */
void app_sandbox_wait_for_at(struct th_at at, const char *file, const char *needle);
#define app_sandbox_wait_for(...) app_sandbox_wait_for_at(TH_AT, __VA_ARGS__)

/*
 * SIGKILLs the processes that name dir or work in it and one of whose
 * arguments holds name (a build's hook: "pre-receive"); how many.
 */
int app_sandbox_kill_named(const char *dir, const char *name);

/*
 * The same for the outermost of them only: not a process whose parent is
 * one of them too (a writer, not the child it forked).
 */
int app_sandbox_kill_outermost(const char *dir, const char *name);

/* Sends sig to pid and waits for it: its exit status (128+signal); *took the seconds. */
int app_sandbox_signal(pid_t pid, int sig, double *took);

/* Seconds on the monotonic clock. */
double app_sandbox_clock(void);

#endif
