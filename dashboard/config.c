#define _GNU_SOURCE
#include "dashboard/config.h"

#include "dashboard/activity.h"
#include "dashboard/html.h"
#include "dashboard/layout.h"
#include "dashboard/request.h"
#include "runtime/logs.h"
#include "store/ledger.h"
#include "store/paths.h"
#include "util/error.h"

#include <stdlib.h>

/* A POST form to the app's page rest ("/maintenance"), with the session's token. */
static void post_form(struct buf *b, const struct page_req *q, const char *rest)
{
	buf_adds(b, "<form method=\"post\" action=\"");
	activity_app_href(b, q, rest);
	buf_adds(b, "\">");
	layout_csrf_field(b, q);
}

/* The latest release's config and attachments (what the next change starts from, as `config`). */
static int read_latest(struct page_req *q, struct release *r)
{
	struct ledger *l = NULL;
	char *repo = app_repo_path(q->d->root, q->app);
	int v = 0, err = ledger_open(&l, repo);
	if (!err)
		err = ledger_latest(l, &v);
	if (!err && v)
		err = ledger_read(l, v, LEDGER_READ_CONFIG, r);
	ledger_free(l);
	free(repo);
	return err;
}

static void var_row(struct buf *b, const struct config_var *var, const struct attachments *addons,
		    int reveal)
{
	const struct attachment *by = attach_managing(addons, var->key);
	buf_adds(b, "<tr><td>");
	html_escape(b, var->key);
	buf_adds(b, "</td><td>");
	html_escape(b, reveal ? var->value : CONFIG_MASK);
	buf_adds(b, "</td><td>");
	if (by) {
		buf_adds(b, "managed by the add-on ");
		html_escape(b, by->addon);
		buf_adds(b, " (");
		html_escape(b, by->alias);
		buf_adds(b, ")");
	}
	buf_adds(b, "</td></tr>\n");
}

static void render(struct page_req *q, struct response *res, int reveal)
{
	struct release r = RELEASE_INIT;
	struct buf *b = &res->body;
	if (read_latest(q, &r) < 0) {
		response_message(res, 500, "Error", sw_error_last());
		release_release(&r);
		return;
	}
	layout_open(b, q, "Config vars");
	buf_adds(b, "<h1>Config vars</h1>\n");
	if (!r.config.n) {
		buf_adds(b, "<p>No config vars.</p>\n");
	} else {
		buf_adds(b, "<table id=\"config\">\n<thead><tr><th>Name</th><th>Value</th><th></th></tr>"
			    "</thead>\n<tbody>\n");
		for (size_t i = 0; i < r.config.n; i++)
			var_row(b, &r.config.items[i], &r.addons, reveal);
		buf_adds(b, "</tbody>\n</table>\n");
		if (reveal) {
			buf_adds(b, "<p>Shown once: reload to mask them again.</p>\n");
		} else {
			post_form(b, q, "/config/reveal");
			buf_adds(b, "<button type=\"submit\">Reveal config vars</button></form>\n");
		}
	}
	layout_close(b);
	release_release(&r);
}

void config_page(struct page_req *q, struct response *res)
{
	render(q, res, 0);
}

void config_reveal(struct page_req *q, struct response *res)
{
	render(q, res, 1);
	if (res->status == 200)
		logs_event(q->d->root, q->app, "api", "Config vars revealed by %s (dashboard)", q->session.user);
}
