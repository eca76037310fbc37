#define _GNU_SOURCE
#include "dashboard/procs.h"

#include "dashboard/form.h"
#include "dashboard/html.h"
#include "release/activate.h"
#include "runtime/host.h"
#include "runtime/logs.h"
#include "runtime/router.h"
#include "runtime/services.h"
#include "runtime/warm.h"
#include "store/app.h"
#include "store/appctx.h"
#include "store/formation.h"
#include "store/ledger.h"
#include "store/maintenance.h"
#include "store/paths.h"
#include "util/error.h"
#include "view/runtime.h"

#include <stdlib.h>
#include <string.h>

/* The command of s's type in its release (view_ps asks once per type). */
static char *command_of(void *ctx, const struct service_info *s)
{
	struct ledger *l = ctx;
	struct release r = RELEASE_INIT;
	char *cmd = NULL;
	if (ledger_read(l, s->version, LEDGER_READ_PROCS, &r) == 0 &&
	    proc_list_get(&r.procs, s->type))
		cmd = xstrdup(proc_list_get(&r.procs, s->type));
	release_release(&r);
	return cmd ? cmd : xstrdup("");
}

/* `ps` as the command prints it, escaped, into b. */
static int show_ps(const struct app_request *a, struct buf *b)
{
	struct ledger *l = NULL;
	struct service_info *s = NULL;
	size_t n = 0;
	char *repo = app_repo_path(a->root, a->app);
	int err = ledger_open(&l, repo);
	if (!err)
		err = host_list(a->root, a->app, &s, &n);
	if (err)
		goto done;
	for (size_t i = 0; i < n; i++) {
		const struct formation_size *size = formation_size_of(a->root, a->app, s[i].type);
		s[i].size = size ? size->name : NULL;
		if (!strcmp(s[i].state, "warm"))
			s[i].rss = warm_tree_rss((pid_t)s[i].pid);
	}
	if (!n) {
		buf_adds(b, "<p>No processes are running");
		buf_adds(b, services_runtime_up(a->root) ? ".</p>\n"
						       : ": " ACTIVATE_RUNTIME_STOPPED ".</p>\n");
		goto done;
	}
	struct buf ps = BUF_INIT;
	view_ps(&ps, s, n, command_of, l, (int64_t)a->now);
	buf_adds(b, "<pre id=\"ps\">");
	html_escape(b, ps.data);
	buf_adds(b, "</pre>\n");
	buf_release(&ps);
done:
	free(s);
	ledger_free(l);
	free(repo);
	return err;
}

/* The page, with outcome (escaped; may be NULL) above what ps shows now. */
static void render(const struct app_request *a, struct response *res, const char *outcome)
{
	struct buf *b = &res->body;
	int on = maintenance_on(a->root, a->app);
	buf_reset(b);
	apppage_open(a, b, "Processes");
	if (outcome) {
		buf_adds(b, res->status == 200 ? "<p class=\"outcome\">" : "<p class=\"error\">");
		html_escape(b, outcome);
		buf_adds(b, "</p>\n");
	}
	if (show_ps(a, b) < 0) {
		buf_adds(b, "<p class=\"error\">");
		html_escape(b, sw_error_last());
		buf_adds(b, "</p>\n");
	}
	apppage_form_open(a, b, "processes/restart");
	buf_adds(b, "<button type=\"submit\">Restart all processes</button></form>\n");
	buf_addf(b, "<h2>Maintenance</h2>\n<p id=\"maintenance\">Maintenance mode is %s: %s</p>\n",
		 on ? "on" : "off",
		 on ? "every request gets 503 and the maintenance page; processes keep running"
		    : "the app serves its requests");
	apppage_form_open(a, b, "maintenance");
	buf_addf(b, "<input type=\"hidden\" name=\"state\" value=\"%s\">"
		    "<button type=\"submit\">Turn maintenance mode %s</button></form>\n",
		 on ? "off" : "on", on ? "off" : "on");
	apppage_close(b);
}

void procs_page(const struct app_request *a, struct response *res)
{
	render(a, res, NULL);
}

/* ps:restart of every instance, as the command runs it; why (malloc'ed) from the gate. */
static int restart_all(const struct app_request *a, char **why)
{
	struct app_ctx ctx = APP_CTX_INIT;
	struct release r = RELEASE_INIT;
	int v = 0, err;
	if ((err = app_ctx_open(&ctx, a->root, a->app, APP_CTX_WRITE)) < 0 ||
	    /* a switch killed before us is undone first */
	    (err = activate_recover(&ctx, NULL)) < 0 || (err = ledger_current(ctx.ledger, &v)) < 0)
		goto done;
	if (!v) {
		err = sw_error_set(SW_EDENIED, "%s has no release to restart yet: push first", a->app);
		goto done;
	}
	if (!services_runtime_up(a->root)) {
		err = sw_error_set(SW_EDENIED, "Nothing restarted: " ACTIVATE_RUNTIME_STOPPED ".");
		goto done;
	}
	if ((err = ledger_read(ctx.ledger, v, LEDGER_READ_PROCS, &r)) < 0)
		goto done;
	err = activate_restart(&ctx, &r, NULL, why);
done:
	release_release(&r);
	app_ctx_release(&ctx);
	return err;
}

void procs_restart(const struct app_request *a, struct response *res)
{
	char *why = NULL;
	int err = restart_all(a, &why);
	if (err < 0) {
		res->status = err == SW_EDENIED ? 409 : 500;
		if (why)
			why[strcspn(why, "\n")] = '\0';
		char *text = why ? xasprintf("Restart failed: %s; the running processes are unchanged",
					     why)
				 : xasprintf("Restart failed: %s", sw_error_last());
		render(a, res, text);
		free(text);
		free(why);
		return;
	}
	logs_event(a->root, a->app, "api", "Restart all by %s (dashboard)", a->user);
	render(a, res, "Restarting all processes... done");
}

/* maintenance:on or :off under the app's lock, then the router, as the commands do. */
static int set_maintenance(const struct app_request *a, int on)
{
	struct app_ctx ctx = APP_CTX_INIT;
	int err;
	if ((err = app_ctx_open(&ctx, a->root, a->app, APP_CTX_WRITE)) == 0 &&
	    (err = activate_recover(&ctx, NULL)) == 0 && (err = maintenance_set(a->root, a->app, on)) == 0)
		err = router_switch(a->root, a->app, NULL, NULL);
	app_ctx_release(&ctx);
	return err;
}

void procs_maintenance(const struct app_request *a, struct response *res)
{
	const char *state = form_get(a->form, "state");
	int on = state && !strcmp(state, "on");
	if (!state || (!on && strcmp(state, "off"))) {
		res->status = 400;
		render(a, res, "Nothing changed: state must be on or off");
		return;
	}
	if (set_maintenance(a, on) < 0) {
		char *text = xasprintf("%s maintenance mode... failed: %s", on ? "Enabling" : "Disabling",
				       sw_error_last());
		res->status = 500;
		render(a, res, text);
		free(text);
		return;
	}
	logs_event(a->root, a->app, "api", "Maintenance mode %s by %s (dashboard)", on ? "on" : "off",
		   a->user);
	render(a, res, on ? "Enabling maintenance mode... done" : "Disabling maintenance mode... done");
}
