#define _GNU_SOURCE
#include "builder/submodule.h"

#include "access/access.h"
#include "store/app.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* s[0..n) with a surrounding pair of double quotes removed. */
static char *unquote(const char *s, size_t n)
{
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
		return xstrndup(s + 1, n - 2);
	return xstrndup(s, n);
}

/* Splits "key = value" into its trimmed parts; 0 if the line has no '='. */
static int key_value(const char *s, size_t n, char **key, char **value)
{
	const char *eq = memchr(s, '=', n);
	if (!eq)
		return 0;
	size_t k = (size_t)(eq - s), v = n - k - 1;
	const char *val = eq + 1;
	while (k && isspace((unsigned char)s[k - 1]))
		k--;
	while (v && isspace((unsigned char)*val)) {
		val++;
		v--;
	}
	*key = xstrndup(s, k);
	*value = unquote(val, v);
	return 1;
}

int submodule_url(const char *text, size_t len, const char *path, char **url)
{
	struct text_lines it = TEXT_LINES_INIT(text, len);
	char *cur_path = NULL, *cur_url = NULL;
	int in_submodule = 0, found = 0;
	const char *s;
	size_t n;

	*url = NULL;
	/* one more round after the last line, to finish the last section */
	for (int more = 1; more;) {
		more = text_lines_next(&it, &s, &n);
		if (!more || (n && s[0] == '[')) {
			if (in_submodule && cur_path && !strcmp(cur_path, path) && cur_url) {
				found = 1;
				break;
			}
			free(cur_path);
			free(cur_url);
			cur_path = cur_url = NULL;
			in_submodule = more && n > 10 && !strncasecmp(s, "[submodule", 10) &&
				       (isspace((unsigned char)s[10]) || s[10] == '"');
			continue;
		}
		char *key, *value;
		if (!in_submodule || s[0] == ';' || !key_value(s, n, &key, &value))
			continue;
		char **slot = !strcasecmp(key, "path") ? &cur_path : !strcasecmp(key, "url") ? &cur_url : NULL;
		if (slot) {
			free(*slot);
			*slot = value;
		} else {
			free(value);
		}
		free(key);
	}
	free(cur_path);
	if (!found) {
		free(cur_url);
		return sw_error_set(SW_ENOTFOUND, "Submodule '%s' has no url in .gitmodules", path);
	}
	*url = cur_url;
	return 0;
}

/* Appends rel to base as git does: each leading "../" takes a component off base. */
static char *join_relative(const char *base, const char *rel)
{
	size_t end = strlen(base);
	while (end > 1 && base[end - 1] == '/')
		end--;
	for (;;) {
		if (!strncmp(rel, "./", 2)) {
			rel += 2;
		} else if (!strncmp(rel, "../", 3)) {
			rel += 3;
			while (end > 0 && base[end - 1] != '/')
				end--;
			while (end > 1 && base[end - 1] == '/')
				end--;
		} else {
			break;
		}
	}
	return xasprintf("%.*s/%s", (int)end, base, rel);
}

/* The app whose repository is real (a resolved path) under root, malloc'ed; NULL if none. */
static char *app_of(const char *root, const char *real)
{
	char *apps = paths_apps_dir(root), *rapps = realpath(apps, NULL), *app = NULL;
	size_t n = rapps ? strlen(rapps) : 0;
	if (rapps && !strncmp(real, rapps, n) && real[n] == '/' && !strchr(real + n + 1, '/')) {
		size_t len = strlen(real + n + 1);
		if (len > 4 && !strcmp(real + n + 1 + len - 4, ".git")) {
			app = xstrndup(real + n + 1, len - 4);
			if (app_name_check(app)) {
				free(app);
				app = NULL;
			}
		}
	}
	free(rapps);
	free(apps);
	return app;
}

int submodule_allowed(const char *root, const char *user, const char *path, const char *url,
		      const char *repo)
{
	if (!user)
		return 0;
	char *real = realpath(repo, NULL);
	char *app = real ? app_of(root, real) : NULL;
	int err = 0;
	if (!app)
		err = sw_error_set(SW_EINVALID, "Submodule '%s' (%s) cannot be fetched: a push over "
				   "ssh reaches only apps on this server you have access to", path, url);
	else if (access_check(root, app, user))
		err = sw_error_set(SW_EINVALID, "Submodule '%s' (%s) cannot be fetched: you do not "
				   "have access to the app %s", path, url, app);
	free(app);
	free(real);
	return err;
}

int submodule_resolve(const char *base, const char *path, const char *url, char **repo)
{
	*repo = NULL;
	if (!strncmp(url, "./", 2) || !strncmp(url, "../", 3))
		*repo = join_relative(base, url);
	else if (url[0] == '/')
		*repo = xstrdup(url);
	else if (!strncmp(url, "file://", 7) && url[7] == '/')
		*repo = xstrdup(url + 7);
	else
		return sw_error_set(SW_EINVALID,
			"Submodule '%s' (%s) cannot be fetched: only paths, file:// URLs and apps "
			"on this server (a relative URL such as ../otherapp.git) are reachable",
			path, url);
	return 0;
}
