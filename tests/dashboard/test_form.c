/*
 * dashboard/form: urlencoded forms and cookies - decoded, first value
 * wins, and a malformed form refused whole.
 */
#define _GNU_SOURCE
#include "dashboard/form.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

Test(form, decodes_pairs)
{
	struct form f = FORM_INIT;
	const char *s = "token=ab%2Fc+d&empty=&alone&token=second&%3Cname%3E=%e2%9c%93";
	cr_assert_eq(form_parse(&f, s, strlen(s)), 0, "%s", sw_error_last());
	cr_assert_str_eq(form_get(&f, "token"), "ab/c d");
	cr_assert_str_eq(form_get(&f, "empty"), "");
	cr_assert_str_eq(form_get(&f, "alone"), "");
	cr_assert_str_eq(form_get(&f, "<name>"), "\xe2\x9c\x93");
	cr_assert_null(form_get(&f, "missing"));
	form_release(&f);
}

Test(form, an_empty_body_is_an_empty_form)
{
	struct form f = FORM_INIT;
	cr_assert_eq(form_parse(&f, "", 0), 0);
	cr_assert_eq(f.n, 0);
	cr_assert_eq(form_parse(&f, "&&", 2), 0);
	cr_assert_eq(f.n, 0);
	form_release(&f);
}

static void refused(const char *s, size_t n, const char *why)
{
	struct form f = FORM_INIT;
	cr_assert_eq(form_parse(&f, s, n), SW_EINVALID, "%s: not refused", why);
	cr_assert_eq(f.n, 0, "%s: nothing kept", why);
	cr_assert_null(form_get(&f, "a"));
	form_release(&f);
}

Test(form, refuses_malformed_forms_whole)
{
	refused("a=1&b=%", 7, "a cut escape");
	refused("a=1&b=%4", 8, "half an escape");
	refused("a=1&b=%zz", 9, "not hex");
	refused("a=1&b=%00", 9, "an escaped NUL");
	refused("a=1&b=x\0y", 9, "a raw NUL");
	struct buf b = BUF_INIT;
	for (int i = 0; i <= FORM_MAX_FIELDS; i++)
		buf_addf(&b, "f%d=1&", i);
	refused(b.data, b.len, "too many fields");
	buf_release(&b);
}

Test(form, cookies)
{
	const char *h = "other=1; __Host-slipway=abc ;slipway=def; x=";
	char *v;
	cr_assert_str_eq(v = cookie_get(h, "__Host-slipway"), "abc");
	free(v);
	cr_assert_str_eq(v = cookie_get(h, "slipway"), "def", "a name is matched whole");
	free(v);
	cr_assert_str_eq(v = cookie_get(h, "x"), "");
	free(v);
	cr_assert_null(cookie_get(h, "slip"));
	cr_assert_null(cookie_get(NULL, "slipway"));
	cr_assert_str_eq(v = cookie_get("slipway=1; slipway=2", "slipway"), "1", "the first wins");
	free(v);
}
