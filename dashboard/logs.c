#define _GNU_SOURCE
#include "dashboard/logs.h"

#include "dashboard/assets.h"
#include "dashboard/html.h"
#include "dashboard/layout.h"
#include "dashboard/request.h"
#include "runtime/logs.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

void logs_page(struct page_req *q, struct response *res)
{
	struct buf *b = &res->body;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct logs_filter f = { 0 };
	int err = logs_show(q->d->root, q->app, &f, LOGS_DEFAULT_LINES, 0, out, NULL, NULL);
	fclose(out);
	layout_open(b, q, "Logs");
	buf_adds(b, "<h1>Logs</h1>\n");
	if (err < 0) {
		buf_adds(b, "<p class=\"error\">");
		html_escape(b, sw_error_last());
		buf_adds(b, "</p>\n");
	}
	buf_addf(b, "<p id=\"live\">The last %d lines. Reload the page for newer ones.</p>\n",
		 LOGS_DEFAULT_LINES);
	buf_adds(b, "<pre id=\"log\" data-stream=\"/apps/");
	html_escape(b, q->app);
	buf_adds(b, "/logs/stream\">");
	html_escape(b, text);
	buf_addf(b, "</pre>\n<script src=\"%s\"></script>\n", assets_url("logs.js"));
	layout_close(b);
	free(text);
}

/* One open stream. */
struct tail {
	char *root, *app;
	int slot;        /* the lock on the slot it holds */
	int fd;          /* the connection, while it streams */
	int seconds;     /* how long it may last */
	time_t until, last;
	struct buf line; /* what logs_show() wrote of a line so far */
	int open;        /* ": live" went out: every line from then on is sent */
	int gone;        /* the client went, or would not take what was sent */
};

/* A free slot's locked file, or -1 when every slot is taken. */
static int take_slot(const char *root)
{
	char *dir = paths_dashboard_kind(root, "streams");
	int fd = -1;
	if (fs_mkdir_p(dir, 0700) == 0) {
		for (int i = 0; i < LOGS_STREAMS_MAX && fd < 0; i++) {
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

static int send_all(struct tail *t, const char *s, size_t n)
{
	if (t->gone || fs_write_all(t->fd, s, n) < 0) {
		t->gone = 1;
		return -1;
	}
	t->last = time(NULL);
	return 0;
}

/* logs_show()'s output: each whole line goes out as one event. */
static ssize_t tail_write(void *cookie, const char *data, size_t n)
{
	struct tail *t = cookie;
	const char *end = data + n, *nl;
	while (data < end && (nl = memchr(data, '\n', (size_t)(end - data)))) {
		struct buf ev = BUF_INIT;
		buf_adds(&ev, "data: ");
		buf_add(&ev, t->line.data, t->line.len);
		buf_add(&ev, data, (size_t)(nl - data));
		buf_adds(&ev, "\n\n");
		buf_reset(&t->line);
		int err = send_all(t, ev.data, ev.len);
		buf_release(&ev);
		if (err < 0) {
			errno = EPIPE;
			return -1;
		}
		data = nl + 1;
	}
	buf_add(&t->line, data, (size_t)(end - data));
	return (ssize_t)n;
}

/* logs_show()'s question, about every 100 ms: is the stream over? */
static int tail_stop(void *arg)
{
	struct tail *t = arg;
	time_t now = time(NULL);
	/* the request was read whole: anything to read now is nginx closing */
	struct pollfd p = { .fd = t->fd, .events = POLLIN | POLLRDHUP };
	if (t->gone || now >= t->until)
		return 1;
	/* the first call: logs_show() follows the ends of the files from now on */
	if (!t->open) {
		t->open = 1;
		if (send_all(t, ": live\n\n", 8) < 0)
			return 1;
	}
	if (poll(&p, 1, 0) > 0) {
		t->gone = 1;
		return 1;
	}
	if (now - t->last >= LOGS_KEEPALIVE_SECONDS && !t->line.len)
		return send_all(t, ": keep-alive\n\n", 14) < 0;
	return 0;
}

static void tail_run(void *arg, int fd)
{
	struct tail *t = arg;
	struct logs_filter f = { 0 };
	t->fd = fd;
	t->last = time(NULL);
	t->until = t->last + t->seconds;
	FILE *out = fopencookie(t, "w", (cookie_io_functions_t){ .write = tail_write });
	if (!out)
		return;
	setvbuf(out, NULL, _IONBF, 0);
	logs_show(t->root, t->app, &f, 0, 1, out, tail_stop, t);
	fclose(out);
	if (!t->gone && time(NULL) >= t->until) {
		char end[160];
		int minutes = (t->seconds + 59) / 60;
		int n = snprintf(end, sizeof(end), "event: end\ndata: The live tail ends after %d "
				 "minute%s: reload the page to follow again.\n\n", minutes,
				 minutes == 1 ? "" : "s");
		send_all(t, end, (size_t)n);
	}
}

static void tail_free(void *arg)
{
	struct tail *t = arg;
	if (!t)
		return;
	if (t->slot >= 0)
		close(t->slot);
	buf_release(&t->line);
	free(t->root);
	free(t->app);
	free(t);
}

void logs_stream(struct page_req *q, struct response *res)
{
	logs_stream_for(q, res, LOGS_STREAM_SECONDS);
}

void logs_stream_for(struct page_req *q, struct response *res, int seconds)
{
	int slot = take_slot(q->d->root);
	if (slot < 0) {
		char text[128];
		snprintf(text, sizeof(text), "%d live tails are open already, the most there may be: "
			 "close one and reload", LOGS_STREAMS_MAX);
		response_message(res, 503, "Busy", text);
		buf_adds(&res->headers, "Retry-After: 30\r\n");
		return;
	}
	struct tail *t = xcalloc(1, sizeof(*t));
	*t = (struct tail){ .root = xstrdup(q->d->root), .app = xstrdup(q->app), .slot = slot,
			    .fd = -1, .seconds = seconds, .line = BUF_INIT };
	res->type = "text/event-stream; charset=utf-8";
	/* nginx passes each event on as it comes (no change to its config needed) */
	buf_adds(&res->headers, "X-Accel-Buffering: no\r\n");
	res->stream = tail_run;
	res->arg = t;
	res->arg_free = tail_free;
}
