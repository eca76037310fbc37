#include "store/domains.h"

#include "store/app.h"
#include "store/appctx.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/lock.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define DOMAINS_FILE "slipway-domains"
#define DOMAINS_MAX (1 << 20)

int domain_name_valid(const char *name)
{
	size_t n = strlen(name), label = 0;
	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		char c = name[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || name[i - 1] == '-' || name[i - label] == '-')
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
			label++;
		} else {
			return 0;
		}
	}
	return 1;
}

int domains_list(const char *root, const char *app, struct strvec *out)
{
	char *path = paths_repo_file(root, app, DOMAINS_FILE), *text = NULL;
	size_t len = 0;
	int err = fs_read_file(path, DOMAINS_MAX, &text, &len);
	free(path);
	if (err == SW_ENOTFOUND)
		return 0;
	if (err)
		return err;
	struct text_lines it = TEXT_LINES_INIT(text, len);
	const char *l;
	size_t n;
	while (text_lines_next(&it, &l, &n)) {
		char *d = xstrndup(l, n);
		if (domain_name_valid(d))
			strvec_push(out, d);
		free(d);
	}
	free(text);
	return 0;
}

static int write_list(const char *root, const char *app, const struct strvec *v)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < v->n; i++)
		buf_addf(&b, "%s\n", v->v[i]);
	char *path = paths_repo_file(root, app, DOMAINS_FILE);
	int err = fs_write_atomic(path, b.data, b.len, 0644);
	free(path);
	buf_release(&b);
	return err;
}

static int has(const struct strvec *v, const char *name)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], name))
			return 1;
	return 0;
}

/* The app of root that has name, or of whose default host it is (malloc'ed), or NULL. */
static char *owner(const char *root, const char *name, const char *default_domain)
{
	struct strvec apps = STRVEC_INIT;
	char *found = NULL;
	if (app_list(root, &apps) < 0)
		return NULL;
	for (size_t i = 0; i < apps.n && !found; i++) {
		struct strvec d = STRVEC_INIT;
		char *def = xasprintf("%s.%s", apps.v[i], default_domain);
		if (!strcmp(def, name) || (domains_list(root, apps.v[i], &d) == 0 && has(&d, name)))
			found = xstrdup(apps.v[i]);
		free(def);
		strvec_clear(&d);
	}
	strvec_clear(&apps);
	return found;
}

int domains_add(const char *root, const char *app, const char *name, const char *default_domain)
{
	char *lower = xstrdup(name), *lockpath = paths_app_file_lock(root, "all_apps", "domains");
	struct strvec list = STRVEC_INIT;
	struct lock lk = LOCK_INIT;
	int err = 0;

	for (char *p = lower; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!domain_name_valid(lower)) {
		err = sw_error_set(SW_EINVALID, "invalid domain '%s': use a host name such as "
				   "www.example.com (letters, digits, dashes and dots)", name);
		goto done;
	}
	/* one adder at a time across the apps: a name is never given twice */
	int wait;
	if ((err = app_lock_wait(&wait)) || (err = lock_acquire(&lk, lockpath, wait, NULL, NULL)) ||
	    (err = domains_list(root, app, &list)))
		goto done;
	if (has(&list, lower)) {
		err = sw_error_set(SW_EEXISTS, "%s already has the domain %s", app, lower);
		goto done;
	}
	char *other = owner(root, lower, default_domain);
	if (other) {
		err = sw_error_set(SW_EINVALID, "the domain %s is already used by %s%s", lower,
				   strcmp(other, app) ? "the app " : "", other);
		free(other);
		goto done;
	}
	strvec_push(&list, lower);
	err = write_list(root, app, &list);
done:
	lock_release(&lk);
	strvec_clear(&list);
	free(lockpath);
	free(lower);
	return err;
}

int domains_remove(const char *root, const char *app, const char *name)
{
	struct strvec list = STRVEC_INIT, kept = STRVEC_INIT;
	int err = domains_list(root, app, &list);
	for (size_t i = 0; !err && i < list.n; i++)
		if (strcmp(list.v[i], name))
			strvec_push(&kept, list.v[i]);
	if (!err && kept.n == list.n)
		err = sw_error_set(SW_ENOTFOUND, "%s has no domain %s", app, name);
	if (!err)
		err = write_list(root, app, &kept);
	strvec_clear(&list);
	strvec_clear(&kept);
	return err;
}
