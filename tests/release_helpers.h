/*
 * release_helpers.h - a throwaway root with one app, its slugs and its
 * releases, for the unit tests of runtime/ and release/ (no push, no CLI).
 *
 *	static char *root;
 *	static void setup(void)    { root = rh_root(); rh_app(root, "demo"); }
 *	static void teardown(void) { th_sandbox_free(root); }
 *
 *	char hex[65];
 *	rh_slug(root, hex, "Procfile", "web: ./server\n", "server", "#!/bin/sh\n...", NULL);
 *	int v = rh_release(root, "demo", hex, RELEASE_SUCCEEDED, "web", "./server", NULL);
 *
 * Helpers assert (Criterion) and name the test's line when a step fails.
 */
#ifndef SW_TEST_RELEASE_HELPERS_H
#define SW_TEST_RELEASE_HELPERS_H

#include "store/release.h"
#include "tests/helpers.h"

#include <stdio.h>
#include <sys/types.h>

/*
 * A fresh sandbox that is the root and the process's HOME, with
 * GIT_CONFIG_NOSYSTEM=1 and no SLIPWAY_* variable left in the environment:
 * only what the test sets is a setting.  Free it with th_sandbox_free().
 */
char *rh_root(void);

/* Creates app in root (its hooks point at the slipway executable). */
void rh_app_at(struct th_at at, const char *root, const char *app);
#define rh_app(...) rh_app_at(TH_AT, __VA_ARGS__)

/*
 * Packs the files given as NAME, CONTENT pairs (NULL-terminated; a name
 * ending in ".sh" or without a dot is made executable) into a slug
 * published in root's store; its hex into hex.
 */
void rh_slug_at(struct th_at at, const char *root, char hex[65], ...);
#define rh_slug(...) rh_slug_at(TH_AT, __VA_ARGS__)

/*
 * Appends a release of app with slug hex (NULL: none), status and the
 * process types given as TYPE, COMMAND pairs (NULL-terminated), straight to
 * the ledger (no release phase, nothing started); its version.
 */
int rh_release_at(struct th_at at, const char *root, const char *app, const char *hex,
		  enum release_status status, ...);
#define rh_release(...) rh_release_at(TH_AT, __VA_ARGS__)

/* The app's current release (0: none). */
int rh_current_at(struct th_at at, const char *root, const char *app);
#define rh_current(...) rh_current_at(TH_AT, __VA_ARGS__)

/* The app's newest release (0: none). */
int rh_latest_at(struct th_at at, const char *root, const char *app);
#define rh_latest(...) rh_latest_at(TH_AT, __VA_ARGS__)

/* Reads release version of app (all parts) into r (RELEASE_INIT; release it). */
void rh_read_at(struct th_at at, const char *root, const char *app, int version,
		struct release *r);
#define rh_read(...) rh_read_at(TH_AT, __VA_ARGS__)

/* `git config --file <app's repository config> [--add] key value`. */
void rh_app_config_at(struct th_at at, const char *root, const char *app, const char *key,
		      const char *value);
#define rh_app_config(...) rh_app_config_at(TH_AT, __VA_ARGS__)

/*
 * Runs fn(ctx) in a child process with stdin from the file input (NULL:
 * /dev/null) and stdout and stderr appended to the file log (for what a
 * module writes to this process's own output, and signals sent to it);
 * the child exits 0 once fn returns.  Its pid.
 */
pid_t rh_child_at(struct th_at at, const char *log, const char *input, void (*fn)(void *ctx),
		  void *ctx);
#define rh_child(...) rh_child_at(TH_AT, __VA_ARGS__)

/* Waits for the child pid: its exit code (128+signal when killed). */
int rh_child_wait(pid_t pid);

/* An open memstream and what it holds (after rh_out_text()). */
struct rh_out {
	FILE *f;
	char *text;
	size_t len;
};
void rh_out_open(struct rh_out *o);
/* Flushes; the text so far ("" when nothing). */
const char *rh_out_text(struct rh_out *o);
void rh_out_close(struct rh_out *o);

#endif
