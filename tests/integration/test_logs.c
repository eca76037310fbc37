/*
 * Logs, restarts and crashes of running releases, with the real
 * supervision tree (s6, s6-log): `logs` shows the processes' output and
 * Slipway's events in Heroku's format, filters by process and source, and
 * `--tail` follows a restart; `ps:restart` replaces instances without a
 * release; a crashing process is restarted with backoff and shown as
 * crashed; a chatty one cannot fill the disk.
 */
#define _GNU_SOURCE
#include "tests/integration/runtime_helpers.h"

#include "util/fsutil.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define APP "lg"

static struct app_sandbox sb;
static pid_t svscan = -1;

static const char server_py[] =
	"import http.server, os\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def do_GET(s):\n"
	"        s.send_response(200); s.end_headers()\n"
	"        s.wfile.write(os.environ.get('MSG', '-').encode())\n"
	"    def log_message(s, *a): pass\n"
	"print('listening on %s MSG=%s' % (os.environ['PORT'], os.environ.get('MSG', '-')),"
	" flush=True)\n"
	"http.server.HTTPServer(('', int(os.environ['PORT'])), H).serve_forever()\n";

#define sw(...) SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__)
#define ok(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

static void setup(void)
{
	if (access("/usr/bin/s6-svscan", X_OK))
		cr_skip_test("s6 is needed (run scripts/deps)");
	app_sandbox_init(&sb, APP, APP_SANDBOX_BATCH);
	app_sandbox_write(&sb, "server.py", server_py, 0644);
	app_sandbox_write(&sb, "Procfile",
			  "web: exec python3 -u server.py\n"
			  "crasher: echo boom; exit 3\n"
			  "chatty: yes 0123456789012345678901234567890123456789012345678901234567890123456789"
			  " | head -n 300000; echo chatty-done; exec sleep 600\n"
			  "forker: sh -c 'exec sleep 4242' & echo forked; exit 0\n"
			  "tricky: printf 'x\\r\\033[2K2026-12-01T00:00:00.000000+00:00 slipway[api]: "
			  "Release v9 created by admin\\n\\033]0;owned\\007tricky-done\\n'; exec sleep 600\n",
			  0644);
	app_sandbox_create(&sb, NULL);
	app_sandbox_checkout(&sb, NULL, "main", "one");
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
}

static void teardown(void)
{
	rt_stop(&sb, &svscan);
	app_sandbox_release(&sb);
}

TestSuite(logs, .init = setup, .fini = teardown, .timeout = 180);

static char *logs(const char *a1, const char *a2)
{
	struct th_result r = a2 ? sw("logs", a1, a2, "-a", APP)
				: a1 ? sw("logs", a1, "-a", APP) : sw("logs", "-a", APP);
	cr_assert_eq(r.status, 0, "logs: %s", r.err);
	char *out = strdup(r.out);
	th_result_free(&r);
	return out;
}

/* Waits up to 20 s until `logs -n 1500` holds needle; returns the logs. */
static char *wait_logs(const char *needle)
{
	char *out = NULL;
	for (int i = 0; i < 200; i++) {
		free(out);
		out = logs("-n", "1500");
		if (strstr(out, needle))
			return out;
		rt_pause_ms(100);
	}
	cr_assert_fail("the logs never showed '%s':\n%s", needle, out);
	return out;
}

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Every line starts "YYYY-MM-DDTHH:MM:SS.uuuuuu+00:00 SOURCE[WHO]: ". */
static void assert_format(const char *out)
{
	for (const char *l = out; *l; l = strchr(l, '\n') + 1) {
		const char *pat = "dddd-dd-ddTdd:dd:dd.dddddd+00:00 ";
		for (size_t i = 0; pat[i]; i++)
			cr_assert(pat[i] == 'd' ? l[i] >= '0' && l[i] <= '9' : l[i] == pat[i],
				  "not a log line: %.80s", l);
		const char *rest = l + strlen(pat);
		cr_assert(!strncmp(rest, "app[", 4) || !strncmp(rest, "slipway[", 8),
			  "unknown source: %.80s", l);
		cr_assert(strchr(l, '\n'), "unterminated line");
	}
}

Test(logs, show_the_processes_output_and_slipways_events_in_herokus_format)
{
	int port = rt_port(&sb, 1, "web.1");
	char *want = th_path("app[web.1]: listening on %d MSG=-\n", port);
	free(wait_logs(want));
	char *out = wait_logs(" slipway[web.1]: State changed from starting to up\n");
	assert_format(out);
	cr_assert(strstr(out, " slipway[web.1]: Starting process with command "
			      "`exec python3 -u server.py`\n"), "%s", out);
	cr_assert(strstr(out, " slipway[web.1]: State changed from starting to up\n"), "%s", out);
	cr_assert(strstr(out, " slipway[api]: Release v1 created by "),
		  "%s", out);
	/* in time order: the process started before it said it listens */
	cr_assert_lt(strstr(out, "Starting process"), strstr(out, want), "%s", out);
	free(out);

	out = logs("-s", "app");
	cr_assert(strstr(out, want), "%s", out);
	cr_assert_null(strstr(out, "slipway["), "-s app showed other sources:\n%s", out);
	free(out);
	out = logs("--source", "slipway");
	cr_assert_null(strstr(out, "app["), "-s slipway showed app lines:\n%s", out);
	cr_assert(strstr(out, "slipway[api]: Release v1"), "%s", out);
	free(out);
	out = logs("-p", "api");
	cr_assert_null(strstr(out, "[web.1]"), "%s", out);
	free(out);
	out = logs("--ps", "web");
	cr_assert(strstr(out, want), "%s", out);
	cr_assert_null(strstr(out, "[api]"), "%s", out);
	free(out);
	/* Heroku's spellings: --dyno and -d, and a short option's value attached */
	out = logs("--dyno", "web");
	cr_assert(strstr(out, want), "%s", out);
	cr_assert_null(strstr(out, "[api]"), "%s", out);
	free(out);
	out = logs("-dapi", "-n1");
	cr_assert_null(strstr(out, "[web.1]"), "%s", out);
	cr_assert_eq(count(out, "\n"), 1, "%s", out);
	free(out);
	out = logs("-n", "2");
	cr_assert_eq(count(out, "\n"), 2, "%s", out);
	free(out);
	free(want);
}

Test(logs, bad_options_are_refused)
{
	struct th_result r = sw("logs", "-s", "router2", "-a", APP);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "error: invalid source 'router2': use app or slipway\n"), "%s", r.err);
	th_result_free(&r);
	r = sw("logs", "-p", "web.x", "-a", APP);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "error: invalid process 'web.x'"), "%s", r.err);
	th_result_free(&r);
	r = sw("logs", "-n", "5000", "-a", APP);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "use 1 to 1500"), "%s", r.err);
	th_result_free(&r);
	r = sw("logs", "-a", "nosuch");
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "nosuch"), "%s", r.err);
	th_result_free(&r);
}

Test(logs, config_set_restarts_the_process_with_the_new_value)
{
	/* the old instance stops at once (kept warm, it would stop a minute later: test_warm.c) */
	app_sandbox_setenv(&sb, "SLIPWAY_WARM_PREVIOUS=0");
	free(wait_logs("MSG=-\n"));
	free(ok(SLIPWAY_BIN, "config:set", "MSG=hello", "-a", APP));
	char *out = wait_logs("app[web.1]: listening on ");
	free(out);
	out = wait_logs("MSG=hello\n");
	/* the old instance was told to stop, after the new one was up */
	out = (free(out), wait_logs("slipway[web.1]: Stopping all processes with SIGTERM\n"));
	out = (free(out), wait_logs("slipway[web.1]: Process exited with status 143\n"));
	cr_assert_lt(strstr(out, "MSG=hello\n"), strstr(out, "Stopping all processes"), "%s", out);
	cr_assert(strstr(out, "slipway[api]: Release v2 created by"), "%s", out);
	free(out);
}

Test(logs, restart_replaces_the_instances_without_a_release)
{
	int old = rt_port(&sb, 1, "web.1");
	char *before = rt_service_dir(&sb, 1, "web.1");
	struct th_result r = sw("ps:restart", "-a", APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Restarting all processes of " APP "... done\n");
	th_result_free(&r);
	cr_assert_eq(app_sandbox_release_count(&sb), 1, "a restart made a release");
	char *after = rt_service_dir(&sb, 1, "web.1");
	cr_assert(after && strcmp(before, after), "web.1 is the same service: %s", after);
	char *body = rt_get(rt_port(&sb, 1, "web.1"));
	cr_assert(body, "the restarted web.1 does not answer");
	cr_assert_str_eq(body, "-");
	free(body);
	cr_assert(rt_wait_gone(old) || rt_port(&sb, 1, "web.1") == old,
		  "the old web.1 still answers on %d", old);

	/* one instance, by name and with the alias */
	r = sw("restart", "web.1", "-a", APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Restarting web.1 of " APP "... done\n");
	th_result_free(&r);

	/* refusals change nothing */
	char *s = rt_services(&sb);
	r = sw("ps:restart", "worker.1", "-a", APP);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "no process worker.1 of " APP " is running"), "%s", r.err);
	th_result_free(&r);
	r = sw("ps:restart", "web..1", "-a", APP);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "error: invalid process 'web..1'"), "%s", r.err);
	th_result_free(&r);
	char *s2 = rt_services(&sb);
	cr_assert_str_eq(s, s2);
	free(s);
	free(s2);
	char *out = logs("-p", "api");
	cr_assert(strstr(out, "slipway[api]: Restart all by "), "%s", out);
	free(out);
	free(before);
	free(after);
}

/* Reads what fd has within ms into out. */
static void read_for(int fd, struct buf *out, int ms)
{
	char chunk[4096];
	long long end = 0;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 + ms;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		long long now = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
		if (now >= end)
			return;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, (int)(end - now)) <= 0)
			return;
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n <= 0)
			return;
		buf_add(out, chunk, (size_t)n);
	}
}

Test(logs, tail_follows_a_restart_and_ends_when_the_reader_goes)
{
	free(wait_logs("MSG=-\n"));
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		for (size_t i = 0; i < sb.nenv; i++)
			putenv((char *)sb.env[i]);
		execl(SLIPWAY_BIN, SLIPWAY_BIN, "logs", "--tail", "-a", APP, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	struct buf seen = BUF_INIT;
	read_for(fds[0], &seen, 1500);
	cr_assert_eq(count(seen.data, "Starting process with command `exec python3"), 1, "%s",
		     seen.data);
	free(ok(SLIPWAY_BIN, "ps:restart", "web", "-a", APP));
	for (int i = 0; i < 100 && count(seen.data, "app[web.1]: listening on ") < 2; i++)
		read_for(fds[0], &seen, 100);
	cr_assert_eq(count(seen.data, "Starting process with command `exec python3"), 2,
		     "--tail did not follow the restart:\n%s", seen.data);
	cr_assert_eq(count(seen.data, "app[web.1]: listening on "), 2, "%s", seen.data);
	buf_release(&seen);

	/* the reader goes away: logs --tail ends by itself, quietly */
	close(fds[0]);
	int status = -1, done = 0;
	for (int i = 0; i < 50 && !done; i++) {
		done = waitpid(pid, &status, WNOHANG) == pid;
		if (!done)
			rt_pause_ms(100);
	}
	if (!done)
		kill(pid, SIGKILL), waitpid(pid, &status, 0);
	cr_assert(done, "logs --tail kept running after its reader went away");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
}

Test(logs, a_crashing_process_is_restarted_with_backoff_and_shown_as_crashed)
{
	free(ok(SLIPWAY_BIN, "ps:scale", "crasher=1", "-a", APP));
	int crashed = 0;
	for (int i = 0; i < 100 && !crashed; i++) {
		struct th_result r = sw("ps", "-a", APP);
		crashed = strstr(r.out, "crasher.1: crashed ") != NULL;
		th_result_free(&r);
		if (!crashed)
			rt_pause_ms(100);
	}
	cr_assert(crashed, "ps never showed crasher.1 as crashed");
	char *out = wait_logs("app[crasher.1]: boom\n");
	free(out);
	/* about 8 s of crashing: s6 alone would have started it about 8 times */
	rt_pause_ms(8000);
	out = logs("-p", "crasher.1");
	size_t starts = count(out, "slipway[crasher.1]: Starting process with command");
	cr_assert(count(out, "slipway[crasher.1]: Process exited with status 3\n") >= 3, "%s", out);
	cr_assert(strstr(out, "slipway[crasher.1]: State changed from up to crashed\n"), "%s", out);
	cr_assert(strstr(out, "slipway[crasher.1]: State changed from crashed to starting\n"), "%s",
		  out);
	cr_assert(starts >= 3 && starts <= 6, "%zu starts in about 9 s:\n%s", starts, out);
	free(out);
}

/* Bytes of the regular files under dir. */
static long long du(const char *dir)
{
	long long total = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *p = th_path("%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0)
			total += S_ISDIR(st.st_mode) ? du(p) : (long long)st.st_size;
		free(p);
	}
	if (d)
		closedir(d);
	return total;
}

Test(logs, a_chatty_process_cannot_fill_the_disk)
{
	free(ok(SLIPWAY_BIN, "ps:scale", "chatty=1", "-a", APP));
	/* 300,000 lines, about 33 MB with their stamps */
	char *out = NULL;
	for (int i = 0; i < 600; i++) {
		free(out);
		out = logs("-p", "chatty");
		if (strstr(out, "app[chatty.1]: chatty-done\n"))
			break;
		rt_pause_ms(100);
	}
	cr_assert(strstr(out, "app[chatty.1]: chatty-done\n"), "%s", out);
	free(out);
	char *dir = th_path("%s/logs/" APP, sb.root);
	long long size = du(dir);
	cr_assert_lt(size, 8 * 1000 * 1000, "the app's logs take %lld bytes", size);
	free(dir);
}

/* 1 when a process "sleep 4242" runs. */
static int forked_sleep_runs(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;
	while (d && (e = readdir(d)) && !found) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char *p = th_path("/proc/%s/cmdline", e->d_name);
		size_t n = 0;
		char *s = th_read(p, &n);
		found = s && n == sizeof("sleep\0" "4242") && !memcmp(s, "sleep\0" "4242", n);
		free(s);
		free(p);
	}
	if (d)
		closedir(d);
	return found;
}

static int forker_crashed(void)
{
	struct th_result r = sw("ps", "-a", APP);
	int crashed = strstr(r.out, "forker.1: crashed ") != NULL;
	th_result_free(&r);
	return crashed;
}

Test(logs, what_a_process_forks_goes_with_it)
{
	free(ok(SLIPWAY_BIN, "ps:scale", "forker=1", "-a", APP));
	char *out = wait_logs("slipway[forker.1]: Process exited with status 0\n");
	cr_assert(strstr(out, "app[forker.1]: forked\n"), "%s", out);
	free(out);
	/* while it is crashed (waiting to start again) nothing of it may run */
	int checked = 0;
	for (int i = 0; i < 200 && !checked; i++) {
		if (forker_crashed()) {
			int left = forked_sleep_runs();
			if (forker_crashed()) {
				cr_assert_not(left, "the child the process forked outlived it");
				checked = 1;
			}
		}
		if (!checked)
			rt_pause_ms(50);
	}
	cr_assert(checked, "forker.1 was never seen crashed");
}

Test(logs, what_a_process_prints_cannot_rewrite_the_readers_terminal)
{
	free(ok(SLIPWAY_BIN, "ps:scale", "tricky=1", "-a", APP));
	/* the app's own line: its start's line names the command, "tricky-done" included */
	char *out = wait_logs(" app[tricky.1]: \\x1b]0;owned\\x07tricky-done\n");
	assert_format(out);
	cr_assert(strstr(out, " app[tricky.1]: x\\x0d\\x1b[2K2026-12-01T00:00:00.000000+00:00 "
			      "slipway[api]: Release v9 created by admin\n"),
		  "%s", out);
	cr_assert(strstr(out, " app[tricky.1]: \\x1b]0;owned\\x07tricky-done\n"), "%s", out);
	cr_assert_null(strchr(out, '\r'), "a raw carriage return: %s", out);
	cr_assert_null(strchr(out, '\033'), "a raw escape: %s", out);
	free(out);

	/* --all, as journalctl's: the bytes as the process printed them */
	out = logs("--all", "-n1500");
	cr_assert(strstr(out, " app[tricky.1]: x\r\033[2K2026-12-01T00:00:00.000000+00:00 "
			      "slipway[api]: Release v9 created by admin\n"),
		  "%s", out);
	cr_assert(strstr(out, " app[tricky.1]: \033]0;owned\007tricky-done\n"), "%s", out);
	cr_assert_null(strstr(out, "\\x1b"), "an escaped escape: %s", out);
	free(out);
}

/* Waits up to 20 s until `logs -n 1500` holds needle n times; returns the logs. */
static char *wait_logs_times(const char *needle, size_t n)
{
	char *out = NULL;
	for (int i = 0; i < 200; i++) {
		free(out);
		out = logs("-n", "1500");
		if (count(out, needle) >= n)
			return out;
		rt_pause_ms(100);
	}
	cr_assert_fail("the logs never showed '%s' %zu times:\n%s", needle, n, out);
	return out;
}

Test(logs, a_killed_supervisor_of_a_log_leaves_one_logger_that_keeps_writing)
{
	int port = rt_port(&sb, 1, "web.1");
	char *line = th_path("app[web.1]: listening on %d MSG=-\n", port);
	free(wait_logs(line));
	char *dir = rt_service_dir(&sb, 1, "web.1"), *log = th_path("%s/log", dir);
	pid_t sup = rt_supervisor_of(log);
	cr_assert_gt(sup, 1, "no s6-supervise for %s", log);
	cr_assert_eq(kill(sup, SIGKILL), 0); /* what kill -9 (the OOM killer) does */
	cr_assert(rt_wait_new_supervisor(log, sup), "no new supervisor for %s", log);
	/* the old s6-log went with its supervisor: none runs outside the tree */
	struct buf left = BUF_INIT;
	cr_assert_eq(rt_wait_inside_tree(&sb, svscan, &left), 0, "outside the tree:\n%s",
		     left.data ? left.data : "");
	buf_release(&left);
	/* and the new one writes: the instance started again says so in the logs */
	free(ok("s6-svc", "-t", dir));
	free(wait_logs_times(line, 2));
	struct th_result r = SANDBOX_RUN(&sb, NULL, "s6-svstat", "-o", "up", log);
	cr_assert_str_eq(r.out, "true\n");
	th_result_free(&r);
	free(log);
	free(dir);
	free(line);
}
