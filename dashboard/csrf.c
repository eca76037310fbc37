#include "dashboard/csrf.h"

#include <openssl/crypto.h>
#include <string.h>

/* a and b equal, in time that depends only on their lengths */
static int same_secret(const char *a, const char *b)
{
	size_t n = strlen(a);
	return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

enum csrf_verdict csrf_check(const struct csrf_request *r)
{
	if (!r->login) {
		if (!r->session_token || !*r->session_token || !r->form_token || !*r->form_token)
			return CSRF_NO_TOKEN;
		if (!same_secret(r->form_token, r->session_token))
			return CSRF_BAD_TOKEN;
	}
	if (!r->origin)
		return CSRF_NO_ORIGIN;
	if (!r->own_origin || strcmp(r->origin, r->own_origin))
		return CSRF_BAD_ORIGIN;
	if (r->sec_fetch_site && strcmp(r->sec_fetch_site, "same-origin"))
		return CSRF_CROSS_SITE;
	return CSRF_OK;
}

const char *csrf_reason(enum csrf_verdict v)
{
	switch (v) {
	case CSRF_OK: return "allowed";
	case CSRF_NO_TOKEN: return "the form has no token of this session: reload the page and try again";
	case CSRF_BAD_TOKEN: return "the form's token does not match this session: reload the page and try again";
	case CSRF_NO_ORIGIN: return "the browser did not say where the form comes from (no Origin header)";
	case CSRF_BAD_ORIGIN: return "the form was sent from another site";
	case CSRF_CROSS_SITE: return "the form was sent from another site (Sec-Fetch-Site)";
	}
	return "refused";
}
