/*
 * fuzz_scgi.c - what reaches the dashboard from the socket: the SCGI
 * request (scgi_parse), then the form in its body (form_parse), the
 * cookie (cookie_get) and every header escaped (html_escape).  What they
 * accept must match what their headers promise: a parsed request lies
 * within the bytes given and the limits, an escaped string has no markup
 * character left.
 */
#include "dashboard/form.h"
#include "dashboard/html.h"
#include "dashboard/scgi.h"
#include "util/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_escaped(const char *s)
{
	struct buf b = BUF_INIT;
	html_escape(&b, s);
	if (strpbrk(b.data, "<>\"'"))
		abort();
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scgi_request r = SCGI_REQUEST_INIT;
	int err = scgi_parse(&r, (const char *)data, size);
	if (err == 0) {
		if (r.used > size || r.body_len > SCGI_MAX_BODY || r.body + r.body_len >
		    (const char *)data + size || r.nfields > SCGI_MAX_FIELDS ||
		    !scgi_header(&r, "CONTENT_LENGTH") || strcmp(scgi_header(&r, "SCGI"), "1"))
			abort();
		for (size_t i = 0; i < 2 * r.nfields; i++)
			check_escaped(r.fields[i]);
		struct form f = FORM_INIT;
		if (form_parse(&f, r.body, r.body_len) == 0) {
			if (f.n > FORM_MAX_FIELDS)
				abort();
			for (size_t i = 0; i < 2 * f.n; i++)
				check_escaped(f.fields[i]);
		}
		form_release(&f);
		free(cookie_get(scgi_header(&r, "HTTP_COOKIE"), "slipway_session"));
	} else if (err != SCGI_MORE && !r.fields && r.nfields) {
		abort();
	}
	scgi_request_release(&r);
	return 0;
}
