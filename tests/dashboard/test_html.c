/*
 * dashboard/html: whatever an attacker writes (an app name, a commit
 * message) reaches a page as text, never as markup.
 */
#define _GNU_SOURCE
#include "dashboard/html.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <string.h>

static char *escaped(const char *s)
{
	struct buf b = BUF_INIT;
	html_escape(&b, s);
	return buf_detach(&b);
}

Test(html, a_hostile_commit_message_is_text)
{
	char *e = escaped("Fix <script>alert('x')</script> & \"quote\" <img src=x onerror=alert(1)>");
	cr_assert_str_eq(e, "Fix &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quote&quot; "
			    "&lt;img src=x onerror=alert(1)&gt;");
	free(e);
}

Test(html, an_attribute_cannot_be_left)
{
	char *e = escaped("x\" onmouseover=\"alert(1)' y='");
	cr_assert_null(strchr(e, '"'));
	cr_assert_null(strchr(e, '\''));
	free(e);
}

Test(html, utf8_passes_and_broken_bytes_and_controls_do_not)
{
	char *e = escaped("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x9a\x80");
	cr_assert_str_eq(e, "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x9a\x80");
	free(e);
	e = escaped("a\xff" "b\xc0\xbc" "c\xed\xa0\x80" "d\x1b[31m\x7f" "e\tf\n");
	cr_assert_str_eq(e, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			    "d[31me\tf\n");
	free(e);
}

Test(html, the_title_is_escaped)
{
	struct buf b = BUF_INIT;
	html_page_open(&b, "</title><script>");
	html_page_close(&b);
	cr_assert(strstr(b.data, "<title>&lt;/title&gt;&lt;script&gt; - Slipway</title>"), "%s", b.data);
	cr_assert_null(strstr(b.data, "<script>"));
	buf_release(&b);
}
