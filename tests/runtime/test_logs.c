/*
 * runtime/logs: what a process printed is shown, never obeyed - control
 * characters (a carriage return, escape sequences, a title change) reach
 * the reader's terminal as \xHH, while tabs and UTF-8 pass unchanged.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include "runtime/logs.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *root;

static void setup(void)
{
	root = th_sandbox();
}

static void teardown(void)
{
	th_sandbox_free(root);
}

TestSuite(logs, .init = setup, .fini = teardown, .timeout = 60);

#define STAMP "2026-12-01T13:27:22.123456+00:00 "

/* An instance's stored log, as its s6-log wrote it (the prefix is the instance's). */
static const char stored[] =
	STAMP "app[web.1]: \r\033[2K" "2026-12-01T13:27:23.000000+00:00 slipway[api]: Release v9 created by admin\n"
	STAMP "app[web.1]: \033]0;owned\007title\n"
	STAMP "app[web.1]: tab\there caf\xc3\xa9 \xe2\x9c\x93 csi\xc2\x9b" "2J bad\xff del\x7f\n";

static const char shown[] =
	STAMP "app[web.1]: \\x0d\\x1b[2K" "2026-12-01T13:27:23.000000+00:00 slipway[api]: Release v9 created by admin\n"
	STAMP "app[web.1]: \\x1b]0;owned\\x07title\n"
	STAMP "app[web.1]: tab\there caf\xc3\xa9 \xe2\x9c\x93 csi\\xc2\\x9b" "2J bad\\xff del\\x7f\n";

static void write_stored(void)
{
	char *dir = th_path("%s/logs/myapp/v1-1.web.1", root);
	char *cmd = th_path("mkdir -p '%s'", dir);
	cr_assert_eq(system(cmd), 0);
	char *cur = th_path("%s/current", dir);
	th_write(cur, stored, 0644);
	free(cur);
	free(cmd);
	free(dir);
}

Test(logs, control_characters_of_a_process_are_shown_escaped)
{
	write_stored();
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	cr_assert(out);
	cr_assert_eq(logs_show(root, "myapp", NULL, 100, 0, out, NULL, NULL), 0);
	fclose(out);
	cr_assert_str_eq(text, shown);
	cr_assert_null(strchr(text, '\r'));
	cr_assert_null(strchr(text, '\033'));
	free(text);
}

Test(logs, raw_shows_the_bytes_as_stored)
{
	write_stored();
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	cr_assert(out);
	struct logs_filter f = { .raw = 1 };
	cr_assert_eq(logs_show(root, "myapp", &f, 100, 0, out, NULL, NULL), 0);
	fclose(out);
	cr_assert_eq(len, strlen(stored));
	cr_assert_eq(memcmp(text, stored, len), 0, "%s", text);
	free(text);
}

Test(logs, the_tail_of_a_failed_instance_is_shown_escaped_too)
{
	write_stored();
	struct buf out = BUF_INIT;
	logs_instance_tail(root, "myapp", "v1-1.web.1", 10, &out);
	cr_assert_str_eq(out.data, shown);
	buf_release(&out);
}
