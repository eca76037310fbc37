/* run: a one-off process of the app's current release (Heroku's `heroku run`). */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"

#include "runtime/host.h"
#include "store/formation.h"
#include "store/ledger.h"
#include "util/error.h"
#include "util/say.h"

#include <stdio.h>

struct run_args {
	int stop_timeout;
	const char *size;
};

const struct opt run_opts[] = {
	OPT_STRING('s', "size", struct run_args, size, "SIZE", "a size",
		   "its memory: standard-1x 512M, standard-2x 1G, performance-m 2.5G,\n"
		   "performance-l 14G (default: the app's, slipway.memory)"),
	CLI_OPT_STOP_TIMEOUT(struct run_args),
	OPT_END_OF(struct run_args),
};

int cmd_run(struct cli *c)
{
	const struct run_args *a = c->options;
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	const struct formation_size *size = NULL;
	int v = 0, status = -1, rc;

	if (a->size && formation_size_parse(a->size, &size) < 0)
		return cli_usage(c->cmd, "%s", sw_error_last());
	if ((rc = cli_open_app(c, &l)))
		return rc;
	if (ledger_current(l, &v) < 0) {
		rc = cli_fail();
		goto done;
	}
	if (!v) {
		say(stderr, SAY_ERROR, "%s has no release to run yet: push first", c->app);
		rc = 1;
		goto done;
	}
	if (ledger_read(l, v, LEDGER_READ_CONFIG, &r) < 0) {
		rc = cli_fail();
		goto done;
	}
	ledger_free(l);
	l = NULL;
	struct oneoff_opts o = { .root = c->root, .app = c->app, .release = &r,
				 .words = (const char *const *)c->args, .n = (size_t)c->nargs,
				 .stop_timeout_sec = a->stop_timeout, .size = size };
	fflush(stdout);
	rc = host_run(&o, &status) < 0 ? cli_fail() : status;
done:
	release_release(&r);
	ledger_free(l);
	return rc;
}
