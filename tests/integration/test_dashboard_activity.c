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
#include "tests/integration/dashboard_sandbox.h"
#include "tests/integration/runtime_helpers.h"
#include "tests/integration/sshd.h"

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
	rt_setup(&sb, "alices", RT_ROUTER, rt_version_server_py, NULL);
	dash_setup(&ds, &sb);
	/*
	 * no instances kept warm: a rollback stops the old web instances once
	 * the router's old workers are done with their requests - the
	 * dashboard's own among them
	 */
	dash_git_config(&ds, "slipway.warmPrevious", "0");
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "access:add", "alice", "-a", "alices"));
	dash_start(&ds);
}

static void teardown(void)
{
	dash_teardown(&ds);
	app_sandbox_release(&sb);
}

TestSuite(dashboard_activity, .init = setup, .fini = teardown, .timeout = 240);

/* GET path, or POST form from the dashboard's own page, as cookie's user. */
static struct dash_answer http(const char *path, const char *form, const char *cookie)
{
	return dash_http(&ds, path, form, cookie, form ? ds.base : NULL);
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
static struct dash_answer result_done(const char *path, const char *cookie)
{
	for (int i = 0; i < 600; i++) {
		struct dash_answer a = http(path, NULL, cookie);
		cr_assert_eq(a.status, 200, "%s", a.text);
		if (!strstr(a.text, "http-equiv=\"refresh\""))
			return a;
		free(a.text);
		rt_pause_ms(100);
	}
	cr_assert_fail("the rollback is still under way after 60 s");
	return (struct dash_answer){ 0, NULL };
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
	char *cookie = dash_log_in(&ds);

	struct dash_answer a = http("/apps/alices/activity", NULL, cookie);
	cr_assert_eq(a.status, 200, "%s", a.text);
	cr_assert(strstr(a.text, "action=\"/apps/alices/rollback/v1\"><button type=\"submit\">Roll "
				 "back to here</button>"), "%s", a.text);
	cr_assert(strstr(a.text, "/apps/alices/builds/2"), "%s", a.text);
	free(a.text);

	a = http("/apps/alices/rollback/v1", NULL, cookie);
	cr_assert_eq(a.status, 200, "%s", a.text);
	cr_assert(strstr(a.text, "1 commit undone"), "%s", a.text);
	cr_assert(strstr(a.text, "two &lt;b&gt;bold&lt;/b&gt;"), "%s", a.text);
	char *csrf = dash_field(a.text, "csrf"), *current = dash_field(a.text, "current");
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
	/* logged once the rollback is over, moments after its release (bounded) */
	char *logs = NULL;
	for (int i = 0; i < 300; i++) {
		free(logs);
		logs = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "logs", "-a", "alices");
		if (strstr(logs, "slipway[api]: Rollback to v1 by alice (dashboard)"))
			break;
		rt_pause_ms(100);
	}
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
