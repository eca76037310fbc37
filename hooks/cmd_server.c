/* server:start, server:stop, server:status, server:run: the operator's runtime. */
#define _GNU_SOURCE
#include "hooks/cmds.h"

#include "runtime/supervisor.h"
#include "store/paths.h"

#include <stdio.h>
#include <stdlib.h>

int cmd_server_start(struct cli *c)
{
	struct supervisor_status st;
	if (supervisor_start(c->root, &st) < 0)
		return cli_fail();
	if (st.already)
		printf("The runtime of %s is already running: s6-svscan (pid %d)\n", c->root,
		       (int)st.pid);
	else
		printf("Starting the runtime of %s... done, s6-svscan (pid %d)\n", c->root,
		       (int)st.pid);
	return 0;
}

int cmd_server_status(struct cli *c)
{
	struct supervisor_status st;
	char *scandir = paths_services_dir(c->root);
	supervisor_status(c->root, &st);
	if (c->json) {
		printf("{\"running\":%s,\"pid\":%d,\"services\":%d}\n", st.running ? "true" : "false",
		       (int)st.pid, st.services);
	} else {
		printf("=== Runtime of %s\n", c->root);
		if (st.running)
			printf("Supervisor: running, s6-svscan (pid %d)\n", (int)st.pid);
		else
			printf("Supervisor: not running (start it with: slipway server:start)\n");
		printf("Services:   %d\n", st.services);
		printf("Scan dir:   %s\n", scandir);
	}
	free(scandir);
	return 0;
}

int cmd_server_stop(struct cli *c)
{
	struct supervisor_status st;
	supervisor_status(c->root, &st);
	if (!st.running) {
		printf("The runtime of %s is not running\n", c->root);
		return 0;
	}
	printf("Stopping the runtime of %s... ", c->root);
	fflush(stdout);
	if (supervisor_stop(c->root, 60) < 0) {
		printf("failed\n");
		return cli_fail();
	}
	printf("done\n");
	return 0;
}

int cmd_server_run(struct cli *c)
{
	fflush(stdout);
	supervisor_exec(c->root); /* returns only on failure */
	return cli_fail();
}
