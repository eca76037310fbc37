/*
 * slipway.onRelease: the operator's program runs once every release is
 * current (deploy, config change, rollback) and learns what the release
 * is; and, without it and without the runtime, the user is told that
 * nothing runs the release.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include "store/cas.h"
#include "util/fsutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct app_sandbox sb;
static char *hook, *records;

#define SW(...) SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__)
#define GIT(...) SANDBOX_RUN(&sb, NULL, "git", __VA_ARGS__)
#define HINT "(not running: start the runtime with 'slipway server:start')"

static void ok(struct th_result r)
{
	free(app_sandbox_must(r, "command"));
}

/*
 * The hook: `hook RECORDS STATUS WORDS...` writes what it got to
 * RECORDS/$SLIPWAY_RELEASE, says one line and exits with STATUS.
 */
static const char hook_script[] =
	"#!/bin/sh\n"
	"rec=$1/$SLIPWAY_RELEASE status=$2\n"
	"shift 2\n"
	"{\n"
	"  echo \"words $#\"\n"
	"  for w in \"$@\"; do echo \"word [$w]\"; done\n"
	"  echo \"app [$SLIPWAY_APP]\"\n"
	"  echo \"release [$SLIPWAY_RELEASE]\"\n"
	"  echo \"slug [$SLIPWAY_SLUG]\"\n"
	"  echo \"checksum [$SLIPWAY_SLUG_CHECKSUM]\"\n"
	"  echo \"config [$SLIPWAY_CONFIG_FILE]\"\n"
	"  echo \"root [$SLIPWAY_ROOT]\"\n"
	"  echo \"home [$HOME] git_dir [$GIT_DIR] user [$SLIPWAY_USER]\"\n"
	"  if read -r line; then echo \"stdin [$line]\"; fi\n"
	"  test -f \"$SLIPWAY_SLUG\" && echo \"slug is a file\"\n"
	"  stat -c 'config mode %a' \"$SLIPWAY_CONFIG_FILE\"\n"
	"  echo '--- config vars'\n"
	"  cat \"$SLIPWAY_CONFIG_FILE\"\n"
	"  echo '--- end'\n"
	"} > \"$rec\"\n"
	"echo \"hook ran for $SLIPWAY_RELEASE\"\n"
	"echo \"hook complains\" >&2\n"
	"exit $status\n";

static void setup(void)
{
	app_sandbox_init(&sb, "app", 0);
	app_sandbox_create(&sb, NULL);
	app_sandbox_write(&sb, "Procfile", "web: ./server\n", 0644);
	app_sandbox_checkout(&sb, NULL, "main", "one");
	hook = th_path("%s/hook", sb.root);
	th_write(hook, hook_script, 0755);
	records = th_path("%s/records", sb.dir);
	char *keep = th_path("%s/.keep", records);
	th_write(keep, "", 0644);
	free(keep);
}

static void teardown(void)
{
	free(hook);
	free(records);
	app_sandbox_release(&sb);
}

TestSuite(onrelease, .init = setup, .fini = teardown, .timeout = 120);

/* git config --file FILE --add slipway.onRelease for each word, in order. */
static void set_words(const char *file, const char *const *words)
{
	for (size_t i = 0; words[i]; i++)
		ok(SANDBOX_RUN(&sb, sb.dir, "git", "config", "--file", file, "--add",
			       "slipway.onRelease", words[i]));
}

static char *app_config(void)
{
	return th_path("%s/config", sb.repo);
}

/* The hook's record of release v (NULL when it did not run for it). */
static char *record(int v)
{
	char *path = th_path("%s/v%d", records, v);
	char *text = fs_exists(path) ? th_read(path, NULL) : NULL;
	free(path);
	return text;
}

/* The value of "name [value]" in a record (malloc'ed). */
static char *field(const char *rec, const char *name)
{
	char *key = th_path("%s [", name);
	const char *at = strstr(rec, key);
	cr_assert(at, "no %s in:\n%s", name, rec);
	at += strlen(key);
	const char *end = strchr(at, ']');
	cr_assert(end);
	free(key);
	return strndup(at, (size_t)(end - at));
}

/* "SHA256:<hex>" of release v, from releases:info --json. */
static char *checksum_of(int v)
{
	char *ver = th_path("v%d", v);
	struct th_result r = SW("releases:info", ver, "--json", "-a", "app");
	cr_assert_eq(r.status, 0, "%s", r.err);
	const char *at = strstr(r.out, "\"checksum\":\"");
	cr_assert(at, "%s", r.out);
	at += strlen("\"checksum\":\"");
	char *sum = strndup(at, strlen("SHA256:") + 64);
	th_result_free(&r);
	free(ver);
	return sum;
}

static void assert_current(int v)
{
	struct th_result r = SW("releases", "-a", "app");
	cr_assert_eq(r.status, 0, "%s", r.err);
	char *head = th_path("=== app Releases - Current: v%d\n", v);
	cr_assert(strstr(r.out, head), "%s", r.out);
	free(head);
	th_result_free(&r);
}

/* What every record must say of release v: app, slug and config file. */
static void assert_release(const char *rec, int v, const char *vars)
{
	char *s = field(rec, "app");
	cr_assert_str_eq(s, "app");
	free(s);
	s = field(rec, "release");
	char *ver = th_path("v%d", v);
	cr_assert_str_eq(s, ver);
	free(ver);
	free(s);
	char *sum = checksum_of(v);
	s = field(rec, "checksum");
	cr_assert_str_eq(s, sum, "the checksum releases:info shows");
	free(s);
	s = field(rec, "slug");
	char *slug = cas_path(sb.root, sum + strlen("SHA256:"));
	cr_assert_str_eq(s, slug, "the slug's file in the store, by absolute path");
	free(slug);
	free(s);
	free(sum);
	cr_assert(strstr(rec, "\nslug is a file\n"), "%s", rec);
	s = field(rec, "root");
	cr_assert_str_eq(s, sb.root);
	free(s);
	cr_assert(strstr(rec, "home [] git_dir [] user []\n"), "nothing of ours leaks: %s", rec);
	cr_assert_null(strstr(rec, "stdin ["), "stdin is /dev/null: %s", rec);
	cr_assert(strstr(rec, "config mode 600\n"), "%s", rec);
	char *want = th_path("--- config vars\n%s--- end\n", vars);
	cr_assert(strstr(rec, want), "config vars:\n%s", rec);
	free(want);
	s = field(rec, "config");
	cr_assert_eq(s[0], '/', "%s", s);
	cr_assert_not(fs_exists(s), "the config file %s is left behind", s);
	char *dir = strndup(s, (size_t)(strrchr(s, '/') - s));
	cr_assert_not(fs_exists(dir), "its directory %s is left behind", dir);
	free(dir);
	free(s);
}

Test(onrelease, a_push_a_config_change_and_a_rollback_each_run_it)
{
	char *cfg = app_config();
	const char *words[] = { hook, records, "0", "two words", "*", "$HOME", NULL };
	set_words(cfg, words);
	free(cfg);

	struct th_result r = GIT("push", "heroku", "main");
	cr_assert_eq(r.status, 0, "%s", r.err);
	const char *said = strstr(r.err, "remote:        hook ran for v1");
	const char *complained = strstr(r.err, "remote:        hook complains");
	const char *released = strstr(r.err, "remote: -----> Released v1: Deploy ");
	cr_assert(said && complained && released && said < released, "%s", r.err);
	cr_assert_null(strstr(r.err, "not running"), "slipway.onRelease runs it: %s", r.err);
	th_result_free(&r);
	char *rec = record(1);
	cr_assert(rec, "the hook did not run for v1");
	cr_assert(strstr(rec, "words 3\nword [two words]\nword [*]\nword [$HOME]\n"),
		  "each value one word, no shell: %s", rec);
	assert_release(rec, 1, "");
	free(rec);

	r = SW("config:set", "FOO=bar", "B=two words", "-a", "app");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "       hook ran for v2\n"), "%s", r.out);
	cr_assert(strstr(r.out, "Setting FOO, B and restarting app... done, v2\n"), "%s", r.out);
	th_result_free(&r);
	rec = record(2);
	cr_assert(rec, "the hook did not run for v2");
	assert_release(rec, 2, "B=two words\nFOO=bar\n");
	free(rec);

	r = SW("rollback", "v1", "-a", "app");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "       hook ran for v3\n"), "%s", r.out);
	cr_assert(strstr(r.out, "Rolling back app to v1... done, v3\n"), "%s", r.out);
	th_result_free(&r);
	rec = record(3);
	cr_assert(rec, "the hook did not run for v3");
	assert_release(rec, 3, "");
	free(rec);
	char *v1 = checksum_of(1), *v3 = checksum_of(3);
	cr_assert_str_eq(v3, v1, "a rollback brings v1's slug");
	free(v1);
	free(v3);
	assert_current(3);
}

Test(onrelease, the_apps_value_replaces_the_global_one)
{
	char *global = th_path("%s/.gitconfig", sb.dir);
	const char *g[] = { hook, records, "0", "global", "words", NULL };
	set_words(global, g);
	free(global);
	ok(GIT("push", "-q", "heroku", "main"));
	char *rec = record(1);
	cr_assert(rec, "the global hook did not run");
	cr_assert(strstr(rec, "words 2\nword [global]\nword [words]\n"), "%s", rec);
	free(rec);

	char *cfg = app_config();
	const char *a[] = { hook, records, "0", "app", NULL };
	set_words(cfg, a);
	free(cfg);
	ok(SW("config:set", "X=1", "-a", "app"));
	rec = record(2);
	cr_assert(rec, "the app's hook did not run");
	cr_assert(strstr(rec, "words 1\nword [app]\n"), "none of the global words: %s", rec);
	free(rec);
}

Test(onrelease, a_failing_hook_warns_and_the_release_stays_current)
{
	char *cfg = app_config();
	const char *words[] = { hook, records, "3", NULL };
	set_words(cfg, words);
	free(cfg);

	struct th_result r = GIT("push", "heroku", "main");
	cr_assert_eq(r.status, 0, "%s", r.err);
	char *warn = th_path("remote:  !     slipway.onRelease (%s) exited with status 3", hook);
	cr_assert_eq(th_count(r.err, warn), 1, "%s", r.err);
	cr_assert_eq(th_count(r.err, " !     "), 1, "one warning line: %s", r.err);
	cr_assert(strstr(r.err, "remote: -----> Released v1: Deploy "), "%s", r.err);
	th_result_free(&r);
	assert_current(1);

	r = SW("config:set", "FOO=bar", "-a", "app");
	cr_assert_eq(r.status, 0, "the command's exit status is unchanged: %s", r.err);
	cr_assert_eq(th_count(r.out, warn + strlen("remote: ")), 1, "%s", r.out);
	th_result_free(&r);
	assert_current(2);
	free(warn);

	/* a program that cannot start: the same, with why */
	cfg = app_config();
	ok(SANDBOX_RUN(&sb, sb.dir, "git", "config", "--file", cfg, "--unset-all",
		       "slipway.onRelease"));
	const char *missing[] = { "/nonexistent/deploy-hook", NULL };
	set_words(cfg, missing);
	free(cfg);
	r = SW("rollback", "v1", "-a", "app");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, " !     slipway.onRelease (/nonexistent/deploy-hook) did not run: "),
		  "%s", r.out);
	th_result_free(&r);
	assert_current(3);
}

Test(onrelease, a_failed_release_does_not_run_it)
{
	char *cfg = app_config();
	const char *words[] = { hook, records, "0", NULL };
	set_words(cfg, words);
	free(cfg);
	app_sandbox_write(&sb, "Procfile", "web: ./server\nrelease: test \"$FOO\" != bad\n", 0644);
	ok(GIT("commit", "-qam", "a release phase"));
	ok(GIT("push", "-q", "heroku", "main"));
	char *rec = record(1);
	cr_assert(rec, "v1 succeeded: the hook runs");
	free(rec);

	struct th_result r = SW("config:set", "FOO=bad", "-a", "app");
	cr_assert_eq(r.status, 1, "%s", r.out);
	cr_assert(strstr(r.out, " !     Release command failed"), "%s", r.out);
	cr_assert_null(strstr(r.out, "hook ran"), "%s", r.out);
	th_result_free(&r);
	cr_assert_null(record(2), "the hook ran for a failed release");
	assert_current(1);
}

Test(onrelease, without_it_and_without_the_runtime_the_user_is_told_nothing_runs)
{
	struct th_result r = GIT("push", "heroku", "main");
	cr_assert_eq(r.status, 0, "%s", r.err);
	char *sha = app_sandbox_head(&sb, NULL);
	char *line = th_path("remote: -----> Released v1: Deploy %.7s " HINT, sha);
	cr_assert(strstr(r.err, line), "%s", r.err);
	free(line);
	free(sha);
	th_result_free(&r);
	r = SW("config:set", "FOO=bar", "-a", "app");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "Setting FOO on app... done, v2 " HINT "\n"), "%s", r.out);
	th_result_free(&r);
	r = SW("config:unset", "FOO", "-a", "app");
	cr_assert(strstr(r.out, "Unsetting FOO on app... done, v3 " HINT "\n"), "%s", r.out);
	th_result_free(&r);
	r = SW("rollback", "v2", "-a", "app");
	cr_assert(strstr(r.out, "Rolling back app to v2... done, v4 " HINT "\n"), "%s", r.out);
	th_result_free(&r);

	/* with slipway.onRelease, something else runs it: no hint */
	char *global = th_path("%s/.gitconfig", sb.dir);
	const char *g[] = { hook, records, "0", NULL };
	set_words(global, g);
	free(global);
	ok(GIT("commit", "-q", "--allow-empty", "-m", "two"));
	r = GIT("push", "heroku", "main");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "remote: -----> Released v5: Deploy "), "%s", r.err);
	cr_assert_null(strstr(r.err, "not running"), "%s", r.err);
	th_result_free(&r);
	r = SW("config:set", "FOO=baz", "-a", "app");
	cr_assert(strstr(r.out, "Setting FOO and restarting app... done, v6\n"), "%s", r.out);
	th_result_free(&r);
}

Test(onrelease, a_release_with_nothing_to_run_gets_no_hint)
{
	/* before the first deploy there is no slug; after it, nothing the formation runs */
	struct th_result r = SW("config:set", "FOO=bar", "-a", "app");
	cr_assert(strstr(r.out, "Setting FOO and restarting app... done, v1\n"), "%s", r.out);
	th_result_free(&r);
	app_sandbox_write(&sb, "Procfile", "worker: ./work\n", 0644);
	ok(GIT("commit", "-qam", "a worker only"));
	r = GIT("push", "heroku", "main");
	cr_assert(strstr(r.err, "remote: -----> Released v2: Deploy "), "%s", r.err);
	cr_assert_null(strstr(r.err, "not running"), "%s", r.err);
	th_result_free(&r);
}
