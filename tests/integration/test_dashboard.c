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
#include "tests/integration/dashboard_sandbox.h"
#include "tests/integration/runtime_helpers.h"
#include "tests/integration/sshd.h"

#include "runtime/supervisor.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct app_sandbox sb;
static struct dash ds;

static void setup(void)
{
	th_sshd_require();
	if (access("/usr/bin/s6-svscan", X_OK) || access("/usr/sbin/nginx", X_OK))
		cr_skip_test("s6 and nginx are needed (run scripts/deps)");
	app_sandbox_init(&sb, "alices", APP_SANDBOX_BATCH | APP_SANDBOX_CREATE);
	dash_setup(&ds, &sb);
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "apps:create", "bobs"));
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "access:add", "alice", "-a", "alices"));
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "access:add", "bob", "-a", "bobs"));
	dash_start(&ds);
}

static void teardown(void)
{
	dash_teardown(&ds);
	app_sandbox_release(&sb);
}

TestSuite(dashboard, .init = setup, .fini = teardown, .timeout = 120);

static int apps_page(const char *cookie, char **csrf)
{
	struct dash_answer a = dash_http(&ds, "/", NULL, cookie, NULL);
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
	dash_wait_ready(&ds);
	char *cookie = dash_log_in(&ds), *csrf = NULL;
	cr_assert_eq(apps_page(cookie, &csrf), 200);
	char *form = th_path("csrf=%s", csrf);
	/* an app's page (same site) posts the logout form: refused, the session stays */
	char *evil = th_path("http://alices.apps.test:%d", sb.http_port);
	struct dash_answer a = dash_http(&ds, "/logout", form, cookie, evil);
	cr_assert_eq(a.status, 403, "%s", a.text);
	cr_assert(strstr(a.text, "another site"), "%s", a.text);
	free(a.text);
	cr_assert_eq(apps_page(cookie, NULL), 200, "the session is still valid");
	/* control: the same form from the dashboard's own page ends it */
	a = dash_http(&ds, "/logout", form, cookie, ds.base);
	cr_assert_eq(a.status, 303, "%s", a.text);
	free(a.text);
	cr_assert_eq(apps_page(cookie, NULL), 303, "logged out");
	free(evil);
	free(form);
	free(csrf);
	free(cookie);
}

Test(dashboard, keys_remove_ends_the_users_sessions)
{
	dash_wait_ready(&ds);
	char *cookie = dash_log_in(&ds);
	cr_assert_eq(apps_page(cookie, NULL), 200);
	char *out = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "keys:remove", "alice");
	cr_assert(strstr(out, "Ended 1 dashboard session of alice\n"), "%s", out);
	free(out);
	cr_assert_eq(apps_page(cookie, NULL), 303, "the session ended with the keys");
	free(cookie);
}

Test(dashboard, logout_over_ssh_ends_the_users_sessions_and_all_is_the_operators)
{
	dash_wait_ready(&ds);
	char *cookie = dash_log_in(&ds);
	/* --all is the operator's: refused, with nothing ended */
	struct th_result r = dash_ssh_alice(&ds, "dashboard:logout --all");
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "");
	cr_assert_str_eq(r.err, " !    only the server's operator can end every user's sessions\n");
	th_result_free(&r);
	cr_assert_eq(apps_page(cookie, NULL), 200, "nothing ended");
	r = dash_ssh_alice(&ds, "dashboard:logout");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "Ending the dashboard sessions of alice... done, 1 ended\n");
	th_result_free(&r);
	cr_assert_eq(apps_page(cookie, NULL), 303, "logged out");
	/* the operator's --all ends everyone's */
	free(cookie);
	cookie = dash_log_in(&ds);
	char *out = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "dashboard:logout", "--all");
	cr_assert_str_eq(out, "Ending every dashboard session... done, 1 ended\n");
	free(out);
	cr_assert_eq(apps_page(cookie, NULL), 303);
	free(cookie);
}

Test(dashboard, server_status_says_where_and_warns_inside_the_apps_domain)
{
	dash_wait_ready(&ds);
	char *out = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "server:status");
	char *want = th_path("Dashboard:  running, at %s (inside the apps' domain apps.test, so on "
			     "the same site as their pages: a host outside it is safer, see "
			     "docs/dashboard.md)\n", ds.base);
	cr_assert(strstr(out, want), "%s\nwant: %s", out, want);
	free(want);
	free(out);
	/* control: a host outside the apps' domain gets no such word */
	dash_git_config(&ds, "slipway.dashboardHost", "dash.example.net");
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
	dash_wait_ready(&ds);
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
	dash_wait_ready(&ds);
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
