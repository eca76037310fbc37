/*
 * An app across hosts, as the control shows it (runtime/hostview.h), in
 * network namespaces (netns.h): a control and two run hosts, each with
 * its own root and runtime (`slipway server:run`), the run hosts with a
 * real sshd.  The control runs the app itself and, through the hidden
 * hosts:apply, on h1 and h2.  Checked: an app on the control alone shows
 * ps and logs as a single server does; with run hosts, ps lists every
 * host's instances with their host, logs merges the lines each host
 * wrote, in the order they were written, each with its host, and
 * releases:info names the hosts that run the release; with h2's sshd
 * killed, ps and logs show the rest, say h2 is unreachable and exit 1.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"
#include "tests/integration/netns.h"
#include "tests/integration/sshd.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOSTS 3 /* 0: the control; 1 and 2: run hosts h1, h2 */
#define APP "shop"
#define ALLOW "run on it as its operator: slipway hosts:allow '"

static struct th_netns tb;
static char *sb;
static struct th_netns_host hs[HOSTS];
static char *sshdir[HOSTS];
static char *kv[HOSTS][4];
static const char *env[HOSTS][8];
static pid_t sshd[HOSTS];

/* web logs each request it answers (python's http.server, to stderr, unbuffered) */
static const char procfile[] =
	"web: mkdir -p /tmp/site && echo hi > /tmp/site/index.html && cd /tmp/site && "
	"exec python3 -u -m http.server $PORT\n";

static void setup(void)
{
	th_netns_require();
	th_sshd_require();
	if (access("/usr/bin/s6-svscan", X_OK) || access("/usr/sbin/nginx", X_OK))
		cr_skip_test("s6 and nginx are needed (run scripts/deps)");
	sb = th_sandbox();
	th_netns_up(&tb, HOSTS);
	for (int i = 0; i < HOSTS; i++) {
		th_netns_host(&hs[i], &tb, sb, i);
		sshdir[i] = th_path("%s/ssh", hs[i].dir);
		cr_assert_eq(mkdir(sshdir[i], 0700), 0);
		kv[i][0] = th_path("SLIPWAY_ROOT=%s", hs[i].root);
		kv[i][1] = th_path("SLIPWAY_AUTHORIZED_KEYS=%s/authorized_keys", sshdir[i]);
		kv[i][2] = th_path("HOME=%s", hs[i].dir);
		kv[i][3] = th_path("SLIPWAY_HTTP_ADDRESS=%s", i ? tb.addr[i] : "127.0.0.1");
		const char *e[] = { kv[i][0], kv[i][1], kv[i][2], kv[i][3],
				    "SLIPWAY_HTTP_PORT=8080", "LC_ALL=C", NULL };
		memcpy(env[i], e, sizeof(e));
		sshd[i] = -1;
		if (i) {
			/* the node agent's sessions get the settings server:run has */
			sshd[i] = th_netns_agent_sshd(&tb, (size_t)i, sshdir[i], hs[i].dir);
		}
		th_netns_server_run(tb.ns[i], hs[i].root, env[i], hs[i].log);
	}
}

static void teardown(void)
{
	th_netns_down(&tb); /* every process in the namespaces with them */
	for (int i = 0; i < HOSTS; i++) {
		for (int k = 0; k < 4; k++)
			free(kv[i][k]);
		th_netns_host_free(&hs[i]);
		free(sshdir[i]);
	}
	if (sb)
		th_sandbox_free(sb);
	sb = NULL;
}

TestSuite(hostview, .init = setup, .fini = teardown, .timeout = 480);

static struct th_result on(int i, const char *dir, const char *const *argv)
{
	return th_netns_run(tb.ns[i], dir ? dir : hs[i].dir, env[i], NULL, argv);
}
#define SW(i, ...) on(i, NULL, (const char *const[]){ SLIPWAY_BIN, __VA_ARGS__, NULL })
#define OK(i, ...) th_netns_ok_at(TH_AT, SW(i, __VA_ARGS__))
#define GIT(src, ...) \
	free(th_netns_ok_at(TH_AT, on(0, src, (const char *const[]){ "git", __VA_ARGS__, NULL })))

/* The control makes APP and pushes its first release (v1), which it runs itself. */
static void push_app(void)
{
	char *src = th_path("%s/src", hs[0].dir), *file = th_path("%s/Procfile", src);
	char *repo = th_path("%s/apps/%s.git", hs[0].root, APP);
	cr_assert_eq(mkdir(src, 0700), 0);
	th_write(file, procfile, 0644);
	free(OK(0, "apps:create", APP));
	GIT(src, "init", "-q", "-b", "main");
	GIT(src, "add", "Procfile");
	GIT(src, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "v1");
	GIT(src, "push", "-q", repo, "main");
	free(repo);
	free(file);
	free(src);
}

/* Run host i trusts the control's key (the line a refused hosts:add names) and joins as hI. */
static void join(int i)
{
	struct th_result r = SW(0, "hosts:add", "tmp", hs[i].url);
	const char *p = strstr(r.err, ALLOW);
	cr_assert(p, "%s", r.err);
	char *key = xstrndup(p + strlen(ALLOW), strcspn(p + strlen(ALLOW), "'"));
	th_result_free(&r);
	free(OK(i, "hosts:allow", key));
	char *name = th_path("h%d", i);
	free(OK(0, "hosts:add", name, hs[i].url));
	free(name);
	free(key);
}

/* The app on the control, and on h1 and h2 through their agents: one web each. */
static void spread(void)
{
	push_app();
	join(1);
	join(2);
	/* web=3 over local, h1 and h2: one each */
	free(OK(0, "ps:scale", "web=3", "-a", APP));
	char *out = OK(0, "hosts:apply", "-a", APP);
	cr_assert(strstr(out, "done, v1 runs on h1, h2\n"), "%s", out);
	free(out);
}

/* GET path from host i's router (from the control's namespace), asserted to answer. */
static void get(int i, const char *path)
{
	char *u = th_path("http://%s:8080%s", i ? tb.addr[i] : "127.0.0.1", path);
	const char *argv[] = { "curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w",
			       "%{http_code}", "-H", "Host: " APP ".localhost", u, NULL };
	char *code = th_netns_ok_at(TH_AT, on(0, NULL, argv));
	cr_assert_str_eq(code, "404", "%s", u); /* http.server has no such file: it logs it */
	free(code);
	free(u);
}

/* The control's logs until they hold want (a request line each host writes as it comes). */
static char *logs_until(const char *want)
{
	for (int tries = 0; tries < 100; tries++) {
		struct th_result r = SW(0, "logs", "-n", "1500", "-a", APP);
		free(r.err);
		if (r.status == 0 && strstr(r.out, want))
			return r.out;
		free(r.out);
		usleep(200 * 1000);
	}
	cr_assert_fail("the logs never showed %s", want);
	return NULL;
}

/* logs --tail on the control for 3 seconds (it follows until stopped). */
static struct th_result tail_logs(void)
{
	const char *argv[] = { "timeout", "3", SLIPWAY_BIN, "logs", "--tail", "-a", APP, NULL };
	struct th_result r = on(0, NULL, argv);
	cr_assert_eq(r.status, 124, "%s%s", r.out, r.err); /* stopped by timeout, not failed */
	return r;
}

/* The line of text holding what (malloc'ed; asserted there). */
static char *line_of(const char *text, const char *what)
{
	const char *p = strstr(text, what);
	cr_assert(p, "no %s in:\n%s", what, text);
	while (p > text && p[-1] != '\n')
		p--;
	return xstrndup(p, strcspn(p, "\n"));
}

/* Asserts each line of text starts with a stamp no older than the line before. */
static void in_time_order(const char *text)
{
	const char *prev = NULL;
	for (const char *p = text; *p; p = strchr(p, '\n') + 1) {
		cr_assert(strchr(p, '\n') && strlen(p) > 32 && p[32] == ' ', "%s", p);
		cr_assert(!prev || strncmp(prev, p, 32) <= 0, "out of order:\n%.*s\n%.*s", 80, prev,
			  80, p);
		prev = p;
	}
}

Test(hostview, an_app_on_the_control_alone_shows_as_on_a_single_server)
{
	push_app();
	join(1); /* a run host that does not run the app changes nothing */
	get(0, "/alone");
	char *ps = OK(0, "ps", "-a", APP);
	cr_assert(strstr(ps, "=== web (1): "), "%s", ps);
	cr_assert(strstr(ps, "web.1: up "), "%s", ps);
	cr_assert(!strstr(ps, " on "), "%s", ps);
	free(ps);
	char *logs = logs_until("GET /alone");
	char *line = line_of(logs, "GET /alone");
	cr_assert(!strncmp(line + 32, " app[web.1]: ", 13), "%s", line);
	free(line);
	free(logs);
	char *info = OK(0, "releases:info", "-a", APP);
	cr_assert(!strstr(info, "Hosts:"), "%s", info);
	free(info);
	struct th_result r = tail_logs();
	cr_assert(strstr(r.out, "GET /alone") && !strstr(r.out, " local "), "%s", r.out);
	cr_assert_str_eq(r.err, "");
	th_result_free(&r);
}

Test(hostview, ps_logs_and_releases_info_show_each_host)
{
	spread();

	/* ps: the instances of every host, each with its host, local first */
	char *ps = OK(0, "ps", "-a", APP);
	cr_assert(strstr(ps, "=== web (3): "), "%s", ps);
	const char *l = strstr(ps, ") on local  v1, port ");
	const char *h1 = strstr(ps, ") on h1  v1, port "), *h2 = strstr(ps, ") on h2  v1, port ");
	cr_assert(l && h1 && h2 && l < h1 && h1 < h2, "%s", ps);
	free(ps);
	char *json = OK(0, "ps", "--json", "-a", APP);
	cr_assert(strstr(json, "\"host\":\"h1\"") && strstr(json, "\"host\":\"local\""), "%s", json);
	free(json);

	/* logs: lines written on h1, h2, h1, h2 in turn come merged in that order */
	static const char *const paths[] = { "/one", "/two", "/three", "/four" };
	char *logs = NULL;
	for (int k = 0; k < 4; k++) {
		char *want = th_path("GET %s ", paths[k]);
		get(1 + k % 2, paths[k]);
		free(logs);
		logs = logs_until(want); /* written before the next request is made */
		free(want);
	}
	in_time_order(logs);
	const char *prev = logs;
	for (int k = 0; k < 4; k++) {
		char *want = th_path("GET %s ", paths[k]);
		char *line = line_of(logs, want);
		char *host = th_path(" h%d app[web.1]: ", 1 + k % 2);
		cr_assert(!strncmp(line + 32, host, strlen(host)), "%s", line);
		const char *at = strstr(logs, want);
		cr_assert(at > prev, "%s came before the line before it:\n%s", paths[k], logs);
		prev = at;
		free(host);
		free(line);
		free(want);
	}
	/* the control's own events are among them, named local */
	cr_assert(strstr(logs, " local slipway[api]: "), "%s", logs);
	free(logs);
	/* the filter reaches every host; -n counts the merged lines */
	char *web = OK(0, "logs", "--ps", "web", "-n", "1500", "-a", APP);
	cr_assert(!strstr(web, "[api]") && strstr(web, " h2 app[web.1]: "), "%s", web);
	free(web);
	char *two = OK(0, "logs", "-n", "2", "-a", APP);
	char *nl = strchr(two, '\n');
	cr_assert(nl && strchr(nl + 1, '\n') && !strchr(nl + 1, '\n')[1], "%s", two);
	free(two);

	/* --tail follows this server's lines only, and says so */
	struct th_result r = tail_logs();
	cr_assert(strstr(r.err, "--tail follows this server's lines only, not those of shop's run "
			  "hosts: logs without --tail merges them\n"), "%s", r.err);
	cr_assert(strstr(r.out, "slipway[api]: ") && !strstr(r.out, "GET /one "), "%s", r.out);
	th_result_free(&r);

	/* releases:info names the hosts that run it */
	char *info = OK(0, "releases:info", "-a", APP);
	cr_assert(strstr(info, "\nHosts:     local, h1, h2\n"), "%s", info);
	free(info);
}

Test(hostview, a_host_that_cannot_be_reached_is_said_and_the_listing_incomplete)
{
	spread();
	get(1, "/before");
	free(logs_until("GET /before "));
	th_sshd_stop(&sshd[2]);
	char *why = th_path("h2: unreachable: cannot reach root@%s port 22: ", tb.addr[2]);

	struct th_result r = SW(0, "ps", "-a", APP);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, ") on local  v1") && strstr(r.out, ") on h1  v1"), "%s", r.out);
	cr_assert(!strstr(r.out, " on h2"), "%s", r.out);
	cr_assert(strstr(r.err, why) && !strchr(r.err, '\n')[1], "%s", r.err);
	th_result_free(&r);

	r = SW(0, "logs", "-n", "1500", "-a", APP);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, " h1 app[web.1]: ") && strstr(r.out, "GET /before "), "%s", r.out);
	cr_assert(!strstr(r.out, " h2 "), "%s", r.out);
	cr_assert(strstr(r.err, why) && !strchr(r.err, '\n')[1], "%s", r.err);
	th_result_free(&r);

	char *info = OK(0, "releases:info", "-a", APP);
	cr_assert(strstr(info, "\nHosts:     local, h1, h2 (unreachable)\n"), "%s", info);
	free(info);
	free(why);
}
