/* apps, apps:create, apps:destroy: arguments and printing. */
#define _GNU_SOURCE
#include "cli/cmds.h"

#include "runtime/host.h"
#include "runtime/logs.h"
#include "runtime/router.h"
#include "runtime/services.h"
#include "exec/unpack.h"
#include "release/watcher.h"

#include "access/access.h"
#include "store/app.h"
#include "store/settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_apps(struct cli *c)
{
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
	if (c->json) {
		printf("[");
		for (size_t i = 0; i < names.n; i++)
			printf("%s\"%s\"", i ? "," : "", names.v[i]);
		printf("]\n");
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

int cmd_apps_create(struct cli *c)
{
	const char *name = c->args[0];
	char *url = NULL;
	struct app_create_opts o = APP_CREATE_OPTS_INIT;
	o.hook_exe = c->self;
	o.branch = c->branch;
	if (c->accept && c->reject)
		return cli_usage(c->cmd, "--accept-failed-builds and --reject-failed-builds cannot be used together");
	o.accept_failed_builds = c->accept;
	if (c->shell_user) {
		/* a remote creator gets access, if the operator lets them create apps */
		int max;
		/* the URL first: a bad slipway.gitUrl creates nothing */
		if (settings_ssh_apps_create(&max) < 0 || !(url = cli_git_url(c, name)) ||
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

int cmd_apps_destroy(struct cli *c)
{
	const char *name = c->args[0];
	if (app_check_exists(c->root, name) < 0)
		return cli_fail();
	if (!c->confirm || strcmp(c->confirm, name)) {
		fprintf(stderr, " !    This will permanently destroy %s, its releases and its config.\n"
				" !    To proceed, run: slipway apps:destroy %s --confirm %s\n",
			name, name, name);
		return 1;
	}
	/* its processes stop first: nothing may run an app that is gone */
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
