/* The Activity tab, a build's page, a release's page and the app's settings page. */
#define _GNU_SOURCE
#include "dashboard/activity.h"

#include "dashboard/ansi.h"
#include "dashboard/buildstream.h"
#include "dashboard/html.h"
#include "dashboard/layout.h"
#include "dashboard/request.h"
#include "dashboard/response.h"
#include "release/change.h"
#include "store/appctx.h"
#include "store/builds.h"
#include "store/diff.h"
#include "store/ledger.h"
#include "store/settings.h"
#include "util/error.h"
#include "view/diff.h"
#include "view/view.h"

#include <stdlib.h>
#include <string.h>

void activity_commit_link(struct buf *b, const char *fmt, const char *commit)
{
	const char *at = fmt ? strstr(fmt, "%s") : NULL;
	if (!at) {
		buf_addf(b, "<code>%.7s</code>", commit);
		return;
	}
	char *url = xasprintf("%.*s%s%s", (int)(at - fmt), fmt, commit, at + 2);
	buf_adds(b, "<a href=\"");
	html_escape(b, url);
	buf_addf(b, "\"><code>%.7s</code></a>", commit);
	free(url);
}

/* ---- the Activity tab ---- */

struct releases {
	struct release *v;
	size_t n, cap;
	int more; /* older ones were left out */
};

static int collect(const struct release *r, void *ctx)
{
	struct releases *rs = ctx;
	if (rs->n == ACTIVITY_RELEASES_SHOWN) {
		rs->more = 1;
		return 1;
	}
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? 2 * rs->cap : 64;
		rs->v = xrealloc(rs->v, rs->cap * sizeof(*rs->v));
	}
	rs->v[rs->n] = (struct release)RELEASE_INIT;
	release_copy(&rs->v[rs->n++], r);
	return 0;
}

/* What the tab shows of one app, and the verdict on the last slug checked. */
struct activity {
	struct page_req *q;
	char *repo_url;
	int current;
	char slug[65];
	int slug_ok;
	char why[160];
};

void activity_app_href(struct buf *b, const struct page_req *q, const char *rest)
{
	buf_adds(b, "/apps/");
	html_escape(b, q->app);
	buf_adds(b, rest);
}

/* "Roll back to here", or why not (releases:info's verdict). */
static void rollback_cell(struct buf *b, struct activity *a, const struct release *r)
{
	if (r->version == a->current) {
		buf_adds(b, "current");
		return;
	}
	/* releases often share a slug: check each one once */
	if (r->status != RELEASE_SUCCEEDED || !r->slug[0] || strcmp(a->slug, r->slug)) {
		a->slug_ok = change_rollback_eligible(a->q->d->root, r, a->why, sizeof(a->why));
		snprintf(a->slug, sizeof(a->slug), "%s",
			 r->status == RELEASE_SUCCEEDED ? r->slug : "");
	}
	if (!a->slug_ok) {
		buf_adds(b, "<span class=\"unfit\">Cannot roll back: ");
		html_escape(b, a->why);
		buf_adds(b, "</span>");
		return;
	}
	buf_adds(b, "<form method=\"get\" action=\"");
	activity_app_href(b, a->q, "");
	buf_addf(b, "/rollback/v%d\"><button type=\"submit\">Roll back to here</button></form>",
		 r->version);
}

static void release_row(struct buf *b, struct activity *a, const struct release *r)
{
	struct buf tmp = BUF_INIT;
	buf_addf(b, "<tr class=\"release\" id=\"v%d\"><td><a href=\"", r->version);
	activity_app_href(b, a->q, "");
	buf_addf(b, "/releases/v%d\">v%d</a></td><td>", r->version, r->version);
	view_change(&tmp, r);
	html_escape(b, tmp.data);
	buf_adds(b, "</td><td>");
	html_escape(b, r->user ? r->user : "");
	buf_adds(b, "</td><td>");
	buf_reset(&tmp);
	view_when(&tmp, r->created, a->q->now);
	html_escape(b, tmp.data);
	buf_addf(b, "</td><td>%s</td><td>", release_status_name(r->status));
	if (r->commit[0])
		activity_commit_link(b, a->repo_url, r->commit);
	buf_adds(b, "</td><td>");
	rollback_cell(b, a, r);
	buf_adds(b, "</td></tr>\n");
	buf_release(&tmp);
}

static void build_row(struct buf *b, struct activity *a, const struct build_record *r)
{
	struct buf when = BUF_INIT;
	buf_addf(b, "<tr class=\"build\" id=\"build-%d\"><td><a href=\"", r->id);
	activity_app_href(b, a->q, "");
	buf_addf(b, "/builds/%d\">Build %d</a></td><td>Build of ", r->id, r->id);
	html_escape(b, r->source ? r->source : "");
	if (r->release)
		buf_addf(b, " (v%d)", r->release);
	buf_adds(b, "</td><td>");
	html_escape(b, r->user ? r->user : "");
	buf_adds(b, "</td><td>");
	view_when(&when, r->created, a->q->now);
	html_escape(b, when.data);
	buf_addf(b, "</td><td>%s</td><td>", build_status_name(r->status));
	if (r->commit[0])
		activity_commit_link(b, a->repo_url, r->commit);
	buf_adds(b, "</td><td><a href=\"");
	activity_app_href(b, a->q, "");
	buf_addf(b, "/builds/%d\">Output</a></td></tr>\n", r->id);
	buf_release(&when);
}

/* Releases and builds, newest first; at the same second, the release (it follows its build). */
static void activity_rows(struct buf *b, struct activity *a, const struct releases *rs,
			  const struct build_record *builds, size_t nb)
{
	size_t i = 0, j = 0;
	while (i < rs->n || j < nb) {
		if (j == nb || (i < rs->n && rs->v[i].created >= builds[j].created))
			release_row(b, a, &rs->v[i++]);
		else
			build_row(b, a, &builds[j++]);
	}
}

/* The app's checked slipway.repoUrl into *out (NULL when unset). */
static int repo_url(const struct app_ctx *ctx, char **out)
{
	return settings_repo_url(ctx->settings, out);
}

void activity_page(struct page_req *q, struct response *res)
{
	struct app_ctx ctx = APP_CTX_INIT;
	struct releases rs = { 0 };
	struct build_record *builds = NULL;
	size_t nb = 0;
	struct activity a = { .q = q };
	struct buf *b = &res->body;
	int err = app_ctx_open(&ctx, q->d->root, q->app, APP_CTX_READ);
	if (!err)
		err = ledger_current(ctx.ledger, &a.current);
	if (!err && (err = ledger_walk(ctx.ledger, 0, 0, collect, &rs)) > 0)
		err = 0;
	if (!err)
		err = builds_list(q->d->root, q->app, 0, &builds, &nb);
	if (!err && repo_url(&ctx, &a.repo_url) < 0)
		a.repo_url = NULL; /* a bad format only loses the links; the settings page says why */
	if (err < 0) {
		response_message(res, 500, "Error", sw_error_last());
		goto done;
	}
	layout_open(b, q, "Activity");
	buf_adds(b, "<h1>Activity</h1>\n");
	if (!rs.n && !nb) {
		buf_adds(b, "<p>No releases or builds yet: push the app to deploy it.</p>\n");
	} else {
		buf_adds(b, "<table class=\"activity\">\n<thead><tr><th>Version</th><th>Change</th>"
			    "<th>By</th><th>When</th><th>Status</th><th>Commit</th><th></th></tr>"
			    "</thead>\n<tbody>\n");
		activity_rows(b, &a, &rs, builds, nb);
		buf_adds(b, "</tbody>\n</table>\n");
		if (rs.more) {
			buf_addf(b, "<p>Only the newest %d releases are shown: <code>slipway releases "
				    "-n N -a ", ACTIVITY_RELEASES_SHOWN);
			html_escape(b, q->app);
			buf_adds(b, "</code> lists more.</p>\n");
		}
	}
	layout_close(b);
done:
	for (size_t i = 0; i < rs.n; i++)
		release_release(&rs.v[i]);
	free(rs.v);
	for (size_t i = 0; i < nb; i++)
		build_record_release(&builds[i]);
	free(builds);
	free(a.repo_url);
	app_ctx_release(&ctx);
}

/* ---- a build ---- */

void activity_build_page(struct page_req *q, struct response *res)
{
	struct build_record r = BUILD_RECORD_INIT;
	char *text = NULL, *end;
	size_t len = 0;
	long id = strtol(q->arg, &end, 10);
	struct buf *b = &res->body;
	if (*end || id <= 0 || id > 1000000000 ||
	    builds_read(q->d->root, q->app, (int)id, &r) < 0 ||
	    builds_output(q->d->root, q->app, (int)id, &text, &len) < 0) {
		response_message(res, 404, "Not found", "there is no such build");
		goto done;
	}
	char title[48];
	snprintf(title, sizeof(title), "Build %d", r.id);
	layout_open(b, q, title);
	buf_addf(b, "<h1>Build %d: %s</h1>\n<p>By ", r.id, build_status_name(r.status));
	html_escape(b, r.user ? r.user : "");
	if (r.commit[0]) {
		buf_adds(b, ", commit ");
		char *fmt = NULL;
		struct settings *s = NULL;
		if (settings_open(&s, q->d->root, q->app) == 0 && settings_repo_url(s, &fmt) < 0)
			fmt = NULL;
		activity_commit_link(b, fmt, r.commit);
		free(fmt);
		settings_free(s);
	}
	if (r.release)
		buf_addf(b, ", made v%d", r.release);
	/* a running build's page ends at a whole line: the stream goes on from there */
	size_t shown = len;
	while (r.status == BUILD_PENDING && shown && text[shown - 1] != '\n')
		shown--;
	buf_adds(b, "</p>\n<pre class=\"output\" id=\"output\">");
	ansi_html(b, text, shown);
	buf_adds(b, "</pre>\n");
	if (r.status == BUILD_PENDING)
		buildstream_note(b, q, r.id, shown);
	layout_close(b);
done:
	free(text);
	build_record_release(&r);
}

/* ---- a release ---- */

int activity_version(struct page_req *q, struct response *res, int *v)
{
	if (!q->arg || release_parse_version(q->arg, v) < 0 || *v <= 0) {
		response_message(res, 404, "Not found", "there is no such release");
		return -1;
	}
	return 0;
}

/* r's config values masked: the dashboard reveals none on these pages. */
static void mask_config(struct release *r)
{
	for (size_t i = 0; i < r->config.n; i++) {
		free(r->config.items[i].value);
		r->config.items[i].value = xstrdup("********");
	}
}

void activity_release_page(struct page_req *q, struct response *res)
{
	struct app_ctx ctx = APP_CTX_INIT;
	struct release r = RELEASE_INIT;
	struct release_diff d = { 0 };
	struct buf text = BUF_INIT, *b = &res->body;
	int v, current = 0;
	char why[160], title[32];
	if (activity_version(q, res, &v) < 0)
		return;
	if (app_ctx_open(&ctx, q->d->root, q->app, APP_CTX_READ) < 0 ||
	    ledger_current(ctx.ledger, &current) < 0 ||
	    ledger_read(ctx.ledger, v, LEDGER_READ_ALL, &r) < 0) {
		response_message(res, 404, "Not found", sw_error_last());
		goto done;
	}
	const char *unfit = change_rollback_eligible(q->d->root, &r, why, sizeof(why)) ? NULL : why;
	mask_config(&r);
	view_release_info(&text, &r, v == current, unfit, NULL, q->now);
	snprintf(title, sizeof(title), "Release v%d", v);
	layout_open(b, q, title);
	buf_addf(b, "<h1>Release v%d</h1>\n<pre class=\"info\">", v);
	html_escape(b, text.data);
	buf_adds(b, "</pre>\n");
	if (current && v != current) {
		buf_reset(&text);
		if (release_diff(q->d->root, q->app, current, v, &d) == 0)
			view_diff_text(&text, q->app, &d, 0);
		else
			buf_addf(&text, "cannot compare with v%d: %s\n", current, sw_error_last());
		buf_addf(b, "<h2>From the current release (v%d) to v%d</h2>\n<pre class=\"diff\">",
			 current, v);
		html_escape(b, text.data);
		buf_adds(b, "</pre>\n");
	}
	if (!unfit && v != current) {
		buf_adds(b, "<form method=\"get\" action=\"");
		activity_app_href(b, q, "");
		buf_addf(b, "/rollback/v%d\"><button type=\"submit\">Roll back to here</button>"
			    "</form>\n", v);
	}
	layout_close(b);
done:
	release_diff_release(&d);
	buf_release(&text);
	release_release(&r);
	app_ctx_release(&ctx);
}
