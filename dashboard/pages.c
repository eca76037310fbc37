#define _GNU_SOURCE
#include "dashboard/pages.h"

#include "access/access.h"
#include "dashboard/apppage.h"
#include "dashboard/config.h"
#include "dashboard/csrf.h"
#include "dashboard/domains.h"
#include "dashboard/form.h"
#include "dashboard/html.h"
#include "dashboard/logs.h"
#include "dashboard/procs.h"
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

/* The login form's script: the token after '#' never reaches a server's log. */
static const char login_js[] =
	"(function () {\n"
	"\tvar t = location.hash.slice(1);\n"
	"\tif (!t) return;\n"
	"\thistory.replaceState(null, '', location.pathname);\n"
	"\tvar f = document.getElementById('token');\n"
	"\tf.value = t;\n"
	"\tf.form.submit();\n"
	"})();\n";

/* The request as the page sees it. */
struct req {
	const struct dashboard *d;
	const struct scgi_request *scgi;
	time_t now;
	int https;
	const char *method, *path;
	char *origin;  /* the dashboard's own: scheme://host[:port] */
	char *secret;  /* the session cookie's value, or NULL */
	struct session session;
	int logged_in;
	struct form form; /* a POST's, checked against csrf.h before its page runs */
};

static const char *header(const struct req *q, const char *name)
{
	return scgi_header(q->scgi, name);
}

static char *own_origin(const struct req *q)
{
	const char *port = header(q, "SERVER_PORT");
	const char *def = q->https ? "443" : "80";
	if (!port || !*port || !strcmp(port, def))
		return xasprintf("%s://%s", q->https ? "https" : "http", q->d->host);
	return xasprintf("%s://%s:%s", q->https ? "https" : "http", q->d->host, port);
}

static const char *cookie_name(const struct req *q)
{
	return q->https ? COOKIE_SECURE : COOKIE_PLAIN;
}

static void set_cookie(const struct req *q, struct response *res, const char *value, long max_age)
{
	buf_addf(&res->headers, "Set-Cookie: %s=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Strict%s\r\n",
		 cookie_name(q), value, max_age, q->https ? "; Secure" : "");
}

/*
 * Reads a POST's form and checks it (csrf.h): 0, or the refusal is in res
 * and the page does not run.  The login form has no session yet (login).
 */
static int check_post(struct req *q, int login, struct response *res)
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
		 "</form>\n"
		 "<script src=\"/login.js\"></script>\n");
	html_page_close(&res->body);
}

static void page_login(struct req *q, struct response *res)
{
	if (q->logged_in)
		response_redirect(res, "/");
	else
		login_form(res, NULL);
}

static void post_login(struct req *q, struct response *res)
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

static void post_logout(struct req *q, struct response *res)
{
	if (session_end(q->d->root, q->secret) < 0) {
		response_message(res, 500, "Error", sw_error_last());
	} else {
		set_cookie(q, res, "", 0);
		response_redirect(res, "/login");
	}
}

static void asset_login_js(struct req *q, struct response *res)
{
	(void)q;
	res->type = "text/javascript; charset=utf-8";
	buf_adds(&res->body, login_js);
}

static void asset_logs_js(struct req *q, struct response *res)
{
	(void)q;
	logs_script(res);
}

/* One row of the app list: name, current release, when it was made. */
static void app_row(struct req *q, const char *app, struct buf *b)
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
	buf_adds(b, "</td></tr>\n");
	release_release(&r);
	ledger_free(l);
	free(repo);
}

/* The apps the session's user may see, as `apps` lists them for that user over ssh. */
static int visible_apps(struct req *q, struct strvec *out)
{
	struct strvec all = STRVEC_INIT;
	int err = app_list(q->d->root, &all);
	for (size_t i = 0; !err && i < all.n; i++)
		if (q->session.operator || access_allowed(q->d->root, all.v[i], q->session.user) == 1)
			strvec_push(out, all.v[i]);
	strvec_clear(&all);
	return err;
}

static void logout_form(struct req *q, struct buf *b)
{
	buf_adds(b, "<form method=\"post\" action=\"/logout\">"
		    "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_escape(b, q->session.csrf);
	buf_adds(b, "\"><button type=\"submit\">Log out</button></form>\n");
}

static void page_apps(struct req *q, struct response *res)
{
	struct strvec apps = STRVEC_INIT;
	struct buf *b = &res->body;
	if (visible_apps(q, &apps) < 0) {
		response_message(res, 500, "Error", sw_error_last());
		return;
	}
	html_page_open(b, "Apps");
	buf_adds(b, "<header><p>Logged in as ");
	html_escape(b, q->session.user);
	buf_adds(b, q->session.operator ? " (operator)" : "");
	buf_adds(b, "</p>\n");
	logout_form(q, b);
	buf_adds(b, "</header>\n<h1>Apps</h1>\n");
	if (!apps.n) {
		buf_adds(b, "<p>You have no apps.</p>\n");
	} else {
		buf_adds(b, "<table>\n<thead><tr><th>App</th><th>Release</th><th>Change</th>"
			    "<th>By</th><th>When</th></tr></thead>\n<tbody>\n");
		for (size_t i = 0; i < apps.n; i++)
			app_row(q, apps.v[i], b);
		buf_adds(b, "</tbody>\n</table>\n");
	}
	html_page_close(b);
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
};

/* The pages: a path, one method, and the function that answers. */
struct route {
	const char *path;
	unsigned flags;
	void (*page)(struct req *q, struct response *res);
};

static const struct route routes[] = {
	{ "/", ROUTE_GET | ROUTE_SESSION, page_apps },
	{ "/login", ROUTE_GET, page_login },
	{ "/login", ROUTE_POST | ROUTE_LOGIN, post_login },
	{ "/logout", ROUTE_POST | ROUTE_SESSION, post_logout },
	{ "/login.js", ROUTE_GET, asset_login_js },
	{ "/logs.js", ROUTE_GET, asset_logs_js },
	{ NULL, 0, NULL },
};

/*
 * An app's pages: the path after /apps/APP.  Each needs a session whose
 * user may use APP (else 404, as for an app that does not exist).
 */
struct app_route {
	const char *path;
	unsigned flags; /* ROUTE_GET or ROUTE_POST */
	void (*page)(const struct app_request *a, struct response *res);
};

static const struct app_route app_routes[] = {
	{ "/processes", ROUTE_GET, procs_page },
	{ "/processes/restart", ROUTE_POST, procs_restart },
	{ "/maintenance", ROUTE_POST, procs_maintenance },
	{ "/logs", ROUTE_GET, logs_page },
	{ "/logs/stream", ROUTE_GET, logs_stream },
	{ "/config", ROUTE_GET, config_page },
	{ "/config/reveal", ROUTE_POST, config_reveal },
	{ "/domains", ROUTE_GET, domains_page },
	{ NULL, 0, NULL },
};

/* "/apps/APP/rest": APP (malloc'ed) and where rest starts; NULL for any other path. */
static char *app_of(const char *path, const char **rest)
{
	if (strncmp(path, "/apps/", 6))
		return NULL;
	const char *name = path + 6, *slash = strchr(name, '/');
	if (!slash)
		return NULL;
	char *app = xstrndup(name, (size_t)(slash - name));
	if (!app_name_valid(app)) {
		free(app);
		return NULL;
	}
	*rest = slash;
	return app;
}

/* 1 if the session's user may use app as over ssh (the operator: every app that exists). */
static int may_use(struct req *q, const char *app)
{
	if (q->session.operator)
		return app_check_exists(q->d->root, app) == 0;
	return access_allowed(q->d->root, app, q->session.user) == 1;
}

/* An app's page: 1 if path is one (res then holds the answer), else 0. */
static int route_app(struct req *q, unsigned method, struct response *res)
{
	const char *rest = NULL;
	char *app = app_of(q->path, &rest);
	const struct app_route *r = app_routes, *other = NULL;
	for (; app && r->path; r++)
		if (!strcmp(r->path, rest) && (r->flags & method))
			break;
		else if (!strcmp(r->path, rest))
			other = r;
	if (!app || (!r->path && !other)) {
		free(app);
		return 0;
	}
	struct app_request a = {
		.root = q->d->root, .app = app, .user = q->session.user,
		.operator = q->session.operator, .csrf = q->session.csrf, .form = &q->form,
		.scgi = q->scgi, .now = q->now,
	};
	if (!q->logged_in)
		response_redirect(res, "/login");
	else if (!may_use(q, app))
		/* the same answer as for an app that does not exist */
		response_message(res, 404, "Not found", "there is no such page");
	else if (!r->path)
		response_message(res, 405, "Method not allowed", "this page does not take that method");
	else if (!(r->flags & ROUTE_POST) || check_post(q, 0, res) == 0)
		r->page(&a, res);
	free(app);
	return 1;
}

static void route(struct req *q, struct response *res)
{
	unsigned method = !strcmp(q->method, "GET") || !strcmp(q->method, "HEAD") ? ROUTE_GET
			: !strcmp(q->method, "POST") ? ROUTE_POST : 0;
	int path_known = 0;
	if (route_app(q, method, res))
		return;
	for (const struct route *r = routes; r->path; r++) {
		if (strcmp(r->path, q->path))
			continue;
		path_known = 1;
		if (!(r->flags & method))
			continue;
		if ((r->flags & ROUTE_SESSION) && !q->logged_in)
			response_redirect(res, "/login");
		else if (!(r->flags & ROUTE_POST) || check_post(q, !!(r->flags & ROUTE_LOGIN), res) == 0)
			r->page(q, res);
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
	struct req q = { .d = d, .scgi = scgi, .now = now, .form = FORM_INIT };
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
	form_release(&q.form);
	session_release(&q.session);
	free(q.secret);
	free(q.origin);
}
