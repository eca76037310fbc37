/*
 * apps:create --reject-failed-builds: the build runs in pre-receive, on the
 * pushed objects still in git's quarantine; a failed build rejects the push
 * and the branch is not updated.  Without it (post-receive), a failed build
 * records nothing but the branch moves.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *sb, *src, *repo, *env_root, *env_home;
static const char *env[9];

static void setup(void)
{
	sb = th_sandbox();
	src = th_path("%s/src", sb);
	repo = th_path("%s/root/apps/app.git", sb);
	env_root = th_path("SLIPWAY_ROOT=%s/root", sb);
	env_home = th_path("HOME=%s", sb);
	const char *fixed[] = { env_root, env_home, "GIT_AUTHOR_NAME=t",
				"GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
				"GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_NOSYSTEM=1", NULL };
	memcpy(env, fixed, sizeof(fixed));
	char *f = th_path("%s/README", src);
	th_write(f, "no Procfile here\n", 0644);
	free(f);
}

static void teardown(void)
{
	th_sandbox_free(sb);
	free(src);
	free(repo);
	free(env_root);
	free(env_home);
}

TestSuite(reject, .init = setup, .fini = teardown, .timeout = 120);

static void ok(const char *const *argv)
{
	struct th_result r = th_run(src, env, NULL, argv);
	cr_assert_eq(r.status, 0, "%s: %s%s", argv[1], r.out, r.err);
	th_result_free(&r);
}
#define OK(...) ok((const char *const[]){ __VA_ARGS__, NULL })

static void make_app(const char *flag)
{
	OK(SLIPWAY_BIN, "apps:create", "app", flag);
	OK("git", "-c", "init.defaultBranch=main", "init", "-q");
	OK("git", "add", "-A");
	OK("git", "commit", "-qm", "broken");
	OK("git", "remote", "add", "heroku", repo);
}

static int branch_exists(void)
{
	struct th_result r = th_runv(src, env, "git", "--git-dir", repo, "rev-parse", "--verify",
				     "-q", "refs/heads/main", NULL);
	int ok = r.status == 0;
	th_result_free(&r);
	return ok;
}

static int releases(void)
{
	struct th_result r = th_runv(src, env, SLIPWAY_BIN, "releases", "-a", "app", "--json", NULL);
	int n = 0;
	for (const char *p = r.out; (p = strstr(p, "\"version\":")); p++)
		n++;
	th_result_free(&r);
	return n;
}

Test(reject, a_failed_build_rejects_the_push_and_the_branch_stays)
{
	make_app("--reject-failed-builds");
	struct th_result r = th_runv(src, env, "git", "push", "heroku", "main", NULL);
	cr_assert_neq(r.status, 0);
	cr_assert(strstr(r.err, "No default language could be detected"), "%s", r.err);
	cr_assert(strstr(r.err, "! [remote rejected] main -> main (pre-receive hook declined)"),
		  "%s", r.err);
	th_result_free(&r);
	cr_assert_not(branch_exists());
	cr_assert_eq(releases(), 0);

	/* fixed: the build runs before the branch moves, on the quarantined objects */
	char *pf = th_path("%s/Procfile", src);
	th_write(pf, "web: ./run\n", 0644);
	free(pf);
	OK("git", "add", "-A");
	OK("git", "commit", "-qm", "fixed");
	r = th_runv(src, env, "git", "push", "heroku", "main", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(th_count(r.err, "Released v1: Deploy"), 1, "%s", r.err);
	th_result_free(&r);
	cr_assert(branch_exists());
	cr_assert_eq(releases(), 1);

	/* the release's slug holds the pushed tree */
	r = th_runv(src, env, SLIPWAY_BIN, "slugs:contents", "v1", "-a", "app", NULL);
	cr_assert(strstr(r.out, "./app/Procfile") && strstr(r.out, "./app/README"), "%s", r.out);
	th_result_free(&r);
}

Test(reject, without_it_a_failed_build_records_nothing_but_the_branch_moves)
{
	make_app("--branch=main");
	struct th_result r = th_runv(src, env, "git", "push", "heroku", "main", NULL);
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.err, "No default language could be detected"), "%s", r.err);
	th_result_free(&r);
	cr_assert(branch_exists());
	cr_assert_eq(releases(), 0);
}
