/*
 * apps:create --reject-failed-builds: the build runs in pre-receive, on the
 * pushed objects still in git's quarantine; a failed build rejects the push
 * and the branch is not updated.  Without it (post-receive), a failed build
 * records nothing but the branch moves.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct app_sandbox sb;

static void setup(void)
{
	app_sandbox_init(&sb, "app", 0);
	app_sandbox_write(&sb, "README", "no Procfile here\n", 0644);
}

static void teardown(void)
{
	app_sandbox_release(&sb);
}

TestSuite(reject, .init = setup, .fini = teardown, .timeout = 120);

#define RUN(...) SANDBOX_RUN(&sb, NULL, __VA_ARGS__)
#define OK(...) free(SANDBOX_OK(&sb, NULL, __VA_ARGS__))

static void make_app(const char *flag)
{
	app_sandbox_create(&sb, flag);
	app_sandbox_checkout(&sb, NULL, "main", "broken");
}

static int branch_exists(void)
{
	return app_sandbox_has_ref(&sb, "refs/heads/main");
}

static int releases(void)
{
	return app_sandbox_release_count(&sb);
}

Test(reject, a_failed_build_rejects_the_push_and_the_branch_stays)
{
	make_app("--reject-failed-builds");
	struct th_result r = RUN("git", "push", "heroku", "main");
	cr_assert_neq(r.status, 0);
	cr_assert(strstr(r.err, "No default language could be detected"), "%s", r.err);
	cr_assert(strstr(r.err, "! [remote rejected] main -> main (pre-receive hook declined)"),
		  "%s", r.err);
	th_result_free(&r);
	cr_assert_not(branch_exists());
	cr_assert_eq(releases(), 0);

	/* fixed: the build runs before the branch moves, on the quarantined objects */
	app_sandbox_write(&sb, "Procfile", "web: ./run\n", 0644);
	OK("git", "add", "-A");
	OK("git", "commit", "-qm", "fixed");
	r = RUN("git", "push", "heroku", "main");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(th_count(r.err, "Released v1: Deploy"), 1, "%s", r.err);
	th_result_free(&r);
	cr_assert(branch_exists());
	cr_assert_eq(releases(), 1);

	/* the release's slug holds the pushed tree */
	r = RUN(SLIPWAY_BIN, "slugs:contents", "v1", "-a", "app");
	cr_assert(strstr(r.out, "./app/Procfile") && strstr(r.out, "./app/README"), "%s", r.out);
	th_result_free(&r);
}

Test(reject, without_it_a_failed_build_records_nothing_but_the_branch_moves)
{
	make_app("--branch=main");
	struct th_result r = RUN("git", "push", "heroku", "main");
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.err, "No default language could be detected"), "%s", r.err);
	th_result_free(&r);
	cr_assert(branch_exists());
	cr_assert_eq(releases(), 0);
}
