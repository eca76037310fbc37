/* maintenance, maintenance:on, maintenance:off, open: the router's side of an app. */
#define _GNU_SOURCE
#include "hooks/cmds.h"

#include "runtime/logs.h"
#include "runtime/router.h"
#include "store/app.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/lock.h"

#include <stdio.h>
#include <stdlib.h>

int cmd_maintenance(struct cli *c)
{
	if (app_check_exists(c->root, c->app) < 0)
		return cli_fail();
	printf("%s\n", router_maintenance(c->root, c->app) ? "on" : "off");
	return 0;
}

/* maintenance:on and :off, under the app's lock: never in the middle of a switch. */
static int set_maintenance(struct cli *c, int on)
{
	struct lock lk = LOCK_INIT;
	char *lockpath = NULL;
	int wait = 600, rc = 0;

	if (app_check_exists(c->root, c->app) < 0 || settings_lock_wait(&wait) < 0)
		return cli_fail();
	printf("%s maintenance mode for %s... ", on ? "Enabling" : "Disabling", c->app);
	fflush(stdout);
	lockpath = app_lock_path(c->root, c->app);
	if (lock_acquire(&lk, lockpath, wait, NULL, NULL) < 0 ||
	    router_set_maintenance(c->root, c->app, on) < 0 ||
	    router_switch(c->root, c->app, NULL, NULL) < 0) {
		printf("failed\n");
		rc = cli_fail();
	} else {
		printf("done\n");
		logs_event(c->root, c->app, "api", "Maintenance mode %s by %s", on ? "on" : "off",
			   c->user);
	}
	lock_release(&lk);
	free(lockpath);
	return rc;
}

int cmd_maintenance_on(struct cli *c)
{
	return set_maintenance(c, 1);
}

int cmd_maintenance_off(struct cli *c)
{
	return set_maintenance(c, 0);
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
