/*
 * stream.h - a live answer of the dashboard (Server-Sent Events), bounded.
 *
 * Part of dashboard/: uses store/ and util/; prints nothing.
 *
 * The one helper under every live stream (the logs' tail, a build's
 * output).  A stream holds one of STREAM_SLOTS_MAX slots, a lock on
 * <root>/dashboard/streams/N held while its process lives: with every slot
 * taken the answer is 503, so open streams never take all of the server's
 * SERVER_MAX_CHILDREN processes.  The answer carries "X-Accel-Buffering:
 * no", so nginx passes each event on as it comes, without a change to its
 * config.  Once streaming, it is over when the client goes (nginx closes
 * the connection), when a write does not go through within the server's
 * timeout, or when its time is up; a comment line goes out every
 * STREAM_KEEPALIVE_SECONDS without events, within nginx's read timeout.
 *
 *     struct stream s;                     // in the page's arg
 *     if (stream_open(&s, root, seconds, res, "live tails") < 0)
 *             return;                      // the 503 is in res
 *     res->stream = run; ...               // run(arg, fd):
 *     stream_start(&s, fd);
 *     while (!stream_over(&s, 1)) { ... stream_event(&s, NULL, NULL, line, n); }
 *     ...                                  // arg_free: stream_close(&s)
 */
#ifndef SW_DASHBOARD_STREAM_H
#define SW_DASHBOARD_STREAM_H

#include <stddef.h>
#include <time.h>

struct response;

#define STREAM_SLOTS_MAX 4
#define STREAM_KEEPALIVE_SECONDS 15

/* One open stream: the stream's own state, owned by the page's arg. */
struct stream {
	int slot;        /* the lock on the slot it holds, -1 once released */
	int fd;          /* the connection, while it streams */
	int seconds;     /* how long it may last */
	time_t until, last;
	int gone;        /* the client went, or would not take what was sent */
};

/*
 * Takes a slot for a stream of res lasting at most seconds: 0 and res is
 * an event stream (its type and header set; the caller sets res->stream,
 * arg and arg_free), or -1 and res is the 503 (what says "busy" names
 * what: "live tails").
 */
int stream_open(struct stream *s, const char *root, int seconds, struct response *res,
		const char *what);

/* Frees the slot (again is harmless). */
void stream_close(struct stream *s);

/* Streaming begins on fd: the clock starts. */
void stream_start(struct stream *s, int fd);

/* Writes n bytes as they are (a comment, a whole event): 0, or -1 and s->gone. */
int stream_send(struct stream *s, const char *data, size_t n);

/*
 * One event: "event: EVENT" (when not NULL), "id: ID" (when not NULL),
 * data as "data:" lines (a CR or LF in it starts the next "data:" line,
 * so no byte of it ends the event early), then the blank line.
 */
int stream_event(struct stream *s, const char *event, const char *id, const char *data, size_t n);

/*
 * 1 when the stream is over (the client went, or its time is up); else
 * 0, and a keep-alive comment went out if one was due and may_ping.
 */
int stream_over(struct stream *s, int may_ping);

/* 1 when the stream's time is up (and the client is still there). */
int stream_timed_out(const struct stream *s);

#endif
