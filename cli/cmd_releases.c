/* releases, releases:info, releases:output, rollback, releases:retry: arguments and printing. */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"
#include "view/view.h"

#include "builder/build.h"
#include "release/activate.h"
#include "release/change.h"
#include "runtime/hostview.h"
#include "store/app.h"
#include "store/appctx.h"
#include "store/ledger.h"
#include "store/settings.h"
#include "util/say.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The version named by args[i] (vN or N), else the latest release, as on Heroku. */
static int pick_version(struct cli *c, struct ledger *l, int i, int *v)
{
	if (i < c->nargs)
		return release_parse_version(c->args[i], v) ? cli_fail() : 0;
	if (ledger_latest(l, v) < 0)
		return cli_fail();
	if (!*v) {
		say(stderr, SAY_ERROR, "%s has no releases.", c->app);
		return 1;
	}
	return 0;
}

struct collect {
	struct release *items;
	size_t n, max;
};

static int collect_one(const struct release *r, void *ctx)
{
	struct collect *col = ctx;
	release_copy(&col->items[col->n++], r);
	return col->n >= col->max;
}

struct releases_args {
	int num, json;
};

const struct opt releases_opts[] = {
	OPT_INT('n', "num", struct releases_args, num, "N", 1, 1000000, NULL,
		"how many releases to show (default 15)"),
	CLI_OPT_JSON(struct releases_args),
	OPT_END_OF(struct releases_args),
};

int cmd_releases(struct cli *c)
{
	const struct releases_args *a = c->options;
	struct ledger *l = NULL;
	int rc = cli_open_app(c, &l), current = 0;
	if (rc)
		return rc;
	struct collect col = { NULL, 0, (size_t)(a->num ? a->num : 15) };
	col.items = xcalloc(col.max, sizeof(*col.items));
	int err = ledger_current(l, &current);
	if (!err)
		err = ledger_walk(l, 0, 0, collect_one, &col);
	if (err < 0) {
		rc = cli_fail();
		goto done;
	}
	struct buf out = BUF_INIT;
	if (a->json)
		view_releases_json(&out, col.items, col.n, current);
	else
		view_releases(&out, c->app, current, col.items, col.n, (int64_t)time(NULL));
	cli_put(&out);
done:
	for (size_t i = 0; i < col.n; i++)
		release_release(&col.items[i]);
	free(col.items);
	ledger_free(l);
	return rc;
}

struct releases_info_args {
	int json, shell;
};

const struct opt releases_info_opts[] = {
	CLI_OPT_JSON(struct releases_info_args),
	CLI_OPT_SHELL(struct releases_info_args),
	OPT_END_OF(struct releases_info_args),
};

int cmd_releases_info(struct cli *c)
{
	const struct releases_info_args *a = c->options;
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	int v = 0, current = 0, rc = cli_open_app(c, &l);
	if (rc)
		return rc;
	if ((rc = pick_version(c, l, 0, &v)))
		goto done;
	if (ledger_current(l, &current) < 0 || ledger_read(l, v, LEDGER_READ_ALL, &r) < 0) {
		rc = cli_fail();
		goto done;
	}
	struct buf out = BUF_INIT;
	char why[160];
	const char *unfit = change_rollback_eligible(c->root, &r, why, sizeof(why)) ? NULL : why;
	if (a->shell)
		view_config_shell(&out, &r.config);
	else if (a->json) {
		view_release_json(&out, &r, v == current, 1, unfit);
		buf_adds(&out, "\n");
	} else {
		/* with run hosts, which of them run it */
		struct strvec hosts = STRVEC_INIT, runs = STRVEC_INIT;
		int has = hostview_hosts(c->root, c->app, &hosts);
		if (has < 0 || (has > 0 && hostview_runs(c->root, c->app, &hosts, v, &runs) < 0)) {
			rc = cli_fail();
			buf_release(&out);
		} else
			view_release_info(&out, &r, v == current, unfit, has > 0 ? &runs : NULL,
					  (int64_t)time(NULL));
		strvec_clear(&hosts);
		strvec_clear(&runs);
		if (rc)
			goto done;
	}
	cli_put(&out);
done:
	release_release(&r);
	ledger_free(l);
	return rc;
}

int cmd_releases_output(struct cli *c)
{
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	int v = 0, rc = cli_open_app(c, &l);
	if (rc)
		return rc;
	if ((rc = pick_version(c, l, 0, &v)))
		goto done;
	if (ledger_read(l, v, LEDGER_READ_OUTPUT | LEDGER_READ_PROCS, &r) < 0) {
		rc = cli_fail();
		goto done;
	}
	if (r.output)
		fputs(r.output, stdout);
	else
		printf("Release v%d has no release phase output (%s).\n", v,
		       proc_list_get(&r.procs, "release") ? "the release command has not run"
							  : "its Procfile has no release process");
done:
	release_release(&r);
	ledger_free(l);
	return rc;
}
/*
 * A rollback runs the release command of the release it goes back to;
 * what the one live before it ran (a migration) stays done: say so when
 * the two differ.
 */
static void warn_release_command(struct cli *c, const struct change_result *res)
{
	struct ledger *l = NULL;
	struct release t = RELEASE_INIT, p = RELEASE_INIT;
	if (cli_open_app(c, &l))
		return;
	if (!ledger_read(l, res->target, LEDGER_READ_PROCS, &t) &&
	    !ledger_read(l, res->previous, LEDGER_READ_PROCS, &p)) {
		char *text = view_rollback_release_command(&p, &t, 1);
		if (text)
			say(stderr, SAY_ERROR, "%s", text);
		free(text);
	}
	release_release(&t);
	release_release(&p);
	ledger_free(l);
}

int cmd_rollback(struct cli *c)
{
	struct app_ctx ctx = APP_CTX_INIT;
	struct change_result res;
	int target = 0, err;
	if (app_ctx_open(&ctx, c->root, c->app, APP_CTX_READ) < 0)
		return cli_fail();
	if (c->nargs && (err = release_parse_version(c->args[0], &target)) < 0) {
		app_ctx_release(&ctx);
		return cli_fail();
	}
	err = change_rollback(&ctx, target, c->user, stdout, &res);
	app_ctx_release(&ctx); /* the lock goes before the output, as it did */
	if (err < 0)
		return cli_fail();
	char *skipped = res.skipped[0] ? xasprintf(" (skipped %s)", res.skipped) : xstrdup("");
	if (res.failed) {
		/* recorded, not live: no "done" */
		printf("Rolling back %s to v%d%s... failed, v%d is recorded but not live\n", c->app,
		       res.target, skipped, res.version);
		fflush(stdout);
		free(skipped);
		return cli_release_failed(c, &res);
	}
	printf("Rolling back %s to v%d%s... done, v%d%s%s%s\n", c->app, res.target, skipped,
	       res.version, res.not_running ? " (" : "", res.not_running ? cli_not_running(c) : "",
	       res.not_running ? ")" : "");
	fflush(stdout);
	free(skipped);
	if (res.previous) {
		warn_release_command(c, &res);
		say(stderr, SAY_WARN, "Warning: rollback affects code and config vars; it doesn't add "
				      "or remove addons.");
		fprintf(stderr, "To undo, run: slipway rollback v%d -a %s\n", res.previous, c->app);
	}
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
		say(stderr, SAY_ERROR, "%s has no deploy to retry: push the app first "
				       "(git push heroku main).", ctx->app);
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
