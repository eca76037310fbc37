/*
 * watch.h - automatic rollback: for slipway.watch seconds after a release
 * goes live (default 60; 0 turns it off), its web instances are watched,
 * and if one crashes 3 times, or fails the app's health checks 3 times in
 * a row, the release that was live before it comes back on its own:
 *
 *     v9  Rollback to v7 (automatic: web.1 crashed 3 times after v8 went live)   slipway
 *
 * through the same switch as any rollback.  The watcher is a process of its
 * own (`slipway watch:run`), supervised like the instances: the service
 * watch-APP of the root's tree, written when the release went live by
 * whoever made it (a remote user's name never reaches it).  Killed, s6
 * starts it again and it watches what is left of the window, as it does
 * when the runtime starts again after a stop; once it ends by itself - the
 * window is over, it rolled back, or another release became current - its
 * service goes (killed as it went, it is started again only to end).  The
 * same service retires the instances the switch kept warm
 * (release/warm.h) when their window ends, living on past its own window
 * if need be.  An automatic rollback is never watched itself, so it never
 * loops, and it only ever goes back to the release that was live - and
 * passed its gate - just before.
 *
 * Starting and ending the watch service is release/watcher.h (what a
 * switch uses); this is the watcher itself, which rolls back through
 * release/change.h.
 *
 * Part of release/: uses util/, store/ and runtime/; writes only to the
 * app's log.
 */
#ifndef SW_WATCH_H
#define SW_WATCH_H

#include <stdio.h>

/* How many crashes, or failed health checks in a row, roll back. */
#define WATCH_STRIKES 3

struct app_ctx;

/*
 * The watcher itself, on the app ctx has open for reading (store/appctx.h):
 * returns when the watch is over, holding the app lock once it rolled back
 * or ended its service (the caller's release of ctx lets it go); *rolled_back gets
 * the new release when it rolled back (0 otherwise).  What it does, and why
 * it stopped when it failed, goes to the app's log (runtime/logs.h).
 */
int watch_run(struct app_ctx *ctx, int version, int previous, int *rolled_back);

#endif
