/*
 * A switch whose writer is killed (kill -9, the OOM killer) while its
 * release's instance boots, with real s6 and nginx: fsck names what it
 * left, and the next writer undoes it - the half-made release failed with
 * its reason, only the current release's instances run, and the router
 * serves the current release.
 */
#define _GNU_SOURCE
#include "tests/integration/runtime_helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define APP "ki"

static struct app_sandbox sb;
static pid_t svscan = -1;

/* GET /: the code's version; it binds a minute late with /app/slow, $SLOW seconds late with that */
static const char server_py[] =
	"import http.server, os, time\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def do_GET(s):\n"
	"        b = open('/app/version').read().encode()\n"
	"        s.send_response(200); s.send_header('Content-Length', str(len(b)))\n"
	"        s.end_headers(); s.wfile.write(b)\n"
	"    def log_message(s, *a): pass\n"
	"time.sleep(60 if os.path.exists('/app/slow') else int(os.environ.get('SLOW', '0')))\n"
	"http.server.ThreadingHTTPServer(('', int(os.environ['PORT'])), H).serve_forever()\n";

#define sw(...) SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__)
#define ok(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

static void setup(void)
{
	/* nothing kept warm: the instances that run are the current release's alone */
	rt_setup(&sb, APP, RT_ROUTER, server_py,
		 (const char *const[]){ "SLIPWAY_WATCH=0", "SLIPWAY_WARM_PREVIOUS=0", NULL });
	svscan = rt_start(&sb);
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v1"), "%s", out);
	free(out);
}

static void teardown(void)
{
	rt_stop(&sb, &svscan);
	app_sandbox_release(&sb);
}

TestSuite(interrupted, .init = setup, .fini = teardown, .timeout = 240);

/* The line of vN in `releases`, or NULL (malloc'ed). */
static char *releases_line(int v)
{
	struct th_result r = sw("releases", "-a", APP);
	char *want = th_path("\nv%d  ", v);
	const char *at = strstr(r.out, want);
	char *line = at ? strndup(at + 1, strcspn(at + 1, "\n")) : NULL;
	free(want);
	th_result_free(&r);
	return line;
}

/*
 * Starts argv in the background, waits until v2's web instance was
 * written (its release is pending, its process boots), then kills the
 * writer - the process whose arguments hold name - with SIGKILL.
 * Meanwhile, `releases` says what v2 is doing: its processes start (the
 * app has no release command).
 */
static void kill_while_v2_boots_with(const char *const *argv, const char *dir, const char *name,
				     int (*killer)(const char *, const char *))
{
	char *log = th_path("%s/writer.log", sb.dir), *svc = NULL;
	pid_t pid = app_sandbox_start(&sb, log, argv);
	for (int i = 0; i < 400 && !svc; i++) {
		svc = rt_service_dir(&sb, 2, "web.1");
		if (!svc)
			rt_pause_ms(50);
	}
	cr_assert(svc, "v2 never started: %s", th_read(log, NULL));
	char *line = releases_line(2);
	cr_assert(line && strstr(line, " (processes starting) "), "%s", line ? line : "no v2");
	free(line);
	rt_pause_ms(500); /* s6 runs it */
	cr_assert_gt(killer(dir, name), 0);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	free(svc);
	free(log);
}

/* The writer and the guard it forked (same arguments), as a process group's kill does. */
static void kill_while_v2_boots(const char *const *argv, const char *dir, const char *name)
{
	kill_while_v2_boots_with(argv, dir, name, app_sandbox_kill_named);
}

/* Pushes v2, whose web process binds a minute late, and kills its post-receive as it boots. */
static void push_slow_v2_and_kill(int (*killer)(const char *, const char *))
{
	app_sandbox_write(&sb, "slow", "yes\n", 0644);
	app_sandbox_write(&sb, "version", "two\n", 0644);
	free(ok("git", "add", "-A"));
	free(ok("git", "commit", "-qm", "slow"));
	const char *argv[] = { "/usr/bin/git", "push", "heroku", "main", NULL };
	kill_while_v2_boots_with(argv, sb.repo, "post-receive", killer);
}

/* Before any repair: fsck names the pending v2 and its instance, and exits 1. */
static void assert_fsck_finds_v2(void)
{
	struct th_result r = sw("fsck", "-a", APP);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "problem: " APP ": release v2 is pending, but nothing is making it"),
		  "%s", r.out);
	cr_assert(strstr(r.out, "problem: " APP ": the process instance " APP ".v2-"), "%s", r.out);
	cr_assert(strstr(r.err, "fsck found 2 problems"), "%s", r.err);
	th_result_free(&r);
}

/* After the next writer: v2 failed with its reason, and fsck is content. */
static void assert_v2_failed(void)
{
	struct th_result r = sw("releases", "--json", "-a", APP);
	cr_assert(strstr(r.out, "\"version\":2,") && strstr(r.out, "\"status\":\"failed\""), "%s",
		  r.out);
	th_result_free(&r);
	char *line = releases_line(2);
	cr_assert(line && strstr(line, " (interrupted) "), "%s", line ? line : "no v2");
	free(line);
	char *out = ok(SLIPWAY_BIN, "releases:output", "v2", "-a", APP);
	cr_assert(strstr(out, "the release was interrupted before it finished (the command making "
			      "it was killed); nothing of it runs"), "%s", out);
	free(out);
	out = ok(SLIPWAY_BIN, "fsck", "-a", APP);
	cr_assert_str_eq(out, "fsck: " APP " is consistent\n");
	free(out);
}

static void assert_serves(const char *want)
{
	char *body = rt_page(&sb, APP ".localhost");
	cr_assert(body && !strcmp(body, want), "%s", body ? body : "(no answer)");
	free(body);
}

/* Undone: only v1's instance runs, the router serves it, and v2 failed. */
static void assert_back_on_v1(void)
{
	char *s = rt_services(&sb);
	cr_assert_str_eq(s, APP ".v1.web.1");
	free(s);
	assert_serves("one\n");
	assert_v2_failed();
}

Test(interrupted, a_push_killed_while_its_release_boots_is_undone_by_the_next_ps_restart)
{
	push_slow_v2_and_kill(app_sandbox_kill_named);
	assert_fsck_finds_v2();

	struct th_result r = sw("ps:restart", "-a", APP);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "Restarting all processes of " APP "... done\n");
	cr_assert(strstr(r.err, "v2 was interrupted before it went live: it failed\n"), "%s", r.err);
	cr_assert(strstr(r.err, "Stopped 1 process instance an interrupted switch left running\n"),
		  "%s", r.err);
	th_result_free(&r);
	assert_back_on_v1();
}

Test(interrupted, a_config_set_killed_while_its_release_boots_is_undone_by_the_next_one)
{
	const char *argv[] = { SLIPWAY_BIN, "config:set", "SLOW=60", "-a", APP, NULL };
	kill_while_v2_boots(argv, sb.dir, "config:set");
	assert_fsck_finds_v2();

	struct th_result r = sw("config:unset", "SLOW", "-a", APP);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	th_result_free(&r);
	r = sw("releases", "-a", APP);
	cr_assert(strstr(r.out, "Current: v3"), "%s", r.out);
	th_result_free(&r);
	char *s = rt_services(&sb);
	cr_assert_str_eq(s, APP ".v3.web.1");
	free(s);
	assert_serves("one\n");
	assert_v2_failed();
}

Test(interrupted, a_push_killed_while_its_release_boots_is_undone_by_server_start)
{
	push_slow_v2_and_kill(app_sandbox_kill_named);
	assert_fsck_finds_v2();

	rt_stop(&sb, &svscan);
	char *out = ok(SLIPWAY_BIN, "server:start");
	cr_assert(strstr(out, " !     v2 was interrupted before it went live: it failed\n"), "%s", out);
	const char *p = strstr(out, "(pid ");
	cr_assert(p, "%s", out);
	svscan = (pid_t)atoi(p + 5);
	free(out);
	char *s = rt_services(&sb);
	cr_assert_str_eq(s, APP ".v1.web.1");
	free(s);
	char *body = NULL;
	for (int i = 0; i < 100; i++) { /* v1's instance starts with the tree */
		free(body);
		body = rt_page(&sb, APP ".localhost");
		if (body)
			break;
		rt_pause_ms(100);
	}
	free(body);
	assert_serves("one\n");
	assert_v2_failed();
}

/* The app's service directories now, with their generation: how many there are. */
static size_t services_now(void)
{
	char *s = rt_services(&sb);
	size_t n = *s ? 1 + (size_t)th_count(s, " ") : 0;
	free(s);
	return n;
}

/* v2 boots 2 s late; a ps:restart of it is killed as its new instance boots. */
static void restart_and_kill(int (*killer)(const char *, const char *))
{
	free(ok(SLIPWAY_BIN, "config:set", "SLOW=2", "-a", APP));
	char *log = th_path("%s/restart.log", sb.dir);
	const char *argv[] = { SLIPWAY_BIN, "ps:restart", "-a", APP, NULL };
	pid_t pid = app_sandbox_start(&sb, log, argv);
	for (int i = 0; i < 400 && services_now() < 2; i++)
		rt_pause_ms(20);
	cr_assert_eq(services_now(), 2, "the restart never started its instance");
	cr_assert_gt(killer(sb.dir, "ps:restart"), 0);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	free(log);
}

Test(interrupted, a_restart_killed_while_its_new_instance_boots_is_undone_by_the_next_one)
{
	restart_and_kill(app_sandbox_kill_named);
	/* two of v2's web.1 run: fsck says so */
	struct th_result r = sw("fsck", "-a", APP);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "problem: " APP ": the process instance " APP ".v2-"), "%s", r.out);
	th_result_free(&r);

	r = sw("ps:restart", "-a", APP);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "Stopped 1 process instance an interrupted switch left running\n"),
		  "%s", r.err);
	th_result_free(&r);
	char *s = rt_services(&sb);
	cr_assert_str_eq(s, APP ".v2.web.1");
	free(s);
	assert_serves("one\n");
	char *out = ok(SLIPWAY_BIN, "fsck", "-a", APP);
	cr_assert_str_eq(out, "fsck: " APP " is consistent\n");
	free(out);
}

Test(interrupted, a_push_killed_while_its_release_boots_is_undone_by_maintenance_off)
{
	push_slow_v2_and_kill(app_sandbox_kill_named);

	/* the router is rewritten for all the app's instances: not for v2's */
	struct th_result r = sw("maintenance:off", "-a", APP);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "Stopped 1 process instance an interrupted switch left running\n"),
		  "%s", r.err);
	th_result_free(&r);
	assert_back_on_v1();
}

Test(interrupted, a_push_killed_while_its_release_boots_is_undone_by_fsck_repair)
{
	push_slow_v2_and_kill(app_sandbox_kill_named);
	assert_fsck_finds_v2();

	/* it says what it undid, under the app's name, then checks again */
	struct th_result r = sw("fsck", "--repair");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "Repairing " APP ":\n"
				" !     v2 was interrupted before it went live: it failed\n"
				" !     Stopped 1 process instance an interrupted switch left running\n"
				"fsck: everything is consistent\n");
	cr_assert_str_eq(r.err, "");
	th_result_free(&r);
	assert_back_on_v1();
	/* nothing left to do: nothing is said */
	char *out = ok(SLIPWAY_BIN, "fsck", "--repair", "-a", APP);
	cr_assert_str_eq(out, "fsck: " APP " is consistent\n");
	free(out);
}

/* Waits (up to 60 s) until `releases` shows v2 interrupted, with no command run meanwhile. */
static void wait_v2_interrupted(void)
{
	char *line = NULL;
	for (int i = 0; i < 600; i++) {
		free(line);
		line = releases_line(2);
		if (line && strstr(line, " (interrupted) "))
			break;
		rt_pause_ms(100);
	}
	cr_assert(line && strstr(line, " (interrupted) "), "%s", line ? line : "no v2");
	free(line);
}

/*
 * The OOM killer ends one process: the writer.  The guard it forked for
 * the switch undoes it at once, with no other command: v2 failed, its
 * instance stopped, the router on v1.  (The tests above kill the guard
 * too, which leaves the undoing to the next writer.)
 */
Test(interrupted, a_push_whose_writer_alone_is_killed_is_undone_by_its_guard_at_once)
{
	push_slow_v2_and_kill(app_sandbox_kill_outermost);
	wait_v2_interrupted();
	/* the guard marks v2 failed first, then stops its instance */
	char *s = NULL;
	for (int i = 0; i < 600; i++) {
		free(s);
		s = rt_services(&sb);
		if (!strcmp(s, APP ".v1.web.1"))
			break;
		rt_pause_ms(100);
	}
	cr_assert_str_eq(s, APP ".v1.web.1");
	free(s);
	assert_serves("one\n");
	assert_v2_failed();
	struct th_result r = sw("logs", "-a", APP, "-d", "api");
	cr_assert(strstr(r.out, "Stopped 1 process instance an interrupted switch left running"),
		  "%s", r.out);
	th_result_free(&r);
}

Test(interrupted, a_restart_whose_writer_alone_is_killed_is_undone_by_its_guard_at_once)
{
	restart_and_kill(app_sandbox_kill_outermost);
	/* with no other command, one v2 web.1 is left, and fsck is content */
	struct th_result r = { 0 };
	for (int i = 0; i < 600; i++) {
		r = sw("fsck", "-a", APP);
		if (r.status == 0 && services_now() == 1)
			break;
		th_result_free(&r);
		rt_pause_ms(100);
	}
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "fsck: " APP " is consistent\n");
	th_result_free(&r);
	char *s = rt_services(&sb);
	cr_assert_str_eq(s, APP ".v2.web.1");
	free(s);
	assert_serves("one\n");
}
