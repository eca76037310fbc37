/*
 * Automatic rollback (runtime/watch.h) for everyone, with real s6, nginx
 * and a real sshd on 127.0.0.1: a collaborator's release pushed over ssh
 * that crashes again and again is rolled back like the operator's, and a
 * watcher killed with SIGKILL, once or again and again, is started again
 * and still rolls back - but not once its watch was over; server:reload
 * restarts it and the dashboard on this slipway, never the instances.
 */
#define _GNU_SOURCE
#include "tests/integration/runtime_helpers.h"
#include "tests/integration/sshd.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define APP "wt"

static struct app_sandbox sb;
static pid_t svscan = -1, sshd = -1;


#define sw(...) SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__)
#define ok(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

static void setup(void)
{
	rt_setup(&sb, APP, RT_ROUTER, rt_version_server_py,
		 (const char *const[]){ "SLIPWAY_WATCH=40", NULL });
}

static void teardown(void)
{
	rt_stop(&sb, &svscan);
	th_sshd_stop(&sshd);
	app_sandbox_release(&sb);
}

TestSuite(watch, .init = setup, .fini = teardown, .timeout = 240);

/* Commits code that crashes a second after it binds. */
static void commit_crashing(void)
{
	app_sandbox_write(&sb, "crash", "yes\n", 0644);
	app_sandbox_write(&sb, "version", "two\n", 0644);
	free(ok("git", "add", "-A"));
	free(ok("git", "commit", "-qm", "crashes"));
}

/* Waits up to about 40 s for `releases` to list the automatic rollback of v2 to v1. */
static void assert_rolled_back(void)
{
	const char *want = "v3  Rollback to v1 (automatic: web.1 crashed 3 times after v2 went live)";
	char *rels = NULL;
	for (int i = 0; i < 400; i++) {
		struct th_result r = sw("releases", "-a", APP);
		free(rels);
		rels = strdup(r.out);
		th_result_free(&r);
		if (strstr(rels, want) && strstr(rels, "Current: v3"))
			break;
		rt_pause_ms(100);
	}
	cr_assert(strstr(rels, want) && strstr(rels, "Current: v3"), "no automatic rollback:\n%s",
		  rels);
	free(rels);
	char *body = NULL;
	for (int i = 0; i < 100; i++) { /* the rollback's instance serves once the switch is done */
		free(body);
		body = rt_page(&sb, APP ".localhost");
		if (body && !strcmp(body, "one\n"))
			break;
		rt_pause_ms(100);
	}
	cr_assert(body && !strcmp(body, "one\n"), "%s", body ? body : "(no answer)");
	free(body);
	/* the watch is over: its service is gone from the tree */
	char *svc = th_path("%s/services/watch-" APP, sb.root);
	for (int i = 0; i < 100 && access(svc, F_OK) == 0; i++)
		rt_pause_ms(100);
	cr_assert_neq(access(svc, F_OK), 0, "the watcher's service is still there");
	free(svc);
}

/* The server's settings for sessions over ssh, which get none of the operator's variables. */
static void server_config(void)
{
	char port[16], range[32];
	snprintf(port, sizeof(port), "%d", sb.http_port);
	for (size_t i = 0; i < sb.nenv; i++)
		if (!strncmp(sb.env[i], "SLIPWAY_PORT_RANGE=", 19))
			snprintf(range, sizeof(range), "%s", sb.env[i] + 19);
	free(ok("git", "config", "--global", "slipway.httpPort", port));
	free(ok("git", "config", "--global", "slipway.httpAddress", "127.0.0.1"));
	free(ok("git", "config", "--global", "slipway.portRange", range));
	free(ok("git", "config", "--global", "slipway.watch", "40"));
}

Test(watch, a_collaborators_release_pushed_over_ssh_that_crashes_is_rolled_back)
{
	th_sshd_require();
	char *keys = th_path("SLIPWAY_AUTHORIZED_KEYS=%s/authorized_keys", sb.dir);
	app_sandbox_setenv(&sb, keys);
	char *key = th_keygen_in(sb.dir, "alice", "alice@laptop"), *pub = th_path("%s.pub", key);
	free(ok(SLIPWAY_BIN, "keys:add", "alice@example.com", pub));
	free(ok(SLIPWAY_BIN, "access:add", "alice@example.com", "-a", APP));
	server_config();
	char *user = th_sshd_user();
	int port = th_free_port();
	sshd = th_sshd_start(sb.dir, port, user);
	char *url = th_path("ssh://%s@127.0.0.1:%d/%s.git", user, port, APP);
	char *ssh = th_path("GIT_SSH_COMMAND=ssh -F /dev/null -i %s -p %d -o StrictHostKeyChecking=no "
			    "-o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o BatchMode=yes "
			    "-o LogLevel=ERROR", key, port);
	app_sandbox_setenv(&sb, ssh);
	free(ok("git", "remote", "set-url", "heroku", url));
	svscan = rt_start(&sb);

	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v1"), "%s", out);
	free(out);
	commit_crashing();
	out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v2"), "%s", out);
	cr_assert(!strstr(out, "automatic rollback"), "%s", out);
	free(out);
	assert_rolled_back();
	/* alice made v2; the rollback is Slipway's */
	struct th_result r = sw("releases", "-a", APP);
	cr_assert(strstr(r.out, "v2  Deploy ") && strstr(r.out, "alice@example.com"), "%s", r.out);
	th_result_free(&r);
	free(url);
	free(ssh);
	free(user);
	free(pub);
	free(key);
	free(keys);
}

Test(watch, a_watcher_killed_with_sigkill_is_started_again_and_still_rolls_back)
{
	svscan = rt_start(&sb);
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v1"), "%s", out);
	free(out);
	commit_crashing();
	out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v2"), "%s", out);
	free(out);
	/* the watcher dies before v2 crashed three times */
	int killed = 0;
	for (int i = 0; i < 100 && !killed; i++) {
		killed = app_sandbox_kill_named(sb.dir, "watch:run");
		if (!killed)
			rt_pause_ms(20);
	}
	cr_assert_geq(killed, 1, "no watcher ran");
	assert_rolled_back();
}

/* 1 once a watcher of the root runs whose arguments hold what ("watch:run v2"), up to about 10 s. */
static int wait_watcher(const char *what)
{
	int seen = 0;
	for (int i = 0; i < 100 && !seen; i++) {
		struct buf list = BUF_INIT;
		rt_processes_of(&sb, &list);
		seen = list.data && strstr(list.data, what) != NULL;
		buf_release(&list);
		if (!seen)
			rt_pause_ms(100);
	}
	return seen;
}

/*
 * Whether a process of the root is the watcher what ("watch:run v2")
 * itself: setpriv has exec'ed it, its parent-death signal set.
 */
static int watcher_running(const char *what)
{
	struct buf list = BUF_INIT;
	rt_processes_of(&sb, &list);
	int seen = 0;
	for (const char *line = list.data; line && *line && !seen; ) {
		size_t len = strcspn(line, "\n");
		char *one = strndup(line, len);
		seen = strstr(one, what) && !strstr(one, "setpriv");
		free(one);
		line += len + (line[len] != '\0');
	}
	buf_release(&list);
	return seen;
}

/* s6-svstat -o up,wantedup of dir ("true true"), or "none" when no supervisor runs there. */
static char *svstat(const char *dir)
{
	struct th_result r = th_runv(NULL, NULL, "s6-svstat", "-o", "up,wantedup", dir, NULL);
	char *said = strdup(r.status == 0 ? r.out : "none");
	said[strcspn(said, "\n")] = '\0';
	th_result_free(&r);
	return said;
}

Test(watch, a_watcher_killed_again_and_again_still_rolls_back)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	commit_crashing();
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v2"), "%s", out);
	free(out);
	/* five times in a row, each watcher s6 starts again dies as soon as it runs */
	/* (once the crashes it counted on disk add up to three, one rolls back and ends) */
	for (int kills = 0; kills < 5; kills++)
		if (!wait_watcher("watch:run v2") || !app_sandbox_kill_named(sb.dir, "watch:run"))
			break;
	assert_rolled_back();
}

/* How many watchers of the root run whose arguments hold what. */
static int watchers(const char *what)
{
	struct buf list = BUF_INIT;
	rt_processes_of(&sb, &list);
	int n = 0;
	for (const char *p = list.data; p && (p = strstr(p, what)); p++)
		n++;
	buf_release(&list);
	return n;
}

/* The runtime, v1, then v2 (the same code, healthy): v2 is live and watched. */
static void start_and_release_v2(void)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	free(ok("git", "commit", "-q", "--allow-empty", "-m", "two"));
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v2"), "%s", out);
	free(out);
}

/*
 * kill -9 of the watcher's supervisor: its watcher goes with it, and the
 * supervisor s6 starts again starts the only one, in the tree.
 */
Test(watch, a_killed_supervisor_of_a_watcher_leaves_one_watcher_in_the_tree)
{
	start_and_release_v2();
	cr_assert(wait_watcher("watch:run v2"), "no watcher ran");
	/* killed before setpriv asked for its parent-death signal, it would outlive any supervisor */
	for (int i = 0; i < 100 && !watcher_running("watch:run v2"); i++)
		rt_pause_ms(50);
	char *svc = th_path("%s/services/watch-" APP, sb.root);
	pid_t sup = rt_supervisor_of(svc);
	cr_assert_gt(sup, 1, "no s6-supervise for %s", svc);
	cr_assert_eq(kill(sup, SIGKILL), 0);
	cr_assert(rt_wait_new_supervisor(svc, sup), "no new supervisor for %s", svc);
	struct buf left = BUF_INIT;
	cr_assert_eq(rt_wait_inside_tree(&sb, svscan, &left), 0, "outside the tree:\n%s",
		     left.data ? left.data : "");
	buf_release(&left);
	for (int i = 0; i < 50 && watchers("watch:run v2") != 1; i++)
		rt_pause_ms(100);
	cr_assert_eq(watchers("watch:run v2"), 1);
	free(svc);
}

Test(watch, a_watcher_killed_as_its_watch_ends_does_not_watch_again)
{
	start_and_release_v2();
	cr_assert(wait_watcher("watch:run v2"), "v2 is not watched");
	/* the watch ends: the watcher moves its service out of the tree, and
	 * kill -9 lands before it tells s6, which starts it again where it is */
	char *svc = th_path("%s/services/watch-" APP, sb.root);
	char *aside = th_path("%s/services/.gone-killed", sb.root), *moved = th_path("%s/svc", aside);
	cr_assert_eq(mkdir(aside, 0700), 0);
	cr_assert_eq(rename(svc, moved), 0);
	/* the watcher itself: a child it forked has its arguments until it execs */
	cr_assert_eq(app_sandbox_kill_outermost(sb.dir, "watch:run"), 1);
	/* started again, it finds its watch over: no new window, nothing left to start */
	char *said = NULL;
	for (int i = 0; i < 100; i++) {
		free(said);
		said = svstat(moved);
		if (!strcmp(said, "none") || !strcmp(said, "false false"))
			break;
		rt_pause_ms(100);
	}
	cr_assert(!strcmp(said, "none") || !strcmp(said, "false false"),
		  "the ended watch runs again (s6-svstat: %s)", said);
	struct buf list = BUF_INIT;
	rt_processes_of(&sb, &list);
	cr_assert(!list.data || !strstr(list.data, "watch:run"), "a watcher runs:\n%s", list.data);
	buf_release(&list);
	free(said);
	free(moved);
	free(aside);
	free(svc);
}

Test(watch, destroying_the_app_ends_its_watch)
{
	start_and_release_v2();
	char *svc = th_path("%s/services/watch-" APP, sb.root);
	cr_assert_eq(access(svc, F_OK), 0, "v2 is not watched");
	free(ok(SLIPWAY_BIN, "apps:destroy", APP, "--confirm", APP));
	cr_assert_neq(access(svc, F_OK), 0, "the watch of a destroyed app goes on");
	free(svc);
}

Test(watch, a_watch_that_cannot_start_is_said_to_the_pusher_and_logged)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	app_sandbox_setenv(&sb, "SLIPWAY_WATCH=forever");
	free(ok("git", "commit", "-q", "--allow-empty", "-m", "two"));
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v2"), "%s", out);
	cr_assert(strstr(out, "remote:  !     No automatic rollback for v2: "), "%s", out);
	free(out);
	char *logs = ok(SLIPWAY_BIN, "logs", "-p", "api", "-a", APP);
	cr_assert(strstr(logs, "slipway[api]: No automatic rollback for v2: "), "%s", logs);
	free(logs);
}

Test(watch, a_watch_cut_short_by_server_stop_goes_on_after_server_start)
{
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
	commit_crashing();
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v2"), "%s", out);
	free(out);
	rt_stop(&sb, &svscan);
	svscan = rt_start(&sb);
	assert_rolled_back();
}

/* s6-svstat -o pid of dir: the pid of its process, 0 when it is down or nothing supervises it. */
static long svpid(const char *dir)
{
	struct th_result r = th_runv(NULL, NULL, "s6-svstat", "-o", "pid", dir, NULL);
	long pid = r.status == 0 ? atol(r.out) : 0;
	th_result_free(&r);
	return pid > 0 ? pid : 0;
}

/*
 * server:reload (what the package runs after an upgrade) restarts the
 * services that run slipway itself, the watch and the dashboard, on the
 * slipway installed now; the app's instances and the router serve on.
 */
Test(watch, server_reload_restarts_the_watch_and_the_dashboard_not_the_instances)
{
	start_and_release_v2();
	cr_assert(wait_watcher("watch:run v2"), "no watcher ran");
	char *watch = th_path("%s/services/watch-" APP, sb.root);
	char *dash = th_path("%s/services/dashboard", sb.root);
	char *web = rt_service_dir(&sb, 2, "web.1");
	cr_assert(web, "v2 has no web.1");
	char *router = th_path("%s/services/router", sb.root);
	long watch_pid = svpid(watch), dash_pid = svpid(dash), web_pid = svpid(web),
	     router_pid = svpid(router);
	cr_assert(watch_pid && dash_pid && web_pid && router_pid, "%ld %ld %ld %ld", watch_pid,
		  dash_pid, web_pid, router_pid);

	struct th_result r = sw("server:reload");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	char *want = th_path("Restarting dashboard on %s... done\n", SLIPWAY_BIN);
	cr_assert(strstr(r.out, want), "%s", r.out);
	free(want);
	want = th_path("Restarting watch-" APP " on %s... done\n", SLIPWAY_BIN);
	cr_assert(strstr(r.out, want), "%s", r.out);
	free(want);
	cr_assert_null(strstr(r.out, "web"), "%s", r.out);
	th_result_free(&r);

	long now = svpid(watch);
	cr_assert(now && now != watch_pid, "the watch was not restarted: %ld", now);
	now = svpid(dash);
	cr_assert(now && now != dash_pid, "the dashboard was not restarted: %ld", now);
	cr_assert_eq(svpid(web), web_pid, "the app's instance was restarted");
	cr_assert_eq(svpid(router), router_pid, "the router was restarted");
	cr_assert(watcher_running("watch:run v2"), "the watch did not go on");
	char *body = rt_page(&sb, APP ".localhost");
	cr_assert(body && !strcmp(body, "one\n"), "%s", body ? body : "(no answer)");
	free(body);
	free(router);
	free(web);
	free(dash);
	free(watch);

	/* a runtime that does not run: nothing to restart */
	rt_stop(&sb, &svscan);
	r = sw("server:reload");
	cr_assert_eq(r.status, 0, "%s", r.err);
	want = th_path("The runtime of %s is not running\n", sb.root);
	cr_assert_str_eq(r.out, want);
	free(want);
	th_result_free(&r);
}
