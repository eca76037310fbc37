/*
 * dashboard/procs, logs, config, domains: an app's pages as a browser
 * meets them - only for a user who may use the app (404 for anyone else,
 * nothing changed), every change a checked POST that logs who did it, the
 * values of config vars masked until revealed, the live tail bounded.
 */
#define _GNU_SOURCE
#include "tests/dashboard_helpers.h"
#include "tests/helpers.h"
#include "tests/release_helpers.h"

#include "access/access.h"
#include "dashboard/assets.h"
#include "dashboard/config.h"
#include "dashboard/form.h"
#include "dashboard/logs.h"
#include "dashboard/pages.h"
#include "dashboard/request.h"
#include "dashboard/scgi.h"
#include "dashboard/session.h"
#include "release/change.h"
#include "runtime/logs.h"
#include "store/appctx.h"
#include "store/domains.h"
#include "store/maintenance.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


static char *root;
static struct dashboard dash;

static void setup(void)
{
	root = dh_root(&dash);
}

static void teardown(void)
{
	th_sandbox_free(root);
}

TestSuite(apppages, .init = setup, .fini = teardown, .timeout = 60);

/* A logged-in user: the cookie and the session's csrf token. */
struct user {
	char *cookie, *csrf;
};

static struct user log_in(const char *name, int operator)
{
	struct user u = { .cookie = dh_log_in(&dash, name, operator) };
	struct response res;
	dh_answer(&dash, &(struct dh_call){ .method = "GET", .path = "/", .cookie = u.cookie }, &res);
	const char *at = strstr(res.body.data, "name=\"csrf\" value=\"");
	cr_assert(at, "%s", res.body.data);
	u.csrf = xstrndup(at + strlen("name=\"csrf\" value=\""), 64);
	response_release(&res);
	return u;
}

static void user_free(struct user *u)
{
	free(u->cookie);
	free(u->csrf);
}

static void get(const struct user *u, const char *path, struct response *res)
{
	dh_answer(&dash, &(struct dh_call){ .method = "GET", .path = path, .cookie = u->cookie }, res);
}

/* A POST as the dashboard's own form sends it: the token, then "&" extra (may be NULL). */
static void post(const struct user *u, const char *path, const char *extra, struct response *res)
{
	char *body = xasprintf("csrf=%s%s%s", u->csrf, extra ? "&" : "", extra ? extra : "");
	dh_answer(&dash, &(struct dh_call){ .method = "POST", .path = path, .body = body, .cookie = u->cookie,
			       .origin = DH_OWN, .site = "same-origin" }, res);
	/* as the server does once the answer is out */
	if (res->after)
		res->after(res->arg);
	free(body);
}

/* The app's event log, as `logs` shows it. */
static char *events(const char *app)
{
	struct rh_out o;
	rh_out_open(&o);
	struct logs_filter f = { .source = "slipway" };
	cr_assert_eq(logs_show(root, app, &f, 100, 0, o.f, NULL, NULL), 0);
	char *text = xstrdup(rh_out_text(&o));
	rh_out_close(&o);
	return text;
}

/* Sets vars on app ("KEY", "value", ..., NULL) as config:set would, by user alice. */
static void set_config(const char *app, const char *const *kv)
{
	struct app_ctx ctx = APP_CTX_INIT;
	struct config set = CONFIG_INIT;
	struct change_result res;
	struct rh_out o;
	rh_out_open(&o);
	for (size_t i = 0; kv[i]; i += 2)
		config_set(&set, kv[i], kv[i + 1]);
	cr_assert_eq(app_ctx_open(&ctx, root, app, APP_CTX_READ), 0, "%s", sw_error_last());
	cr_assert_eq(change_config(&ctx, &set, NULL, NULL, "alice", o.f, &res), 0, "%s",
		     sw_error_last());
	app_ctx_release(&ctx);
	config_release(&set);
	rh_out_close(&o);
}

Test(apppages, every_page_of_a_foreign_or_missing_app_is_404_and_changes_nothing)
{
	struct user alice = log_in("alice", 0);
	static const char *const pages[] = { "processes", "logs", "logs/stream", "config", "domains" };
	static const char *const posts[] = { "processes/restart", "maintenance", "config/reveal" };
	for (int missing = 0; missing < 2; missing++) {
		const char *app = missing ? "nosuchapp" : "bobs";
		for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
			struct response res;
			char *path = xasprintf("/apps/%s/%s", app, pages[i]);
			get(&alice, path, &res);
			cr_assert_eq(res.status, 404, "%s: %d", path, res.status);
			cr_assert(strstr(res.body.data, "there is no such page"), "%s", res.body.data);
			cr_assert_null(res.stream, "%s", path);
			response_release(&res);
			free(path);
		}
		for (size_t i = 0; i < sizeof(posts) / sizeof(posts[0]); i++) {
			struct response res;
			char *path = xasprintf("/apps/%s/%s", app, posts[i]);
			post(&alice, path, "state=on", &res);
			cr_assert_eq(res.status, 404, "%s: %d", path, res.status);
			response_release(&res);
			free(path);
		}
	}
	cr_assert_eq(maintenance_on(root, "bobs"), 0, "nothing changed");
	char *log = events("bobs");
	cr_assert_str_empty(log, "no event: %s", log);
	free(log);

	/* the control: bob, who may use it, gets the same pages */
	struct user bob = log_in("bob", 0);
	struct response res;
	get(&bob, "/apps/bobs/config", &res);
	cr_assert_eq(res.status, 200, "%s", res.body.data);
	response_release(&res);
	user_free(&bob);
	user_free(&alice);
}

Test(apppages, without_a_session_every_page_sends_to_login)
{
	struct response res;
	dh_answer(&dash, &(struct dh_call){ .method = "GET", .path = "/apps/alices/config" }, &res);
	cr_assert_eq(res.status, 303);
	cr_assert(strstr(res.headers.data, "Location: /login\r\n"));
	response_release(&res);
}

Test(apppages, maintenance_is_a_checked_post_that_logs_who_turned_it_on)
{
	struct user alice = log_in("alice", 0);
	struct response res;
	get(&alice, "/apps/alices/processes", &res);
	cr_assert_eq(res.status, 200, "%s", res.body.data);
	cr_assert(strstr(res.body.data, "Maintenance mode is off"), "%s", res.body.data);
	cr_assert(strstr(res.body.data, "No processes are running"), "%s", res.body.data);
	response_release(&res);

	/* without the token: refused, nothing changed */
	dh_answer(&dash, &(struct dh_call){ .method = "POST", .path = "/apps/alices/maintenance",
			       .body = "state=on", .cookie = alice.cookie, .origin = DH_OWN,
			       .site = "same-origin" }, &res);
	cr_assert_eq(res.status, 403, "%s", res.body.data);
	response_release(&res);
	/* from another origin (an app's page), with the token: refused too */
	char *body = xasprintf("csrf=%s&state=on", alice.csrf);
	dh_answer(&dash, &(struct dh_call){ .method = "POST", .path = "/apps/alices/maintenance", .body = body,
			       .cookie = alice.cookie, .origin = "http://evil.apps.test:8080",
			       .site = "same-site" }, &res);
	cr_assert_eq(res.status, 403, "%s", res.body.data);
	response_release(&res);
	free(body);
	cr_assert_eq(maintenance_on(root, "alices"), 0);
	char *log = events("alices");
	cr_assert_str_empty(log, "%s", log);
	free(log);

	post(&alice, "/apps/alices/maintenance", "state=on", &res);
	cr_assert_eq(res.status, 303, "%s", res.body.data);
	cr_assert(strstr(res.headers.data, "Location: /apps/alices/processes?done=maintenance-on\r\n"),
		  "%s", res.headers.data);
	response_release(&res);
	dh_answer(&dash, &(struct dh_call){ .method = "GET", .path = "/apps/alices/processes",
			       .query = "done=maintenance-on", .cookie = alice.cookie }, &res);
	cr_assert(strstr(res.body.data, "<p class=\"done\">Maintenance mode is on: every request "
					"gets 503.</p>"), "%s", res.body.data);
	cr_assert(strstr(res.body.data, "Maintenance mode is on"), "%s", res.body.data);
	cr_assert(strstr(res.body.data, "Turn maintenance mode off"), "%s", res.body.data);
	response_release(&res);
	cr_assert_eq(maintenance_on(root, "alices"), 1);
	log = events("alices");
	cr_assert(strstr(log, " slipway[api]: Maintenance mode on by alice (dashboard)\n"), "%s", log);
	free(log);

	post(&alice, "/apps/alices/maintenance", "state=off", &res);
	cr_assert_eq(res.status, 303, "%s", res.body.data);
	response_release(&res);
	cr_assert_eq(maintenance_on(root, "alices"), 0);
	post(&alice, "/apps/alices/maintenance", "state=maybe", &res);
	cr_assert_eq(res.status, 400);
	response_release(&res);
	user_free(&alice);
}

Test(apppages, the_notice_after_a_change_is_fixed_words_never_the_query)
{
	struct user alice = log_in("alice", 0);
	struct response res;
	dh_answer(&dash, &(struct dh_call){ .method = "GET", .path = "/apps/alices/processes",
			       .query = "done=<script>x</script>", .cookie = alice.cookie }, &res);
	cr_assert_eq(res.status, 200);
	cr_assert_null(strstr(res.body.data, "class=\"done\""), "%s", res.body.data);
	cr_assert_null(strstr(res.body.data, "script>x"), "%s", res.body.data);
	response_release(&res);
	dh_answer(&dash, &(struct dh_call){ .method = "GET", .path = "/apps/alices/processes",
			       .query = "done=restart", .cookie = alice.cookie }, &res);
	cr_assert(strstr(res.body.data, "<p class=\"done\">Restarting all processes: "), "%s",
		  res.body.data);
	response_release(&res);
	user_free(&alice);
}

Test(apppages, restart_without_a_release_is_refused_and_logs_nothing)
{
	struct user alice = log_in("alice", 0);
	struct response res;
	post(&alice, "/apps/alices/processes/restart", NULL, &res);
	cr_assert_eq(res.status, 409, "%s", res.body.data);
	cr_assert(strstr(res.body.data, "Restart failed: alices has no release to restart yet"), "%s",
		  res.body.data);
	response_release(&res);
	char *log = events("alices");
	cr_assert_str_empty(log, "%s", log);
	free(log);
	user_free(&alice);
}

Test(apppages, config_values_are_masked_until_a_reveal_which_is_logged)
{
	set_config("alices", (const char *const[]){ "SECRET_KEY", "hunter2<b>", "<i>ODD", "x", NULL });
	struct user alice = log_in("alice", 0);
	struct response res;
	get(&alice, "/apps/alices/config", &res);
	cr_assert_eq(res.status, 200, "%s", res.body.data);
	cr_assert(strstr(res.body.data, "<td>SECRET_KEY</td><td>" CONFIG_MASK "</td>"), "%s",
		  res.body.data);
	cr_assert_null(strstr(res.body.data, "hunter2"), "%s", res.body.data);
	cr_assert(strstr(res.body.data, "Reveal config vars"));
	response_release(&res);
	char *log = events("alices");
	cr_assert_null(strstr(log, "revealed"), "%s", log);
	free(log);

	/* a GET does not reveal */
	get(&alice, "/apps/alices/config/reveal", &res);
	cr_assert_eq(res.status, 405);
	cr_assert_null(strstr(res.body.data, "hunter2"));
	response_release(&res);

	post(&alice, "/apps/alices/config/reveal", NULL, &res);
	cr_assert_eq(res.status, 200, "%s", res.body.data);
	cr_assert(strstr(res.body.data, "<td>SECRET_KEY</td><td>hunter2&lt;b&gt;</td>"), "%s",
		  res.body.data);
	cr_assert_null(strstr(res.body.data, "<b>"), "escaped");
	cr_assert(strstr(res.headers.data, "Cache-Control") == NULL); /* every answer has no-store */
	response_release(&res);
	log = events("alices");
	cr_assert(strstr(log, " slipway[api]: Config vars revealed by alice (dashboard)\n"), "%s", log);
	free(log);
	user_free(&alice);
}

Test(apppages, add_on_vars_are_marked_as_managed)
{
	struct app_ctx ctx = APP_CTX_INIT;
	struct config vars = CONFIG_INIT;
	struct change_result cres;
	struct rh_out o;
	rh_out_open(&o);
	config_set(&vars, "DATABASE_URL", "postgres://u:pw@127.0.0.1/db");
	cr_assert_eq(app_ctx_open(&ctx, root, "alices", APP_CTX_READ), 0, "%s", sw_error_last());
	cr_assert_eq(change_attach(&ctx, "DATABASE", "postgresql-amber-12", &vars, "alice", o.f,
				   &cres), 0, "%s", sw_error_last());
	app_ctx_release(&ctx);
	config_release(&vars);
	rh_out_close(&o);
	set_config("alices", (const char *const[]){ "DH_OWN", "mine", NULL });

	struct user alice = log_in("alice", 0);
	struct response res;
	get(&alice, "/apps/alices/config", &res);
	cr_assert_eq(res.status, 200, "%s", res.body.data);
	cr_assert(strstr(res.body.data, "<td>DATABASE_URL</td><td>" CONFIG_MASK "</td><td>managed by "
					"the add-on postgresql-amber-12 (DATABASE)</td>"), "%s",
		  res.body.data);
	cr_assert(strstr(res.body.data, "<td>DH_OWN</td><td>" CONFIG_MASK "</td><td></td>"), "%s",
		  res.body.data);
	cr_assert_null(strstr(res.body.data, "pw@"));
	response_release(&res);
	user_free(&alice);
}

Test(apppages, domains_lists_the_default_and_custom_domains)
{
	cr_assert_eq(domains_add(root, "alices", "www.alice.test", "apps.test"), 0, "%s",
		     sw_error_last());
	struct user alice = log_in("alice", 0);
	struct response res;
	get(&alice, "/apps/alices/domains", &res);
	cr_assert_eq(res.status, 200, "%s", res.body.data);
	cr_assert(strstr(res.body.data, "<li>alices."), "%s", res.body.data);
	cr_assert(strstr(res.body.data, "<ul id=\"custom-domains\">\n<li>www.alice.test</li>"), "%s",
		  res.body.data);
	response_release(&res);
	user_free(&alice);
}

Test(apppages, logs_page_shows_recent_lines_escaped)
{
	logs_event(root, "alices", "api", "hello <script>alert(1)</script>");
	struct user alice = log_in("alice", 0);
	struct response res;
	get(&alice, "/apps/alices/logs", &res);
	cr_assert_eq(res.status, 200, "%s", res.body.data);
	cr_assert(strstr(res.body.data, "slipway[api]: hello &lt;script&gt;alert(1)&lt;/script&gt;"),
		  "%s", res.body.data);
	cr_assert_null(strstr(res.body.data, "<script>alert"));
	cr_assert(strstr(res.body.data, "data-stream=\"/apps/alices/logs/stream\""));
	char *tag = th_path("<script src=\"%s\"></script>", assets_url("logs.js"));
	cr_assert(!strncmp(assets_url("logs.js"), "/static/logs.", 13));
	cr_assert(strstr(res.body.data, tag), "%s", res.body.data);
	free(tag);
	response_release(&res);
	cr_assert(strstr(assets_body("logs.js"), "new EventSource("));
	cr_assert_null(strstr(assets_body("logs.js"), "innerHTML"), "lines are text, never markup");
	user_free(&alice);
}

/* Reads fd until want appears in what was read (into got), within 30 s: 1 if it did. */
static int read_until(int fd, struct buf *got, const char *want)
{
	for (int i = 0; i < 300 && !(got->len && strstr(got->data, want)); i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char chunk[4096];
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n <= 0)
			break;
		buf_add(got, chunk, (size_t)n);
	}
	return got->len && strstr(got->data, want) != NULL;
}

Test(apppages, the_stream_sends_new_lines_as_events_and_ends_when_the_client_goes)
{
	logs_event(root, "alices", "api", "old line");
	struct user alice = log_in("alice", 0);
	struct response res;
	get(&alice, "/apps/alices/logs/stream", &res);
	cr_assert_eq(res.status, 200, "%s", res.body.data);
	cr_assert_str_eq(res.type, "text/event-stream; charset=utf-8");
	cr_assert(strstr(res.headers.data, "X-Accel-Buffering: no\r\n"), "%s", res.headers.data);
	struct buf head = BUF_INIT;
	response_format(&res, &head);
	cr_assert_null(strstr(head.data, "Content-Length"), "%s", head.data);
	buf_release(&head);
	cr_assert(res.stream);

	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		close(sv[0]);
		signal(SIGPIPE, SIG_IGN);
		res.stream(res.arg, sv[1]);
		_exit(0);
	}
	close(sv[1]);
	struct buf got = BUF_INIT;
	cr_assert(read_until(sv[0], &got, ": live\n\n"), "%s", got.data ? got.data : "");
	logs_event(root, "alices", "api", "new <line> & more");
	cr_assert(read_until(sv[0], &got, " slipway[api]: new <line> & more\n\n"), "%s", got.data);
	/* "reset", the page's last lines again, then what came after it opened */
	const char *reset = strstr(got.data, "event: reset\ndata: \n\n");
	const char *old = strstr(got.data, " slipway[api]: old line\n\n");
	const char *live = strstr(got.data, ": live\n\n"), *new = strstr(got.data, "new <line>");
	cr_assert(reset && old && reset < old && old < live && live < new, "%s", got.data);
	cr_assert_null(strstr(old + strlen(" slipway[api]: old line"), "old line"), "a line twice: %s",
		       got.data);
	buf_release(&got);

	/* the client goes: the stream ends (and its slot is free) */
	close(sv[0]);
	int status = -1;
	for (int i = 0; i < 300 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(100 * 1000);
	cr_assert(WIFEXITED(status), "the stream did not end when its client went");
	response_release(&res);
	user_free(&alice);
}

Test(apppages, streams_beyond_the_limit_are_refused_with_503)
{
	struct user alice = log_in("alice", 0);
	struct response open[LOGS_STREAMS_MAX], more;
	for (int i = 0; i < LOGS_STREAMS_MAX; i++) {
		get(&alice, "/apps/alices/logs/stream", &open[i]);
		cr_assert_eq(open[i].status, 200);
	}
	get(&alice, "/apps/alices/logs/stream", &more);
	cr_assert_eq(more.status, 503, "%d", more.status);
	cr_assert(strstr(more.body.data, "live tails are open already"), "%s", more.body.data);
	cr_assert_null(more.stream);
	response_release(&more);
	/* one ends: the next one may open */
	response_release(&open[0]);
	get(&alice, "/apps/alices/logs/stream", &more);
	cr_assert_eq(more.status, 200);
	response_release(&more);
	for (int i = 1; i < LOGS_STREAMS_MAX; i++)
		response_release(&open[i]);
	user_free(&alice);
}

Test(apppages, a_stream_ends_with_an_end_event_when_its_time_is_up)
{
	char app[] = "alices", user[] = "alice";
	struct page_req q = { .d = &dash, .now = time(NULL), .form = FORM_INIT, .app = app,
			      .session = { .user = user } };
	struct response res = RESPONSE_INIT;
	logs_stream_for(&q, &res, 1);
	cr_assert_eq(res.status, 200);
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		close(sv[0]);
		res.stream(res.arg, sv[1]);
		_exit(0);
	}
	close(sv[1]);
	struct buf got = BUF_INIT;
	cr_assert(read_until(sv[0], &got, "event: end\ndata: The live tail ends after 1 minute: "
				       "reload the page to follow again.\n\n"), "%s",
		  got.data ? got.data : "");
	int status = -1;
	for (int i = 0; i < 300 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(100 * 1000);
	cr_assert(WIFEXITED(status), "the stream did not end");
	buf_release(&got);
	close(sv[0]);
	response_release(&res);
}
