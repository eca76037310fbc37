#include "dashboard/ansi.h"

#include "dashboard/html.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

#define ESC '\033'

struct sgr {
	int bold, color; /* color: 30-37, 90-97, or 0 */
	int open;        /* spans open in b */
};

static void text(struct buf *b, const char *s, size_t n)
{
	char *t = xstrndup(s, n);
	html_escape(b, t);
	free(t);
}

static void close_spans(struct buf *b, struct sgr *g)
{
	for (; g->open; g->open--)
		buf_adds(b, "</span>");
}

static void apply(struct sgr *g, int code)
{
	if (code == 0) {
		g->bold = g->color = 0;
	} else if (code == 1) {
		g->bold = 1;
	} else if (code == 22) {
		g->bold = 0;
	} else if (code == 39) {
		g->color = 0;
	} else if ((code >= 30 && code <= 37) || (code >= 90 && code <= 97)) {
		g->color = code;
	}
}

/* The parameters of one SGR sequence, p[0..n) ("1;31"), applied to g. */
static void apply_all(struct sgr *g, const char *p, size_t n)
{
	int code = 0;
	if (!n)
		apply(g, 0);
	for (size_t i = 0; i <= n; i++) {
		if (i == n || p[i] == ';') {
			apply(g, code);
			code = 0;
		} else if (code < 1000) {
			code = code * 10 + (p[i] - '0');
		}
	}
}

static void open_spans(struct buf *b, struct sgr *g)
{
	if (g->bold) {
		buf_adds(b, "<span class=\"ansi-1\">");
		g->open++;
	}
	if (g->color) {
		buf_addf(b, "<span class=\"ansi-%d\">", g->color);
		g->open++;
	}
}

/* The length of the sequence at s (ESC first), at most n; *sgr: its parameters when SGR. */
static size_t sequence(const char *s, size_t n, int *sgr)
{
	*sgr = 0;
	if (n < 2 || s[1] != '[')
		return n < 2 ? n : 2;
	size_t i = 2;
	while (i < n && (unsigned char)s[i] >= 0x30 && (unsigned char)s[i] <= 0x3f)
		i++;
	while (i < n && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] <= 0x2f)
		i++;
	if (i == n)
		return n;
	*sgr = s[i] == 'm' && strspn(s + 2, "0123456789;") >= i - 2;
	return i + 1;
}

void ansi_html(struct buf *b, const char *s, size_t len)
{
	struct sgr g = { 0 };
	size_t i = 0;
	while (i < len) {
		const char *esc = memchr(s + i, ESC, len - i);
		size_t plain = esc ? (size_t)(esc - (s + i)) : len - i;
		text(b, s + i, plain);
		i += plain;
		if (!esc)
			break;
		int sgr;
		size_t n = sequence(s + i, len - i, &sgr);
		if (sgr) {
			close_spans(b, &g);
			apply_all(&g, s + i + 2, n - 3);
			open_spans(b, &g);
		}
		i += n;
	}
	close_spans(b, &g);
}
