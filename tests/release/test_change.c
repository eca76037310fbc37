/*
 * release/change: releases without a build - a config change on the
 * current slug (and none when nothing changes), rollbacks that refuse what
 * they may not go to and skip what they should, promotions - each refusal
 * with its message and nothing recorded.
 */
#define _GNU_SOURCE
#include "tests/release_helpers.h"

#include "release/change.h"
#include "store/cas.h"
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
}

static void teardown(void)
{
	rh_out_close(&out);
	th_sandbox_free(root);
}

TestSuite(change, .init = setup, .fini = teardown, .timeout = 60);

/* The calls under test, one place each (their signatures may change). */
static int set_vars(const char *const *kv, const char *const *order)
{
	struct config set = CONFIG_INIT;
	struct strvec ord = STRVEC_INIT;
	for (size_t i = 0; kv[i]; i += 2)
		config_set(&set, kv[i], kv[i + 1]);
	for (size_t i = 0; order && order[i]; i++)
		strvec_push(&ord, order[i]);
	int err = change_config(root, "demo", &set, &ord, NULL, "alice@example.com", out.f, &res);
	config_release(&set);
	strvec_clear(&ord);
	return err;
}

static int rollback(int target)
{
	return change_rollback(root, "demo", target, "alice@example.com", out.f, &res);
}

static int rollback_auto(int target, int from)
{
	return change_rollback_auto(root, "demo", target, from, "web.1 crashed 3 times", out.f,
				    &res);
}

static int promote(const char *from, const char *to)
{
	return change_promote(root, from, to, "alice@example.com", out.f, &res);
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
	cr_assert_eq(change_config(root, "prod", &set, NULL, NULL, "bob", out.f, &res), 0, "%s",
		     sw_error_last());
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

Test(change, deploying_a_slug_that_is_corrupt_in_the_store_is_refused)
{
	char hex[65];
	rh_slug(root, hex, "server", "#!/bin/sh\n", NULL);
	struct release src = RELEASE_INIT;
	memcpy(src.slug, hex, 65);
	proc_list_set(&src.procs, "web", "./server");
	cr_assert_eq(change_deploy_slug(root, "demo", &src, "alice", out.f, &res), 0, "%s",
		     sw_error_last());
	assert_description(1, th_keep(th_path("Deploy slug %.12s", hex)));

	char *slug = cas_path(root, hex);
	th_corrupt(slug);
	cr_assert_eq(change_deploy_slug(root, "demo", &src, "alice", out.f, &res), SW_EINVALID);
	char *want = th_path("cannot deploy slug %.12s: it is corrupt in the store", hex);
	cr_assert_str_eq(sw_error_last(), want);
	cr_assert_eq(rh_latest(root, "demo"), 1, "nothing recorded");
	free(want);
	free(slug);
	release_release(&src);
	th_keep_free();
}

Test(change, removing_vars_says_which_and_a_change_to_a_missing_app_is_refused)
{
	cr_assert_eq(set_vars((const char *[]){ "A", "1", "B", "2", NULL }, NULL), 0, "%s",
		     sw_error_last());
	cr_assert_eq(res.version, 1, "config before the first deploy is a release too");
	struct strvec unset = STRVEC_INIT;
	strvec_push(&unset, "A");
	struct config set = CONFIG_INIT;
	config_set(&set, "C", "3");
	cr_assert_eq(change_config(root, "demo", &set, NULL, &unset, "alice", out.f, &res), 0, "%s",
		     sw_error_last());
	assert_description(2, "Set C and remove A config vars");
	cr_assert_eq(change_config(root, "demo", NULL, NULL, &unset, "alice", out.f, &res), 0, "%s",
		     sw_error_last());
	cr_assert_eq(res.version, 0, "removing what is not there records nothing");

	cr_assert_eq(change_config(root, "nosuch", &set, NULL, NULL, "alice", out.f, &res),
		     SW_ENOTFOUND);
	cr_assert(!strncmp(sw_error_last(), "app 'nosuch' does not exist", 27), "%s", sw_error_last());
	cr_assert_eq(change_rollback(root, "nosuch", 0, "alice", out.f, &res), SW_ENOTFOUND);
	rh_app(root, "empty");
	cr_assert_eq(change_rollback(root, "empty", 0, "alice", out.f, &res), SW_ENOTFOUND);
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
