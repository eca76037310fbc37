#define _GNU_SOURCE
#include "dashboard/config.h"

#include "dashboard/html.h"
#include "runtime/logs.h"
#include "store/ledger.h"
#include "store/paths.h"
#include "util/error.h"

#include <stdlib.h>

/* The latest release's config and attachments (what the next change starts from, as `config`). */
static int read_latest(const struct app_request *a, struct release *r)
{
	struct ledger *l = NULL;
	char *repo = app_repo_path(a->root, a->app);
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

static void render(const struct app_request *a, struct response *res, int reveal)
{
	struct release r = RELEASE_INIT;
	struct buf *b = &res->body;
	if (read_latest(a, &r) < 0) {
		response_message(res, 500, "Error", sw_error_last());
		release_release(&r);
		return;
	}
	apppage_open(a, b, "Config vars");
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
			apppage_form_open(a, b, "config/reveal");
			buf_adds(b, "<button type=\"submit\">Reveal config vars</button></form>\n");
		}
	}
	apppage_close(b);
	release_release(&r);
}

void config_page(const struct app_request *a, struct response *res)
{
	render(a, res, 0);
}

void config_reveal(const struct app_request *a, struct response *res)
{
	render(a, res, 1);
	if (res->status == 200)
		logs_event(a->root, a->app, "api", "Config vars revealed by %s (dashboard)", a->user);
}
