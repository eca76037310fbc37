#define _GNU_SOURCE
#include "dashboard/procs.h"

#include "dashboard/activity.h"
#include "dashboard/form.h"
#include "dashboard/html.h"
#include "dashboard/layout.h"
#include "dashboard/request.h"
#include "dashboard/scgi.h"
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

/* A POST form to the app's page rest ("/maintenance"), with the session's token. */
static void post_form(struct buf *b, const struct page_req *q, const char *rest)
{
	buf_adds(b, "<form method=\"post\" action=\"");
	activity_app_href(b, q, rest);
	buf_adds(b, "\">");
	layout_csrf_field(b, q);
}

/* `ps` as the command prints it, escaped, into b. */
static int show_ps(struct page_req *q, struct buf *b)
{
	struct ledger *l = NULL;
	struct service_info *s = NULL;
	size_t n = 0;
	char *repo = app_repo_path(q->d->root, q->app);
	int err = ledger_open(&l, repo);
	if (!err)
		err = host_list(q->d->root, q->app, &s, &n);
	if (err)
		goto done;
	for (size_t i = 0; i < n; i++) {
		const struct formation_size *size = formation_size_of(q->d->root, q->app, s[i].type);
		s[i].size = size ? size->name : NULL;
		if (!strcmp(s[i].state, "warm"))
			s[i].rss = warm_tree_rss((pid_t)s[i].pid);
	}
	if (!n) {
		buf_adds(b, "<p>No processes are running");
		buf_adds(b, services_runtime_up(q->d->root) ? ".</p>\n"
						       : ": " ACTIVATE_RUNTIME_STOPPED ".</p>\n");
		goto done;
	}
	struct buf ps = BUF_INIT;
	view_ps(&ps, s, n, view_ps_command_in_ledger, l, (int64_t)q->now);
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

/* A "Restart TYPE" button for each process type of the current release. */
static void restart_buttons(struct page_req *q, struct buf *b)
{
	struct release r = RELEASE_INIT;
	if (ledger_read_current(q->d->root, q->app, LEDGER_READ_PROCS, &r) < 0) {
		release_release(&r);
		return;
	}
	for (size_t i = 0; i < r.procs.n; i++) {
		const char *type = r.procs.items[i].name;
		if (!strcmp(type, "release"))
			continue;
		post_form(b, q, "/processes/restart");
		buf_adds(b, "<input type=\"hidden\" name=\"type\" value=\"");
		html_escape(b, type);
		buf_adds(b, "\"><button type=\"submit\">Restart ");
		html_escape(b, type);
		buf_adds(b, "</button></form>\n");
	}
	release_release(&r);
}

/* What the page says after a change it sent here (?done=...): fixed words, never the query's. */
static const char *const notices[][2] = {
	{ "done=restart", "Restarting all processes: new ones replace the running ones in a moment "
			  "(reload to see them)." },
	{ "done=restart-type", "Restarting those processes: new ones replace the running ones in a "
			       "moment (reload to see them)." },
	{ "done=maintenance-on", "Maintenance mode is on: every request gets 503." },
	{ "done=maintenance-off", "Maintenance mode is off." },
};

/*
 * The page, with a refusal's reason or a notice (either may be NULL)
 * above what ps shows now.
 */
static void render(struct page_req *q, struct response *res, const char *refusal,
		   const char *notice)
{
	struct buf *b = &res->body;
	int on = maintenance_on(q->d->root, q->app);
	buf_reset(b);
	layout_open(b, q, "Processes");
	buf_adds(b, "<h1>Processes</h1>\n");
	if (refusal || notice) {
		buf_adds(b, refusal ? "<p class=\"error\">" : "<p class=\"done\">");
		html_escape(b, refusal ? refusal : notice);
		buf_adds(b, "</p>\n");
	}
	if (show_ps(q, b) < 0) {
		buf_adds(b, "<p class=\"error\">");
		html_escape(b, sw_error_last());
		buf_adds(b, "</p>\n");
	}
	post_form(b, q, "/processes/restart");
	buf_adds(b, "<button type=\"submit\">Restart all processes</button></form>\n");
	restart_buttons(q, b);
	buf_addf(b, "<h2>Maintenance</h2>\n<p id=\"maintenance\">Maintenance mode is %s: %s</p>\n",
		 on ? "on" : "off",
		 on ? "every request gets 503 and the maintenance page; processes keep running"
		    : "the app serves its requests");
	post_form(b, q, "/maintenance");
	buf_addf(b, "<input type=\"hidden\" name=\"state\" value=\"%s\">"
		    "<button type=\"submit\">Turn maintenance mode %s</button></form>\n",
		 on ? "off" : "on", on ? "off" : "on");
	layout_close(b);
}

void procs_page(struct page_req *q, struct response *res)
{
	const char *query = scgi_header(q->scgi, "QUERY_STRING"), *notice = NULL;
	for (size_t i = 0; query && i < sizeof(notices) / sizeof(notices[0]); i++)
		if (!strcmp(query, notices[i][0]))
			notice = notices[i][1];
	render(q, res, NULL, notice);
}

/* A change checked and under way: the app's lock held until after() has run. */
struct job {
	struct app_ctx ctx;
	struct release r;  /* restart: the current release */
	char *type;        /* restart: the process type, or NULL for all */
	char *user;
	int on, was;       /* maintenance: the state set, and the one before */
};

static void job_free(void *arg)
{
	struct job *j = arg;
	if (!j)
		return;
	release_release(&j->r);
	app_ctx_release(&j->ctx);
	free(j->type);
	free(j->user);
	free(j);
}

/* The app opened for writing, a switch killed before undone (as every writer does). */
static struct job *job_open(struct page_req *q, int *err)
{
	struct job *j = xcalloc(1, sizeof(*j));
	*j = (struct job){ .ctx = APP_CTX_INIT, .r = RELEASE_INIT, .user = xstrdup(q->session.user) };
	if ((*err = app_ctx_open(&j->ctx, q->d->root, q->app, APP_CTX_WRITE)) < 0 ||
	    (*err = activate_recover(&j->ctx, NULL)) < 0) {
		job_free(j);
		return NULL;
	}
	return j;
}

/* 303 to the processes page; after it has gone out, after(j) and the lock's release. */
static void run_after(struct page_req *q, struct response *res, struct job *j,
		      const char *done, void (*after)(void *arg))
{
	char *to = xasprintf("/apps/%s/processes?done=%s", q->app, done);
	response_redirect(res, to);
	free(to);
	res->after = after;
	res->arg = j;
	res->arg_free = job_free;
}

/* What ps:restart checks before it starts anything: 0, or the refusal's error. */
static int restart_check(struct page_req *q, struct job *j)
{
	int v = 0, err = ledger_current(j->ctx.ledger, &v);
	if (err)
		return err;
	if (!v)
		return sw_error_set(SW_EDENIED, "%s has no release to restart yet: push first", q->app);
	if (!services_runtime_up(q->d->root))
		return sw_error_set(SW_EDENIED, "Nothing restarted: " ACTIVATE_RUNTIME_STOPPED ".");
	if ((err = ledger_read(j->ctx.ledger, v, LEDGER_READ_PROCS, &j->r)) < 0 || !j->type)
		return err;
	for (size_t i = 0; i < j->r.procs.n; i++)
		if (strcmp(j->type, "release") && !strcmp(j->r.procs.items[i].name, j->type))
			return 0;
	return sw_error_set(SW_EINVALID, "v%d has no process type '%s'", v, j->type);
}

static void restart_run(void *arg)
{
	struct job *j = arg;
	char *why = NULL;
	const char *which = j->type ? j->type : "all";
	if (activate_restart(&j->ctx, &j->r, j->type, &why) < 0) {
		if (why)
			why[strcspn(why, "\n")] = '\0';
		logs_event(j->ctx.root, j->ctx.app, "api", "Restart %s by %s (dashboard) failed: %s; "
			   "the running processes are unchanged", which, j->user,
			   why ? why : sw_error_last());
		free(why);
		return;
	}
	logs_event(j->ctx.root, j->ctx.app, "api", "Restart %s by %s (dashboard)", which, j->user);
}

void procs_restart(struct page_req *q, struct response *res)
{
	int err;
	const char *type = form_get(&q->form, "type");
	struct job *j = job_open(q, &err);
	if (j && type)
		j->type = xstrdup(type);
	if (j && (err = restart_check(q, j)) < 0) {
		job_free(j);
		j = NULL;
	}
	if (!j) {
		char *text = xasprintf("Restart failed: %s", sw_error_last());
		res->status = err == SW_EDENIED ? 409 : err == SW_EINVALID ? 400 : 500;
		render(q, res, text, NULL);
		free(text);
		return;
	}
	run_after(q, res, j, j->type ? "restart-type" : "restart", restart_run);
}

static void maintenance_run(void *arg)
{
	struct job *j = arg;
	const char *state = j->on ? "on" : "off";
	if (router_maintenance(j->ctx.root, j->ctx.app, j->on, j->was) < 0)
		logs_event(j->ctx.root, j->ctx.app, "api", "Maintenance mode %s by %s (dashboard) "
			   "failed: %s; it stays %s", state, j->user, sw_error_last(),
			   j->was ? "on" : "off");
	else
		logs_event(j->ctx.root, j->ctx.app, "api", "Maintenance mode %s by %s (dashboard)",
			   state, j->user);
}

void procs_maintenance(struct page_req *q, struct response *res)
{
	const char *state = form_get(&q->form, "state");
	int on = state && !strcmp(state, "on"), err = 0;
	if (!state || (!on && strcmp(state, "off"))) {
		res->status = 400;
		render(q, res, "Nothing changed: state must be on or off", NULL);
		return;
	}
	struct job *j = job_open(q, &err);
	int was = maintenance_on(q->d->root, q->app);
	if (!j || (err = maintenance_set(q->d->root, q->app, on)) < 0) {
		char *text = xasprintf("%s maintenance mode... failed: %s", on ? "Enabling" : "Disabling",
				       sw_error_last());
		res->status = 500;
		render(q, res, text, NULL);
		free(text);
		job_free(j);
		return;
	}
	j->on = on;
	j->was = was;
	/* the router follows once the answer is out: its reload waits for this request */
	run_after(q, res, j, on ? "maintenance-on" : "maintenance-off", maintenance_run);
}
