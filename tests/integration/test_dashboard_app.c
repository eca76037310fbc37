/*
 * An app's dashboard pages end to end, through the real router (nginx),
 * the real supervision tree and a real sshd: the live tail is read
 * through nginx as Server-Sent Events and shows a line logged after it
 * opened, and a tail whose client went frees its slot while the limit
 * holds (503); a running build's output streams through nginx line by
 * line until its end event; Restart makes new instances; maintenance on makes the
 * app's host answer 503; a reveal of the config vars is logged; a POST
 * without the token and every page of another user's app are refused
 * with nothing changed.  curl talks to 127.0.0.1 only (--resolve).
 */
#define _GNU_SOURCE
#include "tests/helpers.h"
#include "tests/integration/app_sandbox.h"
#include "tests/integration/dashboard_sandbox.h"
#include "tests/integration/runtime_helpers.h"
#include "tests/integration/sshd.h"

#include "dashboard/logs.h"
#include "store/builds.h"
#include "util/error.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define APP "alices"

static struct app_sandbox sb;
static struct dash ds;

static void setup(void)
{
	th_sshd_require();
	rt_setup(&sb, APP, RT_ROUTER, rt_version_server_py, NULL);
	dash_setup(&ds, &sb);
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "apps:create", "bobs"));
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "access:add", "alice", "-a", APP));
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "config:set", "SECRET_KEY=hunter2", "-a", APP));
	dash_start(&ds);
}

static void teardown(void)
{
	dash_teardown(&ds);
	app_sandbox_release(&sb);
}

TestSuite(dashboard_app, .init = setup, .fini = teardown, .timeout = 240);

/* Logs alice in (dash_log_in()): her cookie, and into *csrf her page's token. */
static char *log_in(char **csrf)
{
	char *cookie = dash_log_in(&ds);
	struct dash_answer a = dash_http(&ds, "/apps/" APP "/processes", NULL, cookie, NULL);
	cr_assert_eq(a.status, 200, "%s", a.text);
	*csrf = dash_field(a.text, "csrf");
	free(a.text);
	return cookie;
}

/* The app's page through the router: its status. */
static int app_status(void)
{
	char *url = th_path("http://127.0.0.1:%d/", sb.http_port);
	struct th_result r = th_runv(NULL, NULL, "curl", "-s", "-o", "/dev/null", "-w",
				     "%{http_code}", "--max-time", "10", "-H", "Host: " APP ".apps.test",
				     url, NULL);
	int code = r.out ? atoi(r.out) : 0;
	th_result_free(&r);
	free(url);
	return code;
}

static char *cli(const char *cmd)
{
	return SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, cmd, "-a", APP);
}

/* The names of the app's instances as `ps --json` lists them. */
static char *instances(void)
{
	return SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "ps", "--json", "-a", APP);
}

/* 1 when ps --json shows one web.1, up, on another port than old_port ("\"port\":N"). */
static int replaced(const char *ps, const char *old_port)
{
	const char *first = strstr(ps, "\"name\":\"web.1\"");
	return first && !strstr(first + 1, "\"name\":\"web.1\"") && strstr(ps, "\"state\":\"up\"") &&
	       !strstr(ps, old_port);
}

Test(dashboard_app, restart_maintenance_reveal_and_refusals)
{
	free(app_sandbox_push(&sb, "main"));
	for (int i = 0; i < 300 && app_status() != 200; i++)
		rt_pause_ms(100);
	cr_assert_eq(app_status(), 200);
	char *csrf = NULL, *cookie = log_in(&csrf);
	char *form = th_path("csrf=%s", csrf);

	/* another user's app: 404 on every page, nothing changes */
	static const char *const foreign[] = { "/apps/bobs/processes", "/apps/bobs/logs",
					       "/apps/bobs/config", "/apps/bobs/domains" };
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		struct dash_answer a = dash_http(&ds, foreign[i], NULL, cookie, NULL);
		cr_assert_eq(a.status, 404, "%s: %s", foreign[i], a.text);
		free(a.text);
	}
	char *on = th_path("csrf=%s&state=on", csrf);
	struct dash_answer a = dash_http(&ds, "/apps/bobs/maintenance", on, cookie, ds.base);
	cr_assert_eq(a.status, 404, "%s", a.text);
	free(a.text);
	char *m = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "maintenance", "-a", "bobs");
	cr_assert_str_eq(m, "off\n");
	free(m);

	/* what ps, logs and domains show */
	a = dash_http(&ds, "/apps/" APP "/processes", NULL, cookie, NULL);
	cr_assert(strstr(a.text, "=== web (1): exec python3 -u server.py\nweb.1: up "), "%s", a.text);
	cr_assert(strstr(a.text, "Maintenance mode is off"), "%s", a.text);
	free(a.text);
	a = dash_http(&ds, "/apps/" APP "/logs", NULL, cookie, NULL);
	cr_assert(strstr(a.text, " slipway[api]: Release v2 created by "), "%s", a.text);
	cr_assert(strstr(a.text, " slipway[web.1]: State changed from starting to up\n"), "%s", a.text);
	free(a.text);
	a = dash_http(&ds, "/apps/" APP "/domains", NULL, cookie, NULL);
	cr_assert(strstr(a.text, "<li>" APP ".apps.test</li>"), "%s", a.text);
	free(a.text);

	/* Restart: new instances, logged */
	char *before = instances();
	a = dash_http(&ds, "/apps/" APP "/processes/restart", form, cookie, ds.base);
	cr_assert_eq(a.status, 303, "%s", a.text);
	cr_assert(strstr(a.text, "Location: /apps/" APP "/processes?done=restart\r\n"), "%s", a.text);
	free(a.text);
	/* the switch runs once the answer is out: new instances within moments (bounded) */
	const char *p = strstr(before, "\"port\":");
	cr_assert(p, "%s", before);
	char *old_port = strndup(p, strcspn(p, ",}") + 1); /* with its end: not a prefix */
	char *after = instances();
	for (int i = 0; i < 600 && !replaced(after, old_port); i++) {
		free(after);
		rt_pause_ms(100);
		after = instances();
	}
	cr_assert(replaced(after, old_port), "not restarted: before %s, now %s", before, after);
	/* and the restart is over (its switch done, the old instance retired) once it is logged */
	char *log = NULL;
	for (int i = 0; i < 600; i++) {
		free(log);
		log = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "logs", "--source", "slipway", "-a", APP);
		if (strstr(log, "slipway[api]: Restart all by alice (dashboard)\n"))
			break;
		rt_pause_ms(100);
	}
	cr_assert(strstr(log, "slipway[api]: Restart all by alice (dashboard)\n"), "%s", log);
	free(log);
	free(old_port);
	free(before);
	free(after);

	/* one process type: a button per type; a type the release lacks is refused, unlogged */
	a = dash_http(&ds, "/apps/" APP "/processes", NULL, cookie, NULL);
	cr_assert(strstr(a.text, "<input type=\"hidden\" name=\"type\" value=\"web\">"
				 "<button type=\"submit\">Restart web</button>"), "%s", a.text);
	free(a.text);
	char *typed = th_path("csrf=%s&type=nosuch", csrf);
	a = dash_http(&ds, "/apps/" APP "/processes/restart", typed, cookie, ds.base);
	cr_assert_eq(a.status, 400, "%s", a.text);
	cr_assert(strstr(a.text, "Restart failed: v2 has no process type &#39;nosuch&#39;"), "%s",
		  a.text);
	free(a.text);
	free(typed);
	typed = th_path("csrf=%s&type=web", csrf);
	a = dash_http(&ds, "/apps/" APP "/processes/restart", typed, cookie, ds.base);
	cr_assert_eq(a.status, 303, "%s", a.text);
	cr_assert(strstr(a.text, "Location: /apps/" APP "/processes?done=restart-type\r\n"), "%s",
		  a.text);
	free(a.text);
	free(typed);
	for (int i = 0; i < 600; i++) {
		log = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "logs", "--source", "slipway", "-a", APP);
		if (strstr(log, "slipway[api]: Restart web by alice (dashboard)\n"))
			break;
		free(log);
		log = NULL;
		rt_pause_ms(100);
	}
	cr_assert(log, "the restart of web was not logged");
	cr_assert_null(strstr(log, "Restart nosuch"), "%s", log);
	free(log);

	/* maintenance without the token: refused, the app still serves */
	a = dash_http(&ds, "/apps/" APP "/maintenance", "state=on", cookie, ds.base);
	cr_assert_eq(a.status, 403, "%s", a.text);
	free(a.text);
	cr_assert_eq(app_status(), 200);
	/* with it, while the router refuses every configuration: logged, and it stays off */
	dash_git_config(&ds, "slipway.nginx", "/bin/false");
	a = dash_http(&ds, "/apps/" APP "/maintenance", on, cookie, ds.base);
	cr_assert_eq(a.status, 303, "%s", a.text);
	free(a.text);
	const char *failed = "slipway[api]: Maintenance mode on by alice (dashboard) failed: the "
			     "router refused the new configuration";
	for (int i = 0; i < 300; i++) {
		log = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "logs", "--source", "slipway", "-a", APP);
		if (strstr(log, failed))
			break;
		free(log);
		log = NULL;
		rt_pause_ms(100);
	}
	cr_assert(log && strstr(log, "; it stays off\n"), "%s", log ? log : "(no failure logged)");
	free(log);
	char *m2 = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "maintenance", "-a", APP);
	cr_assert_str_eq(m2, "off\n");
	free(m2);
	cr_assert_eq(app_status(), 200);
	dash_git_config(&ds, "slipway.nginx", "nginx");
	/* with it: the app's host answers 503 */
	a = dash_http(&ds, "/apps/" APP "/maintenance", on, cookie, ds.base);
	cr_assert_eq(a.status, 303, "%s", a.text);
	free(a.text);
	for (int i = 0; i < 300 && app_status() != 503; i++)
		rt_pause_ms(100);
	cr_assert_eq(app_status(), 503);

	/* reveal: the values, and the event */
	a = dash_http(&ds, "/apps/" APP "/config", NULL, cookie, NULL);
	cr_assert_null(strstr(a.text, "hunter2"), "%s", a.text);
	free(a.text);
	a = dash_http(&ds, "/apps/" APP "/config/reveal", form, cookie, ds.base);
	cr_assert_eq(a.status, 200, "%s", a.text);
	cr_assert(strstr(a.text, "<td>SECRET_KEY</td><td>hunter2</td>"), "%s", a.text);
	free(a.text);

	log = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "logs", "--source", "slipway", "-a", APP);
	cr_assert(strstr(log, "slipway[api]: Restart all by alice (dashboard)\n"), "%s", log);
	cr_assert(strstr(log, "slipway[api]: Maintenance mode on by alice (dashboard)\n"), "%s", log);
	cr_assert(strstr(log, "slipway[api]: Config vars revealed by alice (dashboard)\n"), "%s", log);
	free(log);
	free(on);
	free(form);
	free(csrf);
	free(cookie);
}

/* Starts curl reading the app's live tail through nginx into the file out; its pid. */
static pid_t tail_start(const char *cookie, const char *out)
{
	char *url = th_path("%s/apps/" APP "/logs/stream", ds.base);
	char *cookie_h = th_path("Cookie: %s", cookie);
	const char *argv[] = { "/usr/bin/curl", "-sS", "-N", "-i", "--max-time", "120", "--resolve",
			       ds.resolve, "-H", cookie_h, url, NULL };
	pid_t pid = app_sandbox_start(&sb, out, argv);
	free(url);
	free(cookie_h);
	return pid;
}

static void tail_stop(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/*
 * A tail into out once it is live, trying again while every slot is taken
 * (a tail that went frees its slot within moments): its pid, or -1.
 */
static pid_t tail_open(const char *cookie, const char *out)
{
	for (int tries = 0; tries < 100; tries++) {
		pid_t pid = tail_start(cookie, out);
		for (int w = 0; w < 100; w++) {
			char *t = th_read(out, NULL);
			int live = t && strstr(t, ": live\n\n"), busy = t && strstr(t, "HTTP/1.1 503");
			free(t);
			if (live)
				return pid;
			if (busy)
				break;
			rt_pause_ms(100);
		}
		tail_stop(pid);
		rt_pause_ms(200);
	}
	return -1;
}

Test(dashboard_app, the_live_tail_streams_through_nginx_and_is_bounded)
{
	char *csrf = NULL, *cookie = log_in(&csrf);
	char *out = th_path("%s/tail.out", sb.dir);
	/* a line logged before the stream opens (after the page, say) comes first, after reset */
	free(cli("maintenance:off"));
	pid_t pid = tail_start(cookie, out);
	app_sandbox_wait_for(out, ": live\n\n");
	char *start = th_read(out, NULL);
	char *reset = strstr(start, "event: reset\ndata: \n\n"), *live = strstr(start, ": live\n\n");
	char *before = strstr(start, "slipway[api]: Maintenance mode off by ");
	cr_assert(reset && before && reset < before && before < live, "%s", start);
	free(start);
	/* a line logged after the stream opened arrives as it comes */
	free(cli("maintenance:on"));
	app_sandbox_wait_for(out, "slipway[api]: Maintenance mode on by ");
	char *text = th_read(out, NULL);
	cr_assert(strstr(text, "HTTP/1.1 200"), "%s", text);
	cr_assert(strstr(text, "Content-Type: text/event-stream"), "%s", text);
	cr_assert(strstr(text, "\ndata: "), "%s", text);
	free(text);
	/* the client goes: its slot is free again; the limit holds: one more than it, 503 */
	tail_stop(pid);
	pid_t tails[LOGS_STREAMS_MAX];
	char *outs[LOGS_STREAMS_MAX];
	for (int i = 0; i < LOGS_STREAMS_MAX; i++) {
		outs[i] = th_path("%s/tail%d.out", sb.dir, i);
		/* the slot of the tail that went is freed within moments (bounded wait) */
		tails[i] = tail_open(cookie, outs[i]);
		cr_assert_neq(tails[i], -1, "tail %d did not open", i);
	}
	struct dash_answer a = dash_http(&ds, "/apps/" APP "/logs/stream", NULL, cookie, NULL);
	cr_assert_eq(a.status, 503, "%s", a.text);
	cr_assert(strstr(a.text, "live tails are open already"), "%s", a.text);
	free(a.text);
	for (int i = 0; i < LOGS_STREAMS_MAX; i++) {
		tail_stop(tails[i]);
		free(outs[i]);
	}
	/* a HEAD gets the stream's headers and holds no slot: as many as slots, then a tail opens */
	char *url = th_path("%s/apps/" APP "/logs/stream", ds.base), *cookie_h = th_path("Cookie: %s", cookie);
	/* (first, the tails that went give their slots back: within moments, bounded) */
	for (int i = -100; i <= LOGS_STREAMS_MAX; i++) {
		struct th_result h = th_runv(NULL, NULL, "curl", "-sS", "-I", "--max-time", "10",
					     "--resolve", ds.resolve, "-H", cookie_h, url, NULL);
		cr_assert_eq(h.status, 0, "HEAD %d: %s", i, h.err);
		int streams = strstr(h.out, "Content-Type: text/event-stream") != NULL;
		th_result_free(&h);
		if (i < 0 && !streams) {
			rt_pause_ms(100);
			continue;
		}
		cr_assert(streams, "HEAD %d was refused", i);
		if (i < 0)
			i = 0;
	}
	free(cookie_h);
	free(url);
	char *last = th_path("%s/tail-last.out", sb.dir);
	pid = tail_open(cookie, last);
	cr_assert_neq(pid, -1, "no tail opened after the HEADs");
	tail_stop(pid);
	free(last);
	free(out);
	free(csrf);
	free(cookie);
}

Test(dashboard_app, a_running_builds_output_streams_through_nginx_until_it_ends)
{
	char *csrf = NULL, *cookie = log_in(&csrf);
	struct build_record r = BUILD_RECORD_INIT;
	FILE *log;
	r.user = strdup("alice");
	r.source = strdup("main");
	cr_assert_eq(builds_begin(sb.root, APP, &r, 100, &log), 0, "%s", sw_error_last());
	fputs("-----> Building\n", log);
	fflush(log);
	char *url = th_path("%s/apps/" APP "/builds/%d/stream", ds.base, r.id);
	char *cookie_h = th_path("Cookie: %s", cookie);
	char *out = th_path("%s/build.out", sb.dir);
	const char *argv[] = { "/usr/bin/curl", "-sS", "-N", "-i", "--max-time", "120", "--resolve",
			       ds.resolve, "-H", cookie_h, url, NULL };
	pid_t pid = app_sandbox_start(&sb, out, argv);
	app_sandbox_wait_for(out, "data: -----&gt; Building\n\n");
	/* a line written while the stream is open arrives as it comes, through nginx */
	fputs("-----> Compiled <ok>\n", log);
	fclose(log);
	app_sandbox_wait_for(out, "data: -----&gt; Compiled &lt;ok&gt;\n\n");
	r.status = BUILD_FAILED;
	cr_assert_eq(builds_update(sb.root, APP, &r), 0, "%s", sw_error_last());
	app_sandbox_wait_for(out, "event: end\ndata: failed\n\n");
	char *text = th_read(out, NULL);
	cr_assert(strstr(text, "Content-Type: text/event-stream"), "%s", text);
	free(text);
	/* the stream ended with the build: curl ends before its --max-time */
	int status = -1;
	for (int i = 0; i < 300 && waitpid(pid, &status, WNOHANG) == 0; i++)
		rt_pause_ms(100);
	cr_assert(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "curl did not end with the stream");
	build_record_release(&r);
	free(out);
	free(cookie_h);
	free(url);
	free(csrf);
	free(cookie);
}
