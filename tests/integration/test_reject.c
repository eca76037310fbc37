/*
 * A failed build rejects the push, as on Heroku: the build runs in
 * pre-receive, on the pushed objects still in git's quarantine, and the
 * branch is not updated; the release is made in post-receive, once git has
 * moved the branch.  apps:create --accept-failed-builds builds after the
 * push instead: a failed build records nothing but the branch moves.
 * Which branches deploy: main and master, or the one --branch pins; the
 * deploy branch cannot be deleted.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int has_branch(const char *name)
{
	char *ref = th_path("refs/heads/%s", name);
	int r = app_sandbox_has_ref(&sb, ref);
	free(ref);
	return r;
}

static int branch_exists(void)
{
	return has_branch("main");
}

static void fix_and_commit(const char *msg)
{
	app_sandbox_write(&sb, "Procfile", "web: ./run\n", 0644);
	OK("git", "add", "-A");
	OK("git", "commit", "-qm", msg);
}

/* Files the pre-receive builds left in the app repository for post-receive. */
static int built_records_left(void)
{
	char *out = SANDBOX_OK(&sb, NULL, "sh", "-c", "ls \"$0\" | grep -c '^slipway-built-' || true",
			       sb.repo);
	int n = atoi(out);
	free(out);
	return n;
}

static int releases(void)
{
	return app_sandbox_release_count(&sb);
}

static void assert_rejected_build(const char *option)
{
	make_app(option);
	struct th_result r = RUN("git", "push", "heroku", "main");
	cr_assert_neq(r.status, 0);
	cr_assert(strstr(r.err, "No default language could be detected"), "%s", r.err);
	cr_assert(strstr(r.err, "! [remote rejected] main -> main (pre-receive hook declined)"),
		  "%s", r.err);
	th_result_free(&r);
	cr_assert_not(branch_exists());
	cr_assert_eq(releases(), 0);

	/* a re-push of the same commit builds again (the branch did not move) */
	r = RUN("git", "push", "heroku", "main");
	cr_assert_neq(r.status, 0);
	cr_assert_eq(th_count(r.err, "Everything up-to-date"), 0, "%s", r.err);
	cr_assert(strstr(r.err, "No default language could be detected"), "%s", r.err);
	th_result_free(&r);

	/* fixed: built before the branch moves, released once it has */
	fix_and_commit("fixed");
	r = RUN("git", "push", "heroku", "main");
	cr_assert_eq(r.status, 0, "%s", r.err);
	const char *compressed = strstr(r.err, "-----> Compressing... done");
	const char *launching = strstr(r.err, "remote: -----> Launching...");
	const char *released = strstr(r.err, "remote: -----> Released v1: Deploy");
	cr_assert(compressed && launching && released && compressed < launching &&
		  launching < released, "%s", r.err);
	cr_assert_eq(th_count(r.err, "Released v"), 1, "%s", r.err);
	th_result_free(&r);
	cr_assert(branch_exists());
	cr_assert_eq(releases(), 1);
	cr_assert_eq(built_records_left(), 0);

	/* the release's slug holds the pushed tree */
	r = RUN(SLIPWAY_BIN, "slugs:contents", "v1", "-a", "app");
	cr_assert(strstr(r.out, "./app/Procfile") && strstr(r.out, "./app/README"), "%s", r.out);
	th_result_free(&r);
}

Test(reject, by_default_a_failed_build_rejects_the_push_and_the_branch_stays)
{
	assert_rejected_build(NULL);
}

Test(reject, reject_failed_builds_is_the_default_spelled_out)
{
	assert_rejected_build("--reject-failed-builds");
}

Test(reject, accept_failed_builds_records_nothing_but_the_branch_moves)
{
	make_app("--accept-failed-builds");
	char *v = SANDBOX_OK(&sb, NULL, "git", "--git-dir", sb.repo, "config",
			     "slipway.rejectFailedBuilds");
	cr_assert_str_eq(v, "false\n");
	free(v);
	struct th_result r = RUN("git", "push", "heroku", "main");
	cr_assert_eq(r.status, 0);
	/* the build ran after git accepted the push: it says so, not "Push rejected" */
	cr_assert(strstr(r.err, "remote:  !     No default language could be detected for this "
				"app."), "%s", r.err);
	cr_assert(strstr(r.err, "remote:  !     The push was accepted, but no release was "
				"created."), "%s", r.err);
	cr_assert_eq(th_count(r.err, "Push rejected"), 0, "%s", r.err);
	cr_assert_eq(th_count(r.err, "[remote rejected]"), 0, "%s", r.err);
	th_result_free(&r);
	cr_assert(branch_exists());
	cr_assert_eq(releases(), 0);

	/* built and released in post-receive: launched once, then released */
	fix_and_commit("fixed");
	r = RUN("git", "push", "heroku", "main");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(th_count(r.err, "Released v1: Deploy"), 1, "%s", r.err);
	cr_assert_eq(th_count(r.err, "Launching..."), 1, "%s", r.err);
	const char *compressed = strstr(r.err, "-----> Compressing... done");
	const char *launching = strstr(r.err, "remote: -----> Launching...");
	const char *released = strstr(r.err, "remote: -----> Released v1: Deploy");
	cr_assert(compressed && launching && released && compressed < launching &&
		  launching < released, "%s", r.err);
	th_result_free(&r);
}

Test(reject, accept_and_reject_together_are_a_usage_error)
{
	struct th_result r = SANDBOX_RUN(&sb, sb.dir, SLIPWAY_BIN, "apps:create", "app",
					 "--accept-failed-builds", "--reject-failed-builds");
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "error: --accept-failed-builds and --reject-failed-builds cannot be "
				"used together"), "%s", r.err);
	th_result_free(&r);
	r = SANDBOX_RUN(&sb, sb.dir, SLIPWAY_BIN, "apps");
	cr_assert_str_eq(r.out, "You have no apps.\n");
	th_result_free(&r);
}

Test(reject, a_pinned_branch_is_the_only_one_that_deploys_and_stays)
{
	make_app("--branch=production");
	fix_and_commit("works");
	char *out = app_sandbox_push(&sb, "main");
	cr_assert_eq(th_count(out, "remote: -----> Pushed to branch main, which is not the deploy "
				   "branch (production); not building"), 1, "%s", out);
	free(out);
	out = app_sandbox_push(&sb, "HEAD:master");
	cr_assert_eq(th_count(out, "not building"), 1, "%s", out);
	free(out);
	cr_assert_eq(releases(), 0);

	out = app_sandbox_push(&sb, "HEAD:production");
	cr_assert_eq(th_count(out, "remote: -----> Released v1: Deploy"), 1, "%s", out);
	free(out);

	/* production is what deploys: it cannot be deleted, main can */
	out = app_sandbox_push_rejected(&sb, ":production");
	cr_assert_eq(th_count(out, "remote:  !     Push to refs/heads/production refused: production "
				   "is the branch app deploys from, it cannot be deleted"), 1, "%s", out);
	free(out);
	cr_assert(has_branch("production"));
	out = app_sandbox_push(&sb, ":main");
	cr_assert_eq(th_count(out, "remote: -----> Deleted branch main; nothing to build"), 1,
		     "%s", out);
	free(out);
	cr_assert_not(has_branch("main"));
	cr_assert_eq(releases(), 1);
}

Test(reject, the_deploy_branch_never_flips)
{
	make_app(NULL);
	fix_and_commit("one");
	free(app_sandbox_push(&sb, "HEAD:master"));
	free(app_sandbox_push(&sb, "main"));
	cr_assert_eq(releases(), 2);

	/* master still deploys after main was pushed (it used to stop) */
	OK("git", "commit", "-q", "--allow-empty", "-m", "two");
	char *out = app_sandbox_push(&sb, "HEAD:master");
	cr_assert_eq(th_count(out, "remote: -----> Building app from master"), 1, "%s", out);
	cr_assert_eq(th_count(out, "remote: -----> Released v3: Deploy"), 1, "%s", out);
	free(out);

	/* one push to both builds main once */
	OK("git", "commit", "-q", "--allow-empty", "-m", "three");
	struct th_result r = RUN("git", "push", "heroku", "HEAD:master", "HEAD:main");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(th_count(r.err, "remote: -----> Building app from main"), 1, "%s", r.err);
	cr_assert_eq(th_count(r.err, "remote: -----> Building"), 1, "%s", r.err);
	cr_assert_eq(th_count(r.err, "remote: -----> Pushed to master too; only main is built"), 1,
		     "%s", r.err);
	th_result_free(&r);
	cr_assert_eq(releases(), 4);
}

Test(reject, the_timings_of_a_build_made_before_the_push_are_printed_with_its_release)
{
	make_app(NULL);
	fix_and_commit("fixed");
	app_sandbox_setenv(&sb, "SLIPWAY_TIMINGS=1");
	char *out = app_sandbox_push(&sb, "main");
	const char *rel = strstr(out, "remote: -----> Released v1: ");
	const char *t = strstr(out, "remote: -----> Timings: checkout=");
	cr_assert(rel && t && rel < t, "%s", out);
	double c, comp, pack, pub, rec;
	cr_assert_eq(sscanf(t, "remote: -----> Timings: checkout=%lfs compile=%lfs pack=%lfs "
			       "publish=%lfs record=%lfs", &c, &comp, &pack, &pub, &rec), 5, "%s", t);
	/* the stages pre-receive ran are carried over, not lost between the hooks */
	cr_assert_gt(c + comp + pack + pub, 0.0, "%s", t);
	cr_assert_gt(rec, 0.0, "%s", t);
	free(out);
}

Test(reject, a_push_git_refuses_after_its_build_releases_nothing)
{
	make_app(NULL);
	fix_and_commit("one");
	free(app_sandbox_push(&sb, "main"));
	cr_assert_eq(releases(), 1);
	char *before = app_sandbox_ref(&sb, "refs/heads/main");

	/* another git holds main's lock: git refuses the update after pre-receive built
	   (at once: it would wait a minute for the lock otherwise) */
	OK("git", "--git-dir", sb.repo, "config", "core.filesRefLockTimeout", "0");
	OK("git", "commit", "-q", "--allow-empty", "-m", "two");
	char *lock = th_path("%s/refs/heads/main.lock", sb.repo);
	th_write(lock, "", 0644);
	struct th_result r = RUN("git", "push", "heroku", "main");
	cr_assert_neq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "-----> Compressing... done"), "%s", r.err);
	cr_assert(strstr(r.err, "! [remote rejected] main -> main (failed to update ref)"), "%s",
		  r.err);
	cr_assert_null(strstr(r.err, "Released v2"), "%s", r.err);
	th_result_free(&r);
	cr_assert_eq(releases(), 1);
	char *after = app_sandbox_ref(&sb, "refs/heads/main");
	cr_assert_str_eq(after, before);
	/* what it built is kept for a day (gc sweeps it after), its build shows no release */
	cr_assert_eq(built_records_left(), 1);
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "gc"));
	cr_assert_eq(built_records_left(), 1);
	char *json = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "builds", "--json", "-n", "1", "-a", "app");
	cr_assert(strstr(json, "\"status\":\"succeeded\"") && strstr(json, "\"release\":null"),
		  "%s", json);
	free(json);

	/* a day later gc takes it */
	free(SANDBOX_OK(&sb, NULL, "sh", "-c", "touch -d '2 days ago' \"$0\"/slipway-built-*",
			sb.repo));
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "gc"));
	cr_assert_eq(built_records_left(), 0);

	/* the lock gone, the same push goes through: built again and released */
	cr_assert_eq(unlink(lock), 0);
	char *out = app_sandbox_push(&sb, "main");
	cr_assert_eq(th_count(out, "remote: -----> Released v2: Deploy"), 1, "%s", out);
	free(out);
	cr_assert_eq(built_records_left(), 0, "the new build replaced the refused push's record");
	free(after);
	free(before);
	free(lock);
}
