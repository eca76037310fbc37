/*
 * request.h - one request as a page of the dashboard sees it.
 *
 * Part of dashboard/: uses util/ only; prints nothing.
 *
 * pages.c fills it before a page runs: the session (when the route needs
 * one), the POST's form (checked by csrf.h before the page runs), and for
 * a route under /apps/APP/ the app, which exists and which the session's
 * user may use (else the page does not run: 404).  A page answers into a
 * struct response (response.h) and frames its body with layout.h.
 */
#ifndef SW_DASHBOARD_REQUEST_H
#define SW_DASHBOARD_REQUEST_H

#include "dashboard/form.h"
#include "dashboard/session.h"

#include <time.h>

struct scgi_request;

/* What the dashboard needs to answer. */
struct dashboard {
	const char *root;
	const char *host; /* slipway.dashboardHost: the origin's host */
};

struct page_req {
	const struct dashboard *d;
	const struct scgi_request *scgi;
	time_t now;
	int https;
	const char *method, *path;
	char *origin;  /* the dashboard's own: scheme://host[:port] */
	char *secret;  /* the session cookie's value, or NULL */
	struct session session;
	int logged_in;
	struct form form; /* a POST's, checked against csrf.h before its page runs */
	char *app;     /* /apps/APP/...: APP, checked; else NULL */
	char *arg;     /* the route's second '*' (/apps/APP/releases/v3: "v3"), or NULL */
};

#endif
