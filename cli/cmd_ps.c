/* ps: the app's process instances, in Heroku's shape. */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"
#include "view/runtime.h"
#include "view/view.h"

#include "runtime/host.h"
#include "runtime/hostview.h"
#include "runtime/logs.h"
#include "release/activate.h"
#include "runtime/nodes.h"
#include "runtime/router.h"
#include "runtime/services.h"
#include "runtime/warm.h"
#include "store/apphosts.h"
#include "store/ledger.h"
#include "store/app.h"
#include "store/formation.h"
#include "store/hosts.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/say.h"
#include "util/units.h"
#include "store/appctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ps_args {
	int json;
};

const struct opt ps_opts[] = { CLI_OPT_JSON(struct ps_args), OPT_END_OF(struct ps_args) };

int cmd_ps(struct cli *c)
{
	const struct ps_args *a = c->options;
	struct ledger *l = NULL;
	struct service_info *s = NULL;
	struct strvec hosts = STRVEC_INIT, failed = STRVEC_INIT;
	size_t n = 0;
	int rc = cli_open_app(c, &l), runs = 0;
	if (rc)
		return rc;
	/* with run hosts, each host's instances, each with its host */
	if ((runs = hostview_hosts(c->root, c->app, &hosts)) < 0 ||
	    (runs ? hostview_ps(c->root, c->app, &hosts, &s, &n, &failed)
		  : host_list(c->root, c->app, &s, &n)) < 0) {
		rc = cli_fail();
		goto done;
	}
	/* a host not asked: said, and the listing is incomplete (exit status 1) */
	for (size_t i = 0; i < failed.n; i++)
		say(stderr, SAY_ERROR, "%s", failed.v[i]);
	rc = failed.n ? 1 : 0;
	for (size_t i = 0; i < n; i++) {
		const struct formation_size *size = formation_size_of(c->root, c->app, s[i].type);
		s[i].size = size ? size->name : NULL;
		/* what a warm instance costs while it waits: its memory */
		if (!strcmp(s[i].state, "warm") && (!s[i].host || !strcmp(s[i].host, HOST_LOCAL)))
			s[i].rss = warm_tree_rss((pid_t)s[i].pid); /* a run host's said it */
	}
	if (a->json) {
		struct buf out = BUF_INIT;
		view_ps_json(&out, s, n);
		cli_put(&out);
		goto done;
	}
	if (!n && !failed.n) {
		printf("No processes of %s are running%s\n", c->app,
		       services_runtime_up(c->root) ? "."
			: c->shell_user ? ": " CLI_RUNTIME_STOPPED "."
			: ". The runtime is not running (start it with: slipway server:start).");
		goto done;
	}
	struct buf out = BUF_INIT;
	view_ps(&out, s, n, view_ps_command_in_ledger, l, (int64_t)time(NULL));
	cli_put(&out);
done:
	free(s);
	strvec_clear(&hosts);
	strvec_clear(&failed);
	ledger_free(l);
	return rc;
}

/*
 * Runs fn on the app's current release under the app's lock: the
 * formation and the running instances change only between switches.
 */
static int with_current(struct cli *c, const char *what,
			int (*fn)(struct cli *c, struct app_ctx *ctx, const struct release *r))
{
	struct app_ctx ctx = APP_CTX_INIT;
	struct release r = RELEASE_INIT;
	int v = 0, rc = 0;

	if (app_ctx_open(&ctx, c->root, c->app, APP_CTX_WRITE) < 0)
		goto fail;
	/* a switch killed before us is undone first */
	if (activate_recover(&ctx, stderr) < 0 ||
	    ledger_current(ctx.ledger, &v) < 0)
		goto fail;
	if (!v) {
		say(stderr, SAY_ERROR, "%s has no release to %s yet: push first", c->app, what);
		rc = 1;
		goto done;
	}
	if (ledger_read(ctx.ledger, v, LEDGER_READ_PROCS, &r) < 0)
		goto fail;
	rc = fn(c, &ctx, &r);
	goto done;
fail:
	rc = cli_fail();
done:
	release_release(&r);
	app_ctx_release(&ctx);
	return rc;
}

/*
 * The app's run hosts first take their share of the formation to come
 * (runtime/nodes.h), all or none; nothing changes here when one cannot.
 */
static int scale_hosts(struct cli *c, struct app_ctx *ctx, const struct release *r)
{
	struct strvec hosts = STRVEC_INIT;
	struct release full = RELEASE_INIT;
	struct buf answers = BUF_INIT;
	int *counts = xcalloc(r->procs.n ? r->procs.n : 1, sizeof(*counts));
	int err = node_run_hosts(c->root, c->app, &hosts);
	if (!err && hosts.n && r->slug[0] &&
	    !(err = services_scale_counts(c->root, c->app, r, c->args, (size_t)c->nargs, counts)) &&
	    !(err = ledger_read(ctx->ledger, r->version, LEDGER_READ_PROCS | LEDGER_READ_CONFIG,
				&full)))
		err = node_release_of(c->root, c->app, &full, counts, &hosts, &answers);
	/* the front and ps reach the hosts that run some of it now */
	for (size_t i = 0; !err && r->slug[0] && i < hosts.n; i++)
		err = apphosts_placed(c->root, c->app, hosts.v[i]);
	free(counts);
	buf_release(&answers);
	release_release(&full);
	strvec_clear(&hosts);
	return err;
}

static int scale(struct cli *c, struct app_ctx *ctx, const struct release *r)
{
	char *summary = NULL;
	if (scale_hosts(c, ctx, r) < 0 ||
	    services_scale(c->root, c->app, r, c->args, (size_t)c->nargs, &summary) < 0 ||
	    (services_runtime_up(c->root) && router_switch(c->root, c->app, NULL, NULL) < 0))
		return cli_fail();
	printf("Scaling processes of %s... done, now running %s\n", c->app, summary);
	logs_event(c->root, c->app, "api", "Scaled to %s by %s", summary, c->user);
	free(summary);
	return 0;
}

/* ps:scale without changes: the formation, "web=1 worker=0", as Heroku shows it. */
static int show_formation(struct cli *c)
{
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	struct strvec wanted = STRVEC_INIT;
	struct buf out = BUF_INIT;
	int v = 0, rc = cli_open_app(c, &l);
	if (rc)
		return rc;
	if (ledger_current(l, &v) < 0 || (v && ledger_read(l, v, LEDGER_READ_PROCS, &r) < 0) ||
	    (v && services_wanted_all(c->root, c->app, &r, &wanted) < 0)) {
		rc = cli_fail();
		goto done;
	}
	for (size_t i = 0; i < r.procs.n; i++) {
		const char *type = r.procs.items[i].name;
		size_t len = strlen(type), count = 0;
		if (!strcmp(type, "release"))
			continue;
		for (size_t j = 0; j < wanted.n; j++)
			count += !strncmp(wanted.v[j], type, len) && wanted.v[j][len] == '.';
		buf_addf(&out, "%s%s=%zu", out.len ? " " : "", type, count);
	}
	if (out.len)
		printf("%s\n", out.data);
	else
		printf("No process types on %s.\nPush a Procfile to add process types.\n", c->app);
done:
	buf_release(&out);
	strvec_clear(&wanted);
	release_release(&r);
	ledger_free(l);
	return rc;
}

int cmd_ps_scale(struct cli *c)
{
	if (!c->nargs)
		return show_formation(c);
	return with_current(c, "scale", scale);
}

static int restart(struct cli *c, struct app_ctx *ctx, const struct release *r)
{
	const char *which = c->nargs ? c->args[0] : NULL;
	char *why = NULL;
	printf("Restarting %s of %s... ", which ? which : "all processes", c->app);
	fflush(stdout);
	if (c->shell_user && !services_runtime_up(c->root)) {
		printf("failed\n");
		fflush(stdout);
		say(stderr, SAY_ERROR, "Nothing restarted: " CLI_RUNTIME_STOPPED ".");
		return 1;
	}
	if (activate_restart(ctx, r, which, &why) < 0) {
		printf("failed\n");
		fflush(stdout);
		if (why) {
			size_t first = strcspn(why, "\n");
			say(stderr, SAY_WARN, "%.*s; the running processes are unchanged",
			    (int)first, why);
			say_lines(stderr, SAY_DETAIL, why + first);
			free(why);
			return 1;
		}
		return cli_fail();
	}
	printf("done\n");
	logs_event(c->root, c->app, "api", "Restart %s by %s", which ? which : "all", c->user);
	return 0;
}

int cmd_ps_restart(struct cli *c)
{
	if (c->nargs && !ps_name_valid(c->args[0]))
		return cli_usage(c->cmd, "invalid process '%s': use a type or TYPE.N, for example web or web.1",
				 c->args[0]);
	return with_current(c, "restart", restart);
}

/* ps:resize without changes: each type's size, "web=standard-2x worker=512M" (slipway.memory's). */
static int show_sizes(struct cli *c, struct app_ctx *ctx, const struct release *r)
{
	(void)ctx;
	struct settings *s = NULL;
	uint64_t memory = 0;
	char text[32];
	if (settings_open(&s, c->root, c->app) < 0 ||
	    settings_size(s, &SETTING_MEMORY, &memory) < 0) {
		settings_free(s);
		return cli_fail();
	}
	settings_free(s);
	units_format_size(memory, text, sizeof(text));
	for (size_t i = 0; i < r->procs.n; i++) {
		const char *type = r->procs.items[i].name;
		if (!strcmp(type, "release"))
			continue;
		const struct formation_size *size = formation_size_of(c->root, c->app, type);
		printf("%s=%s\n", type, size ? size->name : memory ? text : "unlimited");
	}
	return 0;
}

static int resize(struct cli *c, struct app_ctx *ctx, const struct release *r)
{
	struct strvec types = STRVEC_INIT;
	int rc = 0;
	if (formation_resize(c->root, c->app, r, c->args, (size_t)c->nargs, &types) < 0) {
		rc = cli_fail();
		goto done;
	}
	printf("Resizing and restarting the specified processes of %s... ", c->app);
	fflush(stdout);
	/* as on Heroku: the type's instances restart at their new size, without a release */
	for (size_t i = 0; services_runtime_up(c->root) && i < types.n; i++) {
		char *why = NULL;
		int err = activate_restart(ctx, r, types.v[i], &why);
		if (err < 0 && err != SW_ENOTFOUND) {
			printf("failed\n");
			fflush(stdout);
			say(stderr, SAY_WARN, "%s", why ? why : sw_error_last());
			free(why);
			rc = 1;
			goto done;
		}
		free(why);
	}
	printf("done\n");
	for (int i = 0; i < c->nargs; i++)
		logs_event(c->root, c->app, "api", "Resize %s by %s", c->args[i], c->user);
done:
	strvec_clear(&types);
	return rc;
}

int cmd_ps_resize(struct cli *c)
{
	return with_current(c, "resize", c->nargs ? resize : show_sizes);
}
