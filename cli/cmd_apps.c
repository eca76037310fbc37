/* apps, apps:create, apps:info, apps:destroy: arguments and printing. */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"
#include "view/view.h"

#include "runtime/host.h"
#include "runtime/logs.h"
#include "runtime/router.h"
#include "runtime/services.h"
#include "exec/unpack.h"
#include "release/watcher.h"

#include "access/access.h"
#include "store/acme.h"
#include "store/addons.h"
#include "store/app.h"
#include "store/certs.h"
#include "store/hsts.h"
#include "store/domains.h"
#include "store/ledger.h"
#include "store/maintenance.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/say.h"
#include "util/units.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct apps_args {
	int json;
};

const struct opt apps_opts[] = { CLI_OPT_JSON(struct apps_args), OPT_END_OF(struct apps_args) };

int cmd_apps(struct cli *c)
{
	const struct apps_args *a = c->options;
	struct strvec names = STRVEC_INIT;
	if (app_list(c->root, &names) < 0)
		return cli_fail();
	for (size_t i = 0; c->shell_user && i < names.n; i++) {
		if (access_allowed(c->root, names.v[i], c->shell_user) != 1) {
			free(names.v[i]); /* a remote user sees only their apps */
			memmove(&names.v[i], &names.v[i + 1], (names.n - i) * sizeof(*names.v));
			names.n--;
			i--;
		}
	}
	if (a->json) {
		struct buf out = BUF_INIT;
		view_names_json(&out, &names);
		cli_put(&out);
	} else if (!names.n) {
		printf("You have no apps.\n");
	} else {
		printf("=== Apps\n");
		for (size_t i = 0; i < names.n; i++)
			printf("%s\n", names.v[i]);
	}
	strvec_clear(&names);
	return 0;
}

struct apps_create_args {
	const char *branch;
	int accept, reject; /* --accept-failed-builds, --reject-failed-builds */
};

const struct opt apps_create_opts[] = {
	OPT_FLAG(0, "accept-failed-builds", struct apps_create_args, accept,
		 "build after the push is accepted: a failed build\n"
		 "leaves the branch pushed (by default it rejects the push)"),
	OPT_FLAG(0, "reject-failed-builds", struct apps_create_args, reject,
		 "a failed build rejects the push (the default)"),
	OPT_STRING(0, "branch", struct apps_create_args, branch, "BRANCH", "a branch name",
		   "the only branch that deploys (default: main and master)"),
	OPT_END_OF(struct apps_create_args),
};

int cmd_apps_create(struct cli *c)
{
	const struct apps_create_args *a = c->options;
	const char *name = c->args[0];
	char *url = NULL;
	struct app_create_opts o = APP_CREATE_OPTS_INIT;
	o.hook_exe = c->self;
	o.branch = a->branch;
	if (a->accept && a->reject)
		return cli_usage(c->cmd, "--accept-failed-builds and --reject-failed-builds cannot be used together");
	o.accept_failed_builds = a->accept;
	if (c->shell_user) {
		/* a remote creator gets access, if the operator lets them create apps */
		int max;
		/* the URL first: a bad slipway.gitUrl creates nothing */
		if (settings_ssh_apps_create(c->shell_user, &max) < 0 || !(url = cli_git_url(c, name)) ||
		    access_create_app(c->root, name, &o, c->shell_user, max) < 0) {
			free(url);
			return cli_fail();
		}
	} else if (app_create(c->root, name, &o) < 0) {
		return cli_fail();
	}
	if (!url)
		url = cli_git_url(c, name); /* the operator's: the repository's path */
	printf("Creating %s... done\n", name);
	printf("Git repository: %s\n", url);
	printf("Add it as a remote with: git remote add heroku %s\n", url);
	free(url);
	return 0;
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
	    (v && services_wanted_all(c->root, c->app, &r, &want) < 0) ||
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

struct apps_destroy_args {
	const char *confirm;
	const char *addons;
};

const struct opt apps_destroy_opts[] = {
	OPT_STRING(0, "confirm", struct apps_destroy_args, confirm, "APP", "the app name",
		   "the app's name again, to confirm"),
	OPT_STRING(0, "addons", struct apps_destroy_args, addons, "destroy", "'destroy'",
		   "destroy the add-ons the app owns too, each after its final backup"),
	OPT_END_OF(struct apps_destroy_args),
};

/* The names of the add-ons app owns into owned. */
static int owned_addons(const char *root, const char *app, struct strvec *owned)
{
	struct strvec names = STRVEC_INIT;
	int err = addons_list(root, &names);
	for (size_t i = 0; !err && i < names.n; i++) {
		struct addon a;
		if (addon_read(root, names.v[i], &a) == 0 && !strcmp(a.app, app))
			strvec_push(owned, a.name);
	}
	strvec_clear(&names);
	return err;
}

/* The refusal naming the add-ons app owns, which must go first (or with it). */
static int owns_addons(const char *app, const struct strvec *owned)
{
	struct buf list = BUF_INIT;
	for (size_t i = 0; i < owned->n; i++)
		buf_addf(&list, "%s%s", i ? ", " : "", owned->v[i]);
	say(stderr, SAY_ERROR, "%s owns the add-on%s %s: destroy its add-ons first: "
			       "slipway addons:destroy %s --confirm %s",
	    app, owned->n > 1 ? "s" : "", list.data, owned->v[0], app);
	say(stderr, SAY_ERROR, "or destroy them with the app: slipway apps:destroy %s --confirm %s "
			       "--addons destroy", app, app);
	buf_release(&list);
	return 1;
}

int cmd_apps_destroy(struct cli *c)
{
	const struct apps_destroy_args *a = c->options;
	const char *name = c->args[0];
	if (a->addons && strcmp(a->addons, "destroy"))
		return cli_usage(c->cmd, "--addons takes 'destroy', not '%s'", a->addons);
	if (app_check_exists(c->root, name) < 0)
		return cli_fail();
	if (!a->confirm || strcmp(a->confirm, name)) {
		say(stderr, SAY_ERROR, "This will permanently destroy %s, its releases and its config.",
		    name);
		say(stderr, SAY_ERROR, "To proceed, run: slipway apps:destroy %s --confirm %s", name,
		    name);
		return 1;
	}
	struct strvec owned = STRVEC_INIT;
	int rc = owned_addons(c->root, name, &owned) < 0 ? cli_fail() : 0;
	if (!rc && owned.n)
		rc = a->addons ? addons_destroy_owned(c, &owned) : owns_addons(name, &owned);
	strvec_clear(&owned);
	if (rc)
		return rc;
	/* its processes stop first: nothing may run an app that is gone */
	certs_remove(c->root, name); /* none is fine: a new app of the name must not get it */
	hsts_write(c->root, name, &(struct hsts)HSTS_INIT); /* nor its HSTS */
	acme_disable(c->root, name);
	router_forget(c->root, name);
	watch_stop(c->root, name);
	if (services_runtime_up(c->root))
		host_retire(c->root, name, NULL, NULL);
	else
		services_forget(c->root, name);
	if (app_destroy(c->root, name) < 0 || unpack_clear(c->root, name, NULL) < 0 ||
	    logs_remove(c->root, name) < 0)
		return cli_fail();
	printf("Destroying %s... done\n", name);
	return 0;
}
