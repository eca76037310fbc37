/*
 * One process instance of a release, as a supervised service will run it
 * (`slipway instance:run TYPE.N --port P -a APP`): its command in the
 * sandbox with its own copy of the slug, Heroku's environment and profile
 * scripts, real HTTP on its $PORT, and Heroku's stop: SIGTERM to every
 * process of the instance, SIGKILL after the stop timeout.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
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
static pid_t child = -1;

static const char procfile[] =
	"web: echo \"env: $GREETING $DYNO $PORT $HOME $(pwd) ${SECRET:-no-secret}\"; "
	"echo changed > /app/index.html.mark; exec python3 -m http.server $PORT\n"
	"worker: trap 'echo got SIGTERM; exit 0' TERM; sleep 300 & echo started; wait\n"
	"stubborn: trap '' TERM; echo stubborn; while :; do sleep 0.1; done\n";

static void setup(void)
{
	app_sandbox_init(&sb, APP, APP_SANDBOX_BATCH);
	app_sandbox_setenv(&sb, "SERVER_SECRET=hunter2");
	app_sandbox_write(&sb, "Procfile", procfile, 0644);
	app_sandbox_write(&sb, ".profile.d/greet.sh", "export GREETING=from-profile\n", 0644);
	app_sandbox_write(&sb, "index.html", "<h1>the slug's page</h1>\n", 0644);
	app_sandbox_create(&sb, NULL);
	app_sandbox_checkout(&sb, NULL, "main", "first");
	free(app_sandbox_push(&sb, "main"));
}

static void teardown(void)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = -1;
	}
	app_sandbox_release(&sb);
}

TestSuite(instance, .init = setup, .fini = teardown, .timeout = 120);


/* Starts `slipway instance:run which --port port ...`, its output into log. */
static pid_t start(const char *which, int port, const char *log, const char *extra)
{
	char p[16];
	snprintf(p, sizeof(p), "%d", port);
	const char *argv[] = { SLIPWAY_BIN, "instance:run", which, "--port", p, "-a", APP,
			       extra ? "--stop-timeout" : NULL, extra, NULL };
	child = app_sandbox_start(&sb, log, argv);
	return child;
}

/* Stops the child with SIGTERM; its exit status, and the seconds it took. */
static int stop(pid_t pid, double *took)
{
	int status = app_sandbox_signal(pid, SIGTERM, took);
	child = -1;
	return status;
}

#define wait_for app_sandbox_wait_for
#define runs_left() app_sandbox_runs_left(&sb)

Test(instance, web_serves_its_slug_on_port_with_herokus_environment)
{
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "config:set", "SECRET=s3cret", "PORT=1", "-a", APP));
	int port = th_free_port();
	char *log = th_path("%s/web.log", sb.dir);
	pid_t pid = start("web.1", port, log, NULL);
	char *want = th_path("env: from-profile web.1 %d /app /app s3cret", port);
	wait_for(log, want);
	free(want);
	char *url = th_path("http://127.0.0.1:%d/index.html", port);
	struct th_result r = { 0 };
	for (int i = 0; i < 100; i++) { /* the server binds just after it printed */
		th_result_free(&r);
		r = th_runv(NULL, NULL, "curl", "-sS", "--max-time", "5", url, NULL);
		if (r.status == 0)
			break;
		nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	cr_assert_eq(r.status, 0, "curl: %s", r.err);
	cr_assert_str_eq(r.out, "<h1>the slug's page</h1>\n");
	th_result_free(&r);
	char *s = th_read(log, NULL);
	cr_assert_null(strstr(s, "hunter2"), "%s", s);
	free(s);
	double took;
	stop(pid, &took);
	cr_assert_eq(runs_left(), 0, "the instance's copy of the slug was left behind");
	/* what the instance changed was its own: the slug is as it was */
	char *x = th_path("%s/x", sb.dir);
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "slugs:extract", "v2", x, "-a", APP));
	char *mark = th_path("%s/index.html.mark", x);
	cr_assert_null(th_read(mark, NULL), "a change of the instance reached the slug");
	free(mark);
	free(x);
	free(url);
	free(log);
}

Test(instance, sigterm_reaches_every_process_of_the_instance)
{
	char *log = th_path("%s/worker.log", sb.dir);
	pid_t pid = start("worker.1", th_free_port(), log, NULL);
	wait_for(log, "app[worker.1]: started\n"); /* its line, not the command echoed */
	double took;
	int status = stop(pid, &took);
	cr_assert_eq(status, 0, "the worker's own exit status is passed on");
	char *s = th_read(log, NULL);
	cr_assert(strstr(s, "got SIGTERM"), "the app never saw SIGTERM:\n%s", s);
	cr_assert_lt(took, 5.0);
	free(s);
	free(log);
}

Test(instance, what_ignores_sigterm_is_killed_after_the_stop_timeout)
{
	char *log = th_path("%s/stubborn.log", sb.dir);
	pid_t pid = start("stubborn.1", th_free_port(), log, "1");
	wait_for(log, "app[stubborn.1]: stubborn\n");
	double took;
	int status = stop(pid, &took);
	cr_assert_eq(status, 128 + SIGKILL, "status %d", status);
	cr_assert_geq(took, 0.9, "killed before the stop timeout (%.2f s)", took);
	cr_assert_lt(took, 5.0, "not killed after the stop timeout (%.2f s)", took);
	cr_assert_eq(runs_left(), 0);
	free(log);
}

/*
 * --supervised is for its service's run program, which s6-supervise execs:
 * under any other parent the instance is one whose supervisor died before
 * it could ask to go with it (kill -9 at the wrong moment), and nobody
 * would ever stop it.  It ends without starting its command.
 */
Test(instance, run_for_a_supervisor_that_is_gone_it_never_starts_its_command)
{
	char *log = th_path("%s/orphan.log", sb.dir), port[16];
	snprintf(port, sizeof(port), "%d", th_free_port());
	const char *argv[] = { SLIPWAY_BIN, "instance:run", "worker.1", "--port", port,
			       "--supervised", "-a", APP, NULL };
	pid_t pid = app_sandbox_start(&sb, log, argv);
	child = pid;
	int status = -1;
	pid_t r = 0;
	for (int i = 0; i < 200 && !r; i++) {
		r = waitpid(pid, &status, WNOHANG);
		if (!r)
			nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	}
	char *s = th_read(log, NULL);
	cr_assert_eq(r, pid, "it runs on unsupervised:\n%s", s ? s : "");
	child = -1;
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d:\n%s", status, s);
	cr_assert_null(strstr(s, "Starting process"), "%s", s);
	cr_assert_null(strstr(s, "started"), "%s", s);
	cr_assert_eq(runs_left(), 0);
	char *state = th_path("%s/state", sb.src), *text = th_read(state, NULL);
	cr_assert(text && !strncmp(text, "down ", 5), "%s", text ? text : "(no state)");
	free(text);
	free(state);
	free(s);
	free(log);
}

Test(instance, a_missing_type_or_a_bad_instance_is_refused)
{
	struct th_result r = SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, "instance:run", "clock.1", "--port",
					 "20000", "-a", APP);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, " !    release v1 has no process type 'clock'\n");
	th_result_free(&r);
	r = SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, "instance:run", "web", "--port", "20000", "-a", APP);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, " !    invalid instance 'web': use TYPE.N, for example web.1\n");
	th_result_free(&r);
	cr_assert_eq(runs_left(), 0);
}

/* SLIPWAY_BWRAP: a bubblewrap that notes each sandbox it starts (its arguments) in the returned file. */
static char *noting_bwrap(char **wrap_out)
{
	char *log = th_path("%s/sandboxes", sb.dir), *wrap = th_path("%s/bwrap", sb.dir);
	char *script = th_path("#!/bin/sh\necho \"$*\" >> '%s'\nexec /usr/bin/bwrap \"$@\"\n", log);
	th_write(wrap, script, 0755);
	char *kv = th_path("SLIPWAY_BWRAP=%s", wrap);
	app_sandbox_setenv(&sb, kv);
	free(kv);
	free(script);
	*wrap_out = wrap;
	return log;
}

/* Starts and stops worker.1 once; how many sandbox checks (an empty sandbox running /bin/true) it made. */
static int checks_of_one_start(const char *sandboxes)
{
	char *log = th_path("%s/worker.log", sb.dir);
	unlink(sandboxes);
	unlink(log);
	pid_t pid = start("worker.1", th_free_port(), log, NULL);
	wait_for(log, "app[worker.1]: started\n");
	double took;
	stop(pid, &took);
	char *seen = th_read(sandboxes, NULL);
	cr_assert(seen && *seen, "no sandbox started");
	int n = th_count(seen, " -- /bin/true");
	free(seen);
	free(log);
	return n;
}

Test(instance, the_sandbox_check_is_made_once_until_bubblewrap_changes)
{
	char *wrap = NULL, *sandboxes = noting_bwrap(&wrap);
	cr_assert_eq(checks_of_one_start(sandboxes), 1);
	cr_assert_eq(checks_of_one_start(sandboxes), 0, "checked again with nothing changed");
	cr_assert_eq(chmod(wrap, 0700), 0); /* bubblewrap changed: checked again */
	cr_assert_eq(checks_of_one_start(sandboxes), 1);
	cr_assert_eq(checks_of_one_start(sandboxes), 0);
	free(sandboxes);
	free(wrap);
}
