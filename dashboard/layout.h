/*
 * layout.h - the frame every page of the dashboard shares.
 *
 * Part of dashboard/: uses util/ and dashboard/html.h; prints nothing.
 *
 * A page opens its frame, writes its body (escaped through html.h) and
 * closes it:
 *
 *     layout_open(&res->body, q, "Activity");   // q->app: the app's tabs too
 *     ...
 *     layout_close(&res->body);
 *
 * The frame is the document's head and title, a header with the nav
 * (Apps; for a page of an app, its Activity, Processes, Logs, Config vars,
 * Domains and Settings), the logged-in
 * user and the Log out form.  Forms that change something carry the
 * session's token with layout_csrf_field().
 */
#ifndef SW_DASHBOARD_LAYOUT_H
#define SW_DASHBOARD_LAYOUT_H

struct buf;
struct page_req;

/* The start of a page titled title, with the header for q's session (and q->app). */
void layout_open(struct buf *b, const struct page_req *q, const char *title);

/* The end of a page. */
void layout_close(struct buf *b);

/* <input type="hidden" name="csrf" value="...">: the session's token for a POST form. */
void layout_csrf_field(struct buf *b, const struct page_req *q);

#endif
