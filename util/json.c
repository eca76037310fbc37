#include "util/json.h"

#include "util/error.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* What comes before a value: the comma after a sibling, then "key": in an object. */
static void member(struct json *j, const char *key)
{
	if (j->depth) {
		/* past JSON_MAX_DEPTH the levels share the last slot: no overrun */
		int at = j->depth < JSON_MAX_DEPTH ? j->depth : JSON_MAX_DEPTH;
		unsigned char *open = &j->open[at - 1];
		if (*open & JSON_MEMBER)
			buf_adds(j->out, *open & JSON_LINED ? ",\n " : ",");
		*open |= JSON_MEMBER;
	}
	if (key) {
		buf_add_json_string(j->out, key);
		buf_add(j->out, ":", 1);
	}
}

static void begin(struct json *j, const char *key, const char *bracket, unsigned char flags)
{
	member(j, key);
	buf_adds(j->out, bracket);
	if (j->depth < JSON_MAX_DEPTH)
		j->open[j->depth] = flags;
	j->depth++;
}

static void end(struct json *j, const char *bracket)
{
	buf_adds(j->out, bracket);
	if (j->depth)
		j->depth--;
}

void json_object_begin(struct json *j, const char *key)
{
	begin(j, key, "{", 0);
}

void json_object_end(struct json *j)
{
	end(j, "}");
}

void json_array_begin(struct json *j, const char *key)
{
	begin(j, key, "[", 0);
}

void json_array_begin_lined(struct json *j, const char *key)
{
	begin(j, key, "[", JSON_LINED);
}

void json_array_end(struct json *j)
{
	end(j, "]");
}

void json_string(struct json *j, const char *key, const char *s)
{
	member(j, key);
	if (s)
		buf_add_json_string(j->out, s);
	else
		buf_adds(j->out, "null");
}

void json_stringf(struct json *j, const char *key, const char *fmt, ...)
{
	struct buf s = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&s, fmt, ap);
	va_end(ap);
	json_string(j, key, s.data);
	buf_release(&s);
}

void json_int(struct json *j, const char *key, int64_t n)
{
	member(j, key);
	buf_addf(j->out, "%" PRId64, n);
}

void json_uint(struct json *j, const char *key, uint64_t n)
{
	member(j, key);
	buf_addf(j->out, "%" PRIu64, n);
}

void json_bool(struct json *j, const char *key, int b)
{
	member(j, key);
	buf_adds(j->out, b ? "true" : "false");
}

void json_null(struct json *j, const char *key)
{
	member(j, key);
	buf_adds(j->out, "null");
}

/* ---- reading a flat object ---- */

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Appends code point c as UTF-8. */
static void add_utf8(struct buf *b, unsigned c)
{
	char u[4];
	size_t n;
	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | c >> 6);
		u[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else {
		u[0] = (char)(0xe0 | c >> 12);
		u[1] = (char)(0x80 | (c >> 6 & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	}
	buf_add(b, u, n);
}

/* A string at p (its opening quote), unescaped into b; where it ends, or NULL. */
static const char *read_string(const char *p, struct buf *b)
{
	for (p++; *p && *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p != '\\') {
			buf_add(b, p, 1);
			continue;
		}
		p++;
		const char *esc = strchr("\"\\/bfnrt", *p);
		if (*p && esc) {
			buf_add(b, &"\"\\/\b\f\n\r\t"[esc - "\"\\/bfnrt"], 1);
		} else if (*p == 'u') {
			unsigned c = 0;
			for (int i = 1; i <= 4; i++) {
				char h = p[i];
				if (!isxdigit((unsigned char)h))
					return NULL;
				c = c * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0' : (h | 0x20) - 'a' + 10);
			}
			add_utf8(b, c);
			p += 4;
		} else {
			return NULL;
		}
	}
	return *p == '"' ? p + 1 : NULL;
}

/* A scalar other than a string at p: where it ends, or NULL. */
static const char *read_scalar(const char *p)
{
	size_t n = strspn(p, "-+.eE0123456789");
	if (n)
		return p + n;
	static const char *const words[] = { "true", "false", "null", NULL };
	for (size_t i = 0; words[i]; i++)
		if (!strncmp(p, words[i], strlen(words[i])))
			return p + strlen(words[i]);
	return NULL;
}

int json_flat_each(const char *text, int (*fn)(const char *key, const char *value, void *ctx),
		   void *ctx)
{
	struct buf name = BUF_INIT, value = BUF_INIT;
	const char *p = skip_ws(text);
	int err = 0;
	if (*p++ != '{')
		goto bad;
	p = skip_ws(p);
	while (*p != '}') {
		buf_reset(&name);
		buf_reset(&value);
		buf_adds(&name, "");
		if (*p != '"' || !(p = read_string(p, &name)))
			goto bad;
		p = skip_ws(p);
		if (*p++ != ':')
			goto bad;
		p = skip_ws(p);
		const char *start = p;
		buf_adds(&value, "");
		if (*p == '"')
			p = read_string(p, &value);
		else if ((p = read_scalar(p)) != NULL)
			buf_add(&value, start, (size_t)(p - start));
		if (!p)
			goto bad;
		p = skip_ws(p);
		if (*p == ',')
			p = skip_ws(p + 1);
		else if (*p != '}')
			goto bad;
		/* a member is handed on only once the text around it is known to be well formed */
		if ((err = fn(name.data, value.data, ctx)) != 0)
			goto done;
	}
	if (*skip_ws(p + 1))
		goto bad;
	goto done;
bad:
	err = sw_error_set(SW_EINVALID, "not a flat JSON object");
done:
	buf_release(&name);
	buf_release(&value);
	return err;
}

struct flat_find {
	const char *key;
	char *value;
};

static int flat_find(const char *key, const char *value, void *ctx)
{
	struct flat_find *f = ctx;
	if (!f->value && !strcmp(key, f->key))
		f->value = xstrdup(value);
	return 0;
}

int json_flat_get(const char *text, const char *key, char **out)
{
	struct flat_find f = { key, NULL };
	int err = json_flat_each(text, flat_find, &f);
	if (!err && !f.value)
		err = sw_error_set(SW_ENOTFOUND, "no \"%s\" in the document", key);
	if (err) {
		free(f.value);
		f.value = NULL;
	}
	*out = f.value;
	return err;
}
