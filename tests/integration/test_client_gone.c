/*
 * test_client_gone.c - a writer whose client goes away finishes its work.
 *
 * `slipway config:set … | head -1`, a terminal that hangs up, a push whose
 * connection drops: the release is still recorded, its release command
 * runs to the end under the app lock, and a second writer waits for it.
 * The release command here logs when it starts and ends, so the tests can
 * see whether two of them ever overlap.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct app_sandbox sb;
static char *logfile, *slowfile, *cutfile, *loudfile;

#define SW(...) SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__)
#define GIT(...) SANDBOX_RUN(&sb, NULL, "git", __VA_ARGS__)

static void ok(struct th_result r)
{
	free(app_sandbox_must(r, "command"));
}

/*
 * The release command: logs "start $Z" and "end $Z"; while <dir>/slow
 * exists it takes two seconds and prints a line in the middle; while
 * <dir>/cut exists it first kills git-receive-pack, the process that
 * relays a push hook's output to the pusher.
 */
static void setup(void)
{
	app_sandbox_init(&sb, "app", 0);
	app_sandbox_setenv(&sb, "SLIPWAY_USER=alice@example.com");
	/* the release command reaches outside on purpose (a log the test reads, and
	 * git-receive-pack to kill): unsandboxed here; test_sandbox.c shows the sandbox */
	app_sandbox_setenv(&sb, "SLIPWAY_SANDBOX=none");
	logfile = th_path("%s/log", sb.dir);
	slowfile = th_path("%s/slow", sb.dir);
	cutfile = th_path("%s/cut", sb.dir);
	loudfile = th_path("%s/loud", sb.dir);
	char *procfile = th_path(
		"web: ./server\n"
		"release: echo \"start $Z\" >> %s; "
		"if [ -e %s ]; then "
		"gp=$(cut -d' ' -f4 /proc/$PPID/stat); "
		"grep -q receive /proc/$gp/comm && kill -9 $gp; "
		"fi; "
		"if [ -e %s ]; then sleep 1; echo migrating; sleep 1; fi; "
		"if [ -e %s ]; then head -c 300000 /dev/zero | tr '\\0' x | fold -w 99; fi; "
		"echo \"end $Z\" >> %s; echo done\n",
		logfile, cutfile, slowfile, loudfile, logfile);
	app_sandbox_write(&sb, "Procfile", procfile, 0644);
	free(procfile);
	app_sandbox_create(&sb, NULL);
	app_sandbox_checkout(&sb, NULL, "main", "one");
	ok(GIT("push", "-q", "heroku", "main"));
	th_write(logfile, "", 0644);
	th_write(slowfile, "", 0644);
}

static void teardown(void)
{
	free(logfile);
	free(slowfile);
	free(cutfile);
	free(loudfile);
	app_sandbox_release(&sb);
}

TestSuite(client_gone, .init = setup, .fini = teardown, .timeout = 120);

/* A child started with the sandbox's environment, its stdout a pipe. */
struct child {
	pid_t pid;
	int out;   /* read end of its stdout */
	char *err; /* the file its stderr goes to */
};

static struct child start(const char *const *argv)
{
	struct child c;
	int p[2];
	c.err = th_path("%s/stderr", sb.dir);
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	c.pid = fork();
	cr_assert_geq(c.pid, 0);
	if (c.pid == 0) {
		/* what a shell gives the commands of a pipeline */
		signal(SIGPIPE, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		int e = open(c.err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int in = open("/dev/null", O_RDONLY);
		if (e < 0 || in < 0 || dup2(in, 0) < 0 || dup2(p[1], 1) < 0 || dup2(e, 2) < 0 ||
		    chdir(sb.src) < 0)
			_exit(127);
		for (size_t i = 0; sb.env[i]; i++)
			putenv((char *)sb.env[i]);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	c.out = p[0];
	return c;
}

/* Reads the child's stdout up to its first newline; returns the line. */
static char *first_line(struct child *c)
{
	char line[4096];
	size_t n = 0;
	while (n < sizeof(line) - 1) {
		ssize_t r = read(c->out, line + n, 1);
		cr_assert_eq(r, 1, "no complete first line on stdout");
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	return strdup(line);
}

/* The reader goes away: closes the read end of the child's stdout. */
static void hang_up(struct child *c)
{
	close(c->out);
	c->out = -1;
}

/* Waits for the child; returns its exit status (128+signal if killed) and its stderr. */
static int finish(struct child *c, char **err)
{
	int st;
	if (c->out >= 0) {
		char buf[4096];
		while (read(c->out, buf, sizeof(buf)) > 0)
			;
		close(c->out);
	}
	cr_assert_eq(waitpid(c->pid, &st, 0), c->pid);
	*err = th_read(c->err, NULL);
	free(c->err);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Waits (up to 20 seconds) until the log contains needle. */
static void wait_for_log(const char *needle)
{
	for (int i = 0; i < 2000; i++) {
		char *log = th_read(logfile, NULL);
		int seen = log && strstr(log, needle);
		free(log);
		if (seen)
			return;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	cr_assert_fail("the release command never logged '%s'", needle);
}

static char *info_json(const char *v)
{
	struct th_result r = SW("releases:info", v, "--json", "-a", "app");
	cr_assert_eq(r.status, 0, "%s", r.err);
	free(r.err);
	return r.out;
}

/* Release v is recorded as succeeded and is the current release. */
static void assert_live(const char *v)
{
	char *j = info_json(v);
	cr_assert(strstr(j, "\"status\":\"succeeded\",\"current\":true"), "%s: %s", v, j);
	free(j);
	struct th_result r = SW("releases", "-a", "app");
	char *head = th_path("=== app Releases - Current: %s\n", v);
	cr_assert(!strncmp(r.out, head, strlen(head)), "%s", r.out);
	free(head);
	th_result_free(&r);
}

/* releases:output v shows the whole output of the release command. */
static void assert_output(const char *v)
{
	struct th_result r = SW("releases:output", v, "-a", "app");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "migrating\n") && strstr(r.out, "done\n"), "%s", r.out);
	th_result_free(&r);
}

static void assert_log(const char *expect)
{
	char *log = th_read(logfile, NULL);
	cr_assert_str_eq(log, expect, "the release commands logged:\n%sinstead of:\n%s", log, expect);
	free(log);
}

Test(client_gone, config_set_whose_reader_leaves_still_records_the_release)
{
	const char *argv[] = { SLIPWAY_BIN, "config:set", "Z=1", "-a", "app", NULL };
	struct child c = start(argv);
	char *line = first_line(&c);
	cr_assert_str_eq(line, "-----> Running release command...\n");
	free(line);
	hang_up(&c);
	char *err;
	int status = finish(&c, &err);
	cr_assert_eq(status, 0, "exit %d, stderr: %s", status, err);
	cr_assert_str_eq(err, "");
	free(err);
	assert_log("start 1\nend 1\n");
	assert_live("v2");
	assert_output("v2");
}

Test(client_gone, a_second_writer_waits_for_the_release_command)
{
	const char *argv[] = { SLIPWAY_BIN, "config:set", "Z=1", "-a", "app", NULL };
	struct child c = start(argv);
	free(first_line(&c));
	hang_up(&c);
	wait_for_log("start 1\n");
	/* started while v2's release command runs: it waits for the lock */
	struct th_result r = SW("config:set", "Z=2", "-a", "app");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "done, v3 (not running: start the runtime with 'slipway server:start')\n"),
		  "%s", r.out);
	th_result_free(&r);
	char *err;
	int status = finish(&c, &err);
	assert_log("start 1\nend 1\nstart 2\nend 2\n");
	cr_assert_eq(status, 0, "exit %d, stderr: %s", status, err);
	free(err);
	char *j = info_json("v2");
	cr_assert(strstr(j, "\"status\":\"succeeded\""), "%s", j);
	free(j);
	assert_output("v2");
	assert_live("v3");
}

Test(client_gone, rollback_whose_reader_leaves_still_records_the_release)
{
	unlink(slowfile);
	ok(SW("config:set", "Z=1", "-a", "app"));
	ok(SW("config:set", "Z=2", "-a", "app"));
	th_write(slowfile, "", 0644);
	th_write(logfile, "", 0644);
	const char *argv[] = { SLIPWAY_BIN, "rollback", "v2", "-a", "app", NULL };
	struct child c = start(argv);
	free(first_line(&c));
	hang_up(&c);
	char *err;
	int status = finish(&c, &err);
	cr_assert_eq(status, 0, "exit %d, stderr: %s", status, err);
	cr_assert_str_eq(err, " !     Warning: rollback affects code and config vars; it doesn't add or remove addons.\n"
			 "To undo, run: slipway rollback v3 -a app\n");
	free(err);
	assert_log("start 1\nend 1\n");
	assert_live("v4");
	assert_output("v4");
	char *j = info_json("v4");
	cr_assert(strstr(j, "\"description\":\"Rollback to v2\""), "%s", j);
	free(j);
}

Test(client_gone, a_hangup_does_not_stop_a_writer)
{
	const char *argv[] = { SLIPWAY_BIN, "config:set", "Z=1", "-a", "app", NULL };
	struct child c = start(argv);
	wait_for_log("start 1\n");
	cr_assert_eq(kill(c.pid, SIGHUP), 0);
	char *err;
	int status = finish(&c, &err);
	cr_assert_eq(status, 0, "exit %d, stderr: %s", status, err);
	free(err);
	assert_log("start 1\nend 1\n");
	assert_live("v2");
	assert_output("v2");
}

Test(client_gone, a_push_whose_connection_drops_still_records_the_release)
{
	th_write(cutfile, "", 0644);
	ok(GIT("commit", "-q", "--allow-empty", "-m", "two"));
	const char *argv[] = { "git", "push", "heroku", "main", NULL };
	struct child c = start(argv);
	wait_for_log("start \n");
	/* started while v2's release command runs: it waits for the lock */
	struct th_result r = SW("config:set", "Z=2", "-a", "app");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "done, v3 (not running: start the runtime with 'slipway server:start')\n"),
		  "%s", r.out);
	th_result_free(&r);
	char *err;
	int status = finish(&c, &err);
	cr_assert_neq(status, 0, "the push did not notice its connection dropped: %s", err);
	free(err);
	assert_log("start \nend \nstart 2\nend 2\n");
	char *j = info_json("v2");
	cr_assert(strstr(j, "\"status\":\"succeeded\""), "%s", j);
	cr_assert(strstr(j, "\"description\":\"Deploy "), "%s", j);
	free(j);
	assert_output("v2");
	assert_live("v3");
}

Test(client_gone, output_that_cannot_be_written)
{
	unlink(slowfile);
	/* a writer: the release is made, and its exit status says so */
	struct th_result r = SANDBOX_RUN(&sb, NULL, "sh", "-c", "exec \"$0\" \"$@\" >/dev/full",
					 SLIPWAY_BIN, "config:set", "Z=1", "-a", "app");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.err, "error: cannot write output: No space left on device\n");
	th_result_free(&r);
	assert_live("v2");
	/* a reader fails */
	r = SANDBOX_RUN(&sb, NULL, "sh", "-c", "exec \"$0\" \"$@\" >/dev/full", SLIPWAY_BIN,
			"config", "-a", "app");
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, "error: cannot write output: No space left on device\n");
	th_result_free(&r);
}

Test(client_gone, a_reader_that_stops_reading_does_not_hold_the_release_forever)
{
	/* 300 KB of release output to a pipe nobody reads, nor closes: what
	 * git-receive-pack does once its pusher is gone */
	th_write(loudfile, "", 0644);
	app_sandbox_setenv(&sb, "SLIPWAY_CLIENT_TIMEOUT=1");
	const char *argv[] = { SLIPWAY_BIN, "config:set", "Z=1", "-a", "app", NULL };
	struct child c = start(argv);
	int st = 0, done = 0;
	for (int i = 0; i < 600 && !done; i++) {
		done = waitpid(c.pid, &st, WNOHANG) == c.pid;
		if (!done) {
			struct timespec ts = { 0, 50 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	if (!done)
		kill(c.pid, SIGKILL);
	cr_assert(done, "the writer still waits for a reader that stopped reading");
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	close(c.out);
	free(c.err);
	assert_live("v2");
	assert_log("start 1\nend 1\n");
}

