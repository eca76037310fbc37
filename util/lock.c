#include "util/lock.h"

#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static int open_lockfile(const char *path)
{
	size_t len = strlen(path);
	if (len && path[len - 1] == '/') { /* a directory: locked as it is, nothing made */
		int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			sw_error_errno(SW_ERROR, "cannot open lock '%s'", path);
		return fd;
	}
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		if (fs_mkdir_p(dir, 0755) < 0) {
			free(dir);
			return -1;
		}
	}
	free(dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		sw_error_errno(SW_ERROR, "cannot open lock '%s'", path);
	return fd;
}

int lock_acquire(struct lock *lk, const char *path, int wait_sec,
		 void (*on_wait)(void *ctx), void *ctx)
{
	int fd = open_lockfile(path);
	if (fd < 0)
		return SW_ERROR;

	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	long delay_ms = 10;
	int waited = 0;
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int err = sw_error_errno(SW_ERROR, "cannot lock '%s'", path);
			close(fd);
			return err;
		}
		if (!waited && on_wait)
			on_wait(ctx);
		waited = 1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= wait_sec) {
			close(fd);
			return sw_error_set(SW_ELOCKED,
				"another operation on this app is still running after %d seconds; try again later",
				wait_sec);
		}
		struct timespec ts = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		if (delay_ms < 250)
			delay_ms *= 2;
	}
	lk->fd = fd;
	return 0;
}

void lock_release(struct lock *lk)
{
	if (lk->fd >= 0) {
		flock(lk->fd, LOCK_UN);
		close(lk->fd);
	}
	lk->fd = -1;
}
