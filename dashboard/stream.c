#define _GNU_SOURCE
#include "dashboard/stream.h"

#include "dashboard/response.h"
#include "store/paths.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* A free slot's locked file, or -1 when every slot is taken. */
static int take_slot(const char *root)
{
	char *dir = paths_dashboard_kind(root, "streams");
	int fd = -1;
	if (fs_mkdir_p(dir, 0700) == 0) {
		for (int i = 0; i < STREAM_SLOTS_MAX && fd < 0; i++) {
			char name[16];
			snprintf(name, sizeof(name), "%d", i);
			char *path = paths_dashboard_entry(root, "streams", name);
			fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
			if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
				close(fd);
				fd = -1;
			}
			free(path);
		}
	}
	free(dir);
	return fd;
}

int stream_open(struct stream *s, const char *root, int seconds, struct response *res,
		const char *what)
{
	*s = (struct stream){ .slot = take_slot(root), .fd = -1, .seconds = seconds };
	if (s->slot < 0) {
		char text[128];
		snprintf(text, sizeof(text), "%d %s are open already, the most there may be: "
			 "close one and reload", STREAM_SLOTS_MAX, what);
		response_message(res, 503, "Busy", text);
		buf_adds(&res->headers, "Retry-After: 30\r\n");
		return -1;
	}
	res->type = "text/event-stream; charset=utf-8";
	/* nginx passes each event on as it comes (no change to its config needed) */
	buf_adds(&res->headers, "X-Accel-Buffering: no\r\n");
	return 0;
}

void stream_close(struct stream *s)
{
	if (s->slot >= 0)
		close(s->slot);
	s->slot = -1;
}

void stream_start(struct stream *s, int fd)
{
	s->fd = fd;
	s->last = time(NULL);
	s->until = s->last + s->seconds;
}

int stream_send(struct stream *s, const char *data, size_t n)
{
	if (s->gone || fs_write_all(s->fd, data, n) < 0) {
		s->gone = 1;
		return -1;
	}
	s->last = time(NULL);
	return 0;
}

int stream_event(struct stream *s, const char *event, const char *id, const char *data, size_t n)
{
	struct buf ev = BUF_INIT;
	if (event)
		buf_addf(&ev, "event: %s\n", event);
	if (id)
		buf_addf(&ev, "id: %s\n", id);
	buf_adds(&ev, "data: ");
	for (size_t i = 0; i < n; i++) {
		/* a CR or LF would end the data line: the rest goes on the next one */
		if (data[i] == '\r' || data[i] == '\n')
			buf_adds(&ev, "\ndata: ");
		else
			buf_add(&ev, &data[i], 1);
	}
	buf_adds(&ev, "\n\n");
	int err = stream_send(s, ev.data, ev.len);
	buf_release(&ev);
	return err;
}

int stream_timed_out(const struct stream *s)
{
	return !s->gone && time(NULL) >= s->until;
}

int stream_over(struct stream *s, int may_ping)
{
	time_t now = time(NULL);
	/* the request was read whole: anything to read now is nginx closing */
	struct pollfd p = { .fd = s->fd, .events = POLLIN | POLLRDHUP };
	if (s->gone || now >= s->until)
		return 1;
	if (poll(&p, 1, 0) > 0) {
		s->gone = 1;
		return 1;
	}
	if (may_ping && now - s->last >= STREAM_KEEPALIVE_SECONDS)
		return stream_send(s, ": keep-alive\n\n", 14) < 0;
	return 0;
}
