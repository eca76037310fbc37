/*
 * Every build is kept with its output: `builds` lists them, failed ones
 * too, `builds:output` prints what the pusher saw, `slipway.keepBuilds`
 * bounds them (and gc sweeps them), and `releases:retry` builds the latest
 * release's commit again into a new release.  Real pushes with the real git
 * client.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define APP "app"

static struct app_sandbox sb;

static void setup(void)
{
	app_sandbox_init(&sb, APP, APP_SANDBOX_BATCH | APP_SANDBOX_CREATE);
}

static void teardown(void)
{
	app_sandbox_release(&sb);
}

TestSuite(builds, .init = setup, .fini = teardown, .timeout = 120);

#define RUN(...) SANDBOX_RUN(&sb, NULL, __VA_ARGS__)
#define OK(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

static void commit(const char *file, const char *content, const char *msg)
{
	app_sandbox_write(&sb, file, content, 0644);
	free(OK("git", "add", "-A"));
	free(OK("git", "commit", "-qm", msg));
}

/* The lines of a push that came from the server, "remote: " and git's padding taken off. */
static char *remote_lines(const char *err)
{
	struct buf b = BUF_INIT;
	for (const char *l = err; *l;) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);
		if (n >= 8 && !strncmp(l, "remote: ", 8)) {
			size_t m = n - 8;
			while (m && l[8 + m - 1] == ' ')
				m--;
			buf_addf(&b, "%.*s\n", (int)m, l + 8);
		}
		l += n + (end ? 1 : 0);
	}
	return b.data ? b.data : xstrdup("");
}

static void assert_refused(struct th_result r, int status, const char *err)
{
	cr_assert_eq(r.status, status, "exit %d: %s", r.status, r.err);
	cr_assert_str_eq(r.err, err);
	cr_assert_str_eq(r.out, "");
	th_result_free(&r);
}

Test(builds, a_failed_build_can_be_read_again_after_the_push)
{
	app_sandbox_checkout(&sb, NULL, "main", NULL);
	commit("README", "no way to run this\n", "broken");
	char *err = app_sandbox_push_rejected(&sb, "main");
	char *seen = remote_lines(err);
	cr_assert(strstr(seen, " !     No default language could be detected"), "%s", seen);

	char *list = OK(SLIPWAY_BIN, "builds", "-a", APP);
	char *sha = app_sandbox_head(&sb, NULL);
	char *row = th_path("\n1   failed  %.7s  ", sha);
	cr_assert(strstr(list, "=== " APP " Builds\n"), "%s", list);
	cr_assert(strstr(list, row), "want '%s' in:\n%s", row, list);
	free(row);
	free(list);

	/* exactly the lines the pusher saw, with or without the number */
	char *out = OK(SLIPWAY_BIN, "builds:output", "1", "-a", APP);
	cr_assert_str_eq(out, seen);
	free(out);
	out = OK(SLIPWAY_BIN, "builds:output", "-a", APP);
	cr_assert_str_eq(out, seen);
	free(out);
	cr_assert_eq(app_sandbox_release_count(&sb), 0);

	/* the fix builds as build 2, which made v1 */
	commit("Procfile", "web: ./run\n", "fixed");
	free(err);
	err = app_sandbox_push(&sb, "main");
	free(seen);
	seen = remote_lines(err);
	out = OK(SLIPWAY_BIN, "builds:output", "2", "-a", APP);
	cr_assert_str_eq(out, seen);
	cr_assert(strstr(out, "-----> Launching...\n-----> Released v1: Deploy "), "%s", out);
	free(out);
	char *json = OK(SLIPWAY_BIN, "builds", "--json", "-a", APP);
	char *head = app_sandbox_head(&sb, NULL);
	char *want = th_path("[{\"id\":2,\"status\":\"succeeded\",\"commit\":\"%s\",", head);
	cr_assert(!strncmp(json, want, strlen(want)), "want '%s' in:\n%s", want, json);
	cr_assert(strstr(json, "\"source\":\"main\",\"release\":{\"version\":1}},\n {\"id\":1,"
			       "\"status\":\"failed\","), "%s", json);
	cr_assert(strstr(json, "\"release\":null}]\n"), "%s", json);
	free(want);
	free(head);
	free(json);
	free(sha);
	free(seen);
	free(err);
}

Test(builds, long_output_keeps_its_head_and_tail_and_says_what_was_cut)
{
	app_sandbox_setenv(&sb, "SLIPWAY_MAX_BUILD_OUTPUT=64K");
	app_sandbox_checkout(&sb, NULL, "main", NULL);
	free(OK(SLIPWAY_BIN, "buildpacks:set", TESTS_DIR "/fixtures/buildpacks/chatty", "-a", APP));
	commit("Procfile", "web: ./run\n", "chatty");
	char *err = app_sandbox_push(&sb, "main");
	char *seen = remote_lines(err);
	cr_assert(strlen(seen) < 70 * 1024, "%zu bytes shown", strlen(seen));
	cr_assert(strstr(seen, "       chatty line 1\n"), "%.300s", seen);
	cr_assert_null(strstr(seen, "       chatty line 50000\n"));
	cr_assert(strstr(seen, "       chatty line 100000\n       chatty done\n"), "%s", seen);
	cr_assert(strstr(seen, "-----> Released v1: Deploy "), "%s", seen);
	const char *notice = "-----> The build's output is longer than slipway.maxBuildOutput "
			     "allows: its last 32K follow when the build ends\n";
	cr_assert(strstr(seen, notice), "%.300s", seen);
	const char *cut = strstr(seen, " of build output cut here: slipway.maxBuildOutput keeps "
				       "the first and the last 32K\n");
	cr_assert(cut, "%s", seen);
	cr_assert_eq(th_count(seen, "of build output cut here"), 1);
	const char *line = cut;
	while (line > seen && line[-1] != '\n')
		line--;
	unsigned long long bytes = 0, lines = 0;
	cr_assert_eq(sscanf(line, "-----> %llu bytes (%llu lines)", &bytes, &lines), 2, "%.200s", line);
	cr_assert_gt(bytes, 2000000);
	cr_assert_gt(lines, 90000);

	/* what is kept is what was shown, but the notice only the pusher needed */
	char *out = OK(SLIPWAY_BIN, "builds:output", "1", "-a", APP);
	char *at = strstr(seen, notice);
	memmove(at, at + strlen(notice), strlen(at + strlen(notice)) + 1);
	cr_assert_str_eq(out, seen);
	char *log = th_path("%s/slipway-builds/1.log", sb.repo);
	size_t len = 0;
	free(th_read(log, &len));
	cr_assert(len < 70 * 1024, "%zu bytes kept", len);
	free(log);
	free(out);
	free(seen);
	free(err);
}

Test(builds, retry_releases_the_same_commit_again)
{
	app_sandbox_checkout(&sb, NULL, "main", NULL);
	commit("Procfile", "web: ./run\n", "one");
	free(app_sandbox_push(&sb, "main"));
	free(OK(SLIPWAY_BIN, "config:set", "FOO=bar", "-a", APP));
	char *sha = app_sandbox_head(&sb, NULL);

	struct th_result r = RUN(SLIPWAY_BIN, "releases:retry", "-a", APP);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	char *banner = th_path("-----> Building " APP " from v2's commit (%.7s)\n", sha);
	char *released = th_path("-----> Released v3: Deploy %.7s (retry)", sha);
	cr_assert(strstr(r.out, banner) && strstr(r.out, released), "%s", r.out);
	th_result_free(&r);
	cr_assert_eq(app_sandbox_release_count(&sb), 3);

	/* the same commit, the config of the release before */
	char *info = OK(SLIPWAY_BIN, "releases:info", "v3", "--json", "-a", APP);
	char *commit_json = th_path("\"commit\":\"%s\"", sha);
	cr_assert(strstr(info, commit_json), "%s", info);
	cr_assert(strstr(info, "\"config_vars\":{\"FOO\":\"bar\"}"), "%s", info);
	cr_assert(strstr(info, "\"description\":\"Deploy"), "%s", info);
	char *json = OK(SLIPWAY_BIN, "builds", "--json", "-n", "1", "-a", APP);
	cr_assert(strstr(json, "\"id\":2,") && strstr(json, "\"source\":\"retry\",\"release\":"
							  "{\"version\":3}}]"), "%s", json);
	free(json);
	free(commit_json);
	free(info);
	free(released);
	free(banner);
	free(sha);
}

/* A retry is no push: its failed build says the retry failed, never "Push rejected". */
Test(builds, a_failed_retry_says_the_retry_failed)
{
	app_sandbox_checkout(&sb, NULL, "main", NULL);
	commit("Procfile", "web: ./run\n", "one");
	free(app_sandbox_push(&sb, "main"));
	free(OK(SLIPWAY_BIN, "buildpacks:set", TESTS_DIR "/fixtures/buildpacks/failing", "-a", APP));

	struct th_result r = RUN(SLIPWAY_BIN, "releases:retry", "-a", APP);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, " !     Failed to compile Failing app.\n"
				" !     Retry failed, no release was created.\n"), "%s", r.out);
	cr_assert(!strstr(r.out, "Push rejected") && !strstr(r.err, "Push rejected"), "%s%s",
		  r.out, r.err);
	th_result_free(&r);
	cr_assert_eq(app_sandbox_release_count(&sb), 1);
}

Test(builds, refusals_say_why_and_change_nothing)
{
	assert_refused(RUN(SLIPWAY_BIN, "releases:retry", "-a", APP), 1,
		       " !    " APP " has no deploy to retry: push the app first (git push heroku "
		       "main).\n");
	assert_refused(RUN(SLIPWAY_BIN, "builds:output", "-a", APP), 1, " !    " APP " has no builds.\n");
	char *list = OK(SLIPWAY_BIN, "builds", "-a", APP);
	cr_assert_str_eq(list, APP " has no builds.\n");
	free(list);

	app_sandbox_checkout(&sb, NULL, "main", NULL);
	commit("Procfile", "web: ./run\n", "one");
	free(app_sandbox_push(&sb, "main"));
	assert_refused(RUN(SLIPWAY_BIN, "builds:output", "7", "-a", APP), 1,
		       " !    build 7 of " APP " does not exist (see: slipway builds -a " APP ")\n");
	const char *bad[] = { "x", "0", "1x", "99999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *msg = th_path(" !    invalid build number '%s' (use the ID that slipway builds "
				    "shows, e.g. 7)\n", bad[i]);
		assert_refused(RUN(SLIPWAY_BIN, "builds:output", bad[i], "-a", APP), 1, msg);
		free(msg);
	}
	assert_refused(RUN(SLIPWAY_BIN, "builds", "-a", "nope"), 1,
		       " !    app 'nope' does not exist (create it with: slipway apps:create nope)\n");
	cr_assert_eq(app_sandbox_release_count(&sb), 1);
	list = OK(SLIPWAY_BIN, "builds", "--json", "-a", APP);
	cr_assert_eq(th_count(list, "\"id\":"), 1, "%s", list);
	free(list);
}

Test(builds, keep_builds_bounds_them_and_gc_sweeps_them)
{
	free(OK("git", "--git-dir", sb.repo, "config", "slipway.keepBuilds", "2"));
	app_sandbox_checkout(&sb, NULL, "main", NULL);
	commit("Procfile", "web: ./run\n", "one");
	free(app_sandbox_push(&sb, "main"));
	for (int i = 2; i <= 3; i++) {
		free(OK("git", "commit", "-q", "--allow-empty", "-m", "again"));
		free(app_sandbox_push(&sb, "main"));
	}
	char *json = OK(SLIPWAY_BIN, "builds", "--json", "-a", APP);
	cr_assert_eq(th_count(json, "\"id\":"), 2, "%s", json);
	cr_assert(strstr(json, "[{\"id\":3,") && strstr(json, "{\"id\":2,"), "%s", json);
	free(json);
	assert_refused(RUN(SLIPWAY_BIN, "builds:output", "1", "-a", APP), 1,
		       " !    build 1 of " APP " does not exist (see: slipway builds -a " APP ")\n");

	free(OK("git", "--git-dir", sb.repo, "config", "slipway.keepBuilds", "1"));
	char *out = OK(SLIPWAY_BIN, "gc");
	cr_assert(strstr(out, " and 1 old build with its output;"), "%s", out);
	free(out);
	json = OK(SLIPWAY_BIN, "builds", "--json", "-a", APP);
	cr_assert(!strncmp(json, "[{\"id\":3,", 9) && th_count(json, "\"id\":") == 1, "%s", json);
	free(json);
	/* numbers are not reused */
	free(OK("git", "commit", "-q", "--allow-empty", "-m", "four"));
	free(app_sandbox_push(&sb, "main"));
	json = OK(SLIPWAY_BIN, "builds", "--json", "-a", APP);
	cr_assert(!strncmp(json, "[{\"id\":4,", 9), "%s", json);
	free(json);
	cr_assert_eq(app_sandbox_release_count(&sb), 4);
}

Test(builds, a_killed_build_is_marked_failed_by_the_next_one)
{
	app_sandbox_checkout(&sb, NULL, "main", NULL);
	free(OK(SLIPWAY_BIN, "buildpacks:add", TESTS_DIR "/fixtures/buildpacks/hang", "-a", APP));
	commit("Procfile", "web: ./run\n", "hangs");
	char *log = th_path("%s/push.log", sb.dir);
	const char *argv[] = { "/usr/bin/git", "push", "heroku", "main", NULL };
	pid_t push = app_sandbox_start(&sb, log, argv);
	app_sandbox_wait_for(log, "hanging");
	char *json = OK(SLIPWAY_BIN, "builds", "--json", "-a", APP);
	cr_assert(strstr(json, "[{\"id\":1,\"status\":\"pending\","), "%s", json);
	free(json);

	/* the hook dies (kill -9, the OOM killer); its push fails */
	cr_assert_gt(app_sandbox_kill_named(sb.repo, "pre-receive"), 0);
	int st;
	cr_assert_eq(waitpid(push, &st, 0), push);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0);

	/* the next build finds build 1 still pending: it was killed */
	free(OK(SLIPWAY_BIN, "buildpacks:clear", "-a", APP));
	free(OK("git", "commit", "-q", "--allow-empty", "-m", "again"));
	free(app_sandbox_push(&sb, "main"));
	json = OK(SLIPWAY_BIN, "builds", "--json", "-a", APP);
	cr_assert(strstr(json, "[{\"id\":2,\"status\":\"succeeded\",") &&
		  strstr(json, "{\"id\":1,\"status\":\"failed\","), "%s", json);
	free(json);
	char *out = OK(SLIPWAY_BIN, "builds:output", "1", "-a", APP);
	cr_assert(strstr(out, "       hanging\n") &&
		  th_count(out, " !     This build was interrupted before it finished.") == 1, "%s",
		  out);
	free(out);
	free(log);
}
