/*
 * Releases placed across hosts by themselves, across network namespaces
 * (netns.h): a control and two run hosts, each with its own root and its
 * runtime running (`slipway server:run`), the run hosts with a real sshd
 * forcing the control's key to the node agent.  Checked: a push goes live
 * on local, h1 and h2, all or none, and the pusher is told where; ps:scale
 * spreads the formation (web=3: one each; web=6: two each, no instance
 * started again and no release on a run host; web=1: the control only)
 * while the ledger keeps the total; config:set and rollback reach every host; a
 * gate failing on h2 only fails the release everywhere, naming h2, and the
 * release before serves on; ps:scale with h2 unreachable is refused with
 * nothing changed; an app set to h1 alone runs nothing on the control; a
 * release that crashes, or fails its health checks, on h2 only is rolled
 * back on every host by the control's watch, h2 named.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"
#include "tests/integration/netns.h"
#include "tests/integration/sshd.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HOSTS 3 /* 0: the control; 1 and 2: run hosts h1, h2 */
#define ALLOW "run on it as its operator: slipway hosts:allow '"
#define APP "shop"

static struct th_netns tb;
static char *sb;
static struct th_netns_host hs[HOSTS];
static struct th_netns_env ev[HOSTS];
static pid_t sshd[HOSTS];

static void setup(void)
{
	th_netns_require();
	th_sshd_require();
	if (access("/usr/bin/s6-svscan", X_OK))
		cr_skip_test("s6 is needed (run scripts/deps)");
	sb = th_sandbox();
	th_netns_up(&tb, HOSTS);
	for (int i = 0; i < HOSTS; i++) {
		th_netns_host(&hs[i], &tb, sb, i);
		th_netns_env(&ev[i], &hs[i], tb.addr[i]);
		sshd[i] = i ? th_netns_agent_sshd(&tb, i, ev[i].sshdir, hs[i].dir) : -1;
		/* the control runs instances too: it is the host local */
		th_netns_server_run(tb.ns[i], hs[i].root, ev[i].env, hs[i].log);
	}
}

static void teardown(void)
{
	th_netns_down(&tb); /* every process in the namespaces with them */
	for (int i = 0; i < HOSTS; i++) {
		th_netns_env_free(&ev[i]);
		th_netns_host_free(&hs[i]);
	}
	if (sb)
		th_sandbox_free(sb);
	sb = NULL;
}

TestSuite(place, .init = setup, .fini = teardown, .timeout = 900);

/* argv run on host i (inside its namespace, with its environment). */
static struct th_result on(int i, const char *const *argv)
{
	return th_netns_run(tb.ns[i], hs[i].dir, ev[i].env, NULL, argv);
}
#define SW(i, ...) on(i, (const char *const[]){ SLIPWAY_BIN, __VA_ARGS__, NULL })
#define OK(i, ...) th_netns_ok_at(TH_AT, SW(i, __VA_ARGS__))

/* h1 and h2 trust the control's key and join it. */
static void join_hosts(void)
{
	for (int i = 1; i < HOSTS; i++) {
		struct th_result r = SW(0, "hosts:add", "tmp", hs[i].url);
		const char *p = strstr(r.err, ALLOW);
		cr_assert(p, "%s", r.err);
		p += strlen(ALLOW);
		char *key = xstrndup(p, strcspn(p, "'")), *name = th_path("h%d", i);
		th_result_free(&r);
		free(OK(i, "hosts:allow", key));
		free(OK(0, "hosts:add", name, hs[i].url));
		free(name);
		free(key);
	}
}

/*
 * web answers "greeting $GREETING" (and "ok" at /health) once it kept
 * FILL_MB megabytes in its /tmp; with LATE_AT set (a time, in seconds
 * since the epoch), it keeps 16 MB more at that time - or, started after
 * it, 8 s after it serves - and exits when it cannot, or, with SICK set,
 * serves on without its /health.
 */
static const char procfile[] =
	"web: dd if=/dev/zero of=/tmp/fill bs=1M count=${FILL_MB:-0} 2>/dev/null && "
	"mkdir -p /tmp/site && echo \"greeting $GREETING\" > /tmp/site/index.html && "
	"echo ok > /tmp/site/health && "
	"cd /tmp/site || exit 1; if [ -z \"$LATE_AT\" ]; then exec python3 -m http.server $PORT; fi; "
	"python3 -m http.server $PORT & s=$(( LATE_AT - $(date +%s) )); [ $s -gt 0 ] || s=8; sleep $s; "
	"dd if=/dev/zero of=/tmp/late bs=1M count=16 2>/dev/null || "
	"{ [ -n \"$SICK\" ] || exit 1; rm /tmp/site/health; }; wait\n";

static void git_at(struct th_at at, const char *src, const char *const *argv)
{
	struct th_result r = th_netns_run(tb.ns[0], src, ev[0].env, NULL, argv);
	cr_assert_eq(r.status, 0, "at %s:%d: %s: exit %d\n%s%s", at.file, at.line, argv[1],
		     r.status, r.out, r.err);
	th_result_free(&r);
}
#define GIT(src, ...) git_at(TH_AT, src, (const char *const[]){ "git", __VA_ARGS__, NULL })

/* The control makes APP (its hosts then set to hosts, unless NULL) and pushes v1: what git said. */
static char *push_app(const char *hosts)
{
	char *src = th_path("%s/src", hs[0].dir), *file = th_path("%s/Procfile", src);
	char *repo = th_path("%s/apps/%s.git", hs[0].root, APP);
	cr_assert_eq(mkdir(src, 0700), 0);
	th_write(file, procfile, 0644);
	free(OK(0, "apps:create", APP));
	if (hosts)
		free(OK(0, "apps:hosts:set", hosts, "-a", APP));
	GIT(src, "init", "-q", "-b", "main");
	GIT(src, "add", "Procfile");
	GIT(src, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "v1");
	const char *argv[] = { "git", "push", repo, "main", NULL };
	struct th_result r = th_netns_run(tb.ns[0], src, ev[0].env, NULL, argv);
	cr_assert_eq(r.status, 0, "push: %s%s", r.out, r.err);
	char *said = r.err;
	r.err = NULL;
	th_result_free(&r);
	free(repo);
	free(file);
	free(src);
	return said;
}

/* The page host i's router serves for APP, curl'ed from the control ("" for none). */
static char *page_on(int i)
{
	char *u = th_path("http://%s:8080/", tb.addr[i]);
	const char *argv[] = { "curl", "-sS", "--max-time", "10", "-H", "Host: " APP ".localhost",
			       u, NULL };
	struct th_result r = on(0, argv);
	free(u);
	free(r.err);
	return r.out;
}

/* The status of a POST through the front (the control's router), as curl gives it. */
static char *post_status(void)
{
	char *u = th_path("http://%s:8080/", tb.addr[0]);
	const char *argv[] = { "curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w",
			       "%{http_code}", "-X", "POST", "-H", "Host: " APP ".localhost", u, NULL };
	struct th_result r = on(0, argv);
	free(u);
	free(r.err);
	return r.out;
}

/*
 * Asserts every host's router serves want (the control's: the front), in
 * the end: a switch under way (an automatic rollback's) may take seconds.
 */
static void served_at(struct th_at at, const char *want, int wait_s)
{
	for (int i = 0; i < HOSTS; i++) {
		char *page = page_on(i);
		for (int s = 0; s < wait_s && strcmp(page, want); s++) {
			sleep(1);
			free(page);
			page = page_on(i);
		}
		cr_assert_str_eq(page, want, "at %s:%d: host %d: %s", at.file, at.line, i, page);
		free(page);
	}
}
#define SERVED(want) served_at(TH_AT, want, 0)

/* Run host i's node agent's answer to `state APP`, asked with the control's key (malloc'ed). */
static char *state_on(int i)
{
	char *key = th_path("%s/hosts/id_ed25519", hs[0].root), *login = th_path("root@%s", tb.addr[i]);
	struct th_result r = th_netns_ssh(tb.ns[0], hs[0].dir, ev[0].env, key, login, "state " APP,
					  NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	char *out = r.out;
	r.out = NULL;
	th_result_free(&r);
	free(login);
	free(key);
	return out;
}

/* Whether the instance named name (len bytes) is kept warm in state (an agent's answer). */
static int warm_in(const char *state, const char *name, size_t len)
{
	char *want = th_path("\"%.*s.state\":\"warm\"", (int)len, name);
	int warm = strstr(state, want) != NULL;
	free(want);
	return warm;
}

/* How many web instances of APP run on host i: its agent's state, or the control's services. */
static int webs_on(int i)
{
	int n = 0;
	if (i == 0) {
		char *dir = th_path("%s/services", hs[0].root);
		DIR *d = opendir(dir);
		cr_assert(d, "%s", dir);
		for (struct dirent *e; (e = readdir(d));)
			n += !strncmp(e->d_name, APP ".v", strlen(APP ".v")) &&
			     strstr(e->d_name, ".web.");
		closedir(d);
		free(dir);
		return n;
	}
	char *state = state_on(i);
	/* of the release it runs now: the one before keeps its web ones warm a while */
	for (const char *p = state; (p = strstr(p, ".type\":\"web\"")); p++) {
		const char *key = p;
		while (key > state && *key != '"')
			key--;
		n += !warm_in(state, key + 1, (size_t)(p - key - 1));
	}
	free(state);
	return n;
}

/*
 * "release N, NAME pid P" of host i: its release, and the process of its
 * web.1 that is not kept warm (what starting it again would change).
 */
static char *release_and_web1(int i)
{
	char *state = state_on(i), *said = NULL;
	const char *rel = strstr(state, "\"release\":");
	cr_assert(rel, "%s", state);
	for (const char *p = state; !said && (p = strstr(p, ".web.1.pid\":")); p++) {
		const char *key = p;
		while (key > state && *key != '"')
			key--;
		size_t len = (size_t)(p - key - 1) + strlen(".web.1");
		if (!warm_in(state, key + 1, len))
			said = th_path("release %d, %.*s pid %d", atoi(rel + strlen("\"release\":")),
				       (int)len, key + 1, atoi(p + strlen(".web.1.pid\":")));
	}
	cr_assert(said, "h%d runs no web.1: %s", i, state);
	free(state);
	return said;
}

/* Asserts the web instances on local, h1, h2 (retired ones may take a moment to go). */
static void webs_at(struct th_at at, int w0, int w1, int w2)
{
	int want[HOSTS] = { w0, w1, w2 }, got[HOSTS] = { 0 };
	for (int tries = 0; tries < 100; tries++) {
		int same = 1;
		for (int i = 0; i < HOSTS; i++)
			same = (got[i] = webs_on(i)) == want[i] && same;
		if (same)
			return;
		usleep(100 * 1000);
	}
	cr_assert_fail("at %s:%d: web instances %d, %d, %d, not %d, %d, %d", at.file, at.line,
		       got[0], got[1], got[2], w0, w1, w2);
}
#define WEBS(...) webs_at(TH_AT, __VA_ARGS__)

/* h2's operator gives the app's /tmp 8M there, and an instance boot_s seconds, not 60, to serve. */
static void small_tmp_on_h2(const char *boot_s)
{
	char *config = th_path("%s/apps/%s.git/config", hs[2].root, APP);
	const char *tmp[] = { "git", "config", "--file", config, "slipway.tmpSize", "8M", NULL };
	free(th_netns_ok_at(TH_AT, on(2, tmp)));
	const char *boot[] = { "git", "config", "--file", config, "slipway.bootTimeout", boot_s, NULL };
	free(th_netns_ok_at(TH_AT, on(2, boot)));
	free(config);
}

Test(place, a_release_goes_to_every_host_and_ps_scale_spreads_its_instances)
{
	join_hosts();
	char *said = push_app(NULL);
	cr_assert(strstr(said, "-----> Releasing v1 to local, h1, h2... done"), "%s", said);
	free(said);
	/* web=1 over three hosts: the control's share */
	WEBS(1, 0, 0);

	/* web=3: one each, the ledger's formation the total, no new release */
	char *out = OK(0, "ps:scale", "web=3", "-a", APP);
	cr_assert_str_eq(out, "Scaling processes of shop... done, now running web at 3\n");
	free(out);
	WEBS(1, 1, 1);
	SERVED("greeting \n");
	out = OK(0, "ps:scale", "-a", APP);
	cr_assert_str_eq(out, "web=3\n");
	free(out);

	/* a config change is a release on every host; the control keeps no warm instances of v1
	   (slipway.warmPrevious 0), so that it runs web.1 of v2 alone at once */
	char *config = th_path("%s/apps/%s.git/config", hs[0].root, APP);
	const char *warm[] = { "git", "config", "--file", config, "slipway.warmPrevious", "0", NULL };
	free(th_netns_ok_at(TH_AT, on(0, warm)));
	free(config);
	/* h1 keeps v1's web warm 6 s: its own service retires it then */
	config = th_path("%s/apps/%s.git/config", hs[1].root, APP);
	const char *warm1[] = { "git", "config", "--file", config, "slipway.warmPrevious", "6", NULL };
	free(th_netns_ok_at(TH_AT, on(1, warm1)));
	free(config);
	free(OK(0, "config:set", "GREETING=two", "-a", APP));
	char *state = state_on(1);
	cr_assert(strstr(state, ".state\":\"warm\""), "h1 kept nothing warm: %s", state);
	SERVED("greeting two\n");
	WEBS(1, 1, 1);
	for (int tries = 0; tries < 300 && strstr(state, ".state\":\"warm\""); tries++) {
		free(state);
		usleep(100 * 1000);
		state = state_on(1);
	}
	cr_assert_null(strstr(state, ".state\":\"warm\""), "h1 kept v1 warm: %s", state);
	free(state);

	/* a rollback too */
	free(OK(0, "rollback", "v1", "-a", APP));
	SERVED("greeting \n");
	out = OK(0, "releases", "-a", APP);
	cr_assert(strstr(out, "v3") && strstr(out, "Rollback to v1"), "%s", out);
	cr_assert_null(strstr(out, "v4"), "ps:scale made a release: %s", out);
	free(out);

	/* web=6: two each; the run hosts add their second, their first runs on, no release there */
	char *h1 = release_and_web1(1), *h2 = release_and_web1(2);
	free(OK(0, "ps:scale", "web=6", "-a", APP));
	WEBS(2, 2, 2);
	char *now = release_and_web1(1);
	cr_assert_str_eq(now, h1, "h1 started its instance again");
	free(now);
	now = release_and_web1(2);
	cr_assert_str_eq(now, h2, "h2 started its instance again");
	free(now);
	free(h2);
	free(h1);
	SERVED("greeting \n");

	/*
	 * web=1: the control alone runs it, and the front sends no request to
	 * h1 or h2, which run none (a POST is not tried again elsewhere: each
	 * one gets the app's own answer, 501 from http.server)
	 */
	free(OK(0, "ps:scale", "web=1", "-a", APP));
	WEBS(1, 0, 0);
	char *page = page_on(0);
	cr_assert_str_eq(page, "greeting \n");
	free(page);
	for (int k = 0; k < 9; k++) {
		char *code = post_status();
		cr_assert_str_eq(code, "501", "POST %d through the front: %s", k + 1, code);
		free(code);
	}
}

Test(place, a_gate_failing_on_one_host_fails_the_release_everywhere)
{
	join_hosts();
	free(push_app(NULL));
	free(OK(0, "ps:scale", "web=3", "-a", APP));
	WEBS(1, 1, 1);

	/*
	 * h2's operator gives the app's /tmp 8M there: a v2 keeping 16M fails its
	 * gate on h2 only, once the 5 s it has to serve are over
	 */
	small_tmp_on_h2("5");
	struct th_result r = SW(0, "config:set", "GREETING=two", "FILL_MB=16", "-a", APP);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "Releasing v2 to local, h1, h2... failed\n") ||
		  strstr(r.err, "Releasing v2 to local, h1, h2... failed\n"), "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "h2: ") || strstr(r.err, "h2: "), "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "web.1 did not ") || strstr(r.err, "web.1 did not "), "%s%s",
		  r.out, r.err);
	th_result_free(&r);
	/* v1 serves on everywhere, with the instances it had */
	SERVED("greeting \n");
	WEBS(1, 1, 1);
	char *out = OK(0, "releases", "-a", APP);
	cr_assert(strstr(out, "v2") && strstr(out, "failed"), "%s", out);
	free(out);
	out = OK(0, "releases:output", "v2", "-a", APP);
	cr_assert(strstr(out, "h2: ") && strstr(out, "web.1 did not "), "%s", out);
	free(out);

	/* h2 unreachable: ps:scale refused, naming it, and nothing changes */
	th_sshd_stop(&sshd[2]);
	r = SW(0, "ps:scale", "web=2", "-a", APP);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "");
	cr_assert(!strncmp(r.err, " !    h2: cannot reach root@", 28), "%s", r.err);
	th_result_free(&r);
	out = OK(0, "ps:scale", "-a", APP);
	cr_assert_str_eq(out, "web=3\n");
	free(out);
	int got[2] = { webs_on(0), webs_on(1) };
	cr_assert(got[0] == 1 && got[1] == 1, "local %d, h1 %d", got[0], got[1]);
}

Test(place, an_app_set_to_one_run_host_runs_nothing_on_the_control)
{
	join_hosts();
	char *said = push_app("h1");
	cr_assert(strstr(said, "-----> Releasing v1 to h1... done"), "%s", said);
	free(said);
	/* h1 runs the whole formation; the control records v1 and runs none; h2 has no app */
	cr_assert_eq(webs_on(0), 0);
	cr_assert_eq(webs_on(1), 1);
	char *page = page_on(1);
	cr_assert_str_eq(page, "greeting \n");
	free(page);
	char *out = OK(0, "releases", "-a", APP);
	cr_assert(strstr(out, "v1"), "%s", out);
	free(out);
	char *repo = th_path("%s/apps/%s.git", hs[2].root, APP);
	cr_assert_neq(access(repo, F_OK), 0, "%s was made", repo);
	free(repo);
	/* the front sends its requests to h1 */
	page = page_on(0);
	cr_assert_str_eq(page, "greeting \n");
	free(page);
}

/*
 * The control watches a new release 5 minutes (long enough for three
 * strikes on a run host), runs set (a config:set) and waits for its watch:
 * asserts that release vROLLBACK is "Rollback to vTO", saying why, and
 * that every host serves the page of vTO again ("greeting ").
 */
static void watched_rollback_at(struct th_at at, const char *const *set, int rollback, int to,
				const char *why)
{
	char *config = th_path("%s/apps/%s.git/config", hs[0].root, APP);
	const char *watch[] = { "git", "config", "--file", config, "slipway.watch", "300", NULL };
	free(th_netns_ok_at(at, on(0, watch)));
	free(config);
	free(th_netns_ok_at(at, on(0, set)));
	char *v = th_path("v%d", rollback), *back = th_path("Rollback to v%d", to), *out = NULL;
	for (int tries = 0; tries < 240; tries++) {
		free(out);
		out = OK(0, "releases", "-a", APP);
		if (strstr(out, v))
			break;
		sleep(1); /* the watch's own pace: a wait, not a measure */
	}
	/* the control's watch saw it there, and rolled back on every host */
	cr_assert(strstr(out, v) && strstr(out, back), "at %s:%d: %s", at.file, at.line, out);
	free(out);
	out = OK(0, "releases:info", v, "-a", APP);
	cr_assert(strstr(out, why), "at %s:%d: %s", at.file, at.line, out);
	free(out);
	free(back);
	free(v);
	served_at(at, "greeting \n", 90);
}
#define WATCHED_ROLLBACK(...) watched_rollback_at(TH_AT, __VA_ARGS__)

/*
 * "LATE_AT=T" (malloc'ed): 20 s from now, when a release made now went
 * live everywhere (it takes a few seconds)
 */
static char *late_at(void)
{
	return th_path("LATE_AT=%lld", (long long)time(NULL) + 20);
}

Test(place, a_release_crashing_on_one_run_host_is_rolled_back_everywhere)
{
	join_hosts();
	free(push_app(NULL));
	free(OK(0, "ps:scale", "web=3", "-a", APP));
	WEBS(1, 1, 1);
	/*
	 * h2 gives the app's /tmp 8M: v2 serves everywhere, then crashes on h2
	 * only; started again, 8 s later each time, so that the watch (which
	 * asks the run hosts every 5 s) sees it crashed 3 times before a fourth
	 */
	small_tmp_on_h2("20");
	char *late = late_at();
	const char *set[] = { SLIPWAY_BIN, "config:set", "GREETING=two", late, "-a", APP, NULL };
	WATCHED_ROLLBACK(set, 3, 1, "web.1 on h2 crashed 3 times");
	free(late);
}

Test(place, a_release_failing_its_health_checks_on_one_run_host_is_rolled_back_everywhere)
{
	join_hosts();
	free(push_app(NULL));
	/* v2: the app's own check, GET /health answering "ok" */
	char *src = th_path("%s/src", hs[0].dir), *file = th_path("%s/app.json", src);
	char *repo = th_path("%s/apps/%s.git", hs[0].root, APP);
	th_write(file, "{\"healthchecks\": {\"web\": [{\"type\": \"startup\", "
		 "\"path\": \"/health\", \"content\": \"ok\"}]}}\n", 0644);
	GIT(src, "add", "app.json");
	GIT(src, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "v2");
	GIT(src, "push", "-q", repo, "main");
	free(OK(0, "ps:scale", "web=3", "-a", APP));
	WEBS(1, 1, 1);
	/* h2 gives the app's /tmp 8M: v3 serves everywhere, then its /health goes on h2 only */
	small_tmp_on_h2("20");
	char *late = late_at();
	const char *set[] = { SLIPWAY_BIN, "config:set", "GREETING=two", late, "SICK=1", "-a", APP,
			      NULL };
	WATCHED_ROLLBACK(set, 4, 2, "web.1 on h2 failed its health check 3 times in a row");
	free(late);
	free(repo);
	free(file);
	free(src);
}
