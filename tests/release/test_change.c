/*
 * release/change: releases without a build - a config change on the
 * current slug (and none when nothing changes), rollbacks that refuse what
 * they may not go to and skip what they should, promotions - each refusal
 * with its message and nothing recorded.
 */
#define _GNU_SOURCE
#include "tests/release_helpers.h"

#include "release/change.h"
#include "runtime/services.h"
#include "store/appctx.h"
#include "store/cas.h"
#include "store/config.h"
#include "store/ledger.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *root;
static struct rh_out out;
static struct change_result res;

static void setup(void)
{
	root = rh_root();
	rh_app(root, "demo");
	rh_out_open(&out);
	/* a writer that finds the lock busy gives up after one second, the policy's wait */
	setenv("SLIPWAY_LOCK_TIMEOUT", "1", 1);
}

static void teardown(void)
{
	unsetenv("SLIPWAY_LOCK_TIMEOUT");
	rh_out_close(&out);
	th_sandbox_free(root);
}

TestSuite(change, .init = setup, .fini = teardown, .timeout = 60);

/* app, opened for reading (the change takes the lock); release it. */
static struct app_ctx open_app(const char *app)
{
	struct app_ctx ctx = APP_CTX_INIT;
	cr_assert_eq(app_ctx_open(&ctx, root, app, APP_CTX_READ), 0, "%s", sw_error_last());
	return ctx;
}

/* The calls under test, one place each (their signatures may change). */
static int config_of(const char *app, const struct config *set, const struct strvec *order,
		     const struct strvec *unset)
{
	struct app_ctx ctx = open_app(app);
	int err = change_config(&ctx, set, order, unset, "alice@example.com", out.f, &res);
	app_ctx_release(&ctx);
	return err;
}

static int set_vars(const char *const *kv, const char *const *order)
{
	struct config set = CONFIG_INIT;
	struct strvec ord = STRVEC_INIT;
	for (size_t i = 0; kv[i]; i += 2)
		config_set(&set, kv[i], kv[i + 1]);
	for (size_t i = 0; order && order[i]; i++)
		strvec_push(&ord, order[i]);
	int err = config_of("demo", &set, &ord, NULL);
	config_release(&set);
	strvec_clear(&ord);
	return err;
}

static int rollback_of(const char *app, int target)
{
	struct app_ctx ctx = open_app(app);
	int err = change_rollback(&ctx, target, "alice@example.com", out.f, &res);
	app_ctx_release(&ctx);
	return err;
}

static int rollback(int target)
{
	return rollback_of("demo", target);
}

static int rollback_auto(int target, int from)
{
	struct app_ctx ctx = open_app("demo");
	int err = change_rollback_auto(&ctx, target, from, "web.1 crashed 3 times", out.f, &res);
	app_ctx_release(&ctx);
	return err;
}

static int promote(const char *from, const char *to)
{
	struct app_ctx f = open_app(from), t = open_app(to);
	int err = change_promote(&f, &t, "alice@example.com", out.f, &res);
	app_ctx_release(&t);
	app_ctx_release(&f);
	return err;
}

static int deploy_slug(const struct release *src)
{
	struct app_ctx ctx = open_app("demo");
	int err = change_deploy_slug(&ctx, src, "alice", out.f, &res);
	app_ctx_release(&ctx);
	return err;
}

static char *description(int version)
{
	struct release r = RELEASE_INIT;
	rh_read(root, "demo", version, &r);
	char *d = xstrdup(r.description);
	release_release(&r);
	return d;
}

#define assert_description(v, want) do { \
		char *d_ = description(v); \
		cr_assert_str_eq(d_, want); \
		free(d_); \
	} while (0)

Test(change, a_config_change_is_a_release_on_the_current_slug_and_a_repeat_records_nothing)
{
	char hex[65];
	rh_slug(root, hex, "server", "#!/bin/sh\n", NULL);
	rh_release(root, "demo", hex, RELEASE_SUCCEEDED, "web", "./server", NULL);

	cr_assert_eq(set_vars((const char *[]){ "ALPHA", "1", "ZED", "2", NULL },
			      (const char *[]){ "ZED", "ALPHA", NULL }), 0, "%s", sw_error_last());
	cr_assert_eq(res.version, 2);
	cr_assert_eq(res.previous, 1);
	cr_assert_eq(rh_current(root, "demo"), 2);
	struct release r = RELEASE_INIT;
	rh_read(root, "demo", 2, &r);
	cr_assert_str_eq(r.description, "Set ZED, ALPHA config vars", "in the order typed");
	cr_assert_str_eq(r.slug, hex, "the current release's slug");
	cr_assert_str_eq(proc_list_get(&r.procs, "web"), "./server");
	cr_assert_str_eq(config_get(&r.config, "ZED"), "2");
	release_release(&r);

	cr_assert_eq(set_vars((const char *[]){ "ZED", "2", NULL }, NULL), 0, "%s",
		     sw_error_last());
	cr_assert_eq(res.version, 0, "the same value again: no release");
	cr_assert_eq(rh_latest(root, "demo"), 2);
}

Test(change, a_config_change_on_a_slug_missing_from_the_store_is_refused)
{
	const char *gone = "00000000000000000000000000000000000000000000000000000000000000aa";
	rh_release(root, "demo", gone, RELEASE_SUCCEEDED, "web", "./server", NULL);
	cr_assert_eq(set_vars((const char *[]){ "A", "1", NULL }, NULL), SW_ENOTFOUND);
	cr_assert_str_eq(sw_error_last(), "cannot change config vars: the slug 000000000000 of the "
			 "current release v1 is missing from the store; push again, or roll back "
			 "to a release with an intact slug (slipway rollback vN -a demo)");
	cr_assert_eq(rh_latest(root, "demo"), 1, "nothing recorded");
}

Test(change, a_rollback_to_a_failed_or_absent_release_is_refused_and_records_nothing)
{
	char hex[65];
	rh_slug(root, hex, "server", "#!/bin/sh\n", NULL);
	rh_release(root, "demo", hex, RELEASE_SUCCEEDED, "web", "./server", NULL);
	rh_release(root, "demo", hex, RELEASE_FAILED, "web", "./server", NULL);
	rh_release(root, "demo", NULL, RELEASE_SUCCEEDED, NULL);

	cr_assert_eq(rollback(2), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "cannot roll back to v2: that release failed");
	cr_assert_eq(rollback(3), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(),
			 "cannot roll back to v3: it has no slug (nothing was deployed yet)");
	cr_assert_eq(rollback(9), SW_ENOTFOUND);
	cr_assert_str_eq(sw_error_last(), "cannot roll back to v9: release v9 does not exist");
	cr_assert_eq(rh_latest(root, "demo"), 3, "nothing recorded");
	cr_assert_eq(rh_current(root, "demo"), 3);

	char why[160] = "";
	struct release r = RELEASE_INIT;
	rh_read(root, "demo", 2, &r);
	cr_assert_eq(change_rollback_eligible(root, &r, why, sizeof(why)), 0);
	cr_assert_str_eq(why, "that release failed");
	release_release(&r);
	rh_read(root, "demo", 1, &r);
	cr_assert_eq(change_rollback_eligible(root, &r, why, sizeof(why)), 1);
	release_release(&r);
}

Test(change, a_rollback_without_a_version_skips_failed_releases_and_names_them)
{
	char one[65], two[65];
	rh_slug(root, one, "server", "#!/bin/sh\necho one\n", NULL);
	rh_slug(root, two, "server", "#!/bin/sh\necho two\n", NULL);
	rh_release(root, "demo", one, RELEASE_SUCCEEDED, "web", "./one", NULL);
	cr_assert_eq(set_vars((const char *[]){ "K", "v1", NULL }, NULL), 0, "%s", sw_error_last());
	rh_release(root, "demo", two, RELEASE_FAILED, "web", "./two", NULL);
	rh_release(root, "demo", two, RELEASE_SUCCEEDED, "web", "./two", NULL);

	cr_assert_eq(rollback(0), 0, "%s", sw_error_last());
	cr_assert_eq(res.target, 2);
	cr_assert_eq(res.previous, 4);
	cr_assert_eq(res.version, 5);
	cr_assert_str_eq(res.skipped, "v3: failed");
	cr_assert_eq(rh_current(root, "demo"), 5);
	struct release r = RELEASE_INIT;
	rh_read(root, "demo", 5, &r);
	cr_assert_str_eq(r.description, "Rollback to v2");
	cr_assert_eq(r.rollback_of, 2);
	cr_assert_str_eq(r.slug, one);
	cr_assert_str_eq(proc_list_get(&r.procs, "web"), "./one");
	cr_assert_str_eq(config_get(&r.config, "K"), "v1", "v2's config comes back");
	release_release(&r);
}

Test(change, an_automatic_rollback_needs_its_release_current_and_is_never_undone_by_the_next)
{
	char hex[65];
	rh_slug(root, hex, "server", "#!/bin/sh\n", NULL);
	rh_release(root, "demo", hex, RELEASE_SUCCEEDED, "web", "./a", NULL);
	rh_release(root, "demo", hex, RELEASE_SUCCEEDED, "web", "./b", NULL);
	rh_release(root, "demo", hex, RELEASE_SUCCEEDED, "web", "./c", NULL);

	cr_assert_eq(rollback_auto(1, 2), SW_ECONFLICT);
	cr_assert_str_eq(sw_error_last(), "v2 is no longer the current release of demo (v3 is)");
	cr_assert_eq(rh_latest(root, "demo"), 3, "nothing recorded");

	cr_assert_eq(rollback_auto(2, 3), 0, "%s", sw_error_last());
	cr_assert_eq(res.version, 4);
	struct release r = RELEASE_INIT;
	rh_read(root, "demo", 4, &r);
	cr_assert_str_eq(r.description, "Rollback to v2 (automatic: web.1 crashed 3 times)");
	cr_assert_str_eq(r.user, "slipway");
	release_release(&r);

	/* the next rollback passes over what the automatic one undid (v3) */
	cr_assert_eq(rollback(0), 0, "%s", sw_error_last());
	cr_assert_eq(res.target, 2, "skipped: %s", res.skipped);
	cr_assert_str_eq(res.skipped, "v3: rolled back automatically");
}

Test(change, a_promotion_takes_the_code_of_the_other_app_and_keeps_its_own_config)
{
	rh_app(root, "prod");
	char hex[65];
	rh_slug(root, hex, "server", "#!/bin/sh\n", NULL);
	rh_release(root, "demo", hex, RELEASE_SUCCEEDED, "web", "./server", NULL);

	cr_assert_eq(promote("demo", "demo"), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "cannot promote demo to itself: name another app with --to");
	cr_assert_eq(promote("prod", "demo"), SW_ENOTFOUND);
	cr_assert_str_eq(sw_error_last(), "cannot promote prod: it has no release yet (push to it first)");
	cr_assert_eq(rh_latest(root, "demo"), 1, "nothing recorded");

	struct config set = CONFIG_INIT;
	config_set(&set, "DATABASE_URL", "postgres://prod");
	cr_assert_eq(config_of("prod", &set, NULL, NULL), 0, "%s", sw_error_last());
	config_release(&set);
	cr_assert_eq(promote("demo", "prod"), 0, "%s", sw_error_last());
	cr_assert_eq(res.version, 2);
	struct release r = RELEASE_INIT;
	rh_read(root, "prod", 2, &r);
	cr_assert_str_eq(r.description, "Promote demo v1 (1234567)");
	cr_assert_str_eq(r.slug, hex);
	cr_assert_str_eq(proc_list_get(&r.procs, "web"), "./server");
	cr_assert_str_eq(config_get(&r.config, "DATABASE_URL"), "postgres://prod");
	release_release(&r);
	cr_assert_eq(rh_current(root, "prod"), 2);
}

Test(change, a_promotion_that_would_drop_running_processes_is_refused)
{
	rh_app(root, "prod");
	char hex[65];
	rh_slug(root, hex, "server", "#!/bin/sh\n", NULL);
	rh_release(root, "demo", hex, RELEASE_SUCCEEDED, "web", "./server", NULL);
	rh_release(root, "prod", hex, RELEASE_SUCCEEDED, "web", "./server", "worker", "./work",
		   NULL);
	struct app_ctx ctx = APP_CTX_INIT;
	cr_assert_eq(app_ctx_open(&ctx, root, "prod", APP_CTX_WRITE), 0, "%s", sw_error_last());
	struct release cur = RELEASE_INIT;
	rh_read(root, "prod", 1, &cur);
	char *summary = NULL, *change[] = { (char *)"worker=2" };
	cr_assert_eq(services_scale(root, "prod", &cur, change, 1, &summary), 0, "%s",
		     sw_error_last());
	app_ctx_release(&ctx);

	cr_assert_eq(promote("demo", "prod"), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "cannot promote demo's v1: prod runs worker=2, which "
			 "demo's v1 does not define; scale it to 0 first: slipway ps:scale worker=0 "
			 "-a prod");
	cr_assert_eq(rh_latest(root, "prod"), 1, "nothing recorded");
	free(summary);
	release_release(&cur);
}

Test(change, deploying_a_slug_that_is_corrupt_in_the_store_is_refused)
{
	char hex[65];
	rh_slug(root, hex, "server", "#!/bin/sh\n", NULL);
	struct release src = RELEASE_INIT;
	memcpy(src.slug, hex, 65);
	proc_list_set(&src.procs, "web", "./server");
	cr_assert_eq(deploy_slug(&src), 0, "%s", sw_error_last());
	assert_description(1, th_keep(th_path("Deploy slug %.12s", hex)));

	char *slug = cas_path(root, hex);
	th_corrupt(slug);
	cr_assert_eq(deploy_slug(&src), SW_EINVALID);
	char *want = th_path("cannot deploy slug %.12s: it is corrupt in the store", hex);
	cr_assert_str_eq(sw_error_last(), want);
	cr_assert_eq(rh_latest(root, "demo"), 1, "nothing recorded");
	free(want);
	free(slug);
	release_release(&src);
	th_keep_free();
}

Test(change, removing_vars_says_which_and_an_app_without_releases_has_no_rollback)
{
	cr_assert_eq(set_vars((const char *[]){ "A", "1", "B", "2", NULL }, NULL), 0, "%s",
		     sw_error_last());
	cr_assert_eq(res.version, 1, "config before the first deploy is a release too");
	struct strvec unset = STRVEC_INIT;
	strvec_push(&unset, "A");
	struct config set = CONFIG_INIT;
	config_set(&set, "C", "3");
	cr_assert_eq(config_of("demo", &set, NULL, &unset), 0, "%s", sw_error_last());
	assert_description(2, "Set C and remove A config vars");
	cr_assert_eq(config_of("demo", NULL, NULL, &unset), 0, "%s", sw_error_last());
	cr_assert_eq(res.version, 0, "removing what is not there records nothing");

	rh_app(root, "empty");
	cr_assert_eq(rollback_of("empty", 0), SW_ENOTFOUND);
	cr_assert_str_eq(sw_error_last(), "empty has no releases to roll back to");
	config_release(&set);
	strvec_clear(&unset);
}

Test(change, a_config_change_whose_release_phase_fails_is_recorded_and_not_current)
{
	char hex[65];
	rh_slug(root, hex, "migrate", "#!/bin/sh\necho \"migrating to $DATABASE_URL\"\n"
		"[ \"$DATABASE_URL\" = good ]\n", NULL);
	rh_release(root, "demo", hex, RELEASE_SUCCEEDED, "web", "./server", "release", "./migrate",
		   NULL);
	cr_assert_eq(set_vars((const char *[]){ "DATABASE_URL", "bad", NULL }, NULL), 0, "%s",
		     sw_error_last());
	cr_assert_eq(res.version, 2);
	cr_assert_eq(res.failed, 1);
	cr_assert_eq(rh_current(root, "demo"), 1, "the release that was current stays current");
	cr_assert(strstr(rh_out_text(&out), "-----> Running release command...\nmigrating to bad\n"),
		  "its output streams: %s", rh_out_text(&out));
	struct release r = RELEASE_INIT;
	rh_read(root, "demo", 2, &r);
	cr_assert_eq(r.status, RELEASE_FAILED);
	cr_assert_str_eq(r.output, "migrating to bad\nrelease command exited with status 1\n");
	release_release(&r);

	cr_assert_eq(set_vars((const char *[]){ "DATABASE_URL", "good", NULL }, NULL), 0, "%s",
		     sw_error_last());
	cr_assert_eq(res.version, 3);
	cr_assert_eq(res.failed, 0);
	cr_assert_eq(res.previous, 1);
	cr_assert_eq(rh_current(root, "demo"), 3);
}

/* config:set KEY=value on ctx. */
static int set_var(struct app_ctx *ctx, const char *key, const char *value,
		   struct change_result *res)
{
	struct config set = CONFIG_INIT;
	config_set(&set, key, value);
	int err = change_config(ctx, &set, NULL, NULL, "alice@example.com", out.f, res);
	config_release(&set);
	return err;
}

static int latest(void)
{
	struct app_ctx ctx = APP_CTX_INIT;
	int v = -1;
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_READ), 0, "%s", sw_error_last());
	cr_assert_eq(ledger_latest(ctx.ledger, &v), 0, "%s", sw_error_last());
	app_ctx_release(&ctx);
	return v;
}

Test(change, a_writer_hands_its_context_down_and_the_lock_is_not_taken_twice)
{
	struct app_ctx ctx = APP_CTX_INIT;
	struct change_result res;
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_WRITE), 0, "%s", sw_error_last());
	/* taking the lock again would wait for ourselves and time out */
	cr_assert_eq(set_var(&ctx, "A", "1", &res), 0, "%s", sw_error_last());
	cr_assert_eq(res.version, 1);
	cr_assert_eq(set_var(&ctx, "B", "2", &res), 0, "%s", sw_error_last());
	cr_assert_eq(res.version, 2);
	cr_assert_eq(res.previous, 1);
	app_ctx_release(&ctx);
	cr_assert_eq(latest(), 2);
}

Test(change, a_readers_context_takes_the_lock_and_holds_it_until_released)
{
	struct app_ctx ctx = APP_CTX_INIT, other = APP_CTX_INIT;
	struct change_result res;
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_READ), 0, "%s", sw_error_last());
	cr_assert_eq(app_ctx_locked(&ctx), 0);
	cr_assert_eq(set_var(&ctx, "A", "1", &res), 0, "%s", sw_error_last());
	cr_assert_eq(res.version, 1);
	cr_assert_eq(app_ctx_locked(&ctx), 1);
	cr_assert_eq(app_ctx_open(&other, root, "demo", APP_CTX_TRY_WRITE), SW_ELOCKED);
	app_ctx_release(&ctx);
	cr_assert_eq(app_ctx_open(&other, root, "demo", APP_CTX_TRY_WRITE), 0, "%s",
		     sw_error_last());
	app_ctx_release(&other);
}

Test(change, a_change_waits_for_another_writer_as_the_policy_says_and_records_nothing)
{
	struct app_ctx holder = APP_CTX_INIT, ctx = APP_CTX_INIT;
	struct change_result res;
	cr_assert_eq(app_ctx_open(&holder, root, "demo", APP_CTX_WRITE), 0, "%s", sw_error_last());
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_READ), 0, "%s", sw_error_last());
	int err = set_var(&ctx, "A", "1", &res);
	cr_assert_eq(err, SW_ELOCKED, "%d: %s", err, sw_error_last());
	cr_assert(strstr(sw_error_last(), "another operation on this app is still running after 1 "
				       "seconds"), "%s", sw_error_last());
	cr_assert_eq(res.version, 0);
	app_ctx_release(&ctx);
	app_ctx_release(&holder);
	cr_assert_eq(latest(), 0);
}

/* The add-on calls under test, on demo; vars is "KEY", "value", ..., NULL. */
static int addon_change(int which, const char *alias, const char *addon, const char *const *kv)
{
	struct app_ctx ctx = open_app("demo");
	struct config vars = CONFIG_INIT;
	for (size_t i = 0; kv && kv[i]; i += 2)
		config_set(&vars, kv[i], kv[i + 1]);
	int err = which == 0 ? change_attach(&ctx, alias, addon, &vars, "alice", out.f, &res)
		  : which == 1 ? change_detach(&ctx, alias, addon, "alice", out.f, &res)
			       : change_rotate(&ctx, alias, addon, &vars, "alice", out.f, &res);
	config_release(&vars);
	app_ctx_release(&ctx);
	return err;
}

/* Config var key of release v, or NULL (a copy: free it). */
static char *var_of(int v, const char *key)
{
	struct release r = RELEASE_INIT;
	rh_read(root, "demo", v, &r);
	const char *value = config_get(&r.config, key);
	char *copy = value ? xstrdup(value) : NULL;
	release_release(&r);
	return copy;
}

/* Release v's key is want (NULL: it has no such var). */
static void assert_var(int v, const char *key, const char *want)
{
	char *got = var_of(v, key);
	if (want)
		cr_assert(got && !strcmp(got, want), "v%d %s=%s", v, key, got ? got : "(unset)");
	else
		cr_assert_null(got, "v%d %s=%s", v, key, got);
	free(got);
}

#define PG "postgresql-amber-12"

Test(change, an_add_on_attaches_as_a_release_and_its_vars_are_not_the_users_to_change)
{
	char hex[65];
	rh_slug(root, hex, "server", "#!/bin/sh\n", NULL);
	rh_release(root, "demo", hex, RELEASE_SUCCEEDED, "web", "./server", NULL);
	cr_assert_eq(addon_change(0, "DATABASE", PG,
				  (const char *[]){ "DATABASE_URL", "postgres://u:one@/d", NULL }),
		     0, "%s", sw_error_last());
	cr_assert_eq(res.version, 2);
	assert_description(2, "Attach " PG " as DATABASE");
	assert_var(2, "DATABASE_URL", "postgres://u:one@/d");
	struct release r = RELEASE_INIT;
	rh_read(root, "demo", 2, &r);
	cr_assert_eq(r.addons.n, 1);
	cr_assert_str_eq(r.addons.v[0].addon, PG);
	cr_assert_str_eq(r.slug, hex, "the current code");
	release_release(&r);

	/* the user's config commands leave it alone; nothing recorded */
	cr_assert_eq(set_vars((const char *[]){ "A", "1", "DATABASE_URL", "x", NULL }, NULL),
		     SW_EDENIED);
	cr_assert_str_eq(sw_error_last(), "cannot set DATABASE_URL: the add-on " PG " manages it "
			 "(attached as DATABASE); to stop using it: slipway addons:detach DATABASE "
			 "-a demo");
	struct strvec unset = STRVEC_INIT;
	strvec_push(&unset, "DATABASE_URL");
	cr_assert_eq(config_of("demo", NULL, NULL, &unset), SW_EDENIED);
	cr_assert(strstr(sw_error_last(), "cannot unset DATABASE_URL"), "%s", sw_error_last());
	strvec_clear(&unset);
	cr_assert_eq(rh_latest(root, "demo"), 2, "nothing recorded");

	/* a user's var of that name, or the alias taken: refused */
	cr_assert_eq(addon_change(0, "DATABASE", "postgresql-amber-13",
				  (const char *[]){ "DATABASE2_URL", "x", NULL }), SW_EEXISTS);
	cr_assert_eq(set_vars((const char *[]){ "REDIS_URL", "mine", NULL }, NULL), 0);
	cr_assert_eq(addon_change(0, "REDIS", "redis-clear-7",
				  (const char *[]){ "REDIS_URL", "redis://x", NULL }), SW_EEXISTS);
	cr_assert_str_eq(sw_error_last(), "cannot attach redis-clear-7 as REDIS: REDIS_URL is set on "
			 "demo already; unset it (slipway config:unset REDIS_URL -a demo) or attach "
			 "under another name with --as");
	cr_assert_eq(rh_latest(root, "demo"), 3, "nothing recorded");
	assert_var(3, "REDIS_URL", "mine");

	/* other config changes and deploys keep it */
	cr_assert_eq(set_vars((const char *[]){ "B", "2", NULL }, NULL), 0);
	assert_var(4, "DATABASE_URL", "postgres://u:one@/d");
	rh_read(root, "demo", 4, &r);
	cr_assert_eq(r.addons.n, 1);
	release_release(&r);
}

/*
 * Heroku: "Rolling back only affects application code and configuration
 * variables. Add-ons ... will not be affected by a rollback."
 */
Test(change, a_rollback_keeps_the_add_ons_of_now_and_their_values_of_now)
{
	char hex[65];
	rh_slug(root, hex, "server", "#!/bin/sh\n", NULL);
	rh_release(root, "demo", hex, RELEASE_SUCCEEDED, "web", "./server", NULL); /* v1 */
	cr_assert_eq(set_vars((const char *[]){ "MINE", "old", NULL }, NULL), 0);  /* v2 */
	cr_assert_eq(addon_change(0, "DATABASE", PG,
				  (const char *[]){ "DATABASE_URL", "postgres://u:one@/d", NULL }),
		     0); /* v3 */
	cr_assert_eq(set_vars((const char *[]){ "MINE", "new", NULL }, NULL), 0); /* v4 */
	cr_assert_eq(addon_change(2, "DATABASE", PG,
				  (const char *[]){ "DATABASE_URL", "postgres://u:two@/d", NULL }),
		     0, "%s", sw_error_last()); /* v5 */
	assert_description(5, "Rotate credentials of " PG);
	assert_var(5, "DATABASE_URL", "postgres://u:two@/d");

	/* to before the add-on: the user's var goes back, the add-on and its new password stay */
	cr_assert_eq(rollback(2), 0, "%s", sw_error_last());
	assert_var(6, "MINE", "old");
	assert_var(6, "DATABASE_URL", "postgres://u:two@/d");
	/* to before the rotation: the revoked password does not come back */
	cr_assert_eq(rollback(3), 0, "%s", sw_error_last());
	assert_var(7, "DATABASE_URL", "postgres://u:two@/d");
	struct release r = RELEASE_INIT;
	rh_read(root, "demo", 7, &r);
	cr_assert_eq(r.addons.n, 1, "still attached");
	release_release(&r);

	/* detached: the var goes, and a rollback to a release that had it does not bring it back */
	cr_assert_eq(addon_change(1, "DATABASE", PG, NULL), 0, "%s", sw_error_last()); /* v8 */
	assert_description(8, "Detach " PG " from DATABASE");
	assert_var(8, "DATABASE_URL", NULL);
	cr_assert_eq(rollback(5), 0, "%s", sw_error_last());
	assert_var(9, "DATABASE_URL", NULL);
	assert_var(9, "MINE", "new");
	rh_read(root, "demo", 9, &r);
	cr_assert_eq(r.addons.n, 0);
	release_release(&r);

	cr_assert_eq(addon_change(1, "DATABASE", PG, NULL), SW_ENOTFOUND);
	cr_assert_str_eq(sw_error_last(), "demo has no add-on attached as DATABASE (see: slipway "
			 "addons -a demo)");
	cr_assert_eq(addon_change(2, "DATABASE", PG, (const char *[]){ "X", "1", NULL }),
		     SW_ENOTFOUND);
	cr_assert_eq(rh_latest(root, "demo"), 9, "nothing recorded");
}
