#include "dashboard/form.h"

#include "util/error.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* s[0..n) decoded into *out (malloc'ed): 0, or SW_EINVALID. */
static int decode(const char *s, size_t n, char **out)
{
	char *d = xmalloc(n + 1), *w = d;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			*w++ = ' ';
		} else if (s[i] == '%') {
			int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
			int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(d);
				return sw_error_set(SW_EINVALID, "malformed form: a bad %%-escape");
			}
			*w++ = (char)(hi * 16 + lo);
			i += 2;
		} else if (s[i] == '\0') {
			free(d);
			return sw_error_set(SW_EINVALID, "malformed form: a NUL byte");
		} else {
			*w++ = s[i];
		}
	}
	*w = '\0';
	*out = d;
	return 0;
}

void form_release(struct form *f)
{
	for (size_t i = 0; i < 2 * f->n; i++)
		free(f->fields[i]);
	free(f->fields);
	*f = (struct form)FORM_INIT;
}

/* Adds the pair s[0..n) ("name=value", "name" alone: an empty value). */
static int add_pair(struct form *f, const char *s, size_t n)
{
	const char *eq = memchr(s, '=', n);
	size_t nlen = eq ? (size_t)(eq - s) : n;
	char *name = NULL, *value = NULL;
	int err;
	if (f->n == FORM_MAX_FIELDS)
		return sw_error_set(SW_EINVALID, "malformed form: more than %d fields", FORM_MAX_FIELDS);
	if ((err = decode(s, nlen, &name)) < 0)
		return err;
	if ((err = decode(eq ? eq + 1 : s + n, eq ? n - nlen - 1 : 0, &value)) < 0) {
		free(name);
		return err;
	}
	f->fields[2 * f->n] = name;
	f->fields[2 * f->n + 1] = value;
	f->n++;
	return 0;
}

int form_parse(struct form *f, const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	int err = 0;
	form_release(f);
	f->fields = xcalloc(2 * FORM_MAX_FIELDS, sizeof(*f->fields));
	while (p < end && !err) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		size_t n = amp ? (size_t)(amp - p) : (size_t)(end - p);
		if (n)
			err = add_pair(f, p, n);
		p += n + 1;
	}
	if (err)
		form_release(f);
	return err;
}

const char *form_get(const struct form *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->fields[2 * i], name))
			return f->fields[2 * i + 1];
	return NULL;
}

char *cookie_get(const char *header, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = header;
	while (p && *p) {
		while (*p == ' ' || *p == '\t')
			p++;
		const char *semi = strchr(p, ';');
		size_t n = semi ? (size_t)(semi - p) : strlen(p);
		if (n > nlen && !strncmp(p, name, nlen) && p[nlen] == '=') {
			const char *v = p + nlen + 1;
			size_t vn = n - nlen - 1;
			while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
				vn--;
			return xstrndup(v, vn);
		}
		p = semi ? semi + 1 : NULL;
	}
	return NULL;
}
