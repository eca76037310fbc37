/*
 * dashboard/scgi: the framing of one SCGI request - a whole one, one that
 * is still arriving, and every malformed or oversized one refused.
 */
#define _GNU_SOURCE
#include "dashboard/scgi.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

/* A request of the given NUL-separated headers (hlen bytes) and body. */
static struct buf frame(const char *headers, size_t hlen, const char *body)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "%zu:", hlen);
	buf_add(&b, headers, hlen);
	buf_adds(&b, ",");
	buf_adds(&b, body);
	return b;
}

#define H(s) s, sizeof(s) - 1

Test(scgi, parses_a_whole_request)
{
	struct buf b = frame(H("CONTENT_LENGTH\0" "5\0SCGI\0" "1\0REQUEST_METHOD\0POST\0"
			       "HTTP_HOST\0dashboard.apps.test\0EMPTY\0\0"), "a=b&c");
	struct scgi_request r = SCGI_REQUEST_INIT;
	cr_assert_eq(scgi_parse(&r, b.data, b.len), 0, "%s", sw_error_last());
	cr_assert_str_eq(scgi_header(&r, "REQUEST_METHOD"), "POST");
	cr_assert_str_eq(scgi_header(&r, "HTTP_HOST"), "dashboard.apps.test");
	cr_assert_str_eq(scgi_header(&r, "EMPTY"), "");
	cr_assert_null(scgi_header(&r, "HTTP_COOKIE"));
	cr_assert_eq(r.body_len, 5);
	cr_assert_eq(memcmp(r.body, "a=b&c", 5), 0);
	cr_assert_eq(r.used, b.len);
	scgi_request_release(&r);
	buf_release(&b);
}

Test(scgi, waits_for_the_rest_at_every_cut)
{
	struct buf b = frame(H("CONTENT_LENGTH\0" "3\0SCGI\0" "1\0"), "xyz");
	struct scgi_request r = SCGI_REQUEST_INIT;
	for (size_t cut = 0; cut < b.len; cut++)
		cr_assert_eq(scgi_parse(&r, b.data, cut), SCGI_MORE, "cut at %zu", cut);
	cr_assert_eq(scgi_parse(&r, b.data, b.len), 0);
	scgi_request_release(&r);
	buf_release(&b);
}

static void refused(const char *data, size_t len, int too_large, const char *why)
{
	struct scgi_request r = SCGI_REQUEST_INIT;
	cr_assert_eq(scgi_parse(&r, data, len), SW_EINVALID, "%s: not refused", why);
	cr_assert_eq(r.too_large, too_large, "%s: too_large %d", why, r.too_large);
	cr_assert_null(r.fields);
	scgi_request_release(&r);
}

#define REFUSED(s, why) refused(s, sizeof(s) - 1, 0, why)

/* headers framed with their right length: only what they hold is wrong */
static void fields_refused(const char *headers, size_t hlen, const char *why)
{
	struct buf b = frame(headers, hlen, "");
	refused(b.data, b.len, 0, why);
	buf_release(&b);
}

#define FIELDS_REFUSED(s, why) fields_refused(s, sizeof(s) - 1, why)

Test(scgi, refuses_malformed_netstrings)
{
	REFUSED("x:", "a letter for a length");
	REFUSED("-3:abc,", "a sign");
	REFUSED("03:abc,", "a leading zero");
	REFUSED("12x", "a letter after digits");
	REFUSED("0:,", "no headers at all");
	REFUSED("4:ab\0c;", "no comma at the end");
	REFUSED("3:abc,", "no NUL at the end of the headers");
	FIELDS_REFUSED("CONTENT_LENGTH\0" "0\0SCGI\0" "1\0X\0", "a name without a value");
	FIELDS_REFUSED("CONTENT_LENGTH\0" "0\0SCGI\0" "1\0X\0" "1\0\0", "an empty name at the end");
}

Test(scgi, refuses_missing_and_repeated_fields)
{
	FIELDS_REFUSED("SCGI\0" "1\0", "no CONTENT_LENGTH");
	FIELDS_REFUSED("SCGI\0" "1\0CONTENT_LENGTH\0" "0\0", "CONTENT_LENGTH not first");
	FIELDS_REFUSED("CONTENT_LENGTH\0" "0\0", "no SCGI header");
	FIELDS_REFUSED("CONTENT_LENGTH\0" "0\0SCGI\0" "2\0", "SCGI is not 1");
	FIELDS_REFUSED("CONTENT_LENGTH\0" "x1\0SCGI\0" "1\0", "a letter in CONTENT_LENGTH");
	FIELDS_REFUSED("CONTENT_LENGTH\0" "01\0SCGI\0" "1\0", "a leading zero in CONTENT_LENGTH");
	FIELDS_REFUSED("CONTENT_LENGTH\0" "\0SCGI\0" "1\0", "an empty CONTENT_LENGTH");
	FIELDS_REFUSED("CONTENT_LENGTH\0" "0\0SCGI\0" "1\0\0x\0", "an empty name");
	FIELDS_REFUSED("CONTENT_LENGTH\0" "0\0SCGI\0" "1\0SCGI\0" "1\0", "SCGI twice");
}

/* "CONTENT_LENGTH\0<n>\0SCGI\01\0" into b */
static void required(struct buf *b, long n)
{
	char num[32];
	buf_add(b, "CONTENT_LENGTH", sizeof("CONTENT_LENGTH"));
	snprintf(num, sizeof(num), "%ld", n);
	buf_add(b, num, strlen(num) + 1);
	buf_add(b, "SCGI\0" "1", sizeof("SCGI\0" "1"));
}

Test(scgi, refuses_oversize_headers_and_bodies_as_too_large)
{
	char big[32];
	snprintf(big, sizeof(big), "%d:", SCGI_MAX_HEADERS + 1);
	refused(big, strlen(big), 1, "headers one byte over");
	refused("99999999", 8, 1, "a length with too many digits");
	struct buf b = BUF_INIT;
	required(&b, SCGI_MAX_BODY + 1);
	struct buf f = frame(b.data, b.len, "");
	refused(f.data, f.len, 1, "a body one byte over");
	buf_release(&f);
	buf_reset(&b);
	required(&b, 0);
	for (int i = 0; i <= SCGI_MAX_FIELDS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "H%d", i);
		buf_add(&b, name, strlen(name) + 1);
		buf_add(&b, "v", 2);
	}
	f = frame(b.data, b.len, "");
	refused(f.data, f.len, 1, "too many headers");
	buf_release(&f);
	buf_release(&b);
}

Test(scgi, takes_a_body_at_the_limit)
{
	struct buf b = BUF_INIT, body = BUF_INIT;
	required(&b, SCGI_MAX_BODY);
	for (int i = 0; i < SCGI_MAX_BODY; i++)
		buf_adds(&body, "x");
	struct buf f = frame(b.data, b.len, body.data);
	struct scgi_request r = SCGI_REQUEST_INIT;
	cr_assert_eq(scgi_parse(&r, f.data, f.len), 0, "%s", sw_error_last());
	cr_assert_eq(r.body_len, (size_t)SCGI_MAX_BODY);
	scgi_request_release(&r);
	buf_release(&f);
	buf_release(&b);
	buf_release(&body);
}
