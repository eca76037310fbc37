/* The app's settings page: slipway.repoUrl, the link of the deploy hashes. */
#define _GNU_SOURCE
#include "dashboard/activity.h"

#include "dashboard/html.h"
#include "dashboard/layout.h"
#include "dashboard/request.h"
#include "dashboard/response.h"
#include "runtime/logs.h"
#include "store/settings.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

static void settings_form(struct page_req *q, struct buf *b, const char *value, const char *error,
			  const char *notice)
{
	layout_open(b, q, "Settings");
	buf_adds(b, "<h1>Settings</h1>\n");
	if (error) {
		buf_adds(b, "<p class=\"error\">");
		html_escape(b, error);
		buf_adds(b, "</p>\n");
	}
	if (notice) {
		buf_adds(b, "<p class=\"done\">");
		html_escape(b, notice);
		buf_adds(b, "</p>\n");
	}
	buf_adds(b, "<form method=\"post\" action=\"");
	activity_app_href(b, q, "/settings");
	buf_adds(b, "\">");
	layout_csrf_field(b, q);
	buf_adds(b, "\n<p><label for=\"repo_url\">Repository commit URL</label> "
		    "<input id=\"repo_url\" name=\"repo_url\" size=\"60\" "
		    "placeholder=\"https://github.com/org/repo/commit/%s\" value=\"");
	html_escape(b, value ? value : "");
	buf_adds(b, "\"></p>\n<p>Deploy hashes in the activity link to it, the commit's hash in "
		    "place of <code>%s</code>. Empty: no links.</p>\n"
		    "<button type=\"submit\">Save</button></form>\n");
	layout_close(b);
}

void app_settings_page(struct page_req *q, struct response *res)
{
	struct settings *s = NULL;
	char *value = NULL;
	int err = settings_open(&s, q->d->root, q->app);
	if (!err)
		err = settings_string(s, &SETTING_REPO_URL, &value);
	if (err < 0) {
		response_message(res, 500, "Error", sw_error_last());
	} else {
		const char *bad = value && settings_repo_url_check(value) < 0 ? sw_error_last() : NULL;
		settings_form(q, &res->body, value, bad, NULL);
	}
	free(value);
	settings_free(s);
}

void app_settings_post(struct page_req *q, struct response *res)
{
	const char *value = form_get(&q->form, "repo_url");
	if (!value) {
		response_message(res, 400, "Bad request", "the form has no repo_url");
		return;
	}
	if (settings_set_repo_url(q->d->root, q->app, value) < 0) {
		res->status = 400;
		settings_form(q, &res->body, value, sw_error_last(), NULL);
		return;
	}
	logs_event(q->d->root, q->app, "api", "Set slipway.repoUrl by %s (dashboard)",
		   q->session.user);
	settings_form(q, &res->body, value, NULL, *value ? "Saved." : "Removed.");
}
