/*
 * The dashboard over HTTPS, through the real router (nginx), the real
 * supervision tree and a real sshd, with a certificate made by the openssl
 * command: dashboard:certs:add serves slipway.dashboardHost on the HTTPS
 * port and redirects its HTTP; dashboard:login's link is https://; a login
 * posted from the https:// origin gets a __Host- cookie marked Secure and
 * its session posts forms; the same posts from the http:// origin are
 * refused with 403 (the control being the https:// ones).
 * dashboard:certs:remove brings plain HTTP back.  dashboard:certs:hsts sends
 * Strict-Transport-Security on its HTTPS answers only, ramped up as an
 * app's.  curl talks to 127.0.0.1 only, naming the host with --resolve.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"
#include "tests/integration/app_sandbox.h"
#include "tests/integration/certs_helpers.h"
#include "tests/integration/dashboard_sandbox.h"
#include "tests/integration/runtime_helpers.h"
#include "tests/integration/sshd.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct app_sandbox sb;
static struct dash ds;
static int https_port;
static char *pki, *https_base, *http_base;

static const char make_pki[] =
	"ca 'Slipway Test CA'\n"
	"leaf dash " DASH_HOST " 30\n"
	"openssl req -x509 $ec -keyout other.key -out other.pem -days 30 -subj /CN=other.apps.test "
	"-addext subjectAltName=DNS:other.apps.test 2>/dev/null\n";

static void setup(void)
{
	th_sshd_require();
	if (access("/usr/bin/s6-svscan", X_OK) || access("/usr/sbin/nginx", X_OK))
		cr_skip_test("s6 and nginx are needed (run scripts/deps)");
	app_sandbox_init(&sb, "alices", APP_SANDBOX_BATCH | APP_SANDBOX_CREATE);
	dash_setup(&ds, &sb);
	https_port = th_free_port();
	char port[16];
	snprintf(port, sizeof(port), "%d", https_port);
	dash_git_config(&ds, "slipway.httpsPort", port);
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "access:add", "alice", "-a", "alices"));
	pki = certs_make_pki(&sb, make_pki);
	https_base = th_path("https://" DASH_HOST ":%d", https_port);
	http_base = th_path("http://" DASH_HOST ":%d", sb.http_port);
	dash_start(&ds);
}

static void teardown(void)
{
	dash_teardown(&ds);
	app_sandbox_release(&sb);
	free(pki);
	free(https_base);
	free(http_base);
}

TestSuite(dashboard_https, .init = setup, .fini = teardown, .timeout = 120);

/* curl over HTTPS to the dashboard: GET path, or POST of form; status, headers and body. */
static struct dash_answer https(const char *path, const char *form, const char *cookie,
				const char *origin)
{
	char *resolve = th_path(DASH_HOST ":%d:127.0.0.1", https_port);
	char *ca = th_path("%s/ca.pem", pki);
	struct dash_answer a = dash_http_at(https_base, resolve, ca, path, form, cookie, origin);
	free(resolve);
	free(ca);
	return a;
}

/* POST /login of a fresh dashboard:login token from origin: the answer. */
static struct dash_answer log_in_from(const char *origin)
{
	char *token = dash_login_token(&ds);
	char *form = th_path("token=%s", token);
	struct dash_answer a = https("/login", form, NULL, origin);
	free(form);
	free(token);
	return a;
}

/* The router's dashboard and TLS files and the certificate's, joined: what a refusal must leave. */
static char *router_state(void)
{
	struct buf b = BUF_INIT;
	certs_add_files(&b, sb.root, (const char *const[]){ "router/http-dashboard.conf",
							    "router/tls.conf", "certs/_dashboard.pem",
							    NULL });
	return buf_detach(&b);
}

Test(dashboard_https, a_certificate_for_another_host_or_a_lone_file_is_refused_and_changes_nothing)
{
	dash_wait_ready(&ds);
	char *before = router_state();
	char *crt = th_path("%s/other.pem", pki), *key = th_path("%s/other.key", pki);
	app_sandbox_refused_line(SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, "dashboard:certs:add", crt, key,
					     "--bypass"),
				 "the certificate is for other.apps.test, not the dashboard's host ("
				 DASH_HOST ")");
	struct th_result r = SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, "dashboard:certs:add", crt);
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert(strstr(r.err, "give both CRT and KEY"), "%s", r.err);
	th_result_free(&r);
	app_sandbox_refused_line(SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, "dashboard:certs:remove"),
				 "the dashboard has no SSL certificate");
	char *after = router_state();
	cr_assert_str_eq(after, before);
	struct dash_answer a = dash_http(&ds, "/login", NULL, NULL, NULL);
	cr_assert_eq(a.status, 200, "%s", a.text);
	free(a.text);
	free(after);
	free(before);
	free(crt);
	free(key);
}

Test(dashboard_https, its_certificate_serves_it_over_https_and_only_the_https_origin_may_post)
{
	dash_wait_ready(&ds);
	char *crt = th_path("%s/dash.pem", pki), *key = th_path("%s/dash.key", pki);
	char *out = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "dashboard:certs:add", crt, key, "--bypass");
	char *want = th_path("Adding SSL certificate to the dashboard... done\nThe dashboard is now "
			     "served at %s/ (HTTP is redirected there)\n", https_base);
	cr_assert_str_eq(out, want);
	free(want);
	free(out);

	/* HTTP is sent to HTTPS */
	struct dash_answer a = dash_http(&ds, "/login", NULL, NULL, NULL);
	cr_assert_eq(a.status, 301, "%s", a.text);
	want = th_path("Location: %s/login\r\n", https_base);
	cr_assert(strstr(a.text, want), "%s", a.text);
	free(want);
	free(a.text);
	struct th_result r = SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, "server:status");
	want = th_path("Dashboard:  running, at %s", https_base);
	cr_assert(strstr(r.out, want), "%s", r.out);
	free(want);
	th_result_free(&r);

	/* dashboard:login's link is the https:// one (dash_login_token() looks for it) */
	free(ds.base);
	ds.base = strdup(https_base);

	/* a login posted from the http:// origin is refused */
	a = log_in_from(http_base);
	cr_assert_eq(a.status, 403, "%s", a.text);
	cr_assert(strstr(a.text, "another site"), "%s", a.text);
	cr_assert(!strstr(a.text, "Set-Cookie"), "%s", a.text);
	free(a.text);
	/* control: from the https:// origin it logs in, with a __Host- cookie only HTTPS carries */
	a = log_in_from(https_base);
	cr_assert_eq(a.status, 303, "%s", a.text);
	char *set = strstr(a.text, "set-cookie: __Host-slipway_session=");
	cr_assert(set, "%s", a.text);
	cr_assert(strstr(set, "; Path=/;"), "%s", a.text);
	cr_assert(strstr(set, "HttpOnly; SameSite=Strict; Secure\r\n"), "%s", a.text);
	char *cookie = strndup(set + strlen("set-cookie: "), strlen("__Host-slipway_session=") + 64);
	free(a.text);

	a = https("/", NULL, cookie, NULL);
	cr_assert_eq(a.status, 200, "%s", a.text);
	cr_assert(strstr(a.text, "<td>alices</td>"), "%s", a.text);
	char *csrf = dash_field(a.text, "csrf");
	free(a.text);
	char *form = th_path("csrf=%s", csrf);
	/* the session's form with its token, from the http:// origin: refused, the session stays */
	a = https("/logout", form, cookie, http_base);
	cr_assert_eq(a.status, 403, "%s", a.text);
	free(a.text);
	a = https("/", NULL, cookie, NULL);
	cr_assert_eq(a.status, 200, "the session is still valid: %s", a.text);
	free(a.text);
	/* control: from the https:// origin it goes through */
	a = https("/logout", form, cookie, https_base);
	cr_assert_eq(a.status, 303, "%s", a.text);
	free(a.text);
	a = https("/", NULL, cookie, NULL);
	cr_assert_eq(a.status, 303, "logged out: %s", a.text);
	free(a.text);

	/* without its certificate: plain HTTP again */
	out = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "dashboard:certs:remove");
	want = th_path("Removing SSL certificate from the dashboard... done\nThe dashboard is served "
		       "at %s/ again\n", http_base);
	cr_assert_str_eq(out, want);
	free(want);
	free(out);
	free(ds.base);
	ds.base = strdup(http_base);
	a = dash_http(&ds, "/login", NULL, NULL, NULL);
	cr_assert_eq(a.status, 200, "%s", a.text);
	free(a.text);
	free(form);
	free(csrf);
	free(cookie);
	free(crt);
	free(key);
}

/* The Strict-Transport-Security header of an answer (from "max-age"), or "" when none came. */
static char *hsts_header(const struct dash_answer *a)
{
	const char *h = strcasestr(a->text, "\nstrict-transport-security: ");
	if (!h)
		return strdup("");
	h += strlen("\nstrict-transport-security: ");
	return strndup(h, strcspn(h, "\r\n"));
}

/* a answered status, with want as its Strict-Transport-Security header ("": none); frees it. */
static void assert_hsts(struct dash_answer a, int status, const char *want)
{
	cr_assert_eq(a.status, status, "%s", a.text);
	char *h = hsts_header(&a);
	cr_assert_str_eq(h, want, "%s", a.text);
	free(h);
	free(a.text);
}

Test(dashboard_https, hsts_is_sent_on_its_https_answers_once_on_and_ramps_up_as_an_app_s)
{
	dash_wait_ready(&ds);
	char *before = router_state();
	app_sandbox_refused_line(SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, "dashboard:certs:hsts", "on"),
				 "the dashboard has no SSL certificate: HSTS needs HTTPS (add one "
				 "with: slipway dashboard:certs:add CRT KEY)");
	char *after = router_state();
	cr_assert_str_eq(after, before);
	char *state_file = th_path("%s/certs/_dashboard.hsts", sb.root);
	cr_assert_neq(access(state_file, F_OK), 0);
	char *out = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "dashboard:certs:hsts");
	cr_assert_str_eq(out, "HSTS is off for the dashboard (turn it on with: slipway "
			      "dashboard:certs:hsts on)\n");
	free(out);

	char *crt = th_path("%s/dash.pem", pki), *key = th_path("%s/dash.key", pki);
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "dashboard:certs:add", crt, key, "--bypass"));
	/* control: with HTTPS but HSTS off, no header */
	assert_hsts(https("/login", NULL, NULL, NULL), 200, "");

	out = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "dashboard:certs:hsts", "on");
	cr_assert_str_eq(out, "Enabling HSTS for the dashboard... done\nHTTPS answers say "
			      "Strict-Transport-Security: max-age=300; it goes up to 1 day, 1 week, "
			      "then 1 year, each step once HTTPS has answered for the one before\n");
	free(out);
	assert_hsts(https("/login", NULL, NULL, NULL), 200, "max-age=300");
	/* HTTP's redirect does not carry it */
	assert_hsts(dash_http(&ds, "/login", NULL, NULL, NULL), 301, "");

	/* its first step has lasted its 5 minutes: certs:hsts takes the next one */
	char *past = th_path("0 %lld\n", (long long)time(NULL) - 400);
	th_write(state_file, past, 0600);
	out = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "dashboard:certs:hsts");
	static const char step1[] = "HSTS is on for the dashboard: max-age=86400 (1 day) since ";
	cr_assert(!strncmp(out, step1, strlen(step1)), "%s", out);
	free(out);
	assert_hsts(https("/login", NULL, NULL, NULL), 200, "max-age=86400");

	/* a day later, gc takes the next one */
	free(past);
	past = th_path("1 %lld\n", (long long)time(NULL) - 86400 - 10);
	th_write(state_file, past, 0600);
	out = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "gc");
	cr_assert(strstr(out, "\nTook the next HSTS step of the dashboard\n"), "%s", out);
	free(out);
	assert_hsts(https("/login", NULL, NULL, NULL), 200, "max-age=604800");

	out = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "dashboard:certs:hsts", "off");
	cr_assert_str_eq(out, "Disabling HSTS for the dashboard... done\nBrowsers that saw it keep "
			      "to HTTPS for the dashboard for up to max-age=604800 (1 week)\n");
	free(out);
	assert_hsts(https("/login", NULL, NULL, NULL), 200, "");
	/* its certificate removed while HSTS is on: said, as it locks browsers out of HTTP */
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "dashboard:certs:hsts", "on"));
	struct th_result r = SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, "dashboard:certs:remove");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.err, " !     HSTS is on (max-age=300): browsers that saw it will not load "
				"the dashboard over HTTP until that much time has passed (turn it "
				"off with: slipway dashboard:certs:hsts off)\n");
	th_result_free(&r);
	char *log_path = th_path("%s/logs/supervisor.log", sb.root), *log = th_read(log_path, NULL);
	cr_assert(log && strstr(log, "slipway[api]: Enable HSTS for the dashboard by "), "%s",
		  log ? log : "(none)");
	cr_assert(strstr(log, "slipway[api]: Disable HSTS for the dashboard by "), "%s", log);
	free(log);
	free(log_path);
	free(past);
	free(state_file);
	free(crt);
	free(key);
	free(after);
	free(before);
}
