/*
 * test_json.c - util/json.c: members get their commas and keys, nesting
 * closes in order, strings are escaped (whatever bytes they hold), numbers
 * and literals are written as JSON has them, a lined array puts each
 * element after the first on a line of its own, and nesting past the limit
 * stays in the writer's memory.
 */
#include "util/json.h"

#include <criterion/criterion.h>
#include <stdint.h>

static struct buf out = BUF_INIT;
static struct json j;

static void setup(void)
{
	buf_reset(&out);
	j = (struct json)JSON_INIT(&out);
}

static void teardown(void)
{
	buf_release(&out);
}

TestSuite(json, .init = setup, .fini = teardown);

Test(json, empty_object_and_array)
{
	json_object_begin(&j, NULL);
	json_array_begin(&j, "a");
	json_array_end(&j);
	json_object_begin(&j, "o");
	json_object_end(&j);
	json_object_end(&j);
	cr_assert_str_eq(out.data, "{\"a\":[],\"o\":{}}");
	cr_assert_eq(j.depth, 0);
}

Test(json, members_of_every_type)
{
	json_object_begin(&j, NULL);
	json_int(&j, "i", -7);
	json_uint(&j, "u", UINT64_MAX);
	json_bool(&j, "t", 1);
	json_bool(&j, "f", 0);
	json_null(&j, "n");
	json_string(&j, "s", "x");
	json_string(&j, "none", NULL);
	json_stringf(&j, "mode", "%04o", 0755u);
	json_object_end(&j);
	cr_assert_str_eq(out.data, "{\"i\":-7,\"u\":18446744073709551615,\"t\":true,\"f\":false,"
				   "\"n\":null,\"s\":\"x\",\"none\":null,\"mode\":\"0755\"}");
}

Test(json, arrays_nest_in_objects_and_objects_in_arrays)
{
	json_array_begin(&j, NULL);
	json_object_begin(&j, NULL);
	json_array_begin(&j, "x");
	json_int(&j, NULL, 1);
	json_int(&j, NULL, 2);
	json_array_end(&j);
	json_object_end(&j);
	json_string(&j, NULL, "b");
	json_object_begin(&j, NULL);
	json_object_end(&j);
	json_array_end(&j);
	cr_assert_str_eq(out.data, "[{\"x\":[1,2]},\"b\",{}]");
}

Test(json, strings_and_keys_are_escaped)
{
	json_object_begin(&j, NULL);
	json_string(&j, "k\"\\", "a\"b\\c\n\t\x01");
	json_string(&j, "bad", "\xff" "caf\xc3\xa9");
	json_object_end(&j);
	cr_assert_str_eq(out.data, "{\"k\\\"\\\\\":\"a\\\"b\\\\c\\n\\t\\u0001\","
				   "\"bad\":\"\\ufffdcaf\xc3\xa9\"}");
}

Test(json, lined_array_puts_each_later_element_on_its_own_line)
{
	json_array_begin_lined(&j, NULL);
	for (int i = 0; i < 3; i++) {
		json_object_begin(&j, NULL);
		json_int(&j, "v", i);
		json_int(&j, "w", i);
		json_object_end(&j);
	}
	json_array_end(&j);
	cr_assert_str_eq(out.data, "[{\"v\":0,\"w\":0},\n {\"v\":1,\"w\":1},\n {\"v\":2,\"w\":2}]");
}

Test(json, appends_to_what_the_buf_holds)
{
	buf_adds(&out, "x=");
	json_array_begin(&j, NULL);
	json_array_end(&j);
	cr_assert_str_eq(out.data, "x=[]");
}

Test(json, nesting_deeper_than_the_limit_stays_in_bounds)
{
	for (int i = 0; i < JSON_MAX_DEPTH + 4; i++)
		json_array_begin(&j, NULL);
	for (int i = 0; i < JSON_MAX_DEPTH + 4; i++)
		json_array_end(&j);
	cr_assert_eq(j.depth, 0);
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		cr_assert_eq(out.data[i], '[');
}

/* ---- json_flat_get: reading a flat object ---- */

#include "util/error.h"

#include <stdlib.h>

Test(json, flat_get_reads_what_the_writer_wrote)
{
	json_object_begin(&j, NULL);
	json_string(&j, "slipway", "0.1.0");
	json_int(&j, "clock_ms", -1765061234567);
	json_string(&j, "odd", "a\"b\\c\n\x01\xc3\xa9");
	json_bool(&j, "up", 1);
	json_null(&j, "none");
	json_object_end(&j);
	char *v = NULL;
	cr_assert_eq(json_flat_get(out.data, "slipway", &v), 0);
	cr_assert_str_eq(v, "0.1.0");
	free(v);
	cr_assert_eq(json_flat_get(out.data, "clock_ms", &v), 0);
	cr_assert_str_eq(v, "-1765061234567");
	free(v);
	cr_assert_eq(json_flat_get(out.data, "odd", &v), 0);
	cr_assert_str_eq(v, "a\"b\\c\n\x01\xc3\xa9");
	free(v);
	cr_assert_eq(json_flat_get(out.data, "up", &v), 0);
	cr_assert_str_eq(v, "true");
	free(v);
	cr_assert_eq(json_flat_get(out.data, "missing", &v), SW_ENOTFOUND);
	cr_assert_null(v);
}

Test(json, flat_get_refuses_what_is_not_a_flat_object)
{
	static const char *const bad[] = {
		"", "[]", "{\"a\":1", "{\"a\" 1}", "{\"a\":{\"b\":1}}", "{\"a\":[1]}",
		"{\"a\":\"x\n\"}", "{\"a\":\"\\q\"}", "{\"a\":1} trailing", "{a:1}", "{\"a\":1,}x",
		NULL,
	};
	for (size_t i = 0; bad[i]; i++) {
		char *v = NULL;
		cr_assert_eq(json_flat_get(bad[i], "a", &v), SW_EINVALID, "%s", bad[i]);
		cr_assert_null(v, "%s", bad[i]);
	}
	char *v = NULL;
	cr_assert_eq(json_flat_get(" { \"b\" : \"\\u00e9\" , \"a\" : 2 }\n", "a", &v), 0);
	cr_assert_str_eq(v, "2");
	free(v);
	cr_assert_eq(json_flat_get("{\"b\":\"\\u00e9\"}", "b", &v), 0);
	cr_assert_str_eq(v, "\xc3\xa9");
	free(v);
}

/* Collects "key=value;" of each member; stops at the key "stop". */
static int collect(const char *key, const char *value, void *ctx)
{
	if (!strcmp(key, "stop"))
		return SW_EEXISTS;
	buf_addf(ctx, "%s=%s;", key, value);
	return 0;
}

Test(json, flat_each_hands_on_every_member_in_order_and_stops_when_told)
{
	struct buf got = BUF_INIT;
	cr_assert_eq(json_flat_each("{\"process.web\":\"run it\",\"n\":2,\"e\":\"\",\"b\":true}",
				    collect, &got), 0);
	cr_assert_str_eq(got.data, "process.web=run it;n=2;e=;b=true;");
	buf_reset(&got);
	cr_assert_eq(json_flat_each("{\"a\":1,\"stop\":2,\"c\":3}", collect, &got), SW_EEXISTS);
	cr_assert_str_eq(got.data, "a=1;");
	buf_reset(&got);
	cr_assert_eq(json_flat_each("{\"a\":1,\"b\":[2]}", collect, &got), SW_EINVALID);
	buf_reset(&got);
	cr_assert_eq(json_flat_each("{}", collect, &got), 0);
	cr_assert_eq(got.len, 0);
	buf_release(&got);
}
