#include "dashboard/apppage.h"

#include "dashboard/html.h"
#include "util/util.h"

/* The app's pages, as the nav lists them. */
static const char *const nav[][2] = {
	{ "processes", "Processes" }, { "logs", "Logs" },
	{ "config", "Config vars" },  { "domains", "Domains" },
};

void apppage_open(const struct app_request *a, struct buf *b, const char *title)
{
	struct buf full = BUF_INIT;
	buf_addf(&full, "%s - %s", title, a->app);
	html_page_open(b, full.data);
	buf_release(&full);
	buf_adds(b, "<header><p>Logged in as ");
	html_escape(b, a->user);
	buf_adds(b, a->operator ? " (operator)" : "");
	buf_adds(b, "</p>\n<nav><a href=\"/\">Apps</a>");
	for (size_t i = 0; i < sizeof(nav) / sizeof(nav[0]); i++) {
		buf_adds(b, " | <a href=\"/apps/");
		html_escape(b, a->app);
		buf_addf(b, "/%s\">%s</a>", nav[i][0], nav[i][1]);
	}
	buf_adds(b, "</nav>\n</header>\n<h1>");
	html_escape(b, a->app);
	buf_adds(b, ": ");
	html_escape(b, title);
	buf_adds(b, "</h1>\n");
}

void apppage_close(struct buf *b)
{
	html_page_close(b);
}

void apppage_form_open(const struct app_request *a, struct buf *b, const char *action)
{
	buf_adds(b, "<form method=\"post\" action=\"/apps/");
	html_escape(b, a->app);
	buf_adds(b, "/");
	html_escape(b, action);
	buf_adds(b, "\"><input type=\"hidden\" name=\"csrf\" value=\"");
	html_escape(b, a->csrf);
	buf_adds(b, "\">");
}
