/*
 * The router on a port below 1024 without root: a server user that is not
 * root, given CAP_NET_BIND_SERVICE as an ambient capability (what
 * systemd's AmbientCapabilities= does; setpriv here), starts the runtime
 * with slipway.httpPort below 1024, pushes an app that builds and runs in
 * bubblewrap, and the router serves it on that port; a push without the
 * capability (as over ssh) goes live too.  Only nginx keeps the
 * capability; bubblewrap itself refuses to start with it (the control).
 */
#define _GNU_SOURCE
#include "tests/integration/runtime_helpers.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define APP "low"
#define NOBODY "65534"
/* CAP_NET_BIND_SERVICE (10) as /proc/PID/status shows a set of capabilities */
#define BIND_CAP "0000000000000400"
#define NO_CAPS "0000000000000000"

static struct app_sandbox sb;
static pid_t svscan = -1;

/* argv run as the user nobody holding CAP_NET_BIND_SERVICE, ambient and inheritable */
#define with_cap(...) SANDBOX_RUN(&sb, NULL, "setpriv", "--reuid=" NOBODY, "--regid=" NOBODY, \
				  "--clear-groups", "--inh-caps", "+net_bind_service", \
				  "--ambient-caps", "+net_bind_service", __VA_ARGS__)

/* argv run as the user nobody without any capability */
#define as_nobody(...) SANDBOX_RUN(&sb, NULL, "setpriv", "--reuid=" NOBODY, "--regid=" NOBODY, \
				   "--clear-groups", __VA_ARGS__)

static void setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("root is needed to run the server as another user with a capability");
	if (access("/usr/bin/setpriv", X_OK) || access("/usr/bin/bwrap", X_OK))
		cr_skip_test("setpriv and bubblewrap are needed (run scripts/deps)");
	rt_setup(&sb, APP, RT_ROUTER, rt_version_server_py, NULL);
}

static void teardown(void)
{
	struct th_result r = with_cap(SLIPWAY_BIN, "server:stop");
	th_result_free(&r);
	rt_stop(&sb, &svscan);
	app_sandbox_release(&sb);
}

TestSuite(low_port, .init = setup, .fini = teardown, .timeout = 240);

/* 1 if nothing listens on 127.0.0.1:port (root may bind it: it can tell). */
static int port_free(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* A free port from 900 to 1023, tried from a random one on. */
static int free_low_port(void)
{
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	int start = rand() % 124;
	for (int i = 0; i < 124; i++) {
		int p = 900 + (start + i) % 124;
		if (port_free(p))
			return p;
	}
	cr_skip_test("no free port below 1024 on 127.0.0.1");
	return -1;
}

/* The sandbox's SLIPWAY_HTTP_PORT, and where rt_page() asks, made port. */
static void use_http_port(int port)
{
	for (size_t i = 0; i < sb.nenv; i++)
		if (!strncmp(sb.env[i], "SLIPWAY_HTTP_PORT=", 18)) {
			free((char *)sb.env[i]);
			sb.env[i] = th_path("SLIPWAY_HTTP_PORT=%d", port);
		}
	sb.http_port = port;
}

/* The page the router serves for the app, once it is want (waited for up to about 20 s). */
static char *served(const char *want)
{
	char *body = NULL;
	for (int i = 0; i < 200; i++) {
		free(body);
		body = rt_page(&sb, APP ".localhost");
		if (body && !strcmp(body, want))
			break;
		rt_pause_ms(100);
	}
	return body;
}

/* The CapAmb line's value of pid ("" when it is gone). */
static char *ambient_of(const char *pid)
{
	char *path = th_path("/proc/%s/status", pid), line[256], *out = strdup("");
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapAmb:\t", 8)) {
			free(out);
			out = strndup(line + 8, strcspn(line + 8, "\n"));
		}
	if (f)
		fclose(f);
	free(path);
	return out;
}

/*
 * Of the root's processes whose argv holds what: how many there are, and
 * whether each one's ambient capabilities are want.
 */
static int each_ambient(const char *what, const char *want)
{
	struct buf list = BUF_INIT;
	int n = 0;
	rt_processes_of(&sb, &list);
	for (char *line = list.data, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strstr(line, what))
			continue;
		char pid[16];
		snprintf(pid, sizeof(pid), "%.*s", (int)strcspn(line, " "), line);
		char *amb = ambient_of(pid);
		if (*amb) {
			cr_assert_str_eq(amb, want, "%s", line);
			n++;
		}
		free(amb);
		if (!next)
			break;
	}
	buf_release(&list);
	return n;
}

Test(low_port, the_router_serves_below_1024_for_a_server_user_with_the_capability)
{
	/* the control: bubblewrap refuses to start holding the capability */
	struct th_result r = with_cap("bwrap", "--ro-bind", "/", "/", "true");
	cr_assert_eq(r.status, 1, "exit %d: %s", r.status, r.err);
	cr_assert(strstr(r.err, "bwrap: Unexpected capabilities but not setuid"), "%s", r.err);
	th_result_free(&r);
	/* and without it, bubblewrap runs as nobody */
	r = SANDBOX_RUN(&sb, NULL, "setpriv", "--reuid=" NOBODY, "--regid=" NOBODY, "--clear-groups",
			"bwrap", "--ro-bind", "/", "/", "true");
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);

	int port = free_low_port();
	use_http_port(port);
	/* the machine's tap device may be closed to nobody (0600): the host's network then */
	char *gd = th_path("--git-dir=%s", sb.repo);
	free(SANDBOX_OK(&sb, NULL, "git", gd, "config", "slipway.appNetwork", "host"));
	free(gd);
	struct th_result chown = th_runv(NULL, NULL, "chown", "-R", NOBODY ":" NOBODY, sb.dir, NULL);
	cr_assert_eq(chown.status, 0, "%s", chown.err);
	th_result_free(&chown);

	r = with_cap(SLIPWAY_BIN, "server:start");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	const char *p = strstr(r.out, "(pid ");
	cr_assert(p, "%s", r.out);
	svscan = (pid_t)atoi(p + 5);
	th_result_free(&r);

	/* the push builds in bubblewrap (the hook holds the capability too), the instance runs in it */
	r = with_cap("git", "push", "heroku", "main");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "remote: -----> Released v1: Deploy "), "%s", r.err);
	th_result_free(&r);
	char *body = served("one\n");
	cr_assert(body && !strcmp(body, "one\n"), "port %d: %s", port,
		  body ? body : "(no answer)");
	free(body);

	/*
	 * a push without the capability, as every push over ssh is (sshd's
	 * sessions get none of the service's): its nginx -t may not bind the
	 * port, yet the release goes live
	 */
	app_sandbox_write(&sb, "version", "two\n", 0644);
	r = as_nobody("git", "commit", "-qam", "two");
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	r = as_nobody("git", "push", "heroku", "main");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "remote: -----> Released v2: Deploy "), "%s", r.err);
	cr_assert_null(strstr(r.err, "router refused"), "%s", r.err);
	cr_assert_null(strstr(r.err, "failed"), "%s", r.err);
	th_result_free(&r);
	body = served("two\n");
	cr_assert(body && !strcmp(body, "two\n"), "port %d: %s", port, body ? body : "(no answer)");
	free(body);

	/* nginx alone kept it: not the app, its instance, nor the loggers */
	cr_assert_geq(each_ambient("nginx: master process", BIND_CAP), 1);
	cr_assert_geq(each_ambient("server.py", NO_CAPS), 1);
	cr_assert_geq(each_ambient("instance:run", NO_CAPS), 1);
	cr_assert_geq(each_ambient("s6-log", NO_CAPS), 1);
}
