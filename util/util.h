/*
 * util.h - memory, strings and a growable byte buffer.
 *
 * Part of util/: includes nothing outside util/; prints nothing.
 *
 * Allocation failures are not recoverable here: the x* functions abort on
 * out-of-memory (like git's xmalloc), so callers never check for NULL.
 *
 *     struct buf b = BUF_INIT;
 *     buf_addf(&b, "v%d", 7);
 *     use(b.data, b.len);       // never NULL, always NUL-terminated
 *     buf_release(&b);
 */
#ifndef SW_UTIL_H
#define SW_UTIL_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * From BUF_INIT on, data is never NULL and always NUL-terminated, so it can
 * be passed on as a string without checking.  Until the first add, and again
 * after buf_release() and buf_detach(), it points at buf_empty_string, a
 * shared read-only "" with cap 0: nothing may write into it or free it.  So
 * write into data only when cap > 0, free it only with buf_release(), and
 * take it over only with buf_detach().  A zeroed buf works with every
 * function here too, but its data is NULL until the first add.
 */
struct buf {
	char *data; /* never NULL after BUF_INIT; malloc'ed only when cap > 0 */
	size_t len;
	size_t cap;
};
extern const char buf_empty_string[1];
#define BUF_INIT { .data = (char *)buf_empty_string }

void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void buf_reset(struct buf *b);             /* len = 0, keeps memory */
void buf_truncate(struct buf *b, size_t len); /* len = min(len, b->len), keeps memory */
char *buf_detach(struct buf *b);           /* returns data, always malloc'ed (a fresh ""
                                              if b had no memory); b is as after BUF_INIT */
void buf_release(struct buf *b);           /* frees data; b is as after BUF_INIT */

/*
 * Appends s as a JSON string literal (with quotes).  Well-formed UTF-8 passes
 * through; each byte that is not part of one (a name or value that is not
 * UTF-8) becomes \ufffd, so the output is always valid JSON.  It is the
 * escaper of util/json.h, which every JSON document is written with.
 */
void buf_add_json_string(struct buf *b, const char *s);

/*
 * Appends the n bytes at s as a terminal may show them: control characters
 * (C0 but tab, DEL, and C1 - U+0080 to U+009F) and bytes that are not
 * UTF-8 become \xHH, so text from elsewhere (an app's output, a run host's
 * answer) cannot move the cursor, erase a prefix or retitle the terminal.
 * Other UTF-8 passes unchanged.
 */
void buf_add_shown(struct buf *b, const char *s, size_t n);

/* Appends s quoted for a POSIX shell ('...' with '\'' for quotes). */
void buf_add_shell_quoted(struct buf *b, const char *s);

/* A NULL-terminated, malloc'ed vector of malloc'ed strings. */
struct strvec {
	char **v;
	size_t n;
	size_t cap;
};
#define STRVEC_INIT { 0 }
void strvec_push(struct strvec *sv, const char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strvec_clear(struct strvec *sv);

/* Sorts the strings in byte order. */
void strvec_sort(struct strvec *sv);

/*
 * Drops each string that came before in sv, so each is there once, where it
 * first was; the others keep their order.  n log n: sv may be long.
 */
void strvec_uniq(struct strvec *sv);

/* 1 if s is one of sv's strings (any order; a look at each), else 0. */
int strvec_has(const struct strvec *sv, const char *s);

/* 1 if s is in sv, which must be sorted (strvec_sort). */
int strvec_has_sorted(const struct strvec *sv, const char *s);

/*
 * The meaningful lines of a small text format (.buildpacks, .slugignore):
 * each line trimmed of blanks (and a CR before LF); blank lines and lines
 * starting with '#' are skipped.
 *
 *     struct text_lines it = TEXT_LINES_INIT(text, len);
 *     const char *s; size_t n;
 *     while (text_lines_next(&it, &s, &n)) ... it.lineno is s's line number
 */
struct text_lines {
	const char *p, *end;
	int lineno;
};
#define TEXT_LINES_INIT(text, len) { .p = (text), .end = (text) + (len) }
int text_lines_next(struct text_lines *it, const char **s, size_t *n);

#endif
