/*
 * The previous release kept warm (release/warm.h), with real s6 and nginx:
 * after a switch the previous release's web instance leaves the router but
 * runs on, ps shows it warm with its memory, and a rollback to it within
 * slipway.warmPrevious starts no process and is served as soon as the
 * command returns; after the window, to a release whose config differs,
 * or with slipway.warmPrevious 0, a rollback starts its instance as
 * before; the next release retires what was warm; the automatic rollback
 * goes back to the warm instance too.
 */
#define _GNU_SOURCE
#include "tests/integration/runtime_helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define APP "wm"

static struct app_sandbox sb;
static pid_t svscan = -1;


#define sw(...) SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__)
#define ok(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

static void setup(void)
{
	rt_setup(&sb, APP, RT_ROUTER, rt_version_server_py, NULL);
}

static void teardown(void)
{
	rt_stop(&sb, &svscan);
	app_sandbox_release(&sb);
}

TestSuite(warm, .init = setup, .fini = teardown, .timeout = 240);

/* Commits version as the code's version (and crash, when set). */
static void commit_version(const char *version, int crash)
{
	app_sandbox_write(&sb, "version", version, 0644);
	if (crash)
		app_sandbox_write(&sb, "crash", "yes\n", 0644);
	free(ok("git", "add", "-A"));
	free(ok("git", "commit", "-qm", version));
}

/* v1 ("one\n") then v2 ("two\n") pushed, the runtime started first. */
static void start_and_push_two(void)
{
	svscan = rt_start(&sb);
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v1"), "%s", out);
	free(out);
	commit_version("two\n", 0);
	out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v2"), "%s", out);
	free(out);
}

/* How many instances said "Starting process" in the app's logs so far. */
static int starts(void)
{
	char *logs = ok(SLIPWAY_BIN, "logs", "-n", "1000", "-a", APP);
	int n = 0;
	for (const char *p = logs; (p = strstr(p, "Starting process")); p++)
		n++;
	free(logs);
	return n;
}

/* The page the router serves now, asserted to be want. */
static void assert_page(const char *want)
{
	char *body = rt_page(&sb, APP ".localhost");
	cr_assert(body && !strcmp(body, want), "served %s, not %s", body ? body : "(nothing)",
		  want);
	free(body);
}

/* The service directory of v's web.1, asserted to exist (its generation included). */
static char *web1_of(int version)
{
	char *dir = rt_service_dir(&sb, version, "web.1");
	cr_assert(dir, "no web.1 of v%d: %s", version, rt_services(&sb));
	return dir;
}

/* Up to about 10 s until dir is gone; 1 when it is. */
static int wait_gone(const char *dir)
{
	for (int i = 0; i < 100 && access(dir, F_OK) == 0; i++)
		rt_pause_ms(100);
	return access(dir, F_OK) != 0;
}

Test(warm, a_rollback_within_the_window_starts_no_process_and_serves_at_once)
{
	start_and_push_two();
	assert_page("two\n");
	char *v1 = web1_of(1), *v2 = web1_of(2);
	int v1_port = rt_port(&sb, 1, "web.1");
	/* v1's instance runs on, out of the router: ps says so, with its memory */
	char *ps = ok(SLIPWAY_BIN, "ps", "-a", APP);
	cr_assert(strstr(ps, "=== web (1): exec python3 -u server.py\n"), "%s", ps);
	cr_assert(strstr(ps, "web.1: up "), "%s", ps);
	cr_assert(strstr(ps, "web.1: warm ") && strstr(ps, " MB, retires in "), "%s", ps);
	free(ps);
	ps = ok(SLIPWAY_BIN, "ps", "--json", "-a", APP);
	cr_assert(strstr(ps, "\"state\":\"warm\"") && strstr(ps, "\"memory\":"), "%s", ps);
	free(ps);
	int before = starts();

	char *out = ok(SLIPWAY_BIN, "rollback", "v1", "-a", APP);
	cr_assert(strstr(out, "v3"), "%s", out);
	free(out);
	/* served at once, by the instance that was warm: nothing started */
	assert_page("one\n");
	cr_assert_eq(starts(), before, "a process started for the rollback");
	cr_assert_eq(access(v1, F_OK), 0, "v1's instance is not the one that serves");
	cr_assert_eq(rt_port(&sb, 1, "web.1"), v1_port);
	/* and v2's, just left, is the warm one in turn */
	cr_assert_eq(access(v2, F_OK), 0, "v2's instance was not kept warm");
	ps = ok(SLIPWAY_BIN, "ps", "-a", APP);
	cr_assert(strstr(ps, "web.1: up ") && strstr(ps, "  v3, port "), "%s", ps);
	cr_assert(strstr(ps, "web.1: warm ") && strstr(ps, "  v2, port "), "%s", ps);
	free(ps);

	/* the next release retires what was warm (v2's) and keeps v3's warm (v1's instance) */
	commit_version("three\n", 0);
	out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v4"), "%s", out);
	free(out);
	assert_page("three\n");
	cr_assert(wait_gone(v2), "v2's warm instance runs on after v4 went live");
	cr_assert_eq(access(v1, F_OK), 0, "v3's instance was not kept warm");
	free(v1);
	free(v2);
}

/* Up to about 60 s until nothing answers on port (a forwarder in front of it may still accept). */
static int wait_unanswered(int port)
{
	for (int i = 0; i < 600; i++) {
		char *body = rt_get(port);
		if (!body)
			return 1;
		free(body);
		rt_pause_ms(100);
	}
	return 0;
}

Test(warm, a_warm_instance_that_stopped_listening_is_not_taken)
{
	start_and_push_two();
	char *v1 = web1_of(1);
	int v1_port = rt_port(&sb, 1, "web.1");
	/* v1's app closes its port and runs on: its instance is still warm, its forwarder listening */
	char *url = th_path("http://127.0.0.1:%d/unlisten", v1_port);
	struct th_result r = th_runv(NULL, NULL, "curl", "-sS", "--max-time", "10", url, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	free(url);
	cr_assert(wait_unanswered(v1_port), "v1's app still answers on its port");
	char *ps = ok(SLIPWAY_BIN, "ps", "-a", APP);
	cr_assert(strstr(ps, "web.1: warm "), "%s", ps);
	free(ps);
	int before = starts();

	free(ok(SLIPWAY_BIN, "rollback", "v1", "-a", APP));
	/* started cold, and served */
	assert_page("one\n");
	cr_assert_eq(starts(), before + 1, "the rollback took the instance that does not listen");
	char *v3 = rt_service_dir(&sb, 3, "web.1");
	cr_assert(v3, "v3 has no instance of its own: %s", rt_services(&sb));
	free(v3);
	free(v1);
}

Test(warm, a_rollback_after_the_window_or_to_another_config_starts_its_instance)
{
	/* no automatic rollback: the watch service lives for the warm window alone */
	app_sandbox_setenv(&sb, "SLIPWAY_WATCH=0");
	app_sandbox_setenv(&sb, "SLIPWAY_WARM_PREVIOUS=2");
	start_and_push_two();
	char *v1 = web1_of(1);
	/* the window ends: the warm instance retires */
	cr_assert(wait_gone(v1), "v1's instance runs on after its window");
	int before = starts();
	char *out = ok(SLIPWAY_BIN, "rollback", "v1", "-a", APP);
	free(out);
	assert_page("one\n");
	cr_assert_eq(starts(), before + 1, "the rollback did not start v1's code again");

	/* v3 (= v1) live, v2 warm; a config change in between: v2's config is not v5's */
	app_sandbox_setenv(&sb, "SLIPWAY_WARM_PREVIOUS=60");
	free(ok(SLIPWAY_BIN, "rollback", "v2", "-a", APP)); /* v4: v3's instance warm */
	char *v3 = rt_service_dir(&sb, 3, "web.1");
	cr_assert(v3, "v3's instance was not kept warm: %s", rt_services(&sb));
	free(ok(SLIPWAY_BIN, "config:set", "FOO=bar", "-a", APP)); /* v5 */
	before = starts();
	free(ok(SLIPWAY_BIN, "rollback", "v3", "-a", APP)); /* v6: v3's code, no FOO */
	assert_page("one\n");
	cr_assert_eq(starts(), before + 1, "a release with another config took a warm instance");
	free(v3);
	free(v1);
}

Test(warm, warm_previous_0_retires_the_previous_release_at_once)
{
	app_sandbox_setenv(&sb, "SLIPWAY_WARM_PREVIOUS=0");
	start_and_push_two();
	char *v1 = rt_service_dir(&sb, 1, "web.1");
	cr_assert(!v1, "v1's instance runs on: %s", v1);
	char *ps = ok(SLIPWAY_BIN, "ps", "-a", APP);
	cr_assert(!strstr(ps, "warm"), "%s", ps);
	free(ps);
	int before = starts();
	free(ok(SLIPWAY_BIN, "rollback", "v1", "-a", APP));
	assert_page("one\n");
	cr_assert_eq(starts(), before + 1);
}

Test(warm, the_automatic_rollback_goes_back_to_the_warm_instance)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	char *v1 = web1_of(1);
	int before = starts();
	commit_version("two\n", 1);
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v2"), "%s", out);
	free(out);
	const char *want = "v3  Rollback to v1 (automatic: ";
	char *rels = NULL;
	for (int i = 0; i < 400; i++) {
		free(rels);
		rels = ok(SLIPWAY_BIN, "releases", "-a", APP);
		if (strstr(rels, want) && strstr(rels, "Current: v3"))
			break;
		rt_pause_ms(100);
	}
	cr_assert(strstr(rels, want) && strstr(rels, "Current: v3"), "%s", rels);
	free(rels);
	assert_page("one\n");
	cr_assert_eq(access(v1, F_OK), 0, "v1's instance is not the one that serves");
	cr_assert(starts() > before, "v2 never started");
	/* no instance of v3's own: it runs on v1's */
	char *services = rt_services(&sb);
	cr_assert(!strstr(services, APP ".v3."), "the rollback started an instance: %s", services);
	free(services);
	free(v1);
}

Test(warm, what_was_warm_retires_even_when_its_watch_service_is_killed_or_gone)
{
	app_sandbox_setenv(&sb, "SLIPWAY_WARM_PREVIOUS=3");
	start_and_push_two();
	char *v1 = web1_of(1);
	/* killed, s6 starts the watcher again: it still retires v1's at the window's end */
	int killed = 0;
	for (int i = 0; i < 100 && !killed; i++)
		if (!(killed = app_sandbox_kill_named(sb.dir, "watch:run")))
			rt_pause_ms(20);
	cr_assert_geq(killed, 1, "no watcher ran");
	cr_assert(wait_gone(v1), "v1's instance runs on after its window");

	/* v3 (= v1), v2 warm; its watch service goes before the window ends */
	free(ok(SLIPWAY_BIN, "rollback", "v1", "-a", APP));
	char *v2 = web1_of(2);
	char *svc = th_path("%s/services/watch-" APP, sb.root);
	char *aside = th_path("%s/services/.gone-lost", sb.root), *moved = th_path("%s/svc", aside);
	cr_assert_eq(mkdir(aside, 0700), 0);
	cr_assert_eq(rename(svc, moved), 0);
	app_sandbox_kill_named(sb.dir, "watch:run");
	rt_pause_ms(4000);
	cr_assert_eq(access(v2, F_OK), 0, "nothing should have retired v2's instance yet");
	/* the next writer finds it past its window and retires it */
	char *ps = ok(SLIPWAY_BIN, "ps:restart", "-a", APP);
	free(ps);
	cr_assert(wait_gone(v2), "v2's instance runs on after its window");
	char *logs = ok(SLIPWAY_BIN, "logs", "-p", "api", "-a", APP);
	cr_assert(strstr(logs, "Stopped 1 warm process instance of v2: slipway.warmPrevious is over"),
		  "%s", logs);
	free(logs);
	free(moved);
	free(aside);
	free(svc);
	free(v2);
	free(v1);
}

Test(warm, only_web_instances_are_kept_warm_and_the_others_start_again)
{
	app_sandbox_write(&sb, "Procfile", "web: exec python3 -u server.py\n"
					   "worker: exec sleep 600\n", 0644);
	free(ok("git", "commit", "-qam", "worker"));
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	free(ok(SLIPWAY_BIN, "ps:scale", "worker=1", "-a", APP));
	char *web = web1_of(1);
	commit_version("two\n", 0);
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v2"), "%s", out);
	free(out);
	cr_assert_null(rt_service_dir(&sb, 1, "worker.1"), "v1's worker runs on: %s",
		       rt_services(&sb));
	free(ok(SLIPWAY_BIN, "rollback", "v1", "-a", APP));
	assert_page("one\n");
	/* v1's web instance serves again; v3 starts a worker of its own */
	cr_assert_eq(access(web, F_OK), 0, "v1's web instance is not the one that serves");
	char *s = rt_services(&sb);
	cr_assert_str_eq(s, APP ".v1.web.1 " APP ".v2.web.1 " APP ".v3.worker.1");
	free(s);
	free(web);
}
