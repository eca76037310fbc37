/* maintenance, open, domains, apps:info: the router's side of an app. */
#define _GNU_SOURCE
#include "cli/cmds.h"

#include "release/activate.h"
#include "runtime/logs.h"
#include "runtime/router.h"
#include "runtime/services.h"
#include "store/app.h"
#include "store/domains.h"
#include "store/ledger.h"
#include "store/maintenance.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/lock.h"
#include "util/units.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cmd_maintenance(struct cli *c)
{
	if (app_check_exists(c->root, c->app) < 0)
		return cli_fail();
	printf("%s\n", maintenance_on(c->root, c->app) ? "on" : "off");
	return 0;
}

/* A switch whose writer was killed is undone first (runtime/activate.h): 0 or the exit code. */
static int recover(struct cli *c)
{
	struct ledger *l = NULL;
	int rc = cli_open_app(c, &l);
	if (!rc && activate_recover(c->root, c->app, l, stderr) < 0)
		rc = cli_fail();
	ledger_free(l);
	return rc;
}

/* Runs fn(c, arg) under the app's lock: never in the middle of a switch. */
static int under_lock(struct cli *c, int (*fn)(struct cli *c, int arg), int arg)
{
	struct lock lk = LOCK_INIT;
	char *lockpath = NULL;
	int wait = 600, rc;

	if (app_check_exists(c->root, c->app) < 0 || settings_lock_wait(&wait) < 0)
		return cli_fail();
	lockpath = app_lock_path(c->root, c->app);
	if (lock_acquire(&lk, lockpath, wait, NULL, NULL) < 0)
		rc = cli_fail();
	else if (!(rc = recover(c)))
		rc = fn(c, arg);
	lock_release(&lk);
	free(lockpath);
	return rc;
}

static int set_maintenance(struct cli *c, int on)
{
	printf("%s maintenance mode for %s... ", on ? "Enabling" : "Disabling", c->app);
	fflush(stdout);
	if (maintenance_set(c->root, c->app, on) < 0 ||
	    router_switch(c->root, c->app, NULL, NULL) < 0) {
		printf("failed\n");
		return cli_fail();
	}
	printf("done\n");
	logs_event(c->root, c->app, "api", "Maintenance mode %s by %s", on ? "on" : "off", c->user);
	return 0;
}

int cmd_maintenance_on(struct cli *c)
{
	return under_lock(c, set_maintenance, 1);
}

int cmd_maintenance_off(struct cli *c)
{
	return under_lock(c, set_maintenance, 0);
}

int cmd_open(struct cli *c)
{
	if (app_check_exists(c->root, c->app) < 0)
		return cli_fail();
	char *url = router_url(c->root, c->app);
	if (!url)
		return cli_fail();
	printf("%s\n", url);
	free(url);
	return 0;
}

int cmd_domains(struct cli *c)
{
	struct strvec list = STRVEC_INIT;
	struct router_listen l;
	if (app_check_exists(c->root, c->app) < 0 || router_listen_read(c->root, &l) < 0 ||
	    domains_list(c->root, c->app, &list) < 0)
		return cli_fail();
	if (c->json) {
		printf("[{\"hostname\":\"%s.%s\",\"kind\":\"default\"}", c->app, l.domain);
		for (size_t i = 0; i < list.n; i++)
			printf(",{\"hostname\":\"%s\",\"kind\":\"custom\"}", list.v[i]);
		printf("]\n");
	} else {
		printf("=== %s Slipway Domain\n%s.%s\n", c->app, c->app, l.domain);
		if (list.n) {
			printf("\n=== %s Custom Domains\n", c->app);
			for (size_t i = 0; i < list.n; i++)
				printf("%s\n", list.v[i]);
		}
	}
	strvec_clear(&list);
	return 0;
}

/* domains:add and :remove (under the app's lock), then the router. */
static int change_domain(struct cli *c, int add)
{
	struct router_listen l;
	const char *name = c->args[0];

	if (router_listen_read(c->root, &l) < 0 ||
	    (add ? domains_add(c->root, c->app, name, l.domain)
		 : domains_remove(c->root, c->app, name)) < 0)
		return cli_fail();
	printf("%s %s %s %s... ", add ? "Adding" : "Removing", name, add ? "to" : "from", c->app);
	fflush(stdout);
	if (router_switch(c->root, c->app, NULL, NULL) < 0) {
		printf("failed\n");
		/* what the router refused is not kept */
		if (add)
			domains_remove(c->root, c->app, name);
		return cli_fail();
	}
	printf("done\n");
	return 0;
}

int cmd_domains_add(struct cli *c)
{
	return under_lock(c, change_domain, 1);
}

int cmd_domains_remove(struct cli *c)
{
	return under_lock(c, change_domain, 0);
}

/* Bytes of the regular files under dir (symlinks not followed). */
static uint64_t tree_size(const char *dir)
{
	uint64_t total = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *p = xasprintf("%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0)
			total += S_ISDIR(st.st_mode) ? tree_size(p) : S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
		free(p);
	}
	if (d)
		closedir(d);
	return total;
}

int cmd_apps_info(struct cli *c)
{
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	struct strvec domains = STRVEC_INIT, want = STRVEC_INIT;
	struct settings *s = NULL;
	char *stack = NULL, *url = NULL, *repo = NULL, *git_url = NULL;
	int v = 0, rc = cli_open_app(c, &l);
	if (rc)
		return rc;
	if (ledger_current(l, &v) < 0 || (v && ledger_read(l, v, LEDGER_READ_PROCS, &r) < 0) ||
	    domains_list(c->root, c->app, &domains) < 0 || settings_open(&s, c->root, c->app) < 0 ||
	    settings_string(s, &SETTING_STACK, &stack) < 0 || !(url = router_url(c->root, c->app)) ||
	    (v && services_wanted(c->root, c->app, &r, &want) < 0) ||
	    !(git_url = cli_git_url(c, c->app))) {
		rc = cli_fail();
		goto done;
	}
	/* the formation: how many of each type run */
	struct buf dynos = BUF_INIT;
	for (size_t i = 0; i < want.n; i++) {
		const char *dot = strrchr(want.v[i], '.');
		size_t tl = (size_t)(dot - want.v[i]);
		int n = 0;
		for (size_t k = i; k < want.n && !strncmp(want.v[k], want.v[i], tl + 1); k++)
			n++;
		buf_addf(&dynos, "%s%.*s: %d", dynos.len ? ", " : "", (int)tl, want.v[i], n);
		i += (size_t)n - 1;
	}
	repo = app_repo_path(c->root, c->app);
	char slug[32] = "-", size[32];
	if (v && r.slug[0])
		units_format_size(r.slug_size, slug, sizeof(slug));
	units_format_size(tree_size(repo), size, sizeof(size));
	printf("=== %s\n", c->app);
	printf("Git URL:     %s\n", git_url);
	printf("Web URL:     %s\n", url);
	printf("Dynos:       %s\n", dynos.len ? dynos.data : "none");
	printf("Stack:       %s\n", stack ? stack : "-");
	printf("Slug Size:   %s\n", slug);
	printf("Repo Size:   %s\n", size);
	printf("Domains:     ");
	{
		struct router_listen rl;
		if (router_listen_read(c->root, &rl) == 0)
			printf("%s.%s", c->app, rl.domain);
	}
	for (size_t i = 0; i < domains.n; i++)
		printf(", %s", domains.v[i]);
	printf("\nMaintenance: %s\n", maintenance_on(c->root, c->app) ? "on" : "off");
	if (v)
		printf("Release:     v%d\n", v);
	buf_release(&dynos);
done:
	settings_free(s);
	release_release(&r);
	ledger_free(l);
	strvec_clear(&domains);
	strvec_clear(&want);
	free(stack);
	free(url);
	free(repo);
	free(git_url);
	return rc;
}
