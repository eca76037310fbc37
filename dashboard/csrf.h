/*
 * csrf.h - whether a POST may change anything.
 *
 * Part of dashboard/: uses util/ only; prints nothing.
 *
 * Apps answer at APP.DOMAIN and the dashboard usually at dashboard.DOMAIN:
 * the same site, so a SameSite=Strict cookie still rides along on a form an
 * app's page posts to the dashboard.  A POST is taken only when all hold:
 *
 *   1. the form's token equals the session's synchronizer token (compared
 *      in constant time); the login form, which has no session yet, skips
 *      this one (.login);
 *   2. Origin is present and equal to the dashboard's origin, byte for
 *      byte (scheme://host[:port] as the browser sends it);
 *   3. Sec-Fetch-Site, when the browser sends it, is "same-origin".
 *
 * GET never changes anything, so only POSTs are checked.
 */
#ifndef SW_DASHBOARD_CSRF_H
#define SW_DASHBOARD_CSRF_H

struct csrf_request {
	const char *session_token;  /* the session's synchronizer token (NULL: none) */
	const char *form_token;     /* the form's "csrf" field (NULL: absent) */
	const char *origin;         /* the Origin header (NULL: absent) */
	const char *sec_fetch_site; /* the Sec-Fetch-Site header (NULL: absent) */
	const char *own_origin;     /* the dashboard's origin: "https://dashboard.example.com" */
	int login;                  /* the login form: no session, no token to compare */
};

enum csrf_verdict {
	CSRF_OK = 0,
	CSRF_NO_TOKEN,     /* no session token or no form token */
	CSRF_BAD_TOKEN,    /* the form's token is not the session's */
	CSRF_NO_ORIGIN,    /* no Origin header */
	CSRF_BAD_ORIGIN,   /* Origin is another origin */
	CSRF_CROSS_SITE,   /* Sec-Fetch-Site is not same-origin */
};

/* The verdict on a POST; checks in the order above, the first failure wins. */
enum csrf_verdict csrf_check(const struct csrf_request *r);

/* One line for the refusal page: "the form's token does not match this session" ... */
const char *csrf_reason(enum csrf_verdict v);

#endif
