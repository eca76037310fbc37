/*
 * logs.h - an app's logs page and its live tail (Server-Sent Events).
 *
 * Part of dashboard/ (pages given as request.h has them, framed by layout.h):
 * uses runtime/, store/ and util/; prints nothing.
 *
 *   GET /apps/APP/logs         the last LOGS_DEFAULT_LINES lines, as `logs`
 *                              shows them (escaped); without JavaScript that is all
 *   GET /apps/APP/logs/stream  text/event-stream: one event per new line
 *                              ("data: LINE"), from when it opens
 *   the asset logs.js (assets.h): the page's script, appends the stream's lines
 *
 * A stream holds one of LOGS_STREAMS_MAX slots, a lock on
 * <root>/dashboard/streams/N held while its process lives: with every slot
 * taken the answer is 503, so open tails never take all of the server's
 * SERVER_MAX_CHILDREN processes.  It ends when the client goes (nginx
 * closes the connection), when a write does not go through within the
 * server's timeout, or after LOGS_STREAM_SECONDS with an event "end" (the
 * script stops then; reloading follows again).  A comment line goes out
 * every LOGS_KEEPALIVE_SECONDS without lines, within nginx's read timeout.
 * The answer carries "X-Accel-Buffering: no", so nginx passes each event
 * on as it comes, without a change to its config.
 */
#ifndef SW_DASHBOARD_LOGS_H
#define SW_DASHBOARD_LOGS_H

#include "dashboard/response.h"

struct page_req;

#define LOGS_STREAMS_MAX 4
#define LOGS_STREAM_SECONDS 600
#define LOGS_KEEPALIVE_SECONDS 15

void logs_page(struct page_req *q, struct response *res);
void logs_stream(struct page_req *q, struct response *res);

/* logs_stream() ending after seconds instead of LOGS_STREAM_SECONDS. */
void logs_stream_for(struct page_req *q, struct response *res, int seconds);

#endif
