/*
 * test_util.c - util/util.c: the JSON string writer always produces valid
 * JSON in valid UTF-8, whatever bytes it is given; a buf's data is never
 * NULL and its shared empty string is never written or freed; a strvec
 * answers whether it holds a string, and keeps each string once.
 */
#include "util/util.h"

#include <criterion/criterion.h>
#include <string.h>

static char *json(const char *s)
{
	struct buf b = BUF_INIT;
	buf_add_json_string(&b, s);
	return buf_detach(&b);
}

static void expect(const char *in, const char *out)
{
	char *got = json(in);
	cr_assert_str_eq(got, out, "for input '%s'", in);
	free(got);
}

Test(util, json_escapes_quotes_backslashes_and_controls)
{
	expect("", "\"\"");
	expect("plain", "\"plain\"");
	expect("a\"b\\c", "\"a\\\"b\\\\c\"");
	expect("\n\r\t\x01\x1f\x7f", "\"\\n\\r\\t\\u0001\\u001f\x7f\"");
}

Test(util, json_keeps_well_formed_utf8)
{
	expect("caf\xc3\xa9", "\"caf\xc3\xa9\"");                 /* U+00E9 */
	expect("\xe2\x82\xac", "\"\xe2\x82\xac\"");                 /* U+20AC */
	expect("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");         /* U+1F600 */
	expect("\xef\xbf\xbf\xf4\x8f\xbf\xbf", "\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\""); /* U+FFFF, U+10FFFF */
}

Test(util, json_replaces_each_invalid_byte)
{
	expect("\xff", "\"\\ufffd\"");
	expect("a\xfe\xff" "b", "\"a\\ufffd\\ufffdb\"");
	expect("\xc3", "\"\\ufffd\"");                          /* truncated at the end */
	expect("\xc3(", "\"\\ufffd(\"");                        /* bad continuation */
	expect("\xc0\xaf", "\"\\ufffd\\ufffd\"");               /* overlong '/' */
	expect("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");    /* overlong, 3 bytes */
	expect("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");    /* a surrogate */
	expect("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* above U+10FFFF */
	expect("\x80\xc3\xa9", "\"\\ufffd\xc3\xa9\"");          /* stray continuation, then good */
	expect("\xe2\x82", "\"\\ufffd\\ufffd\"");               /* truncated 3-byte */
}

Test(buf, data_is_never_null_from_buf_init_on)
{
	struct buf b = BUF_INIT;
	cr_assert_not_null(b.data);
	cr_assert_str_eq(b.data, "");
	buf_reset(&b);          /* must not write into the shared "" */
	buf_truncate(&b, 0);
	cr_assert_str_eq(b.data, "");
	buf_release(&b);        /* must not free it */
	cr_assert_not_null(b.data);
	cr_assert_str_eq(b.data, "");
	buf_adds(&b, "abc");
	cr_assert_str_eq(b.data, "abc");
	buf_release(&b);
	cr_assert_str_eq(b.data, "");
	cr_assert_eq(b.len, 0);
	buf_adds(&b, "again");
	cr_assert_str_eq(b.data, "again");
	buf_release(&b);
}

Test(buf, detach_always_returns_its_own_string)
{
	struct buf b = BUF_INIT;
	char *s = buf_detach(&b);
	cr_assert_str_eq(s, "");
	free(s);                /* malloc'ed, even when nothing was added */
	cr_assert_str_eq(b.data, "");
	buf_adds(&b, "xy");
	s = buf_detach(&b);
	cr_assert_str_eq(s, "xy");
	cr_assert_str_eq(b.data, "");
	cr_assert_eq(b.len, 0);
	free(s);
	buf_adds(&b, "z");
	cr_assert_str_eq(b.data, "z");
	buf_release(&b);
}

Test(buf, a_zeroed_buf_works_too)
{
	struct buf b;
	memset(&b, 0, sizeof(b));
	buf_reset(&b);
	buf_add(&b, "", 0);
	cr_assert_str_eq(b.data, "");
	buf_release(&b);
	memset(&b, 0, sizeof(b));
	char *s = buf_detach(&b);
	cr_assert_str_eq(s, "");
	free(s);
	buf_release(&b);
}

Test(strvec, has_finds_a_string_in_any_order_and_only_whole)
{
	struct strvec v = STRVEC_INIT;
	cr_assert_not(strvec_has(&v, "a"), "an empty vector has nothing");
	strvec_push(&v, "web");
	strvec_push(&v, "local");
	strvec_push(&v, "");
	cr_assert(strvec_has(&v, "local"));
	cr_assert(strvec_has(&v, "web"));
	cr_assert(strvec_has(&v, ""));
	cr_assert_not(strvec_has(&v, "loca"));
	cr_assert_not(strvec_has(&v, "locals"));
	cr_assert_not(strvec_has(&v, "Web"));
	strvec_clear(&v);
}

static void is_list(const struct strvec *v, const char *const *want, size_t n)
{
	cr_assert_eq(v->n, n, "%zu strings, not %zu", v->n, n);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(v->v[i], want[i], "at %zu", i);
	cr_assert_null(v->v[n], "the vector stays NULL-terminated");
}

Test(strvec, uniq_keeps_each_string_once_where_it_first_was)
{
	struct strvec v = STRVEC_INIT;
	strvec_uniq(&v);
	cr_assert_eq(v.n, 0);
	const char *in[] = { "c", "a", "c", "b", "a", "c", "d", "b" };
	for (size_t i = 0; i < sizeof(in) / sizeof(*in); i++)
		strvec_push(&v, in[i]);
	strvec_uniq(&v);
	const char *want[] = { "c", "a", "b", "d" };
	is_list(&v, want, 4);
	strvec_uniq(&v);
	is_list(&v, want, 4);
	strvec_clear(&v);
}

Test(strvec, uniq_of_many_repeats_of_a_few)
{
	struct strvec v = STRVEC_INIT;
	for (int i = 0; i < 5000; i++)
		strvec_pushf(&v, "slug%d", (i * 7) % 3);
	strvec_uniq(&v);
	const char *want[] = { "slug0", "slug1", "slug2" };
	is_list(&v, want, 3);
	strvec_clear(&v);
}

/* buf_add_shown() of n bytes at s, as a string. */
static char *shown(const char *s, size_t n)
{
	struct buf b = BUF_INIT;
	buf_add_shown(&b, s, n);
	return buf_detach(&b);
}

Test(buf, shown_text_cannot_drive_a_terminal)
{
	/* escape sequences, DEL, a C1 control, a lone continuation byte: \xHH */
	char *s = shown("a\x1b[2Jb\x7f\xc2\x9b\x80\ttab", 14);
	cr_assert_str_eq(s, "a\\x1b[2Jb\\x7f\\xc2\\x9b\\x80\ttab");
	free(s);
	/* UTF-8 passes: é, €, 😀 */
	s = shown("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
	cr_assert_str_eq(s, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	free(s);
	/* a sequence cut by the end of the bytes given is not read past them */
	s = shown("x\xe2\x82\xac", 3);
	cr_assert_str_eq(s, "x\\xe2\\x82");
	free(s);
	/* an overlong form and a surrogate are not UTF-8 */
	s = shown("\xc0\xaf\xed\xa0\x80", 5);
	cr_assert_str_eq(s, "\\xc0\\xaf\\xed\\xa0\\x80");
	free(s);
}
