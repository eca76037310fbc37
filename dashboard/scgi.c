#include "dashboard/scgi.h"

#include "util/error.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

void scgi_request_release(struct scgi_request *r)
{
	free(r->block);
	free(r->fields);
	*r = (struct scgi_request)SCGI_REQUEST_INIT;
}

static int too_large(struct scgi_request *r, const char *what, size_t max)
{
	r->too_large = 1;
	return sw_error_set(SW_EINVALID, "the request's %s exceed %zu bytes", what, max);
}

/*
 * The decimal at s[0..n): no sign, no leading zero, no more than max.
 * Returns 0 with *out set, -1 if it is not a number, -2 if above max.
 */
static int parse_decimal(const char *s, size_t n, size_t max, size_t *out)
{
	size_t v = 0;
	if (!n || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > max / 10 || v * 10 + (size_t)(s[i] - '0') > max)
			return -2;
		v = v * 10 + (size_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* The netstring's length: 0 with *hlen and *start set, SCGI_MORE, or an error. */
static int parse_length(struct scgi_request *r, const char *data, size_t len, size_t *hlen,
			size_t *start)
{
	const char *colon = memchr(data, ':', len < 8 ? len : 8);
	if (!colon) {
		for (size_t i = 0; i < len; i++)
			if (data[i] < '0' || data[i] > '9' || i >= 6)
				return i >= 6 ? too_large(r, "headers", SCGI_MAX_HEADERS)
					      : sw_error_set(SW_EINVALID, "malformed SCGI netstring length");
		return SCGI_MORE;
	}
	int err = parse_decimal(data, (size_t)(colon - data), SCGI_MAX_HEADERS, hlen);
	if (err == -2)
		return too_large(r, "headers", SCGI_MAX_HEADERS);
	if (err < 0)
		return sw_error_set(SW_EINVALID, "malformed SCGI netstring length");
	*start = (size_t)(colon - data) + 1;
	return 0;
}

static int check_name(const struct scgi_request *r, const char *name)
{
	if (!*name)
		return sw_error_set(SW_EINVALID, "an SCGI header without a name");
	for (size_t i = 0; i < r->nfields; i++)
		if (!strcmp(r->fields[2 * i], name))
			return sw_error_set(SW_EINVALID, "SCGI header '%.64s' given twice", name);
	return 0;
}

/* Splits the block (hlen bytes) into NUL-ended names and values. */
static int split_fields(struct scgi_request *r, size_t hlen)
{
	const char *p = r->block, *end = r->block + hlen;
	r->fields = xcalloc(2 * SCGI_MAX_FIELDS, sizeof(*r->fields));
	while (p < end) {
		const char *nend = memchr(p, '\0', (size_t)(end - p));
		if (!nend || nend + 1 >= end)
			return sw_error_set(SW_EINVALID, "an SCGI header without a value");
		const char *vend = memchr(nend + 1, '\0', (size_t)(end - nend - 1));
		if (!vend)
			return sw_error_set(SW_EINVALID, "an SCGI header value without its NUL");
		int err = check_name(r, p);
		if (err < 0)
			return err;
		if (r->nfields == SCGI_MAX_FIELDS)
			return too_large(r, "header count", SCGI_MAX_FIELDS);
		r->fields[2 * r->nfields] = p;
		r->fields[2 * r->nfields + 1] = nend + 1;
		r->nfields++;
		p = vend + 1;
	}
	return 0;
}

/* CONTENT_LENGTH first, SCGI 1: *body_len set. */
static int check_required(struct scgi_request *r, size_t *body_len)
{
	if (!r->nfields || strcmp(r->fields[0], "CONTENT_LENGTH"))
		return sw_error_set(SW_EINVALID, "the first SCGI header is not CONTENT_LENGTH");
	const char *cl = r->fields[1];
	int err = parse_decimal(cl, strlen(cl), SCGI_MAX_BODY, body_len);
	if (err == -2)
		return too_large(r, "body", SCGI_MAX_BODY);
	if (err < 0)
		return sw_error_set(SW_EINVALID, "malformed CONTENT_LENGTH '%.32s'", cl);
	const char *scgi = scgi_header(r, "SCGI");
	if (!scgi || strcmp(scgi, "1"))
		return sw_error_set(SW_EINVALID, "no SCGI: 1 header");
	return 0;
}

int scgi_parse(struct scgi_request *r, const char *data, size_t len)
{
	size_t hlen = 0, start = 0, body_len = 0;
	int err;

	scgi_request_release(r);
	if ((err = parse_length(r, data, len, &hlen, &start)))
		goto done;
	if (len < start + hlen + 1) {
		err = SCGI_MORE;
		goto done;
	}
	if (data[start + hlen] != ',') {
		err = sw_error_set(SW_EINVALID, "the SCGI netstring does not end with ','");
		goto done;
	}
	if (!hlen || data[start + hlen - 1] != '\0') {
		err = sw_error_set(SW_EINVALID, "the SCGI headers do not end with a NUL");
		goto done;
	}
	r->block = xmalloc(hlen);
	memcpy(r->block, data + start, hlen);
	if ((err = split_fields(r, hlen)) < 0 || (err = check_required(r, &body_len)) < 0)
		goto done;
	if (len - (start + hlen + 1) < body_len) {
		err = SCGI_MORE;
		goto done;
	}
	r->body = data + start + hlen + 1;
	r->body_len = body_len;
	r->used = start + hlen + 1 + body_len;
done:
	if (err) {
		int big = r->too_large;
		scgi_request_release(r);
		r->too_large = big;
	}
	return err;
}

const char *scgi_header(const struct scgi_request *r, const char *name)
{
	for (size_t i = 0; i < r->nfields; i++)
		if (!strcmp(r->fields[2 * i], name))
			return r->fields[2 * i + 1];
	return NULL;
}
