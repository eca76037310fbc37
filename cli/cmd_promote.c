/* releases:promote (pipelines:promote) and deploy --slug: releases without a build. */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"
#include "cli/view.h"

#include "access/access.h"
#include "release/activate.h"
#include "release/change.h"
#include "store/app.h"
#include "store/appctx.h"
#include "store/ledger.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* releases:promote (pipelines:promote) and deploy */
struct promote_args {
	const char *to;   /* releases:promote */
	const char *slug; /* deploy */
	int json;
};

const struct opt promote_opts[] = {
	OPT_STRING(0, "to", struct promote_args, to, "APP", "an app name",
		   "the app to release the slug on (with -r REMOTE, default:\n"
		   "the app of the heroku remote, the next stage)"),
	CLI_OPT_JSON(struct promote_args),
	OPT_END_OF(struct promote_args),
};

const struct opt deploy_opts[] = {
	OPT_STRING(0, "slug", struct promote_args, slug, "SHA256:HEX", "a slug checksum",
		   "the slug: one that a release of an app you can use has"),
	CLI_OPT_JSON(struct promote_args),
	OPT_END_OF(struct promote_args),
};

/* Opens app's ledger: 0, or < 0 with the message set. */
static int open_ledger(const char *root, const char *app, struct ledger **l)
{
	char *repo = app_repo_path(root, app);
	int err = ledger_open(l, repo);
	free(repo);
	return err;
}

/* --json: the new release of app, as releases:info --json shows it. */
static int print_json(struct cli *c, const char *app, int version)
{
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	int current = 0, rc = 0;
	if (open_ledger(c->root, app, &l) < 0 || ledger_current(l, &current) < 0 ||
	    ledger_read(l, version, LEDGER_READ_ALL, &r) < 0) {
		rc = cli_fail();
	} else {
		struct buf out = BUF_INIT;
		view_release_json(&out, &r, version == current, 1, NULL);
		buf_adds(&out, "\n");
		cli_put(&out);
	}
	release_release(&r);
	ledger_free(l);
	return rc;
}

/*
 * What a release on app made by `doing` ("Promoting staging to prod")
 * says: the new version and whether it is live, as a rollback says it.
 */
static int report(struct cli *c, const char *app, const char *doing, int err,
		  const struct change_result *res)
{
	const struct promote_args *a = c->options;
	if (err < 0)
		return cli_fail();
	if (a->json) {
		int rc = print_json(c, app, res->version);
		if (rc)
			return rc;
	} else if (res->failed) {
		printf("%s... failed, v%d is recorded but not live\n", doing, res->version);
	} else {
		printf("%s... done, v%d%s%s%s\n", doing, res->version, res->not_running ? " (" : "",
		       res->not_running ? cli_not_running(c) : "", res->not_running ? ")" : "");
	}
	fflush(stdout);
	if (res->failed) {
		struct cli on = *c;
		on.app = app;
		return cli_release_failed(&on, res);
	}
	if (res->previous)
		fprintf(stderr, "To undo, run: slipway rollback v%d -a %s\n", res->previous, app);
	return 0;
}

void promote_next_stage(struct cli *c, const struct app_remote *rem, struct app_remote *down)
{
	struct promote_args *a = c->options;
	if (a->to || !c->remote || !strcmp(c->remote, "heroku") ||
	    app_remote_lookup(down, "heroku") < 0)
		return;
	int same = down->kind == rem->kind &&
		   (rem->kind != APP_REMOTE_SSH ||
		    (!strcmp(down->login, rem->login) &&
		     !strcmp(down->port ? down->port : "22", rem->port ? rem->port : "22")));
	if (same && down->app && c->app && strcmp(down->app, c->app))
		a->to = down->app;
}

int cmd_promote(struct cli *c)
{
	const struct promote_args *a = c->options;
	struct change_result res;
	if (!a->to)
		return cli_usage(c->cmd, "missing --to APP: the app to promote %s to", c->app);
	/* the dispatcher checked the remote user's access to -a APP; --to needs it too */
	if (c->shell_user && access_check(c->root, a->to, c->shell_user) < 0)
		return cli_fail();
	/* with --json, stdout is the release object alone: the release phase goes to stderr */
	struct app_ctx from = APP_CTX_INIT, to = APP_CTX_INIT;
	int err = app_ctx_open(&from, c->root, c->app, APP_CTX_READ);
	if (!err)
		err = app_ctx_open(&to, c->root, a->to, APP_CTX_READ);
	if (!err)
		err = change_promote(&from, &to, c->user, a->json ? stderr : stdout, &res);
	app_ctx_release(&to);
	app_ctx_release(&from);
	char *doing = xasprintf("Promoting %s to %s", c->app, a->to);
	int rc = report(c, a->to, doing, err, &res);
	free(doing);
	return rc;
}

/* The newest release, of the apps the user may see, whose slug is hex. */
struct slug_search {
	const char *hex;
	struct release found;
	int have;
};

static int search_app(struct cli *c, const char *app, struct slug_search *s)
{
	if (c->shell_user) {
		int allowed = access_allowed(c->root, app, c->shell_user);
		if (allowed <= 0)
			return allowed;
	}
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	int err = open_ledger(c->root, app, &l);
	int found = err ? err : slug_owner(l, s->hex, &r);
	if (found > 0 && (!s->have || r.created > s->found.created)) {
		release_release(&s->found);
		s->found = r;
		s->have = 1;
		r = (struct release)RELEASE_INIT;
	}
	release_release(&r);
	ledger_free(l);
	return found < 0 ? found : 0;
}

int cmd_deploy(struct cli *c)
{
	const struct promote_args *a = c->options;
	struct slug_search s = { NULL, RELEASE_INIT, 0 };
	struct strvec apps = STRVEC_INIT;
	struct change_result res;
	int rc = 0;
	if (!a->slug)
		return cli_usage(c->cmd, "missing --slug SHA256:HEX: the slug to deploy");
	if (!(s.hex = slug_arg_hex(a->slug))) {
		fprintf(stderr, " !    '%s' is not a slug checksum: use SHA256: and 64 lowercase hex "
				"digits, as releases:info shows\n", a->slug);
		return 1;
	}
	if (app_check_exists(c->root, c->app) < 0 || app_list(c->root, &apps) < 0)
		return cli_fail();
	for (size_t i = 0; !rc && i < apps.n; i++)
		if (search_app(c, apps.v[i], &s) < 0)
			rc = cli_fail();
	if (!rc && !s.have) {
		fprintf(stderr, " !    no release of %s uses slug %.12s\n",
			c->shell_user ? "an app you have access to" : "any app", s.hex);
		rc = 1;
	}
	if (!rc) {
		struct app_ctx ctx = APP_CTX_INIT;
		int err = app_ctx_open(&ctx, c->root, c->app, APP_CTX_READ);
		if (!err)
			err = change_deploy_slug(&ctx, &s.found, c->user, a->json ? stderr : stdout,
						 &res);
		app_ctx_release(&ctx);
		char *doing = xasprintf("Deploying slug %.12s to %s", s.hex, c->app);
		rc = report(c, c->app, doing, err, &res);
		free(doing);
	}
	strvec_clear(&apps);
	release_release(&s.found);
	return rc;
}
