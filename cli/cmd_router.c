/* maintenance, open, domains: the router's side of an app. */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"
#include "view/runtime.h"

#include "release/activate.h"
#include "runtime/logs.h"
#include "runtime/router.h"
#include "store/app.h"
#include "store/apphosts.h"
#include "store/domains.h"
#include "store/ledger.h"
#include "store/maintenance.h"
#include "store/settings.h"
#include "util/error.h"
#include "store/appctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_maintenance(struct cli *c)
{
	if (app_check_exists(c->root, c->app) < 0)
		return cli_fail();
	printf("%s\n", maintenance_on(c->root, c->app) ? "on" : "off");
	return 0;
}

/*
 * Runs fn(c, arg) under the app's lock: never in the middle of a switch,
 * and a switch whose writer was killed is undone first (release/activate.h).
 */
static int under_lock(struct cli *c, int (*fn)(struct cli *c, int arg), int arg)
{
	struct app_ctx ctx = APP_CTX_INIT;
	int rc;

	if (app_ctx_open(&ctx, c->root, c->app, APP_CTX_WRITE) < 0 ||
	    activate_recover(&ctx, stderr) < 0)
		rc = cli_fail();
	else
		rc = fn(c, arg);
	app_ctx_release(&ctx);
	return rc;
}

static int set_maintenance(struct cli *c, int on)
{
	printf("%s maintenance mode for %s... ", on ? "Enabling" : "Disabling", c->app);
	fflush(stdout);
	if (router_maintenance(c->root, c->app, on, maintenance_on(c->root, c->app)) < 0) {
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

struct domains_args {
	int json;
};

const struct opt domains_opts[] = {
	CLI_OPT_JSON(struct domains_args),
	OPT_END_OF(struct domains_args),
};

int cmd_domains(struct cli *c)
{
	const struct domains_args *a = c->options;
	struct strvec list = STRVEC_INIT;
	struct router_listen l;
	if (app_check_exists(c->root, c->app) < 0 || router_listen_read(c->root, &l) < 0 ||
	    domains_list(c->root, c->app, &list) < 0)
		return cli_fail();
	if (a->json) {
		struct buf out = BUF_INIT;
		view_domains_json(&out, c->app, l.domain, &list);
		cli_put(&out);
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

int cmd_apps_hosts(struct cli *c)
{
	struct strvec v = STRVEC_INIT;
	int all = 0;
	if (app_check_exists(c->root, c->app) < 0 || apphosts_list(c->root, c->app, &v, &all) < 0)
		return cli_fail();
	printf("=== %s Hosts%s\n", c->app, all ? " (all)" : "");
	for (size_t i = 0; i < v.n; i++)
		printf("%s\n", v.v[i]);
	strvec_clear(&v);
	return 0;
}

/* apps:hosts:set (under the app's lock), then the router; put back when it refuses. */
static int set_hosts(struct cli *c, int arg)
{
	struct strvec was = STRVEC_INIT;
	struct buf spec = BUF_INIT;
	int all = 0, rc = 0;
	(void)arg;
	if (apphosts_list(c->root, c->app, &was, &all) < 0)
		return cli_fail();
	for (size_t i = 0; i < was.n; i++)
		buf_addf(&spec, "%s%s", i ? "," : "", was.v[i]);
	if (apphosts_set(c->root, c->app, c->args[0]) < 0) {
		rc = cli_fail();
		goto done;
	}
	printf("Setting the hosts of %s to %s... ", c->app, c->args[0]);
	fflush(stdout);
	if (router_switch(c->root, c->app, NULL, NULL) < 0) {
		printf("failed\n");
		rc = cli_fail();
		apphosts_set(c->root, c->app, all || !spec.len ? "all" : spec.data);
		goto done;
	}
	printf("done\n");
	/* the front sends them nothing now: the hosts left out stop the app's instances */
	cli_withdraw_strays(c);
done:
	buf_release(&spec);
	strvec_clear(&was);
	return rc;
}

int cmd_apps_hosts_set(struct cli *c)
{
	return under_lock(c, set_hosts, 0);
}
