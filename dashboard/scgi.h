/*
 * scgi.h - one SCGI request, as nginx's scgi_pass sends it.
 *
 * Part of dashboard/: uses util/ only; prints nothing.
 *
 * A request is a netstring of headers followed by the body:
 *
 *     <len>":"CONTENT_LENGTH"\0"<n>"\0"SCGI"\0""1\0"NAME"\0"VALUE"\0"...","<n bytes of body>
 *
 * nginx has parsed the HTTP already; this checks only the framing.  The
 * length has no sign and no leading zero and is at most SCGI_MAX_HEADERS;
 * the first header is CONTENT_LENGTH (decimal, at most SCGI_MAX_BODY), an
 * SCGI header says 1, every name is non-empty and appears once, and every
 * name and value ends with a NUL inside the netstring.
 *
 *     struct scgi_request r = SCGI_REQUEST_INIT;
 *     while ((err = scgi_parse(&r, data, len)) == SCGI_MORE)
 *             ... read more into data ...
 *     if (err < 0) ... answer 400 (or 413 when r.too_large) ...
 *     const char *host = scgi_header(&r, "HTTP_HOST");
 *     scgi_request_release(&r);
 */
#ifndef SW_DASHBOARD_SCGI_H
#define SW_DASHBOARD_SCGI_H

#include <stddef.h>

#define SCGI_MAX_HEADERS (16 * 1024) /* the netstring's length */
#define SCGI_MAX_BODY (64 * 1024)    /* CONTENT_LENGTH: a form, never an upload */
#define SCGI_MAX_FIELDS 128          /* header names */

/* scgi_parse(): the request is not complete yet */
#define SCGI_MORE 1

struct scgi_request {
	char *block;         /* a copy of the headers' netstring (the fields point into it) */
	const char **fields; /* name, value, name, value ... (nfields pairs) */
	size_t nfields;
	const char *body;    /* into the caller's data: body_len bytes, not NUL-ended */
	size_t body_len;
	size_t used;         /* bytes of the caller's data the request takes */
	int too_large;       /* on an error: the headers or the body exceed the limits (413) */
};
#define SCGI_REQUEST_INIT { 0 }

/*
 * Parses the len bytes at data, everything read so far.  0: a whole
 * request (its body points into data, which must outlive r); SCGI_MORE:
 * read more and call again with all of it (nothing is kept); SW_EINVALID
 * with the message set: malformed or too large (r->too_large).
 */
int scgi_parse(struct scgi_request *r, const char *data, size_t len);

/* The value of header name (CGI spelling: "HTTP_HOST", "REQUEST_METHOD"), or NULL. */
const char *scgi_header(const struct scgi_request *r, const char *name);

void scgi_request_release(struct scgi_request *r);

#endif
