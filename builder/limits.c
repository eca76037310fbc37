#define _GNU_SOURCE
#include "builder/limits.h"

#include "store/app.h"
#include "util/error.h"
#include "util/gitutil.h"
#include "util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TIMEOUT (7 * 24 * 3600)

/* Digits then an optional one-letter suffix from `suffixes` (case-insensitive). */
static int parse_num(const char *s, const char *suffixes, uint64_t *num, char *suffix)
{
	char *end;
	if (!s || !*s || !strchr("0123456789", *s))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	*suffix = 0;
	if (*end) {
		char c = (char)(*end | 0x20);
		if (end[1] || !strchr(suffixes, c))
			return -1;
		*suffix = c;
	}
	*num = v;
	return 0;
}

int limits_parse_seconds(const char *s, int *out)
{
	uint64_t v;
	char suffix;
	if (parse_num(s, "smh", &v, &suffix) == 0) {
		uint64_t mul = suffix == 'm' ? 60 : suffix == 'h' ? 3600 : 1;
		if (v >= 1 && v <= MAX_TIMEOUT / mul) {
			*out = (int)(v * mul);
			return 0;
		}
	}
	return sw_error_set(SW_EINVALID, "invalid timeout '%s': use seconds, or a number with s, m or h (1s to 7 days)",
			    s ? s : "");
}

int limits_parse_size(const char *s, uint64_t *out)
{
	uint64_t v;
	char suffix;
	if (parse_num(s, "kmg", &v, &suffix) == 0) {
		int shift = suffix == 'k' ? 10 : suffix == 'm' ? 20 : suffix == 'g' ? 30 : 0;
		if (v >= 1 && v <= (UINT64_MAX >> 34)) {
			*out = v << shift;
			return 0;
		}
	}
	return sw_error_set(SW_EINVALID, "invalid size '%s': use bytes, or a number with K, M or G",
			    s ? s : "");
}

void limits_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64 "B", bytes);
		return;
	}
	int u = 0;
	uint64_t div = 1024;
	while (u < 3 && bytes / div >= 1024) {
		div *= 1024;
		u++;
	}
	if (bytes % div == 0)
		snprintf(buf, len, "%" PRIu64 "%c", bytes / div, units[u]);
	else
		snprintf(buf, len, "%.1f%c", (double)bytes / (double)div, units[u]);
}

/* The value from env var `env`, else git config `key` (*out NULL if neither; malloc'ed). */
static int lookup(git_config *cfg, const char *env, const char *key, char **out, int *from_env)
{
	const char *v = getenv(env);
	*out = NULL;
	*from_env = v && *v;
	if (*from_env) {
		*out = xstrdup(v);
		return 0;
	}
	git_buf b = GIT_BUF_INIT;
	int rc = git_config_get_string_buf(&b, cfg, key);
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return sw_git_error(SW_ERROR, "cannot read repository config");
	*out = xstrdup(b.ptr);
	git_buf_dispose(&b);
	return 0;
}

/* Prefixes the last error with where the value came from. */
static int where(int err, int from_env, const char *env, const char *key)
{
	char *why = xstrdup(sw_error_last());
	if (from_env)
		sw_error_set(err, "$%s: %s", env, why);
	else
		sw_error_set(err, "git config %s: %s", key, why);
	free(why);
	return err;
}

int limits_load(const char *root, const char *app, struct build_limits *out)
{
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	char *path = app_repo_path(root, app), *v = NULL;
	int err, from_env;

	*out = (struct build_limits)BUILD_LIMITS_INIT;
	if ((err = sw_git_open(&repo, path)))
		goto done;
	if (git_repository_config_snapshot(&cfg, repo) < 0) {
		err = sw_git_error(SW_ERROR, "cannot read repository config");
		goto done;
	}
	if ((err = lookup(cfg, "SLIPWAY_COMPILE_TIMEOUT", "slipway.compileTimeout", &v, &from_env)))
		goto done;
	if (v && (err = limits_parse_seconds(v, &out->compile_timeout_sec))) {
		err = where(err, from_env, "SLIPWAY_COMPILE_TIMEOUT", "slipway.compileTimeout");
		goto done;
	}
	free(v);
	if ((err = lookup(cfg, "SLIPWAY_MAX_SLUG_SIZE", "slipway.maxSlugSize", &v, &from_env)))
		goto done;
	if (v && (err = limits_parse_size(v, &out->max_slug_size))) {
		err = where(err, from_env, "SLIPWAY_MAX_SLUG_SIZE", "slipway.maxSlugSize");
		goto done;
	}
	free(v);
	v = NULL;
	if ((err = lookup(cfg, "SLIPWAY_BUILD_DIR", "slipway.buildDir", &out->build_dir,
			  &from_env)))
		goto done;
	if (out->build_dir && out->build_dir[0] != '/') {
		err = where(sw_error_set(SW_EINVALID, "'%s' is not an absolute path", out->build_dir),
			    from_env, "SLIPWAY_BUILD_DIR", "slipway.buildDir");
		limits_release(out); /* never a relative directory, even for gc */
		goto done;
	}
	if ((err = lookup(cfg, "SLIPWAY_TMPFS", "slipway.tmpfs", &out->tmpfs, &from_env)))
		goto done;
	if (out->tmpfs && out->tmpfs[0] != '/' && strcmp(out->tmpfs, "none")) {
		err = where(sw_error_set(SW_EINVALID, "'%s' is neither an absolute path nor 'none'",
					 out->tmpfs),
			    from_env, "SLIPWAY_TMPFS", "slipway.tmpfs");
		limits_release(out);
	}
done:
	free(v);
	git_config_free(cfg);
	git_repository_free(repo);
	free(path);
	return err;
}

void limits_release(struct build_limits *l)
{
	free(l->build_dir);
	free(l->tmpfs);
	l->build_dir = l->tmpfs = NULL;
}
