/* A running build's output, live: the stream (its page's script is an asset, assets.h). */
#define _GNU_SOURCE
#include "dashboard/buildstream.h"

#include "dashboard/ansi.h"
#include "dashboard/assets.h"
#include "dashboard/form.h"
#include "dashboard/html.h"
#include "dashboard/request.h"
#include "dashboard/response.h"
#include "dashboard/scgi.h"
#include "dashboard/stream.h"
#include "store/builds.h"
#include "store/paths.h"
#include "util/util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void buildstream_note(struct buf *b, const struct page_req *q, int id, size_t shown)
{
	buf_adds(b, "<p id=\"live\" data-stream=\"/apps/");
	html_escape(b, q->app);
	buf_addf(b, "/builds/%d/stream?from=%zu\">The build is still running: reload the page "
		 "for newer output.</p>\n<script src=\"%s\"></script>\n", id, shown,
		 assets_url("build.js"));
}

/* One open stream of a build's output. */
struct follow {
	char *root, *app;
	int id;
	long long from;  /* the offset in the log of what is not sent yet */
	struct stream s;
	struct buf line; /* read, not sent: the start of a line */
};

/* Sends line [0..n) of the log, which ends at offset at, as an event. */
static int send_line(struct follow *f, const char *line, size_t n, long long at)
{
	struct buf html = BUF_INIT;
	char id[32];
	ansi_html(&html, line, n);
	snprintf(id, sizeof(id), "%lld", at);
	int err = stream_event(&f->s, NULL, id, html.data ? html.data : "", html.len);
	buf_release(&html);
	return err;
}

/* Reads what was appended to the log (fd) since, and sends its whole lines. */
static int drain(struct follow *f, int fd)
{
	char chunk[8192];
	ssize_t n;
	while ((n = pread(fd, chunk, sizeof(chunk), (off_t)(f->from + (long long)f->line.len))) > 0) {
		buf_add(&f->line, chunk, (size_t)n);
		char *start = f->line.data, *end = start + f->line.len, *nl;
		while ((nl = memchr(start, '\n', (size_t)(end - start)))) {
			f->from += nl + 1 - start;
			if (send_line(f, start, (size_t)(nl - start), f->from) < 0)
				return -1;
			start = nl + 1;
		}
		size_t rest = (size_t)(end - start);
		memmove(f->line.data, start, rest);
		f->line.len = rest;
	}
	return 0;
}

/* The build's status, or -1 when its record is gone (pruned). */
static int status_now(const struct follow *f)
{
	struct build_record r = BUILD_RECORD_INIT;
	int status = builds_read(f->root, f->app, f->id, &r) < 0 ? -1 : (int)r.status;
	build_record_release(&r);
	return status;
}

static void follow_run(void *arg, int fd)
{
	struct follow *f = arg;
	char *path = paths_build_record(f->root, f->app, f->id, "log");
	int log = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	stream_start(&f->s, fd);
	int ended = 0;
	while (!ended && !stream_over(&f->s, 1)) {
		/* the record says how it ended after the output's last byte is written */
		int status = log < 0 ? -1 : status_now(f);
		if (log >= 0 && drain(f, log) < 0)
			break;
		if (status == BUILD_PENDING) {
			usleep(BUILDSTREAM_POLL_MS * 1000);
			continue;
		}
		ended = 1;
		if (f->line.len && send_line(f, f->line.data, f->line.len,
					     f->from + (long long)f->line.len) < 0)
			break;
		const char *name = status < 0 ? "was removed" : build_status_name(status);
		stream_event(&f->s, "end", NULL, name, strlen(name));
	}
	if (!ended && stream_timed_out(&f->s)) {
		char end[160];
		int minutes = (f->s.seconds + 59) / 60;
		int n = snprintf(end, sizeof(end), "The live output ends after %d minute%s: reload "
				 "the page to follow again.", minutes, minutes == 1 ? "" : "s");
		stream_event(&f->s, "timeout", NULL, end, (size_t)n);
	}
	if (log >= 0)
		close(log);
}

static void follow_free(void *arg)
{
	struct follow *f = arg;
	if (!f)
		return;
	stream_close(&f->s);
	buf_release(&f->line);
	free(f->root);
	free(f->app);
	free(f);
}

/* Where the stream starts: Last-Event-ID, else ?from=N, else 0; -1 if neither is a number. */
static long long start_offset(const struct page_req *q)
{
	const char *last = scgi_header(q->scgi, "HTTP_LAST_EVENT_ID");
	const char *qs = scgi_header(q->scgi, "QUERY_STRING");
	struct form query = { 0 };
	const char *from = last;
	if (!from && qs && form_parse(&query, qs, strlen(qs)) == 0)
		from = form_get(&query, "from");
	char *end;
	long long at = from && *from ? strtoll(from, &end, 10) : 0;
	if (from && (!*from || *end || at < 0))
		at = -1;
	form_release(&query);
	return at;
}

void buildstream(struct page_req *q, struct response *res)
{
	buildstream_for(q, res, BUILDSTREAM_SECONDS);
}

void buildstream_for(struct page_req *q, struct response *res, int seconds)
{
	struct build_record r = BUILD_RECORD_INIT;
	char *end;
	long id = strtol(q->arg, &end, 10);
	if (*end || id <= 0 || id > 1000000000 || builds_read(q->d->root, q->app, (int)id, &r) < 0) {
		response_message(res, 404, "Not found", "there is no such build");
		goto done;
	}
	long long from = start_offset(q);
	if (from < 0) {
		response_message(res, 400, "Bad request", "the stream's start is not a number");
		goto done;
	}
	struct follow *f = xcalloc(1, sizeof(*f));
	if (stream_open(&f->s, q->d->root, seconds, res, "live streams") < 0) {
		free(f);
		goto done;
	}
	f->root = xstrdup(q->d->root);
	f->app = xstrdup(q->app);
	f->id = (int)id;
	f->from = from;
	f->line = (struct buf)BUF_INIT;
	res->stream = follow_run;
	res->arg = f;
	res->arg_free = follow_free;
done:
	build_record_release(&r);
}
