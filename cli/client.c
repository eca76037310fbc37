#define _GNU_SOURCE
#include "cli/client.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

struct guard {
	int fd;
	int timeout_ms;
};

static int gone;
/* what client_guard() replaced, to put back: stdout, stderr */
static FILE *orig[2], *guarded[2];

int client_gone(void)
{
	return gone;
}

/* Writes at most PIPE_BUF at a time, each when poll() says there is room for it. */
static ssize_t guarded_write(void *cookie, const char *buf, size_t n)
{
	struct guard *g = cookie;
	size_t done = 0;

	if (gone)
		return (ssize_t)n; /* the client is gone: the output goes nowhere */
	while (done < n) {
		struct pollfd p = { .fd = g->fd, .events = POLLOUT };
		int r = poll(&p, 1, g->timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			gone = 1;
			return (ssize_t)n;
		}
		size_t chunk = n - done > PIPE_BUF ? PIPE_BUF : n - done;
		ssize_t w = r < 0 ? -1 : write(g->fd, buf + done, chunk);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			gone = 1;
			return done ? (ssize_t)done : -1; /* EPIPE and the like: stdio records it */
		}
		done += (size_t)w;
	}
	return (ssize_t)n;
}

static int guarded_close(void *cookie)
{
	free(cookie);
	return 0;
}

int client_guard(FILE **stream, int fd, int timeout_sec)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return 0;
	struct guard *g = malloc(sizeof(*g));
	if (!g)
		return -1;
	g->fd = fd;
	g->timeout_ms = timeout_sec > INT_MAX / 1000 ? INT_MAX : timeout_sec * 1000;
	cookie_io_functions_t io = { .write = guarded_write, .close = guarded_close };
	FILE *f = fopencookie(g, "w", io);
	if (!f) {
		free(g);
		return -1;
	}
	int which = *stream == stderr;
	if (which)
		setvbuf(f, NULL, _IONBF, 0);
	fflush(*stream);
	orig[which] = *stream;
	guarded[which] = f;
	*stream = f;
	return 0;
}

int client_release(void)
{
	int rc = 0, err = 0;
	for (int i = 0; i < 2; i++) {
		if (!guarded[i])
			continue;
		if (i == 0)
			stdout = orig[0];
		else
			stderr = orig[1];
		if (fflush(guarded[i]) || ferror(guarded[i])) {
			rc = EOF;
			err = errno ? errno : EIO;
		}
		fclose(guarded[i]);
		guarded[i] = NULL;
	}
	if (rc)
		errno = err;
	return rc;
}
