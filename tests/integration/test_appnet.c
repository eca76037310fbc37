/*
 * An app's own network (slipway.appNetwork private, the default): an
 * instance is reached only through its $PORT on the host's 127.0.0.1, and
 * app code - an instance, a one-off - reaches neither another app's
 * instance, nor the host's loopback services (a real sshd), nor sees the
 * host's listening sockets; a port number bound inside changes nothing on
 * the host.  Each with a control run under slipway.appNetwork host showing
 * what the defence keeps out.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"
#include "tests/integration/sshd.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define APP "app"

static struct app_sandbox sb;
static pid_t child = -1, sshd = -1;

/* web says when it binds, a second after it started: "up" must wait for that, not the forwarder */
static const char procfile[] =
	"web: sleep 1; echo \"binding $PORT\"; exec python3 -m http.server $PORT\n";

static void setup(void)
{
	app_sandbox_init(&sb, APP, APP_SANDBOX_BATCH);
	app_sandbox_write(&sb, "Procfile", procfile, 0644);
	app_sandbox_write(&sb, "index.html", "<h1>b's page</h1>\n", 0644);
	app_sandbox_create(&sb, NULL);
	app_sandbox_checkout(&sb, NULL, "main", "first");
	free(app_sandbox_push(&sb, "main"));
}

static void stop_child(void)
{
	if (child > 0) {
		kill(child, SIGTERM);
		waitpid(child, NULL, 0);
		child = -1;
	}
}

static void teardown(void)
{
	stop_child();
	if (sshd > 0) {
		kill(sshd, SIGKILL);
		waitpid(sshd, NULL, 0);
		sshd = -1;
	}
	app_sandbox_release(&sb);
}

TestSuite(appnet, .init = setup, .fini = teardown, .timeout = 180);

/* Starts `slipway instance:run web.1 --port port -a APP`, output into log; waits until it is up. */
static void start_web(int port, const char *log)
{
	char p[16];
	snprintf(p, sizeof(p), "%d", port);
	const char *argv[] = { SLIPWAY_BIN, "instance:run", "web.1", "--port", p, "-a", APP, NULL };
	unlink(log);
	child = app_sandbox_start(&sb, log, argv);
	app_sandbox_wait_for(log, "State changed from starting to up");
}

/* The forwarder among parent's children (its comm: "pasta", or "passt.avx2" it re-runs as), or 0. */
static pid_t forwarder_of(pid_t parent)
{
	char *path = th_path("/proc/%d/task/%d/children", (int)parent, (int)parent);
	char *kids = th_read(path, NULL);
	pid_t found = 0;
	for (char *k = kids ? strtok(kids, " \n") : NULL; k && !found; k = strtok(NULL, " \n")) {
		char *comm_path = th_path("/proc/%s/comm", k), *comm = th_read(comm_path, NULL);
		if (comm && (!strncmp(comm, "pasta", 5) || !strncmp(comm, "passt", 5)))
			found = (pid_t)atoi(k);
		free(comm);
		free(comm_path);
	}
	free(kids);
	free(path);
	return found;
}

/* What `slipway run -a APP -- sh -c script` printed and its status. */
static struct th_result app_run(const char *script)
{
	return SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, "run", "-a", APP, "--", "sh", "-c", script);
}

/* The body curl gets from 127.0.0.1:port on the host ("" when it gets none). */
static char *host_get(int port)
{
	char *url = th_path("http://127.0.0.1:%d/index.html", port);
	struct th_result r = th_runv(NULL, NULL, "curl", "-sS", "--max-time", "5", url, NULL);
	char *out = strdup(r.status == 0 ? r.out : "");
	th_result_free(&r);
	free(url);
	return out;
}

/*
 * What app code sees of the host from inside: "web:N" whether it reached
 * the instance on web_port, "ssh:N" whether the sshd on ssh_port, and the
 * host's listeners it sees in /proc/net/tcp ("tcp:web" and "tcp:ssh").
 */
static char *look_around(int web_port, int ssh_port)
{
	char *script = th_path(
		"curl -s -o /dev/null --max-time 5 http://127.0.0.1:%d/; echo web:$?; "
		"python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", %d), 5)' "
		"2>/dev/null; echo ssh:$?; "
		"grep -qi ':%04X 00000000:0000 0A' /proc/net/tcp && echo tcp:web; "
		"grep -qi ':%04X 00000000:0000 0A' /proc/net/tcp && echo tcp:ssh; true",
		web_port, ssh_port, web_port, ssh_port);
	struct th_result r = app_run(script);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	char *out = strdup(r.out);
	th_result_free(&r);
	free(script);
	return out;
}

Test(appnet, app_code_reaches_no_other_instance_nor_the_hosts_loopback_nor_sees_its_sockets)
{
	th_sshd_require();
	char *user = th_sshd_user(), *dir = th_path("%s/sshd", sb.dir);
	int ssh_port = th_free_port(), web_port = th_free_port();
	cr_assert_eq(mkdir(dir, 0700), 0);
	sshd = th_sshd_start(dir, ssh_port, user);
	char *log = th_path("%s/web.log", sb.dir);
	start_web(web_port, log);

	/* up once the app binds, though its forwarder listened on the host from the start */
	char *text = th_read(log, NULL);
	char *binding = strstr(text, "binding"), *up = strstr(text, "starting to up");
	cr_assert(binding && up && binding < up, "up before the app bound its port:\n%s", text);
	free(text);
	/* the host reaches it through its $PORT */
	char *page = host_get(web_port);
	cr_assert_str_eq(page, "<h1>b's page</h1>\n");
	free(page);

	char *seen = look_around(web_port, ssh_port);
	cr_assert(strstr(seen, "web:7\n"), "app code reached another instance:\n%s", seen);
	cr_assert(strstr(seen, "ssh:1\n"), "app code reached the host's sshd:\n%s", seen);
	cr_assert_null(strstr(seen, "tcp:"), "app code saw the host's sockets:\n%s", seen);
	free(seen);

	/* its forwarder gone, the instance stops rather than serve nothing on its port */
	pid_t fw = forwarder_of(child);
	cr_assert_gt(fw, 0, "no forwarder runs beside the instance");
	cr_assert_eq(kill(fw, SIGKILL), 0);
	app_sandbox_wait_for(log, "Process exited with status 137");
	cr_assert_eq(waitpid(child, NULL, 0), child);
	child = -1;
	text = th_read(log, NULL);
	cr_assert(strstr(text, "Error: the process's network ended; stopping it with SIGKILL"), "%s",
		  text);
	free(text);

	/* control: on the host's network, all of it is in reach */
	app_sandbox_setenv(&sb, "SLIPWAY_APP_NETWORK=host");
	start_web(web_port, log);
	seen = look_around(web_port, ssh_port);
	cr_assert(strstr(seen, "web:0\n"), "%s", seen);
	cr_assert(strstr(seen, "ssh:0\n"), "%s", seen);
	cr_assert(strstr(seen, "tcp:web\n") && strstr(seen, "tcp:ssh\n"), "%s", seen);
	free(seen);
	free(log);
	free(dir);
	free(user);
}

/*
 * B crashes and restarts on its port while A holds that port number: in its
 * own network A takes nothing from B, and B's traffic stays B's.
 */
static char *grab_while_b_restarts(int port, const char *log)
{
	start_web(port, log);
	char *page = host_get(port);
	cr_assert_str_eq(page, "<h1>b's page</h1>\n");
	free(page);
	kill(child, SIGKILL); /* B's instance crashes: its port is free on the host */
	waitpid(child, NULL, 0);
	child = -1;
	/* A binds B's port, answers everyone with its own page, and keeps it */
	char *script = th_path(
		"python3 -c 'import http.server, socketserver, os\n"
		"class H(http.server.BaseHTTPRequestHandler):\n"
		"    def do_GET(self):\n"
		"        self.send_response(200); self.end_headers(); self.wfile.write(b\"a took it\\n\")\n"
		"s = http.server.HTTPServer((\"0.0.0.0\", %d), H)\n"
		"print(\"bound\", flush=True)\n"
		"s.serve_forever()' ",
		port);
	const char *argv[] = { SLIPWAY_BIN, "run", "-a", APP, "--", "sh", "-c", script, NULL };
	char *alog = th_path("%s/a.log", sb.dir);
	unlink(alog);
	pid_t a = app_sandbox_start(&sb, alog, argv);
	app_sandbox_wait_for(alog, "bound");
	/* B comes back on its port (s6 would start it again) */
	char p[16];
	snprintf(p, sizeof(p), "%d", port);
	const char *bargv[] = { SLIPWAY_BIN, "instance:run", "web.1", "--port", p, "-a", APP, NULL };
	unlink(log);
	child = app_sandbox_start(&sb, log, bargv);
	app_sandbox_wait_for(log, "binding");
	/* up, or failed for its port: either way the host's port is settled */
	for (int i = 0; i < 200; i++) {
		char *text = th_read(log, NULL);
		int settled = text && (strstr(text, "starting to up") || strstr(text, "crashed") ||
				       strstr(text, "Error"));
		free(text);
		if (settled)
			break;
		nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	page = host_get(port);
	kill(a, SIGTERM);
	waitpid(a, NULL, 0);
	stop_child();
	free(alog);
	free(script);
	return page;
}

Test(appnet, a_port_grabbed_while_an_instance_restarts_keeps_its_traffic_with_it)
{
	int port = th_free_port();
	char *log = th_path("%s/web.log", sb.dir);
	char *page = grab_while_b_restarts(port, log);
	cr_assert_str_eq(page, "<h1>b's page</h1>\n", "B's traffic went elsewhere: %s", page);
	free(page);

	/* control: on the host's network, A takes B's port and B's requests */
	app_sandbox_setenv(&sb, "SLIPWAY_APP_NETWORK=host");
	page = grab_while_b_restarts(port, log);
	cr_assert_str_eq(page, "a took it\n");
	free(page);
	char *text = th_read(log, NULL);
	cr_assert(strstr(text, "Address already in use"), "%s", text);
	free(text);
	free(log);
}

Test(appnet, a_push_says_when_the_apps_processes_share_the_hosts_network)
{
	/* the default says nothing */
	app_sandbox_write(&sb, "index.html", "<h1>b's second page</h1>\n", 0644);
	free(SANDBOX_OK(&sb, NULL, "git", "commit", "-q", "-am", "second"));
	char *out = app_sandbox_push(&sb, "main");
	cr_assert_null(strstr(out, "appNetwork"), "%s", out);
	free(out);
	app_sandbox_setenv(&sb, "SLIPWAY_APP_NETWORK=host");
	app_sandbox_write(&sb, "index.html", "<h1>b's third page</h1>\n", 0644);
	free(SANDBOX_OK(&sb, NULL, "git", "commit", "-q", "-am", "third"));
	out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "remote:  !     Warning: slipway.appNetwork is host: the app's "
			      "processes share the host's network, its loopback services included"),
		  "%s", out);
	free(out);
}

Test(appnet, an_instance_whose_port_is_taken_on_the_host_says_so_and_never_runs)
{
	int port = th_free_port();
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(l, 8), 0);
	char p[16], *log = th_path("%s/web.log", sb.dir);
	snprintf(p, sizeof(p), "%d", port);
	const char *argv[] = { SLIPWAY_BIN, "instance:run", "web.1", "--port", p, "-a", APP, NULL };
	child = app_sandbox_start(&sb, log, argv);
	int status;
	cr_assert_eq(waitpid(child, &status, 0), child);
	child = -1;
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	char *text = th_read(log, NULL);
	cr_assert(strstr(text, "Error: cannot start the app's network: pasta exited with status 1"),
		  "%s", text);
	cr_assert_null(strstr(text, "app[web.1]: binding"), "the app ran without its port:\n%s", text);
	free(text);
	free(log);
	close(l);
}

/* A push whose release command tries the host's 127.0.0.1:PROBE_PORT; its output. */
static char *push_release_probe(const char *msg)
{
	static const char probe[] =
		"web: sleep 1; echo \"binding $PORT\"; exec python3 -m http.server $PORT\n"
		"release: python3 -c 'import os, socket; socket.create_connection((\"127.0.0.1\", "
		"int(os.environ[\"PROBE_PORT\"])), 5)' 2>/dev/null && echo probe: reached || "
		"echo probe: kept out\n";
	app_sandbox_write(&sb, "Procfile", probe, 0644);
	free(SANDBOX_OK(&sb, NULL, "git", "commit", "-q", "--allow-empty", "-am", msg));
	return app_sandbox_push(&sb, "main");
}

Test(appnet, the_release_command_reaches_nothing_on_the_hosts_loopback)
{
	int port = th_free_port();
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(l, 8), 0);
	char *kv = th_path("PROBE_PORT=%d", port);
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "config:set", kv, "-a", APP));
	char *out = push_release_probe("release probe");
	cr_assert(strstr(out, "probe: kept out"), "%s", out);
	free(out);
	/* control: on the host's network the release command reaches it */
	app_sandbox_setenv(&sb, "SLIPWAY_APP_NETWORK=host");
	out = push_release_probe("release probe, host");
	cr_assert(strstr(out, "probe: reached"), "%s", out);
	free(out);
	free(kv);
	close(l);
}
