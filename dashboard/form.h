/*
 * form.h - what a browser sends besides the URL: urlencoded form bodies,
 * query strings and the Cookie header.
 *
 * Part of dashboard/: uses util/ only; prints nothing.
 *
 * A form is name=value pairs joined by '&', '+' for a space and %XX for a
 * byte.  A malformed escape, a decoded NUL or more than FORM_MAX_FIELDS
 * pairs refuses the whole form (SW_EINVALID): a page never acts on half a
 * form.  A name given twice keeps its first value.
 *
 *     struct form f = FORM_INIT;
 *     if (form_parse(&f, body, body_len) < 0) ... 400 ...
 *     const char *token = form_get(&f, "token");   // NULL if absent
 *     form_release(&f);
 */
#ifndef SW_DASHBOARD_FORM_H
#define SW_DASHBOARD_FORM_H

#include <stddef.h>

#define FORM_MAX_FIELDS 64

struct form {
	char **fields; /* name, value, name, value ... (n pairs), decoded, malloc'ed */
	size_t n;
};
#define FORM_INIT { 0 }

/* Parses len bytes of application/x-www-form-urlencoded (or a query string) into f. */
int form_parse(struct form *f, const char *s, size_t len);

/* The first value of name, or NULL. */
const char *form_get(const struct form *f, const char *name);

void form_release(struct form *f);

/*
 * The value of cookie name in a Cookie header ("a=1; b=2"), malloc'ed, or
 * NULL when there is none (or header is NULL).  Values are taken as they
 * are (no decoding); the first cookie of that name wins.
 */
char *cookie_get(const char *header, const char *name);

#endif
