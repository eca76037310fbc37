#include "util/json.h"

#include <inttypes.h>
#include <stdarg.h>

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
