/*
 * dashboard/buildstream: a running build's output live in its page - the
 * lines as they are appended (escaped, colours from the whitelist), then
 * the build's status in an "end" event; a build that has ended streams
 * what is left and ends at once; only for a user who may use the app.
 */
#define _GNU_SOURCE
#include "tests/dashboard_helpers.h"
#include "tests/helpers.h"
#include "tests/release_helpers.h"

#include "access/access.h"
#include "dashboard/assets.h"
#include "dashboard/request.h"
#include "store/builds.h"
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

TestSuite(buildstream, .init = setup, .fini = teardown, .timeout = 60);

/* A GET as nginx passes it: with cookie, query and Last-Event-ID (each may be NULL). */
static void get(const char *cookie, const char *path, const char *query, const char *last_id,
		struct response *res)
{
	dh_answer(&dash, &(struct dh_call){ .method = "GET", .path = path, .query = query,
					    .cookie = cookie, .last_event_id = last_id }, res);
}

static char *log_in(const char *name)
{
	return dh_log_in(&dash, name, 0);
}

/* A build of alices, pending, its log open to write to: its id. */
static int begin_build(FILE **log)
{
	struct build_record r = BUILD_RECORD_INIT;
	r.user = xstrdup("alice");
	r.source = xstrdup("main");
	snprintf(r.commit, sizeof(r.commit), "%s", "abcdef0123456789abcdef0123456789abcdef01");
	cr_assert_eq(builds_begin(root, "alices", &r, 100, log), 0, "%s", sw_error_last());
	int id = r.id;
	build_record_release(&r);
	return id;
}

static void end_build(int id, enum build_status status)
{
	struct build_record r = BUILD_RECORD_INIT;
	cr_assert_eq(builds_read(root, "alices", id, &r), 0, "%s", sw_error_last());
	r.status = status;
	cr_assert_eq(builds_update(root, "alices", &r), 0, "%s", sw_error_last());
	build_record_release(&r);
}

/* Runs res's stream in a child writing to *fd's other end: its pid. */
static pid_t run_stream(struct response *res, int *fd)
{
	cr_assert_eq(res->status, 200, "%s", res->body.data);
	cr_assert_str_eq(res->type, "text/event-stream; charset=utf-8");
	cr_assert(strstr(res->headers.data, "X-Accel-Buffering: no\r\n"), "%s", res->headers.data);
	cr_assert(res->stream);
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		close(sv[0]);
		signal(SIGPIPE, SIG_IGN);
		res->stream(res->arg, sv[1]);
		_exit(0);
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
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

/* 1 if the child ends within 30 s. */
static int ends(pid_t pid)
{
	int status = -1;
	for (int i = 0; i < 300 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(100 * 1000);
	return status != -1 && WIFEXITED(status);
}

Test(buildstream, a_running_builds_lines_arrive_as_they_are_written_then_its_status)
{
	FILE *log;
	int id = begin_build(&log);
	fputs("-----> first\n", log);
	fputs("sec", log); /* half a line: the page stops before it */
	fflush(log);
	char *cookie = log_in("alice");
	char path[64];
	snprintf(path, sizeof(path), "/apps/alices/builds/%d", id);
	struct response res;
	get(cookie, path, NULL, NULL, &res);
	cr_assert_eq(res.status, 200, "%s", res.body.data);
	const char *page = res.body.data;
	cr_assert(strstr(page, "-----&gt; first\n</pre>"), "%s", page);
	char *want = xasprintf("data-stream=\"/apps/alices/builds/%d/stream?from=13\">The build is "
			       "still running: reload the page for newer output.</p>", id);
	cr_assert(strstr(page, want), "%s", page);
	char *tag = xasprintf("<script src=\"%s\"></script>", assets_url("build.js"));
	cr_assert(!strncmp(assets_url("build.js"), "/static/build.", 14));
	cr_assert(strstr(page, tag), "%s", page);
	free(tag);
	free(want);
	response_release(&res);

	snprintf(path, sizeof(path), "/apps/alices/builds/%d/stream", id);
	get(cookie, path, "from=13", NULL, &res);
	int fd;
	pid_t pid = run_stream(&res, &fd);
	fputs("ond \033[31mred <b>\033[0m\n", log);
	fflush(log);
	struct buf got = BUF_INIT;
	cr_assert(read_until(fd, &got, "\n\n"), "%s", got.data ? got.data : "");
	cr_assert_str_eq(got.data, "id: 37\ndata: second <span class=\"ansi-31\">red &lt;b&gt;"
				   "</span>\n\n");
	cr_assert_null(strstr(got.data, "first"), "only from where the page stopped");
	fputs("-----> done\n", log);
	fclose(log);
	end_build(id, BUILD_SUCCEEDED);
	cr_assert(read_until(fd, &got, "event: end\ndata: succeeded\n\n"), "%s", got.data);
	cr_assert(strstr(got.data, "id: 49\ndata: -----&gt; done\n\n"), "%s", got.data);
	cr_assert(ends(pid), "the stream did not end with its build");
	buf_release(&got);
	close(fd);
	response_release(&res);
	free(cookie);
}

Test(buildstream, a_finished_builds_stream_sends_the_rest_and_ends_at_once)
{
	FILE *log;
	int id = begin_build(&log);
	fputs("one\r\ntwo\nno newline at the end", log);
	fclose(log);
	end_build(id, BUILD_FAILED);
	char *cookie = log_in("alice");
	char path[64];
	snprintf(path, sizeof(path), "/apps/alices/builds/%d", id);
	struct response res;
	get(cookie, path, NULL, NULL, &res);
	cr_assert(strstr(res.body.data, "no newline at the end</pre>"), "%s", res.body.data);
	cr_assert_null(strstr(res.body.data, "data-stream"), "an ended build's page is all there is");
	response_release(&res);

	snprintf(path, sizeof(path), "/apps/alices/builds/%d/stream", id);
	get(cookie, path, NULL, NULL, &res);
	int fd;
	pid_t pid = run_stream(&res, &fd);
	cr_assert(ends(pid), "the stream of an ended build did not end at once");
	struct buf got = BUF_INIT;
	read_until(fd, &got, "event: end\n");
	/* a CR never reaches the stream, where it would end the event early */
	cr_assert_str_eq(got.data, "id: 5\ndata: one\n\nid: 9\ndata: two\n\n"
				   "id: 30\ndata: no newline at the end\n\nevent: end\ndata: failed\n\n");
	buf_release(&got);
	close(fd);
	response_release(&res);

	/* a browser reconnecting sends the last id it had: the stream goes on from there */
	get(cookie, path, "from=0", "9", &res);
	pid = run_stream(&res, &fd);
	cr_assert(ends(pid));
	got = (struct buf)BUF_INIT;
	read_until(fd, &got, "event: end\n");
	cr_assert_str_eq(got.data, "id: 30\ndata: no newline at the end\n\nevent: end\ndata: failed\n\n");
	buf_release(&got);
	close(fd);
	response_release(&res);
	free(cookie);
}

Test(buildstream, only_a_user_who_may_use_the_app_gets_its_builds_stream)
{
	FILE *log;
	int id = begin_build(&log);
	fputs("secret output\n", log);
	fclose(log);
	char *bob = log_in("bob");
	char path[64];
	snprintf(path, sizeof(path), "/apps/alices/builds/%d/stream", id);
	struct response res;
	get(bob, path, NULL, NULL, &res);
	cr_assert_eq(res.status, 404, "%d", res.status);
	cr_assert_null(res.stream);
	response_release(&res);
	get(NULL, path, NULL, NULL, &res);
	cr_assert_eq(res.status, 303);
	cr_assert_null(res.stream);
	response_release(&res);
	free(bob);
	char *alice = log_in("alice");
	get(alice, "/apps/alices/builds/99/stream", NULL, NULL, &res);
	cr_assert_eq(res.status, 404);
	cr_assert_null(res.stream);
	response_release(&res);
	get(alice, path, "from=x", NULL, &res);
	cr_assert_eq(res.status, 400);
	cr_assert_null(res.stream);
	response_release(&res);
	free(alice);
}

Test(buildstream, the_script_adds_the_servers_escaped_lines_and_says_how_the_build_ended)
{
	cr_assert(strstr(assets_body("build.js"), "new EventSource("));
	cr_assert(strstr(assets_body("build.js"), "addEventListener('end'"));
}
