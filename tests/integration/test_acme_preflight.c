/*
 * The checks certs:auto:enable makes before anything is ordered of the CA
 * (a real one: Debian's pebble, with pebble-challtestsrv as the DNS both
 * it and the checks ask): a name whose CAA records allow only other CAs,
 * or whose CAA records the DNS fails to give, and a port the CA checks
 * where nothing answers are refused in one line, with no order at the CA
 * and nothing changed; records that allow the CA are not.
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

#define APP "myapp"
#define DOMAIN "myapp.example.test"

static struct app_sandbox sb;
static struct pebble pb;
static pid_t svscan = -1;

#define sw(...) SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__)
#define ok(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

static void setup(void)
{
	pebble_setup(&pb, &sb, APP, certs_ok_server_py, 0);
	/* the name the CA goes by in CAA records (pebble's directory lists none) */
	app_sandbox_setenv(&sb, "SLIPWAY_ACME_CAA_IDENTITY=letsencrypt.org");
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	free(ok(SLIPWAY_BIN, "domains:add", DOMAIN, "-a", APP));
}

static void teardown(void)
{
	pebble_teardown(&pb, &sb, &svscan);
	th_keep_free();
}

TestSuite(acme_preflight, .init = setup, .fini = teardown, .timeout = 240);

/* POSTs json to the DNS's management API at path ("/add-caa"). */
static void dns_set(const char *path, const char *json)
{
	char *url = th_path("http://127.0.0.1:%d%s", pb.dns_mgmt, path);
	struct th_result r = th_runv(NULL, NULL, "curl", "-sSf", "--max-time", "10", "-d", json,
				     url, NULL);
	cr_assert_eq(r.status, 0, "%s %s: %s", path, json, r.err);
	th_result_free(&r);
	free(url);
}

/*
 * The command (after "env", so that it may set variables first) refused
 * with line on stderr: exit 1, nothing on stdout, no order at the CA, and
 * nothing changed since before.
 */
static void refused(const char *before, const char *const *argv, const char *line)
{
	app_sandbox_refused(th_run(sb.src, (const char *const *)sb.env, NULL, argv), 1, line);
	cr_assert_eq(pebble_orders(&pb), 0);
	char *after = certs_auto_state(&sb, APP);
	cr_assert_str_eq(after, before);
	free(after);
}

static const char *const enable[] = { "env", SLIPWAY_BIN, "certs:auto:enable", "-a", APP, NULL };

Test(acme_preflight, caa_records_that_allow_only_other_cas_are_refused)
{
	char *before = certs_auto_state(&sb, APP);

	/* the parent's records cannot be had: CAs refuse then too */
	dns_set("/set-servfail", "{\"host\":\"example.test.\"}");
	refused(before, enable, " !    " DOMAIN ": the DNS gave no answer for the CAA records of "
				"example.test (server failure), and a CA does not issue without "
				"one\n");
	dns_set("/clear-servfail", "{\"host\":\"example.test.\"}");

	/* the parent allows another CA only */
	dns_set("/add-caa", "{\"host\":\"example.test.\",\"policies\":[{\"tag\":\"issue\","
			    "\"value\":\"sectigo.com\"}]}");
	refused(before, enable, " !    " DOMAIN ": its CAA records (at example.test) allow only "
				"other CAs (sectigo.com), not letsencrypt.org: add `0 issue "
				"\"letsencrypt.org\"`\n");

	/* control: the name's own records, which come first, allow the CA */
	dns_set("/add-caa", "{\"host\":\"" DOMAIN ".\",\"policies\":[{\"tag\":\"issue\","
			    "\"value\":\"letsencrypt.org\"}]}");
	struct th_result r = sw("certs:auto:enable", "-a", APP);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(!strncmp(r.out, "Enabling Automatic Certificate Management... done\n", 50), "%s",
		  r.out);
	th_result_free(&r);
	cr_assert_eq(pebble_orders(&pb), 1);
	free(before);
}

Test(acme_preflight, caa_is_not_checked_for_a_ca_whose_directory_names_none)
{
	dns_set("/add-caa", "{\"host\":\"example.test.\",\"policies\":[{\"tag\":\"issue\","
			    "\"value\":\"sectigo.com\"}]}");
	char *before = certs_auto_state(&sb, APP);

	/* without slipway.acmeCaaIdentity the directory is read: one that cannot be is refused */
	char *nowhere = th_path("SLIPWAY_ACME_DIRECTORY=https://127.0.0.1:%d/dir", th_free_port());
	struct th_result r = SANDBOX_RUN(&sb, NULL, "env", "SLIPWAY_ACME_CAA_IDENTITY=", nowhere,
					 SLIPWAY_BIN, "certs:auto:enable", "-a", APP);
	certs_refused(&r, " !    the ACME directory https://127.0.0.1:");
	cr_assert(strstr(r.err, "): is slipway.acmeDirectory right?\n"), "%s", r.err);
	th_result_free(&r);
	cr_assert_eq(pebble_orders(&pb), 0);
	char *after = certs_auto_state(&sb, APP);
	cr_assert_str_eq(after, before);

	/* pebble's (over HTTPS, trusted through slipway.acmeCaBundle) names none */
	free(ok("env", "SLIPWAY_ACME_CAA_IDENTITY=", SLIPWAY_BIN, "certs:auto:enable", "-a", APP));
	cr_assert_eq(pebble_orders(&pb), 1);
	free(nowhere);
	free(before);
	free(after);
}

Test(acme_preflight, a_port_the_ca_checks_where_nothing_answers_names_the_routers_port)
{
	int port = th_free_port();
	char *kv = th_path("SLIPWAY_ACME_HTTP_PORT=%d", port);
	char *line = th_path(" !    " DOMAIN " resolves to 127.0.0.1, where port %d gives no answer "
			     "(Connection refused): the CA checks port %d, and this router serves "
			     "HTTP on %d (slipway.httpPort): forward port %d to %d, or serve HTTP on "
			     "%d\n", port, port, sb.http_port, port, sb.http_port, port);
	char *before = certs_auto_state(&sb, APP);
	refused(before, (const char *const[]){ "env", kv, SLIPWAY_BIN, "certs:auto:enable", "-a",
					       APP, NULL },
		line);
	free(kv);
	free(line);
	free(before);
}
