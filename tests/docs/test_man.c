/*
 * The manual page slipway(1) (docs/slipway.1.sh): the build makes it,
 * and man renders it with its NAME section and both references.
 */
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* man -l, else groff or mandoc where man is missing: the page as a reader sees it. */
static const char render[] =
	"if command -v man >/dev/null; then MANWIDTH=80 man -l \"$0\";"
	" elif command -v groff >/dev/null; then groff -t -man -Tutf8 \"$0\";"
	" else mandoc -Tutf8 \"$0\"; fi";

static struct th_result rendered;

static void setup(void)
{
	cr_assert_eq(access(SLIPWAY_MAN, R_OK), 0, "no manual page at %s", SLIPWAY_MAN);
	rendered = th_runv(NULL, NULL, "sh", "-c", render, SLIPWAY_MAN, NULL);
	cr_assert_eq(rendered.status, 0, "rendering %s failed: %s", SLIPWAY_MAN, rendered.err);
}

static void teardown(void)
{
	th_result_free(&rendered);
}

TestSuite(man, .init = setup, .fini = teardown);

Test(man, renders_its_name_section)
{
	cr_assert(strstr(rendered.out, "\nNAME\n"), "%s", rendered.out);
	cr_assert(strstr(rendered.out, "slipway - Heroku-style releases on your own server"), "%s",
		  rendered.out);
}

Test(man, holds_the_command_and_settings_references)
{
	cr_assert(strstr(rendered.out, "\nCOMMANDS\n"), "%s", rendered.out);
	cr_assert(strstr(rendered.out, "config:set"), "%s", rendered.out);
	cr_assert(strstr(rendered.out, "\nSETTINGS\n"), "%s", rendered.out);
	cr_assert(strstr(rendered.out, "slipway.compileTimeout"), "%s", rendered.out);
}
