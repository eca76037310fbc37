/*
 * pages.h - what the dashboard answers to one request.
 *
 * Part of dashboard/: uses view/, store/, access/ and util/; prints
 * nothing.
 *
 *   GET  /login          the login form; a small script (/login.js) posts the
 *                        token from the URL's #fragment, or the user pastes it
 *   POST /login          token -> a session cookie, then 303 to /
 *   GET  /               the apps this user may see over ssh (the operator: all)
 *   POST /logout         ends the session, then 303 to /login
 *   GET  /login.js       the login form's script
 *
 * The pages are rows of one table (pages.c): a path, its method, whether
 * it needs a session, and the function that answers.  Every POST's form
 * passes csrf.h before its function runs; GET never changes anything.  Every answer has
 * the security headers (CSP default-src 'self', frame-ancestors 'none',
 * nosniff, Referrer-Policy same-origin, no caching of pages).  A page
 * without a session answers 303 to /login.
 */
#ifndef SW_DASHBOARD_PAGES_H
#define SW_DASHBOARD_PAGES_H

#include "util/util.h"

#include <time.h>

struct scgi_request;

/* What the dashboard needs to answer. */
struct dashboard {
	const char *root;
	const char *host; /* slipway.dashboardHost: the origin's host */
};

/* One answer: the SCGI response (a Status line, headers, a blank line, the body). */
struct response {
	int status;
	struct buf headers; /* "Name: value\r\n" lines beyond Status and the security headers */
	struct buf body;
	const char *type;   /* Content-Type; default text/html; charset=utf-8 */
};
#define RESPONSE_INIT { .status = 200, .headers = BUF_INIT, .body = BUF_INIT }

/* Answers req at time now into res. */
void dashboard_answer(const struct dashboard *d, const struct scgi_request *req, time_t now,
		      struct response *res);

/* The whole response as SCGI sends it back, into out. */
void response_format(const struct response *res, struct buf *out);

void response_release(struct response *res);

/* A plain page with status, a title and one escaped line of text. */
void response_message(struct response *res, int status, const char *title, const char *text);

#endif
