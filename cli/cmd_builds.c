/* builds, builds:output, releases:retry: arguments and printing. */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/view.h"

#include "builder/build.h"
#include "store/app.h"
#include "store/appctx.h"
#include "store/builds.h"
#include "store/ledger.h"
#include "store/settings.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void build_json(struct buf *out, const struct build_record *r)
{
	buf_addf(out, "{\"id\":%d,\"status\":\"%s\",\"commit\":", r->id, build_status_name(r->status));
	if (r->commit[0])
		buf_addf(out, "\"%s\"", r->commit);
	else
		buf_adds(out, "null");
	buf_adds(out, ",\"user\":{\"email\":");
	buf_add_json_string(out, r->user ? r->user : "");
	buf_adds(out, "},\"created_at\":\"");
	view_iso8601(out, r->created);
	buf_adds(out, "\",\"source\":");
	buf_add_json_string(out, r->source ? r->source : "");
	if (r->release)
		buf_addf(out, ",\"release\":{\"version\":%d}}", r->release);
	else
		buf_adds(out, ",\"release\":null}");
}

static void builds_table(struct buf *out, const char *app, const struct build_record *v, size_t n)
{
	int64_t now = (int64_t)time(NULL);
	size_t wid = 2, wst = 6, wby = 2;
	for (size_t i = 0; i < n; i++) {
		char id[16];
		size_t len = (size_t)snprintf(id, sizeof(id), "%d", v[i].id);
		wid = len > wid ? len : wid;
		len = strlen(build_status_name(v[i].status));
		wst = len > wst ? len : wst;
		len = v[i].user ? strlen(v[i].user) : 0;
		wby = len > wby ? len : wby;
	}
	buf_addf(out, "=== %s Builds\n", app);
	buf_addf(out, "%-*s  %-*s  %-7s  %-*s  %-7s  %s\n", (int)wid, "ID", (int)wst, "Status",
		 "Commit", (int)wby, "By", "Release", "When");
	for (size_t i = 0; i < n; i++) {
		char rel[16] = "-";
		if (v[i].release)
			snprintf(rel, sizeof(rel), "v%d", v[i].release);
		buf_addf(out, "%-*d  %-*s  %-7.7s  %-*s  %-7s  ", (int)wid, v[i].id, (int)wst,
			 build_status_name(v[i].status), v[i].commit, (int)wby,
			 v[i].user ? v[i].user : "", rel);
		view_when(out, v[i].created, now);
		buf_adds(out, "\n");
	}
}

int cmd_builds(struct cli *c)
{
	struct build_record *v = NULL;
	size_t n = 0;
	if (app_check_exists(c->root, c->app) < 0 ||
	    builds_list(c->root, c->app, (size_t)(c->num ? c->num : 15), &v, &n) < 0)
		return cli_fail();
	struct buf out = BUF_INIT;
	if (c->json) {
		buf_adds(&out, "[");
		for (size_t i = 0; i < n; i++) {
			buf_adds(&out, i ? ",\n " : "");
			build_json(&out, &v[i]);
		}
		buf_adds(&out, "]\n");
	} else if (!n) {
		buf_addf(&out, "%s has no builds.\n", c->app);
	} else {
		builds_table(&out, c->app, v, n);
	}
	cli_put(&out);
	for (size_t i = 0; i < n; i++)
		build_record_release(&v[i]);
	free(v);
	return 0;
}

/* "7" names build 7: 1 to 1,000,000,000, digits only. */
static int parse_build_id(const char *s, int *id)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *s < '0' || *s > '9' || *end || v < 1 || v > 1000000000)
		return sw_error_set(SW_EINVALID, "invalid build number '%s' (use the ID that "
				    "slipway builds shows, e.g. 7)", s);
	*id = (int)v;
	return 0;
}

int cmd_builds_output(struct cli *c)
{
	int id = 0;
	if (app_check_exists(c->root, c->app) < 0)
		return cli_fail();
	if (c->nargs ? parse_build_id(c->args[0], &id) < 0
		     : builds_latest(c->root, c->app, &id) < 0)
		return cli_fail();
	if (!id) {
		fprintf(stderr, " !    %s has no builds.\n", c->app);
		return 1;
	}
	char *text = NULL;
	size_t len = 0;
	if (builds_output(c->root, c->app, id, &text, &len) < 0)
		return cli_fail();
	fwrite(text, 1, len, stdout);
	free(text);
	return 0;
}

/* The commit of the latest release, which a retry builds again (*version: that release). */
static int retry_commit(struct app_ctx *ctx, char commit[41], int *version)
{
	struct ledger *l = ctx->ledger;
	struct release r = RELEASE_INIT;
	int rc = 0;
	if (ledger_latest(l, version) < 0 || (*version && ledger_read(l, *version, 0, &r) < 0)) {
		rc = cli_fail();
	} else if (!*version || !r.commit[0]) {
		fprintf(stderr, " !    %s has no deploy to retry: push the app first "
				"(git push heroku main).\n", ctx->app);
		rc = 1;
	} else {
		memcpy(commit, r.commit, 41);
	}
	release_release(&r);
	return rc;
}

int cmd_releases_retry(struct cli *c)
{
	char commit[41], from[32];
	struct app_ctx ctx = APP_CTX_INIT;
	int version = 0, rc;
	if (app_ctx_open(&ctx, c->root, c->app, APP_CTX_READ) < 0)
		return cli_fail();
	if (!(rc = retry_commit(&ctx, commit, &version))) {
		snprintf(from, sizeof(from), "v%d's commit", version);
		struct build_opts o = BUILD_OPTS_INIT;
		o.ctx = &ctx;
		o.rev = commit;
		o.branch = from;
		o.user = c->user;
		o.remote_user = c->shell_user;
		o.retry = 1;
		o.out = stdout;
		rc = build_deploy(&o, NULL, NULL) < 0 ? 1 : 0;
	}
	app_ctx_release(&ctx);
	return rc;
}
