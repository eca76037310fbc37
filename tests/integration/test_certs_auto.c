/*
 * Automatic certificates with a real ACME CA: Debian's pebble, with
 * pebble-challtestsrv as the DNS both it and the checks before an order
 * ask (every name 127.0.0.1 unless told otherwise), real uacme, real
 * nginx and s6.  certs:auto:enable gets the app served over HTTPS with a
 * certificate pebble issued; a domain that points elsewhere is refused
 * before anything is asked of the CA; the router answers challenges from
 * the webroot before maintenance mode.
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
#include <sys/wait.h>
#include <unistd.h>

#define APP "myapp"
#define DOMAIN "myapp.example.test"

static struct app_sandbox sb;
static struct pebble pb;
static pid_t svscan = -1;
static int https_port;
static int validity; /* seconds pebble's certificates are valid for; 0: its default (5 years) */

#define sw(...) SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__)
#define ok(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

static void setup(void)
{
	https_port = pebble_setup(&pb, &sb, APP, certs_ok_server_py, validity);
}

static void teardown(void)
{
	pebble_teardown(&pb, &sb, &svscan);
	th_keep_free();
}

TestSuite(certs_auto, .init = setup, .fini = teardown, .timeout = 240);

/* GET path over HTTP from the router, for host: the body, then a line with the code. */
static char *http(const char *host, const char *path)
{
	char *url = th_path("http://127.0.0.1:%d%s", sb.http_port, path);
	char *h = th_path("Host: %s", host);
	struct th_result r = certs_curl((const char *const[]){ "-H", h, "-w", "\n%{http_code}", NULL },
					url);
	cr_assert_eq(r.status, 0, "curl exited %d: %s", r.status, r.err);
	char *out = strdup(r.out);
	th_result_free(&r);
	free(url);
	free(h);
	return out;
}

Test(certs_auto, enable_gets_a_certificate_from_the_ca_and_the_app_is_served_over_https)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	free(ok(SLIPWAY_BIN, "domains:add", DOMAIN, "-a", APP));
	struct th_result r = sw("certs:auto", "-a", APP);
	cr_assert_str_eq(r.out, "=== Automatic Certificate Management is disabled on " APP "\n");
	th_result_free(&r);

	r = sw("certs:auto:enable", "-a", APP);
	char *want = th_path("Enabling Automatic Certificate Management... done\n"
			     APP " now served at https://" APP ".localhost:%d/\n", https_port);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, want);
	free(want);
	th_result_free(&r);
	cr_assert_eq(pebble_orders(&pb), 1);

	/* pebble's root, which issued the app's chain */
	char *root_pem = pebble_root(&pb);
	r = certs_https(DOMAIN, https_port, root_pem, NULL, "/");
	cr_assert_eq(r.status, 0, "curl exited %d: %s", r.status, r.err);
	cr_assert_str_eq(r.out, "ok\n");
	th_result_free(&r);

	r = sw("certs:auto", "-a", APP);
	cr_assert_str_eq(r.out, "=== Automatic Certificate Management is enabled on " APP "\n\n"
				"Domain              Status\n"
				DOMAIN "  Cert issued\n");
	th_result_free(&r);
	r = sw("logs", "-a", APP, "-n", "50");
	cr_assert(strstr(r.out, "slipway[acm]: Certificate issued for " DOMAIN " by "), "%s",
		  r.out);
	th_result_free(&r);

	r = sw("certs:auto:disable", "-a", APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Disabling Automatic Certificate Management... done\n");
	th_result_free(&r);
	r = sw("certs:auto", "-a", APP);
	cr_assert_str_eq(r.out, "=== Automatic Certificate Management is disabled on " APP "\n");
	th_result_free(&r);
	/* the certificate stays */
	r = certs_https(DOMAIN, https_port, root_pem, NULL, "/");
	cr_assert_str_eq(r.out, "ok\n");
	th_result_free(&r);
	free(root_pem);
}

Test(certs_auto, a_domain_pointing_elsewhere_is_refused_before_the_ca_is_asked)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	free(ok(SLIPWAY_BIN, "domains:add", DOMAIN, "-a", APP));
	/* the DNS now sends the name to another machine */
	pebble_point(&pb, DOMAIN, "192.0.2.1");
	struct th_result r;
	char *before = certs_auto_state(&sb, APP);

	r = sw("certs:auto:enable", "-a", APP);
	certs_refused(&r, " !    " DOMAIN " resolves to 192.0.2.1, ");
	cr_assert(strstr(r.err, "is it this server?\n"), "%s", r.err);
	th_result_free(&r);
	cr_assert_eq(pebble_orders(&pb), 0);
	char *after = certs_auto_state(&sb, APP);
	cr_assert_str_eq(after, before);
	free(after);

	/* control: pointed back here, the same command gets the certificate */
	pebble_point(&pb, DOMAIN, NULL);
	free(ok(SLIPWAY_BIN, "certs:auto:enable", "-a", APP));
	cr_assert_eq(pebble_orders(&pb), 1);
	free(before);
}

Test(certs_auto, the_router_answers_challenges_before_maintenance_mode)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	char *tok = th_path("%s/acme/webroot/.well-known/acme-challenge/tok-1", sb.root);
	th_write(tok, "tok-1.keyauth", 0644);
	free(ok(SLIPWAY_BIN, "maintenance:on", "-a", APP));
	char *out = http(APP ".localhost", "/");
	cr_assert(strstr(out, "\n503"), "%s", out);
	free(out);
	out = http(APP ".localhost", "/.well-known/acme-challenge/tok-1");
	cr_assert_str_eq(out, "tok-1.keyauth\n200");
	free(out);
	out = http(APP ".localhost", "/.well-known/acme-challenge/none");
	cr_assert(strstr(out, "\n404"), "%s", out);
	free(out);
	free(tok);
}

/* The serial of the certificate the router shows for DOMAIN. */
static char *serial(void)
{
	return pebble_serial(https_port, DOMAIN);
}

/*
 * A child that GETs the app over HTTPS in a loop until stop exists (at
 * most 2000 times), then writes "REQUESTS FAILED" to result.
 */
static pid_t load(const char *root_pem, const char *stop, const char *result)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int n = 0, failed = 0;
		char *first = NULL;
		while (n < 2000 && access(stop, F_OK)) {
			/*
			 * HTTP/1.1: an HTTP/2 connection an old worker took just before
			 * the reload, with no request read yet, is told GOAWAY (not
			 * processed: RFC 9113 6.8), which browsers retry and curl
			 * reports as its error 16
			 */
			struct th_result r = certs_https(DOMAIN, https_port, root_pem,
							 (const char *const[]){ "--http1.1", NULL }, "/");
			n++;
			if (r.status != 0 || strcmp(r.out, "ok\n")) {
				failed++;
				if (!first)
					first = th_path("curl %d: %s%s", r.status, r.out, r.err);
			}
			th_result_free(&r);
		}
		char *line = th_path("%d %d %s", n, failed, first ? first : "");
		th_write(result, line, 0644);
		_exit(0);
	}
	return pid;
}

Test(certs_auto, refresh_swaps_in_a_new_certificate_and_no_request_fails)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	free(ok(SLIPWAY_BIN, "domains:add", DOMAIN, "-a", APP));
	free(ok(SLIPWAY_BIN, "certs:auto:enable", "-a", APP));
	/* renewal is the runtime's service from now on */
	char *run_file = th_path("%s/services/acme-renew/run", sb.root);
	char *run = th_read(run_file, NULL);
	cr_assert(run && strstr(run, " certs:auto:schedule "), "%s", run ? run : "(none)");
	free(run);
	free(run_file);
	struct th_result r;
	char *root_pem = pebble_root(&pb);
	char *before = serial();

	char *stop = th_path("%s/stop", sb.dir), *result = th_path("%s/load", sb.dir);
	pid_t pid = load(root_pem, stop, result);
	rt_pause_ms(300);
	r = sw("certs:auto:refresh", "-a", APP);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "Refreshing Automatic Certificate Management... done\n");
	th_result_free(&r);
	rt_pause_ms(500);
	th_write(stop, "", 0644);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	char *line = th_read(result, NULL);
	int n = 0, failed = -1;
	cr_assert_eq(sscanf(line, "%d %d", &n, &failed), 2, "%s", line);
	cr_assert_gt(n, 0);
	cr_assert_eq(failed, 0, "%d of %d requests failed, the first: %s", failed, n, line);

	char *after = serial();
	cr_assert_str_neq(after, before);
	r = sw("logs", "-a", APP, "-n", "50");
	cr_assert(strstr(r.out, "slipway[acm]: Certificate renewed for " DOMAIN " by "), "%s",
		  r.out);
	th_result_free(&r);
	free(line);
	free(stop);
	free(result);
	free(before);
	free(after);
	free(root_pem);
}

static void setup_short(void)
{
	validity = 8;
	setup();
}

TestSuite(certs_auto_short, .init = setup_short, .fini = teardown, .timeout = 240);

/* The app's logs hold needle within about 30 s. */
static int logs_say(const char *needle)
{
	for (int i = 0; i < 150; i++) {
		struct th_result r = sw("logs", "-a", APP, "-n", "100");
		int seen = strstr(r.out, needle) != NULL;
		th_result_free(&r);
		if (seen)
			return 1;
		rt_pause_ms(200);
	}
	return 0;
}

Test(certs_auto_short, the_service_renews_a_certificate_once_a_third_of_its_lifetime_is_left)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	free(ok(SLIPWAY_BIN, "domains:add", DOMAIN, "-a", APP));
	free(ok(SLIPWAY_BIN, "certs:auto:enable", "-a", APP));
	cr_assert_eq(pebble_orders(&pb), 1);
	char *before = serial();
	/* 8 s certificates are due after 5.33 s; the service is woken to look */
	rt_pause_ms(6000);
	char *dir = th_path("%s/services/acme-renew", sb.root);
	free(ok("s6-svc", "-a", dir));
	cr_assert(logs_say("slipway[acm]: Certificate renewed for " DOMAIN " by "));
	char *after = serial();
	cr_assert_str_neq(after, before);
	cr_assert_eq(pebble_orders(&pb), 2);
	free(dir);
	free(before);
	free(after);
}
