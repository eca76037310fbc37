/*
 * test_say.c - util/say.c: each kind of line has its prefix and ends in a
 * newline; a text of several lines is written a prefixed line each, empty
 * lines left out; the same line goes to a buf or a line callback.
 */
#include "util/say.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static char *text;
static size_t len;
static FILE *out;

static void setup(void)
{
	out = open_memstream(&text, &len);
	cr_assert_not_null(out);
}

static void teardown(void)
{
	if (out)
		fclose(out);
	free(text);
}

TestSuite(say, .init = setup, .fini = teardown);

static const char *written(void)
{
	fflush(out); /* say flushes; this is for the checks that need none */
	return text;
}

Test(say, each_kind_has_its_prefix)
{
	say(out, SAY_STEP, "Building %s", "demo");
	say(out, SAY_WARN, "Release command failed");
	say(out, SAY_DETAIL, "Procfile declares types -> %s", "web");
	say(out, SAY_ERROR, "%s has no releases.", "demo");
	cr_assert_str_eq(written(), "-----> Building demo\n"
				    " !     Release command failed\n"
				    "       Procfile declares types -> web\n"
				    " !    demo has no releases.\n");
}

Test(say, a_line_is_on_out_before_say_returns)
{
	say(out, SAY_STEP, "x");
	cr_assert_eq(len, strlen("-----> x\n")); /* flushed: len is set by the flush */
}

Test(say, line_keeps_its_bytes)
{
	say_line(out, SAY_DETAIL, "a\0b", 3);
	cr_assert_eq(len, 11);
	cr_assert(!memcmp(text, "       a\0b\n", 11));
}

Test(say, lines_prefixes_every_line_and_skips_empty_ones)
{
	say_lines(out, SAY_DETAIL, "\none\n\ntwo\nthree");
	cr_assert_str_eq(written(), "       one\n       two\n       three\n");
}

Test(say, lines_of_nothing_writes_nothing)
{
	say_lines(out, SAY_WARN, "");
	say_lines(out, SAY_WARN, "\n\n");
	cr_assert_str_eq(written(), "");
}

Test(say, addf_appends_without_newline)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, ">");
	say_addf(&b, SAY_WARN, "v%d", 3);
	cr_assert_str_eq(b.data, "> !     v3");
	buf_release(&b);
}

static void collect(const char *line, size_t n, void *ctx)
{
	buf_add(ctx, line, n);
	buf_adds(ctx, "|");
}

Test(say, to_hands_the_line_to_the_callback)
{
	struct buf b = BUF_INIT;
	say_to(collect, &b, SAY_STEP, "Cloning buildpack %s", "x");
	say_to(NULL, NULL, SAY_STEP, "nowhere");
	cr_assert_str_eq(b.data, "-----> Cloning buildpack x|");
	buf_release(&b);
}

Test(say, prefixes_line_up_as_heroku_prints_them)
{
	cr_assert_eq(strlen(say_prefix(SAY_STEP)), 7);
	cr_assert_eq(strlen(say_prefix(SAY_WARN)), 7);
	cr_assert_eq(strlen(say_prefix(SAY_DETAIL)), 7);
	cr_assert_str_eq(say_prefix(SAY_ERROR), " !    ");
}
