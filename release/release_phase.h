/*
 * release_phase.h - the Procfile's `release` process, run for every new release.
 *
 * Part of release/: uses util/, store/, exec/ and runtime/; writes only to the FILE * or
 * callback it is given.
 *
 * As on Heroku: when a release's process types include `release`, its
 * command runs in the sandbox with the slug's files at /app, writable and
 * its own (exec/overlay.h), as its working directory and HOME, the release's
 * add-ons reachable (exec/sandbox.h sandbox_addons()), and the release's
 * config vars, DYNO=release.1, SOURCE_VERSION and PATH as its environment,
 * before the release may become current (runtime/activate.h decides that).
 * Output streams to `out` ("Running release command..." … "Waiting for
 * release.... done.") and is handed back to be saved with the release
 * (releases:output).
 *
 * The command runs through /bin/sh -c, like any Procfile command: it is
 * the app's own code, from its own Procfile.
 */
#ifndef SW_RELEASE_PHASE_H
#define SW_RELEASE_PHASE_H

#include <stdio.h>

#include "exec/sandbox.h"
#include "store/appctx.h"
#include "store/release.h"

/* 1 if r has a release process and a slug to run it in. */
int release_phase_wanted(const struct release *r);

/*
 * Runs the release command of r, a release of the app ctx has open, in the
 * sandbox sb (exec/sandbox.h; the
 * run's /app is mounted into it, and sb is released
 * afterwards), for at most timeout_sec seconds.  *ok is set to 1 when it exited 0, and
 * *output (malloc'ed, never NULL) gets what is to be saved with the
 * release: its output (capped at 1 MiB), and why it failed.  A failure to
 * start it (the slug cannot be unpacked, the command cannot run, it ran out
 * of time) is a failed release phase, not an error of this function.
 */
void release_phase_run(const struct app_ctx *ctx, struct sandbox *sb, const struct release *r,
		       int timeout_sec, FILE *out, int *ok, char **output);

#endif
