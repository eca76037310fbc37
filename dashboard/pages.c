#define _GNU_SOURCE
#include "dashboard/pages.h"

#include "access/access.h"
#include "dashboard/assets.h"
#include "dashboard/csrf.h"
#include "dashboard/config.h"
#include "dashboard/domains.h"
#include "dashboard/form.h"
#include "dashboard/activity.h"
#include "dashboard/buildstream.h"
#include "dashboard/html.h"
#include "dashboard/layout.h"
#include "dashboard/logs.h"
#include "dashboard/procs.h"
#include "dashboard/request.h"
#include "dashboard/scgi.h"
#include "dashboard/session.h"
#include "store/app.h"
#include "store/ledger.h"
#include "store/paths.h"
#include "util/error.h"
#include "view/view.h"

#include <stdlib.h>
#include <string.h>

#define COOKIE_PLAIN "slipway_session"
/* over HTTPS: a cookie only this exact origin can set (no Domain, Path=/, Secure) */
#define COOKIE_SECURE "__Host-slipway_session"

static const char *header(const struct page_req *q, const char *name)
{
	return scgi_header(q->scgi, name);
}

static char *own_origin(const struct page_req *q)
{
	const char *port = header(q, "SERVER_PORT");
	const char *def = q->https ? "443" : "80";
	if (!port || !*port || !strcmp(port, def))
		return xasprintf("%s://%s", q->https ? "https" : "http", q->d->host);
	return xasprintf("%s://%s:%s", q->https ? "https" : "http", q->d->host, port);
}

static const char *cookie_name(const struct page_req *q)
{
	return q->https ? COOKIE_SECURE : COOKIE_PLAIN;
}

static void set_cookie(const struct page_req *q, struct response *res, const char *value, long max_age)
{
	buf_addf(&res->headers, "Set-Cookie: %s=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Strict%s\r\n",
		 cookie_name(q), value, max_age, q->https ? "; Secure" : "");
}

/*
 * Reads a POST's form and checks it (csrf.h): 0, or the refusal is in res
 * and the page does not run.  The login form has no session yet (login).
 */
static int check_post(struct page_req *q, int login, struct response *res)
{
	if (form_parse(&q->form, q->scgi->body, q->scgi->body_len) < 0) {
		response_message(res, 400, "Bad request", sw_error_last());
		return -1;
	}
	struct csrf_request c = {
		.session_token = q->logged_in ? q->session.csrf : NULL,
		.form_token = form_get(&q->form, "csrf"),
		.origin = header(q, "HTTP_ORIGIN"),
		.sec_fetch_site = header(q, "HTTP_SEC_FETCH_SITE"),
		.own_origin = q->origin,
		.login = login,
	};
	enum csrf_verdict v = csrf_check(&c);
	if (v != CSRF_OK) {
		response_message(res, 403, "Refused", csrf_reason(v));
		return -1;
	}
	return 0;
}

static void login_form(struct response *res, const char *error)
{
	html_page_open(&res->body, "Log in");
	buf_adds(&res->body, "<h1>Log in to Slipway</h1>\n");
	if (error) {
		buf_adds(&res->body, "<p class=\"error\">");
		html_escape(&res->body, error);
		buf_adds(&res->body, "</p>\n");
	}
	buf_adds(&res->body,
		 "<p>Run <code>slipway dashboard:login</code> and open the link it prints. "
		 "Without JavaScript, paste the part of the link after <code>#</code> here:</p>\n"
		 "<form method=\"post\" action=\"/login\">\n"
		 "<input id=\"token\" name=\"token\" autocomplete=\"off\" size=\"70\" required>\n"
		 "<button type=\"submit\">Log in</button>\n"
		 "</form>\n");
	buf_addf(&res->body, "<script src=\"%s\"></script>\n", assets_url("login.js"));
	html_page_close(&res->body);
}

static void page_login(struct page_req *q, struct response *res)
{
	if (q->logged_in)
		response_redirect(res, "/");
	else
		login_form(res, NULL);
}

static void post_login(struct page_req *q, struct response *res)
{
	struct session s = SESSION_INIT;
	char secret[SESSION_SECRET_SIZE];
	const char *token = form_get(&q->form, "token");
	if (session_login(q->d->root, token ? token : "", q->now, secret, &s) < 0) {
		res->status = 403;
		login_form(res, sw_error_last());
	} else {
		set_cookie(q, res, secret, SESSION_MAX_AGE);
		response_redirect(res, "/");
	}
	session_release(&s);
}

static void post_logout(struct page_req *q, struct response *res)
{
	if (session_end(q->d->root, q->secret) < 0) {
		response_message(res, 500, "Error", sw_error_last());
	} else {
		set_cookie(q, res, "", 0);
		response_redirect(res, "/login");
	}
}

/* One row of the app list: name, current release, when it was made. */
static void app_row(struct page_req *q, const char *app, struct buf *b)
{
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	char *repo = app_repo_path(q->d->root, app);
	int current = 0;
	buf_adds(b, "<tr><td>");
	html_escape(b, app);
	buf_adds(b, "</td><td>");
	if (ledger_open(&l, repo) == 0 && ledger_current(l, &current) == 0 && current &&
	    ledger_read(l, current, 0, &r) == 0) {
		struct buf when = BUF_INIT, change = BUF_INIT;
		view_when(&when, r.created, q->now);
		view_change(&change, &r);
		buf_addf(b, "v%d</td><td>", r.version);
		html_escape(b, change.data);
		buf_adds(b, "</td><td>");
		html_escape(b, r.user ? r.user : "");
		buf_adds(b, "</td><td>");
		html_escape(b, when.data);
		buf_release(&when);
		buf_release(&change);
	} else {
		buf_adds(b, "none</td><td>no release yet</td><td></td><td>");
	}
	buf_adds(b, "</td><td><a href=\"/apps/");
	html_escape(b, app);
	buf_adds(b, "/activity\">Activity</a></td></tr>\n");
	release_release(&r);
	ledger_free(l);
	free(repo);
}

/* The apps the session's user may see, as `apps` lists them for that user over ssh. */
static int visible_apps(struct page_req *q, struct strvec *out)
{
	struct strvec all = STRVEC_INIT;
	int err = app_list(q->d->root, &all);
	for (size_t i = 0; !err && i < all.n; i++)
		if (q->session.operator || access_allowed(q->d->root, all.v[i], q->session.user) == 1)
			strvec_push(out, all.v[i]);
	strvec_clear(&all);
	return err;
}

static void page_apps(struct page_req *q, struct response *res)
{
	struct strvec apps = STRVEC_INIT;
	struct buf *b = &res->body;
	if (visible_apps(q, &apps) < 0) {
		response_message(res, 500, "Error", sw_error_last());
		return;
	}
	layout_open(b, q, "Apps");
	buf_adds(b, "<h1>Apps</h1>\n");
	if (!apps.n) {
		buf_adds(b, "<p>You have no apps.</p>\n");
	} else {
		buf_adds(b, "<table>\n<thead><tr><th>App</th><th>Release</th><th>Change</th>"
			    "<th>By</th><th>When</th><th></th></tr></thead>\n<tbody>\n");
		for (size_t i = 0; i < apps.n; i++)
			app_row(q, apps.v[i], b);
		buf_adds(b, "</tbody>\n</table>\n");
	}
	layout_close(b);
	strvec_clear(&apps);
}

enum {
	ROUTE_GET = 1,     /* GET (and HEAD): changes nothing */
	ROUTE_POST = 2,    /* POST: its form passes check_post() before the page runs */
	ROUTE_SESSION = 4, /* needs a session: without one, 303 to /login */
	/*
	 * the login form's POST: no session yet, so no token to compare; Origin
	 * and Sec-Fetch-Site are checked all the same.  Any other POST without
	 * a session is refused.
	 */
	ROUTE_LOGIN = 8,
	/*
	 * a page of one app: the path's first '*' (/apps/APP/...) names an app
	 * that exists and that the session's user may use over ssh (the
	 * operator: any), else 404 as for an app that does not exist - a page
	 * never tells who may not see it that the app is there.  Implies
	 * ROUTE_SESSION.
	 */
	ROUTE_APP = 16 | ROUTE_SESSION,
};

/*
 * The pages: a path, one method, and the function that answers.  A '*' in
 * the path is one segment, any but empty: the first is q->app, the second
 * q->arg.
 */
struct route {
	const char *path;
	unsigned flags;
	void (*page)(struct page_req *q, struct response *res);
};

static const struct route routes[] = {
	{ "/", ROUTE_GET | ROUTE_SESSION, page_apps },
	{ "/login", ROUTE_GET, page_login },
	{ "/login", ROUTE_POST | ROUTE_LOGIN, post_login },
	{ "/logout", ROUTE_POST | ROUTE_SESSION, post_logout },
	{ "/apps/*/activity", ROUTE_GET | ROUTE_APP, activity_page },
	{ "/apps/*/builds/*", ROUTE_GET | ROUTE_APP, activity_build_page },
	{ "/apps/*/builds/*/stream", ROUTE_GET | ROUTE_APP, buildstream },
	{ "/apps/*/releases/*", ROUTE_GET | ROUTE_APP, activity_release_page },
	{ "/apps/*/rollback/*", ROUTE_GET | ROUTE_APP, rollback_preview_page },
	{ "/apps/*/rollback", ROUTE_POST | ROUTE_APP, rollback_post },
	{ "/apps/*/rollback/*/result", ROUTE_GET | ROUTE_APP, rollback_result_page },
	{ "/apps/*/settings", ROUTE_GET | ROUTE_APP, app_settings_page },
	{ "/apps/*/settings", ROUTE_POST | ROUTE_APP, app_settings_post },
	{ "/apps/*/processes", ROUTE_GET | ROUTE_APP, procs_page },
	{ "/apps/*/processes/restart", ROUTE_POST | ROUTE_APP, procs_restart },
	{ "/apps/*/maintenance", ROUTE_POST | ROUTE_APP, procs_maintenance },
	{ "/apps/*/logs", ROUTE_GET | ROUTE_APP, logs_page },
	{ "/apps/*/logs/stream", ROUTE_GET | ROUTE_APP, logs_stream },
	{ "/apps/*/config", ROUTE_GET | ROUTE_APP, config_page },
	{ "/apps/*/config/reveal", ROUTE_POST | ROUTE_APP, config_reveal },
	{ "/apps/*/domains", ROUTE_GET | ROUTE_APP, domains_page },
	{ NULL, 0, NULL },
};

/* 1 if path matches the route's pattern; its '*' segments into caps[0..2). */
static int path_match(const char *pattern, const char *path, char *caps[2])
{
	int n = 0;
	while (*pattern && *path) {
		if (*pattern == '*') {
			size_t len = strcspn(path, "/");
			if (!len)
				break;
			if (n < 2)
				caps[n++] = xstrndup(path, len);
			pattern++;
			path += len;
		} else if (*pattern++ != *path++) {
			break;
		}
	}
	if (!*pattern && !*path)
		return 1;
	for (int i = 0; i < n; i++) {
		free(caps[i]);
		caps[i] = NULL;
	}
	return 0;
}

/* 1 if the session's user may see q->app: it exists and `apps` lists it for them. */
static int app_visible(const struct page_req *q)
{
	if (!app_name_valid(q->app) || app_check_exists(q->d->root, q->app) < 0)
		return 0;
	return q->session.operator || access_allowed(q->d->root, q->app, q->session.user) == 1;
}

static void run_route(struct page_req *q, const struct route *r, struct response *res)
{
	if ((r->flags & ROUTE_SESSION) && !q->logged_in)
		response_redirect(res, "/login");
	else if ((r->flags & ROUTE_APP) == ROUTE_APP && !app_visible(q))
		response_message(res, 404, "Not found", "there is no such page");
	else if (!(r->flags & ROUTE_POST) || check_post(q, !!(r->flags & ROUTE_LOGIN), res) == 0)
		r->page(q, res);
}

static void route(struct page_req *q, struct response *res)
{
	unsigned method = !strcmp(q->method, "GET") || !strcmp(q->method, "HEAD") ? ROUTE_GET
			: !strcmp(q->method, "POST") ? ROUTE_POST : 0;
	int path_known = 0;
	for (const struct route *r = routes; r->path; r++) {
		char *caps[2] = { NULL, NULL };
		if (!path_match(r->path, q->path, caps))
			continue;
		path_known = 1;
		if (!(r->flags & method)) {
			free(caps[0]);
			free(caps[1]);
			continue;
		}
		q->app = caps[0];
		q->arg = caps[1];
		run_route(q, r, res);
		return;
	}
	if (path_known)
		response_message(res, 405, "Method not allowed", "this page does not take that method");
	else
		response_message(res, 404, "Not found", "there is no such page");
}

void dashboard_answer(const struct dashboard *d, const struct scgi_request *scgi, time_t now,
		      struct response *res)
{
	struct page_req q = { .d = d, .scgi = scgi, .now = now, .form = FORM_INIT };
	const char *uri = scgi_header(scgi, "DOCUMENT_URI");
	const char *https = scgi_header(scgi, "HTTPS");
	q.method = scgi_header(scgi, "REQUEST_METHOD");
	q.path = uri ? uri : "";
	q.https = https && !strcmp(https, "on");
	if (!q.method) {
		response_message(res, 400, "Bad request", "no REQUEST_METHOD");
		return;
	}
	q.origin = own_origin(&q);
	q.secret = cookie_get(scgi_header(scgi, "HTTP_COOKIE"), cookie_name(&q));
	q.logged_in = q.secret && session_open(d->root, q.secret, now, &q.session) == 0;
	route(&q, res); /* a HEAD's body is dropped by nginx */
	if (res->stream && !strcmp(q.method, "HEAD")) {
		/* a HEAD of a stream: its headers, and its slot back at once */
		res->stream = NULL;
		if (res->arg_free)
			res->arg_free(res->arg);
		res->arg = NULL;
		res->arg_free = NULL;
	}
	form_release(&q.form);
	free(q.app);
	free(q.arg);
	session_release(&q.session);
	free(q.secret);
	free(q.origin);
}
