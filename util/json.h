/*
 * json.h - writes JSON documents into a buf: the one place a JSON text is
 * put together (every --json goes through it).
 *
 * Part of util/: includes nothing outside util/; prints nothing.
 *
 * The writer keeps track of where it is (which object or array is open and
 * whether it has a member yet), so callers never write a comma, a colon,
 * a quote or an escape themselves.  Every value takes a key: the member's
 * name inside an object, NULL inside an array and for the document itself.
 * The text is compact (no spaces), as every command prints it:
 *
 *     struct buf out = BUF_INIT;
 *     struct json j = JSON_INIT(&out);
 *     json_object_begin(&j, NULL);
 *     json_int(&j, "version", 7);
 *     json_string(&j, "commit", NULL);          // "commit":null
 *     json_object_end(&j);                      // {"version":7,"commit":null}
 *
 * Strings are escaped as buf_add_json_string() (util/util.h) does: quotes,
 * backslashes and control bytes escaped, well-formed UTF-8 kept, each other
 * byte \ufffd, so the output is valid JSON whatever it is given.  Objects
 * and arrays nest at most JSON_MAX_DEPTH deep (deeper, the writer stays in
 * its memory but may put a comma wrong).
 */
#ifndef SW_JSON_H
#define SW_JSON_H

#include <stdint.h>

#include "util/util.h"

#define JSON_MAX_DEPTH 32

struct json {
	struct buf *out; /* not owned: the text is appended to it */
	int depth;       /* how many objects and arrays are open */
	unsigned char open[JSON_MAX_DEPTH]; /* per open level: JSON_MEMBER, JSON_LINED */
};
#define JSON_INIT(buf) { .out = (buf) }
#define JSON_MEMBER 1 /* the level has a member: the next one needs a comma */
#define JSON_LINED 2  /* an array of one element a line (json_array_begin_lined) */

void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
/* An array whose elements after the first start a line with one space (",\n "). */
void json_array_begin_lined(struct json *j, const char *key);
void json_array_end(struct json *j);

/* A string; NULL writes null. */
void json_string(struct json *j, const char *key, const char *s);
/* A string from a printf format. */
void json_stringf(struct json *j, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void json_int(struct json *j, const char *key, int64_t n);
void json_uint(struct json *j, const char *key, uint64_t n);
void json_bool(struct json *j, const char *key, int b);
void json_null(struct json *j, const char *key);

/*
 * Reading a flat document: the value of key in text, one JSON object whose
 * members are strings, numbers, true, false or null (what one peer of
 * Slipway answers another, release/agent.h), into *out (malloc'ed): a
 * string unescaped (\uXXXX as UTF-8), any other value as written.
 * SW_ENOTFOUND when the object has no such member; SW_EINVALID when text
 * is not such an object (nested objects and arrays included).
 */
int json_flat_get(const char *text, const char *key, char **out);

/*
 * Calls fn with each member of the flat document text in turn, its value
 * as json_flat_get() gives it ("" for an empty string); a non-zero return
 * from fn stops and is returned.  SW_EINVALID when text is not such an
 * object: a member is handed on once what follows it reads well, so a
 * malformed text may still have had its first members handed on.
 */
int json_flat_each(const char *text, int (*fn)(const char *key, const char *value, void *ctx),
		   void *ctx);

#endif
