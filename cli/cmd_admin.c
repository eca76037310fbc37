/* fsck and gc: the operator's checks and clean-ups. */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"

#include "builder/build.h"
#include "builder/buildarea.h"
#include "dashboard/session.h"
#include "store/app.h"
#include "release/activate.h"
#include "runtime/addon_fsck.h"
#include "runtime/router.h"
#include "runtime/services.h"
#include "exec/slugtree.h"
#include "exec/unpack.h"
#include "store/fsck.h"
#include "util/error.h"
#include "util/units.h"
#include "util/say.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

/*
 * 0 if the root is a directory; else the exit code after one line: a
 * mistyped --root or a cron job without $SLIPWAY_ROOT must not pass for
 * a clean root (nor make one).
 */
static int root_exists(const struct cli *c)
{
	struct stat st;
	int found = stat(c->root, &st) == 0;
	if (found && S_ISDIR(st.st_mode))
		return 0;
	if (found)
		sw_error_set(SW_EINVALID, "the root '%s' is not a directory", c->root);
	else if (errno == ENOENT || errno == ENOTDIR)
		sw_error_set(SW_ENOTFOUND, "there is no root at '%s': give the root with --root DIR "
			     "(or $SLIPWAY_ROOT)", c->root);
	else
		sw_error_errno(SW_ERROR, "cannot read the root '%s'", c->root);
	return cli_fail();
}

/* The apps fsck looks at: -a APP, else every app of the root. */
static int fsck_apps(const struct cli *c, struct strvec *apps)
{
	if (!c->app)
		return app_list(c->root, apps);
	strvec_push(apps, c->app);
	return 0;
}

/*
 * fsck --repair: undoes what killed switches left in each app whose lock
 * is free (runtime/activate.h), saying under the app's name what was
 * undone.  Returns the number of apps that could not be put right.
 */
static int fsck_repair(const struct cli *c, const struct strvec *apps)
{
	int failed = 0;
	for (size_t i = 0; i < apps->n; i++) {
		char *said = NULL;
		size_t len = 0;
		/* kept aside, so that only an app something was done to is named */
		FILE *out = open_memstream(&said, &len);
		int err = activate_recover_app(c->root, apps->v[i], out ? out : stdout);
		if (out)
			fclose(out);
		if (len)
			printf("Repairing %s:\n%s", apps->v[i], said);
		if (err < 0) {
			fflush(stdout);
			say(stderr, SAY_ERROR, "%s: %s", apps->v[i], sw_error_last());
			failed++;
		}
		free(said);
	}
	fflush(stdout);
	return failed;
}

struct fsck_args {
	int repair;
};

const struct opt fsck_opts[] = {
	OPT_FLAG(0, "repair", struct fsck_args, repair,
		 "first undo what killed deploys, config changes, rollbacks\n"
		 "and restarts left (as their app's next one would)"),
	OPT_END_OF(struct fsck_args),
};

int cmd_fsck(struct cli *c)
{
	const struct fsck_args *a = c->options;
	struct strvec problems = STRVEC_INIT, apps = STRVEC_INIT;
	if (root_exists(c))
		return 1;
	if (c->app && app_check_exists(c->root, c->app) < 0)
		return cli_fail();
	int err = fsck_apps(c, &apps), failed = 0;
	if (!err && a->repair)
		failed = fsck_repair(c, &apps);
	if (!err)
		err = fsck_run(c->root, c->app, &problems);
	if (!err) /* add-ons and the attachments that name them */
		err = addon_fsck(c->root, c->app, &problems);
	if (!err && !c->app) /* the slugs' shared trees: the whole root's */
		err = slugtree_fsck(c->root, &problems);
	/* what runs, against what the ledger says runs */
	for (size_t i = 0; !err && i < apps.n; i++)
		activate_check(c->root, apps.v[i], &problems);
	strvec_clear(&apps);
	if (err < 0) {
		strvec_clear(&problems);
		return cli_fail();
	}
	for (size_t i = 0; i < problems.n; i++)
		printf("problem: %s\n", problems.v[i]);
	if (problems.n)
		say(stderr, SAY_ERROR, "fsck found %zu problem%s", problems.n, problems.n == 1 ? "" : "s");
	else
		printf("fsck: %s is consistent\n", c->app ? c->app : "everything");
	int rc = problems.n || failed ? 1 : 0;
	strvec_clear(&problems);
	return rc;
}

struct gc_args {
	int keep; /* 0 when not given */
};

const struct opt gc_opts[] = {
	OPT_INT(0, "keep", struct gc_args, keep, "N", 1, 1000000000, NULL,
		"keep only the slugs of each app's newest N releases"),
	OPT_END_OF(struct gc_args),
};

int cmd_gc(struct cli *c)
{
	const struct gc_args *a = c->options;
	struct gc_result r;
	uint64_t builds, runs, records;
	int logs = 0, hsts = 0, hsts_dashboard = 0;
	char size[32];
	if (root_exists(c))
		return 1;
	if (gc_run(c->root, a->keep, &r) < 0 || buildarea_sweep(c->root, &builds) < 0 ||
	    unpack_sweep(c->root, &runs) < 0 || services_sweep(c->root) < 0 ||
	    build_sweep(c->root, &records) < 0 || router_logs_rotate(c->root, &logs) < 0 ||
	    session_prune(c->root, time(NULL), NULL) < 0 || certs_hsts_steps(c->root, &hsts, &hsts_dashboard) < 0)
		return cli_fail();
	units_format_size(r.slug_bytes + r.temp_bytes, size, sizeof(size));
	printf("Removed %" PRIu64 " slug%s, %" PRIu64 " temporary file%s, %" PRIu64
	       " build director%s, %" PRIu64 " unpacked slug%s and %" PRIu64
	       " old build%s with %s output; freed %s\n",
	       r.slugs, r.slugs == 1 ? "" : "s", r.temps, r.temps == 1 ? "" : "s", builds,
	       builds == 1 ? "y" : "ies", runs, runs == 1 ? "" : "s", records,
	       records == 1 ? "" : "s", records == 1 ? "its" : "their", size);
	if (r.s3) {
		units_format_size(r.s3_bytes, size, sizeof(size));
		printf("Removed %" PRIu64 " slug%s from S3; freed %s\n", r.s3_slugs,
		       r.s3_slugs == 1 ? "" : "s", size);
	}
	if (logs)
		printf("Rotated the router log of %d app%s\n", logs, logs == 1 ? "" : "s");
	if (hsts)
		printf("Took the next HSTS step of %d app%s\n", hsts, hsts == 1 ? "" : "s");
	if (hsts_dashboard)
		printf("Took the next HSTS step of the dashboard\n");
	return 0;
}
