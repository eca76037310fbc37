/*
 * test_util.c - store/util.c: the JSON string writer always produces valid
 * JSON in valid UTF-8, whatever bytes it is given.
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
