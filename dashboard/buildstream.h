/*
 * buildstream.h - a running build's output, live in its page (Server-Sent Events).
 *
 * Part of dashboard/ (pages given as request.h has them): uses store/ and
 * util/; prints nothing.
 *
 *   GET /apps/APP/builds/ID/stream?from=N  text/event-stream: the build's
 *           kept output from byte N on (an EventSource that reconnects
 *           sends Last-Event-ID, which wins), one event per line as it is
 *           appended - its data the line as HTML (ansi.h: escaped, the
 *           whitelisted colours as spans), its id the byte after the line -
 *           then, once the build has ended, "event: end" with its status
 *           ("succeeded", "failed"; "was removed" when it is kept no more).  For a build that has ended it sends
 *           what is left and the end at once.
 *   the asset build.js (assets.h): the page's script, appends the lines, says how it ended
 *
 * A stream of stream.h (a slot shared with the logs' tails, bounded by
 * BUILDSTREAM_SECONDS: then "event: timeout" with a sentence, kept alive,
 * passed on by nginx as it comes).  The output is looked at every
 * BUILDSTREAM_POLL_MS.
 */
#ifndef SW_DASHBOARD_BUILDSTREAM_H
#define SW_DASHBOARD_BUILDSTREAM_H

#include <stddef.h>

struct buf;
struct page_req;
struct response;

#define BUILDSTREAM_SECONDS 600
#define BUILDSTREAM_POLL_MS 200

void buildstream(struct page_req *q, struct response *res);

/* buildstream() ending after seconds instead of BUILDSTREAM_SECONDS. */
void buildstream_for(struct page_req *q, struct response *res, int seconds);

/*
 * The build page's part for a build still running, whose first shown
 * bytes of output the page shows: a note to reload (which the script
 * replaces) and the script following the stream from there into the
 * page's <pre id="output">.
 */
void buildstream_note(struct buf *b, const struct page_req *q, int id, size_t shown);

#endif
