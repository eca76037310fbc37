#include "util/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(void)
{
	fputs("fatal: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static char *vxasprintf(const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		oom();
	char *p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = vxasprintf(fmt, ap);
	va_end(ap);
	return p;
}

const char buf_empty_string[1] = "";

static void buf_grow(struct buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	/* with cap 0, data is buf_empty_string (or NULL): not ours to realloc */
	b->data = xrealloc(b->cap ? b->data : NULL, cap);
	b->cap = cap;
}

void buf_add(struct buf *b, const void *data, size_t len)
{
	buf_grow(b, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	char *p = vxasprintf(fmt, ap);
	buf_adds(b, p);
	free(p);
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->cap)
		b->data[0] = '\0';
}

void buf_truncate(struct buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

char *buf_detach(struct buf *b)
{
	char *p = b->cap ? b->data : xstrdup("");
	b->data = (char *)buf_empty_string;
	b->len = b->cap = 0;
	return p;
}

void buf_release(struct buf *b)
{
	if (b->cap)
		free(b->data);
	b->data = (char *)buf_empty_string;
	b->len = b->cap = 0;
}

/*
 * Length of the well-formed UTF-8 sequence at s (1 to 4), or 0 if the bytes
 * there are not one: overlong forms, surrogates and code points above
 * U+10FFFF are ill-formed too.
 */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	unsigned lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

void buf_add_shown(struct buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		/* utf8_len() of at most the bytes left, never past them */
		unsigned char seq[5] = { 0 };
		memcpy(seq, u + i, n - i < 4 ? n - i : 4);
		size_t len = utf8_len(seq);
		int c1 = len == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0;
		if (len == 1 && (u[i] >= 0x20 || u[i] == '\t') && u[i] != 0x7f)
			buf_add(b, s + i, 1);
		else if (len > 1 && !c1)
			buf_add(b, s + i, len);
		else {
			len = len ? len : 1;
			for (size_t k = 0; k < len; k++)
				buf_addf(b, "\\x%02x", u[i + k]);
		}
		i += len;
	}
}

void buf_add_json_string(struct buf *b, const char *s)
{
	buf_add(b, "\"", 1);
	while (*s) {
		unsigned char c = (unsigned char)*s;
		size_t n = 1;
		switch (c) {
		case '"': buf_adds(b, "\\\""); break;
		case '\\': buf_adds(b, "\\\\"); break;
		case '\n': buf_adds(b, "\\n"); break;
		case '\r': buf_adds(b, "\\r"); break;
		case '\t': buf_adds(b, "\\t"); break;
		default:
			if (c < 0x20) {
				buf_addf(b, "\\u%04x", c);
			} else if ((n = utf8_len((const unsigned char *)s))) {
				buf_add(b, s, n);
			} else {
				buf_adds(b, "\\ufffd");
				n = 1;
			}
		}
		s += n;
	}
	buf_add(b, "\"", 1);
}

void buf_add_shell_quoted(struct buf *b, const char *s)
{
	buf_add(b, "'", 1);
	for (; *s; s++) {
		if (*s == '\'')
			buf_adds(b, "'\\''");
		else
			buf_add(b, s, 1);
	}
	buf_add(b, "'", 1);
}

void strvec_push(struct strvec *sv, const char *s)
{
	if (sv->n + 2 > sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = xrealloc(sv->v, sv->cap * sizeof(*sv->v));
	}
	sv->v[sv->n++] = xstrdup(s);
	sv->v[sv->n] = NULL;
}

void strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = vxasprintf(fmt, ap);
	va_end(ap);
	strvec_push(sv, p);
	free(p);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strvec_sort(struct strvec *sv)
{
	if (sv->n)
		qsort(sv->v, sv->n, sizeof(*sv->v), cmp_str);
}

/* A string and where it stands, for strvec_uniq(). */
struct placed_str {
	const char *s;
	size_t at;
};

/* By string, then by place: the first of equal strings sorts first. */
static int cmp_placed(const void *a, const void *b)
{
	const struct placed_str *x = a, *y = b;
	int c = strcmp(x->s, y->s);
	return c ? c : (x->at > y->at) - (x->at < y->at);
}

void strvec_uniq(struct strvec *sv)
{
	if (sv->n < 2)
		return;
	struct placed_str *p = xmalloc(sv->n * sizeof(*p));
	char *keep = xcalloc(sv->n, 1);
	for (size_t i = 0; i < sv->n; i++)
		p[i] = (struct placed_str){ sv->v[i], i };
	qsort(p, sv->n, sizeof(*p), cmp_placed);
	for (size_t k = 0; k < sv->n; k++)
		keep[p[k].at] = k == 0 || strcmp(p[k].s, p[k - 1].s) != 0;
	size_t n = 0;
	for (size_t i = 0; i < sv->n; i++) {
		if (keep[i])
			sv->v[n++] = sv->v[i];
		else
			free(sv->v[i]);
	}
	sv->n = n;
	sv->v[n] = NULL;
	free(keep);
	free(p);
}

int strvec_has(const struct strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (!strcmp(sv->v[i], s))
			return 1;
	return 0;
}

int strvec_has_sorted(const struct strvec *sv, const char *s)
{
	return sv->n && bsearch(&s, sv->v, sv->n, sizeof(*sv->v), cmp_str) != NULL;
}

int text_lines_next(struct text_lines *it, const char **s, size_t *n)
{
	while (it->p < it->end) {
		const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
		const char *b = it->p, *e = nl ? nl : it->end;
		it->p = nl ? nl + 1 : it->end;
		it->lineno++;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (b == e || *b == '#')
			continue;
		*s = b;
		*n = (size_t)(e - b);
		return 1;
	}
	return 0;
}

void strvec_clear(struct strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}
