#include "tests/helpers.h"

#include "runtime/services.h"
#include "store/app.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/gitutil.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char *sandbox, *home, *repo;

static void setup(void)
{
	sandbox = th_sandbox();
	home = th_path("%s/home", sandbox);
	/* the server user's global config is this test's own */
	th_git_home(home);
	struct app_create_opts o = APP_CREATE_OPTS_INIT;
	o.hook_exe = SLIPWAY_BIN;
	cr_assert_eq(app_create(sandbox, "demo", &o), 0, "%s", sw_error_last());
	repo = app_repo_path(sandbox, "demo");
	unsetenv("SLIPWAY_COMPILE_TIMEOUT");
	unsetenv("SLIPWAY_MAX_SLUG_SIZE");
}

static void teardown(void)
{
	free(repo);
	free(home);
	th_sandbox_free(sandbox);
}

TestSuite(settings, .init = setup, .fini = teardown);

static void set_config(const char *file, const char *key, const char *value)
{
	struct th_result r = th_runv(NULL, NULL, "git", "config", "--file", file, key, value, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
}

static int seconds(const char *app, int *out)
{
	struct settings *s = NULL;
	int err = settings_open(&s, sandbox, app);
	cr_assert_eq(err, 0, "%s", sw_error_last());
	err = settings_seconds(s, &SETTING_COMPILE_TIMEOUT, out);
	settings_free(s);
	return err;
}

Test(settings, the_environment_then_the_app_then_the_server_then_the_default)
{
	int t = 0;
	cr_assert_eq(seconds("demo", &t), 0);
	cr_assert_eq(t, 900, "the default is 15 minutes");

	char *global = th_path("%s/.gitconfig", home);
	set_config(global, "slipway.compileTimeout", "2m");
	cr_assert_eq(seconds("demo", &t), 0);
	cr_assert_eq(t, 120, "the server user's global config applies to every app");
	cr_assert_eq(seconds(NULL, &t), 0);
	cr_assert_eq(t, 120, "and server-wide");

	char *local = th_path("%s/config", repo);
	set_config(local, "slipway.compileTimeout", "90s");
	cr_assert_eq(seconds("demo", &t), 0);
	cr_assert_eq(t, 90, "the app's own config wins over the global one");
	cr_assert_eq(seconds(NULL, &t), 0);
	cr_assert_eq(t, 120, "server-wide settings never read an app's config");

	setenv("SLIPWAY_COMPILE_TIMEOUT", "1h", 1);
	cr_assert_eq(seconds("demo", &t), 0);
	cr_assert_eq(t, 3600, "the environment wins over both");
	setenv("SLIPWAY_COMPILE_TIMEOUT", "", 1);
	cr_assert_eq(seconds("demo", &t), 0);
	cr_assert_eq(t, 90, "an empty variable counts as unset");
	free(global);
	free(local);
}

Test(settings, a_malformed_value_says_where_it_was_set)
{
	int t = 7;
	char *local = th_path("%s/config", repo);
	set_config(local, "slipway.compileTimeout", "soon");
	cr_assert_eq(seconds("demo", &t), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "git config slipway.compileTimeout: invalid timeout 'soon': "
			 "use seconds, or a number with s, m or h (1s to 7 days)");
	cr_assert_eq(t, 7, "nothing is set on failure");

	setenv("SLIPWAY_COMPILE_TIMEOUT", "0", 1);
	cr_assert_eq(seconds("demo", &t), SW_EINVALID);
	cr_assert(!strncmp(sw_error_last(), "$SLIPWAY_COMPILE_TIMEOUT: invalid timeout '0'", 45),
		  "%s", sw_error_last());
	free(local);
}

Test(settings, strings_sizes_and_booleans)
{
	struct settings *s = NULL;
	char *local = th_path("%s/config", repo);
	set_config(local, "slipway.maxSlugSize", "1G");
	set_config(local, "slipway.rejectFailedBuilds", "yes");
	cr_assert_eq(settings_open(&s, sandbox, "demo"), 0, "%s", sw_error_last());

	uint64_t size = 0;
	cr_assert_eq(settings_size(s, &SETTING_MAX_SLUG_SIZE, &size), 0);
	cr_assert_eq(size, (uint64_t)1 << 30);
	int on = 0;
	cr_assert_eq(settings_bool(s, &SETTING_REJECT_FAILED_BUILDS, &on), 0);
	cr_assert_eq(on, 1);

	char *v = NULL;
	cr_assert_eq(settings_string(s, &SETTING_STACK, &v), 0);
	cr_assert_str_eq(v, "heroku-22", "the default when set nowhere");
	free(v);
	char sentinel = 0;
	v = &sentinel;
	cr_assert_eq(settings_string(s, &SETTING_BUILD_DIR, &v), 0);
	cr_assert_null(v, "NULL when set nowhere and there is no default");
	settings_free(s);

	set_config(local, "slipway.rejectFailedBuilds", "maybe");
	cr_assert_eq(settings_open(&s, sandbox, "demo"), 0);
	cr_assert_eq(settings_bool(s, &SETTING_REJECT_FAILED_BUILDS, &on), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "git config slipway.rejectFailedBuilds: invalid boolean "
			 "'maybe': use true or false");
	settings_free(s);
	free(local);
}

Test(settings, apps_created_over_ssh)
{
	char *global = th_path("%s/.gitconfig", home);
	int max = 7;
	cr_assert_eq(settings_ssh_apps_create(NULL, &max), 0, "%s", sw_error_last());
	cr_assert_eq(max, 0, "denied unless the operator says otherwise");
	static const struct {
		const char *v;
		int max;
	} ok[] = { { "allowed", -1 }, { "denied", 0 }, { "0", 0 }, { "3", 3 }, { "100000", 100000 } };
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		set_config(global, "slipway.sshAppsCreate", ok[i].v);
		cr_assert_eq(settings_ssh_apps_create(NULL, &max), 0, "%s: %s", ok[i].v, sw_error_last());
		cr_assert_eq(max, ok[i].max, "%s: %d", ok[i].v, max);
	}
	static const char *const bad[] = { "yes", "Allowed", "-1", "2x", "100001", " 2", "",
					   "99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		set_config(global, "slipway.sshAppsCreate", bad[i]);
		max = 7;
		cr_assert_eq(settings_ssh_apps_create(NULL, &max), SW_EINVALID, "'%s' was accepted", bad[i]);
		char *want = th_path("git config slipway.sshAppsCreate: invalid value '%s': use allowed, "
				     "denied or how many apps each user may create (0 to 100000)", bad[i]);
		cr_assert_str_eq(sw_error_last(), want);
		cr_assert_eq(max, 7, "nothing is set on failure");
		free(want);
	}
	/* an app's own config does not count: it is the server's setting */
	set_config(global, "slipway.sshAppsCreate", "denied");
	char *local = th_path("%s/config", repo);
	set_config(local, "slipway.sshAppsCreate", "allowed");
	cr_assert_eq(settings_ssh_apps_create(NULL, &max), 0);
	cr_assert_eq(max, 0);
	free(local);
	free(global);
}

static void add_config(const char *file, const char *key, const char *value)
{
	struct th_result r = th_runv(NULL, NULL, "git", "config", "--file", file, "--add", key, value,
				     NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
}

Test(settings, users_given_the_right_to_create_apps)
{
	char *global = th_path("%s/.gitconfig", home);
	int max = 7;
	set_config(global, "slipway.sshAppsCreate", "2");
	add_config(global, "slipway.sshAppsCreators", "admin");
	add_config(global, "slipway.sshAppsCreators", "alice@example.com");
	/* the users named: no limit; anyone else: the server's setting */
	cr_assert_eq(settings_ssh_apps_create("admin", &max), 0, "%s", sw_error_last());
	cr_assert_eq(max, -1);
	cr_assert_eq(settings_ssh_apps_create("alice@example.com", &max), 0);
	cr_assert_eq(max, -1);
	cr_assert_eq(settings_ssh_apps_create("bob", &max), 0);
	cr_assert_eq(max, 2);
	cr_assert_eq(settings_ssh_apps_create("admi", &max), 0);
	cr_assert_eq(max, 2, "a prefix of a name is not the name");
	set_config(global, "slipway.sshAppsCreate", "denied");
	cr_assert_eq(settings_ssh_apps_create("admin", &max), 0);
	cr_assert_eq(max, -1);
	cr_assert_eq(settings_ssh_apps_create("bob", &max), 0);
	cr_assert_eq(max, 0);
	/* a mistyped server setting is said to everyone */
	set_config(global, "slipway.sshAppsCreate", "yes");
	max = 7;
	cr_assert_eq(settings_ssh_apps_create("admin", &max), SW_EINVALID);
	cr_assert_eq(max, 7);
	/* an app's own config names nobody: it is the server's right to give */
	set_config(global, "slipway.sshAppsCreate", "denied");
	char *local = th_path("%s/config", repo);
	add_config(local, "slipway.sshAppsCreators", "bob");
	cr_assert_eq(settings_ssh_apps_create("bob", &max), 0);
	cr_assert_eq(max, 0);
	free(local);
	free(global);
}

Test(settings, the_git_url_remote_users_are_told)
{
	char *global = th_path("%s/.gitconfig", home), *url = (char *)"unset";
	cr_assert_eq(settings_git_url("demo", &url), 0, "%s", sw_error_last());
	cr_assert_null(url, "unset unless the operator sets it");
	static const struct {
		const char *fmt, *url;
	} ok[] = { { "git@deploy.example.com:%s.git", "git@deploy.example.com:demo.git" },
		   { "ssh://git@deploy.example.com:2222/%s", "ssh://git@deploy.example.com:2222/demo" },
		   { "%s", "demo" } };
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		set_config(global, "slipway.gitUrl", ok[i].fmt);
		cr_assert_eq(settings_git_url("demo", &url), 0, "%s: %s", ok[i].fmt, sw_error_last());
		cr_assert_str_eq(url, ok[i].url);
		free(url);
	}
	static const char *const bad[] = { "git@host:app.git", "git@host:%s/%s.git", "%d",
					   "git@host:%s.git%", "host:%%s", "100%:%s" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		set_config(global, "slipway.gitUrl", bad[i]);
		url = (char *)"unset";
		cr_assert_eq(settings_git_url("demo", &url), SW_EINVALID, "'%s' was accepted", bad[i]);
		cr_assert_null(url);
		char *want = th_path("git config slipway.gitUrl: invalid URL '%s': write it with one "
				     "%%s for the app name, for example git@deploy.example.com:%%s.git",
				     bad[i]);
		cr_assert_str_eq(sw_error_last(), want);
		free(want);
	}
	free(global);
}

/* settings_list of slipway.onRelease, joined with '|' ("" when unset). */
static char *on_release(const char *app)
{
	struct settings *s = NULL;
	struct strvec v = STRVEC_INIT;
	struct buf b = BUF_INIT;
	cr_assert_eq(settings_open(&s, sandbox, app), 0, "%s", sw_error_last());
	cr_assert_eq(settings_list(s, &SETTING_ON_RELEASE, &v), 0, "%s", sw_error_last());
	settings_free(s);
	for (size_t i = 0; i < v.n; i++)
		buf_addf(&b, "%s%s", i ? "|" : "", v.v[i]);
	strvec_clear(&v);
	return buf_detach(&b);
}

Test(settings, a_list_keeps_every_value_in_order_and_the_app_replaces_the_global_one)
{
	char *v = on_release("demo");
	cr_assert_str_eq(v, "", "unset: no words");
	free(v);

	char *global = th_path("%s/.gitconfig", home);
	add_config(global, "slipway.onRelease", "/usr/local/bin/global-hook");
	add_config(global, "slipway.onRelease", "--all");
	v = on_release("demo");
	cr_assert_str_eq(v, "/usr/local/bin/global-hook|--all");
	free(v);
	v = on_release(NULL);
	cr_assert_str_eq(v, "/usr/local/bin/global-hook|--all", "server-wide: the global one");
	free(v);

	char *local = th_path("%s/config", repo);
	add_config(local, "slipway.onRelease", "/opt/app hook");
	add_config(local, "slipway.onRelease", "two words");
	add_config(local, "slipway.onRelease", "");
	v = on_release("demo");
	cr_assert_str_eq(v, "/opt/app hook|two words|", "the app's values, whole, none of the global ones");
	free(v);
	v = on_release(NULL);
	cr_assert_str_eq(v, "/usr/local/bin/global-hook|--all");
	free(v);
	free(local);
	free(global);
}

/* What settings_trace() wrote to f since it was made: its lines, counted. */
static int trace_lines(FILE *f)
{
	int n = 0, c;
	fflush(f);
	rewind(f);
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	return n;
}

Test(settings, one_snapshot_per_app_until_its_config_changes)
{
	FILE *trace = tmpfile();
	cr_assert(trace);
	settings_trace(trace);
	struct settings *a = NULL, *b = NULL, *g = NULL;
	cr_assert_eq(settings_open(&a, sandbox, "demo"), 0, "%s", sw_error_last());
	cr_assert_eq(settings_open_repo(&b, repo), 0, "%s", sw_error_last());
	settings_free(b);
	cr_assert_eq(settings_open(&g, sandbox, NULL), 0);
	settings_free(g);
	cr_assert_eq(settings_open(&g, sandbox, NULL), 0);
	settings_free(g);
	cr_assert_eq(trace_lines(trace), 2, "the app's config and the server's, once each");

	char *local = th_path("%s/config", repo);
	set_config(local, "slipway.keepBuilds", "7");
	uint64_t n = 0;
	cr_assert_eq(settings_open(&b, sandbox, "demo"), 0);
	cr_assert_eq(settings_count(b, &SETTING_KEEP_BUILDS, &n), 0);
	cr_assert_eq(n, 7, "a changed config is read again");
	settings_free(b);
	cr_assert_eq(trace_lines(trace), 3);
	cr_assert_eq(settings_count(a, &SETTING_KEEP_BUILDS, &n), 0);
	cr_assert_eq(n, 100, "an open snapshot stays what it was");
	settings_free(a);

	char *global = th_path("%s/.gitconfig", home);
	set_config(global, "slipway.keepBuilds", "9");
	cr_assert_eq(settings_open(&g, sandbox, NULL), 0);
	cr_assert_eq(settings_count(g, &SETTING_KEEP_BUILDS, &n), 0);
	cr_assert_eq(n, 9, "so is a changed global config");
	settings_free(g);
	cr_assert_eq(trace_lines(trace), 4);
	settings_trace(NULL);
	fclose(trace);
	free(global);
	free(local);
}

Test(settings, every_row_is_whole_and_its_default_is_valid)
{
	struct settings *s = NULL;
	cr_assert_eq(settings_open(&s, sandbox, "demo"), 0);
	for (size_t i = 0; i < SETTINGS_COUNT; i++) {
		const struct setting *d = &settings_table[i];
		cr_assert(d->key && !strncmp(d->key, "slipway.", 8), "row %zu has no key", i);
		cr_assert(d->help && *d->help, "%s has no help", d->key);
		cr_assert(!d->env || !strncmp(d->env, "SLIPWAY_", 8), "%s", d->key);
		cr_assert(!(d->def && d->def_doc), "%s: a default or words for it, not both", d->key);
		cr_assert(d->type != SETTING_TYPE_ENUM || d->values, "%s has no values", d->key);
		cr_assert_eq(settings_find(d->key), d, "%s is in the table twice", d->key);
		int t;
		uint64_t u;
		if (d->type == SETTING_TYPE_DURATION)
			cr_assert_eq(settings_seconds(s, d, &t), 0, "%s: %s", d->key, sw_error_last());
		if (d->type == SETTING_TYPE_SIZE)
			cr_assert_eq(settings_size(s, d, &u), 0, "%s: %s", d->key, sw_error_last());
		if (d->type == SETTING_TYPE_COUNT)
			cr_assert_eq(settings_count(s, d, &u), 0, "%s: %s", d->key, sw_error_last());
		if (d->type == SETTING_TYPE_BOOL)
			cr_assert_eq(settings_bool(s, d, &t), 0, "%s: %s", d->key, sw_error_last());
		if (d->type == SETTING_TYPE_ENUM)
			cr_assert_eq(settings_enum(s, d, &t), 0, "%s: %s", d->key, sw_error_last());
	}
	cr_assert_null(settings_find("slipway.nonsense"));
	cr_assert_eq(SETTING_MAX_INSTANCES.max, SERVICES_MAX, "ps:scale's limit is the row's");
	settings_free(s);
}

Test(settings, bounds_and_zero_come_from_the_row)
{
	struct settings *s = NULL;
	uint64_t n = 0;
	int t = 5;
	cr_assert_eq(settings_open(&s, sandbox, "demo"), 0);
	setenv("SLIPWAY_ROUTER_CONNECTIONS", "16", 1);
	cr_assert_eq(settings_count(s, &SETTING_ROUTER_CONNECTIONS, &n), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "$SLIPWAY_ROUTER_CONNECTIONS: invalid value '16': use a "
			 "number of connections from 32 to 1000000");
	setenv("SLIPWAY_MAX_INSTANCES", "1001", 1);
	cr_assert_eq(settings_count(s, &SETTING_MAX_INSTANCES, &n), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "$SLIPWAY_MAX_INSTANCES: invalid value '1001': use 1 to 1000");
	setenv("SLIPWAY_MAX_INSTANCES", "1000", 1);
	cr_assert_eq(settings_count(s, &SETTING_MAX_INSTANCES, &n), 0);
	cr_assert_eq(n, 1000);

	/* 0 is "none" only where the row says so */
	setenv("SLIPWAY_MAX_BUILD_OUTPUT", "0", 1);
	cr_assert_eq(settings_size(s, &SETTING_MAX_BUILD_OUTPUT, &n), 0, "%s", sw_error_last());
	cr_assert_eq(n, 0, "0 keeps all of a build's output");
	setenv("SLIPWAY_WATCH", "0", 1);
	cr_assert_eq(settings_seconds(s, &SETTING_WATCH, &t), 0, "%s", sw_error_last());
	cr_assert_eq(t, 0);
	setenv("SLIPWAY_MAX_SLUG_SIZE", "0", 1);
	cr_assert_eq(settings_size(s, &SETTING_MAX_SLUG_SIZE, &n), SW_EINVALID);

	/* an enum's words */
	cr_assert_eq(settings_enum(s, &SETTING_SANDBOX, &t), 0);
	cr_assert_eq(t, 0, "bwrap, the default, is the first word");
	setenv("SLIPWAY_SANDBOX", "none", 1);
	cr_assert_eq(settings_enum(s, &SETTING_SANDBOX, &t), 0);
	cr_assert_eq(t, 1);
	setenv("SLIPWAY_SANDBOX", "off", 1);
	cr_assert_eq(settings_enum(s, &SETTING_SANDBOX, &t), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "$SLIPWAY_SANDBOX: invalid sandbox 'off': use bwrap or none");
	setenv("SLIPWAY_SANDBOX", "", 1);
	settings_free(s);
}

Test(settings, a_server_wide_setting_skips_the_app_repository)
{
	char *local = th_path("%s/config", repo), *global = th_path("%s/.gitconfig", home);
	set_config(local, "slipway.domain", "app.example.com");
	struct settings *s = NULL;
	char *v = NULL;
	enum setting_origin from;
	cr_assert_eq(settings_open(&s, sandbox, "demo"), 0);
	cr_assert_eq(settings_string(s, &SETTING_DOMAIN, &v), 0);
	cr_assert_str_eq(v, "localhost", "the app's repository does not decide it");
	free(v);
	settings_free(s);

	set_config(global, "slipway.domain", "example.com");
	cr_assert_eq(settings_open(&s, sandbox, "demo"), 0);
	cr_assert_eq(settings_effective(s, &SETTING_DOMAIN, &v, &from), 0);
	cr_assert_str_eq(v, "example.com");
	cr_assert_eq(from, SETTING_FROM_GLOBAL);
	free(v);
	settings_free(s);
	free(local);
	free(global);
}
