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

/* An app's tabs after its Activity: the path after /apps/APP/, the name. */
static const char *const tabs[][2] = {
	{ "processes", "Processes" }, { "logs", "Logs" }, { "config", "Config vars" },
	{ "domains", "Domains" },     { "settings", "Settings" },
};

static void nav(struct buf *b, const struct page_req *q)
{
	buf_adds(b, "<nav><a href=\"/\">Apps</a>");
	if (q->app) {
		buf_adds(b, " | <strong>");
		html_escape(b, q->app);
		buf_adds(b, "</strong>: <a href=\"/apps/");
		html_escape(b, q->app);
		buf_adds(b, "/activity\">Activity</a>");
		for (size_t i = 0; i < sizeof(tabs) / sizeof(tabs[0]); i++) {
			buf_adds(b, " | <a href=\"/apps/");
			html_escape(b, q->app);
			buf_addf(b, "/%s\">%s</a>", tabs[i][0], tabs[i][1]);
		}
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
