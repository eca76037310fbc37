#define _GNU_SOURCE
#include "runtime/addon_fsck.h"

#include "runtime/addon.h"
#include "runtime/supervisor.h"
#include "store/addons.h"
#include "store/app.h"
#include "store/attach.h"
#include "store/ledger.h"
#include "store/paths.h"
#include "store/settings.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The attachments of app's latest and current releases: "NAME APP vN ALIAS" lines. */
static int app_attachments(const char *root, const char *app, struct strvec *out)
{
	struct ledger *l = NULL;
	char *repo = app_repo_path(root, app);
	int latest = 0, current = 0, err = ledger_open(&l, repo);
	if (!err && !(err = ledger_latest(l, &latest)))
		err = ledger_current(l, &current);
	int versions[2] = { latest, current };
	for (size_t i = 0; !err && i < 2; i++) {
		struct release r = RELEASE_INIT;
		if (!versions[i] || (i && versions[i] == latest))
			continue;
		if (!(err = ledger_read(l, versions[i], LEDGER_READ_CONFIG, &r)))
			for (size_t k = 0; k < r.addons.n; k++)
				strvec_pushf(out, "%s %s v%d %s", r.addons.v[k].addon, app,
					     versions[i], r.addons.v[k].alias);
		release_release(&r);
	}
	ledger_free(l);
	free(repo);
	return err;
}

/* 1 if the attachment line at ("NAME APP vN ALIAS") names the add-on name. */
static int names(const char *at, const char *name)
{
	size_t n = strlen(name);
	return !strncmp(at, name, n) && at[n] == ' ';
}

/* The files of the add-on a. */
static void check_files(const char *root, const struct addon *a, struct strvec *problems)
{
	char *data = paths_addon_file(root, a->name, "data");
	char *creds = paths_addon_file(root, a->name, "credentials");
	struct addon_credentials c;
	struct stat st;
	if (stat(data, &st) < 0 || !S_ISDIR(st.st_mode))
		strvec_pushf(problems, "add-on %s: its data directory %s is missing", a->name, data);
	if (stat(creds, &st) < 0 || addon_credentials_read(root, a->name, &c) < 0)
		strvec_pushf(problems, "add-on %s: its credentials %s cannot be read", a->name, creds);
	else if ((st.st_mode & 07777) != 0600)
		strvec_pushf(problems, "add-on %s: its credentials %s are mode %04o, not 0600 "
			     "(chmod 600 them)", a->name, creds, (unsigned)(st.st_mode & 07777));
	memset(&c, 0, sizeof(c));
	free(creds);
	free(data);
}

/* a's service, server and owner. */
static void check_runtime(const char *root, const struct addon *a, struct strvec *problems)
{
	char *service = addon_service_name(a->name);
	if (!supervisor_service_exists(root, service))
		strvec_pushf(problems, "add-on %s: it has no service %s (server:start adds it)",
			     a->name, service);
	if (addon_check(root, a) == SW_EINVALID)
		strvec_pushf(problems, "add-on %s: %s", a->name, sw_error_last());
	if (a->app[0] && app_check_exists(root, a->app) < 0)
		strvec_pushf(problems, "add-on %s: its owning app %s does not exist (destroy it: "
			     "slipway addons:destroy %s --confirm %s)", a->name, a->app, a->name,
			     a->app);
	free(service);
}

/* a's port: in the range, no other add-on's (all[0..n): every add-on). */
static void check_port(const struct addon *a, const struct addon *all, size_t n, int first,
		       int last, struct strvec *problems)
{
	if (a->port < first || a->port > last)
		strvec_pushf(problems, "add-on %s: its port %d is outside slipway.addonPortRange "
			     "%d-%d", a->name, a->port, first, last);
	for (size_t i = 0; i < n; i++)
		if (&all[i] != a && all[i].port == a->port && strcmp(all[i].name, a->name) < 0)
			strvec_pushf(problems, "add-on %s: its port %d is also add-on %s's",
				     a->name, a->port, all[i].name);
}

/* Every add-on's record into *v (n of them). */
static int read_all(const char *root, struct addon **v, size_t *n)
{
	struct strvec names = STRVEC_INIT;
	int err = addons_list(root, &names);
	*v = xcalloc(names.n + 1, sizeof(**v));
	*n = 0;
	for (size_t i = 0; !err && i < names.n; i++) {
		int e = addon_read(root, names.v[i], &(*v)[*n]);
		if (!e)
			(*n)++;
		else if (e != SW_ENOTFOUND) /* destroyed since it was listed: fine */
			err = e;
	}
	strvec_clear(&names);
	return err;
}

static int port_range(const char *root, int *first, int *last)
{
	struct settings *s = NULL;
	int err = settings_open(&s, root, NULL);
	if (!err)
		err = settings_port_range(s, &SETTING_ADDON_PORT_RANGE, first, last);
	settings_free(s);
	return err;
}

int addon_fsck(const char *root, const char *app, struct strvec *problems)
{
	struct strvec apps = STRVEC_INIT, at = STRVEC_INIT;
	struct addon *v = NULL;
	size_t n = 0;
	int first = 0, last = 0;
	int err = 0;
	if (app)
		strvec_push(&apps, app);
	else
		err = app_list(root, &apps);
	if (!err)
		err = read_all(root, &v, &n);
	if (!err)
		err = port_range(root, &first, &last);
	for (size_t i = 0; !err && i < apps.n; i++)
		err = app_attachments(root, apps.v[i], &at);
	for (size_t i = 0; !err && i < n; i++) {
		int mine = !app || !strcmp(v[i].app, app);
		for (size_t k = 0; !mine && k < at.n; k++)
			mine = names(at.v[k], v[i].name);
		if (!mine)
			continue;
		check_files(root, &v[i], problems);
		check_runtime(root, &v[i], problems);
		check_port(&v[i], v, n, first, last, problems);
	}
	/* what the apps' processes get: add-ons that exist */
	for (size_t k = 0; !err && k < at.n; k++) {
		char name[ADDON_NAME_MAX + 1], who[64], version[16], alias[64];
		struct addon a = ADDON_INIT;
		if (sscanf(at.v[k], "%63s %63s %15s %63s", name, who, version, alias) != 4)
			continue;
		if (addon_read(root, name, &a) == SW_ENOTFOUND)
			strvec_pushf(problems, "%s: %s attaches add-on %s as %s, which does not exist "
				     "(detach it: slipway addons:detach %s -a %s)", who, version, name,
				     alias, alias, who);
	}
	free(v);
	strvec_clear(&at);
	strvec_clear(&apps);
	return err;
}
