/*
 * dashboard_helpers.h - requests to the dashboard's pages as nginx passes
 * them (SCGI), answered in the test's own process, for the unit tests of
 * dashboard/ (no server, no router).
 *
 *	struct dashboard dash = { root, DH_HOST };
 *	char *cookie = dh_log_in(&dash, "alice", 0);
 *	struct response res;
 *	dh_answer(&dash, &(struct dh_call){ .method = "GET", .path = "/", .cookie = cookie }, &res);
 *
 * Helpers assert (Criterion).
 */
#ifndef SW_TEST_DASHBOARD_HELPERS_H
#define SW_TEST_DASHBOARD_HELPERS_H

#include "dashboard/request.h"
#include "dashboard/response.h"

/* The dashboard's host and origin in the unit tests (nginx's port 8080). */
#define DH_HOST "dashboard.apps.test"
#define DH_OWN "http://" DH_HOST ":8080"

/* One request: what nginx would pass; a NULL header is not sent. */
struct dh_call {
	const char *method, *path, *query, *body;
	const char *cookie, *origin, *site, *https;
	const char *last_event_id; /* an EventSource reconnecting sends it */
};

/*
 * A root (rh_root()) with the apps alices, alice's, and bobs, bob's, and
 * d set to answer for it: the root, for th_sandbox_free().
 */
char *dh_root(struct dashboard *d);

/* d's answer to c into *res (RESPONSE_INIT'ed here; response_release() it). */
void dh_answer(const struct dashboard *d, const struct dh_call *c, struct response *res);

/*
 * Logs user in with a login token made for them (operator: as the
 * operator), posted from the dashboard's own page: the session cookie
 * "slipway_session=HEX" (malloc'ed).
 */
char *dh_log_in(const struct dashboard *d, const char *user, int operator);

#endif
