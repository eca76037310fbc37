/* outcap: the head passes, the tail is held, the middle is cut and counted. */
#include "builder/outcap.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

/* Takes the lines "line N\n" for N in 1..count; returns the bytes passed at once. */
static size_t take_lines(struct outcap *c, int count, char *passed, size_t cap)
{
	size_t at = 0;
	for (int i = 1; i <= count; i++) {
		char line[32];
		int n = snprintf(line, sizeof(line), "line %d\n", i);
		size_t now = outcap_take(c, line, (size_t)n);
		if (now && at + now < cap) {
			memcpy(passed + at, line, now);
			at += now;
		}
	}
	passed[at] = '\0';
	return at;
}

Test(outcap, without_a_cap_everything_passes)
{
	struct outcap c = OUTCAP_INIT;
	char passed[4096];
	outcap_init(&c, 0);
	cr_assert_eq(take_lines(&c, 100, passed, sizeof(passed)), 792);
	const char *tail;
	size_t len;
	outcap_finish(&c, &tail, &len);
	cr_assert_eq(len, 0);
	cr_assert_eq(c.cut_bytes, 0);
	outcap_release(&c);
}

Test(outcap, head_passes_whole_lines_and_the_tail_starts_at_a_line)
{
	struct outcap c = OUTCAP_INIT;
	char passed[4096];
	outcap_init(&c, 64); /* 32 bytes of head, 32 of tail */
	take_lines(&c, 1000, passed, sizeof(passed));
	cr_assert_str_eq(passed, "line 1\nline 2\nline 3\nline 4\n");
	const char *tail;
	size_t len;
	outcap_finish(&c, &tail, &len);
	cr_assert_eq(len, 28, "%.*s", (int)len, tail);
	cr_assert(!strncmp(tail, "line 998\nline 999\nline 1000\n", len), "%.*s", (int)len, tail);
	size_t total = 0;
	for (int i = 1; i <= 1000; i++)
		total += (size_t)snprintf(NULL, 0, "line %d\n", i);
	cr_assert_eq(c.cut_bytes, total - 28 - 28);
	cr_assert_eq(c.cut_lines, 1000 - 4 - 3);
	outcap_release(&c);
}

Test(outcap, output_that_fits_head_and_tail_is_not_cut)
{
	struct outcap c = OUTCAP_INIT;
	outcap_init(&c, 20);
	cr_assert_eq(outcap_take(&c, "abcdefgh\n", 9), 9);
	cr_assert_eq(outcap_take(&c, "ijk\n", 4), 0);
	const char *tail;
	size_t len;
	outcap_finish(&c, &tail, &len);
	cr_assert_eq(c.cut_bytes, 0);
	cr_assert_eq(len, 4);
	cr_assert(!strncmp(tail, "ijk\n", 4));
	outcap_release(&c);
}

Test(outcap, a_chunk_larger_than_the_tail_keeps_its_end)
{
	struct outcap c = OUTCAP_INIT;
	outcap_init(&c, 8);
	cr_assert_eq(outcap_take(&c, "head\n", 5), 0); /* more than the 4-byte head */
	cr_assert_eq(outcap_take(&c, "a\nb\nccccc\nd\n", 12), 0);
	const char *tail;
	size_t len;
	outcap_finish(&c, &tail, &len);
	cr_assert_eq(len, 2);
	cr_assert(!strncmp(tail, "d\n", 2), "%.*s", (int)len, tail);
	cr_assert_eq(c.cut_bytes, 15);
	cr_assert_eq(c.cut_lines, 4);
	outcap_release(&c);
}
