/*
 * pg:psql, redis:cli: a console on an app's add-on; pg:info, redis:info:
 * its server's figures.
 */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"
#include "view/dbinfo.h"

#include "runtime/addon.h"
#include "runtime/addon_client.h"
#include "runtime/host.h"
#include "store/addons.h"
#include "store/app.h"
#include "store/attach.h"
#include "store/ledger.h"
#include "util/error.h"
#include "util/say.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- which add-on ---- */

/* What a kind is called in messages. */
static const char *kind_title(const char *kind)
{
	return !strcmp(kind, "postgresql") ? "heroku-postgresql" : "heroku-redis";
}

/* ---- pg:psql, redis:cli ---- */

struct pg_psql_args {
	const char *command;
};

const struct opt pg_psql_opts[] = {
	OPT_STRING('c', "command", struct pg_psql_args, command, "COMMAND", "an SQL command",
		   "run this SQL command and exit"),
	OPT_END_OF(struct pg_psql_args),
};

int cmd_pg_psql_tty(const struct cli *c)
{
	const struct pg_psql_args *a = c->options;
	return isatty(0) && !a->command;
}

int cmd_redis_cli_tty(const struct cli *c)
{
	(void)c;
	return isatty(0);
}

/*
 * A remote user's console: the client as a one-off of the app's running
 * release, in its sandbox as `run` is, so that what the client does on
 * its own (psql's \!, \copy, \o to a file) reaches only that sandbox,
 * never the server user's files.  Its exit status.
 */
static int sandboxed(struct cli *c, const struct addon *a, const char *alias, int tty,
		     const char *command)
{
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	struct config vars = CONFIG_INIT;
	struct strvec words = STRVEC_INIT;
	int v = 0, status = -1, rc;
	if ((rc = cli_open_app(c, &l)))
		return rc;
	if (ledger_current(l, &v) < 0 || (v && ledger_read(l, v, LEDGER_READ_CONFIG, &r) < 0)) {
		rc = cli_fail();
		goto done;
	}
	if (!v || !r.slug[0] || !attach_find(&r.addons, alias)) {
		say(stderr, SAY_ERROR, "%s's console runs in the sandbox of %s's running release, "
				       "which %s: push first", a->name, c->app,
		    !v || !r.slug[0] ? "has no code yet" : "does not have it attached yet");
		rc = 1;
		goto done;
	}
	if (addon_client_sandboxed(c->root, a, alias, &words, &vars) < 0) {
		rc = cli_fail();
		goto done;
	}
	if (command) {
		strvec_push(&words, "--command");
		strvec_push(&words, command);
	}
	for (size_t i = 0; i < vars.n; i++)
		config_set(&r.config, vars.items[i].key, vars.items[i].value);
	ledger_free(l);
	l = NULL;
	struct oneoff_opts o = { .root = c->root, .app = c->app, .release = &r,
				 .words = (const char *const *)words.v, .n = words.n, .tty = tty };
	say(stderr, SAY_STEP, "Connecting to %s", a->name);
	fflush(stdout);
	fflush(stderr);
	rc = host_run(&o, &status) < 0 ? cli_fail() : status;
done:
	strvec_clear(&words);
	config_release(&vars);
	release_release(&r);
	ledger_free(l);
	return rc;
}

/*
 * Becomes the add-on's client, logged in as the app: its terminal is this
 * process's (over ssh, the one sshd made), else it reads stdin.  A remote
 * user's runs in the app's sandbox instead.
 */
static int console(struct cli *c, const char *kind, int tty, const char *command)
{
	struct addon_client cl = ADDON_CLIENT_INIT;
	struct addon a = ADDON_INIT;
	char *alias = NULL;
	int rc = 1;
	if (addon_resolve(c->root, c->app, kind, c->nargs ? c->args[0] : NULL, &a, &alias) < 0 ||
	    addon_check(c->root, &a) < 0) {
		rc = cli_fail();
		goto done;
	}
	if (c->shell_user) {
		rc = sandboxed(c, &a, alias, tty, command);
		goto done;
	}
	if (addon_client_prepare(c->root, &a, ADDON_CLIENT_APP, &cl) < 0) {
		rc = cli_fail();
		goto done;
	}
	if (command) {
		strvec_push(&cl.argv, "--command");
		strvec_push(&cl.argv, command);
	}
	/* no history of what was typed left in the server user's home */
	strvec_push(&cl.env, "PSQL_HISTORY=/dev/null");
	strvec_push(&cl.env, "REDISCLI_HISTFILE=/dev/null");
	say(stderr, SAY_STEP, "Connecting to %s", a.name);
	fflush(stdout);
	fflush(stderr);
	/* main.c ignores them for writers; the client is interactive */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	execvpe(cl.argv.v[0], cl.argv.v, cl.env.v);
	say(stderr, SAY_ERROR, "cannot run '%s': %s", cl.argv.v[0], strerror(errno));
done:
	free(alias);
	addon_client_release(&cl);
	return rc;
}

int cmd_pg_psql(struct cli *c)
{
	const struct pg_psql_args *a = c->options;
	return console(c, "postgresql", cmd_pg_psql_tty(c), a->command);
}

int cmd_redis_cli(struct cli *c)
{
	return console(c, "redis", cmd_redis_cli_tty(c), NULL);
}

/* ---- pg:info, redis:info ---- */

struct dbinfo_args {
	int json;
};

const struct opt dbinfo_opts[] = { CLI_OPT_JSON(struct dbinfo_args),
				   OPT_END_OF(struct dbinfo_args) };

/* d->a's server's figures, or why there are none. */
static void ask(const char *root, struct dbinfo *d)
{
	int err = !strcmp(d->a.kind, "postgresql") ? addon_pg_stats(root, &d->a, &d->pg)
						   : addon_redis_stats(root, &d->a, &d->redis);
	d->available = !err;
	if (err && addon_check(root, &d->a) == SW_EINVALID)
		snprintf(d->reason, sizeof(d->reason), "%s", sw_error_last());
	else if (err)
		snprintf(d->reason, sizeof(d->reason), "its server does not answer (see: slipway "
			 "addons:info %s)", d->a.name);
}

/* The add-ons of kind the release attaches (only name, when given), each with its vars. */
static void gather(const char *root, const struct release *r, const char *kind,
		   const char *name, struct dbinfo **v, size_t *n)
{
	*v = xcalloc(r->addons.n + 1, sizeof(**v));
	*n = 0;
	for (size_t i = 0; i < r->addons.n; i++) {
		const struct attachment *at = &r->addons.v[i];
		struct dbinfo *d = NULL;
		for (size_t k = 0; !d && k < *n; k++)
			d = !strcmp((*v)[k].a.name, at->addon) ? &(*v)[k] : NULL;
		if (!d) {
			d = &(*v)[*n];
			if ((name && strcmp(name, at->addon)) || addon_read(root, at->addon, &d->a) < 0 ||
			    strcmp(d->a.kind, kind))
				continue;
			(*n)++;
		}
		for (size_t k = 0; k < at->vars.n; k++) {
			size_t len = strlen(d->vars);
			snprintf(d->vars + len, sizeof(d->vars) - len, "%s%s", len ? ", " : "",
				 at->vars.v[k]);
		}
	}
}

static int dbinfo(struct cli *c, const char *kind)
{
	const struct dbinfo_args *args = c->options;
	struct release r = RELEASE_INIT;
	struct addon a = ADDON_INIT;
	struct dbinfo *v = NULL;
	struct buf out = BUF_INIT;
	char *alias = NULL;
	size_t n = 0;
	int rc = 0;
	if (app_check_exists(c->root, c->app) < 0 ||
	    (c->nargs && addon_resolve(c->root, c->app, kind, c->args[0], &a, &alias) < 0) ||
	    ledger_read_newest(c->root, c->app, LEDGER_READ_CONFIG, &r) < 0) {
		rc = cli_fail();
		goto done;
	}
	gather(c->root, &r, kind, c->nargs ? a.name : NULL, &v, &n);
	for (size_t i = 0; i < n; i++)
		ask(c->root, &v[i]);
	if (args->json)
		view_dbinfo_json(&out, v, n);
	else if (!n)
		buf_addf(&out, "%s has no %s add-ons.\n", c->app, kind_title(kind));
	for (size_t i = 0; !args->json && i < n; i++) {
		if (i)
			buf_adds(&out, "\n");
		(!strcmp(kind, "postgresql") ? view_pg_info : view_redis_info)(&out, &v[i]);
	}
	cli_put(&out);
done:
	free(v);
	free(alias);
	release_release(&r);
	return rc;
}

int cmd_pg_info(struct cli *c)
{
	return dbinfo(c, "postgresql");
}

int cmd_redis_info(struct cli *c)
{
	return dbinfo(c, "redis");
}
