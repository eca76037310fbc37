/*
 * dashboard/server: the server on its socket - private, one answer per
 * connection, malformed and oversized requests answered 400 and 413,
 * gone (socket and all) after SIGTERM.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"
#include "tests/release_helpers.h"

#include "dashboard/scgi.h"
#include "dashboard/server.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char *root, *sock;
static pid_t server = -1;

static void setup(void)
{
	root = rh_root();
	sock = paths_dashboard_socket(root);
	server = fork();
	cr_assert_geq(server, 0);
	if (!server)
		_exit(dashboard_serve(root) < 0 ? 1 : 0);
	for (int i = 0; i < 1000 && !fs_exists(sock); i++)
		usleep(10000);
	cr_assert(fs_exists(sock), "the server did not make its socket");
}

static void teardown(void)
{
	if (server > 0) {
		kill(server, SIGKILL);
		waitpid(server, NULL, 0);
	}
	th_sandbox_free(root);
	free(sock);
}

TestSuite(server, .init = setup, .fini = teardown, .timeout = 60);

/* Sends len bytes of data on a new connection, half-closes it; the whole answer. */
static char *exchange(const void *data, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(fs_write_all(fd, data, len), 0);
	shutdown(fd, SHUT_WR);
	struct buf b = BUF_INIT;
	char chunk[4096];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(&b, chunk, (size_t)n);
	close(fd);
	return buf_detach(&b);
}

static char *get(const char *path)
{
	struct buf h = BUF_INIT, req = BUF_INIT;
	buf_add(&h, "CONTENT_LENGTH\0" "0\0SCGI\0" "1\0REQUEST_METHOD\0GET\0DOCUMENT_URI",
		sizeof("CONTENT_LENGTH\0" "0\0SCGI\0" "1\0REQUEST_METHOD\0GET\0DOCUMENT_URI"));
	buf_add(&h, path, strlen(path) + 1);
	buf_addf(&req, "%zu:", h.len);
	buf_add(&req, h.data, h.len);
	buf_adds(&req, ",");
	char *out = exchange(req.data, req.len);
	buf_release(&h);
	buf_release(&req);
	return out;
}

Test(server, its_socket_is_the_server_users_only)
{
	struct stat st;
	cr_assert_eq(stat(sock, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, 0600, "%o", st.st_mode & 0777);
	char *dir = paths_dashboard_dir(root);
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700, "%o", st.st_mode & 0777);
	free(dir);
}

Test(server, answers_a_page_with_its_headers)
{
	char *out = get("/login");
	cr_assert(!strncmp(out, "Status: 200 OK\r\n", 16), "%s", out);
	cr_assert(strstr(out, "\r\nContent-Security-Policy: default-src 'self'; frame-ancestors 'none'"));
	cr_assert(strstr(out, "<form method=\"post\" action=\"/login\">"));
	free(out);
	out = get("/");
	cr_assert(!strncmp(out, "Status: 303 See Other\r\n", 23), "%s", out);
	cr_assert(strstr(out, "\r\nLocation: /login\r\n"));
	free(out);
}

Test(server, malformed_and_oversized_requests_are_refused)
{
	char *out = exchange("5:abcde,", 8);
	cr_assert(!strncmp(out, "Status: 400 Bad Request\r\n", 25), "%s", out);
	free(out);
	out = exchange("99999999:", 9);
	cr_assert(!strncmp(out, "Status: 413 Content Too Large\r\n", 31), "%s", out);
	free(out);
	out = exchange("12", 2);
	cr_assert_str_eq(out, "", "a request cut short gets no answer");
	free(out);
	/* the server still answers */
	out = get("/login");
	cr_assert(!strncmp(out, "Status: 200 OK\r\n", 16), "%s", out);
	free(out);
}

Test(server, many_connections_at_once_all_get_answers)
{
	pid_t kids[24];
	for (int i = 0; i < 24; i++) {
		kids[i] = fork();
		cr_assert_geq(kids[i], 0);
		if (!kids[i]) {
			char *out = get("/login");
			_exit(strncmp(out, "Status: 200 OK\r\n", 16) ? 1 : 0);
		}
	}
	for (int i = 0; i < 24; i++) {
		int status;
		cr_assert_eq(waitpid(kids[i], &status, 0), kids[i]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "client %d", i);
	}
}

Test(server, sigterm_ends_it_and_removes_the_socket)
{
	int status;
	cr_assert_eq(kill(server, SIGTERM), 0);
	cr_assert_eq(waitpid(server, &status, 0), server);
	server = -1;
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_not(fs_exists(sock));
}
