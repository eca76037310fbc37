/*
 * runtime/healthcheck: app.json's web checks are read from the slug with
 * Dokku's defaults, a malformed one is refused with a line naming what is
 * wrong, and a check passes only on a 2xx/3xx answer (holding its content)
 * to a GET with the app's Host - else the reason says what it got.
 */
#define _GNU_SOURCE
#include "tests/integration/runtime_helpers.h"
#include "tests/release_helpers.h"

#include "runtime/healthcheck.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *root;
static pid_t server = -1;

static void setup(void)
{
	root = rh_root();
}

static void teardown(void)
{
	if (server > 0) {
		kill(server, SIGKILL);
		waitpid(server, NULL, 0);
	}
	th_sandbox_free(root);
}

TestSuite(healthcheck, .init = setup, .fini = teardown, .timeout = 60);

/* The checks of a slug whose app.json is json (NULL: none); the call's result. */
static int load(const char *json, struct healthchecks *hc)
{
	char hex[65];
	if (json)
		rh_slug(root, hex, "app.json", json, "Procfile", "web: ./server\n", NULL);
	else
		rh_slug(root, hex, "Procfile", "web: ./server\n", NULL);
	memset(hc, 0x5a, sizeof(*hc));
	return healthchecks_load(root, hex, hc);
}

Test(healthcheck, without_app_json_the_gate_is_the_port_alone)
{
	struct healthchecks hc;
	cr_assert_eq(load(NULL, &hc), 0, "%s", sw_error_last());
	cr_assert_eq(hc.n, 0);
	cr_assert_eq(load("{\"name\": \"no checks\"}", &hc), 0, "%s", sw_error_last());
	cr_assert_eq(hc.n, 0);
}

Test(healthcheck, a_check_gets_dokkus_defaults_and_keeps_what_it_sets)
{
	struct healthchecks hc;
	cr_assert_eq(load("{\"healthchecks\": {\"web\": ["
			  "{\"type\": \"startup\", \"path\": \"/health\"},"
			  "{\"path\": \"/ready\", \"attempts\": 2, \"timeout\": 3, \"wait\": 0,"
			  " \"content\": \"ok\", \"initialDelay\": 4, \"name\": \"ready\"}]}}", &hc),
		     0, "%s", sw_error_last());
	cr_assert_eq(hc.n, 2);
	cr_assert_str_eq(hc.v[0].path, "/health");
	cr_assert_str_eq(hc.v[0].content, "");
	cr_assert_eq(hc.v[0].attempts, 5);
	cr_assert_eq(hc.v[0].timeout, 5);
	cr_assert_eq(hc.v[0].wait, 1);
	cr_assert_eq(hc.v[0].initial_delay, 0);
	cr_assert_str_eq(hc.v[1].path, "/ready");
	cr_assert_str_eq(hc.v[1].content, "ok");
	cr_assert_eq(hc.v[1].attempts, 2);
	cr_assert_eq(hc.v[1].timeout, 3);
	cr_assert_eq(hc.v[1].wait, 0);
	cr_assert_eq(hc.v[1].initial_delay, 4);
}

static void refused(const char *json, const char *want)
{
	struct healthchecks hc;
	cr_assert_eq(load(json, &hc), SW_EINVALID, "%s", json);
	cr_assert_str_eq(sw_error_last(), want, "%s", json);
}

Test(healthcheck, a_malformed_app_json_is_refused_naming_what_is_wrong)
{
	refused("[1, 2]", "app.json is not a JSON object");
	refused("{\"healthchecks\": {\"web\": [{\"path\": \"/h\", \"retries\": 3}]}}",
		"app.json: unknown health check field 'retries' (known: type, name, path, attempts, "
		"timeout, wait, content, initialDelay)");
	refused("{\"healthchecks\": {\"web\": [{\"type\": \"liveness\", \"path\": \"/h\"}]}}",
		"app.json: health check type 'liveness' is not supported (use startup)");
	refused("{\"healthchecks\": {\"web\": [{\"path\": \"/h\", \"attempts\": 0}]}}",
		"app.json: healthchecks.web attempts must be a number from 1 to 100");
	refused("{\"healthchecks\": {\"web\": [{\"path\": \"/h\", \"timeout\": \"soon\"}]}}",
		"app.json: healthchecks.web timeout must be a number from 1 to 300");
	refused("{\"healthchecks\": {\"web\": [{\"attempts\": 2}]}}",
		"app.json: a health check needs a \"path\" such as \"/health\"");
	refused("{\"healthchecks\": {\"web\": {\"path\": \"/h\"}}}",
		"app.json: healthchecks.web must be a list of checks");
	struct buf nine = BUF_INIT;
	buf_adds(&nine, "{\"healthchecks\": {\"web\": [");
	for (int i = 0; i < HEALTHCHECKS_MAX + 1; i++)
		buf_addf(&nine, "%s{\"path\": \"/%d\"}", i ? "," : "", i);
	buf_adds(&nine, "]}}");
	refused(nine.data, "app.json: at most 8 web health checks");
	buf_release(&nine);
}

/* An HTTP server on 127.0.0.1: / and /ok answer 200, /host the Host asked for, the rest 500. */
static int start_server(void)
{
	static const char code[] =
		"import http.server, sys\n"
		"class H(http.server.BaseHTTPRequestHandler):\n"
		"    def do_GET(self):\n"
		"        body = {'/': b'up', '/ok': b'all good',\n"
		"                '/host': self.headers.get('Host', '').encode()}.get(self.path)\n"
		"        self.send_response(200 if body is not None else 500)\n"
		"        self.end_headers()\n"
		"        self.wfile.write(body or b'broken')\n"
		"    def log_message(self, *a): pass\n"
		"http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n";
	int port = th_free_port();
	char ports[16];
	snprintf(ports, sizeof(ports), "%d", port);
	server = fork();
	cr_assert_geq(server, 0);
	if (server == 0) {
		execl("/usr/bin/python3", "python3", "-c", code, ports, (char *)NULL);
		_exit(127);
	}
	char *up = rt_wait_get(port);
	cr_assert_str_eq(up, "up", "the test's server answers");
	free(up);
	return port;
}

static struct healthcheck check(const char *path, const char *content, int attempts)
{
	struct healthcheck c = { .attempts = attempts, .timeout = 5, .wait = 0 };
	snprintf(c.path, sizeof(c.path), "%s", path);
	snprintf(c.content, sizeof(c.content), "%s", content);
	return c;
}

/* The call under test: its result, and *why (malloc'ed or NULL). */
static int run(struct healthcheck c, int port, char **why)
{
	struct healthchecks hc = { .n = 1 };
	hc.v[0] = c;
	char address[32];
	snprintf(address, sizeof(address), "127.0.0.1:%d", port);
	return healthchecks_run(&hc, "web.1", address, "demo.example.com", why);
}

Test(healthcheck, passes_on_a_2xx_that_holds_its_content_asked_with_the_apps_host)
{
	int port = start_server();
	char *why = (char *)"unset";
	cr_assert_eq(run(check("/ok", "good", 1), port, &why), 0, "%s", why);
	cr_assert_null(why);
	cr_assert_eq(run(check("/host", "demo.example.com", 1), port, &why), 0, "%s", why);
	cr_assert_null(why);
}

Test(healthcheck, a_failed_check_says_what_it_got)
{
	int port = start_server();
	char *why = NULL;
	cr_assert_eq(run(check("/broken", "", 2), port, &why), SW_ETIMEOUT);
	cr_assert_str_eq(why, "web.1 failed its health check GET /broken: HTTP 500 after 2 attempts");
	cr_assert_str_eq(sw_error_last(), why);
	free(why);
	cr_assert_eq(run(check("/ok", "healthy", 1), port, &why), SW_ETIMEOUT);
	cr_assert_str_eq(why, "web.1 failed its health check GET /ok: the answer does not hold "
			 "\"healthy\" (1 attempt)");
	free(why);
	struct healthcheck c = check("/ok", "", 1);
	c.timeout = 1;
	cr_assert_eq(run(c, th_free_port(), &why), SW_ETIMEOUT);
	cr_assert_str_eq(why, "web.1 failed its health check GET /ok: no answer within 1 s, 1 attempt");
	free(why);
}
