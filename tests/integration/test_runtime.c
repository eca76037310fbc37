/*
 * Releases that run: with the runtime started (real s6), a deploy starts
 * web.1 and it answers HTTP on its port; config:set, a new deploy and a
 * rollback each start the new release's instance, gate on it and only then
 * retire the old one; a web process that never binds fails its release
 * and the old one keeps serving.
 */
#define _GNU_SOURCE
#include "tests/integration/runtime_helpers.h"

#include "util/fsutil.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define APP "rt"

static struct app_sandbox sb;
static pid_t svscan = -1;

static const char server_py[] =
	"import http.server, os\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def do_GET(s):\n"
	"        s.send_response(200); s.end_headers()\n"
	"        v = open('/app/version').read().strip()\n"
	"        s.wfile.write(('%s %s %s\\n' % (v, os.environ.get('MSG', '-'),"
	" os.environ['DYNO'])).encode())\n"
	"    def log_message(s, *a): pass\n"
	"http.server.HTTPServer(('', int(os.environ['PORT'])), H).serve_forever()\n";

#define sw(...) SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__)
#define ok(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

static void setup(void)
{
	rt_setup(&sb, APP, 0, server_py, NULL);
}

static void teardown(void)
{
	rt_stop(&sb, &svscan);
	app_sandbox_release(&sb);
}

TestSuite(runtime, .init = setup, .fini = teardown, .timeout = 180);

static void start_runtime(void)
{
	svscan = rt_start(&sb);
}

static char *services(void)
{
	return rt_services(&sb);
}

static int port_of_instance(int version, const char *instance)
{
	return rt_port(&sb, version, instance);
}

static int port_of(int version)
{
	return rt_port(&sb, version, "web.1");
}

static char *get(int port)
{
	return rt_get(port);
}

static void assert_serves(int version, const char *want)
{
	char *body = get(port_of(version));
	cr_assert(body, "v%d's web.1 does not answer", version);
	cr_assert_str_eq(body, want);
	free(body);
}

Test(runtime, each_release_starts_its_web_process_and_the_old_one_goes_after_it)
{
	/* the old release's instances go at once (kept warm: test_warm.c) */
	app_sandbox_setenv(&sb, "SLIPWAY_WARM_PREVIOUS=0");
	start_runtime();
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "remote: -----> Released v1: Deploy "), "%s", out);
	cr_assert_null(strstr(out, "not running"), "%s", out);
	free(out);
	assert_serves(1, "one - web.1\n");
	char *s = services();
	cr_assert_str_eq(s, APP ".v1.web.1");
	free(s);

	/* config:set: the new value, in a new instance; the old one is gone */
	int old = port_of(1);
	struct th_result r = sw("config:set", "MSG=hello", "-a", APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "Setting MSG and restarting " APP "... done, v2\n"), "%s", r.out);
	th_result_free(&r);
	assert_serves(2, "one hello web.1\n");
	s = services();
	cr_assert_str_eq(s, APP ".v2.web.1");
	free(s);
	int gone = 0;
	for (int i = 0; i < 100 && !gone; i++) { /* it got SIGTERM; it may take a moment */
		char *body = get(old);
		gone = body == NULL;
		free(body);
		if (!gone)
			nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	cr_assert(gone, "v1's process still answers");

	/* a new deploy, then a rollback to the old code */
	app_sandbox_write(&sb, "version", "two\n", 0644);
	free(ok("git", "commit", "-qam", "two"));
	free(app_sandbox_push(&sb, "main"));
	assert_serves(3, "two hello web.1\n");
	r = sw("rollback", "v2", "-a", APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "Rolling back " APP " to v2... done, v4\n"), "%s", r.out);
	th_result_free(&r);
	assert_serves(4, "one hello web.1\n");
	s = services();
	cr_assert_str_eq(s, APP ".v4.web.1");
	free(s);
}

Test(runtime, a_web_process_that_never_binds_fails_its_release_and_the_old_one_keeps_serving)
{
	start_runtime();
	free(app_sandbox_push(&sb, "main"));
	assert_serves(1, "one - web.1\n");
	app_sandbox_setenv(&sb, "SLIPWAY_BOOT_TIMEOUT=2");
	app_sandbox_write(&sb, "Procfile", "web: sleep 600\n", 0644);
	free(ok("git", "commit", "-qam", "never binds"));
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "remote:  !     web.1 did not bind to $PORT within 2 s; v1 is still live"),
		  "%s", out);
	cr_assert_null(strstr(out, "Released v2"), "%s", out);
	free(out);
	assert_serves(1, "one - web.1\n");
	char *s = services();
	cr_assert_str_eq(s, APP ".v1.web.1", "the failed release's instance was left: %s", s);
	free(s);
	struct th_result r = sw("releases:output", "v2", "-a", APP);
	cr_assert(strstr(r.out, "web.1 did not bind to $PORT within 2 s\n"), "%s", r.out);
	th_result_free(&r);
	r = sw("releases:info", "--json", "-a", APP); /* the latest: v2, failed */
	cr_assert(strstr(r.out, "{\"version\":2,") &&
		  strstr(r.out, "\"status\":\"failed\",\"current\":false"), "%s", r.out);
	th_result_free(&r);
	r = sw("releases:info", "v1", "--json", "-a", APP);
	cr_assert(strstr(r.out, "\"status\":\"succeeded\",\"current\":true"), "%s", r.out);
	th_result_free(&r);
	r = sw("releases", "-a", APP);
	cr_assert(strstr(r.out, " (processes failed to start)"), "%s", r.out);
	cr_assert_null(strstr(r.out, "release command failed"), "%s", r.out);
	th_result_free(&r);
	r = sw("logs", "-p", "api", "-a", APP);
	cr_assert(strstr(r.out, "slipway[api]: Release v2 failed: web.1 did not bind to $PORT within 2 s\n"),
		  "%s", r.out);
	th_result_free(&r);
}

Test(runtime, without_the_runtime_releases_are_recorded_as_before)
{
	char *out = app_sandbox_push(&sb, "main");
	char *sha = app_sandbox_head(&sb, NULL);
	char *line = th_path("remote: -----> Released v1: Deploy %.7s (not running: start the "
			     "runtime with 'slipway server:start')", sha);
	cr_assert(strstr(out, line), "%s", out);
	free(line);
	free(sha);
	free(out);
	char *dir = th_path("%s/services", sb.root);
	cr_assert_not(fs_exists(dir), "a release without the runtime made %s", dir);
	free(dir);
}

Test(runtime, releases_made_while_the_runtime_was_stopped_run_when_it_starts)
{
	start_runtime();
	free(app_sandbox_push(&sb, "main"));
	assert_serves(1, "one - web.1\n");
	free(ok(SLIPWAY_BIN, "server:stop"));
	svscan = -1;
	/* recorded while nothing runs: the next start must not bring v1 back */
	free(ok(SLIPWAY_BIN, "config:set", "MSG=later", "-a", APP));
	char *s = services();
	cr_assert_str_eq(s, "", "v1's service is still there to come back: %s", s);
	free(s);
	char *out = ok(SLIPWAY_BIN, "server:start");
	cr_assert(strstr(out, "Starting 1 process instance of the current releases\n"), "%s", out);
	const char *p = strstr(out, "(pid ");
	svscan = (pid_t)atoi(p + 5);
	free(out);
	s = services();
	cr_assert_str_eq(s, APP ".v2.web.1");
	free(s);
	char *body = NULL;
	for (int i = 0; i < 200 && !body; i++) { /* no gate at start: it comes up on its own */
		body = get(port_of(2));
		if (!body)
			nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	cr_assert(body, "v2's web.1 never answered after server:start");
	cr_assert_str_eq(body, "one later web.1\n");
	free(body);
}

Test(runtime, apps_destroy_stops_the_apps_processes)
{
	start_runtime();
	free(app_sandbox_push(&sb, "main"));
	int port = port_of(1);
	assert_serves(1, "one - web.1\n");
	free(ok(SLIPWAY_BIN, "apps:destroy", APP, "--confirm", APP));
	char *s = services();
	cr_assert_str_eq(s, "", "%s", s);
	free(s);
	int gone = 0;
	for (int i = 0; i < 100 && !gone; i++) {
		char *body = get(port);
		gone = body == NULL;
		free(body);
		if (!gone)
			nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	cr_assert(gone, "the destroyed app's web.1 still answers");
}

Test(runtime, ps_shows_the_running_instances_in_herokus_shape)
{
	struct th_result r = sw("ps", "-a", APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "No processes of " APP " are running. The runtime is not running "
				"(start it with: slipway server:start).\n");
	th_result_free(&r);
	start_runtime();
	free(app_sandbox_push(&sb, "main"));
	int port = port_of(1);
	r = sw("ps", "-a", APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(!strncmp(r.out, "=== web (1): exec python3 -u server.py\nweb.1: up ", 48), "%s",
		  r.out);
	char *tail = th_path("  v1, port %d\n", port);
	cr_assert(strstr(r.out, tail), "%s", r.out);
	free(tail);
	th_result_free(&r);
	r = sw("ps", "--json", "-a", APP);
	char *json = th_path("[{\"type\":\"web\",\"name\":\"web.1\",\"state\":\"up\",\"release\":1,"
			     "\"port\":%d,\"since\":\"", port);
	cr_assert(!strncmp(r.out, json, strlen(json)), "%s", r.out);
	free(json);
	th_result_free(&r);
}

Test(runtime, ps_scale_sets_the_formation_without_a_release_and_deploys_keep_it)
{
	/* the old release's instances go at once (kept warm: test_warm.c) */
	app_sandbox_setenv(&sb, "SLIPWAY_WARM_PREVIOUS=0");
	app_sandbox_write(&sb, "Procfile", "web: exec python3 -u server.py\n"
					   "worker: while :; do sleep 1; done\n", 0644);
	free(ok("git", "commit", "-qam", "worker"));
	start_runtime();
	free(app_sandbox_push(&sb, "main"));
	char *s = services();
	cr_assert_str_eq(s, APP ".v1.web.1", "only web runs by default: %s", s);
	free(s);

	struct th_result r = sw("ps:scale", "web=2", "worker+1", "-a", APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Scaling processes of " APP "... done, now running web at 2, "
				"worker at 1\n");
	th_result_free(&r);
	s = services();
	cr_assert_str_eq(s, APP ".v1.web.1 " APP ".v1.web.2 " APP ".v1.worker.1");
	free(s);
	char *body = NULL;
	for (int i = 0; i < 200 && !body; i++) { /* scaling does not wait for the new ones */
		body = get(port_of_instance(1, "web.2"));
		if (!body)
			nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	cr_assert(body, "web.2 never answered");
	cr_assert_str_eq(body, "one - web.2\n");
	free(body);
	cr_assert_eq(app_sandbox_release_count(&sb), 1, "scaling made a release");

	/* refusals change nothing */
	r = sw("ps:scale", "clock=1", "-a", APP);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, " !    no such process type 'clock' in release v1 (types: web, worker)\n");
	th_result_free(&r);
	r = sw("ps:scale", "web=21", "-a", APP);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, " !    cannot run 21 web processes: use 0 to 20 (slipway.maxInstances)\n");
	th_result_free(&r);
	r = sw("ps:scale", "web", "-a", APP);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "invalid change 'web': use TYPE=N, TYPE+N or TYPE-N"), "%s", r.err);
	th_result_free(&r);
	s = services();
	cr_assert_str_eq(s, APP ".v1.web.1 " APP ".v1.web.2 " APP ".v1.worker.1");
	free(s);

	/* the next release runs the same formation */
	r = sw("config:set", "MSG=scaled", "-a", APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	s = services();
	cr_assert_str_eq(s, APP ".v2.web.1 " APP ".v2.web.2 " APP ".v2.worker.1");
	free(s);
	body = get(port_of_instance(2, "web.2"));
	cr_assert(body);
	cr_assert_str_eq(body, "one scaled web.2\n");
	free(body);

	r = sw("ps:scale", "web=0", "worker=0", "-a", APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Scaling processes of " APP "... done, now running no processes\n");
	th_result_free(&r);
	s = services();
	cr_assert_str_eq(s, "");
	free(s);
}

Test(runtime, after_kill_9_of_the_whole_tree_server_start_brings_the_formation_back)
{
	start_runtime();
	free(app_sandbox_push(&sb, "main"));
	free(ok(SLIPWAY_BIN, "config:set", "MSG=kept", "-a", APP));
	int port = port_of(2);
	assert_serves(2, "one kept web.1\n");
	/* the tree is s6-svscan's process group: every supervisor, logger and instance */
	cr_assert_eq(kill(-svscan, SIGKILL), 0);
	svscan = -1;
	cr_assert(rt_wait_gone(port), "the app still answers after its tree was killed");
	struct th_result r = sw("server:status");
	cr_assert(strstr(r.out, "not running"), "%s", r.out);
	th_result_free(&r);

	start_runtime();
	char *body = rt_wait_get(port_of(2));
	cr_assert(body, "v2's web.1 did not come back after server:start");
	cr_assert_str_eq(body, "one kept web.1\n");
	free(body);
	char *s = services();
	cr_assert_str_eq(s, APP ".v2.web.1");
	free(s);
	/* up once its instance has seen it listen: moments after it answers (bounded) */
	r = sw("ps", "-a", APP);
	for (int i = 0; i < 300 && !strstr(r.out, "web.1: up "); i++) {
		th_result_free(&r);
		rt_pause_ms(100);
		r = sw("ps", "-a", APP);
	}
	cr_assert(strstr(r.out, "web.1: up "), "%s", r.out);
	th_result_free(&r);
}

/* The entries of <root>/runs, sorted, space-separated. */
static char *runs(void)
{
	char *dir = th_path("%s/runs", sb.root);
	struct strvec v = STRVEC_INIT;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			strvec_push(&v, e->d_name);
	if (d)
		closedir(d);
	strvec_sort(&v);
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < v.n; i++)
		buf_addf(&b, "%s%s", i ? " " : "", v.v[i]);
	strvec_clear(&v);
	free(dir);
	return buf_detach(&b);
}

Test(runtime, gc_removes_what_a_killed_instance_left_and_keeps_what_runs)
{
	start_runtime();
	free(app_sandbox_push(&sb, "main"));
	assert_serves(1, "one - web.1\n");
	char *before = runs();
	cr_assert(strstr(before, APP ".web.1-"), "%s", before);
	/* instance:run killed: its copy of the slug is left, s6 starts a new one */
	char *dir = rt_service_dir(&sb, 1, "web.1");
	struct th_result r = th_runv(NULL, NULL, "s6-svstat", "-o", "pid", dir, NULL);
	pid_t pid = (pid_t)atoi(r.out);
	th_result_free(&r);
	cr_assert_gt(pid, 1);
	cr_assert_eq(kill(pid, SIGKILL), 0);
	char *body = NULL;
	for (int i = 0; i < 100; i++) {
		char *now = runs();
		int two = strchr(now, ' ') != NULL;
		free(now);
		free(body);
		body = two ? rt_get(port_of(1)) : NULL;
		if (body)
			break;
		rt_pause_ms(100);
	}
	cr_assert(body, "web.1 did not come back after its instance was killed");
	free(body);
	char *both = runs();
	cr_assert(strchr(both, ' '), "%s", both);
	/* gc leaves young copies alone: make them all old */
	char *cmd = th_path("touch -d '2 hours ago' %s/runs/*", sb.root);
	r = th_runv(NULL, NULL, "sh", "-c", cmd, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	free(cmd);
	free(ok(SLIPWAY_BIN, "gc"));
	char *after = runs();
	cr_assert(!strchr(after, ' ') && strstr(after, APP ".web.1-"),
		  "gc should leave exactly the running copy: %s (was %s)", after, both);
	cr_assert(strstr(both, after), "%s not in %s", after, both);
	cr_assert_null(strstr(before, after), "gc removed the running copy, kept the killed one");
	assert_serves(1, "one - web.1\n");
	free(after);
	free(both);
	free(before);
	free(dir);
}

Test(runtime, a_killed_supervisor_is_replaced_and_its_instance_runs_again)
{
	start_runtime();
	free(app_sandbox_push(&sb, "main"));
	int port = port_of(1);
	assert_serves(1, "one - web.1\n");
	char *dir = rt_service_dir(&sb, 1, "web.1");
	pid_t sup = rt_supervisor_of(dir);
	cr_assert_gt(sup, 1, "no s6-supervise for %s", dir);
	cr_assert_eq(kill(sup, SIGKILL), 0);
	/* the instance stops with its supervisor; s6-svscan starts a new one, which starts it */
	cr_assert(rt_wait_new_supervisor(dir, sup), "no new supervisor for %s", dir);
	char *body = rt_wait_get(port);
	cr_assert(body, "web.1 did not come back on port %d", port);
	cr_assert_str_eq(body, "one - web.1\n");
	free(body);
	/* exactly one copy, the new supervisor's: nothing of the old one runs on outside the tree */
	struct buf left = BUF_INIT;
	cr_assert_eq(rt_wait_inside_tree(&sb, svscan, &left), 0, "outside the tree:\n%s",
		     left.data ? left.data : "");
	buf_release(&left);
	struct th_result r = th_runv(NULL, NULL, "s6-svstat", "-o", "up,pid", dir, NULL);
	cr_assert(!strncmp(r.out, "true ", 5), "%s", r.out);
	th_result_free(&r);
	free(dir);
}

/* Narrows the sandbox's slipway.portRange (SLIPWAY_PORT_RANGE) to its first n ports. */
static int bindable(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_ANY) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/*
 * The sandbox's range cut down to n ports in a row that can all be bound
 * now: an earlier holder of the sandbox's block of ports may have left
 * some in TIME_WAIT, which the picker rightly skips.
 */
static void narrow_port_range(int n)
{
	for (size_t i = 0; i < sb.nenv; i++) {
		int first = 0, last = 0;
		if (sscanf(sb.env[i], "SLIPWAY_PORT_RANGE=%d-%d", &first, &last) != 2)
			continue;
		for (int lo = first, run = 0; lo <= last; lo++) {
			run = bindable(lo) ? run + 1 : 0;
			if (run < n)
				continue;
			free((char *)sb.env[i]);
			sb.env[i] = th_path("SLIPWAY_PORT_RANGE=%d-%d", lo - n + 1, lo);
			return;
		}
		cr_assert_fail("no %d free ports in a row in %d-%d", n, first, last);
	}
	cr_assert_fail("the sandbox has no SLIPWAY_PORT_RANGE");
}

/* web.1 to web.4's ports, asserted distinct. */
static void web_ports(int ports[4])
{
	for (int i = 0; i < 4; i++) {
		char inst[16];
		snprintf(inst, sizeof(inst), "web.%d", i + 1);
		ports[i] = rt_port(&sb, 1, inst);
		for (int k = 0; k < i; k++)
			cr_assert_neq(ports[i], ports[k], "web.%d and web.%d share port %d", k + 1,
				      i + 1, ports[i]);
	}
}

/*
 * 4 instances running and 4 new ones beside them take every port of a
 * range of 8.  (No request reaches an instance before the last round: a
 * port whose server closed a connection is in TIME_WAIT for a minute and
 * not handed out, which a range this small would feel.)
 */
Test(runtime, each_instance_of_a_batch_gets_a_port_of_its_own_even_in_a_tight_range)
{
	narrow_port_range(8);
	start_runtime();
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v1"), "%s", out);
	free(out);
	free(ok(SLIPWAY_BIN, "ps:scale", "web=4", "-a", APP));
	int old[4], ports[4];
	web_ports(old);
	for (int round = 0; round < 3; round++) {
		struct th_result r = sw("ps:restart", "-a", APP);
		cr_assert_eq(r.status, 0, "restart %d: %s", round + 1, r.err);
		th_result_free(&r);
		web_ports(ports);
		/* the retired ones free their ports before the next round needs them */
		for (int i = 0; i < 4; i++) {
			cr_assert(rt_wait_gone(old[i]), "the old web.%d still answers", i + 1);
			old[i] = ports[i];
		}
	}
	for (int i = 0; i < 4; i++) {
		char *body = rt_get(ports[i]), *want = th_path("one - web.%d\n", i + 1);
		cr_assert(body, "web.%d does not answer", i + 1);
		cr_assert_str_eq(body, want);
		free(want);
		free(body);
	}
}

/* /proc/PID/oom_score_adj of a process of this machine. */
static int oom_score_adj_of(pid_t pid)
{
	char *p = th_path("/proc/%d/oom_score_adj", (int)pid), *text = th_read(p, NULL);
	cr_assert(text, "no %s", p);
	int v = atoi(text);
	free(text);
	free(p);
	return v;
}

/* 1 when this process may lower its oom_score_adj (CAP_SYS_RESOURCE; not every root has it). */
static int may_lower_oom_score_adj(void)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd = open("/proc/self/oom_score_adj", O_WRONLY);
		_exit(fd >= 0 && write(fd, "-500", 4) == 4 ? 0 : 1);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/*
 * Under memory pressure the kernel takes app code first and the runtime
 * last: the release phase, one-offs and the app's processes run at 500;
 * the supervision tree at -500 where Slipway may lower it
 * (CAP_SYS_RESOURCE), else where it was.
 */
Test(runtime, app_code_is_the_first_the_oom_killer_takes_and_the_tree_the_last)
{
	start_runtime();
	int tree = oom_score_adj_of(svscan);
	if (may_lower_oom_score_adj())
		cr_assert_eq(tree, -500);
	else
		cr_assert_eq(tree, oom_score_adj_of(getpid()), "%d", tree);
	app_sandbox_write(&sb, "Procfile", "web: exec python3 -u server.py\n"
			  "release: echo \"release phase at $(cat /proc/self/oom_score_adj)\"\n", 0644);
	free(ok("git", "commit", "-qam", "a release phase"));
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "remote: release phase at 500"), "%s", out);
	free(out);
	assert_serves(1, "one - web.1\n");

	struct th_result r = sw("run", "-a", APP, "cat /proc/self/oom_score_adj");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "500\n");
	th_result_free(&r);
}
