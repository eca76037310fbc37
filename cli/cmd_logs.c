/* logs: the app's log stream (runtime/logs.h), in Heroku's line format. */
#define _GNU_SOURCE
#include "cli/cmds.h"

#include "runtime/host.h"
#include "runtime/logs.h"
#include "store/app.h"
#include "util/error.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The reader went away: stdout is a pipe or socket whose other end closed. */
static int reader_gone(void *arg)
{
	(void)arg;
	struct pollfd p = { .fd = STDOUT_FILENO, .events = 0 };
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP | POLLNVAL));
}

int cmd_logs(struct cli *c)
{
	struct logs_filter f = { .ps = c->ps, .source = c->source, .raw = c->all };
	if (c->source && strcmp(c->source, "app") && strcmp(c->source, "slipway"))
		return cli_usage(c->cmd, "invalid source '%s': use app or slipway", c->source);
	if (c->ps && !ps_name_valid(c->ps) && strcmp(c->ps, "api") && strcmp(c->ps, "router"))
		return cli_usage(c->cmd, "invalid process '%s': use a type or TYPE.N, for example web or web.1",
				 c->ps);
	if (c->num > LOGS_MAX_LINES)
		return cli_usage(c->cmd, "invalid number of lines %d: use 1 to %d", c->num,
				 LOGS_MAX_LINES);
	if (app_check_exists(c->root, c->app) < 0)
		return cli_fail();
	size_t n = c->num ? (size_t)c->num : LOGS_DEFAULT_LINES;
	if (host_logs(c->root, c->app, &f, n, c->tail, stdout, reader_gone, NULL) < 0)
		return reader_gone(NULL) ? 0 : cli_fail();
	return 0;
}
