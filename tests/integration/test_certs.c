/*
 * HTTPS with a certificate the operator brings, with real nginx, real s6,
 * real curl and certificates made by the openssl command: certs:add serves
 * the app over HTTPS (HTTP/2, X-Forwarded-Proto https) and redirects its
 * HTTP requests; a host name without a certificate gets no handshake;
 * refusals (a key of another certificate, an expired certificate, one for
 * another name, a private CA's chain without --bypass) change nothing;
 * no request fails while a certificate is swapped; certs:remove brings
 * plain HTTP back.
 */
#define _GNU_SOURCE
#include "tests/integration/certs_helpers.h"
#include "tests/integration/runtime_helpers.h"

#include "util/util.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define APP "myapp"
#define HOST APP ".localhost"

static struct app_sandbox sb;
static pid_t svscan = -1;
static int https_port;
static char *pki;

/* GET /headers: the router's headers as the app sees them; else "ok" */
static const char server_py[] =
	"import http.server, os\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    protocol_version = 'HTTP/1.1'\n"
	"    def do_GET(s):\n"
	"        b = 'ok\\n'\n"
	"        if s.path == '/headers':\n"
	"            b = ''.join('%s=%s\\n' % (k, s.headers.get(k, '-')) for k in\n"
	"                ('Host', 'X-Forwarded-Proto', 'X-Forwarded-Port'))\n"
	"        b = b.encode()\n"
	"        s.send_response(200); s.send_header('Content-Length', str(len(b)))\n"
	"        s.end_headers(); s.wfile.write(b)\n"
	"    do_POST = do_GET\n"
	"    def log_message(s, *a): pass\n"
	"http.server.ThreadingHTTPServer.request_queue_size = 1024\n"
	"http.server.ThreadingHTTPServer(('', int(os.environ['PORT'])), H).serve_forever()\n";

/*
 * A private CA; certificates it signed for myapp.localhost (good), for
 * other.example.com (other) and one expired the day before (expired); each
 * with its key.
 */
static const char make_pki[] =
	"ca 'Slipway Test CA'\n"
	"leaf good " HOST " 30\n"
	"leaf other other.example.com 30\n"
	"leaf expired " HOST " -1\n"
	"cat good.pem good.key > bundle.pem\n";

#define sw(...) SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__)
#define ok(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

static void setup(void)
{
	https_port = th_free_port();
	char *kv = th_path("SLIPWAY_HTTPS_PORT=%d", https_port);
	rt_setup(&sb, APP, RT_ROUTER, server_py, (const char *const[]){ kv, NULL });
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

TestSuite(certs, .init = setup, .fini = teardown, .timeout = 240);

static char *pem(const char *name)
{
	return th_keep(th_path("%s/%s", pki, name));
}

/* certs:add CRT KEY --bypass, which must succeed. */
static char *add(const char *crt, const char *key)
{
	return ok(SLIPWAY_BIN, "certs:add", pem(crt), pem(key), "--bypass", "-a", APP);
}

struct response {
	int status;    /* curl's exit status */
	char *out;     /* the body, then a line "CODE VERSION LOCATION" */
};

/*
 * curl over HTTPS to host's path on the router's HTTPS port, host resolved
 * to 127.0.0.1 and checked against the test CA.
 */
static struct response https(const char *host, const char *path, const char *method)
{
	struct th_result r = certs_https(host, https_port, pem("ca.pem"),
					 (const char *const[]){ "-X", method, "-w",
								"\n%{http_code} %{http_version} "
								"%{redirect_url}", NULL },
					 path);
	struct response out = { r.status, strdup(r.out) };
	th_result_free(&r);
	return out;
}

/* The same over HTTP on the router's port. */
static struct response http(const char *path, const char *method)
{
	char *url = th_path("http://127.0.0.1:%d%s", sb.http_port, path);
	struct th_result r = th_runv(NULL, NULL, "curl", "-sS", "--max-time", "10", "-H",
				     "Host: " HOST, "-X", method, "-w",
				     "\n%{http_code} %{http_version} %{redirect_url}", url, NULL);
	struct response out = { r.status, strdup(r.out) };
	th_result_free(&r);
	free(url);
	return out;
}

/* How many lines text has. */
static int lines(const char *text)
{
	int n = 0;
	for (const char *p = text; (p = strchr(p, '\n')); p++)
		n++;
	return n;
}

/* r answered, and its last line (after the body) is want's. */
static void assert_ends(struct response r, const char *want)
{
	size_t n = strlen(r.out), w = strlen(want);
	cr_assert_eq(r.status, 0, "curl exited %d: %s", r.status, r.out);
	cr_assert(n >= w && !strcmp(r.out + n - w, want), "want %s in: %s", want, r.out);
	free(r.out);
}

static void assert_response(struct response r, const char *want)
{
	cr_assert_eq(r.status, 0, "curl exited %d: %s", r.status, r.out);
	cr_assert_str_eq(r.out, want);
	free(r.out);
}

/* The router's files and the certificate's, as bytes, joined: what a refusal must leave. */
static char *router_state(void)
{
	struct buf b = BUF_INIT;
	certs_add_files(&b, sb.root, (const char *const[]){ "router/apps/" APP ".conf",
							    "router/tls.conf", "certs/" APP ".pem",
							    NULL });
	struct th_result r = sw("certs", "-a", APP);
	buf_addf(&b, "== certs\n%s", r.out);
	th_result_free(&r);
	return buf_detach(&b);
}

Test(certs, certs_add_serves_https_redirects_http_and_certs_remove_undoes_it)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	struct th_result r = sw("certs", "-a", APP);
	cr_assert_str_eq(r.out, APP " has no SSL certificates.\n"
				"Use slipway certs:add CRT KEY -a " APP " to add one.\n");
	th_result_free(&r);
	/* before: nothing listens for HTTPS */
	struct response x = https(HOST, "/", "GET");
	cr_assert_eq(x.status, 7, "curl exited %d: %s", x.status, x.out);
	free(x.out);

	char *out = add("good.pem", "good.key");
	char *url = th_path("Adding SSL certificate to " APP "... done\n"
			    APP " now served at https://" HOST ":%d/\nCertificate details:\n"
			    "Common Name(s): " HOST "\nDomains:        " HOST "\n", https_port);
	cr_assert(!strncmp(out, url, strlen(url)), "%s", out);
	cr_assert(strstr(out, "Issuer:         CN = Slipway Test CA\n"), "%s", out);
	cr_assert(strstr(out, "SSL certificate is not trusted by this server's CAs.\n"), "%s", out);
	free(url);
	free(out);

	/* server:status: the router serves the configuration there is now */
	r = sw("server:status");
	cr_assert(strstr(r.out, "Router:     running, nginx on 127.0.0.1:"), "%s", r.out);
	th_result_free(&r);

	/* HTTPS: the app, over HTTP/2, told the request came over HTTPS */
	char *want = th_path("Host=" HOST ":%d\nX-Forwarded-Proto=https\nX-Forwarded-Port=%d\n"
			     "\n200 2 ", https_port, https_port);
	assert_response(https(HOST, "/headers", "GET"), want);
	free(want);
	assert_response(https(HOST, "/", "POST"), "ok\n\n200 2 ");

	/* HTTP: GET and HEAD are sent there with 301, the rest with 308 */
	want = th_path("\n301 1.1 https://" HOST ":%d/headers?a=1", https_port);
	assert_ends(http("/headers?a=1", "GET"), want);
	free(want);
	want = th_path("\n308 1.1 https://" HOST ":%d/form", https_port);
	assert_ends(http("/form", "POST"), want);
	free(want);
	x = http("/.well-known/acme-challenge/token", "GET");
	cr_assert(strstr(x.out, "\n404 1.1 "), "%s", x.out);
	free(x.out);

	/* a host name without a certificate gets no handshake (none of another host is shown) */
	free(ok(SLIPWAY_BIN, "apps:create", "bystander"));
	x = https("bystander.localhost", "/", "GET");
	cr_assert_eq(x.status, 35, "curl exited %d: %s", x.status, x.out);
	free(x.out);

	r = sw("apps:info", "-a", APP);
	want = th_path("Web URL:     https://" HOST ":%d/\n", https_port);
	cr_assert(strstr(r.out, want), "%s", r.out);
	free(want);
	th_result_free(&r);
	r = sw("certs", "-a", APP);
	cr_assert(strstr(r.out, "Name   Common Name(s)   Expires               Trusted  Type  "
				"Domains\n" APP "  " HOST "  "), "%s", r.out);
	cr_assert(strstr(r.out, "  False    SNI   1\n"), "%s", r.out);
	th_result_free(&r);
	/* not a release; an event of the logs */
	cr_assert_eq(app_sandbox_release_count(&sb), 1);
	r = sw("logs", "-a", APP, "-p", "api");
	cr_assert(strstr(r.out, "slipway[api]: Add SSL certificate by "), "%s", r.out);
	th_result_free(&r);

	/* maintenance mode is the same over HTTPS, and the router's lines say so */
	free(ok(SLIPWAY_BIN, "maintenance:on", "-a", APP));
	x = https(HOST, "/", "GET");
	cr_assert(strstr(x.out, "Offline for maintenance") && strstr(x.out, "\n503 2 "), "%s", x.out);
	free(x.out);
	free(ok(SLIPWAY_BIN, "maintenance:off", "-a", APP));
	for (int i = 0; i < 50; i++) {
		r = sw("logs", "-a", APP, "-p", "router");
		int seen = strstr(r.out, "code=H80") && strstr(r.out, "status=503") &&
			   strstr(r.out, "protocol=https");
		th_result_free(&r);
		if (seen)
			break;
		rt_pause_ms(100);
	}
	r = sw("logs", "-a", APP, "-p", "router");
	cr_assert(strstr(r.out, "at=error code=H80 desc=\"Maintenance mode\" method=GET path=\"/\""),
		  "%s", r.out);
	cr_assert(strstr(r.out, "status=503 bytes="), "%s", r.out);
	cr_assert(strstr(r.out, "protocol=https"), "%s", r.out);
	th_result_free(&r);

	/* certs:remove asks for the app's name, and changes nothing without it */
	char *before = router_state();
	app_sandbox_refused(sw("certs:remove", "-a", APP), 1,
			    " !    This will remove the SSL certificate of " APP ": it will be "
			    "served over HTTP only.\n"
			    " !    To proceed, run: slipway certs:remove -a " APP " --confirm " APP "\n");
	char *after = router_state();
	cr_assert_str_eq(after, before);
	free(after);
	free(before);
	out = ok(SLIPWAY_BIN, "certs:remove", "-a", APP, "--confirm", APP);
	cr_assert_str_eq(out, "Removing SSL certificate from " APP "... done\n");
	free(out);
	assert_response(http("/", "GET"), "ok\n\n200 1.1 ");
	x = https(HOST, "/", "GET");
	cr_assert_eq(x.status, 7, "curl exited %d: %s", x.status, x.out);
	free(x.out);
	r = sw("apps:info", "-a", APP);
	want = th_path("Web URL:     http://" HOST ":%d/\n", sb.http_port);
	cr_assert(strstr(r.out, want), "%s", r.out);
	free(want);
	th_result_free(&r);
}

/* certs:add CRT KEY (bypass: --bypass or not), which must be refused with line. */
static void refused(const char *crt, const char *key, int bypass, const char *line)
{
	struct th_result r = bypass ? sw("certs:add", pem(crt), pem(key), "--bypass", "-a", APP)
				    : sw("certs:add", pem(crt), pem(key), "-a", APP);
	app_sandbox_refused_line(r, line);
}

Test(certs, refusals_change_nothing_with_or_without_a_certificate_live)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	/* the HTTPS port held by something else: refused before the router is touched */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)https_port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 1), 0);
	char *before = router_state();
	struct th_result r = sw("certs:add", pem("good.pem"), pem("good.key"), "--bypass", "-a", APP);
	char *want = th_path("Adding SSL certificate to " APP "... failed\n");
	cr_assert_str_eq(r.out, want);
	free(want);
	want = th_path(" !    the router cannot listen on port %d for HTTPS: it is in use (set "
		       "another with: git config --global slipway.httpsPort PORT)\n", https_port);
	cr_assert_str_eq(r.err, want);
	cr_assert_eq(r.status, 1);
	free(want);
	th_result_free(&r);
	char *after = router_state();
	cr_assert_str_eq(after, before);
	free(after);
	free(before);
	close(fd);
	for (int live = 0; live < 2; live++) {
		if (live)
			free(add("good.pem", "good.key"));
		char *before = router_state();
		refused("good.pem", "other.key", 1, "the private key does not match the certificate");
		/* a usage error: one file of the two */
		r = sw("certs:add", pem("good.pem"), "--bypass", "-a", APP);
		cr_assert_eq(r.status, 2, "%s", r.err);
		cr_assert_str_eq(r.out, "");
		cr_assert(strstr(r.err, "give both CRT and KEY, or neither and a PEM bundle "
				 "(certificate chain and key) on stdin\nUsage: slipway certs:add"), "%s",
			  r.err);
		th_result_free(&r);
		r = sw("certs:add", pem("expired.pem"), pem("expired.key"),
					"--bypass", "-a", APP);
		cr_assert_eq(r.status, 1, "%s", r.out);
		cr_assert_str_eq(r.out, "");
		cr_assert(!strncmp(r.err, " !    the certificate expired on ", 33), "%s", r.err);
		cr_assert_eq(lines(r.err), 1, "%s", r.err);
		th_result_free(&r);
		refused("other.pem", "other.key", 1, "the certificate is for other.example.com, none "
			"of the app's domains (" HOST ")");
		refused("good.pem", "good.key", 0, "the certificate's chain does not verify: unable "
			"to get local issuer certificate (a private CA's certificate: add --bypass)");
		char *after = router_state();
		cr_assert_str_eq(after, before);
		free(after);
		free(before);
	}
	/* the control: the same chain is taken once the CA is one the server trusts */
	char *ca = th_path("SSL_CERT_FILE=%s/ca.pem", pki);
	app_sandbox_setenv(&sb, ca);
	free(ca);
	free(ok(SLIPWAY_BIN, "certs:add", pem("good.pem"), pem("good.key"), "-a", APP));
	r = sw("certs:info", "-a", APP);
	cr_assert(strstr(r.out, "SSL certificate is verified by a root authority.\n"), "%s", r.out);
	th_result_free(&r);
}

Test(certs, a_bundle_on_stdin_replaces_the_certificate_without_a_request_failing_and_apps_destroy_removes_it)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	free(add("good.pem", "good.key"));
	assert_response(https(HOST, "/", "GET"), "ok\n\n200 2 ");

	/*
	 * a bounded load loop over HTTPS while the certificate is swapped three
	 * times; HTTP/1.1: an HTTP/2 connection an old worker took just before a
	 * reload, with no request read yet, is told GOAWAY (not processed: RFC
	 * 9113 6.8), which browsers retry and curl reports as its error 16
	 */
	char *codes = th_path("%s/codes", sb.dir);
	char *script = th_path("i=0; while [ $i -lt 150 ]; do i=$((i+1)); "
			       "curl -s -o /dev/null --http1.1 --max-time 10 --cacert '%s/ca.pem' "
			       "--resolve " HOST ":%d:127.0.0.1 -w '%%{http_code}\\n' "
			       "https://" HOST ":%d/; done > '%s'", pki, https_port, https_port, codes);
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	char *bundle = th_path("%s/bundle.pem", pki), *text = th_read(bundle, NULL);
	for (int i = 0; i < 3; i++) {
		const char *argv[] = { SLIPWAY_BIN, "certs:add", "--bypass", "-a", APP, NULL };
		struct th_result r = app_sandbox_run(&sb, NULL, text, argv);
		cr_assert_eq(r.status, 0, "%s", r.err);
		cr_assert(!strncmp(r.out, "Adding SSL certificate to " APP "... done\n", 39), "%s",
			  r.out);
		th_result_free(&r);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	char *got = th_read(codes, NULL);
	cr_assert(got);
	cr_assert_eq(lines(got), 150, "%s", got);
	cr_assert_eq(th_count(got, "200"), 150, "%d of 150 requests failed during the swaps",
		     150 - th_count(got, "200"));
	struct th_result r = sw("logs", "-a", APP, "-p", "api");
	cr_assert_eq(th_count(r.out, "Update SSL certificate by "), 3, "%s", r.out);
	th_result_free(&r);

	/* apps:destroy takes the certificate along: a new app of the name has none */
	free(ok(SLIPWAY_BIN, "apps:destroy", APP, "--confirm", APP));
	free(ok(SLIPWAY_BIN, "apps:create", APP));
	r = sw("certs", "-a", APP);
	cr_assert(strstr(r.out, APP " has no SSL certificates.\n"), "%s", r.out);
	th_result_free(&r);
	struct response x = https(HOST, "/", "GET");
	cr_assert_eq(x.status, 7, "nothing listens for HTTPS any more: curl exited %d: %s",
		     x.status, x.out);
	free(x.out);
	free(got);
	free(text);
	free(bundle);
	free(script);
	free(codes);
}
