/*
 * The router, with real nginx, real s6 and real curl: an app answers at
 * APP.localhost on the router's port; a deploy, a rollback, a config
 * change and a restart move its requests without one failing; requests
 * carry Heroku's router headers; maintenance mode and an app without web
 * processes get 503 pages; a release that fails its gate leaves the old one
 * serving; the router's lines join the app's logs.  WebSockets go through;
 * a client's X-Real-IP and Forwarded never reach the app; one client can
 * neither take the router's connections from the others nor make it
 * spool an upload to disk.
 */
#define _GNU_SOURCE
#include "tests/integration/runtime_helpers.h"

#include "util/fsutil.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define APP "rr"

static struct app_sandbox sb;
static pid_t svscan = -1;

/*
 * GET /: the code's version, MSG and the dyno; /headers: the router's headers;
 * /ws: a WebSocket that echoes one message; POST: reads the body, says its size
 */
static const char server_py[] =
	"import base64, hashlib, http.server, os\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    protocol_version = 'HTTP/1.1'\n"
	"    def do_GET(s):\n"
	"        code = 200\n"
	"        if s.path == '/ws':\n"
	"            return s.websocket()\n"
	"        if s.path == '/health':\n"
	"            H.checks = getattr(H, 'checks', 0) + 1\n"
	"            code, b = open('/app/health').read().split(' ', 1)\n"
	"            code = int(code)\n"
	"            if os.path.exists('/app/sick') and H.checks > 1:\n"
	"                code, b = 500, 'sick'\n"
	"        elif s.path == '/headers':\n"
	"            b = ''.join('%s=%s\\n' % (k, s.headers.get(k, '-')) for k in\n"
	"                ('Host', 'X-Request-Id', 'X-Forwarded-For', 'X-Forwarded-Proto',"
	" 'X-Forwarded-Port', 'X-Real-IP', 'Forwarded'))\n"
	"        else:\n"
	"            b = '%s %s %s\\n' % (open('/app/version').read().strip(),"
	" os.environ.get('MSG', '-'), os.environ['DYNO'])\n"
	"        s.answer(code, b)\n"
	"    def answer(s, code, b):\n"
	"        b = b.encode()\n"
	"        s.send_response(code); s.send_header('Content-Length', str(len(b)))\n"
	"        s.end_headers(); s.wfile.write(b)\n"
	"    def do_POST(s):\n"
	"        n, got = int(s.headers.get('Content-Length', '0')), 0\n"
	"        while got < n:\n"
	"            d = s.rfile.read(min(65536, n - got))\n"
	"            if not d: return\n"
	"            got += len(d)\n"
	"        s.answer(200, 'got %d\\n' % got)\n"
	"    def websocket(s):\n"
	"        if s.headers.get('Upgrade', '').lower() != 'websocket':\n"
	"            return s.answer(400, 'no Upgrade: websocket\\n')\n"
	"        k = s.headers['Sec-WebSocket-Key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'\n"
	"        s.send_response(101)\n"
	"        s.send_header('Upgrade', 'websocket'); s.send_header('Connection', 'Upgrade')\n"
	"        s.send_header('Sec-WebSocket-Accept',"
	" base64.b64encode(hashlib.sha1(k.encode()).digest()).decode())\n"
	"        s.end_headers(); s.wfile.flush()\n"
	"        h = s.rfile.read(2); n = h[1] & 127; m = s.rfile.read(4); p = s.rfile.read(n)\n"
	"        s.wfile.write(bytes([0x81, n]) + bytes(c ^ m[i % 4] for i, c in enumerate(p)))\n"
	"        s.wfile.flush(); s.close_connection = True\n"
	"    def log_message(s, *a): pass\n"
	"http.server.ThreadingHTTPServer.request_queue_size = 1024\n"
	"srv = http.server.ThreadingHTTPServer(('', int(os.environ['PORT'])), H)\n"
	"if os.path.exists('/app/crash'):\n"
	"    import threading, time\n"
	"    threading.Thread(target=srv.serve_forever, daemon=True).start()\n"
	"    time.sleep(1); os._exit(3)\n"
	"srv.serve_forever()\n";

#define sw(...) SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__)
#define ok(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

static void setup(void)
{
	rt_setup(&sb, APP, RT_ROUTER, server_py, NULL);
}

static void teardown(void)
{
	rt_stop(&sb, &svscan);
	app_sandbox_release(&sb);
}

TestSuite(router, .init = setup, .fini = teardown, .timeout = 240);

struct response {
	int code;
	char *body;
};

/* GET path through the router with Host: host; code 0 when nothing answered. */
static struct response through(const char *host, const char *path)
{
	char *url = th_path("http://127.0.0.1:%d%s", sb.http_port, path);
	char *h = th_path("Host: %s", host);
	struct th_result r = th_runv(NULL, NULL, "curl", "-sS", "--max-time", "10", "-H", h,
				     "-w", "\n%{http_code}", url, NULL);
	struct response out = { 0, NULL };
	char *nl = strrchr(r.out, '\n');
	if (r.status == 0 && nl) {
		out.code = atoi(nl + 1);
		out.body = strndup(r.out, (size_t)(nl - r.out));
	}
	th_result_free(&r);
	free(url);
	free(h);
	return out;
}

static void assert_page(int code, const char *body_has)
{
	struct response r = through(APP ".localhost", "/");
	cr_assert_eq(r.code, code, "status %d, body %s", r.code, r.body ? r.body : "(none)");
	cr_assert(r.body && strstr(r.body, body_has), "%s", r.body ? r.body : "(none)");
	free(r.body);
}

static void deploy(const char *version)
{
	app_sandbox_write(&sb, "version", version, 0644);
	free(ok("git", "commit", "-qam", version));
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v"), "%s", out);
	free(out);
}

/*
 * The router's lines of the app's logs once they hold want (up to 5 s:
 * nginx writes a line once its response is sent, so curl may be first).
 */
static char *router_log(const char *want)
{
	char *out = NULL;
	for (int i = 0; i < 50; i++) {
		struct th_result l = sw("logs", "-p", "router", "-a", APP);
		free(out);
		out = strdup(l.out);
		th_result_free(&l);
		if (strstr(out, want))
			break;
		rt_pause_ms(100);
	}
	cr_assert(strstr(out, want), "no router line '%s' in:\n%s", want, out);
	return out;
}

Test(router, deploys_and_rollbacks_change_what_the_app_serves)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	assert_page(200, "one - web.1\n");
	deploy("two\n");
	assert_page(200, "two - web.1\n");
	free(ok(SLIPWAY_BIN, "config:set", "MSG=hi", "-a", APP));
	assert_page(200, "two hi web.1\n");
	free(ok(SLIPWAY_BIN, "rollback", "v1", "-a", APP));
	assert_page(200, "one - web.1\n");
	free(ok(SLIPWAY_BIN, "ps:restart", "-a", APP));
	assert_page(200, "one - web.1\n");

	/* open names the URL; an unknown host is no app */
	struct th_result r = sw("open", "-a", APP);
	char *url = th_path("http://" APP ".localhost:%d/\n", sb.http_port);
	cr_assert_str_eq(r.out, url);
	free(url);
	th_result_free(&r);
	struct response other = through("nosuch.localhost", "/");
	cr_assert_eq(other.code, 404);
	cr_assert(other.body && strstr(other.body, "No such app"), "%s", other.body);
	free(other.body);
}

Test(router, requests_carry_herokus_router_headers_and_the_router_logs_them)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	struct response r = through(APP ".localhost", "/headers");
	cr_assert_eq(r.code, 200);
	char *port = th_path("X-Forwarded-Port=%d\n", sb.http_port);
	cr_assert(strstr(r.body, "Host=" APP ".localhost\n"), "%s", r.body);
	cr_assert(strstr(r.body, "X-Forwarded-For=127.0.0.1\n"), "%s", r.body);
	cr_assert(strstr(r.body, "X-Forwarded-Proto=http\n"), "%s", r.body);
	cr_assert(strstr(r.body, port), "%s", r.body);
	const char *id = strstr(r.body, "X-Request-Id=");
	cr_assert(id && strcspn(id + 13, "\n") == 32, "%s", r.body);
	char *request_id = strndup(id + 13, 32);
	free(port);
	free(r.body);

	char *want = th_path("request_id=%s fwd=\"127.0.0.1\" dyno=web.1 connect=", request_id);
	char *out = router_log(want);
	cr_assert(strstr(out, want), "no router line for the request:\n%s", out);
	cr_assert(strstr(out, " slipway[router]: at=info method=GET path=\"/headers\" host="
			      APP ".localhost request_id="), "%s", out);
	cr_assert(strstr(out, "status=200 bytes="), "%s", out);
	cr_assert(strstr(out, "ms service="), "%s", out);
	free(out);
	free(want);
	free(request_id);
}

Test(router, maintenance_mode_answers_503_while_the_processes_run)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	struct th_result r = sw("maintenance", "-a", APP);
	cr_assert_str_eq(r.out, "off\n");
	th_result_free(&r);
	r = sw("maintenance:on", "-a", APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Enabling maintenance mode for " APP "... done\n");
	th_result_free(&r);
	assert_page(503, "Offline for maintenance");
	r = sw("maintenance", "-a", APP);
	cr_assert_str_eq(r.out, "on\n");
	th_result_free(&r);
	/* the processes keep running, and it is no release */
	int port = rt_port(&sb, 1, "web.1");
	char *body = rt_get(port);
	cr_assert(body, "web.1 stopped in maintenance mode");
	free(body);
	cr_assert_eq(app_sandbox_release_count(&sb), 1);
	/* it survives a stop and a start of the runtime */
	rt_stop(&sb, &svscan);
	svscan = rt_start(&sb);
	assert_page(503, "Offline for maintenance");
	free(router_log("slipway[router]: at=error code=H80 desc=\"Maintenance mode\""));
	free(ok(SLIPWAY_BIN, "maintenance:off", "-a", APP));
	assert_page(200, "one - web.1\n");
}

Test(router, no_web_process_is_an_application_error_and_a_failed_gate_keeps_the_old_one)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	free(ok(SLIPWAY_BIN, "ps:scale", "web=0", "-a", APP));
	assert_page(503, "Application error");
	free(router_log("at=error code=H14 desc=\"No web processes running\""));
	free(ok(SLIPWAY_BIN, "ps:scale", "web=2", "-a", APP));
	for (int i = 0; i < 100; i++) { /* scaling does not wait for the gate */
		struct response x = through(APP ".localhost", "/");
		free(x.body);
		if (x.code == 200)
			break;
		rt_pause_ms(100);
	}
	assert_page(200, "one - web.");

	/* a release whose web process never binds: the old ones go on serving */
	app_sandbox_setenv(&sb, "SLIPWAY_BOOT_TIMEOUT=2");
	app_sandbox_write(&sb, "Procfile", "web: sleep 600\n", 0644);
	free(ok("git", "commit", "-qam", "never binds"));
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "did not bind to $PORT within 2 s; v1 is still live"), "%s", out);
	free(out);
	assert_page(200, "one - web.");
}

/* The most GETs a load makes: far more than the switches it runs across take. */
#define LOAD_MAX 4000

/*
 * Runs GETs through the router in a child, one after another, until the
 * file stop exists or n were made; the file codes gets one status code a
 * line.
 */
static pid_t load(int n, const char *codes, const char *stop)
{
	char *url = th_path("http://127.0.0.1:%d/", sb.http_port);
	char *script = th_path("i=0; while [ $i -lt %d ] && [ ! -e '%s' ]; do i=$((i+1)); "
			       "curl -s -o /dev/null --max-time 10 -H 'Host: " APP ".localhost' "
			       "-w '%%{http_code}\\n' %s; done > '%s'", n, stop, url, codes);
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	free(script);
	free(url);
	return pid;
}

Test(router, no_request_fails_during_deploys_rollbacks_config_changes_and_restarts)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	deploy("two\n");
	assert_page(200, "two - web.1\n");
	char *codes = th_path("%s/codes", sb.dir), *stop = th_path("%s/stop", sb.dir);
	pid_t pid = load(LOAD_MAX, codes, stop);
	for (int i = 0; i < 2; i++) {
		free(ok(SLIPWAY_BIN, "rollback", "-a", APP));
		char *kv = th_path("MSG=m%d", i);
		free(ok(SLIPWAY_BIN, "config:set", kv, "-a", APP));
		free(kv);
		free(ok(SLIPWAY_BIN, "ps:restart", "-a", APP));
		deploy(i ? "four\n" : "three\n");
	}
	/* the switches are over: the load, running all along, stops */
	th_write(stop, "", 0644);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	size_t len = 0;
	char *text = th_read(codes, &len);
	cr_assert(text);
	size_t lines = 0, good = 0;
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		lines++;
		good += !strcmp(l, "200");
	}
	cr_assert(lines > 0 && lines < LOAD_MAX, "the load made %zu requests: it ended before the "
		  "switches did", lines);
	cr_assert_eq(good, lines, "%zu of %zu requests failed during the switches", lines - good,
		     lines);
	assert_page(200, "four m1 web.1\n");
	free(text);
	free(stop);
	free(codes);
}

Test(router, server_start_refuses_a_port_in_use_and_starts_nothing)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)sb.http_port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 1), 0);
	struct th_result r = sw("server:start");
	cr_assert_eq(r.status, 1, "%s", r.out);
	char *want = th_path(" !    the router cannot listen on port %d: it is in use", sb.http_port);
	cr_assert(strstr(r.err, want), "%s", r.err);
	free(want);
	th_result_free(&r);
	r = sw("server:status");
	cr_assert(strstr(r.out, "Supervisor: not running"), "%s", r.out);
	th_result_free(&r);
	close(fd);
}

/*
 * Leaves a connection closing down (TIME_WAIT) on 127.0.0.1:port, as a
 * router killed while clients held keep-alive connections does: the
 * server's side closes first.
 */
static void time_wait_on(int port)
{
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(lfd, 1), 0);
	int cfd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(connect(cfd, (struct sockaddr *)&a, sizeof(a)), 0);
	int sfd = accept(lfd, NULL, NULL);
	cr_assert_geq(sfd, 0);
	close(sfd);
	char c;
	cr_assert_eq(read(cfd, &c, 1), 0, "the server's side closed first");
	close(cfd);
	close(lfd);
	rt_pause_ms(100);
	/* what a server without SO_REUSEADDR would be told: the port is in use */
	int probe = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	cr_assert_neq(bind(probe, (struct sockaddr *)&any, sizeof(any)), 0, "no TIME_WAIT was left");
	close(probe);
}

Test(router, server_start_after_a_crash_is_not_refused_for_connections_closing_down)
{
	time_wait_on(sb.http_port);
	struct th_result r = sw("server:start");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	svscan = atoi(strstr(r.out, "(pid ") + 5);
	th_result_free(&r);
	free(app_sandbox_push(&sb, "main"));
	assert_page(200, "one - web.1\n");
}

/* The page at / once it has want_in_body (polled up to about 20 s), asserted. */
static void assert_page_soon(const char *want_in_body)
{
	struct response got = { 0, NULL };
	for (int i = 0; i < 200; i++) {
		got = through(APP ".localhost", "/");
		if (got.code == 200 && got.body && strstr(got.body, want_in_body))
			break;
		free(got.body);
		got.body = NULL;
		rt_pause_ms(100);
	}
	cr_assert(got.body && strstr(got.body, want_in_body), "status %d, body %s", got.code,
		  got.body ? got.body : "(none)");
	free(got.body);
}

/* The nginx master's pid, from the pid file it writes. */
static pid_t nginx_master(void)
{
	char *path = th_path("%s/router/nginx.pid", sb.root), *text = th_read(path, NULL);
	cr_assert(text, "no %s", path);
	pid_t pid = (pid_t)atoi(text);
	cr_assert_gt(pid, 0);
	free(text);
	free(path);
	return pid;
}

/* /proc/PID/oom_score_adj */
static int oom_score_adj_of(pid_t pid)
{
	char *p = th_path("/proc/%d/oom_score_adj", (int)pid), *text = th_read(p, NULL);
	cr_assert(text, "no %s", p);
	int v = atoi(text);
	free(text);
	free(p);
	return v;
}

/*
 * Under memory pressure the kernel takes nginx as late as the tree (-500
 * where it may be lowered), never before app code (500).
 */
Test(router, the_router_is_as_safe_from_the_oom_killer_as_the_supervision_tree)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	assert_page(200, "one - web.1\n");
	int tree = oom_score_adj_of(svscan), router = oom_score_adj_of(nginx_master());
	cr_assert_eq(router, tree, "nginx at %d, the tree at %d", router, tree);
	cr_assert_lt(router, 500);
}

Test(router, a_killed_nginx_master_takes_its_workers_along_and_later_switches_are_served)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	assert_page(200, "one - web.1\n");
	int before = rt_port(&sb, 1, "web.1");
	/* what the OOM killer does */
	cr_assert_eq(kill(nginx_master(), SIGKILL), 0);
	/* a switch to new instances on another port: the router must follow it */
	free(ok(SLIPWAY_BIN, "config:set", "MSG=after", "-a", APP));
	cr_assert_neq(rt_port(&sb, 2, "web.1"), before);
	assert_page_soon("one after web.1\n");
	struct th_result r = sw("server:status");
	cr_assert(strstr(r.out, "Router:     running, nginx on 127.0.0.1:"), "%s", r.out);
	th_result_free(&r);
}

Test(router, a_killed_supervisor_of_the_router_leaves_one_nginx_that_serves_later_switches)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	assert_page(200, "one - web.1\n");
	int before = rt_port(&sb, 1, "web.1");
	pid_t master = nginx_master();
	char *dir = th_path("%s/services/router", sb.root);
	pid_t sup = rt_supervisor_of(dir);
	cr_assert_gt(sup, 1, "no s6-supervise for %s", dir);
	cr_assert_eq(kill(sup, SIGKILL), 0);
	cr_assert(rt_wait_new_supervisor(dir, sup), "no new supervisor for %s", dir);
	/* nginx went with its supervisor: no master or worker of it runs outside the tree */
	struct buf left = BUF_INIT;
	cr_assert_eq(rt_wait_inside_tree(&sb, svscan, &left), 0, "outside the tree:\n%s",
		     left.data ? left.data : "");
	buf_release(&left);
	/* the new supervisor's nginx serves, and follows a switch to another port */
	free(ok(SLIPWAY_BIN, "config:set", "MSG=after", "-a", APP));
	cr_assert_neq(rt_port(&sb, 2, "web.1"), before);
	assert_page_soon("one after web.1\n");
	cr_assert_neq(nginx_master(), master);
	free(dir);
}

/*
 * A service of the tree that is neither the router nor an app's, started
 * and running (its supervisor will linger once its directory is removed).
 */
static void add_probe(void)
{
	char *run = th_path("%s/services/probe/run", sb.root);
	th_write(run, "#!/bin/sh\nexec sleep 1000\n", 0755);
	char *scandir = th_path("%s/services", sb.root), *dir = th_path("%s/services/probe", sb.root);
	free(ok("s6-svscanctl", "-a", scandir));
	struct th_result r = { 0 };
	for (int i = 0; i < 100; i++) {
		r = SANDBOX_RUN(&sb, NULL, "s6-svstat", "-o", "up", dir);
		int up = r.status == 0 && !strcmp(r.out, "true\n");
		th_result_free(&r);
		if (up)
			break;
		rt_pause_ms(100);
	}
	free(dir);
	free(scandir);
	free(run);
}

/* The runtime running the app, then s6-svscan killed as kill -9 does; its pid. */
static void kill_the_supervisor(void)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	assert_page(200, "one - web.1\n");
	add_probe();
	cr_assert_eq(kill(svscan, SIGKILL), 0);
	char *cwd = th_path("/proc/%d/cwd", (int)svscan);
	for (int i = 0; i < 100 && !access(cwd, F_OK); i++)
		rt_pause_ms(50);
	free(cwd);
	svscan = -1;
	/* a retired service whose directory is gone while its supervisor runs on */
	char *probe = th_path("%s/services/probe", sb.root);
	cr_assert_eq(fs_rm_rf(probe), 0);
	free(probe);
	assert_page(200, "one - web.1\n"); /* everything else runs on, outside any tree */
}

/* A process of the operator's that only works in dir (a shell cd'ed there), not the root's. */
static pid_t bystander(const char *dir)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		if (chdir(dir) == 0)
			execlp("sleep", "sleep", "1000", (char *)NULL);
		_exit(127);
	}
	return pid;
}

Test(router, server_stop_after_a_killed_supervisor_leaves_no_process_of_the_root)
{
	kill_the_supervisor();
	char *dir = th_path("%s/services/router", sb.root);
	pid_t shell = bystander(dir);
	free(dir);
	struct th_result r = sw("server:status");
	cr_assert(strstr(r.out, "Supervisor: not running"), "%s", r.out);
	cr_assert(strstr(r.out, "\nOutside:    "), "the leftovers are not counted:\n%s", r.out);
	cr_assert(strstr(r.out, "Services:   3\n"), "%s", r.out); /* the router, the dashboard and web.1 */
	th_result_free(&r);

	r = sw("server:stop");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "left running by a supervisor of"), "%s", r.out);
	cr_assert(strstr(r.out, "... done\n"), "%s", r.out);
	th_result_free(&r);
	cr_assert_eq(waitpid(shell, NULL, WNOHANG), 0, "a process that only sat there was ended");
	kill(shell, SIGKILL);
	waitpid(shell, NULL, 0);
	struct buf left = BUF_INIT;
	cr_assert_eq(rt_processes_of(&sb, &left), 0, "still running after server:stop:\n%s",
		     left.data ? left.data : "");
	buf_release(&left);
	struct response got = through(APP ".localhost", "/");
	cr_assert_eq(got.code, 0, "the router still answers: %d", got.code);
	free(got.body);

	r = sw("server:status", "--json");
	const char *stopped = "{\"running\":false,\"pid\":0,\"services\":0,\"outside\":0,"
			      "\"router\":\"not running\",\"limits\":{";
	cr_assert(!strncmp(r.out, stopped, strlen(stopped)), "%s", r.out);
	th_result_free(&r);
	r = sw("server:stop");
	char *not = th_path("The runtime of %s is not running\n", sb.root);
	cr_assert_str_eq(r.out, not);
	free(not);
	th_result_free(&r);
}

Test(router, server_start_after_a_killed_supervisor_takes_over_every_process)
{
	kill_the_supervisor();
	struct th_result r = sw("server:start");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "left running by a supervisor that was killed\n"), "%s", r.out);
	svscan = atoi(strstr(r.out, "(pid ") + 5);
	th_result_free(&r);
	assert_page_soon("one - web.1\n");
	/* one tree: every process of the root is the new s6-svscan's */
	r = sw("server:status", "--json");
	char *want = th_path("{\"running\":true,\"pid\":%d,\"services\":3,\"outside\":0,"
				     "\"router\":\"running\",\"limits\":{",
			     (int)svscan);
	cr_assert(!strncmp(r.out, want, strlen(want)), "%s", r.out);
	free(want);
	th_result_free(&r);
	/* the new tree manages the instances: a restart replaces web.1 */
	int before = rt_port(&sb, 1, "web.1");
	free(ok(SLIPWAY_BIN, "ps:restart", "-a", APP));
	cr_assert_neq(rt_port(&sb, 1, "web.1"), before);
	assert_page_soon("one - web.1\n");

	r = sw("server:stop");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	th_result_free(&r);
	struct buf left = BUF_INIT;
	cr_assert_eq(rt_processes_of(&sb, &left), 0, "still running after server:stop:\n%s",
		     left.data ? left.data : "");
	buf_release(&left);
}

Test(router, server_run_after_a_killed_supervisor_takes_over_every_process)
{
	kill_the_supervisor();
	/* what systemd's Restart= does: the tree again, in the foreground */
	char *log = th_path("%s/server-run.log", sb.dir);
	const char *argv[] = { SLIPWAY_BIN, "server:run", NULL };
	pid_t run = app_sandbox_start(&sb, log, argv);
	struct th_result r = { 0 };
	for (int i = 0; i < 200; i++) {
		r = sw("server:status", "--json");
		char *want = th_path("{\"running\":true,\"pid\":%d,\"services\":3,\"outside\":0,"
				     "\"router\":\"running\",\"limits\":{",
				     (int)run);
		int done = !strncmp(r.out, want, strlen(want));
		free(want);
		if (done)
			break;
		th_result_free(&r);
		rt_pause_ms(100);
	}
	cr_assert(strstr(r.out, "\"outside\":0,"), "%s", r.out);
	th_result_free(&r);
	assert_page_soon("one - web.1\n");
	r = sw("server:stop");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	th_result_free(&r);
	cr_assert_eq(waitpid(run, NULL, 0), run);
	struct buf left = BUF_INIT;
	cr_assert_eq(rt_processes_of(&sb, &left), 0, "still running after server:stop:\n%s",
		     left.data ? left.data : "");
	buf_release(&left);
	free(log);
}

Test(router, server_run_starts_the_tree_of_a_root_never_started)
{
	/* what systemd's first start of a new server does: no services/ yet */
	char *services = th_path("%s/services", sb.root);
	cr_assert(access(services, F_OK) && errno == ENOENT, "%s exists before any start", services);
	free(services);
	char *log = th_path("%s/server-run.log", sb.dir);
	const char *argv[] = { SLIPWAY_BIN, "server:run", NULL };
	pid_t run = app_sandbox_start(&sb, log, argv);
	struct th_result r = { 0 };
	char *want = th_path("{\"running\":true,\"pid\":%d,", (int)run);
	for (int i = 0; i < 200; i++) {
		r = sw("server:status", "--json");
		if (!strncmp(r.out, want, strlen(want)) || waitpid(run, NULL, WNOHANG) == run)
			break;
		th_result_free(&r);
		rt_pause_ms(100);
	}
	char *said = th_read(log, NULL);
	cr_assert(!strncmp(r.out, want, strlen(want)), "%s\nserver:run said: %s", r.out, said);
	th_result_free(&r);
	r = sw("server:stop");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	th_result_free(&r);
	cr_assert_eq(waitpid(run, NULL, 0), run);
	free(said);
	free(want);
	free(log);
}

/* The direct children of pid, by their command names ("pasta\nslipway\n"); malloc'ed. */
static char *children_of(pid_t pid)
{
	char *path = th_path("/proc/%d/task/%d/children", (int)pid, (int)pid);
	char *kids = th_read(path, NULL);
	struct buf names = BUF_INIT;
	buf_adds(&names, "");
	for (char *k = kids ? strtok(kids, " \n") : NULL; k; k = strtok(NULL, " \n")) {
		char *comm_path = th_path("/proc/%s/comm", k), *comm = th_read(comm_path, NULL);
		buf_adds(&names, comm ? comm : "?\n");
		free(comm);
		free(comm_path);
	}
	free(kids);
	free(path);
	return names.data;
}

/*
 * Whether web.1 runs beside a forwarder (pasta: a network of its own):
 * s6-supervise -> slipway instance:run -> the forwarder and the sandbox.
 * -1 while there is no such process.
 */
static int web_has_its_own_network(void)
{
	char *dir = rt_service_dir(&sb, 1, "web.1");
	pid_t sup = dir ? rt_supervisor_of(dir) : 0;
	int own = -1;
	if (sup > 0) {
		char *path = th_path("/proc/%d/task/%d/children", (int)sup, (int)sup);
		char *kids = th_read(path, NULL);
		pid_t inst = kids ? (pid_t)atoi(kids) : 0;
		if (inst > 0) {
			char *names = children_of(inst);
			own = strstr(names, "pasta") || strstr(names, "passt");
			free(names);
		}
		free(kids);
		free(path);
	}
	free(dir);
	return own;
}

Test(router, instances_the_tree_starts_read_the_server_users_global_settings)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	assert_page(200, "one - web.1\n");
	/* the control: by default, a network of its own */
	int own = -1;
	for (int i = 0; i < 100 && own != 1; i++, rt_pause_ms(100))
		own = web_has_its_own_network();
	cr_assert_eq(own, 1, "web.1 runs without a forwarder by default");
	/* the server user's global git config (its HOME, as systemd's User= gives it) */
	free(ok("git", "config", "--global", "slipway.appNetwork", "host"));
	free(ok(SLIPWAY_BIN, "ps:restart", "-a", APP));
	for (int i = 0; i < 100 && own != 0; i++, rt_pause_ms(100))
		own = web_has_its_own_network();
	cr_assert_eq(own, 0, "web.1 restarted by its supervisor ignores the global slipway.appNetwork host");
	assert_page_soon("one - web.1\n");
}

Test(router, server_status_says_when_the_router_serves_an_older_configuration)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	assert_page(200, "one - web.1\n");
	struct th_result r = sw("server:status");
	cr_assert(strstr(r.out, "Router:     running, nginx on 127.0.0.1:"), "%s", r.out);
	th_result_free(&r);
	/* what a switch killed between writing the app's file and the reload leaves */
	char *conf = th_path("%s/router/apps/" APP ".conf", sb.root);
	char *text = th_read(conf, NULL), *changed = th_path("%s# changed\n", text);
	th_write(conf, changed, 0644);
	r = sw("server:status");
	cr_assert(strstr(r.out, "Router:     stale, nginx on 127.0.0.1:"), "%s", r.out);
	th_result_free(&r);
	r = sw("server:status", "--json");
	cr_assert(strstr(r.out, ",\"router\":\"stale\",\"limits\":{"), "%s", r.out);
	th_result_free(&r);
	/* a start makes it load what there is */
	free(ok(SLIPWAY_BIN, "server:start"));
	r = sw("server:status");
	cr_assert(strstr(r.out, "Router:     running, nginx on 127.0.0.1:"), "%s", r.out);
	th_result_free(&r);
	assert_page(200, "one - web.1\n");
	free(changed);
	free(text);
	free(conf);
}

Test(router, domains_add_serves_the_app_under_that_host_and_refusals_change_nothing)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	struct th_result r = sw("domains:add", "WWW.Example.com", "-a", APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Adding WWW.Example.com to " APP "... done\n");
	th_result_free(&r);
	struct response x = through("www.example.com", "/");
	cr_assert_eq(x.code, 200);
	cr_assert_str_eq(x.body, "one - web.1\n");
	free(x.body);
	r = sw("domains", "-a", APP);
	cr_assert_str_eq(r.out, "=== " APP " Slipway Domain\n" APP ".localhost\n\n"
				"=== " APP " Custom Domains\nwww.example.com\n");
	th_result_free(&r);

	/* refusals: a clear error, and the list is as it was */
	free(ok(SLIPWAY_BIN, "apps:create", "rr2"));
	const char *bad[][2] = {
		{ "bad_host!", "invalid domain 'bad_host!': use a host name such as www.example.com" },
		{ "x-.example.com", "invalid domain 'x-.example.com'" },
		{ "www.example.com", "the domain www.example.com is already used by the app " APP },
		{ "rr.localhost", "the domain rr.localhost is already used by the app " APP },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		r = sw("domains:add", bad[i][0], "-a", "rr2");
		cr_assert_eq(r.status, 1, "%s: %s", bad[i][0], r.out);
		cr_assert(strstr(r.err, bad[i][1]), "%s", r.err);
		th_result_free(&r);
	}
	r = sw("domains:add", "www.example.com", "-a", APP);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, APP " already has the domain www.example.com"), "%s", r.err);
	th_result_free(&r);
	r = sw("domains", "-a", "rr2");
	cr_assert_str_eq(r.out, "=== rr2 Slipway Domain\nrr2.localhost\n");
	th_result_free(&r);

	r = sw("apps:info", "-a", APP);
	cr_assert(strstr(r.out, "=== " APP "\nGit URL:     "), "%s", r.out);
	char *web = th_path("Web URL:     http://" APP ".localhost:%d/\nDynos:       web: 1\n",
			    sb.http_port);
	cr_assert(strstr(r.out, web), "%s", r.out);
	free(web);
	cr_assert(strstr(r.out, "Domains:     " APP ".localhost, www.example.com\n"
				"Maintenance: off\n"), "%s", r.out);
	th_result_free(&r);

	free(ok(SLIPWAY_BIN, "domains:remove", "www.example.com", "-a", APP));
	x = through("www.example.com", "/");
	cr_assert_eq(x.code, 404, "a removed domain still serves the app");
	free(x.body);
	r = sw("domains:remove", "www.example.com", "-a", APP);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, APP " has no domain www.example.com"), "%s", r.err);
	th_result_free(&r);
}

/* Commits what changed, pushes it: the push says want, and v1 goes on serving. */
static void push_fails(const char *message, const char *want)
{
	free(ok("git", "commit", "-qam", message));
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, want), "%s", out);
	free(out);
	assert_page(200, "one - web.1\n");
}

/* Waits up to about 40 s for `releases` to list want; fails the test if it never does. */
static void wait_release(const char *want)
{
	char *rels = NULL;
	for (int i = 0; i < 400; i++) {
		struct th_result r = sw("releases", "-a", APP);
		free(rels);
		rels = strdup(r.out);
		th_result_free(&r);
		if (strstr(rels, want))
			break;
		rt_pause_ms(100);
	}
	cr_assert(strstr(rels, want), "no automatic rollback:\n%s", rels);
	cr_assert(strstr(rels, "slipway"), "%s", rels);
	free(rels);
}

Test(router, a_release_that_fails_its_health_check_leaves_the_old_one_serving)
{
	svscan = rt_start(&sb);
	app_sandbox_write(&sb, "health", "200 ok\n", 0644);
	app_sandbox_write(&sb, "app.json", "{\"healthchecks\": {\"web\": [{\"type\": \"startup\","
			  " \"path\": \"/health\", \"attempts\": 2, \"timeout\": 2, \"wait\": 0,"
			  " \"content\": \"ok\"}]}}\n", 0644);
	free(ok("git", "add", "-A"));
	free(ok("git", "commit", "-qm", "checks"));
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v1"), "%s", out);
	free(out);
	assert_page(200, "one - web.1\n");

	/* a check that answers 500: the release fails, v1 goes on serving */
	app_sandbox_write(&sb, "health", "500 broken\n", 0644);
	app_sandbox_write(&sb, "version", "two\n", 0644);
	push_fails("broken health", "web.1 failed its health check GET /health: HTTP 500 after 2"
		   " attempts; v1 is still live");

	/* 200 without the content asked for fails too */
	app_sandbox_write(&sb, "health", "200 not yet\n", 0644);
	push_fails("no content", "web.1 failed its health check GET /health: the answer does not"
		   " hold \"ok\"");

	/* an app.json that is wrong is said in one line, and nothing starts */
	app_sandbox_write(&sb, "health", "200 ok\n", 0644);
	const char *bad[][2] = {
		{ "not json\n", "app.json is not a JSON object; v1 is still live" },
		{ "{\"healthchecks\": {\"web\": [{\"path\": \"/health\", \"retries\": 3}]}}\n",
		  "app.json: unknown health check field 'retries'" },
		{ "{\"healthchecks\": {\"web\": [{\"path\": \"/health\", \"attempts\": 0}]}}\n",
		  "app.json: healthchecks.web attempts must be a number from 1 to 100" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		app_sandbox_write(&sb, "app.json", bad[i][0], 0644);
		char *msg = th_path("bad app.json %zu", i);
		push_fails(msg, bad[i][1]);
		free(msg);
	}
	char *s = rt_services(&sb);
	cr_assert_str_eq(s, APP ".v1.web.1", "a failed release left instances: %s", s);
	free(s);
}

Test(router, a_release_that_crashes_after_going_live_is_rolled_back_automatically)
{
	app_sandbox_setenv(&sb, "SLIPWAY_WATCH=40");
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	assert_page(200, "one - web.1\n");
	/* v2 binds (it passes the gate), then exits a second later, again and again */
	app_sandbox_write(&sb, "crash", "yes\n", 0644);
	app_sandbox_write(&sb, "version", "two\n", 0644);
	free(ok("git", "add", "-A"));
	free(ok("git", "commit", "-qm", "crashes"));
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v2"), "%s", out);
	free(out);
	wait_release("v3  Rollback to v1 (automatic: web.1 crashed 3 times after v2 went live)");
	/*
	 * The release is logged once it is current: the switch is over, and the
	 * router's workers of v2's configuration are gone (until then, one of
	 * them may still answer for the crashing v2).
	 */
	struct th_result r = { 0 };
	for (int i = 0; i < 100; i++) {
		th_result_free(&r);
		r = sw("logs", "-p", "api", "-a", APP);
		if (strstr(r.out, "Release v3 created"))
			break;
		rt_pause_ms(100);
	}
	assert_page(200, "one - web.1\n");
	cr_assert(strstr(r.out, "slipway[api]: Rolling back to v1 automatically: web.1 crashed 3 times"
				" after v2 went live"), "%s", r.out);
	cr_assert(strstr(r.out, "slipway[api]: Release v3 created by slipway: Rollback to v1"
				" (automatic: "), "%s", r.out);
	th_result_free(&r);
	/* it never loops: the rollback is not watched, and nothing else follows */
	rt_pause_ms(3000);
	cr_assert_eq(app_sandbox_release_count(&sb), 3);
	/* a rollback without a version never goes back to the release that was rolled back */
	r = sw("rollback", "-a", APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Rolling back " APP " to v1 (skipped v2: rolled back automatically)"
				"... done, v4\n");
	th_result_free(&r);
	assert_page(200, "one - web.1\n");
}

Test(router, with_slipway_router_system_an_operators_nginx_serves_the_apps)
{
	/* the operator's nginx, started by hand; it includes what Slipway writes */
	char *dir = th_path("%s/opnginx", sb.dir), *conf = th_path("%s/nginx.conf", dir);
	char *logs = th_path("%s/logs", dir), *tmp = th_path("%s/tmp", dir);
	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_assert_eq(mkdir(logs, 0755), 0);
	cr_assert_eq(mkdir(tmp, 0755), 0);
	char *text = th_path("pid nginx.pid;\nerror_log logs/error.log;\nuser root root;\n"
			     "events { worker_connections 64; }\n"
			     "http {\n\taccess_log off;\n\tclient_body_temp_path tmp;\n"
			     "\tproxy_temp_path tmp;\n\tfastcgi_temp_path tmp;\n\tuwsgi_temp_path tmp;\n"
			     "\tscgi_temp_path tmp;\n"
			     "\tinclude %s/router/http*.conf;\n\tinclude %s/router/apps/*.conf;\n}\n",
			     sb.root, sb.root);
	th_write(conf, text, 0644);
	free(ok("/usr/sbin/nginx", "-p", dir, "-c", "nginx.conf", "-e", "logs/error.log"));
	const char *words[] = { "/usr/sbin/nginx", "-p", dir, "-c", "nginx.conf", "-e",
				"logs/error.log", "-s", "reload", NULL };
	for (size_t i = 0; words[i]; i++)
		free(ok("git", "config", "--global", "--add", "slipway.routerReload", words[i]));
	app_sandbox_setenv(&sb, "SLIPWAY_ROUTER=system");

	svscan = rt_start(&sb);
	char *svc = th_path("%s/services/router", sb.root);
	cr_assert_not(fs_exists(svc), "slipway started its own nginx with slipway.router system");
	free(svc);
	free(app_sandbox_push(&sb, "main"));
	assert_page(200, "one - web.1\n");
	deploy("two\n");
	assert_page(200, "two - web.1\n");
	free(ok(SLIPWAY_BIN, "maintenance:on", "-a", APP));
	assert_page(503, "Offline for maintenance");
	free(ok(SLIPWAY_BIN, "maintenance:off", "-a", APP));
	assert_page(200, "two - web.1\n");
	/* the dashboard answers at its host through the same include, its script too */
	struct response login = through("dashboard.localhost", "/login");
	cr_assert_eq(login.code, 200, "%s", login.body ? login.body : "(none)");
	cr_assert(strstr(login.body, "<h1>Log in to Slipway</h1>"), "%s", login.body);
	char *src = strstr(login.body, "src=\"/static/login."), *end = src ? strchr(src + 5, '"') : NULL;
	cr_assert(end, "%s", login.body);
	char *script = strndup(src + 5, (size_t)(end - src - 5));
	struct response js = through("dashboard.localhost", script);
	cr_assert_eq(js.code, 200, "%s: %s", script, js.body ? js.body : "(none)");
	free(js.body);
	free(script);
	free(login.body);

	rt_stop(&sb, &svscan);
	char *pidfile = th_path("%s/nginx.pid", dir), *pid = th_read(pidfile, NULL);
	if (pid && atoi(pid) > 1)
		kill((pid_t)atoi(pid), SIGTERM); /* by the pid it wrote, never by name */
	free(pid);
	free(pidfile);
	free(text);
	free(tmp);
	free(logs);
	free(conf);
	free(dir);
}

Test(router, maintenance_on_that_the_router_refuses_leaves_maintenance_off)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	assert_page(200, "one - web.1\n");
	/* an nginx that refuses every configuration */
	app_sandbox_setenv(&sb, "SLIPWAY_NGINX=/bin/false");
	struct th_result r = sw("maintenance:on", "-a", APP);
	cr_assert_eq(r.status, 1, "%s", r.out);
	cr_assert_str_eq(r.out, "Enabling maintenance mode for " APP "... failed\n");
	cr_assert(strstr(r.err, " !    the router refused the new configuration"), "%s", r.err);
	th_result_free(&r);
	char *m = ok(SLIPWAY_BIN, "maintenance", "-a", APP);
	cr_assert_str_eq(m, "off\n");
	free(m);
	assert_page(200, "one - web.1\n");
	char *log = ok(SLIPWAY_BIN, "logs", "--source", "slipway", "-a", APP);
	cr_assert_null(strstr(log, "Maintenance mode on"), "%s", log);
	free(log);
	/* the same command with the real nginx: the page, so the refusal above was the switch's */
	app_sandbox_setenv(&sb, "SLIPWAY_NGINX=nginx");
	free(ok(SLIPWAY_BIN, "maintenance:on", "-a", APP));
	assert_page(503, "Offline for maintenance");
}

Test(router, server_start_refuses_a_malformed_router_limit_and_starts_nothing)
{
	app_sandbox_setenv(&sb, "SLIPWAY_ROUTER_CONNECTIONS=16");
	struct th_result r = sw("server:start");
	cr_assert_eq(r.status, 1, "%s", r.out);
	cr_assert_str_eq(r.err, " !    $SLIPWAY_ROUTER_CONNECTIONS: invalid value '16': use a number "
				"of connections from 32 to 1000000\n");
	cr_assert_str_eq(r.out, "");
	th_result_free(&r);
	r = sw("server:status");
	cr_assert(strstr(r.out, "Supervisor: not running"), "%s", r.out);
	th_result_free(&r);
}

Test(router, server_start_refuses_without_nginx_and_starts_nothing)
{
	app_sandbox_setenv(&sb, "SLIPWAY_NGINX=/nonexistent/nginx");
	struct th_result r = sw("server:start");
	cr_assert_eq(r.status, 1, "%s", r.out);
	cr_assert_str_eq(r.err, " !    nginx is not installed: install the nginx-light package "
				"(or set slipway.nginx)\n");
	th_result_free(&r);
	r = sw("server:status");
	cr_assert(strstr(r.out, "Supervisor: not running"), "%s", r.out);
	th_result_free(&r);
}

Test(router, a_release_whose_health_checks_fail_after_going_live_is_rolled_back)
{
	app_sandbox_setenv(&sb, "SLIPWAY_WATCH=60");
	svscan = rt_start(&sb);
	app_sandbox_write(&sb, "health", "200 ok\n", 0644);
	app_sandbox_write(&sb, "app.json", "{\"healthchecks\": {\"web\": [{\"path\": \"/health\","
			  " \"attempts\": 1, \"timeout\": 2, \"wait\": 0, \"content\": \"ok\"}]}}\n",
			  0644);
	free(ok("git", "add", "-A"));
	free(ok("git", "commit", "-qm", "checks"));
	free(app_sandbox_push(&sb, "main"));
	assert_page(200, "one - web.1\n");
	/* v2 passes its gate (the first check), then every later check fails */
	app_sandbox_write(&sb, "sick", "yes\n", 0644);
	app_sandbox_write(&sb, "version", "two\n", 0644);
	free(ok("git", "add", "-A"));
	free(ok("git", "commit", "-qm", "sick later"));
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v2"), "%s", out);
	free(out);
	/* a check every 5 s: three of them */
	wait_release("Rollback to v1 (automatic: web.1 failed its health check 3 times in a row"
		     " after v2 went live)");
}

Test(router, slipway_maintenance_page_is_the_operators_page)
{
	char *page = th_path("%s/down.html", sb.dir);
	th_write(page, "<h1>Back at noon</h1>\n", 0644);
	char *kv = th_path("SLIPWAY_MAINTENANCE_PAGE=%s", page);
	app_sandbox_setenv(&sb, kv);
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	free(ok(SLIPWAY_BIN, "maintenance:on", "-a", APP));
	assert_page(503, "<h1>Back at noon</h1>\n");
	free(kv);
	free(page);
}

Test(router, gc_rotates_a_full_router_log_and_the_router_writes_a_new_one)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	struct response r = through(APP ".localhost", "/first");
	free(r.body);
	free(router_log("path=\"/first\""));

	/* an app that never switches: its router log fills up */
	char *dir = th_path("%s/logs/" APP "/router", sb.root);
	char *current = th_path("%s/current", dir);
	size_t len = 0;
	char *line = th_read(current, &len);
	cr_assert(line && len > 0);
	FILE *f = fopen(current, "a");
	cr_assert(f);
	for (size_t written = len; written < 1100000; written += len)
		fwrite(line, 1, len, f);
	fclose(f);
	free(line);

	char *out = ok(SLIPWAY_BIN, "gc");
	cr_assert(strstr(out, "Rotated the router log of 1 app\n"), "%s", out);
	free(out);
	char *rotated = ok("sh", "-c", "ls \"$0\" | grep -c '^@' || true", dir);
	cr_assert_eq(atoi(rotated), 1, "%s", rotated);
	free(rotated);

	/* nginx reopened its log: new requests go to a new, small current */
	r = through(APP ".localhost", "/second");
	cr_assert_eq(r.code, 200);
	free(r.body);
	free(router_log("path=\"/second\""));
	char *now = th_read(current, &len);
	cr_assert(now && strstr(now, "/second") && len < 100000, "%zu bytes", len);
	free(now);
	/* and a gc with nothing full rotates nothing */
	out = ok(SLIPWAY_BIN, "gc");
	cr_assert_null(strstr(out, "Rotated"), "%s", out);
	free(out);
	free(current);
	free(dir);
}

/* GET path through the router with Host: host and two more header lines. */
static struct response through_with(const char *host, const char *path, const char *h1,
				    const char *h2)
{
	char *url = th_path("http://127.0.0.1:%d%s", sb.http_port, path);
	char *h = th_path("Host: %s", host);
	struct th_result r = th_runv(NULL, NULL, "curl", "-sS", "--max-time", "10", "-H", h,
				     "-H", h1, "-H", h2, "-w", "\n%{http_code}", url, NULL);
	struct response out = { 0, NULL };
	char *nl = strrchr(r.out, '\n');
	if (r.status == 0 && nl) {
		out.code = atoi(nl + 1);
		out.body = strndup(r.out, (size_t)(nl - r.out));
	}
	th_result_free(&r);
	free(url);
	free(h);
	return out;
}

Test(router, a_clients_own_x_real_ip_and_forwarded_never_reach_the_app)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	struct response r = through_with(APP ".localhost", "/headers", "X-Real-IP: 6.6.6.6",
					 "Forwarded: for=6.6.6.6;proto=https");
	cr_assert_eq(r.code, 200);
	cr_assert(strstr(r.body, "X-Real-IP=127.0.0.1\n"), "%s", r.body);
	cr_assert(strstr(r.body, "Forwarded=-\n"), "%s", r.body);
	cr_assert_null(strstr(r.body, "6.6.6.6"), "%s", r.body);
	free(r.body);
}

/*
 * A TCP connection to the router from the address from (a loopback one).
 * Its close resets it: thousands of them left in TIME_WAIT would hold
 * ports that later tests are given as free.
 */
static int dial(const char *from)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	struct linger reset = { .l_onoff = 1, .l_linger = 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	struct sockaddr_in a = { .sin_family = AF_INET };
	inet_pton(AF_INET, from, &a.sin_addr);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0, "bind %s", from);
	struct timeval tv = { 10, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)sb.http_port) };
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
	return fd;
}

static void send_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		cr_assert(n > 0, "send: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

/* Reads up to the end of the response's headers (or of what came); malloc'ed. */
static char *read_head(int fd)
{
	char *head = calloc(1, 8192);
	size_t n = 0;
	while (n < 8191 && !strstr(head, "\r\n\r\n")) {
		ssize_t got = recv(fd, head + n, 1, 0);
		if (got <= 0)
			break;
		n++;
	}
	return head;
}

/* A WebSocket to the app through the router, upgraded: its socket. */
static int ws_open(void)
{
	int fd = dial("127.0.0.1");
	const char req[] = "GET /ws HTTP/1.1\r\nHost: " APP ".localhost\r\nUpgrade: websocket\r\n"
			   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			   "Sec-WebSocket-Version: 13\r\n\r\n";
	send_all(fd, req, sizeof(req) - 1);
	char *head = read_head(fd);
	cr_assert(!strncmp(head, "HTTP/1.1 101 ", 13), "%s", head);
	/* RFC 6455's own example key and answer */
	cr_assert(strstr(head, "\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), "%s",
		  head);
	free(head);
	return fd;
}

/* A masked text frame "hello" on fd; the app sends it back unmasked. */
static void ws_echo(int fd)
{
	unsigned char frame[11] = { 0x81, 0x80 | 5, 1, 2, 3, 4 };
	for (int i = 0; i < 5; i++)
		frame[6 + i] = (unsigned char)("hello"[i] ^ frame[2 + i % 4]);
	send_all(fd, frame, sizeof(frame));
	unsigned char echo[16] = { 0 };
	size_t n = 0;
	while (n < 7) {
		ssize_t got = recv(fd, echo + n, sizeof(echo) - n, 0);
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	cr_assert_eq(n, 7, "the echo is %zu bytes", n);
	cr_assert_eq(echo[0], 0x81);
	cr_assert_eq(echo[1], 5);
	cr_assert_eq(memcmp(echo + 2, "hello", 5), 0);
}

Test(router, a_websocket_goes_through_the_router_to_the_app)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	int fd = ws_open();
	ws_echo(fd);
	close(fd);
}

/*
 * nginx keeps a worker of the old configuration until the requests it
 * carries are over (at most 10 s): a rollback to the release kept warm
 * serves at once and does not wait for them.  The WebSocket opened before
 * it still works after it returned - had it waited, nginx would have
 * closed it.
 */
Test(router, a_rollback_to_the_warm_release_does_not_wait_for_what_old_workers_carry)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	deploy("two\n");
	int fd = ws_open();
	free(ok(SLIPWAY_BIN, "rollback", "-a", APP));
	assert_page(200, "one - web.1\n");
	ws_echo(fd);
	close(fd);
}

/* The size of every file under the router's temporary directories, in bytes. */
static long long spooled(void)
{
	char *dir = th_path("%s/router/tmp", sb.root);
	char *out = ok("sh", "-c", "find \"$0\" -type f -printf '%s\\n' | awk '{s+=$1} END {print s+0}'",
		       dir);
	long long n = atoll(out);
	free(out);
	free(dir);
	return n;
}

Test(router, a_body_beyond_the_limit_is_refused_and_uploads_never_fill_the_disk)
{
	app_sandbox_setenv(&sb, "SLIPWAY_MAX_REQUEST_SIZE=48M");
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));

	/* beyond slipway.maxRequestSize: 413 as soon as the headers say so */
	int fd = dial("127.0.0.1");
	const char big[] = "POST /upload HTTP/1.1\r\nHost: " APP ".localhost\r\n"
			   "Content-Length: 67108864\r\n\r\n";
	send_all(fd, big, sizeof(big) - 1);
	char *head = read_head(fd);
	cr_assert(!strncmp(head, "HTTP/1.1 413 ", 13), "%s", head);
	free(head);
	close(fd);

	/*
	 * an upload held one byte short of its end: it streams to the app, none
	 * of it to disk.  8 MB is 512 times what nginx keeps in memory before it
	 * would spool, and small enough that the app has it well within the
	 * router's 30 s for an answer on a loaded machine (40 MB took longer)
	 */
	size_t len = 8 << 20;
	char *body = malloc(len);
	memset(body, 'x', len);
	fd = dial("127.0.0.1");
	char *req = th_path("POST /upload HTTP/1.1\r\nHost: " APP ".localhost\r\n"
			    "Content-Length: %zu\r\n\r\n", len + 1);
	send_all(fd, req, strlen(req));
	send_all(fd, body, len);
	rt_pause_ms(1000); /* what the router would spool, it has by now */
	long long on_disk = spooled();
	cr_assert_lt(on_disk, 1 << 20, "the router spooled %lld bytes of an upload to disk", on_disk);
	/* the app reads the 8 MB through its own network: slow on a loaded machine, not lost */
	struct timeval patient = { 90, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patient, sizeof(patient));
	send_all(fd, "x", 1);
	head = read_head(fd);
	cr_assert(!strncmp(head, "HTTP/1.1 200 ", 13), "%s", head);
	char answer[32] = "";
	ssize_t got = recv(fd, answer, sizeof(answer) - 1, 0);
	cr_assert(got > 0);
	char *want = th_path("got %zu\n", len + 1);
	cr_assert_str_eq(answer, want);
	free(want);
	free(head);
	free(req);
	free(body);
	close(fd);
}

/*
 * From 127.0.0.2, n requests to the app whose bodies never end; their
 * sockets, malloc'ed.  *refused gets how many of them the router closed
 * (waiting up to about 60 s for want of them), *told429 how many of those
 * were told 429 first.
 */
static int *flood(int n, int want, int *refused, int *told429)
{
	int *fds = calloc((size_t)n, sizeof(int));
	char *closed = calloc((size_t)n, 1);
	const char held[] = "POST /upload HTTP/1.1\r\nHost: " APP ".localhost\r\n"
			    "Content-Length: 1000000\r\n\r\nstart of a body that never ends";
	for (int i = 0; i < n; i++) {
		fds[i] = dial("127.0.0.2");
		send_all(fds[i], held, sizeof(held) - 1);
	}
	*refused = *told429 = 0;
	rt_pause_ms(1000); /* the router has taken them in */
	for (int round = 0; round < 600 && *refused < want; round++) {
		for (int i = 0; i < n; i++) {
			struct pollfd p = { .fd = fds[i], .events = POLLIN };
			if (closed[i] || poll(&p, 1, 0) != 1)
				continue;
			char buf[512];
			ssize_t got = recv(fds[i], buf, sizeof(buf) - 1, MSG_DONTWAIT);
			if (got > 0) {
				buf[got] = '\0';
				*told429 += !strncmp(buf, "HTTP/1.1 429 ", 13);
			} else {
				closed[i] = 1;
				++*refused;
			}
		}
		if (*refused < want)
			rt_pause_ms(100);
	}
	free(closed);
	return fds;
}

/* A second app, rr2, serving the same code. */
static void second_app(void)
{
	free(ok(SLIPWAY_BIN, "apps:create", "rr2"));
	char *repo = th_path("%s/apps/rr2.git", sb.root);
	free(ok("git", "push", "-q", repo, "main"));
	free(repo);
}

/* 20 GETs to rr2 from 127.0.0.1: how many answered 200. */
static int others_served(void)
{
	int good = 0;
	char *url = th_path("http://127.0.0.1:%d/", sb.http_port);
	for (int i = 0; i < 20; i++) {
		struct th_result r = th_runv(NULL, NULL, "curl", "-s", "-o", "/dev/null", "--max-time",
					     "3", "-H", "Host: rr2.localhost", "-w", "%{http_code}",
					     url, NULL);
		good += !strcmp(r.out, "200");
		th_result_free(&r);
	}
	free(url);
	return good;
}

static void files_up_to_hard_limit(int need)
{
	struct rlimit rl;
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)need + 256 > rl.rlim_cur)
		cr_skip_test("%d connections need more open files than %llu", need,
			     (unsigned long long)rl.rlim_cur);
}

Test(router, thousands_of_half_sent_requests_from_one_client_leave_room_for_the_others)
{
	/* the router's own defaults: no setting but the port */
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	second_app();
	enum { N = 3000 };
	files_up_to_hard_limit(N);
	int *fds = calloc(N, sizeof(int));
	const char half[] = "GET / HTTP/1.1\r\nHost: " APP ".localhost\r\nX-Never: ends";
	for (int i = 0; i < N; i++) {
		fds[i] = dial("127.0.0.2");
		send_all(fds[i], half, sizeof(half) - 1);
	}
	rt_pause_ms(1000); /* the router has taken them in */
	int good = others_served();
	cr_assert_eq(good, 20, "%d of 20 requests to another app failed", 20 - good);
	for (int i = 0; i < N; i++)
		close(fds[i]);
	free(fds);
}

/*
 * Enough held requests to take every connection of the router's workers
 * (one a CPU, 64 connections each, two a request); this process may open
 * as many files as its hard limit allows.
 */
static int flood_size(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int n = cpus < 1 ? 100 : (int)cpus * 100;
	files_up_to_hard_limit(n);
	return n;
}

Test(router, one_client_cannot_take_the_routers_connections_from_the_others)
{
	app_sandbox_setenv(&sb, "SLIPWAY_ROUTER_CONNECTIONS=64");
	app_sandbox_setenv(&sb, "SLIPWAY_ROUTER_CLIENT_CONNECTIONS=10");
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	second_app();
	int n = flood_size(), refused = 0, told429 = 0;
	int *fds = flood(n, n - 10, &refused, &told429);
	int good = others_served();
	/* only 10 of one address's requests are held; the router closes the others */
	cr_assert_geq(refused, n - 10, "the router closed %d of %d held requests", refused, n);
	cr_assert_gt(told429, 0, "no request beyond the limit was told 429");
	cr_assert_eq(good, 20, "%d of 20 requests to another app failed", 20 - good);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

Test(router, without_a_limit_per_client_one_client_takes_the_routers_connections)
{
	/* the control: the same flood, slipway.routerClientConnections out of its way */
	app_sandbox_setenv(&sb, "SLIPWAY_ROUTER_CONNECTIONS=64");
	app_sandbox_setenv(&sb, "SLIPWAY_ROUTER_CLIENT_CONNECTIONS=65535");
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	second_app();
	int n = flood_size(), refused = 0, told429 = 0;
	int *fds = flood(n, 0, &refused, &told429);
	int good = others_served();
	cr_assert_lt(good, 20, "all of 20 requests to another app succeeded: the flood did nothing");
	cr_log_info("without the limit, %d of 20 requests to another app failed", 20 - good);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}
