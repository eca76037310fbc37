/*
 * warm.h - the previous release kept warm: after a switch, the web
 * instances of the release that was live leave the router but keep
 * running for slipway.warmPrevious (default 60 s; 0 turns it off), so
 * that a release equivalent to it - same slug, config vars and process
 * types, as a rollback to it is - goes live with a router switch alone,
 * no process started:
 *
 *     v8 live, v7 warm   --rollback v7-->   v9 (= v7) live on v7's instances, v8 warm
 *
 * They retire when the window ends (the app's watch service, which lives
 * that long: release/watch.h), at once when another release goes live,
 * and, should the watch service be gone, at the app's next switch or
 * server:start (activate_recover, release/activate.h).  What leaves an
 * automatic rollback is never kept: it crashed.  Non-web instances are
 * never kept warm (a worker out of the router would still take jobs);
 * going back starts them as usual.
 *
 * What makes one instance warm is runtime/warm.h; this is when.
 *
 * Part of release/: uses util/, store/ and runtime/; writes only to the
 * app's log.
 */
#ifndef SW_RELEASE_WARM_H
#define SW_RELEASE_WARM_H

#include "store/release.h"
#include "util/util.h"

struct app_ctx;

/*
 * r has just gone live over previous, served by live: previous's web
 * instances are kept warm for slipway.warmPrevious (names into kept);
 * nothing when that is 0 or cannot be read, or when r is an automatic
 * rollback.  The caller (holding the app lock) retires every instance
 * but live and kept.
 */
void warm_keep_previous(struct app_ctx *ctx, const struct release *r, int previous,
			const struct strvec *live, struct strvec *kept);

/*
 * Whether the warm instances can serve r, which is about to go live: they
 * are of a release equivalent to r, up and answering (they serve their
 * $PORT and pass the app's health checks once), one for each web instance
 * of want (the instances r needs, runtime/services.h).  When they can:
 * 1, their names into taken and the rest of want (the non-web instances,
 * to start) into rest.  0 otherwise (and always with slipway.warmPrevious
 * 0): r starts cold.
 */
int warm_find(struct app_ctx *ctx, const struct release *r, const struct strvec *want,
	      struct strvec *taken, struct strvec *rest);

/* The instances warm_find() gave serve r from now on. */
int warm_take(struct app_ctx *ctx, const struct release *r, const struct strvec *taken);

/*
 * Retires the app's warm instances whose window ends by by (seconds since
 * the epoch); the caller holds the app lock.  The log says so.  How many.
 */
size_t warm_expire(const char *root, const char *app, long long by);

/* When the app's warm instances retire (the latest of them), 0 when none is warm. */
long long warm_until(const char *root, const char *app);

#endif
