/*
 * oneoff.h - a one-off process of a release (`slipway run`, Heroku's
 * `heroku run`): a command run once, in the foreground, its output
 * streamed.
 *
 * Part of runtime/: uses util/, store/ and exec/; writes only to the FILE * or
 * callback it is given (the process's own stdin, stdout and stderr are this
 * process's).
 *
 * It starts like a process instance (runtime/procenv.h): in the sandbox, in
 * the release's slug at /app (writable and its own, gone when it ends,
 * exec/overlay.h; its run directory swept by gc when this process was killed:
 * <root>/runs/<app>.run.N-XXXXXX), with HOME=/app,
 * the profile scripts sourced first, and the release's config vars plus
 * DYNO=run.N (N is this process's pid: unique among the app's running
 * one-offs), PORT (a free port of this machine) and PATH; the release's
 * add-ons at /run/addons/<alias> (exec/sandbox.h sandbox_addons()).  One command word
 * is a shell command line run with /bin/sh -c; several are exec'ed as an
 * argument vector.
 *
 * With a terminal (tty), the command's stdin, stdout and stderr are a
 * pseudo-terminal's, its controlling terminal, the size of this process's
 * and resized with it, and its TERM this process's; this process's terminal is raw while it runs and
 * back as it was on every way out (but SIGKILL).
 *
 * It needs no supervision tree and takes no app lock: deploys go on while
 * it runs, and it keeps the release it started with.
 *
 * A SIGTERM, SIGINT or SIGHUP to this process (the client went away, ^C)
 * is passed on as SIGTERM to every process of the one-off; whatever still
 * runs after the stop timeout gets SIGKILL.
 *
 *     struct oneoff_opts o = { .root = root, .app = "myapp", .release = &r,
 *                              .words = argv, .n = argc };
 *     err = oneoff_run(&o, &status);
 */
#ifndef SW_ONEOFF_H
#define SW_ONEOFF_H

#include "store/release.h"

#include <stddef.h>

struct formation_size;

struct oneoff_opts {
	const char *root;
	const char *app;
	const struct release *release;  /* its slug and config; the caller's */
	const char *const *words;       /* the command: n >= 1 words */
	size_t n;
	int stop_timeout_sec;           /* SIGTERM to SIGKILL; 0 = slipway.stopTimeout (30) */
	/* its memory quota, `run --size` (store/formation.h); NULL: the app's, as an instance's */
	const struct formation_size *size;
	/*
	 * 1: the command gets a terminal of its own (util/tty.h) while this
	 * process's stdin, a terminal, is raw; its stdout gets the output
	 */
	int tty;
};

/*
 * Runs the command until it exits; *status gets its exit code (128+signal
 * when it was killed).  Before anything starts: SW_ENOTFOUND when the
 * release has no slug, SW_EINVALID for no command or a malformed
 * slipway.stopTimeout, SW_ERROR when the sandbox or the slug's copy cannot
 * be made.  Nothing is left behind in <root>/runs.
 */
int oneoff_run(const struct oneoff_opts *o, int *status);

#endif
