/* run: a one-off process of the app's current release (Heroku's `heroku run`). */
#define _GNU_SOURCE
#include "cli/cmds.h"

#include "runtime/host.h"
#include "store/ledger.h"
#include "util/error.h"

#include <stdio.h>

int cmd_run(struct cli *c)
{
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	int v = 0, status = -1;
	int rc = cli_open_app(c, &l);

	if (rc)
		return rc;
	if (ledger_current(l, &v) < 0) {
		rc = cli_fail();
		goto done;
	}
	if (!v) {
		fprintf(stderr, " !    %s has no release to run yet: push first\n", c->app);
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
				 .stop_timeout_sec = c->stop_timeout };
	fflush(stdout);
	rc = host_run(&o, &status) < 0 ? cli_fail() : status;
done:
	release_release(&r);
	ledger_free(l);
	return rc;
}
