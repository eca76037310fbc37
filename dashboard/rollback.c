/* The rollback preview and its confirmation: what will change, then the same rollback as the CLI's. */
#define _GNU_SOURCE
#include "dashboard/activity.h"

#include "dashboard/html.h"
#include "dashboard/layout.h"
#include "dashboard/request.h"
#include "dashboard/response.h"
#include "dashboard/scgi.h"
#include "release/change.h"
#include "runtime/logs.h"
#include "store/appctx.h"
#include "store/diff.h"
#include "store/ledger.h"
#include "util/error.h"
#include "view/diff.h"
#include "view/view.h"

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

/* What the rollback means for the release command (view.h), if anything. */
static void release_command_warning(struct buf *b, const struct release *cur,
				    const struct release *t)
{
	char *text = view_rollback_release_command(cur, t, 0);
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

/* A rollback checked and answered for: it runs once the answer is out. */
struct rollback_job {
	char *root, *app, *user;
	int target, from;
};

static void job_free(void *arg)
{
	struct rollback_job *j = arg;
	if (!j)
		return;
	free(j->root);
	free(j->app);
	free(j->user);
	free(j);
}

/*
 * The rollback itself, after the answer went out: its switch reloads the
 * router, whose workers finish the requests they carry - this one too -
 * before the old web instances stop, so it cannot run inside the request.
 * It is made only while vFROM is still current (checked again, under the
 * app's lock); the result page reads what it did from the ledger.
 */
static void rollback_run(void *arg)
{
	struct rollback_job *j = arg;
	struct app_ctx ctx = APP_CTX_INIT;
	struct change_result r;
	char *output = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&output, &len);
	int err = out ? app_ctx_open(&ctx, j->root, j->app, APP_CTX_READ) : SW_ERROR;
	if (!err)
		err = change_rollback_from(&ctx, j->target, j->from, j->user, out, &r);
	app_ctx_release(&ctx);
	if (out)
		fclose(out);
	free(output);
	if (err < 0)
		logs_event(j->root, j->app, "api", "Rollback to v%d by %s (dashboard) refused: %s",
			   j->target, j->user, sw_error_last());
	else
		logs_event(j->root, j->app, "api", "Rollback to v%d by %s (dashboard)", j->target,
			   j->user);
}

/*
 * What a rollback confirmed against vfrom may not do, said before it is
 * answered for: 0, or the status with the message in res.
 */
static int rollback_refused(struct page_req *q, struct response *res, int target, int from)
{
	struct app_ctx ctx = APP_CTX_INIT;
	struct release t = RELEASE_INIT;
	int current = 0, refused = 0;
	char why[160];
	if (app_ctx_open(&ctx, q->d->root, q->app, APP_CTX_READ) < 0 ||
	    ledger_current(ctx.ledger, &current) < 0 || ledger_read(ctx.ledger, target, 0, &t) < 0) {
		response_message(res, 404, "Not found", sw_error_last());
		refused = 404;
	} else if (current != from) {
		char *text = xasprintf("Nothing was changed: this page is out of date. v%d is no longer "
				       "the current release of %s (v%d is); open the activity again to "
				       "see what is live.", from, q->app, current);
		response_message(res, 409, "Refused", text);
		free(text);
		refused = 409;
	} else if (target == current || !change_rollback_eligible(q->d->root, &t, why, sizeof(why))) {
		char *text = target == current ? xasprintf("v%d is the current release already", target)
					       : xasprintf("Cannot roll back to v%d: %s.", target, why);
		response_message(res, 409, "Refused", text);
		free(text);
		refused = 409;
	}
	release_release(&t);
	app_ctx_release(&ctx);
	return refused;
}

void rollback_post(struct page_req *q, struct response *res)
{
	int target, current;
	if (form_version(q, "target", &target) < 0 || form_version(q, "current", &current) < 0) {
		response_message(res, 400, "Bad request", "the form names no release to roll back to");
		return;
	}
	if (rollback_refused(q, res, target, current))
		return;
	struct rollback_job *j = xcalloc(1, sizeof(*j));
	*j = (struct rollback_job){ xstrdup(q->d->root), xstrdup(q->app), xstrdup(q->session.user),
				    target, current };
	char *to = xasprintf("/apps/%s/rollback/v%d/result?from=%d&at=%lld", q->app, target, current,
			     (long long)q->now);
	response_redirect(res, to);
	free(to);
	res->after = rollback_run;
	res->arg = j;
	res->arg_free = job_free;
}

/* How long the result page waits for a rollback that has not started before it says so. */
#define ROLLBACK_START_MAX_SEC 60

/*
 * The rollback to vtarget by the session's user made after vfrom: the
 * newest such release into *found (0: none yet).
 */
static int rollback_made(struct ledger *l, struct page_req *q, int target, int from, int latest,
			 struct release *found)
{
	char desc[48];
	snprintf(desc, sizeof(desc), "Rollback to v%d", target);
	for (int v = latest; v > from; v--) {
		struct release r = RELEASE_INIT;
		int err = ledger_read(l, v, 0, &r);
		if (!err && !strcmp(r.description, desc) && r.user && !strcmp(r.user, q->session.user)) {
			*found = r;
			return v;
		}
		release_release(&r);
		if (err)
			return err;
	}
	return 0;
}

/* What the rollback did: done, vN and the new current release, or that it failed. */
static void outcome(struct buf *b, struct page_req *q, const struct release *r, int target,
		    int current)
{
	int failed = r->status == RELEASE_FAILED;
	buf_adds(b, failed ? "<p class=\"error\">Rolling back " : "<p class=\"done\">Rolling back ");
	html_escape(b, q->app);
	if (failed)
		buf_addf(b, " to v%d... failed, v%d is recorded but not live (v%d still is).</p>\n",
			 target, r->version, current);
	else
		buf_addf(b, " to v%d... done, v%d</p>\n", target, r->version);
	buf_adds(b, "<p>The current release is now <a href=\"");
	activity_app_href(b, q, "");
	buf_addf(b, "/releases/v%d\">v%d</a>", current, current);
	if (!failed) {
		buf_addf(b, " (Rollback to v%d by ", target);
		html_escape(b, q->session.user);
		buf_adds(b, ")");
	}
	buf_adds(b, ".</p>\n");
	paragraph(b, "warning", addons_warning);
}

/* A rollback under way: the page looks again in a second (no script needed). */
static void under_way(struct buf *b, struct page_req *q, int target, const char *what)
{
	buf_adds(b, "<p class=\"pending\">Rolling back ");
	html_escape(b, q->app);
	buf_addf(b, " to v%d... %s</p>\n", target, what);
}

void rollback_result_page(struct page_req *q, struct response *res)
{
	struct app_ctx ctx = APP_CTX_INIT;
	struct release r = RELEASE_INIT;
	struct form query = { 0 };
	struct buf body = BUF_INIT;
	const char *qs = scgi_header(q->scgi, "QUERY_STRING");
	int target, latest = 0, current = 0, made = 0, pending = 0;
	const char *from_s, *at_s;
	if (activity_version(q, res, &target) < 0)
		return;
	if (!qs || form_parse(&query, qs, strlen(qs)) < 0 || !(from_s = form_get(&query, "from")) ||
	    !(at_s = form_get(&query, "at"))) {
		response_message(res, 400, "Bad request", "the address names no rollback");
		goto done;
	}
	int from = atoi(from_s);
	long long at = atoll(at_s);
	if (app_ctx_open(&ctx, q->d->root, q->app, APP_CTX_READ) < 0 ||
	    ledger_latest(ctx.ledger, &latest) < 0 || ledger_current(ctx.ledger, &current) < 0 ||
	    (made = rollback_made(ctx.ledger, q, target, from, latest, &r)) < 0) {
		response_message(res, 500, "Error", sw_error_last());
		goto done;
	}
	if (made && r.status != RELEASE_PENDING) {
		outcome(&body, q, &r, target, current);
	} else if (made) {
		under_way(&body, q, target, "its release is being switched to");
		pending = 1;
	} else if (current != from) {
		paragraph(&body, "error", "Nothing was rolled back: the current release changed before "
					  "the rollback ran.");
	} else if (q->now - at > ROLLBACK_START_MAX_SEC) {
		paragraph(&body, "error", "The rollback did not start; its reason is in the app's "
					  "logs (slipway logs).");
	} else {
		under_way(&body, q, target, "starting");
		pending = 1;
	}
	char title[48];
	snprintf(title, sizeof(title), "Rolling back to v%d", target);
	layout_open(&res->body, q, title);
	if (pending)
		buf_adds(&res->body, "<meta http-equiv=\"refresh\" content=\"1\">\n");
	buf_adds(&res->body, "<h1>Rollback</h1>\n");
	buf_add(&res->body, body.data ? body.data : "", body.len);
	buf_adds(&res->body, "<p><a href=\"");
	activity_app_href(&res->body, q, "/activity");
	buf_adds(&res->body, "\">Back to the activity</a></p>\n");
	layout_close(&res->body);
done:
	buf_release(&body);
	form_release(&query);
	release_release(&r);
	app_ctx_release(&ctx);
}
