/*
 * test_hostview.c - runtime/hostview.c without hosts: the merge of
 * several hosts' log lines by their stamps (equal stamps, nothing to
 * merge, lines that are not log lines, a host's control characters, the
 * newest n), and the reading of a node agent's state answer.
 */
#include "runtime/hostview.h"
#include "util/error.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define T1 "2026-12-07T01:02:03.000001+00:00"
#define T2 "2026-12-07T01:02:03.000002+00:00"
#define T3 "2026-12-07T01:02:04.000000+00:00"

static struct buf out = BUF_INIT;
static struct service_info *inst;
static size_t ninst;

static void teardown(void)
{
	buf_release(&out);
	free(inst);
	inst = NULL;
	ninst = 0;
}

TestSuite(hostview, .fini = teardown);

static struct hostview_lines lines(const char *host, const char *text)
{
	return (struct hostview_lines){ .host = host, .text = text, .len = text ? strlen(text) : 0 };
}

static const char *merged(void)
{
	return out.data ? out.data : "";
}

Test(hostview, lines_merge_by_stamp_each_named_after_its_host)
{
	struct hostview_lines src[] = {
		lines("local", T1 " slipway[api]: Release v2 created by t\n"
			       T3 " app[web.1]: third\n"),
		lines("h1", T2 " app[web.1]: second\n"),
	};
	hostview_logs_merge(src, 2, 100, 0, &out);
	cr_assert_str_eq(merged(), T1 " local slipway[api]: Release v2 created by t\n"
				   T2 " h1 app[web.1]: second\n"
				   T3 " local app[web.1]: third\n");
}

Test(hostview, equal_stamps_keep_the_order_of_the_hosts_then_of_each_host)
{
	struct hostview_lines src[] = {
		lines("local", T2 " app[web.1]: l1\n" T2 " app[web.1]: l2\n"),
		lines("h1", T1 " app[web.1]: a\n" T2 " app[web.1]: h1\n" T2 " app[web.2]: h2\n"),
		lines("h2", T2 " app[web.1]: z\n"),
	};
	hostview_logs_merge(src, 3, 100, 0, &out);
	cr_assert_str_eq(merged(), T1 " h1 app[web.1]: a\n"
				   T2 " local app[web.1]: l1\n"
				   T2 " local app[web.1]: l2\n"
				   T2 " h1 app[web.1]: h1\n"
				   T2 " h1 app[web.2]: h2\n"
				   T2 " h2 app[web.1]: z\n");
}

Test(hostview, only_the_newest_n_lines_are_kept)
{
	struct hostview_lines src[] = {
		lines("local", T1 " app[web.1]: old\n" T3 " app[web.1]: newest\n"),
		lines("h1", T2 " app[web.1]: newer\n"),
	};
	hostview_logs_merge(src, 2, 2, 0, &out);
	cr_assert_str_eq(merged(), T2 " h1 app[web.1]: newer\n" T3 " local app[web.1]: newest\n");
}

Test(hostview, nothing_to_merge_is_nothing_shown)
{
	struct hostview_lines src[] = { lines("local", NULL), lines("h1", ""), lines("h2", "\n") };
	hostview_logs_merge(src, 3, 100, 0, &out);
	cr_assert_str_eq(merged(), "");
	cr_assert_eq(src[0].malformed + src[1].malformed + src[2].malformed, 0);
	hostview_logs_merge(src, 0, 100, 0, &out);
	cr_assert_str_eq(merged(), "");
}

Test(hostview, a_host_without_a_name_shows_its_lines_as_they_are)
{
	struct hostview_lines src[] = { lines(NULL, T1 " app[web.1]: x\n" T2 " app[web.1]: y") };
	hostview_logs_merge(src, 1, 100, 0, &out);
	cr_assert_str_eq(merged(), T1 " app[web.1]: x\n" T2 " app[web.1]: y\n");
}

Test(hostview, lines_that_are_not_log_lines_are_left_out_and_counted)
{
	struct hostview_lines src[] = {
		lines("local", T2 " app[web.1]: fine\n"),
		lines("h1", "garbage\n"
			    "2026-12-07T01:02:0x.000001+00:00 app[web.1]: a bad stamp\n"
			    T1 "app[web.1]: no blank after the stamp\n"
			    "2026-12-07\n"
			    T1 " app[web.1]: kept\n"
			    T3 " app[web.1]: cut short"),
	};
	hostview_logs_merge(src, 2, 100, 0, &out);
	cr_assert_str_eq(merged(), T1 " h1 app[web.1]: kept\n"
				   T2 " local app[web.1]: fine\n"
				   T3 " h1 app[web.1]: cut short\n");
	cr_assert_eq(src[0].malformed, 0);
	cr_assert_eq(src[1].malformed, 4);
}

Test(hostview, a_hosts_control_characters_show_escaped_unless_raw)
{
	const char *text = T1 " app[web.1]: \x1b[2Jcleared\r\tkept\x7f\n";
	struct hostview_lines src[] = { lines("h1", text) };
	hostview_logs_merge(src, 1, 100, 0, &out);
	cr_assert_str_eq(merged(), T1 " h1 app[web.1]: \\x1b[2Jcleared\\x0d\tkept\\x7f\n");
	buf_reset(&out);
	hostview_logs_merge(src, 1, 100, 1, &out);
	cr_assert_str_eq(merged(), T1 " h1 app[web.1]: \x1b[2Jcleared\r\tkept\x7f\n");
}

Test(hostview, a_state_answer_gives_the_hosts_instances)
{
	const char *answer =
		"{\"app\":\"shop\",\"version\":4,\"release\":2,\"status\":\"succeeded\","
		"\"instances\":\"shop.v2-1.web.1 shop.v1-1.web.1\","
		"\"shop.v2-1.web.1.type\":\"web\",\"shop.v2-1.web.1.state\":\"up\","
		"\"shop.v2-1.web.1.address\":\"127.0.0.1:5000\",\"shop.v2-1.web.1.pid\":4242,"
		"\"shop.v2-1.web.1.gate\":\"passed\",\"shop.v2-1.web.1.index\":1,"
		"\"shop.v2-1.web.1.port\":5000,\"shop.v2-1.web.1.since\":1796605323,"
		"\"shop.v2-1.web.1.version\":4,"
		"\"shop.v1-1.web.1.type\":\"web\",\"shop.v1-1.web.1.state\":\"warm\","
		"\"shop.v1-1.web.1.pid\":4000,\"shop.v1-1.web.1.version\":3,"
		"\"shop.v1-1.web.1.warm_until\":1796605400}";
	cr_assert_eq(hostview_parse_state(answer, &inst, &ninst), 0);
	cr_assert_eq(ninst, 2);
	cr_assert_str_eq(inst[0].name, "shop.v2-1.web.1");
	cr_assert_str_eq(inst[0].type, "web");
	cr_assert_str_eq(inst[0].state, "up");
	cr_assert_eq(inst[0].index, 1);
	cr_assert_eq(inst[0].port, 5000);
	cr_assert_eq(inst[0].pid, 4242);
	cr_assert_eq(inst[0].since, 1796605323);
	cr_assert_eq(inst[0].version, 4);
	cr_assert_null(inst[0].host);
	/* an agent that said no index: the name's last part */
	cr_assert_eq(inst[1].index, 1);
	cr_assert_str_eq(inst[1].state, "warm");
	cr_assert_eq(inst[1].warm_until, 1796605400);
	cr_assert_eq(inst[1].version, 3);
}

Test(hostview, an_answer_that_is_not_a_state_is_refused)
{
	cr_assert_eq(hostview_parse_state("{\"app\":\"shop\"}", &inst, &ninst), SW_EINVALID);
	cr_assert_eq(hostview_parse_state("not json", &inst, &ninst), SW_EINVALID);
	cr_assert_eq(ninst, 0);
	cr_assert_eq(hostview_parse_state("{\"instances\":\"\"}", &inst, &ninst), 0);
	cr_assert_eq(ninst, 0);
}
