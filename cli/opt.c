#define _GNU_SOURCE
#include "cli/opt.h"

#include "util/error.h"
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The help column: two spaces, the option in 18, one space. */
#define LEFT_WIDTH 18

/*
 * The spec word names, and where its value starts ("--num=5": "5"), or
 * NULL; *group is the index in groups of the array that has it.
 */
static const struct opt *find(const struct opt *const *groups, const char *word,
			      const char **inline_value, size_t *group)
{
	*inline_value = NULL;
	for (size_t g = 0; groups[g]; g++) {
		*group = g;
		for (const struct opt *o = groups[g]; o->kind != OPT_KIND_END; o++) {
			if (word[1] != '-') {
				if (!o->short_name || word[1] != o->short_name)
					continue;
				if (!word[2])
					return o;
				if (o->kind != OPT_KIND_FLAG) { /* -n1, as getopt takes it */
					*inline_value = word + 2;
					return o;
				}
				continue;
			}
			if (!o->long_name)
				continue;
			size_t n = strlen(o->long_name);
			if (strncmp(word + 2, o->long_name, n))
				continue;
			if (!word[2 + n])
				return o;
			if (word[2 + n] == '=' && o->kind != OPT_KIND_FLAG) {
				*inline_value = word + 3 + n;
				return o;
			}
		}
	}
	return NULL;
}

static int set_int(const struct opt *o, void *base, const char *word, size_t len,
		   const char *v)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (!*v || *end || errno || n < o->min || n > o->max) {
		if (o->invalid && o->long_name)
			return sw_error_set(SW_EINVALID, "invalid %s '%s': %s", o->long_name, v,
					    o->invalid);
		return sw_error_set(SW_EINVALID, "invalid number '%s' for %.*s", v, (int)len, word);
	}
	*(int *)((char *)base + o->offset) = (int)n;
	return 0;
}

/* Applies the option in argv[*i]; *i moves past a value given as the next word. */
static int take(const struct opt *o, void *base, int argc, char **argv, int *i,
		const char *inline_value)
{
	const char *word = argv[*i];
	/* the option as written: "--num" of "--num=5", "-n" of "-n5" */
	size_t len = !inline_value ? strlen(word)
		   : word[1] == '-' ? (size_t)(inline_value - 1 - word) : 2;
	const char *v = inline_value;

	if (o->kind == OPT_KIND_FLAG) {
		*(int *)((char *)base + o->offset) = 1;
		return 0;
	}
	if (!v) {
		if (*i + 1 >= argc)
			return sw_error_set(SW_EINVALID, "%.*s needs %s", (int)len, word,
					    o->needs ? o->needs : "a value");
		v = argv[++*i];
	}
	if (o->kind == OPT_KIND_INT)
		return set_int(o, base, word, len, v);
	*(const char **)((char *)base + o->offset) = v;
	return 0;
}

static int unknown(const char *word, const char *name)
{
	if (name)
		return sw_error_set(SW_EINVALID, "unknown option '%s' for %s", word, name);
	return sw_error_set(SW_EINVALID, "unknown option '%s'", word);
}

/* opt_parse_each() with bases, or opt_parse() with every value into base when bases is NULL. */
static int parse(const struct opt *const *groups, void *const *bases, void *base, int argc,
		 char **argv, const char *name, unsigned flags)
{
	int nargs = 0, only_args = 0;
	size_t g = 0;
	for (int i = 0; i < argc; i++) {
		const char *word = argv[i], *inline_value;
		if (flags & OPT_PARSE_LEADING) {
			if (word[0] != '-')
				return i;
			if ((flags & OPT_PARSE_DASHDASH) && !strcmp(word, "--"))
				return i + 1;
		} else if (only_args || word[0] != '-' || !word[1]) {
			argv[nargs++] = argv[i];
			continue;
		} else if (!strcmp(word, "--")) {
			only_args = 1;
			continue;
		}
		const struct opt *o = find(groups, word, &inline_value, &g);
		if (!o)
			return unknown(word, name);
		int err = take(o, bases ? bases[g] : base, argc, argv, &i, inline_value);
		if (err < 0)
			return err;
		if ((flags & OPT_PARSE_LEADING) && (o->flags & OPT_LAST))
			return i + 1;
	}
	return (flags & OPT_PARSE_LEADING) ? argc : nargs;
}

int opt_parse(const struct opt *const *groups, void *base, int argc, char **argv,
	      const char *name, unsigned flags)
{
	return parse(groups, NULL, base, argc, argv, name, flags);
}

int opt_parse_each(const struct opt *const *groups, void *const *bases, int argc, char **argv,
		   const char *name, unsigned flags)
{
	return parse(groups, bases, NULL, argc, argv, name, flags);
}

size_t opt_size(const struct opt *opts)
{
	while (opts && opts->kind != OPT_KIND_END)
		opts++;
	return opts ? opts->offset : 0;
}

/* 1 if a spec before o in groups stores into the same member (its other name). */
static int seen_offset(const struct opt *const *groups, const struct opt *o)
{
	for (size_t g = 0; groups[g]; g++)
		for (const struct opt *p = groups[g]; p->kind != OPT_KIND_END; p++) {
			if (p == o)
				return 0;
			if (p->offset == o->offset)
				return 1;
		}
	return 0;
}

void opt_unparse(const struct opt *const *groups, const void *base, struct strvec *out)
{
	for (size_t g = 0; groups[g]; g++) {
		for (const struct opt *o = groups[g]; o->kind != OPT_KIND_END; o++) {
			if (seen_offset(groups, o))
				continue;
			const char *at = (const char *)base + o->offset;
			const char *s = o->kind == OPT_KIND_STRING ? *(const char *const *)at : NULL;
			int n = o->kind == OPT_KIND_STRING ? 0 : *(const int *)at;
			if (!s && !n)
				continue;
			if (o->long_name)
				strvec_pushf(out, "--%s", o->long_name);
			else
				strvec_pushf(out, "-%c", o->short_name);
			if (s)
				strvec_push(out, s);
			else if (o->kind == OPT_KIND_INT)
				strvec_pushf(out, "%d", n);
		}
	}
}

void opt_print_item(FILE *f, const char *left, const char *text)
{
	int width = fprintf(f, "  %s", left) - 2;
	fprintf(f, "%*s", width <= LEFT_WIDTH ? LEFT_WIDTH - width + 1 : 2, "");
	for (const char *p = text;;) {
		size_t n = strcspn(p, "\n");
		fprintf(f, "%.*s\n", (int)n, p);
		p += n;
		if (!*p || !*++p)
			break;
		fprintf(f, "%*s", 2 + LEFT_WIDTH + 1, "");
	}
}

void opt_print_help(FILE *f, const struct opt *const *groups)
{
	char left[128];
	for (size_t g = 0; groups[g]; g++) {
		for (const struct opt *o = groups[g]; o->kind != OPT_KIND_END; o++) {
			if (o->flags & OPT_HIDDEN)
				continue;
			int n = 0;
			if (o->short_name)
				n += snprintf(left + n, sizeof(left) - (size_t)n, "-%c%s", o->short_name,
					      o->long_name ? ", " : "");
			if (o->long_name)
				n += snprintf(left + n, sizeof(left) - (size_t)n, "--%s", o->long_name);
			if (o->value_name)
				snprintf(left + n, sizeof(left) - (size_t)n, " %s", o->value_name);
			opt_print_item(f, left, o->help ? o->help : "");
		}
	}
}
