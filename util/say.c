#include "util/say.h"

#include <stdarg.h>
#include <string.h>

const char *say_prefix(enum say_kind kind)
{
	switch (kind) {
	case SAY_STEP: return "-----> ";
	case SAY_WARN: return " !     ";
	case SAY_ERROR: return " !    ";
	default: return "       ";
	}
}

static void vaddf(struct buf *b, enum say_kind kind, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void vaddf(struct buf *b, enum say_kind kind, const char *fmt, va_list ap)
{
	buf_adds(b, say_prefix(kind));
	buf_vaddf(b, fmt, ap);
}

void say(FILE *out, enum say_kind kind, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	vaddf(&b, kind, fmt, ap);
	va_end(ap);
	buf_add(&b, "\n", 1);
	fwrite(b.data, 1, b.len, out);
	fflush(out);
	buf_release(&b);
}

void say_line(FILE *out, enum say_kind kind, const char *line, size_t len)
{
	fputs(say_prefix(kind), out);
	fwrite(line, 1, len, out);
	fputc('\n', out);
	fflush(out);
}

void say_lines(FILE *out, enum say_kind kind, const char *text)
{
	while (*text) {
		size_t n = strcspn(text, "\n");
		if (n)
			say_line(out, kind, text, n);
		text += n;
		if (*text)
			text++;
	}
}

void say_addf(struct buf *b, enum say_kind kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vaddf(b, kind, fmt, ap);
	va_end(ap);
}

void say_to(run_line_fn on_line, void *ctx, enum say_kind kind, const char *fmt, ...)
{
	if (!on_line)
		return;
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	vaddf(&b, kind, fmt, ap);
	va_end(ap);
	on_line(b.data, b.len, ctx);
	buf_release(&b);
}
