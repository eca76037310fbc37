/* logs: the app's log stream (runtime/logs.h), in Heroku's line format. */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"

#include "runtime/host.h"
#include "runtime/hostview.h"
#include "runtime/logs.h"
#include "store/app.h"
#include "util/error.h"
#include "util/say.h"

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

struct logs_args {
	int num, tail, all;
	const char *ps, *source;
};

const struct opt logs_opts[] = {
	OPT_INT('n', "num", struct logs_args, num, "N", 1, 1000000, NULL,
		"how many lines to show (default 100, at most 1500)"),
	OPT_FLAG('t', "tail", struct logs_args, tail, "go on showing new lines as they come"),
	OPT_STRING('p', "ps", struct logs_args, ps, "TYPE[.N]", "a process",
		   "only this process type or instance (web, web.1)"),
	OPT_STRING('d', "dyno", struct logs_args, ps, "TYPE[.N]", "a process",
		   "same as --ps (Heroku's name)"),
	OPT_STRING('s', "source", struct logs_args, source, "SOURCE", "a source",
		   "only lines of this source: app or slipway"),
	OPT_FLAG(0, "all", struct logs_args, all,
		 "show the processes' control characters as they are (by\n"
		 "default they show as \\xHH)"),
	OPT_END_OF(struct logs_args),
};

int cmd_logs(struct cli *c)
{
	const struct logs_args *a = c->options;
	struct logs_filter f = { .ps = a->ps, .source = a->source, .raw = a->all };
	if (a->source && strcmp(a->source, "app") && strcmp(a->source, "slipway"))
		return cli_usage(c->cmd, "invalid source '%s': use app or slipway", a->source);
	if (a->ps && !ps_name_valid(a->ps) && strcmp(a->ps, "api") && strcmp(a->ps, "router"))
		return cli_usage(c->cmd, "invalid process '%s': use a type or TYPE.N, for example web or web.1",
				 a->ps);
	if (a->num > LOGS_MAX_LINES)
		return cli_usage(c->cmd, "invalid number of lines %d: use 1 to %d", a->num,
				 LOGS_MAX_LINES);
	if (app_check_exists(c->root, c->app) < 0)
		return cli_fail();
	size_t n = a->num ? (size_t)a->num : LOGS_DEFAULT_LINES;
	struct strvec hosts = STRVEC_INIT, failed = STRVEC_INIT;
	int runs = hostview_hosts(c->root, c->app, &hosts), rc = 0;
	if (runs < 0)
		rc = cli_fail();
	else if (runs && !a->tail) {
		/* every host's lines, merged by time; a host not asked makes them incomplete */
		if (hostview_logs(c->root, c->app, &hosts, &f, n, stdout, &failed) < 0)
			rc = reader_gone(NULL) ? 0 : cli_fail();
		for (size_t i = 0; i < failed.n; i++)
			say(stderr, SAY_ERROR, "%s", failed.v[i]);
		rc = rc ? rc : failed.n ? 1 : 0;
	} else {
		if (runs)
			say(stderr, SAY_WARN, "--tail follows this server's lines only, not those of "
			    "%s's run hosts: logs without --tail merges them", c->app);
		if (host_logs(c->root, c->app, &f, n, a->tail, stdout, reader_gone, NULL) < 0)
			rc = reader_gone(NULL) ? 0 : cli_fail();
	}
	strvec_clear(&hosts);
	strvec_clear(&failed);
	return rc;
}
