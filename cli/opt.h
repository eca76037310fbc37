/*
 * opt.h - command line options from a table of option specs.
 *
 * Part of cli/: may use every folder; with hooks/ the only one that prints on
 * its own.
 *
 * Options are declared in an array ended by OPT_END (or OPT_END_OF).  Each
 * spec names the option (-n and/or --num), its kind, where its value goes
 * (an offset into the caller's struct, type-checked when the array is
 * compiled) and its help line:
 *
 *     struct args { int num, json; const char *app; };
 *     static const struct opt opts[] = {
 *             OPT_STRING('a', "app", struct args, app, "APP", "an app name",
 *                        "the app"),
 *             OPT_INT('n', "num", struct args, num, "N", 1, 1000000, NULL,
 *                     "how many to show"),
 *             OPT_FLAG(0, "json", struct args, json, "print JSON"),
 *             OPT_END,
 *     };
 *     const struct opt *const groups[] = { opts, NULL };
 *     struct args a = { 15, 0, NULL };
 *     int n = opt_parse(groups, &a, argc, argv, "releases", 0);
 *     if (n < 0)
 *             usage_error(sw_error_last());
 *     ... argv[0] .. argv[n - 1] are the arguments that are not options ...
 *
 * opt_parse() takes the options of several arrays at once (groups), so a
 * front-end can add the options every command shares to each command's own.
 * opt_parse_each() does the same with each array's values going into a
 * struct of its own: the shared options into the front-end's, a command's
 * own options into the command's.  An array whose struct a caller
 * allocates ends with OPT_END_OF(type) instead of OPT_END, so that
 * opt_size() can say how big that struct is:
 *
 *     struct logs_args { int num; };
 *     const struct opt logs_opts[] = {
 *             OPT_INT('n', "num", struct logs_args, num, ...),
 *             OPT_END_OF(struct logs_args),
 *     };
 *     void *own = xcalloc(1, opt_size(logs_opts));
 *     const struct opt *const groups[] = { shared_opts, logs_opts, NULL };
 *     void *const bases[] = { &shared, own };
 *     int n = opt_parse_each(groups, bases, argc, argv, "logs", 0);
 *
 * The words of the line:
 *   -n VALUE, -nVALUE, --num VALUE, --num=VALUE
 *                 an option with a value: the value is the next word
 *                 whatever it looks like, or what follows -n or '='
 *   -s, --shell   a flag (--shell=x is an unknown option)
 *   --            every later word is an argument
 *   -             an argument (stdin, by convention)
 *   anything else starting with '-' is an unknown option; flags do not
 *   bundle (-st is unknown, not -s -t).
 * Options may come anywhere, before, between and after the arguments.
 *
 * Refusals are SW_EINVALID with one of these messages (OPTION as the user
 * wrote it, without any "=VALUE"):
 *   unknown option '--x' for NAME         (just "unknown option '--x'" when
 *                                          opt_parse() was given no NAME)
 *   OPTION needs NEEDS                    "-a needs an app name"
 *   invalid number 'x' for OPTION         an OPT_INT value that is not a
 *                                          decimal number from min to max
 *   invalid LONG 'x': INVALID             the same, for a spec that says
 *                                          what to give instead:
 *                                          "invalid index '0': use a position
 *                                          from 1"
 */
#ifndef SW_OPT_H
#define SW_OPT_H

#include <stddef.h>
#include <stdio.h>

struct strvec;

enum opt_kind {
	OPT_KIND_END = 0,
	OPT_KIND_FLAG,    /* sets an int to 1 */
	OPT_KIND_STRING,  /* sets a const char * to the value (a word of argv) */
	OPT_KIND_INT,     /* sets an int to the value, a number from min to max */
};

/* spec flags */
#define OPT_HIDDEN 1u     /* accepted, but not listed by opt_print_help() */
#define OPT_LAST 2u       /* OPT_PARSE_LEADING: parsing stops right after it */

struct opt {
	enum opt_kind kind;
	char short_name;         /* 'n' for -n; 0: none */
	const char *long_name;   /* "num" for --num; NULL: none */
	size_t offset;           /* where the value goes, in the struct given to opt_parse() */
	const char *value_name;  /* the value in help: "N", "APP"; NULL for flags */
	const char *needs;       /* the missing value in "-a needs an app name"; OPT_INT: "a number" */
	int min, max;            /* OPT_INT: the numbers accepted */
	const char *invalid;     /* OPT_INT: what to give instead of a bad number, or NULL */
	const char *help;        /* the help text; each '\n' starts an indented line */
	unsigned flags;          /* OPT_HIDDEN, OPT_LAST */
};

/* The offset of member in type, which must be an int (a compile error otherwise). */
#define OPT_INT_AT(type, member) _Generic(((type *)0)->member, int: offsetof(type, member))
/* The offset of member in type, which must be a const char *. */
#define OPT_STR_AT(type, member) \
	_Generic(((type *)0)->member, const char *: offsetof(type, member))

#define OPT_FLAG(s, l, type, member, help_)                                                \
	{ .kind = OPT_KIND_FLAG, .short_name = (s), .long_name = (l),                       \
	  .offset = OPT_INT_AT(type, member), .help = (help_) }
#define OPT_STRING(s, l, type, member, value, needs_, help_)                               \
	{ .kind = OPT_KIND_STRING, .short_name = (s), .long_name = (l),                     \
	  .offset = OPT_STR_AT(type, member), .value_name = (value), .needs = (needs_),     \
	  .help = (help_) }
#define OPT_INT(s, l, type, member, value, min_, max_, invalid_, help_)                    \
	{ .kind = OPT_KIND_INT, .short_name = (s), .long_name = (l),                        \
	  .offset = OPT_INT_AT(type, member), .value_name = (value), .needs = "a number",   \
	  .min = (min_), .max = (max_), .invalid = (invalid_), .help = (help_) }
#define OPT_END { .kind = OPT_KIND_END }
/* Ends an array whose options store into a struct of type (opt_size()). */
#define OPT_END_OF(type) { .kind = OPT_KIND_END, .offset = sizeof(type) }

/* opt_parse() flags */
#define OPT_PARSE_LEADING 1u  /* only the options before the first argument */
#define OPT_PARSE_DASHDASH 2u /* with OPT_PARSE_LEADING: "--" ends the options */

/*
 * Parses argv[0] .. argv[argc - 1] (the words after the command's name)
 * against the options of every array in groups (NULL-terminated), storing
 * values into base.  Values are pointers into argv, not copies.
 *
 * Returns the number of arguments that are not options, moved in their
 * order to argv[0] .. argv[n - 1]; or SW_EINVALID with a message.
 *
 * With OPT_PARSE_LEADING, parsing stops at the first word that does not
 * start with '-' (where "-" and "--" are unknown options), or right after
 * an OPT_LAST option, and nothing is moved: the return value is the index
 * of the first word not parsed.  With OPT_PARSE_DASHDASH too, a "--"
 * stops it as well, and is skipped: the first word after it is the first
 * not parsed.
 */
int opt_parse(const struct opt *const *groups, void *base, int argc, char **argv,
	      const char *name, unsigned flags);

/* opt_parse(), storing the values of groups[i]'s options into bases[i]. */
int opt_parse_each(const struct opt *const *groups, void *const *bases, int argc, char **argv,
		   const char *name, unsigned flags);

/*
 * The size of the struct opts store into, as its OPT_END_OF() says; 0 for
 * an array ended by OPT_END, or NULL.
 */
size_t opt_size(const struct opt *opts);

/*
 * Writes the help of every option of groups that is not OPT_HIDDEN, one
 * per line in their order, as
 *     "  -n, --num N        how many releases to show (default 15)"
 * (the help starts in column 22; after an option too long for that, two
 * spaces in).
 */
void opt_print_help(FILE *f, const struct opt *const *groups);

/*
 * The options of groups that are set in base, appended to out as words
 * opt_parse() reads back to the same values: "--num", "5", "--json" (the
 * long name when there is one; once per member, by the first spec that
 * stores into it).  A flag at 0, a string at NULL and a number at 0 count
 * as not given and are left out.
 */
void opt_unparse(const struct opt *const *groups, const void *base, struct strvec *out);

/* Writes one line of a two-column list like opt_print_help()'s: left, then text. */
void opt_print_item(FILE *f, const char *left, const char *text);

#endif
