/* pg:credentials:rotate and redis:credentials: an add-on's credentials, shown and rotated. */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"

#include "access/access.h"
#include "release/rotate.h"
#include "runtime/addon.h"
#include "store/addons.h"
#include "store/app.h"
#include "util/error.h"
#include "util/say.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- what both commands share ---- */

/* 1 if the remote user may rotate a: they may use the app that owns it. */
static int may_rotate(const struct cli *c, const struct addon *a)
{
	return !c->shell_user || (a->app[0] && access_allowed(c->root, a->app, c->shell_user) == 1);
}

/* The refusal without --confirm APP: one line saying how to proceed. */
static int unconfirmed(const struct cli *c, const char *name, const char *command,
		       const char *alias)
{
	say(stderr, SAY_ERROR, "This rotates the credentials of %s in every app it is attached "
			       "to; to proceed, run: slipway %s %s -a %s --confirm %s",
	    name, command, alias, c->app, c->app);
	return 1;
}

/* Rotates a's credentials; "VERB NAME... done" and each app's release line. */
static int rotate(struct cli *c, const struct addon *a, const char *verb)
{
	struct rotate_report rep = ROTATE_REPORT_INIT;
	int err = rotate_credentials(c->root, a->name, c->user, stdout, &rep), rc = 0;
	if (!err)
		printf("%s %s... done\n", verb, a->name);
	for (size_t i = 0; i < rep.n; i++) {
		const struct rotate_app *ra = &rep.v[i];
		if (ra->res.failed)
			printf("%s_URL on %s, v%d: failed, it is recorded but not live\n", ra->alias,
			       ra->app, ra->res.version);
		else if (ra->res.version && ra->res.not_running)
			printf("Rotated %s_URL on %s, v%d (%s)\n", ra->alias, ra->app,
			       ra->res.version, cli_not_running(c));
		else if (ra->res.version)
			printf("Rotated %s_URL on %s, v%d\n", ra->alias, ra->app, ra->res.version);
	}
	fflush(stdout);
	if (err)
		rc = cli_fail();
	rotate_report_release(&rep);
	return rc;
}

/* ---- pg:credentials:rotate ---- */

struct pg_rotate_args {
	const char *confirm;
};

const struct opt pg_credentials_rotate_opts[] = {
	OPT_STRING('c', "confirm", struct pg_rotate_args, confirm, "APP", "the app name",
		   "the app's name, to confirm"),
	OPT_END_OF(struct pg_rotate_args),
};

int cmd_pg_credentials_rotate(struct cli *c)
{
	const struct pg_rotate_args *args = c->options;
	struct addon a;
	char *alias = NULL;
	int rc = 0;
	if (app_check_exists(c->root, c->app) < 0 ||
	    addon_resolve(c->root, c->app, "postgresql", c->nargs ? c->args[0] : NULL, &a, &alias) < 0)
		return cli_fail();
	if (!may_rotate(c, &a)) {
		say(stderr, SAY_ERROR, "%s is %s's: only its users may rotate its credentials",
		    a.name, a.app[0] ? a.app : "no app");
		rc = 1;
	} else if (!args->confirm || strcmp(args->confirm, c->app))
		rc = unconfirmed(c, a.name, "pg:credentials:rotate", alias);
	else
		rc = rotate(c, &a, "Rotating credentials of");
	free(alias);
	return rc;
}

/* ---- redis:credentials ---- */

struct redis_credentials_args {
	const char *confirm;
	int reset;
};

const struct opt redis_credentials_opts[] = {
	OPT_FLAG(0, "reset", struct redis_credentials_args, reset,
		 "reset the credentials: a new password, in a release of every app it is\n"
		 "attached to; the old one stops working"),
	OPT_STRING('c', "confirm", struct redis_credentials_args, confirm, "APP", "the app name",
		   "with --reset: the app's name, to confirm"),
	OPT_END_OF(struct redis_credentials_args),
};

int cmd_redis_credentials(struct cli *c)
{
	const struct redis_credentials_args *args = c->options;
	struct addon a;
	char *alias = NULL, *url = NULL;
	int rc = 0;
	if (app_check_exists(c->root, c->app) < 0 ||
	    addon_resolve(c->root, c->app, "redis", c->nargs ? c->args[0] : NULL, &a, &alias) < 0)
		return cli_fail();
	if (!args->reset) {
		/* the URL the app has, as Heroku shows it */
		if (addon_url(c->root, &a, alias, &url) < 0)
			rc = cli_fail();
		else
			printf("%s\n", url);
	} else if (!may_rotate(c, &a)) {
		say(stderr, SAY_ERROR, "%s is %s's: only its users may reset its credentials",
		    a.name, a.app[0] ? a.app : "no app");
		rc = 1;
	} else if (!args->confirm || strcmp(args->confirm, c->app))
		rc = unconfirmed(c, a.name, "redis:credentials --reset", alias);
	else
		rc = rotate(c, &a, "Resetting credentials for");
	if (url)
		memset(url, 0, strlen(url));
	free(url);
	free(alias);
	return rc;
}
