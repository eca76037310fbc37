/* The rollback preview and its confirmation: what will change, then the same rollback as the CLI's. */
#define _GNU_SOURCE
#include "dashboard/activity.h"

#include "dashboard/html.h"
#include "dashboard/layout.h"
#include "dashboard/request.h"
#include "dashboard/response.h"
#include "release/change.h"
#include "runtime/logs.h"
#include "store/appctx.h"
#include "store/diff.h"
#include "store/ledger.h"
#include "util/error.h"
#include "view/diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void paragraph(struct buf *b, const char *cls, const char *text)
{
	buf_addf(b, "<p class=\"%s\">", cls);
	html_escape(b, text);
	buf_adds(b, "</p>\n");
}

/*
 * A rollback runs the release command of the release it goes back to;
 * what the current one's did (a migration) stays done: say so when they
 * differ.
 */
static void release_command_warning(struct buf *b, const struct release *cur,
				    const struct release *t)
{
	const char *now = proc_list_get(&t->procs, "release");
	const char *was = proc_list_get(&cur->procs, "release");
	char *text = NULL;
	if (was && !now)
		text = xasprintf("v%d has no release command, unlike v%d: what v%d's (\"%s\") did to "
				 "your database is not undone.", t->version, cur->version,
				 cur->version, was);
	else if (was && strcmp(now, was))
		text = xasprintf("v%d's release command differs from v%d's: the release phase will run "
				 "v%d's (\"%s\"), but what v%d's (\"%s\") did to your database is not "
				 "undone.", t->version, cur->version, t->version, now, cur->version,
				 was);
	else if (now)
		text = xasprintf("The release phase will run v%d's release command (\"%s\") before "
				 "it goes live.", t->version, now);
	if (text)
		paragraph(b, "warning", text);
	free(text);
}

static const char addons_warning[] =
	"Rollback affects code and config vars; it doesn't add or remove addons.";

/* The confirm form: pins the current release the preview was rendered against. */
static void confirm_form(struct buf *b, struct page_req *q, int target, int current)
{
	buf_adds(b, "<form method=\"post\" action=\"");
	activity_app_href(b, q, "/rollback");
	buf_adds(b, "\">");
	layout_csrf_field(b, q);
	buf_addf(b, "<input type=\"hidden\" name=\"target\" value=\"%d\">"
		    "<input type=\"hidden\" name=\"current\" value=\"%d\">"
		    "<button type=\"submit\">Roll back to v%d</button></form>\n",
		 target, current, target);
}

/* The preview's body: the diff from current to target, the warnings, the form. */
static void preview(struct buf *b, struct page_req *q, const struct release_diff *d)
{
	struct buf text = BUF_INIT;
	view_diff_text(&text, q->app, d, 0);
	buf_addf(b, "<h2>What changes from the current release (v%d)</h2>\n<pre class=\"diff\">",
		 d->a.version);
	html_escape(b, text.data);
	buf_adds(b, "</pre>\n");
	release_command_warning(b, &d->a, &d->b);
	paragraph(b, "warning", addons_warning);
	confirm_form(b, q, d->b.version, d->a.version);
	buf_release(&text);
}

void rollback_preview_page(struct page_req *q, struct response *res)
{
	struct app_ctx ctx = APP_CTX_INIT;
	struct release t = RELEASE_INIT;
	struct release_diff d = { 0 };
	struct buf *b = &res->body;
	int v, current = 0;
	char why[160], title[48];
	if (activity_version(q, res, &v) < 0)
		return;
	if (app_ctx_open(&ctx, q->d->root, q->app, APP_CTX_READ) < 0 ||
	    ledger_current(ctx.ledger, &current) < 0 || ledger_read(ctx.ledger, v, 0, &t) < 0) {
		response_message(res, 404, "Not found", sw_error_last());
		goto done;
	}
	snprintf(title, sizeof(title), "Roll back to v%d", v);
	layout_open(b, q, title);
	buf_adds(b, "<h1>Roll back ");
	html_escape(b, q->app);
	buf_addf(b, " to v%d</h1>\n", v);
	if (!change_rollback_eligible(q->d->root, &t, why, sizeof(why))) {
		char *text = xasprintf("Cannot roll back to v%d: %s.", v, why);
		paragraph(b, "error", text);
		free(text);
	} else if (!current || v == current) {
		paragraph(b, "error", current ? "This is the current release." : "Nothing is live yet.");
	} else if (release_diff(q->d->root, q->app, current, v, &d) < 0) {
		paragraph(b, "error", sw_error_last());
	} else {
		preview(b, q, &d);
	}
	layout_close(b);
done:
	release_diff_release(&d);
	release_release(&t);
	app_ctx_release(&ctx);
}

/* A form field that is a version number ("7" or "v7"). */
static int form_version(const struct page_req *q, const char *name, int *v)
{
	const char *s = form_get(&q->form, name);
	return s && release_parse_version(s, v) == 0 && *v > 0 ? 0 : -1;
}

/* What the rollback did: done, vN and the new current release, or that it failed. */
static void outcome(struct buf *b, struct page_req *q, const struct change_result *r,
		    const char *output)
{
	buf_adds(b, r->failed ? "<p class=\"error\">Rolling back " : "<p class=\"done\">Rolling back ");
	html_escape(b, q->app);
	if (r->failed)
		buf_addf(b, " to v%d... failed, v%d is recorded but not live (v%d still is).</p>\n",
			 r->target, r->version, r->previous);
	else
		buf_addf(b, " to v%d... done, v%d</p>\n", r->target, r->version);
	if (!r->failed) {
		buf_adds(b, "<p>The current release is now <a href=\"");
		activity_app_href(b, q, "");
		buf_addf(b, "/releases/v%d\">v%d</a> (Rollback to v%d by ", r->version, r->version,
			 r->target);
		html_escape(b, q->session.user);
		buf_adds(b, ").</p>\n");
	}
	if (output && *output) {
		buf_adds(b, "<h2>Release phase</h2>\n<pre class=\"output\">");
		html_escape(b, output);
		buf_adds(b, "</pre>\n");
	}
	paragraph(b, "warning", addons_warning);
	buf_adds(b, "<p><a href=\"");
	activity_app_href(b, q, "/activity");
	buf_adds(b, "\">Back to the activity</a></p>\n");
}

void rollback_post(struct page_req *q, struct response *res)
{
	struct app_ctx ctx = APP_CTX_INIT;
	struct change_result r;
	char *output = NULL;
	size_t len = 0;
	int target, current, err;
	if (form_version(q, "target", &target) < 0 || form_version(q, "current", &current) < 0) {
		response_message(res, 400, "Bad request", "the form names no release to roll back to");
		return;
	}
	FILE *out = open_memstream(&output, &len);
	if (!out) {
		response_message(res, 500, "Error", "out of memory");
		return;
	}
	/* a release under way finishes, however long its release phase (as the CLI's) */
	alarm(0);
	err = app_ctx_open(&ctx, q->d->root, q->app, APP_CTX_READ);
	if (!err)
		err = change_rollback_from(&ctx, target, current, q->session.user, out, &r);
	app_ctx_release(&ctx);
	fclose(out);
	if (err == SW_ECONFLICT) {
		char *text = xasprintf("Nothing was changed: this page is out of date. %s; open the "
				       "activity again to see what is live.", sw_error_last());
		response_message(res, 409, "Refused", text);
		free(text);
	} else if (err < 0) {
		response_message(res, 409, "Refused", sw_error_last());
	} else {
		logs_event(q->d->root, q->app, "api", "Rollback to v%d by %s (dashboard)", r.target,
			   q->session.user);
		char title[48];
		snprintf(title, sizeof(title), "Rolled back to v%d", r.target);
		layout_open(&res->body, q, title);
		buf_adds(&res->body, "<h1>Rollback</h1>\n");
		outcome(&res->body, q, &r, output);
		layout_close(&res->body);
	}
	free(output);
}
