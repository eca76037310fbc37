#define _GNU_SOURCE
#include "store/settings.h"

#include "store/paths.h"
#include "util/error.h"
#include "util/gitutil.h"
#include "util/units.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct setting SETTING_COMPILE_TIMEOUT = { "slipway.compileTimeout", "SLIPWAY_COMPILE_TIMEOUT", "15m" };
const struct setting SETTING_MAX_SLUG_SIZE = { "slipway.maxSlugSize", "SLIPWAY_MAX_SLUG_SIZE", "500M" };
const struct setting SETTING_BUILD_DIR = { "slipway.buildDir", "SLIPWAY_BUILD_DIR", NULL };
const struct setting SETTING_TMPFS = { "slipway.tmpfs", "SLIPWAY_TMPFS", NULL };
const struct setting SETTING_STACK = { "slipway.stack", "SLIPWAY_STACK", "heroku-22" };
const struct setting SETTING_RELEASE_TIMEOUT = { "slipway.releaseTimeout", "SLIPWAY_RELEASE_TIMEOUT", "1h" };
const struct setting SETTING_BRANCH = { "slipway.branch", NULL, NULL };
const struct setting SETTING_REJECT_FAILED_BUILDS = { "slipway.rejectFailedBuilds", NULL, "true" };
const struct setting SETTING_LOCK_TIMEOUT = { "slipway.lockTimeout", "SLIPWAY_LOCK_TIMEOUT", "600" };
const struct setting SETTING_BUILDPACKS_DIR = { "slipway.buildpacksDir", "SLIPWAY_BUILDPACKS_DIR", NULL };
const struct setting SETTING_SANDBOX = { "slipway.sandbox", "SLIPWAY_SANDBOX", "bwrap" };
const struct setting SETTING_CLIENT_TIMEOUT = { "slipway.clientTimeout", "SLIPWAY_CLIENT_TIMEOUT", "60" };
const struct setting SETTING_BOOT_TIMEOUT = { "slipway.bootTimeout", "SLIPWAY_BOOT_TIMEOUT", "60" };
const struct setting SETTING_STOP_TIMEOUT = { "slipway.stopTimeout", "SLIPWAY_STOP_TIMEOUT", "30" };
const struct setting SETTING_HTTP_PORT = { "slipway.httpPort", "SLIPWAY_HTTP_PORT", NULL };
const struct setting SETTING_HTTP_ADDRESS = { "slipway.httpAddress", "SLIPWAY_HTTP_ADDRESS", NULL };
const struct setting SETTING_DOMAIN = { "slipway.domain", "SLIPWAY_DOMAIN", "localhost" };
const struct setting SETTING_MAINTENANCE_PAGE = { "slipway.maintenancePage", "SLIPWAY_MAINTENANCE_PAGE", NULL };
const struct setting SETTING_NGINX = { "slipway.nginx", "SLIPWAY_NGINX", "nginx" };
const struct setting SETTING_ROUTER = { "slipway.router", "SLIPWAY_ROUTER", "own" };
const struct setting SETTING_ROUTER_RELOAD = { "slipway.routerReload", NULL, NULL };
const struct setting SETTING_ROUTER_CONNECTIONS = { "slipway.routerConnections", "SLIPWAY_ROUTER_CONNECTIONS", "8192" };
const struct setting SETTING_ROUTER_CLIENT_CONNECTIONS = { "slipway.routerClientConnections", "SLIPWAY_ROUTER_CLIENT_CONNECTIONS", "256" };
const struct setting SETTING_MAX_REQUEST_SIZE = { "slipway.maxRequestSize", "SLIPWAY_MAX_REQUEST_SIZE", "100M" };
const struct setting SETTING_KEEP_BUILDS = { "slipway.keepBuilds", "SLIPWAY_KEEP_BUILDS", "100" };
const struct setting SETTING_WATCH = { "slipway.watch", "SLIPWAY_WATCH", "60" };
const struct setting SETTING_PORT_RANGE = { "slipway.portRange", "SLIPWAY_PORT_RANGE", "20000-29999" };
const struct setting SETTING_MAX_INSTANCES = { "slipway.maxInstances", "SLIPWAY_MAX_INSTANCES", "20" };
const struct setting SETTING_BWRAP = { "slipway.bwrap", "SLIPWAY_BWRAP", NULL };
const struct setting SETTING_BUILD_NETWORK = { "slipway.buildNetwork", "SLIPWAY_BUILD_NETWORK", "shared" };
const struct setting SETTING_MAX_SLUG_UNPACKED_SIZE = { "slipway.maxSlugUnpackedSize", "SLIPWAY_MAX_SLUG_UNPACKED_SIZE", "2G" };
const struct setting SETTING_MAX_SLUG_FILES = { "slipway.maxSlugFiles", "SLIPWAY_MAX_SLUG_FILES", "1000000" };
const struct setting SETTING_MAX_BUILD_OUTPUT = { "slipway.maxBuildOutput", "SLIPWAY_MAX_BUILD_OUTPUT", "4M" };
const struct setting SETTING_FAILED_RELEASE_EXIT = { "slipway.failedReleaseExit", "SLIPWAY_FAILED_RELEASE_EXIT", "false" };
const struct setting SETTING_TIMINGS = { "slipway.timings", "SLIPWAY_TIMINGS", "false" };
const struct setting SETTING_AUTHORIZED_KEYS = { "slipway.authorizedKeys", "SLIPWAY_AUTHORIZED_KEYS", NULL };
/* an argv, one word per value (settings_list): no environment variable */
const struct setting SETTING_ON_RELEASE = { "slipway.onRelease", NULL, NULL };
/* no environment variable: a client's environment must never decide it */
const struct setting SETTING_SSH_APPS_CREATE = { "slipway.sshAppsCreate", NULL, "denied" };
/* server-wide, and only in git config: what remote users are told to push to */
const struct setting SETTING_GIT_URL = { "slipway.gitUrl", NULL, NULL };

struct settings {
	git_config *cfg;   /* a snapshot: the repository's with the global one, or the global one */
};

enum source { FROM_DEFAULT, FROM_ENV, FROM_GIT };

static int snapshot_of(git_config *live, struct settings **out)
{
	struct settings *s = xcalloc(1, sizeof(*s));
	if (git_config_snapshot(&s->cfg, live) < 0) {
		free(s);
		return sw_git_error(SW_ERROR, "cannot read git config");
	}
	*out = s;
	return 0;
}

int settings_open_repo(struct settings **out, const char *git_dir)
{
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	int err;

	*out = NULL;
	if ((err = sw_git_open(&repo, git_dir)))
		return err;
	if (git_repository_config(&cfg, repo) < 0)
		err = sw_git_error(SW_ERROR, "cannot read repository config");
	else
		err = snapshot_of(cfg, out);
	git_config_free(cfg);
	git_repository_free(repo);
	return err;
}

int settings_open(struct settings **out, const char *root, const char *app)
{
	*out = NULL;
	if (app) {
		char *path = app_repo_path(root, app);
		int err = settings_open_repo(out, path);
		free(path);
		return err;
	}
	git_config *cfg = NULL;
	sw_git_init();
	if (git_config_open_default(&cfg) < 0)
		return sw_git_error(SW_ERROR, "cannot read git config");
	int err = snapshot_of(cfg, out);
	git_config_free(cfg);
	return err;
}

void settings_free(struct settings *s)
{
	if (!s)
		return;
	git_config_free(s->cfg);
	free(s);
}

/* The raw value and where it came from; *out NULL when set nowhere. */
static int lookup(struct settings *s, const struct setting *def, char **out, enum source *from)
{
	const char *v = def->env ? getenv(def->env) : NULL;
	*out = NULL;
	*from = FROM_DEFAULT;
	if (v && *v) {
		*from = FROM_ENV;
		*out = xstrdup(v);
		return 0;
	}
	git_buf b = GIT_BUF_INIT;
	int rc = git_config_get_string_buf(&b, s->cfg, def->key);
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return sw_git_error(SW_ERROR, "cannot read git config");
	*from = FROM_GIT;
	*out = xstrdup(b.ptr);
	git_buf_dispose(&b);
	return 0;
}

static int blame(const struct setting *def, enum source from, int err)
{
	if (from == FROM_ENV)
		return sw_error_prefix(err, "$%s: ", def->env);
	if (from == FROM_GIT)
		return sw_error_prefix(err, "git config %s: ", def->key);
	return err;
}

int settings_blame(struct settings *s, const struct setting *def, int err)
{
	struct sw_error_state why;
	enum source from;
	char *v = NULL;
	sw_error_save(&why, err);
	int rc = lookup(s, def, &v, &from);
	free(v);
	if (rc)
		return rc;
	sw_error_restore(&why);
	return blame(def, from, err);
}

int settings_string(struct settings *s, const struct setting *def, char **out)
{
	enum source from;
	int err = lookup(s, def, out, &from);
	if (!err && !*out && def->def)
		*out = xstrdup(def->def);
	return err;
}

int settings_list(struct settings *s, const struct setting *def, struct strvec *out)
{
	git_config_iterator *it = NULL;
	git_config_entry *e;
	struct strvec values = STRVEC_INIT;
	int *levels = NULL, top = 0, rc;

	strvec_clear(out);
	if (git_config_multivar_iterator_new(&it, s->cfg, def->key, NULL) < 0)
		return sw_git_error(SW_ERROR, "cannot read git config");
	while ((rc = git_config_next(&e, it)) == 0) {
		levels = xrealloc(levels, (values.n + 1) * sizeof(*levels));
		levels[values.n] = (int)e->level;
		strvec_push(&values, e->value ? e->value : "");
		if (values.n == 1 || levels[values.n - 1] > top)
			top = levels[values.n - 1];
	}
	git_config_iterator_free(it);
	int err = rc == GIT_ITEROVER ? 0 : sw_git_error(SW_ERROR, "cannot read git config");
	/* the most specific config that has any value has all of them */
	for (size_t i = 0; !err && i < values.n; i++)
		if (levels[i] == top)
			strvec_push(out, values.v[i]);
	strvec_clear(&values);
	free(levels);
	return err;
}

int settings_seconds(struct settings *s, const struct setting *def, int *out)
{
	enum source from;
	char *v = NULL;
	int err = lookup(s, def, &v, &from);
	if (!err && (v || def->def) && (err = units_parse_seconds(v ? v : def->def, out)))
		err = blame(def, from, err);
	free(v);
	return err;
}

int settings_size(struct settings *s, const struct setting *def, uint64_t *out)
{
	enum source from;
	char *v = NULL;
	int err = lookup(s, def, &v, &from);
	if (!err && (v || def->def) && (err = units_parse_size(v ? v : def->def, out)))
		err = blame(def, from, err);
	free(v);
	return err;
}

int settings_count(struct settings *s, const struct setting *def, uint64_t *out)
{
	enum source from;
	char *v = NULL, *end = NULL;
	int err = lookup(s, def, &v, &from);
	const char *t = v ? v : def->def;
	if (!err && t) {
		errno = 0;
		unsigned long long n = strtoull(t, &end, 10);
		if (!*t || *t < '0' || *t > '9' || *end || errno || n < 1 || n > 1000000000ULL)
			err = blame(def, from, sw_error_set(SW_EINVALID,
				"invalid number '%s': use a whole number from 1", t));
		else
			*out = n;
	}
	free(v);
	return err;
}

int settings_bool(struct settings *s, const struct setting *def, int *out)
{
	enum source from;
	char *v = NULL;
	int err = lookup(s, def, &v, &from);
	const char *t = v ? v : def->def;
	if (!err && t) {
		if (git_config_parse_bool(out, t) < 0)
			err = blame(def, from, sw_error_set(SW_EINVALID,
				"invalid boolean '%s': use true or false", t));
	}
	free(v);
	return err;
}

int settings_port_range(struct settings *s, const struct setting *def, int *first, int *last)
{
	char *v = NULL, *end = NULL;
	int err = settings_string(s, def, &v);
	if (err || !v) {
		free(v);
		return err ? err : sw_error_set(SW_EINVALID, "%s is not set", def->key);
	}
	long a = v[0] >= '0' && v[0] <= '9' ? strtol(v, &end, 10) : -1, b = -1;
	if (a >= 0 && *end == '-' && end[1] >= '0' && end[1] <= '9')
		b = strtol(end + 1, &end, 10);
	if (a < 1024 || b > 65535 || a > b || *end)
		err = settings_blame(s, def, sw_error_set(SW_EINVALID,
			"invalid value '%s': use a range of ports FIRST-LAST within 1024-65535, for example 20000-29999",
			v));
	else {
		*first = (int)a;
		*last = (int)b;
	}
	free(v);
	return err;
}

int settings_read_seconds(const char *root, const char *app, const struct setting *def,
			  int *seconds)
{
	struct settings *s = NULL;
	int err = settings_open(&s, root, app);
	if (!err)
		err = settings_seconds(s, def, seconds);
	settings_free(s);
	return err;
}

int settings_lock_wait(int *seconds)
{
	return settings_read_seconds(NULL, NULL, &SETTING_LOCK_TIMEOUT, seconds);
}

int settings_client_timeout(int *seconds)
{
	return settings_read_seconds(NULL, NULL, &SETTING_CLIENT_TIMEOUT, seconds);
}

int settings_ssh_apps_create(int *max)
{
	struct settings *s = NULL;
	char *v = NULL;
	int err = settings_open(&s, NULL, NULL);
	if (!err)
		err = settings_string(s, &SETTING_SSH_APPS_CREATE, &v);
	if (!err) {
		char *end = NULL;
		errno = 0;
		long n = v[0] >= '0' && v[0] <= '9' ? strtol(v, &end, 10) : -1;
		if (!strcmp(v, "allowed"))
			*max = -1;
		else if (!strcmp(v, "denied"))
			*max = 0;
		else if (n >= 0 && !*end && !errno && n <= SETTINGS_APPS_MAX)
			*max = (int)n;
		else
			err = settings_blame(s, &SETTING_SSH_APPS_CREATE, sw_error_set(SW_EINVALID,
				"invalid value '%s': use allowed, denied or how many apps each user may create (0 to %d)",
				v, SETTINGS_APPS_MAX));
	}
	free(v);
	settings_free(s);
	return err;
}

/* 1 if fmt has one %s and no other %. */
static int git_url_format_ok(const char *fmt)
{
	const char *p = strchr(fmt, '%');
	return p && p[1] == 's' && !strchr(p + 2, '%');
}

int settings_git_url(const char *app, char **out)
{
	struct settings *s = NULL;
	char *fmt = NULL;
	int err = settings_open(&s, NULL, NULL);

	*out = NULL;
	if (!err)
		err = settings_string(s, &SETTING_GIT_URL, &fmt);
	if (!err && fmt && !git_url_format_ok(fmt))
		err = settings_blame(s, &SETTING_GIT_URL, sw_error_set(SW_EINVALID,
			"invalid URL '%s': write it with one %%s for the app name, for example "
			"git@deploy.example.com:%%s.git", fmt));
	else if (!err && fmt) {
		const char *at = strchr(fmt, '%');
		*out = xasprintf("%.*s%s%s", (int)(at - fmt), fmt, app, at + 2);
	}
	free(fmt);
	settings_free(s);
	return err;
}
