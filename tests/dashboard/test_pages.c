/*
 * dashboard/pages: the pages as a browser meets them - log in with a
 * one-time token, see only one's own apps, log out; every POST from
 * another origin refused with nothing changed; every page with its
 * security headers; hostile text escaped.
 */
#define _GNU_SOURCE
#include "tests/dashboard_helpers.h"
#include "tests/helpers.h"
#include "tests/release_helpers.h"

#include "access/access.h"
#include "dashboard/assets.h"
#include "dashboard/pages.h"
#include "dashboard/scgi.h"
#include "dashboard/session.h"
#include "store/ledger.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


static char *root;
static struct dashboard dash;

static void setup(void)
{
	root = dh_root(&dash);
}

static void teardown(void)
{
	th_sandbox_free(root);
}

TestSuite(pages, .init = setup, .fini = teardown, .timeout = 60);

/* The whole response as text (headers and body). */
static char *full(const struct response *res)
{
	struct buf b = BUF_INIT;
	response_format(res, &b);
	return buf_detach(&b);
}

/* The session cookie a successful login of user sets, "slipway_session=HEX". */
static char *log_in(const char *user, int operator)
{
	return dh_log_in(&dash, user, operator);
}

static void check_headers(const struct response *res)
{
	char *all = full(res);
	cr_assert(strstr(all, "\r\nContent-Security-Policy: default-src 'self'; frame-ancestors 'none'"),
		  "%s", all);
	cr_assert(strstr(all, "\r\nX-Content-Type-Options: nosniff\r\n"));
	cr_assert(strstr(all, "\r\nReferrer-Policy: same-origin\r\n"));
	free(all);
}

Test(pages, login_sets_a_strict_cookie_and_shows_only_the_users_apps)
{
	char token[SESSION_SECRET_SIZE];
	cr_assert_eq(session_token_create(root, "alice", 0, time(NULL), token), 0);
	char *body = xasprintf("token=%s", token);
	struct response res;
	dh_answer(&dash, &(struct dh_call){ .method = "POST", .path = "/login", .body = body, .origin = DH_OWN,
			       .site = "same-origin" }, &res);
	cr_assert_eq(res.status, 303, "%s", res.body.data);
	cr_assert(strstr(res.headers.data, "Location: /\r\n"));
	char *set = strstr(res.headers.data, "Set-Cookie: slipway_session=");
	cr_assert(set, "%s", res.headers.data);
	cr_assert(strstr(set, "; Path=/; Max-Age=604800; HttpOnly; SameSite=Strict\r\n"), "%s", set);
	cr_assert_null(strstr(set, "Secure"), "not over plain HTTP");
	check_headers(&res);
	char *cookie = xstrndup(set + strlen("Set-Cookie: "), strlen("slipway_session=") + 64);
	response_release(&res);

	dh_answer(&dash, &(struct dh_call){ .method = "GET", .path = "/", .cookie = cookie }, &res);
	cr_assert_eq(res.status, 200);
	cr_assert(strstr(res.body.data, "<td>alices</td>"), "%s", res.body.data);
	cr_assert_null(strstr(res.body.data, "bobs"), "another user's app is not shown");
	cr_assert(strstr(res.body.data, "Logged in as alice"));
	check_headers(&res);
	response_release(&res);

	/* the token worked once */
	dh_answer(&dash, &(struct dh_call){ .method = "POST", .path = "/login", .body = body, .origin = DH_OWN }, &res);
	cr_assert_eq(res.status, 403);
	cr_assert(strstr(res.body.data, "expired or was used already"), "%s", res.body.data);
	cr_assert_null(strstr(res.headers.data, "Set-Cookie"));
	response_release(&res);
	free(cookie);
	free(body);
}

Test(pages, over_https_the_cookie_is_host_prefixed_and_secure)
{
	char token[SESSION_SECRET_SIZE];
	cr_assert_eq(session_token_create(root, "alice", 0, time(NULL), token), 0);
	char *body = xasprintf("token=%s", token);
	struct response res;
	dh_answer(&dash, &(struct dh_call){ .method = "POST", .path = "/login", .body = body, .https = "on",
			       .origin = DH_OWN }, &res);
	cr_assert_eq(res.status, 403, "the origin is https://, not http://");
	response_release(&res);
	dh_answer(&dash, &(struct dh_call){ .method = "POST", .path = "/login", .body = body, .https = "on",
			       .origin = "https://" DH_HOST ":8080" }, &res);
	cr_assert_eq(res.status, 303, "%s", res.body.data);
	cr_assert(strstr(res.headers.data, "Set-Cookie: __Host-slipway_session="), "%s",
		  res.headers.data);
	cr_assert(strstr(res.headers.data, "; HttpOnly; SameSite=Strict; Secure\r\n"));
	response_release(&res);
	free(body);
}

Test(pages, the_operator_sees_every_app)
{
	char *cookie = log_in("root@server", 1);
	struct response res;
	dh_answer(&dash, &(struct dh_call){ .method = "GET", .path = "/", .cookie = cookie }, &res);
	cr_assert_eq(res.status, 200);
	cr_assert(strstr(res.body.data, "<td>alices</td>"));
	cr_assert(strstr(res.body.data, "<td>bobs</td>"));
	cr_assert(strstr(res.body.data, "(operator)"));
	response_release(&res);
	free(cookie);
}

Test(pages, a_login_from_another_origin_is_refused_and_the_token_kept)
{
	char token[SESSION_SECRET_SIZE];
	cr_assert_eq(session_token_create(root, "alice", 0, time(NULL), token), 0);
	char *body = xasprintf("token=%s", token);
	struct response res;
	dh_answer(&dash, &(struct dh_call){ .method = "POST", .path = "/login", .body = body,
			       .origin = "http://evil.apps.test:8080", .site = "same-site" }, &res);
	cr_assert_eq(res.status, 403);
	cr_assert(strstr(res.body.data, "another site"), "%s", res.body.data);
	cr_assert_null(strstr(res.headers.data, "Set-Cookie"));
	response_release(&res);
	/* control: the same token from the dashboard's own page works */
	dh_answer(&dash, &(struct dh_call){ .method = "POST", .path = "/login", .body = body, .origin = DH_OWN },
	       &res);
	cr_assert_eq(res.status, 303);
	response_release(&res);
	free(body);
}

/* The csrf token the apps page puts in its logout form. */
static char *page_token(const char *cookie)
{
	struct response res;
	dh_answer(&dash, &(struct dh_call){ .method = "GET", .path = "/", .cookie = cookie }, &res);
	const char *at = strstr(res.body.data, "name=\"csrf\" value=\"");
	cr_assert(at, "%s", res.body.data);
	char *tok = xstrndup(at + strlen("name=\"csrf\" value=\""), 64);
	response_release(&res);
	return tok;
}

static int logged_in(const char *cookie)
{
	struct response res;
	dh_answer(&dash, &(struct dh_call){ .method = "GET", .path = "/", .cookie = cookie }, &res);
	int in = res.status == 200;
	response_release(&res);
	return in;
}

Test(pages, a_cross_origin_logout_is_refused_and_the_session_stays)
{
	char *cookie = log_in("alice", 0);
	char *tok = page_token(cookie);
	char *body = xasprintf("csrf=%s", tok);
	struct response res;
	/* an app's page of the same site posts the right form: the browser sends its Origin */
	dh_answer(&dash, &(struct dh_call){ .method = "POST", .path = "/logout", .body = body, .cookie = cookie,
			       .origin = "http://myapp.apps.test:8080", .site = "same-site" }, &res);
	cr_assert_eq(res.status, 403);
	check_headers(&res);
	response_release(&res);
	cr_assert(logged_in(cookie), "nothing changed");
	/* no token, the right origin */
	dh_answer(&dash, &(struct dh_call){ .method = "POST", .path = "/logout", .body = "", .cookie = cookie,
			       .origin = DH_OWN, .site = "same-origin" }, &res);
	cr_assert_eq(res.status, 403);
	response_release(&res);
	cr_assert(logged_in(cookie));
	/* control: the dashboard's own form */
	dh_answer(&dash, &(struct dh_call){ .method = "POST", .path = "/logout", .body = body, .cookie = cookie,
			       .origin = DH_OWN, .site = "same-origin" }, &res);
	cr_assert_eq(res.status, 303);
	cr_assert(strstr(res.headers.data, "Location: /login\r\n"));
	cr_assert(strstr(res.headers.data, "Set-Cookie: slipway_session=; Path=/; Max-Age=0"));
	response_release(&res);
	cr_assert_not(logged_in(cookie));
	free(body);
	free(tok);
	free(cookie);
}

Test(pages, get_never_logs_out_and_pages_need_a_session)
{
	char *cookie = log_in("alice", 0);
	struct response res;
	dh_answer(&dash, &(struct dh_call){ .method = "GET", .path = "/logout", .cookie = cookie }, &res);
	cr_assert_eq(res.status, 405);
	response_release(&res);
	cr_assert(logged_in(cookie));
	dh_answer(&dash, &(struct dh_call){ .method = "GET", .path = "/" }, &res);
	cr_assert_eq(res.status, 303);
	cr_assert(strstr(res.headers.data, "Location: /login\r\n"));
	response_release(&res);
	dh_answer(&dash, &(struct dh_call){ .method = "GET", .path = "/", .cookie = "slipway_session=0123" }, &res);
	cr_assert_eq(res.status, 303, "a made-up cookie is no session");
	response_release(&res);
	dh_answer(&dash, &(struct dh_call){ .method = "GET", .path = "/nope", .cookie = cookie }, &res);
	cr_assert_eq(res.status, 404);
	check_headers(&res);
	response_release(&res);
	free(cookie);
}

Test(pages, the_login_page_posts_the_token_from_the_fragment)
{
	struct response res;
	dh_answer(&dash, &(struct dh_call){ .method = "GET", .path = "/login" }, &res);
	cr_assert_eq(res.status, 200);
	cr_assert(strstr(res.body.data, "<form method=\"post\" action=\"/login\">"));
	cr_assert(strstr(res.body.data, "name=\"token\""));
	/* the script is a file nginx serves, named by its content (assets.h) */
	char *tag = th_path("<script src=\"%s\"></script>", assets_url("login.js"));
	cr_assert(!strncmp(assets_url("login.js"), "/static/login.", 14));
	cr_assert(strstr(res.body.data, tag), "no script file: %s", res.body.data);
	cr_assert_null(strstr(res.body.data, "<script>"), "an inline script");
	check_headers(&res);
	response_release(&res);
	free(tag);
	cr_assert(strstr(assets_body("login.js"), "location.hash"));
	/* no longer the dashboard process's to serve */
	dh_answer(&dash, &(struct dh_call){ .method = "GET", .path = "/login.js" }, &res);
	cr_assert_eq(res.status, 404);
	response_release(&res);
}

Test(pages, a_hostile_release_is_shown_as_text)
{
	struct ledger *l = NULL;
	char *repo = app_repo_path(root, "alices");
	struct release r = RELEASE_INIT;
	cr_assert_eq(ledger_open(&l, repo), 0);
	r.description = xstrdup("Deploy <script>alert(1)</script> \"x\" onload='y'");
	r.user = xstrdup("<img src=x onerror=alert(2)>");
	cr_assert_eq(ledger_append(l, &r), 0, "%s", sw_error_last());
	release_release(&r);
	ledger_free(l);
	free(repo);
	char *cookie = log_in("alice", 0);
	struct response res;
	dh_answer(&dash, &(struct dh_call){ .method = "GET", .path = "/", .cookie = cookie }, &res);
	cr_assert_eq(res.status, 200);
	cr_assert(strstr(res.body.data, "Deploy &lt;script&gt;alert(1)&lt;/script&gt; &quot;x&quot; "
					"onload=&#39;y&#39;"), "%s", res.body.data);
	cr_assert(strstr(res.body.data, "&lt;img src=x onerror=alert(2)&gt;"));
	cr_assert_null(strstr(res.body.data, "<script>alert"));
	cr_assert_null(strstr(res.body.data, "<img"));
	response_release(&res);
	free(cookie);
}
