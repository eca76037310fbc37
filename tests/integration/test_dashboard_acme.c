/*
 * The dashboard's automatic certificate, from a real ACME CA (pebble,
 * tests/integration/pebble.h), through real uacme, nginx and s6:
 * dashboard:certs:auto:enable gets slipway.dashboardHost a certificate
 * and the dashboard is served over HTTPS with it (its HTTP redirected, but
 * for the ACME challenges' path); dashboard:certs:auto:refresh and the
 * renewal service swap in a new one; disable leaves the certificate
 * there; refusals are one line, exit 1 and change nothing.  curl talks to
 * 127.0.0.1 only, naming the host with --resolve.
 */
#define _GNU_SOURCE
#include "tests/integration/certs_helpers.h"
#include "tests/integration/pebble.h"
#include "tests/integration/runtime_helpers.h"

#include "util/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define APP "myapp"
#define DASH "dashboard.example.test"

static struct app_sandbox sb;
static struct pebble pb;
static pid_t svscan = -1;
static int https_port;
static int validity; /* seconds pebble's certificates are valid for; 0: its default */

#define sw(...) SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__)
#define ok(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

static void setup(void)
{
	https_port = pebble_setup(&pb, &sb, APP, rt_version_server_py, validity);
}

static void teardown(void)
{
	pebble_teardown(&pb, &sb, &svscan);
	th_keep_free();
}

TestSuite(dashboard_acme, .init = setup, .fini = teardown, .timeout = 240);

/* The runtime, with the dashboard at DASH, answering its login page over HTTP. */
static void start_with_host(void)
{
	app_sandbox_setenv(&sb, "SLIPWAY_DASHBOARD_HOST=" DASH);
	svscan = rt_start(&sb);
	char *url = th_path("http://127.0.0.1:%d/login", sb.http_port);
	int code = 0;
	for (int i = 0; i < 150 && code != 200; i++) {
		struct th_result r = th_runv(NULL, NULL, "curl", "-s", "--max-time", "10", "-o",
					     "/dev/null", "-w", "%{http_code}", "-H", "Host: " DASH,
					     url, NULL);
		code = atoi(r.out);
		th_result_free(&r);
		if (code != 200)
			rt_pause_ms(200);
	}
	cr_assert_eq(code, 200, "the dashboard does not answer");
	free(url);
}

/* GET path from the router, over HTTPS trusting cacert, else HTTP: its code, and body into *body. */
static int get(const char *cacert, const char *path, char **body)
{
	char *resolve = th_path(DASH ":%d:127.0.0.1", cacert ? https_port : sb.http_port);
	char *url = th_path("%s://" DASH ":%d%s", cacert ? "https" : "http",
			    cacert ? https_port : sb.http_port, path);
	struct th_result r = certs_curl((const char *const[]){ "-w", "\n%{http_code}", "--resolve",
								resolve, cacert ? "--cacert" : NULL,
								cacert, NULL },
					url);
	cr_assert_eq(r.status, 0, "curl %s exited %d: %s", url, r.status, r.err);
	char *nl = strrchr(r.out, '\n');
	cr_assert(nl, "%s", r.out);
	int code = atoi(nl + 1);
	*body = strndup(r.out, (size_t)(nl - r.out));
	th_result_free(&r);
	free(resolve);
	free(url);
	return code;
}

/* The server's log (supervisor.log) holds needle, within about 30 s. */
static int server_log_says(const char *needle)
{
	char *path = th_path("%s/logs/supervisor.log", sb.root);
	int seen = 0;
	for (int i = 0; i < 150 && !seen; i++) {
		char *text = th_read(path, NULL);
		seen = text && strstr(text, needle);
		free(text);
		if (!seen)
			rt_pause_ms(200);
	}
	free(path);
	return seen;
}

Test(dashboard_acme, enable_serves_the_dashboard_over_https_with_a_certificate_from_the_ca)
{
	start_with_host();
	struct th_result r = sw("dashboard:certs:auto");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "=== Automatic Certificate Management is disabled on the "
				"dashboard\n");
	th_result_free(&r);

	r = sw("dashboard:certs:auto:enable");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	char *want = th_path("Enabling Automatic Certificate Management... done\nThe dashboard is "
			     "now served at https://" DASH ":%d/ (HTTP is redirected there)\n",
			     https_port);
	cr_assert_str_eq(r.out, want);
	free(want);
	th_result_free(&r);
	cr_assert_eq(pebble_orders(&pb), 1);

	/* the login page, over HTTPS with the chain pebble's root issued */
	char *root_pem = pebble_root(&pb);
	char *page = NULL;
	cr_assert_eq(get(root_pem, "/login", &page), 200, "%s", page);
	cr_assert(strstr(page, "<h1>Log in to Slipway</h1>"), "%s", page);
	free(page);
	/* HTTP is redirected, but for the ACME challenges */
	cr_assert_eq(get(NULL, "/login", &page), 301, "%s", page);
	free(page);
	char *tok = th_path("%s/acme/webroot/.well-known/acme-challenge/tok-1", sb.root);
	th_write(tok, "tok-1.keyauth", 0644);
	cr_assert_eq(get(NULL, "/.well-known/acme-challenge/tok-1", &page), 200, "%s", page);
	cr_assert_str_eq(page, "tok-1.keyauth");
	free(page);
	free(tok);

	r = sw("dashboard:certs:auto");
	cr_assert_str_eq(r.out, "=== Automatic Certificate Management is enabled on the "
				"dashboard\n\n"
				"Domain                  Status\n"
				DASH "  Cert issued\n");
	th_result_free(&r);
	cr_assert(server_log_says("slipway[acm]: Dashboard certificate issued for " DASH " by "));
	/* renewal is the runtime's service from now on */
	char *run_file = th_path("%s/services/acme-renew/run", sb.root);
	char *run = th_read(run_file, NULL);
	cr_assert(run && strstr(run, " certs:auto:schedule "), "%s", run ? run : "(none)");
	free(run);
	free(run_file);

	/* refresh: a new certificate, swapped in */
	char *before = pebble_serial(https_port, DASH);
	r = sw("dashboard:certs:auto:refresh");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "Refreshing Automatic Certificate Management... done\n");
	th_result_free(&r);
	char *after = pebble_serial(https_port, DASH);
	cr_assert_str_neq(after, before);
	cr_assert_eq(pebble_orders(&pb), 2);
	cr_assert(server_log_says("slipway[acm]: Dashboard certificate renewed for " DASH " by "));

	/* disable: the certificate stays */
	r = sw("dashboard:certs:auto:disable");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Disabling Automatic Certificate Management... done\n");
	th_result_free(&r);
	r = sw("dashboard:certs:auto");
	cr_assert_str_eq(r.out, "=== Automatic Certificate Management is disabled on the "
				"dashboard\n");
	th_result_free(&r);
	cr_assert(server_log_says("slipway[acm]: Automatic certificates disabled for the "
				  "dashboard by "));
	cr_assert_eq(get(root_pem, "/login", &page), 200, "%s", page);
	free(page);
	free(before);
	free(after);
	free(root_pem);
}

/* What a refusal must leave as it was: the router's dashboard file, the certificate, the state. */
static char *state(void)
{
	struct buf b = BUF_INIT;
	certs_add_files(&b, sb.root, (const char *const[]){ "router/http-dashboard.conf",
							    "router/tls.conf", "certs/_dashboard.pem",
							    NULL });
	char *dir = th_path("%s/acme/apps/_dashboard", sb.root);
	buf_addf(&b, "== acme state: %s\n", access(dir, F_OK) ? "none" : "there");
	free(dir);
	struct th_result r = sw("dashboard:certs:auto");
	buf_addf(&b, "== dashboard:certs:auto\n%s", r.out);
	th_result_free(&r);
	return buf_detach(&b);
}

Test(dashboard_acme, a_dashboard_host_no_ca_issues_for_is_refused)
{
	/* rt_setup's domain is localhost: the dashboard is at dashboard.localhost */
	char *before = state();
	app_sandbox_refused_line(sw("dashboard:certs:auto:enable"),
				 "the dashboard's host dashboard.localhost is not one a CA issues "
				 "certificates for (set one with: git config --global "
				 "slipway.dashboardHost dashboard.example.com)");
	char *after = state();
	cr_assert_str_eq(after, before);
	cr_assert_eq(pebble_orders(&pb), 0);
	free(before);
	free(after);
}

Test(dashboard_acme, a_host_pointing_elsewhere_and_commands_while_off_are_refused)
{
	start_with_host();
	char *before = state();
	app_sandbox_refused_line(sw("dashboard:certs:auto:disable"),
				 "Automatic Certificate Management is not enabled on the dashboard");
	app_sandbox_refused_line(sw("dashboard:certs:auto:refresh"),
				 "Automatic Certificate Management is not enabled on the dashboard "
				 "(enable it with: slipway dashboard:certs:auto:enable)");
	/* the DNS sends the name to another machine: refused before the CA is asked */
	pebble_point(&pb, DASH, "192.0.2.1");
	struct th_result r = sw("dashboard:certs:auto:enable");
	certs_refused(&r, " !    " DASH " resolves to 192.0.2.1, ");
	th_result_free(&r);
	cr_assert_eq(pebble_orders(&pb), 0);
	char *after = state();
	cr_assert_str_eq(after, before);
	/* control: pointed back here, the same command gets the certificate */
	pebble_point(&pb, DASH, NULL);
	free(ok(SLIPWAY_BIN, "dashboard:certs:auto:enable"));
	cr_assert_eq(pebble_orders(&pb), 1);
	free(before);
	free(after);
}

static void setup_short(void)
{
	validity = 8;
	setup();
}

TestSuite(dashboard_acme_short, .init = setup_short, .fini = teardown, .timeout = 240);

Test(dashboard_acme_short, the_service_renews_the_dashboard_s_certificate_when_it_is_due)
{
	start_with_host();
	free(ok(SLIPWAY_BIN, "dashboard:certs:auto:enable"));
	cr_assert_eq(pebble_orders(&pb), 1);
	char *before = pebble_serial(https_port, DASH);
	struct th_result r = sw("server:status");
	cr_assert(strstr(r.out, "the dashboard's certificate expires in 1 day ("), "%s", r.out);
	th_result_free(&r);
	/* 8 s certificates are due after 5.33 s: let it expire, then wake the service */
	rt_pause_ms(8500);
	r = sw("server:status");
	cr_assert(strstr(r.out, "the dashboard's certificate expired on "), "%s", r.out);
	cr_assert(strstr(r.out, ": its HTTPS fails (add a new one with: slipway "
				"dashboard:certs:auto:refresh)\n"), "%s", r.out);
	th_result_free(&r);
	char *dir = th_path("%s/services/acme-renew", sb.root);
	free(ok("s6-svc", "-a", dir));
	cr_assert(server_log_says("slipway[acm]: Dashboard certificate renewed for " DASH " by "));
	cr_assert(server_log_says("the dashboard: certificate renewed"));
	char *after = pebble_serial(https_port, DASH);
	cr_assert_str_neq(after, before);
	cr_assert_eq(pebble_orders(&pb), 2);
	free(dir);
	free(before);
	free(after);
}
