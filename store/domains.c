#include "store/domains.h"

#include "store/app.h"
#include "store/appctx.h"
#include "store/listfile.h"
#include "store/paths.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/lock.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

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

/* 1 keeps a line of the list: a host name (anything else is left out). */
static int domain_line(const char *line, size_t kept)
{
	(void)kept;
	return domain_name_valid(line);
}

/* Changed under the app's lock, which the caller holds (domains.h). */
static const struct listfile domains_file = {
	.path = paths_domains_file,
	.max = DOMAINS_MAX,
	.check = domain_line,
};

int domains_list(const char *root, const char *app, struct strvec *out)
{
	return listfile_read(&domains_file, root, app, out);
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
		if (!strcmp(def, name) ||
		    (domains_list(root, apps.v[i], &d) == 0 && strvec_has(&d, name)))
			found = xstrdup(apps.v[i]);
		free(def);
		strvec_clear(&d);
	}
	strvec_clear(&apps);
	return found;
}

int domains_add(const char *root, const char *app, const char *name, const char *default_domain)
{
	char *lower = xstrdup(name), *lockpath = paths_domains_lock(root);
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
	if (strvec_has(&list, lower)) {
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
	err = listfile_write(&domains_file, root, app, &list);
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
		err = listfile_write(&domains_file, root, app, &kept);
	strvec_clear(&list);
	strvec_clear(&kept);
	return err;
}

int domains_dashboard_host(char **out)
{
	struct settings *s = NULL;
	char *host = NULL, *domain = NULL;
	int err = settings_open(&s, NULL, NULL);
	*out = NULL;
	if (!err)
		err = settings_string(s, &SETTING_DASHBOARD_HOST, &host);
	if (!err && !host && !(err = settings_string(s, &SETTING_DOMAIN, &domain)))
		host = xasprintf("dashboard.%s", domain);
	if (!err && !domain_name_valid(host))
		err = settings_blame(s, domain ? &SETTING_DOMAIN : &SETTING_DASHBOARD_HOST,
				     sw_error_set(SW_EINVALID, "invalid value '%s': use a host name "
						  "such as %s", domain ? domain : host,
						  domain ? "example.com" : "dashboard.example.com"));
	if (!err)
		*out = host;
	else
		free(host);
	free(domain);
	settings_free(s);
	return err;
}
