/*
 * logs.h - an app's logs page and its live tail (Server-Sent Events).
 *
 * Part of dashboard/ (pages given as request.h has them, framed by layout.h):
 * uses runtime/, store/ and util/; prints nothing.
 *
 *   GET /apps/APP/logs         the last LOGS_DEFAULT_LINES lines, as `logs`
 *                              shows them (escaped); without JavaScript that is all
 *   GET /apps/APP/logs/stream  text/event-stream: an event "reset", the last
 *                              LOGS_DEFAULT_LINES lines again, then each new line
 *                              as it comes, one event a line ("data: LINE");
 *                              a HEAD gets the headers only
 *   the asset logs.js (assets.h): the page's script, empties the page's lines on
 *   "reset" and appends the stream's: no line logged between the page and its
 *   stream is missed, and none shows twice when the browser reconnects
 *
 * A tail is a stream of stream.h (one of its slots, bounded, kept alive,
 * passed on by nginx as it comes).  It ends when the client goes, or after
 * LOGS_STREAM_SECONDS with an event "end" (the script stops then;
 * reloading follows again).
 */
#ifndef SW_DASHBOARD_LOGS_H
#define SW_DASHBOARD_LOGS_H

#include "dashboard/response.h"
#include "dashboard/stream.h"

struct page_req;

#define LOGS_STREAMS_MAX STREAM_SLOTS_MAX
#define LOGS_STREAM_SECONDS 600
#define LOGS_KEEPALIVE_SECONDS STREAM_KEEPALIVE_SECONDS

void logs_page(struct page_req *q, struct response *res);
void logs_stream(struct page_req *q, struct response *res);

/* logs_stream() ending after seconds instead of LOGS_STREAM_SECONDS. */
void logs_stream_for(struct page_req *q, struct response *res, int seconds);

#endif
