/*
 * response.h - one answer of the dashboard, as SCGI sends it back to nginx.
 *
 * Part of dashboard/: uses util/ only; prints nothing.
 *
 * A Status line, the headers every answer has (Content-Security-Policy
 * default-src 'self' with frame-ancestors 'none', X-Content-Type-Options
 * nosniff, Referrer-Policy same-origin, X-Frame-Options DENY, no caching),
 * the page's own headers, Content-Length and the body:
 *
 *     struct response res = RESPONSE_INIT;
 *     html_page_open(&res.body, "Apps");  ...
 *     response_format(&res, &out);         // out: what goes on the socket
 *     response_release(&res);
 *
 * A streamed answer (Server-Sent Events) sets stream: the headers go
 * without Content-Length and without the body, then the server calls
 * stream(arg, fd) with the alarm of the request off; stream bounds
 * itself.  An answer that sets after has the server call after(arg) once
 * the answer is written and the connection closed, without the alarm:
 * work that waits for the router's requests in flight to end (a restart
 * waits for them before it stops old web instances) must not run while
 * nginx waits for this answer, one of those requests.
 * response_release() calls arg_free(arg).
 */
#ifndef SW_DASHBOARD_RESPONSE_H
#define SW_DASHBOARD_RESPONSE_H

#include "util/util.h"

/* One answer: the SCGI response (a Status line, headers, a blank line, the body). */
struct response {
	int status;
	struct buf headers; /* "Name: value\r\n" lines beyond Status and the security headers */
	struct buf body;
	const char *type;   /* Content-Type; default text/html; charset=utf-8 */
	void (*stream)(void *arg, int fd);  /* NULL: the body is the whole answer */
	void (*after)(void *arg);           /* NULL: nothing more to do */
	void *arg;
	void (*arg_free)(void *arg);
};
#define RESPONSE_INIT { .status = 200, .headers = BUF_INIT, .body = BUF_INIT }

/* The whole response as SCGI sends it back, into out. */
void response_format(const struct response *res, struct buf *out);

void response_release(struct response *res);

/* A plain page with status, a title and one escaped line of text. */
void response_message(struct response *res, int status, const char *title, const char *text);

/* 303 See Other to the path to. */
void response_redirect(struct response *res, const char *to);

#endif
