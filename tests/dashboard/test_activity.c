/*
 * dashboard/activity and rollback: the Activity tab (releases and builds
 * newest first, commit links, "Roll back to here" where releases:info
 * says so), a build's output, the rollback preview and its confirmation
 * (pinned to the release it was shown against), the settings page, and
 * 404 for a user who may not use the app - nothing changed.
 */
#define _GNU_SOURCE
#include "tests/dashboard_helpers.h"
#include "tests/helpers.h"
#include "tests/release_helpers.h"

#include "access/access.h"
#include "dashboard/pages.h"
#include "dashboard/scgi.h"
#include "dashboard/session.h"
#include "runtime/logs.h"
#include "store/builds.h"
#include "store/ledger.h"
#include "store/paths.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define T0 1700000000

static char *root;
static struct dashboard dash;
static char slug[65];

static void setup(void)
{
	root = dh_root(&dash);
	rh_slug(root, slug, "Procfile", "web: ./server\n", "server", "#!/bin/sh\nexit 0\n", NULL);
}

/* Where the last post() sent the browser on (its Location), or NULL. */
static char *location;

static void teardown(void)
{
	free(location);
	location = NULL;
	th_sandbox_free(root);
}

TestSuite(activity, .init = setup, .fini = teardown, .timeout = 60);

/* One request, by default from the dashboard's own page (its Origin, same-origin). */
static void answer(const struct dh_call *c, struct response *res)
{
	struct dh_call own = *c;
	if (!own.origin)
		own.origin = DH_OWN;
	if (!own.site)
		own.site = "same-origin";
	dh_answer(&dash, &own, res);
	if (res->after) /* what the server runs once the answer is out */
		res->after(res->arg);
}


/* GET path as cookie's user: the body (malloc'ed); *status its status. */
static char *get(const char *cookie, const char *path, int *status)
{
	struct response res;
	char *uri = xstrdup(path), *query = strchr(uri, '?');
	if (query)
		*query++ = '\0';
	answer(&(struct dh_call){ .method = "GET", .path = uri, .query = query, .cookie = cookie }, &res);
	free(uri);
	*status = res.status;
	char *body = buf_detach(&res.body);
	response_release(&res);
	return body ? body : xstrdup("");
}

static char *post(const char *cookie, const char *path, const char *body, int *status)
{
	struct response res;
	answer(&(struct dh_call){ .method = "POST", .path = path, .cookie = cookie, .body = body }, &res);
	*status = res.status;
	free(location);
	location = NULL;
	const char *at = res.headers.data ? strstr(res.headers.data, "Location: ") : NULL;
	if (at)
		location = xstrndup(at + 10, strcspn(at + 10, "\r"));
	char *text = buf_detach(&res.body);
	response_release(&res);
	return text ? text : xstrdup("");
}

static char *log_in_as(const char *user, int operator)
{
	return dh_log_in(&dash, user, operator);
}

static char *log_in(const char *user)
{
	return log_in_as(user, 0);
}

/* The session's csrf token, from the page's logout form. */
static char *token_of(const char *cookie)
{
	int status;
	char *page = get(cookie, "/", &status);
	const char *at = strstr(page, "name=\"csrf\" value=\"");
	cr_assert(at, "%s", page);
	char *tok = xstrndup(at + strlen("name=\"csrf\" value=\""), 64);
	free(page);
	return tok;
}

/* The release command of the next add_release() (NULL: none). */
static const char *release_command;

/* A release of alices with these fields straight into the ledger; its version. */
static int add_release(const char *desc, int64_t created, const char *commit,
		       enum release_status status, const char *const *vars)
{
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	char *repo = app_repo_path(root, "alices");
	cr_assert_eq(ledger_open(&l, repo), 0, "%s", sw_error_last());
	memcpy(r.slug, slug, 65);
	r.status = status;
	r.description = xstrdup(desc);
	r.user = xstrdup("alice");
	r.created = created;
	proc_list_set(&r.procs, "web", "./server");
	if (release_command)
		proc_list_set(&r.procs, "release", release_command);
	for (size_t i = 0; vars && vars[i]; i += 2)
		config_set(&r.config, vars[i], vars[i + 1]);
	if (commit)
		snprintf(r.commit, sizeof(r.commit), "%s", commit);
	cr_assert_eq(ledger_append(l, &r), 0, "%s", sw_error_last());
	int v = r.version;
	release_release(&r);
	ledger_free(l);
	free(repo);
	return v;
}

/* A build of alices made at created with status and output; its id. */
static int add_build(int64_t created, enum build_status status, const char *output)
{
	struct build_record r = BUILD_RECORD_INIT;
	FILE *log;
	r.user = xstrdup("alice");
	r.source = xstrdup("main");
	snprintf(r.commit, sizeof(r.commit), "%s", "abcdef0123456789abcdef0123456789abcdef01");
	cr_assert_eq(builds_begin(root, "alices", &r, 100, &log), 0, "%s", sw_error_last());
	fputs(output, log);
	fclose(log);
	r.status = status;
	r.created = created;
	cr_assert_eq(builds_update(root, "alices", &r), 0, "%s", sw_error_last());
	int id = r.id;
	build_record_release(&r);
	return id;
}

/* A commit in alices' repository with subject msg (parent may be NULL): its hash. */
static char *commit(const char *parent, const char *msg)
{
	char *repo = app_repo_path(root, "alices");
	const char *env[] = { "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@x", "GIT_COMMITTER_NAME=t",
			      "GIT_COMMITTER_EMAIL=t@x", NULL };
	struct th_result t = th_runv(NULL, env, "git", "--git-dir", repo, "mktree", NULL);
	cr_assert_eq(t.status, 0, "%s", t.err);
	char *tree = xstrndup(t.out, 40);
	struct th_result c = parent ? th_runv(NULL, env, "git", "--git-dir", repo, "commit-tree",
					      tree, "-p", parent, "-m", msg, NULL)
				    : th_runv(NULL, env, "git", "--git-dir", repo, "commit-tree",
					      tree, "-m", msg, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	char *sha = xstrndup(c.out, 40);
	th_result_free(&t);
	th_result_free(&c);
	free(tree);
	free(repo);
	return sha;
}

static int latest(void)
{
	return rh_latest(root, "alices");
}

/* 1 if a comes before b in s (both present). */
static int before(const char *s, const char *a, const char *b)
{
	const char *pa = strstr(s, a), *pb = strstr(s, b);
	cr_assert(pa, "no %s in %s", a, s);
	cr_assert(pb, "no %s in %s", b, s);
	return pa < pb;
}

Test(activity, releases_and_builds_newest_first_with_commit_links_and_rollback_buttons)
{
	add_release("Deploy 1111111", T0 + 10, "1111111111111111111111111111111111111111",
		    RELEASE_SUCCEEDED, NULL);
	add_build(T0 + 15, BUILD_FAILED, "boom\n");
	add_release("Deploy <script>alert(1)</script>", T0 + 20,
		    "2222222222222222222222222222222222222222", RELEASE_FAILED, NULL);
	add_release("Set X config vars", T0 + 30, "2222222222222222222222222222222222222222",
		    RELEASE_SUCCEEDED, NULL);
	cr_assert_eq(settings_set_repo_url(root, "alices", "https://github.com/org/repo/commit/%s"),
		     0, "%s", sw_error_last());
	char *cookie = log_in("alice");
	int status;
	char *page = get(cookie, "/apps/alices/activity", &status);
	cr_assert_eq(status, 200, "%s", page);
	cr_assert(before(page, "id=\"v3\"", "id=\"v2\""));
	cr_assert(before(page, "id=\"v2\"", "id=\"build-1\""));
	cr_assert(before(page, "id=\"build-1\"", "id=\"v1\""));
	cr_assert(strstr(page, "<a href=\"/apps/alices/builds/1\">Output</a>"), "%s", page);
	cr_assert(strstr(page, "<td>failed</td>"));
	cr_assert(strstr(page, "<a href=\"https://github.com/org/repo/commit/"
			       "1111111111111111111111111111111111111111\"><code>1111111</code></a>"),
		  "%s", page);
	cr_assert_null(strstr(page, "<script>alert"), "escaped");
	cr_assert(strstr(page, "Deploy &lt;script&gt;alert(1)&lt;/script&gt;"));
	/* v1 may be rolled back to; v2 failed; v3 is current */
	cr_assert(strstr(page, "action=\"/apps/alices/rollback/v1\"><button type=\"submit\">Roll "
			       "back to here</button>"), "%s", page);
	cr_assert_null(strstr(page, "/rollback/v2\""));
	cr_assert_null(strstr(page, "/rollback/v3\""));
	cr_assert(strstr(page, "Cannot roll back: that release failed"));
	cr_assert(strstr(page, "Logged in as alice"));
	cr_assert(strstr(page, "<a href=\"/apps/alices/settings\">Settings</a>"));
	free(page);
	free(cookie);
}

Test(activity, without_repo_url_the_hash_is_plain_text)
{
	add_release("Deploy 1111111", T0, "1111111111111111111111111111111111111111",
		    RELEASE_SUCCEEDED, NULL);
	char *cookie = log_in("alice");
	int status;
	char *page = get(cookie, "/apps/alices/activity", &status);
	cr_assert_eq(status, 200);
	cr_assert(strstr(page, "<td><code>1111111</code></td>"), "%s", page);
	cr_assert_null(strstr(page, "href=\"https://"));
	free(page);
	free(cookie);
}

Test(activity, a_build_page_escapes_its_output_and_keeps_only_whitelisted_colours)
{
	int id = add_build(T0, BUILD_FAILED,
			   "\033[1;31mred <b>x</b>\033[0m plain \033[5;38;5;200mblink\033[0m"
			   "\033[2Jcleared <img src=x onerror=alert(1)>\n");
	char *cookie = log_in("alice");
	char path[64];
	snprintf(path, sizeof(path), "/apps/alices/builds/%d", id);
	int status;
	char *page = get(cookie, path, &status);
	cr_assert_eq(status, 200, "%s", page);
	cr_assert(strstr(page, "<span class=\"ansi-1\"><span class=\"ansi-31\">red &lt;b&gt;x"
			       "&lt;/b&gt;</span></span> plain blink"), "%s", page);
	cr_assert(strstr(page, "cleared &lt;img src=x onerror=alert(1)&gt;"));
	cr_assert_null(strstr(page, "\033"), "no escape sequence reaches the page");
	cr_assert_null(strstr(page, "ansi-5"));
	cr_assert_null(strstr(page, "<img"));
	free(page);
	page = get(cookie, "/apps/alices/builds/99", &status);
	cr_assert_eq(status, 404);
	free(page);
	free(cookie);
}

/* v1 and v2 of alices, v2 current: a commit and a config var apart, v2 with a release command. */
static void two_releases(void)
{
	char *c1 = commit(NULL, "first");
	char *c2 = commit(c1, "Add <img src=x onerror=alert(1)>");
	const char *v1vars[] = { "SECRET", "hunter2", NULL };
	const char *v2vars[] = { "SECRET", "s3cr3t-new", "ADDED", "also-secret", NULL };
	cr_assert_eq(add_release("Deploy 1", T0, c1, RELEASE_SUCCEEDED, v1vars), 1);
	cr_assert_eq(add_release("Deploy 2", T0 + 10, c2, RELEASE_SUCCEEDED, v2vars), 2);
	cr_assert_eq(rh_current(root, "alices"), 2);
	free(c1);
	free(c2);
}

Test(activity, the_preview_shows_what_changes_masked_and_pins_the_current_release)
{
	two_releases();
	char *cookie = log_in("alice");
	int status;
	char *page = get(cookie, "/apps/alices/rollback/v1", &status);
	cr_assert_eq(status, 200, "%s", page);
	cr_assert(strstr(page, "1 commit undone"), "%s", page);
	cr_assert(strstr(page, "Add &lt;img src=x onerror=alert(1)&gt;"));
	cr_assert_null(strstr(page, "<img"));
	cr_assert(strstr(page, "ADDED"));
	cr_assert(strstr(page, "SECRET"));
	cr_assert_null(strstr(page, "hunter2"), "values are masked");
	cr_assert_null(strstr(page, "s3cr3t-new"));
	cr_assert_null(strstr(page, "also-secret"));
	cr_assert(strstr(page, "doesn&#39;t add or remove addons"));
	cr_assert(strstr(page, "<form method=\"post\" action=\"/apps/alices/rollback\">"));
	cr_assert(strstr(page, "<input type=\"hidden\" name=\"target\" value=\"1\">"));
	cr_assert(strstr(page, "<input type=\"hidden\" name=\"current\" value=\"2\">"));
	cr_assert(strstr(page, "<button type=\"submit\">Roll back to v1</button>"));
	cr_assert_eq(latest(), 2, "a preview changes nothing");
	free(page);
	free(cookie);
}

Test(activity, the_preview_warns_that_the_current_release_commands_work_is_not_undone)
{
	add_release("Deploy 1", T0, NULL, RELEASE_SUCCEEDED, NULL);
	release_command = "./migrate <up>";
	add_release("Deploy 2", T0 + 1, NULL, RELEASE_SUCCEEDED, NULL);
	release_command = NULL;
	char *cookie = log_in("alice");
	int status;
	char *page = get(cookie, "/apps/alices/rollback/v1", &status);
	cr_assert_eq(status, 200, "%s", page);
	cr_assert(strstr(page, "v1 has no release command, unlike v2: what v2&#39;s "
			       "(&quot;./migrate &lt;up&gt;&quot;) did to your database is not undone."),
		  "%s", page);
	cr_assert(strstr(page, "Process types: release removed\n"), "%s", page);
	free(page);
	free(cookie);
}

Test(activity, an_ineligible_release_has_no_confirm_form)
{
	add_release("Deploy 1", T0, NULL, RELEASE_FAILED, NULL);
	add_release("Deploy 2", T0 + 1, NULL, RELEASE_SUCCEEDED, NULL);
	char *cookie = log_in("alice");
	int status;
	char *page = get(cookie, "/apps/alices/rollback/v1", &status);
	cr_assert_eq(status, 200);
	cr_assert(strstr(page, "Cannot roll back to v1: that release failed."), "%s", page);
	cr_assert_null(strstr(page, "method=\"post\" action=\"/apps/alices/rollback\""));
	free(page);
	free(cookie);
}

static int event_logged(const char *text)
{
	struct logs_filter f = { 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	logs_show(root, "alices", &f, 100, 0, m, NULL, NULL);
	fclose(m);
	int found = out && strstr(out, text) != NULL;
	free(out);
	return found;
}

Test(activity, a_confirmed_rollback_is_the_users_release_and_a_logged_event)
{
	two_releases();
	char *cookie = log_in("alice");
	char *tok = token_of(cookie);
	char *body = xasprintf("csrf=%s&target=1&current=2", tok);
	int status;
	char *page = post(cookie, "/apps/alices/rollback", body, &status);
	/* answered first (the switch waits for the router's requests, this one too), then made */
	cr_assert_eq(status, 303, "%s", page);
	cr_assert(location && !strncmp(location, "/apps/alices/rollback/v1/result?from=2&at=", 42),
		  "%s", location);
	free(page);
	page = get(cookie, location, &status);
	cr_assert_eq(status, 200, "%s", page);
	cr_assert(strstr(page, "Rolling back alices to v1... done, v3"), "%s", page);
	cr_assert(strstr(page, "The current release is now <a href=\"/apps/alices/releases/v3\">v3"
			       "</a> (Rollback to v1 by alice)"));
	cr_assert_null(strstr(page, "http-equiv=\"refresh\""), "done: it looks no more");
	cr_assert_eq(rh_current(root, "alices"), 3);
	struct release r = RELEASE_INIT;
	rh_read(root, "alices", 3, &r);
	cr_assert_str_eq(r.description, "Rollback to v1");
	cr_assert_str_eq(r.user, "alice");
	cr_assert_str_eq(config_get(&r.config, "SECRET"), "hunter2");
	release_release(&r);
	cr_assert(event_logged("slipway[api]: Rollback to v1 by alice (dashboard)"));
	free(page);
	free(body);
	free(tok);
	free(cookie);
}

Test(activity, a_stale_preview_never_rolls_back_and_changes_nothing)
{
	two_releases();
	char *cookie = log_in("alice");
	char *tok = token_of(cookie);
	/* the tab was rendered while v1 was current; v2 is now */
	char *body = xasprintf("csrf=%s&target=1&current=1", tok);
	int status;
	char *page = post(cookie, "/apps/alices/rollback", body, &status);
	cr_assert_eq(status, 409, "%s", page);
	cr_assert(strstr(page, "Nothing was changed: this page is out of date. v1 is no longer the "
			       "current release of alices (v2 is)"), "%s", page);
	cr_assert_eq(latest(), 2);
	cr_assert_eq(rh_current(root, "alices"), 2);
	cr_assert_not(event_logged("Rollback to v1"));
	free(page);
	free(body);
	/* control: the same form pinned to what is current goes through */
	body = xasprintf("csrf=%s&target=1&current=2", tok);
	page = post(cookie, "/apps/alices/rollback", body, &status);
	cr_assert_eq(status, 303, "%s", page);
	cr_assert_eq(latest(), 3);
	free(page);
	free(body);
	free(tok);
	free(cookie);
}

Test(activity, a_rollback_without_the_token_is_refused_and_changes_nothing)
{
	two_releases();
	char *cookie = log_in("alice");
	int status;
	char *page = post(cookie, "/apps/alices/rollback", "target=1&current=2", &status);
	cr_assert_eq(status, 403, "%s", page);
	cr_assert_eq(latest(), 2);
	free(page);
	free(cookie);
}

Test(activity, a_rollback_posted_by_an_apps_page_is_refused_and_changes_nothing)
{
	two_releases();
	char *cookie = log_in("alice");
	char *tok = token_of(cookie);
	char *body = xasprintf("csrf=%s&target=1&current=2", tok);
	struct response res;
	/* the right form, token and all, from an app's page on the same site */
	answer(&(struct dh_call){ .method = "POST", .path = "/apps/alices/rollback", .body = body,
			       .cookie = cookie, .origin = "http://evil.apps.test:8080",
			       .site = "same-site" }, &res);
	cr_assert_eq(res.status, 403, "%s", res.body.data);
	response_release(&res);
	cr_assert_eq(latest(), 2, "nothing changed");
	/* control: the same form from the dashboard's own page */
	answer(&(struct dh_call){ .method = "POST", .path = "/apps/alices/rollback", .body = body,
			       .cookie = cookie }, &res);
	cr_assert_eq(res.status, 303, "%s", res.body.data);
	response_release(&res);
	cr_assert_eq(latest(), 3);
	free(body);
	free(tok);
	free(cookie);
}

Test(activity, the_operator_may_roll_back_any_app_as_themselves)
{
	two_releases();
	char *cookie = log_in_as("root@server", 1);
	char *tok = token_of(cookie);
	char *body = xasprintf("csrf=%s&target=1&current=2", tok);
	int status;
	char *page = post(cookie, "/apps/alices/rollback", body, &status);
	cr_assert_eq(status, 303, "%s", page);
	struct release r = RELEASE_INIT;
	rh_read(root, "alices", 3, &r);
	cr_assert_str_eq(r.user, "root@server");
	release_release(&r);
	free(page);
	free(body);
	free(tok);
	free(cookie);
}

Test(activity, a_user_without_access_gets_404_everywhere_and_changes_nothing)
{
	two_releases();
	char *bob = log_in("bob");
	char *tok = token_of(bob);
	const char *paths[] = { "/apps/alices/activity", "/apps/alices/releases/v1",
				"/apps/alices/rollback/v1", "/apps/alices/builds/1",
				"/apps/alices/settings", NULL };
	int status;
	char *missing = get(bob, "/apps/nosuchapp/activity", &status);
	cr_assert_eq(status, 404);
	for (size_t i = 0; paths[i]; i++) {
		char *page = get(bob, paths[i], &status);
		cr_assert_eq(status, 404, "%s: %s", paths[i], page);
		cr_assert_str_eq(page, missing, "the same answer as for an app that does not exist");
		cr_assert_null(strstr(page, "alices"));
		free(page);
	}
	char *body = xasprintf("csrf=%s&target=1&current=2", tok);
	char *page = post(bob, "/apps/alices/rollback", body, &status);
	cr_assert_eq(status, 404, "%s", page);
	cr_assert_eq(latest(), 2, "nothing changed");
	free(page);
	free(body);
	body = xasprintf("csrf=%s&repo_url=https%%3A%%2F%%2Fevil%%2F%%25s", tok);
	page = post(bob, "/apps/alices/settings", body, &status);
	cr_assert_eq(status, 404);
	free(page);
	free(body);
	/* control: alice, who may use the app, sees it */
	char *alice = log_in("alice");
	page = get(alice, "/apps/alices/activity", &status);
	cr_assert_eq(status, 200);
	free(page);
	free(alice);
	free(missing);
	free(tok);
	free(bob);
}

/* alices' own slipway.repoUrl, NULL when unset. */
static char *repo_url_now(void)
{
	struct settings *s = NULL;
	char *v = NULL;
	cr_assert_eq(settings_open(&s, root, "alices"), 0);
	cr_assert_eq(settings_string(s, &SETTING_REPO_URL, &v), 0);
	settings_free(s);
	return v;
}

Test(activity, the_settings_page_refuses_a_bad_repo_url_and_keeps_the_old_one)
{
	char *cookie = log_in("alice");
	char *tok = token_of(cookie);
	const char *bad[] = {
		"javascript%3Aalert(1)%2F%2F%25s",                 /* javascript://%s */
		"https%3A%2F%2Fgithub.com%2Fo%2Fr%2Fcommit%2F",    /* no %s */
		"https%3A%2F%2Fx%2F%25s%2F%25s",                   /* two */
		"https%3A%2F%2Fx%2F%25d%25s",                      /* another % */
		"https%3A%2F%2Fx%2F%22onmouseover%3D%22%25s",      /* a quote */
		NULL,
	};
	int status;
	char *body = xasprintf("csrf=%s&repo_url=https%%3A%%2F%%2Fgithub.com%%2Fo%%2Fr%%2Fcommit"
			       "%%2F%%25s", tok);
	char *page = post(cookie, "/apps/alices/settings", body, &status);
	cr_assert_eq(status, 200, "%s", page);
	cr_assert(strstr(page, "Saved."));
	free(page);
	free(body);
	for (size_t i = 0; bad[i]; i++) {
		body = xasprintf("csrf=%s&repo_url=%s", tok, bad[i]);
		page = post(cookie, "/apps/alices/settings", body, &status);
		cr_assert_eq(status, 400, "%s: %s", bad[i], page);
		cr_assert(strstr(page, "invalid repository URL"), "%s", page);
		char *now = repo_url_now();
		cr_assert_str_eq(now, "https://github.com/o/r/commit/%s", "unchanged after %s", bad[i]);
		free(now);
		free(page);
		free(body);
	}
	cr_assert(event_logged("Set slipway.repoUrl by alice (dashboard)"));
	/* empty removes it */
	body = xasprintf("csrf=%s&repo_url=", tok);
	page = post(cookie, "/apps/alices/settings", body, &status);
	cr_assert_eq(status, 200, "%s", page);
	cr_assert_null(repo_url_now());
	free(page);
	free(body);
	free(tok);
	free(cookie);
}

Test(activity, the_release_page_shows_releases_info_masked_and_the_diff_from_current)
{
	two_releases();
	char *cookie = log_in("alice");
	int status;
	char *page = get(cookie, "/apps/alices/releases/v1", &status);
	cr_assert_eq(status, 200, "%s", page);
	cr_assert(strstr(page, "=== Release v1"), "%s", page);
	cr_assert(strstr(page, "Eligible for Rollback?: Yes"));
	cr_assert(strstr(page, "From the current release (v2) to v1"));
	cr_assert(strstr(page, "1 commit undone"));
	cr_assert_null(strstr(page, "hunter2"));
	cr_assert(strstr(page, "action=\"/apps/alices/rollback/v1\""));
	free(page);
	page = get(cookie, "/apps/alices/releases/v9", &status);
	cr_assert_eq(status, 404);
	free(page);
	free(cookie);
}

Test(activity, the_result_page_says_what_a_rollback_did_or_that_it_is_under_way)
{
	two_releases();
	char *cookie = log_in("alice");
	int status;
	long long now = (long long)time(NULL);
	/* answered for, not made yet: under way, and the page looks again */
	char *path = xasprintf("/apps/alices/rollback/v1/result?from=2&at=%lld", now);
	char *page = get(cookie, path, &status);
	cr_assert_eq(status, 200, "%s", page);
	cr_assert(strstr(page, "Rolling back alices to v1... starting"), "%s", page);
	cr_assert(strstr(page, "<meta http-equiv=\"refresh\" content=\"1\">"), "%s", page);
	free(page);
	free(path);
	/* still not made a while later: it did not start, and the page says where to look */
	path = xasprintf("/apps/alices/rollback/v1/result?from=2&at=%lld", now - 600);
	page = get(cookie, path, &status);
	cr_assert(strstr(page, "The rollback did not start"), "%s", page);
	cr_assert_null(strstr(page, "http-equiv"));
	free(page);
	free(path);
	/* the release it was pinned to is no longer current: nothing was rolled back */
	path = xasprintf("/apps/alices/rollback/v1/result?from=1&at=%lld", now);
	page = get(cookie, path, &status);
	cr_assert(strstr(page, "Nothing was rolled back: the current release changed"), "%s", page);
	free(page);
	free(path);
	/* an address without its rollback */
	page = get(cookie, "/apps/alices/rollback/v1/result", &status);
	cr_assert_eq(status, 400, "%s", page);
	free(page);
	free(cookie);
}
