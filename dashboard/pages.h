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
 *   GET  /logs.js        the logs page's script (logs.h)
 *   /apps/APP/...        an app's pages (activity.h, procs.h, logs.h, config.h,
 *                        domains.h)
 *
 * The pages are rows of one table (pages.c): a path ('*' for one segment),
 * its method, whether it needs a session or an app, and the function that
 * answers, given the request as request.h has it.  A page of an app
 * (/apps/APP/...) runs only when APP exists and the session's user may
 * use it over ssh (the operator: any); otherwise 404, the same answer as
 * for an app that does not exist.  Every POST's form
 * passes csrf.h before its function runs; GET never changes anything.  A
 * page that needs a session answers 303 to /login without one.  Every
 * answer carries response.h's security headers.
 */
#ifndef SW_DASHBOARD_PAGES_H
#define SW_DASHBOARD_PAGES_H

#include "dashboard/request.h"
#include "dashboard/response.h"

#include <time.h>

struct scgi_request;

/* Answers req at time now into res. */
void dashboard_answer(const struct dashboard *d, const struct scgi_request *req, time_t now,
		      struct response *res);

#endif
