#include "dashboard/layout.h"

#include "dashboard/html.h"
#include "dashboard/request.h"
#include "util/util.h"

void layout_csrf_field(struct buf *b, const struct page_req *q)
{
	buf_adds(b, "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_escape(b, q->session.csrf);
	buf_adds(b, "\">");
}

static void nav(struct buf *b, const struct page_req *q)
{
	buf_adds(b, "<nav><a href=\"/\">Apps</a>");
	if (q->app) {
		buf_adds(b, " | <strong>");
		html_escape(b, q->app);
		buf_adds(b, "</strong>: <a href=\"/apps/");
		html_escape(b, q->app);
		buf_adds(b, "/activity\">Activity</a> | <a href=\"/apps/");
		html_escape(b, q->app);
		buf_adds(b, "/settings\">Settings</a>");
	}
	buf_adds(b, "</nav>\n");
}

void layout_open(struct buf *b, const struct page_req *q, const char *title)
{
	html_page_open(b, title);
	buf_adds(b, "<header>\n");
	nav(b, q);
	buf_adds(b, "<p>Logged in as ");
	html_escape(b, q->session.user);
	buf_adds(b, q->session.operator ? " (operator)" : "");
	buf_adds(b, "</p>\n<form method=\"post\" action=\"/logout\">");
	layout_csrf_field(b, q);
	buf_adds(b, "<button type=\"submit\">Log out</button></form>\n</header>\n");
}

void layout_close(struct buf *b)
{
	html_page_close(b);
}
