/*
 * csrf_off.c - dashboard/csrf.c with every check off, for the browser
 * tests' control run only: linked (before the library, so the library's
 * csrf.o is never pulled in) into the test-only binary slipway-csrf-off,
 * never into slipway.  Against it, the attack tests/browser/test_browser.c
 * shows refused must succeed: what stops it is csrf.c and nothing else.
 */
#include "dashboard/csrf.h"

enum csrf_verdict csrf_check(const struct csrf_request *r)
{
	(void)r;
	return CSRF_OK;
}

const char *csrf_reason(enum csrf_verdict v)
{
	(void)v;
	return "allowed (the checks are off in this test-only build)";
}
