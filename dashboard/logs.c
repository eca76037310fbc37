#define _GNU_SOURCE
#include "dashboard/logs.h"

#include "dashboard/assets.h"
#include "dashboard/html.h"
#include "dashboard/layout.h"
#include "dashboard/request.h"
#include "dashboard/stream.h"
#include "runtime/logs.h"
#include "util/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* One open tail. */
struct tail {
	char *root, *app;
	struct stream s;
	struct buf line; /* what logs_show() wrote of a line so far */
	int open;        /* ": live" went out: every line from then on is sent */
};

/* logs_show()'s output: each whole line goes out as one event. */
static ssize_t tail_write(void *cookie, const char *data, size_t n)
{
	struct tail *t = cookie;
	const char *end = data + n, *nl;
	while (data < end && (nl = memchr(data, '\n', (size_t)(end - data)))) {
		buf_add(&t->line, data, (size_t)(nl - data));
		int err = stream_event(&t->s, NULL, NULL, t->line.data, t->line.len);
		buf_reset(&t->line);
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
	/* the first call: logs_show() follows the ends of the files from now on */
	if (!t->open) {
		t->open = 1;
		if (stream_send(&t->s, ": live\n\n", 8) < 0)
			return 1;
	}
	return stream_over(&t->s, !t->line.len);
}

static void tail_run(void *arg, int fd)
{
	struct tail *t = arg;
	struct logs_filter f = { 0 };
	stream_start(&t->s, fd);
	FILE *out = fopencookie(t, "w", (cookie_io_functions_t){ .write = tail_write });
	if (!out)
		return;
	setvbuf(out, NULL, _IONBF, 0);
	/*
	 * The page's last lines again, after "reset": what came between the
	 * page and this stream is not lost, and a reconnection shows no line twice
	 */
	if (stream_event(&t->s, "reset", NULL, "", 0) == 0)
		logs_show(t->root, t->app, &f, LOGS_DEFAULT_LINES, 1, out, tail_stop, t);
	fclose(out);
	if (stream_timed_out(&t->s)) {
		char end[160];
		int minutes = (t->s.seconds + 59) / 60;
		int n = snprintf(end, sizeof(end), "The live tail ends after %d minute%s: reload the "
				 "page to follow again.", minutes, minutes == 1 ? "" : "s");
		stream_event(&t->s, "end", NULL, end, (size_t)n);
	}
}

static void tail_free(void *arg)
{
	struct tail *t = arg;
	if (!t)
		return;
	stream_close(&t->s);
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
	struct tail *t = xcalloc(1, sizeof(*t));
	if (stream_open(&t->s, q->d->root, seconds, res, "live tails") < 0) {
		free(t);
		return;
	}
	t->root = xstrdup(q->d->root);
	t->app = xstrdup(q->app);
	t->line = (struct buf)BUF_INIT;
	res->stream = tail_run;
	res->arg = t;
	res->arg_free = tail_free;
}
