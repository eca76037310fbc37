/*
 * Git submodules in a push, end to end: the real git client pushes an app
 * whose tree has gitlinks and a .gitmodules, and the slug holds the
 * submodules' files when the server can reach their repositories.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APP "subapp"

static struct app_sandbox sb;

static void setup(void)
{
	app_sandbox_init(&sb, APP, APP_SANDBOX_BATCH);
}

static void teardown(void)
{
	app_sandbox_release(&sb);
}

TestSuite(submodules, .init = setup, .fini = teardown, .timeout = 120);

#define ok(dir, ...) SANDBOX_OK(&sb, dir, __VA_ARGS__)

/* A git repository <sb>/<name> with file staged; its dir. */
static char *repo_with(const char *name, const char *file, const char *content)
{
	char *dir = th_path("%s/%s", sb.dir, name);
	char *p = th_path("%s/%s", dir, file);
	th_write(p, content, 0644);
	free(p);
	free(ok(dir, "git", "-c", "init.defaultBranch=main", "init", "-q"));
	free(ok(dir, "git", "add", "-A"));
	return dir;
}

/* Commits what is staged (git add -A would drop gitlinks without a checkout). */
static char *commit_in(const char *dir, const char *msg)
{
	free(ok(dir, "git", "commit", "-q", "-m", msg));
	return app_sandbox_head(&sb, dir);
}

/* Adds a submodule at path (commit sha of url) to the index of the repository in dir. */
static void add_submodule(const char *dir, const char *path, const char *url, const char *sha)
{
	char *key = th_path("submodule.%s.path", path);
	free(ok(dir, "git", "config", "-f", ".gitmodules", key, path));
	free(key);
	key = th_path("submodule.%s.url", path);
	free(ok(dir, "git", "config", "-f", ".gitmodules", key, url));
	free(ok(dir, "git", "add", ".gitmodules"));
	free(key);
	char *info = th_path("160000,%s,%s", sha, path);
	free(ok(dir, "git", "update-index", "--add", "--cacheinfo", info));
	free(info);
}

/* The app: a Procfile and the remote heroku, nothing committed. */
static void app(void)
{
	app_sandbox_create(&sb, NULL);
	app_sandbox_write(&sb, "Procfile", "web: ./run\n", 0644);
	app_sandbox_checkout(&sb, NULL, "main", NULL);
}

static char *push_commit(const char *msg)
{
	free(commit_in(sb.src, msg));
	return app_sandbox_push(&sb, "main");
}

/* Commits and pushes a tree whose build must fail; the push is refused. */
static char *push_failing(const char *msg)
{
	free(commit_in(sb.src, msg));
	return app_sandbox_push_rejected(&sb, "main");
}

/*
 * The app "libapp" on this server, holding lib.txt, a Procfile and, when
 * url is given, the submodule vendor/inner (commit sha of url); its head commit.
 */
static char *lib_app(const char *url, const char *sha)
{
	free(ok(NULL, SLIPWAY_BIN, "apps:create", "libapp"));
	char *lib = repo_with("libwork", "lib.txt", "lib\n");
	char *p = th_path("%s/Procfile", lib);
	th_write(p, "web: ./lib\n", 0644);
	free(p);
	free(ok(lib, "git", "add", "-A"));
	if (url)
		add_submodule(lib, "vendor/inner", url, sha);
	char *head = commit_in(lib, "lib");
	char *lib_repo = th_path("%s/apps/libapp.git", sb.root);
	free(app_sandbox_must(SANDBOX_RUN(&sb, lib, "git", "push", "-q", lib_repo, "main"),
			      "push libapp"));
	free(lib_repo);
	free(lib);
	return head;
}

static void assert_has(const char *out, const char *needle)
{
	cr_assert(strstr(out, needle), "want '%s' in:\n%s", needle, out);
}

Test(submodules, submodules_of_apps_and_paths_are_checked_out_recursively)
{
	/* a plain repository, and the app "libapp" on this server holding it as a submodule */
	char *inner = repo_with("inner", "inner.txt", "inner\n");
	char *inner_sha = commit_in(inner, "inner");
	char *inner_url = th_path("file://%s", inner);
	char *lib_sha = lib_app(inner_url, inner_sha);

	/* the app names libapp as git would from its remote: ../libapp.git */
	app();
	app_sandbox_write(&sb, "app.txt", "app\n", 0644);
	free(ok(NULL, "git", "add", "-A"));
	add_submodule(sb.src, "lib", "../libapp.git", lib_sha);
	char *out = push_commit("with submodules");
	assert_has(out, "remote: -----> Released v1: ");
	cr_assert(!strstr(out, " !     "), "%s", out);
	free(out);

	char *tv = ok(NULL, SLIPWAY_BIN, "slugs:contents", "v1", "-a", APP);
	assert_has(tv, " ./app/app.txt");
	assert_has(tv, " ./app/lib/lib.txt");
	assert_has(tv, " ./app/lib/vendor/inner/inner.txt");
	assert_has(tv, " ./app/lib/.gitmodules");
	cr_assert(!strstr(tv, "/.git/"), "%s", tv);
	free(tv);

	free(lib_sha);
	free(inner_url);
	free(inner_sha);
	free(inner);
}

Test(submodules, unreachable_urls_missing_commits_and_entries_fail_the_build)
{
	char *inner = repo_with("inner", "inner.txt", "inner\n");
	char *inner_sha = commit_in(inner, "inner");
	app();
	free(ok(NULL, "git", "add", "-A"));
	add_submodule(sb.src, "lib/x", "https://example.com/x.git", inner_sha);
	char *out = push_failing("https");
	assert_has(out, "remote:  !     Submodule 'lib/x' (https://example.com/x.git) cannot be "
			"fetched: only paths, file:// URLs and apps on this server");
	assert_has(out, "remote:  !     Push rejected, no release was created.");
	free(out);

	/* a path the server has, but not the commit */
	free(ok(NULL, "git", "rm", "-q", "--cached", "lib/x"));
	free(ok(NULL, "git", "config", "-f", ".gitmodules", "--remove-section", "submodule.lib/x"));
	free(ok(NULL, "git", "add", ".gitmodules"));
	add_submodule(sb.src, "lib/y", inner, "1234567890123456789012345678901234567890");
	out = push_failing("missing commit");
	char *want = th_path("remote:  !     Submodule 'lib/y' (%s): commit 1234567 is not in that "
			     "repository (push it there first)", inner);
	assert_has(out, want);
	free(want);
	free(out);

	/* a gitlink that .gitmodules does not name */
	free(ok(NULL, "git", "rm", "-q", "--cached", "lib/y"));
	free(ok(NULL, "git", "rm", "-q", ".gitmodules"));
	char *info = th_path("160000,%s,vendor/z", inner_sha);
	free(ok(NULL, "git", "update-index", "--add", "--cacheinfo", info));
	free(info);
	out = push_failing("no gitmodules");
	assert_has(out, "remote:  !     Submodule 'vendor/z' is not in .gitmodules");
	free(out);
	cr_assert_eq(app_sandbox_release_count(&sb), 0);
	free(inner_sha);
	free(inner);
}

/* As `slipway shell bob` runs git for a push over ssh: the hooks see SLIPWAY_SHELL_USER. */
static struct th_result push_as_bob(void)
{
	return SANDBOX_RUN(&sb, NULL, "env", "SLIPWAY_SHELL_USER=bob", "SLIPWAY_USER=bob", "git",
			   "push", "heroku", "main");
}

Test(submodules, a_push_over_ssh_reads_only_apps_its_pusher_may_use)
{
	char *lib_sha = lib_app(NULL, NULL);
	char *inner = repo_with("inner", "inner.txt", "inner\n");
	char *inner_sha = commit_in(inner, "inner");
	app();
	free(ok(NULL, "git", "add", "-A"));
	add_submodule(sb.src, "lib", "../libapp.git", lib_sha);
	free(commit_in(sb.src, "lib"));

	/* bob may not use libapp: its code stays out of bob's slug */
	struct th_result r = push_as_bob();
	cr_assert_neq(r.status, 0, "%s", r.err);
	assert_has(r.err, "remote:  !     Submodule 'lib' (../libapp.git) cannot be fetched: you do "
			  "not have access to the app libapp");
	for (const char *l = r.err; (l = strstr(l, "remote:")); l++) {
		const char *end = strchr(l, '\n');
		const char *hit = strstr(l, sb.root);
		cr_assert(!hit || (end && hit > end), "a server path was shown:\n%s", r.err);
	}
	th_result_free(&r);
	cr_assert_not(app_sandbox_has_ref(&sb, "refs/heads/main"));
	cr_assert_eq(app_sandbox_release_count(&sb), 0);

	/* once bob may, it is checked out */
	free(ok(NULL, SLIPWAY_BIN, "access:add", "bob", "-a", "libapp"));
	r = push_as_bob();
	cr_assert_eq(r.status, 0, "%s", r.err);
	assert_has(r.err, "remote: -----> Released v1: ");
	th_result_free(&r);
	char *tv = ok(NULL, SLIPWAY_BIN, "slugs:contents", "v1", "-a", APP);
	assert_has(tv, " ./app/lib/lib.txt");
	free(tv);

	/* a path on the server is never read for a push over ssh */
	char *url = th_path("file://%s", inner);
	add_submodule(sb.src, "vendor/inner", url, inner_sha);
	free(commit_in(sb.src, "path"));
	r = push_as_bob();
	cr_assert_neq(r.status, 0, "%s", r.err);
	char *want = th_path("remote:  !     Submodule 'vendor/inner' (%s) cannot be fetched: a push "
			     "over ssh reaches only apps on this server you have access to", url);
	assert_has(r.err, want);
	th_result_free(&r);
	cr_assert_eq(app_sandbox_release_count(&sb), 1);
	free(want);
	free(url);
	free(inner_sha);
	free(inner);
	free(lib_sha);
}
