/* builds, builds:output, releases:retry: arguments and printing. */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "view/builds.h"
#include "view/view.h"

#include "builder/build.h"
#include "store/app.h"
#include "store/builds.h"
#include "store/ledger.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/say.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cmd_builds(struct cli *c)
{
	struct build_record *v = NULL;
	size_t n = 0;
	if (app_check_exists(c->root, c->app) < 0 ||
	    builds_list(c->root, c->app, (size_t)(c->num ? c->num : 15), &v, &n) < 0)
		return cli_fail();
	struct buf out = BUF_INIT;
	if (c->json)
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

/* The commit of the latest release, which a retry builds again (*version: that release). */
static int retry_commit(struct cli *c, char commit[41], int *version)
{
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	int rc = cli_open_app(c, &l);
	if (rc)
		return rc;
	if (ledger_latest(l, version) < 0 || (*version && ledger_read(l, *version, 0, &r) < 0)) {
		rc = cli_fail();
	} else if (!*version || !r.commit[0]) {
		say(stderr, SAY_ERROR, "%s has no deploy to retry: push the app first "
				       "(git push heroku main).", c->app);
		rc = 1;
	} else {
		memcpy(commit, r.commit, 41);
	}
	release_release(&r);
	ledger_free(l);
	return rc;
}

int cmd_releases_retry(struct cli *c)
{
	char commit[41], from[32];
	int version = 0, rc = retry_commit(c, commit, &version);
	if (rc)
		return rc;
	snprintf(from, sizeof(from), "v%d's commit", version);
	struct build_opts o = BUILD_OPTS_INIT;
	o.root = c->root;
	o.app = c->app;
	o.rev = commit;
	o.branch = from;
	o.user = c->user;
	o.remote_user = c->shell_user;
	o.retry = 1;
	o.out = stdout;
	if (settings_lock_wait(&o.lock_wait_sec) < 0)
		return cli_fail();
	return build_deploy(&o, NULL, NULL) < 0 ? 1 : 0;
}
