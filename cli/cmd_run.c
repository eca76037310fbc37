/* run: a one-off process of the app's current release (Heroku's `heroku run`). */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"

#include "runtime/host.h"
#include "store/ledger.h"
#include "util/error.h"
#include "util/say.h"

#include <stdio.h>
#include <unistd.h>

struct run_args {
	int stop_timeout;
	int no_tty;
	int exit_code;
};

const struct opt run_opts[] = {
	CLI_OPT_STOP_TIMEOUT(struct run_args),
	OPT_FLAG(0, "no-tty", struct run_args, no_tty,
		 "no terminal for the command, even when stdin is one"),
	OPT_FLAG('x', "exit-code", struct run_args, exit_code,
		 "exit with the command's exit status (always so; kept for scripts)"),
	OPT_END_OF(struct run_args),
};

int cmd_run_tty(const struct cli *c)
{
	const struct run_args *a = c->options;
	return !a->no_tty && isatty(0);
}

int cmd_run(struct cli *c)
{
	const struct run_args *a = c->options;
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
				 .stop_timeout_sec = a->stop_timeout, .tty = cmd_run_tty(c) };
	fflush(stdout);
	rc = host_run(&o, &status) < 0 ? cli_fail() : status;
done:
	release_release(&r);
	ledger_free(l);
	return rc;
}
