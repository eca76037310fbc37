/*
 * The Activity tab and its rollback end to end: two real pushes, a login
 * over a real sshd, the activity page through the real router, the
 * preview, the confirmed rollback - a release "Rollback to v1" by that
 * user, a logged event, and the router serving v1's page again - and a
 * stale confirmation refused with nothing changed.  curl talks to
 * 127.0.0.1 only, naming the hosts with --resolve.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"
#include "tests/integration/app_sandbox.h"
#include "tests/integration/runtime_helpers.h"
#include "tests/integration/sshd.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOST "dashboard.apps.test"

static struct app_sandbox sb;
static pid_t svscan = -1, sshd_pid = -1;
static int ssh_port;
static char *key_alice, *login, *resolve, *base;

static void git_config(const char *key, const char *value)
{
	char *file = th_path("%s/.gitconfig", sb.dir);
	free(SANDBOX_OK(&sb, NULL, "git", "config", "--file", file, key, value));
	free(file);
}

static void setup(void)
{
	th_sshd_require();
	rt_setup(&sb, "alices", RT_ROUTER, rt_version_server_py, NULL);
	char *keys = th_path("SLIPWAY_AUTHORIZED_KEYS=%s/authorized_keys", sb.dir);
	app_sandbox_setenv(&sb, keys);
	free(keys);
	char port[16];
	snprintf(port, sizeof(port), "%d", sb.http_port);
	git_config("slipway.domain", "apps.test");
	git_config("slipway.httpPort", port);
	git_config("slipway.httpAddress", "127.0.0.1");
	/*
	 * no instances kept warm: a rollback stops the old web instances once
	 * the router's old workers are done with their requests - the
	 * dashboard's own among them
	 */
	git_config("slipway.warmPrevious", "0");
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "access:add", "alice", "-a", "alices"));
	key_alice = th_keygen_in(sb.dir, "alice", "alice@laptop");
	char *pub = th_path("%s.pub", key_alice);
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "keys:add", "alice", pub));
	free(pub);
	char *user = th_sshd_user();
	ssh_port = th_free_port();
	login = th_path("%s@127.0.0.1", user);
	sshd_pid = th_sshd_start(sb.dir, ssh_port, user);
	free(user);
	resolve = th_path(HOST ":%d:127.0.0.1", sb.http_port);
	base = th_path("http://" HOST ":%d", sb.http_port);
	svscan = rt_start(&sb);
}

static void teardown(void)
{
	rt_stop(&sb, &svscan);
	th_sshd_stop(&sshd_pid);
	app_sandbox_release(&sb);
	free(key_alice);
	free(login);
	free(resolve);
	free(base);
}

TestSuite(dashboard_activity, .init = setup, .fini = teardown, .timeout = 180);

static struct th_result ssh_alice(const char *command)
{
	char p[16];
	snprintf(p, sizeof(p), "%d", ssh_port);
	const char *argv[] = { "ssh", "-F", "/dev/null", "-T", "-i", key_alice, "-p", p,
			       "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
			       "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
			       "-o", "LogLevel=ERROR", login, command, NULL };
	return app_sandbox_run(&sb, NULL, NULL, argv);
}

struct answer {
	int status;
	char *text;
};

/* curl through the router to the dashboard: GET, or POST form from the dashboard's origin. */
static struct answer http(const char *path, const char *form, const char *cookie)
{
	char *url = th_path("%s%s", base, path);
	char *cookie_h = cookie ? th_path("Cookie: %s", cookie) : NULL;
	char *origin_h = th_path("Origin: %s", base);
	const char *argv[24] = { "curl", "-sS", "-i", "--max-time", "60", "--resolve", resolve };
	size_t n = 7;
	if (form) {
		argv[n++] = "--data-raw";
		argv[n++] = form;
		argv[n++] = "-H";
		argv[n++] = origin_h;
	}
	if (cookie_h) {
		argv[n++] = "-H";
		argv[n++] = cookie_h;
	}
	argv[n++] = url;
	argv[n] = NULL;
	struct th_result r = th_run(NULL, NULL, NULL, argv);
	cr_assert_eq(r.status, 0, "curl %s: %s", path, r.err);
	struct answer a = { 0, r.out };
	sscanf(r.out, "HTTP/1.1 %d", &a.status);
	r.out = NULL;
	th_result_free(&r);
	free(url);
	free(cookie_h);
	free(origin_h);
	return a;
}

/* The Location of an answer http() got (malloc'ed). */
static char *location(const char *answer)
{
	const char *at = strstr(answer, "\r\nLocation: ");
	cr_assert(at, "no Location: %s", answer);
	at += strlen("\r\nLocation: ");
	return xstrndup(at, strcspn(at, "\r"));
}

/* The rollback's result page once it no longer says the rollback is under way. */
static struct answer result_done(const char *path, const char *cookie)
{
	for (int i = 0; i < 600; i++) {
		struct answer a = http(path, NULL, cookie);
		cr_assert_eq(a.status, 200, "%s", a.text);
		if (!strstr(a.text, "http-equiv=\"refresh\""))
			return a;
		free(a.text);
		rt_pause_ms(100);
	}
	cr_assert_fail("the rollback is still under way after 60 s");
	return (struct answer){ 0, NULL };
}

static void wait_ready(void)
{
	for (int i = 0; i < 600; i++) {
		struct answer a = http("/login", NULL, NULL);
		int up = a.status == 200;
		free(a.text);
		if (up)
			return;
		rt_pause_ms(100);
	}
	cr_assert_fail("the dashboard did not answer at %s/login", base);
}

/* dashboard:login over ssh, its token posted: the session cookie. */
static char *log_in(void)
{
	struct th_result r = ssh_alice("dashboard:login");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	char *want = th_path("%s/login#", base);
	char *at = strstr(r.out, want);
	cr_assert(at, "%s\nwant %s", r.out, want);
	char *form = th_path("token=%.64s", at + strlen(want));
	struct answer a = http("/login", form, NULL);
	cr_assert_eq(a.status, 303, "%s", a.text);
	char *set = strstr(a.text, "Set-Cookie: slipway_session=");
	cr_assert(set, "%s", a.text);
	char *cookie = strndup(set + strlen("Set-Cookie: "), strlen("slipway_session=") + 64);
	free(a.text);
	free(form);
	free(want);
	th_result_free(&r);
	return cookie;
}

/* The value of the hidden field name in page. */
static char *field(const char *page, const char *name)
{
	char *want = th_path("name=\"%s\" value=\"", name);
	const char *at = strstr(page, want);
	cr_assert(at, "no %s in %s", name, page);
	at += strlen(want);
	char *v = strndup(at, strcspn(at, "\""));
	free(want);
	return v;
}

/* The app's page through the router, once it holds want (up to ~10 s). */
static void wait_page(const char *want)
{
	char *page = NULL;
	for (int i = 0; i < 100; i++) {
		free(page);
		page = rt_page(&sb, "alices.apps.test");
		if (page && strstr(page, want))
			break;
		rt_pause_ms(100);
	}
	cr_assert(page && strstr(page, want), "the app serves %s, not %s", page, want);
	free(page);
}

static char *releases_json(void)
{
	return SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "releases", "--json", "-a", "alices");
}

Test(dashboard_activity, a_rollback_from_the_activity_tab_is_the_users_and_serves_the_old_code)
{
	free(app_sandbox_push(&sb, "main"));
	app_sandbox_write(&sb, "version", "two\n", 0644);
	free(SANDBOX_OK(&sb, NULL, "git", "commit", "-qam", "two <b>bold</b>"));
	free(app_sandbox_push(&sb, "main"));
	wait_page("two");
	wait_ready();
	char *cookie = log_in();

	struct answer a = http("/apps/alices/activity", NULL, cookie);
	cr_assert_eq(a.status, 200, "%s", a.text);
	cr_assert(strstr(a.text, "action=\"/apps/alices/rollback/v1\"><button type=\"submit\">Roll "
				 "back to here</button>"), "%s", a.text);
	cr_assert(strstr(a.text, "/apps/alices/builds/2"), "%s", a.text);
	free(a.text);

	a = http("/apps/alices/rollback/v1", NULL, cookie);
	cr_assert_eq(a.status, 200, "%s", a.text);
	cr_assert(strstr(a.text, "1 commit undone"), "%s", a.text);
	cr_assert(strstr(a.text, "two &lt;b&gt;bold&lt;/b&gt;"), "%s", a.text);
	char *csrf = field(a.text, "csrf"), *current = field(a.text, "current");
	cr_assert_str_eq(current, "2");
	free(a.text);

	char *form = th_path("csrf=%s&target=1&current=%s", csrf, current);
	a = http("/apps/alices/rollback", form, cookie);
	/* answered at once: the switch waits for the router's requests, this one among them */
	cr_assert_eq(a.status, 303, "%s", a.text);
	char *result = location(a.text);
	free(a.text);
	a = result_done(result, cookie);
	cr_assert(strstr(a.text, "Rolling back alices to v1... done, v3"), "%s", a.text);
	free(a.text);
	free(result);
	char *json = releases_json();
	cr_assert(strstr(json, "\"version\":3,\"description\":\"Rollback to v1\""), "%s", json);
	cr_assert(strstr(json, "\"Rollback to v1\",\"user\":{\"email\":\"alice\"}"), "%s", json);
	free(json);
	wait_page("one");
	char *logs = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "logs", "-a", "alices");
	cr_assert(strstr(logs, "slipway[api]: Rollback to v1 by alice (dashboard)"), "%s", logs);
	free(logs);

	/* the same confirmation again: v2 is no longer current, so nothing happens */
	a = http("/apps/alices/rollback", form, cookie);
	cr_assert_eq(a.status, 409, "%s", a.text);
	cr_assert(strstr(a.text, "this page is out of date"), "%s", a.text);
	free(a.text);
	json = releases_json();
	cr_assert_null(strstr(json, "\"version\":4"), "no release made: %s", json);
	free(json);
	wait_page("one");
	free(form);
	free(csrf);
	free(current);
	free(cookie);
}
