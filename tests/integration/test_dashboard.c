/*
 * The dashboard end to end, through the real router (nginx), the real
 * supervision tree and a real sshd: `dashboard:login` over ssh prints a
 * one-time link; posting its token gets a session cookie; the app list
 * shows only that user's apps; a logout posted from an app's origin is
 * refused with 403 and the session stays (control: from the dashboard's
 * own origin it ends); keys:remove ends a user's sessions.  curl talks to
 * 127.0.0.1 only, naming the dashboard's host with --resolve.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"
#include "tests/integration/app_sandbox.h"
#include "tests/integration/runtime_helpers.h"
#include "tests/integration/sshd.h"

#include "dashboard/assets.h"
#include "runtime/supervisor.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOST "dashboard.apps.test"

static struct app_sandbox sb;
static pid_t svscan = -1, sshd_pid = -1;
static int ssh_port;
static char *key_alice, *login, *origin, *resolve, *base;

static void git_config(const char *key, const char *value)
{
	char *file = th_path("%s/.gitconfig", sb.dir);
	free(SANDBOX_OK(&sb, NULL, "git", "config", "--file", file, key, value));
	free(file);
}

static void setup(void)
{
	th_sshd_require();
	if (access("/usr/bin/s6-svscan", X_OK) || access("/usr/sbin/nginx", X_OK))
		cr_skip_test("s6 and nginx are needed (run scripts/deps)");
	app_sandbox_init(&sb, "alices", APP_SANDBOX_BATCH | APP_SANDBOX_CREATE);
	char *keys = th_path("SLIPWAY_AUTHORIZED_KEYS=%s/authorized_keys", sb.dir);
	app_sandbox_setenv(&sb, keys);
	free(keys);
	/* what ssh sessions read too: the server user's git config (HOME is the sandbox) */
	char port[16];
	snprintf(port, sizeof(port), "%d", sb.http_port);
	git_config("slipway.domain", "apps.test");
	git_config("slipway.httpPort", port);
	git_config("slipway.httpAddress", "127.0.0.1");
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "apps:create", "bobs"));
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "access:add", "alice", "-a", "alices"));
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "access:add", "bob", "-a", "bobs"));
	key_alice = th_keygen_in(sb.dir, "alice", "alice@laptop");
	char *pub = th_path("%s.pub", key_alice);
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "keys:add", "alice", pub));
	free(pub);
	char *user = th_sshd_user();
	ssh_port = th_free_port();
	login = th_path("%s@127.0.0.1", user);
	sshd_pid = th_sshd_start(sb.dir, ssh_port, user);
	free(user);
	origin = th_path("http://" HOST ":%d", sb.http_port);
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
	free(origin);
	free(resolve);
	free(base);
}

TestSuite(dashboard, .init = setup, .fini = teardown, .timeout = 120);

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

/* An answer: the status, the headers and the body (curl -i), malloc'ed. */
struct answer {
	int status;
	char *text;
};

/*
 * curl through the router to the dashboard: method GET or POST (with
 * form), cookie and Origin when not NULL.
 */
static struct answer http(const char *path, const char *form, const char *cookie,
			  const char *from)
{
	char *url = th_path("%s%s", base, path);
	char *cookie_h = cookie ? th_path("Cookie: %s", cookie) : NULL;
	char *origin_h = from ? th_path("Origin: %s", from) : NULL;
	const char *argv[24] = { "curl", "-sS", "-i", "--max-time", "20", "--resolve", resolve };
	size_t n = 7;
	if (form) {
		argv[n++] = "--data-raw";
		argv[n++] = form;
	}
	if (cookie_h) {
		argv[n++] = "-H";
		argv[n++] = cookie_h;
	}
	if (origin_h) {
		argv[n++] = "-H";
		argv[n++] = origin_h;
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

/* Waits (generously) until the dashboard answers through the router. */
static void wait_ready(void)
{
	for (int i = 0; i < 600; i++) {
		char *url = th_path("%s/login", base);
		struct th_result r = th_runv(NULL, NULL, "curl", "-s", "-o", "/dev/null", "-w",
					     "%{http_code}", "--max-time", "5", "--resolve", resolve,
					     url, NULL);
		int up = r.out && !strcmp(r.out, "200");
		th_result_free(&r);
		free(url);
		if (up)
			return;
		rt_pause_ms(100);
	}
	cr_assert_fail("the dashboard did not answer at %s/login", base);
}

/* dashboard:login over ssh, the token of the link it prints. */
static char *login_token(void)
{
	struct th_result r = ssh_alice("dashboard:login");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	char *want = th_path("%s/login#", base);
	char *at = strstr(r.out, want);
	cr_assert(at, "%s\nwant %s", r.out, want);
	cr_assert(strstr(r.out, "as alice"), "%s", r.out);
	char *token = strndup(at + strlen(want), 64);
	cr_assert_eq(strspn(token, "0123456789abcdef"), 64, "%s", r.out);
	free(want);
	th_result_free(&r);
	return token;
}

/* Posts the token from the login page: the session cookie "slipway_session=...". */
static char *log_in(void)
{
	char *token = login_token();
	char *form = th_path("token=%s", token);
	struct answer a = http("/login", form, NULL, origin);
	cr_assert_eq(a.status, 303, "%s", a.text);
	char *set = strstr(a.text, "Set-Cookie: slipway_session=");
	cr_assert(set, "%s", a.text);
	cr_assert(strstr(set, "HttpOnly; SameSite=Strict"), "%s", a.text);
	char *cookie = strndup(set + strlen("Set-Cookie: "), strlen("slipway_session=") + 64);
	free(a.text);
	free(form);
	free(token);
	return cookie;
}

static int apps_page(const char *cookie, char **csrf)
{
	struct answer a = http("/", NULL, cookie, NULL);
	if (a.status == 200) {
		cr_assert(strstr(a.text, "<td>alices</td>"), "%s", a.text);
		cr_assert_null(strstr(a.text, "bobs"), "bob's app shown to alice: %s", a.text);
		cr_assert(strstr(a.text, "Content-Security-Policy: default-src 'self'"), "%s", a.text);
		const char *at = strstr(a.text, "name=\"csrf\" value=\"");
		cr_assert(at);
		if (csrf)
			*csrf = strndup(at + strlen("name=\"csrf\" value=\""), 64);
	}
	int status = a.status;
	free(a.text);
	return status;
}

Test(dashboard, login_over_ssh_apps_and_a_cross_origin_logout_refused)
{
	wait_ready();
	char *cookie = log_in(), *csrf = NULL;
	cr_assert_eq(apps_page(cookie, &csrf), 200);
	char *form = th_path("csrf=%s", csrf);
	/* an app's page (same site) posts the logout form: refused, the session stays */
	char *evil = th_path("http://alices.apps.test:%d", sb.http_port);
	struct answer a = http("/logout", form, cookie, evil);
	cr_assert_eq(a.status, 403, "%s", a.text);
	cr_assert(strstr(a.text, "another site"), "%s", a.text);
	free(a.text);
	cr_assert_eq(apps_page(cookie, NULL), 200, "the session is still valid");
	/* control: the same form from the dashboard's own page ends it */
	a = http("/logout", form, cookie, origin);
	cr_assert_eq(a.status, 303, "%s", a.text);
	free(a.text);
	cr_assert_eq(apps_page(cookie, NULL), 303, "logged out");
	free(evil);
	free(form);
	free(csrf);
	free(cookie);
}

Test(dashboard, the_scripts_are_files_the_router_serves_under_their_content_s_name_for_good)
{
	wait_ready();
	struct answer a = http("/login", NULL, NULL, NULL);
	cr_assert_eq(a.status, 200, "%s", a.text);
	char *tag = th_path("<script src=\"%s\"></script>", assets_url("login.js"));
	cr_assert(strstr(a.text, tag), "%s", a.text);
	free(a.text);

	a = http(assets_url("login.js"), NULL, NULL, NULL);
	cr_assert_eq(a.status, 200, "%s", a.text);
	static const char *const headers[] = {
		"\r\nContent-Type: text/javascript\r\n",
		"\r\nCache-Control: max-age=315360000\r\n",
		"\r\nExpires: Thu, 31 Dec 2037 23:55:55 GMT\r\n",
		"\r\nX-Content-Type-Options: nosniff\r\n", NULL,
	};
	for (size_t i = 0; headers[i]; i++)
		cr_assert(strstr(a.text, headers[i]), "no %s in:\n%s", headers[i], a.text);
	const char *body = strstr(a.text, "\r\n\r\n");
	cr_assert(body);
	cr_assert_str_eq(body + 4, assets_body("login.js"));
	free(a.text);

	/* the file is nginx's to serve (from the root), not the dashboard process's */
	char *file = th_path("%s/dashboard%s", sb.root, assets_url("logs.js"));
	th_write(file, "changed();\n", 0644);
	a = http(assets_url("logs.js"), NULL, NULL, NULL);
	cr_assert_eq(a.status, 200, "%s", a.text);
	cr_assert(strstr(a.text, "\r\n\r\nchanged();\n"), "%s", a.text);
	free(a.text);
	a = http("/login.js", NULL, NULL, NULL);
	cr_assert_eq(a.status, 404, "%s", a.text);
	free(a.text);
	free(file);
	free(tag);
}

Test(dashboard, keys_remove_ends_the_users_sessions)
{
	wait_ready();
	char *cookie = log_in();
	cr_assert_eq(apps_page(cookie, NULL), 200);
	char *out = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "keys:remove", "alice");
	cr_assert(strstr(out, "Ended 1 dashboard session of alice\n"), "%s", out);
	free(out);
	cr_assert_eq(apps_page(cookie, NULL), 303, "the session ended with the keys");
	free(cookie);
}

Test(dashboard, logout_over_ssh_ends_the_users_sessions_and_all_is_the_operators)
{
	wait_ready();
	char *cookie = log_in();
	/* --all is the operator's: refused, with nothing ended */
	struct th_result r = ssh_alice("dashboard:logout --all");
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "");
	cr_assert_str_eq(r.err, " !    only the server's operator can end every user's sessions\n");
	th_result_free(&r);
	cr_assert_eq(apps_page(cookie, NULL), 200, "nothing ended");
	r = ssh_alice("dashboard:logout");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "Ending the dashboard sessions of alice... done, 1 ended\n");
	th_result_free(&r);
	cr_assert_eq(apps_page(cookie, NULL), 303, "logged out");
	/* the operator's --all ends everyone's */
	free(cookie);
	cookie = log_in();
	char *out = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "dashboard:logout", "--all");
	cr_assert_str_eq(out, "Ending every dashboard session... done, 1 ended\n");
	free(out);
	cr_assert_eq(apps_page(cookie, NULL), 303);
	free(cookie);
}

Test(dashboard, server_status_says_where_and_warns_inside_the_apps_domain)
{
	wait_ready();
	char *out = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "server:status");
	char *want = th_path("Dashboard:  running, at %s (inside the apps' domain apps.test, so on "
			     "the same site as their pages: a host outside it is safer, see "
			     "docs/dashboard.md)\n", base);
	cr_assert(strstr(out, want), "%s\nwant: %s", out, want);
	free(want);
	free(out);
	/* control: a host outside the apps' domain gets no such word */
	git_config("slipway.dashboardHost", "dash.example.net");
	out = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "server:status");
	want = th_path("Dashboard:  running, at http://dash.example.net:%d\n", sb.http_port);
	cr_assert(strstr(out, want), "%s\nwant: %s", out, want);
	free(want);
	free(out);
}

static long dashboard_pid(void)
{
	struct service_state st;
	cr_assert_eq(supervisor_service_state(sb.root, "dashboard", &st), 0);
	return st.up ? st.pid : 0;
}

Test(dashboard, a_second_start_leaves_it_running_and_a_changed_one_restarts_it)
{
	wait_ready();
	long pid = dashboard_pid();
	cr_assert_gt(pid, 0);
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "server:start"));
	cr_assert_eq(dashboard_pid(), pid, "the same dashboard runs on");
	/* the settings it runs with changed: it runs again with them */
	app_sandbox_setenv(&sb, "SLIPWAY_LOCK_TIMEOUT=700");
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "server:start"));
	long now = 0;
	for (int i = 0; i < 300 && ((now = dashboard_pid()) == pid || !now); i++)
		rt_pause_ms(100);
	cr_assert(now && now != pid, "not restarted: %ld", now);
	wait_ready();
}

Test(dashboard, a_login_link_with_a_bad_host_is_refused_and_leaves_no_token)
{
	char *tokens = th_path("%s/dashboard/tokens", sb.root);
	int before = th_entries(tokens);
	app_sandbox_setenv(&sb, "SLIPWAY_DASHBOARD_HOST=x;evil");
	app_sandbox_refused(SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, "dashboard:login"), 1,
			    " !    $SLIPWAY_DASHBOARD_HOST: invalid value 'x;evil': use a host name "
			    "such as dashboard.example.com\n");
	cr_assert_eq(th_entries(tokens), before, "a token was left");
	free(tokens);
}
