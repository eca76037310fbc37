/*
 * watch.h - automatic rollback: for slipway.watch seconds after a release
 * goes live (default 60; 0 turns it off), its web instances are watched,
 * and if one crashes 3 times, or fails the app's health checks 3 times in
 * a row, the release that was live before it comes back on its own:
 *
 *     v9  Rollback to v7 (automatic: web.1 crashed 3 times after v8 went live)   slipway
 *
 * through the same switch as any rollback.  The watcher is a process of its
 * own (`slipway watch:run`), started detached when the release went live;
 * it ends early when another release becomes current or the runtime
 * stops.  An automatic rollback is never watched itself, so it never
 * loops, and it only ever goes back to the release that was live - and
 * passed its gate - just before.
 *
 * Part of runtime/: uses util/ and store/; writes only to the FILE * or
 * callback it is given.
 */
#ifndef SW_WATCH_H
#define SW_WATCH_H

#include <stdio.h>

/* Who makes automatic rollbacks. */
#define WATCH_USER "slipway"

/* How many crashes, or failed health checks in a row, roll back. */
#define WATCH_STRIKES 3

/*
 * Starts the watcher of release version (previous: the release live before
 * it) in the background, detached from this process and its output, when
 * slipway.watch is not 0.
 */
int watch_spawn(const char *root, const char *app, int version, int previous);

/*
 * The watcher itself: returns when the watch is over; *rolled_back gets
 * the new release when it rolled back (0 otherwise).  What it does goes to
 * the app's log (runtime/logs.h).
 */
int watch_run(const char *root, const char *app, int version, int previous, int *rolled_back);

#endif
