/* builds, builds:output: arguments and printing. */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"
#include "view/builds.h"
#include "view/view.h"

#include "store/app.h"
#include "store/builds.h"
#include "util/error.h"
#include "util/say.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	if (a->json)
		view_builds_json(&out, v, n);
	else if (!n)
		buf_addf(&out, "%s has no builds.\n", c->app);
	else
		view_builds(&out, c->app, v, n, (int64_t)time(NULL));
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
		say(stderr, SAY_ERROR, "%s has no builds.", c->app);
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
