/*
 * dashboard/csrf: the decision table - a POST is taken only with the
 * session's token, the dashboard's exact Origin and (when sent)
 * Sec-Fetch-Site same-origin.
 */
#include "dashboard/csrf.h"

#include <criterion/criterion.h>

#define OWN "http://dashboard.apps.test:8080"
#define TOK "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define TOK2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdee"

struct row {
	const char *session, *form, *origin, *site;
	int login;
	enum csrf_verdict want;
	const char *why;
};

static const struct row rows[] = {
	{ TOK, TOK, OWN, "same-origin", 0, CSRF_OK, "everything right" },
	{ TOK, TOK, OWN, NULL, 0, CSRF_OK, "an older browser: no Sec-Fetch-Site" },
	{ TOK, NULL, OWN, "same-origin", 0, CSRF_NO_TOKEN, "no form token" },
	{ TOK, "", OWN, "same-origin", 0, CSRF_NO_TOKEN, "an empty form token" },
	{ NULL, TOK, OWN, "same-origin", 0, CSRF_NO_TOKEN, "no session token" },
	{ "", "", OWN, "same-origin", 0, CSRF_NO_TOKEN, "two empty tokens are no match" },
	{ TOK, TOK2, OWN, "same-origin", 0, CSRF_BAD_TOKEN, "another token" },
	{ TOK, TOK "0", OWN, "same-origin", 0, CSRF_BAD_TOKEN, "a longer token" },
	{ TOK, "0123", OWN, "same-origin", 0, CSRF_BAD_TOKEN, "a prefix of the token" },
	{ TOK, TOK, NULL, "same-origin", 0, CSRF_NO_ORIGIN, "no Origin" },
	{ TOK, TOK, "null", "same-origin", 0, CSRF_BAD_ORIGIN, "Origin null (a sandboxed page)" },
	{ TOK, TOK, "http://myapp.apps.test:8080", "same-site", 0, CSRF_BAD_ORIGIN,
	  "an app of the same site" },
	{ TOK, TOK, "http://dashboard.apps.test", "same-origin", 0, CSRF_BAD_ORIGIN, "another port" },
	{ TOK, TOK, "https://dashboard.apps.test:8080", "same-origin", 0, CSRF_BAD_ORIGIN,
	  "another scheme" },
	{ TOK, TOK, OWN "/", "same-origin", 0, CSRF_BAD_ORIGIN, "not byte for byte" },
	{ TOK, TOK, "HTTP://DASHBOARD.APPS.TEST:8080", "same-origin", 0, CSRF_BAD_ORIGIN,
	  "another spelling" },
	{ TOK, TOK, OWN, "same-site", 0, CSRF_CROSS_SITE, "Sec-Fetch-Site same-site" },
	{ TOK, TOK, OWN, "cross-site", 0, CSRF_CROSS_SITE, "Sec-Fetch-Site cross-site" },
	{ TOK, TOK, OWN, "none", 0, CSRF_CROSS_SITE, "Sec-Fetch-Site none (typed in)" },
	{ NULL, NULL, OWN, "same-origin", 1, CSRF_OK, "the login form" },
	{ NULL, NULL, "http://evil.apps.test:8080", "same-site", 1, CSRF_BAD_ORIGIN,
	  "the login form from an app" },
	{ NULL, NULL, NULL, NULL, 1, CSRF_NO_ORIGIN, "the login form without Origin" },
	{ NULL, NULL, OWN, "cross-site", 1, CSRF_CROSS_SITE, "the login form, cross-site" },
};

Test(csrf, decision_table)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct csrf_request q = { .session_token = r->session, .form_token = r->form,
					  .origin = r->origin, .sec_fetch_site = r->site,
					  .own_origin = OWN, .login = r->login };
		enum csrf_verdict v = csrf_check(&q);
		cr_expect_eq(v, r->want, "%s: got %d (%s), want %d", r->why, v, csrf_reason(v), r->want);
	}
}

Test(csrf, no_own_origin_takes_nothing)
{
	struct csrf_request q = { .session_token = TOK, .form_token = TOK, .origin = OWN };
	cr_assert_eq(csrf_check(&q), CSRF_BAD_ORIGIN);
}
