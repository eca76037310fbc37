/*
 * certs:hsts and the certificate warnings of server:status, with real
 * nginx, real s6, real curl and certificates made by the openssl command:
 * HSTS is refused without a certificate (nothing changed), sent only on
 * HTTPS answers once on, its max-age stepping up as each step is reached
 * (the step's start written back in time, as store/hsts.h keeps it) and
 * taken by certs:hsts or gc, and gone after off; server:status warns of a
 * certificate that expires within 14 days, and of no other.
 */
#define _GNU_SOURCE
#include "tests/integration/certs_helpers.h"
#include "tests/integration/runtime_helpers.h"

#include "store/hsts.h"
#include "store/paths.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define APP "myapp"
#define HOST APP ".localhost"

static struct app_sandbox sb;
static pid_t svscan = -1;
static int https_port;
static char *pki;

/* A private CA; a certificate it signed for the app for 30 days (good), and one for 3 (soon). */
static const char make_pki[] =
	"ca 'Slipway Test CA'\n"
	"leaf good " HOST " 30\n"
	"leaf soon " HOST " 3\n";

#define sw(...) SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__)
#define ok(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

static void setup(void)
{
	https_port = th_free_port();
	char *kv = th_path("SLIPWAY_HTTPS_PORT=%d", https_port);
	rt_setup(&sb, APP, RT_ROUTER, certs_ok_server_py, (const char *const[]){ kv, NULL });
	free(kv);
	pki = certs_make_pki(&sb, make_pki);
}

static void teardown(void)
{
	rt_stop(&sb, &svscan);
	app_sandbox_release(&sb);
	free(pki);
	th_keep_free();
}

TestSuite(hsts, .init = setup, .fini = teardown, .timeout = 240);

static char *pem(const char *name)
{
	return th_keep(th_path("%s/%s", pki, name));
}

/* The Strict-Transport-Security header of a GET over HTTPS ("" when none), checked. */
static char *https_hsts(void)
{
	struct th_result r = certs_https(HOST, https_port, pem("ca.pem"),
					 (const char *const[]){ "-o", "/dev/null", "-w",
								"%{http_code} "
								"%header{strict-transport-security}",
								NULL },
					 "/");
	cr_assert_eq(r.status, 0, "curl exited %d: %s", r.status, r.err);
	cr_assert(!strncmp(r.out, "200 ", 4), "%s", r.out);
	char *out = strdup(r.out + 4);
	th_result_free(&r);
	return out;
}

/* The same over HTTP, which redirects: never the header (a browser takes it from HTTPS only). */
static void assert_http_without_hsts(void)
{
	char *url = th_path("http://127.0.0.1:%d/", sb.http_port);
	struct th_result r = th_runv(NULL, NULL, "curl", "-sS", "--max-time", "10", "-H",
				     "Host: " HOST, "-o", "/dev/null", "-w",
				     "%{http_code} %header{strict-transport-security}", url, NULL);
	cr_assert_eq(r.status, 0, "curl exited %d: %s", r.status, r.err);
	cr_assert_str_eq(r.out, "301 ");
	th_result_free(&r);
	free(url);
}

static int starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static void assert_hsts(const char *want)
{
	char *got = https_hsts();
	cr_assert_str_eq(got, want);
	free(got);
	assert_http_without_hsts();
}

/* The state's step begun long enough ago that the next is due, as if that time had passed. */
static void step_due(void)
{
	struct hsts h = HSTS_INIT;
	cr_assert_eq(hsts_read(sb.root, APP, &h), 0);
	cr_assert(h.on);
	h.since = time(NULL) - hsts_max_age(h.step) - 1;
	cr_assert_eq(hsts_write(sb.root, APP, &h), 0);
}

Test(hsts, refused_without_a_certificate_then_ramped_up_on_https_only_and_gone_after_off)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	char *state = th_path("%s/certs/" APP ".hsts", sb.root);

	/* no certificate: refused, nothing changed */
	app_sandbox_refused_line(sw("certs:hsts", "on", "-a", APP),
				 APP " has no SSL certificate: HSTS needs HTTPS (add one with: "
				 "slipway certs:add CRT KEY -a " APP ")");
	cr_assert(!fs_exists(state));
	char *out = ok(SLIPWAY_BIN, "certs:hsts", "-a", APP);
	cr_assert_str_eq(out, "HSTS is off for " APP " (turn it on with: slipway certs:hsts on -a "
			      APP ")\n");
	free(out);
	struct th_result r = sw("certs:hsts", "maybe", "-a", APP);
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert(strstr(r.err, "say on or off (not 'maybe'), or nothing to see the state\n"),
		  "%s", r.err);
	th_result_free(&r);

	/* off by default once HTTPS is served */
	free(ok(SLIPWAY_BIN, "certs:add", pem("good.pem"), pem("good.key"), "--bypass", "-a", APP));
	assert_hsts("");

	out = ok(SLIPWAY_BIN, "certs:hsts", "on", "-a", APP);
	cr_assert(starts(out, "Enabling HSTS for " APP "... done\n"), "%s", out);
	free(out);
	assert_hsts("max-age=300");
	out = ok(SLIPWAY_BIN, "certs:hsts", "-a", APP);
	cr_assert(starts(out, "HSTS is on for " APP ": max-age=300 (5 minutes) since "), "%s",
		  out);
	cr_assert(strstr(out, "\nNext step: max-age=86400 (1 day) from "), "%s", out);
	free(out);
	/* not due yet: a look changes nothing */
	assert_hsts("max-age=300");

	/* each step as it is reached: the look that finds it due takes it, or gc (daily) */
	const char *const steps[] = { "max-age=86400", "max-age=604800", "max-age=31536000" };
	for (size_t i = 0; i < 3; i++) {
		step_due();
		if (i == 1) {
			out = ok(SLIPWAY_BIN, "gc");
			cr_assert(strstr(out, "\nTook the next HSTS step of 1 app\n"), "%s", out);
			free(out);
		} else {
			free(ok(SLIPWAY_BIN, "certs:hsts", "-a", APP));
		}
		assert_hsts(steps[i]);
	}
	/* a gc with no step due says nothing of HSTS */
	out = ok(SLIPWAY_BIN, "gc");
	cr_assert(!strstr(out, "HSTS"), "%s", out);
	free(out);
	out = ok(SLIPWAY_BIN, "certs:hsts", "-a", APP);
	cr_assert(strstr(out, ": max-age=31536000 (1 year) since "), "%s", out);
	cr_assert(!strstr(out, "Next step"), "%s", out);
	free(out);
	/* a push (a switch of the router) keeps it */
	free(ok(SLIPWAY_BIN, "restart", "-a", APP));
	assert_hsts("max-age=31536000");

	/* taking the certificate away while HSTS is on: the confirmation says what browsers will do */
	r = sw("certs:remove", "-a", APP);
	cr_assert_eq(r.status, 1, "%s", r.out);
	cr_assert(strstr(r.err, " !    HSTS is on (max-age=31536000): browsers that saw it will not "
				"load " APP " over HTTP until that much time has passed.\n"), "%s", r.err);
	th_result_free(&r);
	assert_hsts("max-age=31536000");

	out = ok(SLIPWAY_BIN, "certs:hsts", "off", "-a", APP);
	cr_assert(starts(out, "Disabling HSTS for " APP "... done\n"), "%s", out);
	free(out);
	assert_hsts("");
	cr_assert(!fs_exists(state));
	r = sw("logs", "-a", APP, "-p", "api");
	cr_assert(strstr(r.out, "slipway[api]: Enable HSTS by "), "%s", r.out);
	cr_assert(strstr(r.out, "slipway[api]: Disable HSTS by "), "%s", r.out);
	th_result_free(&r);
	free(state);
}

Test(hsts, server_status_warns_of_a_certificate_that_expires_within_14_days)
{
	svscan = rt_start(&sb);
	free(ok(SLIPWAY_BIN, "certs:add", pem("good.pem"), pem("good.key"), "--bypass", "-a", APP));
	struct th_result r = sw("server:status");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(!strstr(r.out, "certificate expires"), "30 days left is no warning: %s", r.out);
	th_result_free(&r);
	r = sw("server:status", "--json");
	cr_assert(strstr(r.out, "},\"warnings\":[],\"network\":{"), "%s", r.out);
	th_result_free(&r);

	free(ok(SLIPWAY_BIN, "certs:add", pem("soon.pem"), pem("soon.key"), "--bypass", "-a", APP));
	/* the day it expires, as certs:info says it */
	r = sw("certs:info", "-a", APP);
	const char *at = strstr(r.out, "Expires At:     ");
	cr_assert(at, "%s", r.out);
	char *want = th_path(" !    " APP "'s certificate expires in 3 days (%.10s)\n", at + 16);
	char *line = th_path("\"warnings\":[\"" APP "'s certificate expires in 3 days (%.10s)\"]",
			     at + 16);
	th_result_free(&r);
	r = sw("server:status");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, want), "want %s in: %s", want, r.out);
	cr_assert_eq(th_count(r.out, "certificate expires"), 1, "%s", r.out);
	th_result_free(&r);
	/* --json: the same line */
	r = sw("server:status", "--json");
	cr_assert(strstr(r.out, line), "want %s in: %s", line, r.out);
	th_result_free(&r);
	free(line);
	free(want);
}
