#define _GNU_SOURCE
#include "dashboard/server.h"

#include "dashboard/assets.h"
#include "dashboard/pages.h"
#include "dashboard/scgi.h"
#include "runtime/supervisor.h"
#include "store/domains.h"
#include "store/paths.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/* A listening socket at path, mode 0600 from the start (umask). */
static int listen_at(const char *path, int *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return sw_error_set(SW_EINVALID, "the dashboard's socket path '%s' is too long for a "
				    "unix socket (%zu bytes at most): use a shorter root", path,
				    sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sw_error_errno(SW_ERROR, "cannot make a socket");
	unlink(path); /* a killed server's */
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
		int err = sw_error_errno(SW_ERROR, "cannot listen on '%s'", path);
		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

/* Reads one request from fd into b and r: 0, or the status to answer with (400, 413). */
static int read_request(int fd, struct buf *b, struct scgi_request *r)
{
	char chunk[8192];
	for (;;) {
		int err = scgi_parse(r, b->data, b->len);
		if (err == 0)
			return 0;
		if (err < 0)
			return r->too_large ? 413 : 400;
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1; /* gone, or too slow: no one to answer */
		buf_add(b, chunk, (size_t)n);
	}
}

/* The child's work: one request on fd, one answer. */
static void serve_one(const struct dashboard *d, int fd)
{
	struct timeval tv = { .tv_sec = SERVER_IO_TIMEOUT };
	struct buf in = BUF_INIT, out = BUF_INIT;
	struct scgi_request r = SCGI_REQUEST_INIT;
	struct response res = RESPONSE_INIT;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	alarm(SERVER_REQUEST_TIMEOUT);
	int status = read_request(fd, &in, &r);
	if (status < 0)
		goto done;
	if (status)
		response_message(&res, status, status == 413 ? "Too large" : "Bad request",
				 sw_error_last());
	else
		dashboard_answer(d, &r, time(NULL), &res);
	response_format(&res, &out);
	if (fs_write_all(fd, out.data, out.len) == 0 && res.stream) {
		alarm(0); /* a stream bounds itself (response.h) */
		res.stream(res.arg, fd);
	}
	if (res.after) {
		/* nginx has the whole answer: the request is over for it */
		shutdown(fd, SHUT_RDWR);
		alarm(0); /* bounded as the same work from the CLI is */
		res.after(res.arg);
	}
done:
	response_release(&res);
	scgi_request_release(&r);
	buf_release(&in);
	buf_release(&out);
}

/* Reaps ended children; waits for one when block is set. */
static void reap(int *children, int block)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, block ? 0 : WNOHANG)) > 0 ||
	       (pid < 0 && errno == EINTR && block && !stopping)) {
		if (pid > 0)
			(*children)--;
		block = 0;
	}
}

static void accept_one(const struct dashboard *d, int lfd, int *children)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		close(lfd);
		serve_one(d, fd);
		close(fd);
		_exit(0);
	}
	if (pid > 0)
		(*children)++;
	close(fd);
}

int dashboard_serve(const char *root)
{
	struct dashboard d = { .root = root };
	char *host = NULL, *dir = paths_dashboard_dir(root), *sock = paths_dashboard_socket(root);
	int lfd = -1, children = 0;
	int err = domains_dashboard_host(&host);
	if (!err)
		err = fs_mkdir_p(dir, 0700);
	if (!err && chmod(dir, 0700) < 0)
		err = sw_error_errno(SW_ERROR, "cannot make '%s' private", dir);
	/* the files nginx serves under /static/: the ones this binary's pages link */
	if (!err)
		err = assets_write(root);
	/*
	 * before the socket: whoever sees it may stop the server at once, and
	 * a SIGTERM from then on removes it
	 */
	struct sigaction sa = { .sa_handler = on_stop };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!err)
		err = listen_at(sock, &lfd);
	if (err)
		goto done;
	d.host = host;
	while (!stopping) {
		reap(&children, children >= SERVER_MAX_CHILDREN);
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		if (poll(&p, 1, 1000) > 0 && (p.revents & POLLIN))
			accept_one(&d, lfd, &children);
	}
	unlink(sock);
done:
	if (lfd >= 0)
		close(lfd);
	free(host);
	free(dir);
	free(sock);
	return err;
}

/*
 * The service's command line, kept in its file "command" too: a start
 * that would write the same leaves the service alone (a restart would cut
 * requests short), and one that would not restarts it in place.  While no
 * supervisor runs (server:run before it starts the tree), the files are
 * replaced and s6 starts what they say.
 */
int dashboard_service_write(const char *root, const char *exe)
{
	struct buf run = BUF_INIT;
	struct strvec env = STRVEC_INIT;
	char *kept = NULL;
	int err = 0;
	settings_env(&env);
	/* a killed supervisor takes the dashboard along */
	buf_adds(&run, "exec /usr/bin/setpriv --pdeathsig TERM ");
	buf_add_shell_quoted(&run, exe);
	buf_adds(&run, " --root ");
	buf_add_shell_quoted(&run, root);
	buf_adds(&run, " dashboard:run 2>&1\n");
	struct buf command = BUF_INIT;
	for (size_t i = 0; i < env.n; i++)
		buf_addf(&command, "%s\n", env.v[i]);
	buf_add(&command, run.data, run.len);
	/* s6's last resort: a dashboard that has not ended 10 s after its SIGTERM is killed */
	const struct service_file f[] = {
		{ "command", command.data, command.len, 0644 },
		{ "timeout-kill", "10000\n", 6, 0644 },
	};
	struct service_desc d = { .name = DASHBOARD_SERVICE, .about = "the dashboard",
				  .env = (const char *const *)env.v, .run = run.data,
				  .files = f, .nfiles = 2, .replace = 1 };
	if (!supervisor_service_exists(root, DASHBOARD_SERVICE))
		err = supervisor_service_write(root, &d);
	else if (supervisor_service_read(root, DASHBOARD_SERVICE, "command", 1 << 20, &kept) == 0 &&
		 !strcmp(kept, command.data))
		err = 0;
	else if (supervisor_running(root))
		err = supervisor_service_update(root, &d);
	else
		err = supervisor_service_write(root, &d);
	free(kept);
	buf_release(&command);
	buf_release(&run);
	strvec_clear(&env);
	return err;
}
