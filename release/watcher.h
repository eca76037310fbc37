/*
 * watcher.h - the automatic rollback watch as a service of the root's s6
 * tree (<root>/services/watch-APP): a switch starts it for the release it
 * made live, apps:destroy ends it.  What the watcher does once it runs is
 * release/watch.h; this half never rolls back, so a switch can start a
 * watch without depending on the rollback that the watch may make.
 *
 * Part of release/: uses util/, store/ and runtime/.
 */
#ifndef SW_WATCHER_H
#define SW_WATCHER_H

#include "store/release.h"

/* Who makes automatic rollbacks. */
#define WATCH_USER RELEASE_USER_AUTOMATIC

struct app_ctx;

/*
 * Starts the watcher of release version (previous: the release live before
 * it) as the app's watch service, in place of an earlier release's, when
 * slipway.watch (of the settings ctx opened with) is not 0 or warm_until
 * is: the service then lives until then too, to retire the instances kept
 * warm (release/warm.h; seconds since the epoch, 0: none).  The caller
 * has ctx open for writing (store/appctx.h) and the tree runs.  SW_ERROR ("cannot start the watcher: ...") when the service cannot
 * be written or the tree told: the caller says so, nothing watches then.
 */
int watch_spawn(const struct app_ctx *ctx, int version, int previous, long long warm_until);

/*
 * The same service for a release nothing watches here (one a run host's
 * control applied: the control watches it), when instances were kept
 * warm: it only retires them when warm_until comes (0: nothing is started).
 */
int watch_spawn_warm(const struct app_ctx *ctx, int version, int previous, long long warm_until);

/* Ends the app's watch now, if one runs (apps:destroy). */
void watch_stop(const char *root, const char *app);

/*
 * The watch service's name in the root's tree, "watch-APP" (an instance's
 * name holds a dot, so the two never meet).  Free it.
 */
char *watch_service_name(const char *app);

/*
 * Reads the app's watch service's file "watch": "vN vP END", the release
 * watched, the one to go back to and when the watch ends (seconds since
 * the epoch), so a watcher that s6 starts again after a kill watches the
 * rest of the window.  -1 when there is none or it cannot be read.
 */
int watch_service_read(const char *root, const char *app, int *version, int *previous,
		       long long *end);

/* The service's file "warm": when the instances kept warm retire (0: none, or no service). */
int watch_service_warm(const char *root, const char *app, long long *until);

#endif
