/*
 * hooks/opt: options from a table of specs, anywhere on the line, and
 * their help.
 */
#define _GNU_SOURCE
#include "cli/opt.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

struct vals {
	const char *app, *root;
	int num, json, shell, help, version;
};

static const struct opt app_opts[] = {
	OPT_STRING('a', "app", struct vals, app, "APP", "an app name", "the app"),
	OPT_END,
};
static const struct opt cmd_opts[] = {
	OPT_INT('n', "num", struct vals, num, "N", 1, 1000, NULL, "how many to show"),
	OPT_INT(0, "index", struct vals, num, "N", 1, 1000, "use a position from 1", "where"),
	OPT_FLAG(0, "json", struct vals, json, "print JSON"),
	OPT_FLAG('s', "shell", struct vals, shell, "print KEY=value lines,\nshell-quoted"),
	OPT_END,
};
static const struct opt common_opts[] = {
	OPT_STRING(0, "root", struct vals, root, "DIR", "a directory", "where things live"),
	{ .kind = OPT_KIND_FLAG, .short_name = 'h', .long_name = "help",
	  .offset = OPT_INT_AT(struct vals, help), .flags = OPT_HIDDEN },
	OPT_END,
};
static const struct opt *const groups[] = { app_opts, cmd_opts, common_opts, NULL };

#define MAXW 16

/* Parses the NULL-terminated words into v; the arguments left are in args. */
static int parse(struct vals *v, char **args, unsigned flags, const char *const *words)
{
	int n = 0;
	while (words[n])
		n++;
	cr_assert_lt(n, MAXW);
	memset(v, 0, sizeof(*v));
	for (int i = 0; i <= n; i++)
		args[i] = (char *)words[i];
	return opt_parse(groups, v, n, args, "releases", flags);
}

#define W(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void refused(const char *msg, const char *const *words)
{
	struct vals v;
	char *args[MAXW];
	cr_assert_eq(parse(&v, args, 0, words), SW_EINVALID, "%s: not refused", msg);
	cr_assert_str_eq(sw_error_last(), msg);
}

Test(opt, options_anywhere_arguments_in_order)
{
	struct vals v;
	char *args[MAXW];
	int n = parse(&v, args, 0, W("v3", "-a", "myapp", "--json", "x", "--num=7", "-", "-s"));
	cr_assert_eq(n, 3, "%s", sw_error_last());
	cr_assert_str_eq(args[0], "v3");
	cr_assert_str_eq(args[1], "x");
	cr_assert_str_eq(args[2], "-");
	cr_assert_str_eq(v.app, "myapp");
	cr_assert_eq(v.num, 7);
	cr_assert(v.json && v.shell && !v.help);

	n = parse(&v, args, 0, W("--app=", "--num", "12", "--root", "-h", "--", "-n", "--json"));
	cr_assert_eq(n, 2, "%s", sw_error_last());
	cr_assert_str_eq(v.app, "");
	cr_assert_eq(v.num, 12);
	cr_assert_str_eq(v.root, "-h", "a value is the next word, whatever it is");
	cr_assert(!v.help && !v.json);
	cr_assert_str_eq(args[0], "-n");
	cr_assert_str_eq(args[1], "--json");

	cr_assert_eq(parse(&v, args, 0, W("a", "--help", "b")), 2);
	cr_assert(v.help);
	cr_assert_eq(parse(&v, args, 0, W("--index", "1000")), 0);
	cr_assert_eq(v.num, 1000);

	/* a short option's value may be attached, as getopt takes it */
	cr_assert_eq(parse(&v, args, 0, W("-n1", "-amyapp", "v2")), 1, "%s", sw_error_last());
	cr_assert_eq(v.num, 1);
	cr_assert_str_eq(v.app, "myapp");
	cr_assert_str_eq(args[0], "v2");
	cr_assert_eq(parse(&v, args, 0, W("-a-x")), 0, "%s", sw_error_last());
	cr_assert_str_eq(v.app, "-x");
}

Test(opt, refusals_name_the_option)
{
	refused("unknown option '--nope' for releases", W("x", "--nope"));
	refused("unknown option '-sx' for releases", W("-sx"));
	refused("unknown option '-hs' for releases", W("-hs"));
	refused("invalid number 'x' for -n", W("-nx"));
	refused("invalid number '0' for -n", W("-n0"));
	refused("unknown option '--json=1' for releases", W("--json=1"));
	refused("unknown option '--help=1' for releases", W("--help=1"));
	refused("unknown option '-1' for releases", W("-1"));
	refused("unknown option '--ap' for releases", W("--ap", "x"));
	refused("-a needs an app name", W("-a"));
	refused("--app needs an app name", W("x", "--app"));
	refused("--root needs a directory", W("--root"));
	refused("-n needs a number", W("-n"));
	refused("invalid number 'x' for -n", W("-n", "x"));
	refused("invalid number '0' for --num", W("--num=0"));
	refused("invalid number '' for --num", W("--num="));
	refused("invalid number '1001' for -n", W("-n", "1001"));
	refused("invalid number '5x' for -n", W("-n", "5x"));
	refused("invalid number '99999999999999999999' for -n", W("-n", "99999999999999999999"));
	refused("invalid index '0': use a position from 1", W("--index", "0"));
	refused("invalid index 'x': use a position from 1", W("--index=x"));
	refused("--index needs a number", W("--index"));
}

Test(opt, leading_options_stop_at_the_first_argument)
{
	static const struct opt info[] = {
		{ .kind = OPT_KIND_FLAG, .short_name = 'h', .long_name = "help",
		  .offset = OPT_INT_AT(struct vals, help), .flags = OPT_LAST },
		{ .kind = OPT_KIND_FLAG, .short_name = 'v', .long_name = "version",
		  .offset = OPT_INT_AT(struct vals, version), .flags = OPT_LAST },
		OPT_END,
	};
	static const struct opt *const top[] = { common_opts + 0, info, NULL };
	struct vals v = { 0 };
	char *w1[] = { "--root", "/r", "releases", "-a", "x", NULL };
	cr_assert_eq(opt_parse(top, &v, 5, w1, NULL, OPT_PARSE_LEADING), 2);
	cr_assert_str_eq(v.root, "/r");
	cr_assert_str_eq(w1[2], "releases");

	char *w2[] = { "--version", "--nope", NULL };
	cr_assert_eq(opt_parse(top, &v, 2, w2, NULL, OPT_PARSE_LEADING), 1);
	cr_assert(v.version);

	char *w3[] = { "--root=/s", NULL };
	cr_assert_eq(opt_parse(top, &v, 1, w3, NULL, OPT_PARSE_LEADING), 1);
	cr_assert_str_eq(v.root, "/s");

	static const char *const bad[][2] = { { "--", "unknown option '--'" },
					      { "-", "unknown option '-'" },
					      { "-a", "unknown option '-a'" },
					      { "--root", "--root needs a directory" } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *w[] = { (char *)bad[i][0], "apps", NULL };
		int argc = strcmp(bad[i][0], "--root") ? 2 : 1;
		cr_assert_eq(opt_parse(top, &v, argc, w, NULL, OPT_PARSE_LEADING), SW_EINVALID,
			     "%s", bad[i][0]);
		cr_assert_str_eq(sw_error_last(), bad[i][1]);
	}
}

Test(opt, leading_options_may_end_with_a_double_dash)
{
	static const struct opt *const lead[] = { app_opts, common_opts, NULL };
	struct vals v = { 0 };
	char *w1[] = { "-a", "x", "--", "-a", "y", NULL };
	cr_assert_eq(opt_parse(lead, &v, 5, w1, "run", OPT_PARSE_LEADING | OPT_PARSE_DASHDASH), 3);
	cr_assert_str_eq(v.app, "x");
	cr_assert_str_eq(w1[3], "-a");

	/* later words are not options, a "--" among them included */
	char *w2[] = { "-a", "z", "ls", "--", "-la", NULL };
	cr_assert_eq(opt_parse(lead, &v, 5, w2, "run", OPT_PARSE_LEADING | OPT_PARSE_DASHDASH), 2);
	cr_assert_str_eq(v.app, "z");
	cr_assert_str_eq(w2[2], "ls");
	cr_assert_str_eq(w2[3], "--");

	char *w3[] = { "--", NULL };
	cr_assert_eq(opt_parse(lead, &v, 1, w3, "run", OPT_PARSE_LEADING | OPT_PARSE_DASHDASH), 1);

	/* without the flag "--" stays an unknown option */
	cr_assert_eq(opt_parse(lead, &v, 1, w3, "run", OPT_PARSE_LEADING), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "unknown option '--' for run");
}

Test(opt, help_lines_in_order)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	static const struct opt long_one[] = {
		OPT_FLAG(0, "reject-failed-builds", struct vals, json, "build first: a failed\n"
									"build rejects the push"),
		OPT_FLAG('x', NULL, struct vals, json, "short only"),
		OPT_END,
	};
	static const struct opt *const all[] = { app_opts, cmd_opts, long_one, common_opts, NULL };
	opt_print_help(f, all);
	fclose(f);
	cr_assert_str_eq(out, "  -a, --app APP      the app\n"
			      "  -n, --num N        how many to show\n"
			      "  --index N          where\n"
			      "  --json             print JSON\n"
			      "  -s, --shell        print KEY=value lines,\n"
			      "                     shell-quoted\n"
			      "  --reject-failed-builds  build first: a failed\n"
			      "                     build rejects the push\n"
			      "  -x                 short only\n"
			      "  --root DIR         where things live\n");
	free(out);
}

Test(opt, unparse_writes_words_that_parse_back_the_same)
{
	struct vals v = { .app = "my app", .root = "/srv", .num = 7, .shell = 1 };
	struct strvec w = STRVEC_INIT;
	opt_unparse(groups, &v, &w);
	cr_assert_eq(w.n, 7);
	static const char *const want[] = { "--app", "my app", "--num", "7", "--shell", "--root",
					    "/srv" };
	for (size_t i = 0; i < w.n; i++)
		cr_assert_str_eq(w.v[i], want[i], "word %zu", i);

	struct vals back;
	char *args[MAXW];
	cr_assert_eq(parse(&back, args, 0, (const char *const *)w.v), 0, "%s", sw_error_last());
	cr_assert_str_eq(back.app, "my app");
	cr_assert_str_eq(back.root, "/srv");
	cr_assert_eq(back.num, 7);
	cr_assert_eq(back.shell, 1);
	cr_assert_eq(back.json, 0);
	strvec_clear(&w);

	/* nothing given: no words */
	struct vals none = { 0 };
	opt_unparse(groups, &none, &w);
	cr_assert_eq(w.n, 0);
	strvec_clear(&w);
}

/* A command's own options, stored apart from the shared ones. */
struct own {
	int keep;
	const char *to;
};

static const struct opt own_opts[] = {
	OPT_INT(0, "keep", struct own, keep, "N", 1, 1000, NULL, "how many to keep"),
	OPT_STRING(0, "to", struct own, to, "APP", "an app name", "the app"),
	OPT_END_OF(struct own),
};

Test(opt, each_group_stores_into_its_own_struct)
{
	static const struct opt *const each[] = { app_opts, own_opts, common_opts, NULL };
	struct vals v = { 0 };
	struct own o = { 0 };
	void *const bases[] = { &v, &o, &v };
	char *args[] = { "v2", "--keep", "3", "-a", "x", "--to=prod", "--root", "/srv", NULL };
	int n = opt_parse_each(each, bases, 8, args, "gc", 0);
	cr_assert_eq(n, 1, "%s", sw_error_last());
	cr_assert_str_eq(args[0], "v2");
	cr_assert_str_eq(v.app, "x");
	cr_assert_str_eq(v.root, "/srv");
	cr_assert_eq(o.keep, 3);
	cr_assert_str_eq(o.to, "prod");
	cr_assert_eq(v.num, 0, "--keep went into the shared struct");

	char *bad[] = { "--keep", "0", NULL };
	cr_assert_eq(opt_parse_each(each, bases, 2, bad, "gc", 0), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "invalid number '0' for --keep");

	cr_assert_eq(opt_size(own_opts), sizeof(struct own));
	cr_assert_eq(opt_size(app_opts), 0, "OPT_END says no size");
	cr_assert_eq(opt_size(NULL), 0);
}
