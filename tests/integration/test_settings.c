/*
 * `slipway settings [-a APP] [--json]`: every setting's effective value and
 * where it comes from (environment, app, global, default), and one git
 * config snapshot per app (and one for the server-wide settings) in each
 * process of a push, a config:set and a rollback (SLIPWAY_TRACE_SETTINGS,
 * store/settings.h).
 */
#define _GNU_SOURCE
#include "tests/integration/runtime_helpers.h"

#include "store/settings.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define APP "cfgapp"

static struct app_sandbox sb;
static pid_t svscan = -1;

#define sw(...) SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__)
#define ok(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

static void setup(void)
{
	app_sandbox_init(&sb, APP, APP_SANDBOX_BATCH | APP_SANDBOX_CREATE);
}

static void teardown(void)
{
	rt_stop(&sb, &svscan);
	app_sandbox_release(&sb);
}

TestSuite(settings, .init = setup, .fini = teardown, .timeout = 240);

/* One setting in each place: the environment, the app's repository, the global config. */
static void set_in_each_place(void)
{
	app_sandbox_setenv(&sb, "SLIPWAY_COMPILE_TIMEOUT=7m");
	free(ok("git", "--git-dir", sb.repo, "config", "slipway.maxSlugSize", "1G"));
	/* HOME is the sandbox: this is the server user's global config */
	free(ok("git", "config", "--global", "slipway.stack", "heroku-24"));
	/* a server-wide setting in an app's repository is not the app's to change */
	free(ok("git", "--git-dir", sb.repo, "config", "slipway.domain", "app.example.com"));
}

/* The table line of name in out has exactly the words value (NULL: none) and origin. */
static void assert_row(const char *out, const char *name, const char *value, const char *origin)
{
	char *want = value ? th_path("%s %s %s", name, value, origin)
			   : th_path("%s %s", name, origin);
	const char *p = out;
	size_t n = strlen(name);
	while (p && (strncmp(p, name, n) || p[n] != ' '))
		p = (p = strchr(p, '\n')) ? p + 1 : NULL;
	cr_assert(p, "no line for %s in:\n%s", name, out);
	/* the columns, their padding squeezed to one space */
	char line[512];
	size_t k = 0;
	for (; *p && *p != '\n' && k < sizeof(line) - 1; p++)
		if (*p != ' ' || (k && line[k - 1] != ' '))
			line[k++] = *p;
	line[k] = '\0';
	cr_assert_str_eq(line, want);
	free(want);
}

Test(settings, each_value_and_where_it_comes_from)
{
	set_in_each_place();
	char *out = ok(SLIPWAY_BIN, "settings", "-a", APP);
	cr_assert(!strncmp(out, "=== " APP " Settings\nName ", 22), "%s", out);
	assert_row(out, "slipway.compileTimeout", "7m", "environment");
	assert_row(out, "slipway.maxSlugSize", "1G", "app");
	assert_row(out, "slipway.stack", "heroku-24", "global");
	assert_row(out, "slipway.releaseTimeout", "1h", "default");
	assert_row(out, "slipway.domain", "localhost", "default");
	assert_row(out, "slipway.branch", NULL, "default");
	free(out);

	/* the server's own: the app's repository is not read */
	out = ok(SLIPWAY_BIN, "settings");
	cr_assert(!strncmp(out, "=== Server Settings\n", 20), "%s", out);
	assert_row(out, "slipway.compileTimeout", "7m", "environment");
	assert_row(out, "slipway.maxSlugSize", "500M", "default");
	assert_row(out, "slipway.stack", "heroku-24", "global");
	free(out);
}

Test(settings, json_has_every_setting_with_its_origin)
{
	set_in_each_place();
	char *out = ok(SLIPWAY_BIN, "settings", "-a", APP, "--json");
	cr_assert(out[0] == '[' && !strcmp(out + strlen(out) - 2, "]\n"), "%s", out);
	static const char *const want[] = {
		"{\"name\":\"slipway.compileTimeout\",\"value\":\"7m\",\"origin\":\"environment\","
		"\"scope\":\"app\",\"type\":\"duration\",\"env\":\"SLIPWAY_COMPILE_TIMEOUT\"}",
		"{\"name\":\"slipway.maxSlugSize\",\"value\":\"1G\",\"origin\":\"app\",",
		"{\"name\":\"slipway.stack\",\"value\":\"heroku-24\",\"origin\":\"global\",",
		"{\"name\":\"slipway.domain\",\"value\":\"localhost\",\"origin\":\"default\","
		"\"scope\":\"server\",",
		"{\"name\":\"slipway.branch\",\"value\":null,\"origin\":\"default\",",
		"{\"name\":\"slipway.gitUrl\",\"value\":null,\"origin\":\"default\",\"scope\":\"server\","
		"\"type\":\"string\",\"env\":null}",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert(strstr(out, want[i]), "no %s in:\n%s", want[i], out);
	int rows = 0;
	for (const char *p = out; (p = strstr(p, "{\"name\":")); p++)
		rows++;
	cr_assert_eq(rows, SETTINGS_COUNT, "%s", out);
	free(out);
}

Test(settings, an_app_that_does_not_exist_is_refused)
{
	app_sandbox_refused(sw("settings", "-a", "nosuch"), 1,
			    " !    app 'nosuch' does not exist (create it with: slipway apps:create nosuch)\n");
	app_sandbox_refused(sw("settings", "-a", "Bad_Name"), 1,
			    " !    invalid app name 'Bad_Name': use 1 to 30 lowercase letters, digits and "
			    "dashes, starting with a letter\n");
	app_sandbox_refused(sw("settings", "extra"), 2,
			    "error: too many arguments for settings\nUsage: slipway settings [-a APP] "
			    "[--json]\nRun 'slipway help' for the list of commands.\n");
}

/* The app's own slipway.repoUrl as git config has it ("" when unset). */
static char *repo_url(void)
{
	struct th_result r = SANDBOX_RUN(&sb, NULL, "git", "--git-dir", sb.repo, "config",
					 "slipway.repoUrl");
	char *v = strdup(r.out);
	th_result_free(&r);
	return v;
}

Test(settings, settings_set_takes_a_checked_repo_url_and_nothing_else)
{
	char *out = ok(SLIPWAY_BIN, "settings:set", "slipway.repoUrl=https://github.com/o/r/commit/%s",
		       "-a", APP);
	cr_assert_str_eq(out, "Setting slipway.repoUrl on " APP "... done\n");
	free(out);
	out = repo_url();
	cr_assert_str_eq(out, "https://github.com/o/r/commit/%s\n");
	free(out);
	app_sandbox_refused(sw("settings:set", "slipway.repoUrl=javascript:alert(1)//%s", "-a", APP),
			    1, " !    invalid repository URL 'javascript:alert(1)//%s': write it as "
			    "http:// or https:// with one %s for the commit, for example "
			    "https://github.com/org/repo/commit/%s\n");
	app_sandbox_refused(sw("settings:set", "slipway.repoUrl=https://x/%s/%s", "-a", APP), 1,
			    " !    invalid repository URL 'https://x/%s/%s': write it as "
			    "http:// or https:// with one %s for the commit, for example "
			    "https://github.com/org/repo/commit/%s\n");
	app_sandbox_refused(sw("settings:set", "slipway.sandbox=none", "-a", APP), 1,
			    " !    slipway.sandbox cannot be set with settings:set: only "
			    "slipway.repoUrl can (the others are the operator's: git config on the "
			    "server)\n");
	out = repo_url();
	cr_assert_str_eq(out, "https://github.com/o/r/commit/%s\n", "unchanged");
	free(out);
	struct th_result r = sw("settings:set", "slipway.repoUrl", "-a", APP);
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert(strstr(r.err, "'slipway.repoUrl' is not KEY=value"), "%s", r.err);
	th_result_free(&r);
	out = ok(SLIPWAY_BIN, "settings:unset", "slipway.repoUrl", "-a", APP);
	cr_assert_str_eq(out, "Unsetting slipway.repoUrl on " APP "... done\n");
	free(out);
	out = repo_url();
	cr_assert_str_eq(out, "");
	free(out);
}

/*
 * The trace lines of out ("settings: read the git config of X (pid N)"):
 * each (X, N) at most once; how many, and how many name the app.
 */
static int snapshots(const char *out, int *of_app)
{
	static const char tag[] = "settings: read the git config of ";
	char *seen[64];
	int n = 0;
	*of_app = 0;
	for (const char *p = out; (p = strstr(p, tag)); p += sizeof(tag) - 1) {
		const char *end = strstr(p, ")");
		cr_assert(end && n < 64, "%s", out);
		char *what = strndup(p + sizeof(tag) - 1, (size_t)(end - p) - sizeof(tag) + 2);
		for (int i = 0; i < n; i++)
			cr_assert_str_neq(seen[i], what, "read twice in one process:\n%s", out);
		*of_app += !strncmp(what, "app '", 5);
		seen[n++] = what;
	}
	for (int i = 0; i < n; i++)
		free(seen[i]);
	return n;
}

Test(settings, a_push_a_config_set_and_a_rollback_read_the_git_config_once_per_process)
{
	if (access("/usr/bin/s6-svscan", X_OK) || access("/usr/sbin/nginx", X_OK))
		cr_skip_test("s6 and nginx are needed (run scripts/deps)");
	app_sandbox_write(&sb, "Procfile", "web: exec python3 -m http.server $PORT\n", 0644);
	app_sandbox_checkout(&sb, NULL, "main", "one");
	svscan = rt_start(&sb);
	app_sandbox_setenv(&sb, "SLIPWAY_TRACE_SETTINGS=1");
	int app;

	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v1"), "%s", out);
	/* pre-receive and post-receive: the app's and the server's each, once each */
	cr_assert_eq(snapshots(out, &app), 4, "%s", out);
	cr_assert_eq(app, 2, "%s", out);
	free(out);

	struct th_result r = sw("config:set", "FOO=bar", "-a", APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(snapshots(r.err, &app), 2, "%s", r.err);
	cr_assert_eq(app, 1, "%s", r.err);
	th_result_free(&r);

	r = sw("rollback", "v1", "-a", APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(snapshots(r.err, &app), 2, "%s", r.err);
	cr_assert_eq(app, 1, "%s", r.err);
	th_result_free(&r);
}
