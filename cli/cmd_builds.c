/* builds, builds:output: arguments and printing. */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"
#include "cli/view.h"

#include "store/app.h"
#include "store/builds.h"
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

struct builds_args {
	int num, json;
};

const struct opt builds_opts[] = {
	OPT_INT('n', "num", struct builds_args, num, "N", 1, 1000000, NULL,
		"how many builds to show (default 15)"),
	CLI_OPT_JSON(struct builds_args),
	OPT_END_OF(struct builds_args),
};

int cmd_builds(struct cli *c)
{
	const struct builds_args *a = c->options;
	struct build_record *v = NULL;
	size_t n = 0;
	if (app_check_exists(c->root, c->app) < 0 ||
	    builds_list(c->root, c->app, (size_t)(a->num ? a->num : 15), &v, &n) < 0)
		return cli_fail();
	struct buf out = BUF_INIT;
	if (a->json) {
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
