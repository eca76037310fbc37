/*
 * maintenance.h - whether an app is in maintenance mode (maintenance:on):
 * the router answers its requests with 503 and the maintenance page while
 * its processes keep running (runtime/router.h).
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * The flag is kept in the app's repository, so it survives restarts: the
 * file <root>/apps/APP.git/slipway-maintenance is there while it is on.
 * Whoever sets it holds the app's lock (util/lock.h) and then points the
 * router at the page (router_switch()).
 */
#ifndef SW_MAINTENANCE_H
#define SW_MAINTENANCE_H

/* 1 when maintenance mode is on for the app, else 0. */
int maintenance_on(const char *root, const char *app);

/* Turns it on (on=1) or off; either is fine when it already is. */
int maintenance_set(const char *root, const char *app, int on);

#endif
