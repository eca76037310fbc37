#define _GNU_SOURCE
#include "hooks/cli.h"

#include "hooks/receive.h"
#include "util/error.h"
#include "util/util.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The options before the command. */
struct top {
	const char *root;
	int help, version;
};

static const struct opt top_root_opts[] = {
	OPT_STRING(0, "root", struct top, root, "DIR", "a directory",
		   "where apps, slugs and caches live (default: $SLIPWAY_ROOT,\n"
		   "else ~/.local/share/slipway)"),
	OPT_END,
};

static const struct opt top_info_opts[] = {
	{ .kind = OPT_KIND_FLAG, .short_name = 'h', .long_name = "help",
	  .offset = OPT_INT_AT(struct top, help), .flags = OPT_LAST,
	  .help = "help for a command: slipway COMMAND --help" },
	{ .kind = OPT_KIND_FLAG, .short_name = 'v', .long_name = "version",
	  .offset = OPT_INT_AT(struct top, version), .flags = OPT_LAST,
	  .help = "print the version" },
	OPT_END,
};

static void print_help(void)
{
	static const struct opt *const shown[] = { top_root_opts, cli_app_opts, top_info_opts,
						   NULL };
	puts("Usage: slipway [--root DIR] COMMAND [ARGS] [-a APP]\n");
	puts("Heroku-style releases on your own server: git push builds a slug and records a\n"
	     "numbered release; every config change and rollback is a release too.\n");
	puts("Commands:");
	cli_print_commands();
	puts("\nOptions:");
	opt_print_help(stdout, shown);
}

static char *self_path(const char *argv0)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		return xstrdup(buf);
	}
	char *r = realpath(argv0, NULL);
	return r ? r : xstrdup(argv0);
}

static int finish(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "error: cannot write output: %s\n", strerror(errno));
		return 1;
	}
	return code;
}

/* git runs hooks in the repository with GIT_DIR set (often to "."). */
static const char *hook_git_dir(void)
{
	const char *d = getenv("GIT_DIR");
	return d && *d ? d : ".";
}

static int run_hook(void)
{
	int rc = receive_post(stdin, stdout, hook_git_dir());
	return finish(rc);
}

int main(int argc, char **argv)
{
	/* past a file size limit, writes fail with EFBIG and are reported, not fatal */
	signal(SIGXFSZ, SIG_IGN);
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	if (!strcmp(base, "post-receive"))
		return run_hook();
	if (!strcmp(base, "pre-receive"))
		return finish(receive_pre(stdin, stdout, hook_git_dir()));

	static const struct opt *const top_opts[] = { top_root_opts, top_info_opts, NULL };
	struct top top = { 0 };
	int first = opt_parse(top_opts, &top, argc - 1, argv + 1, NULL, OPT_PARSE_LEADING);
	if (first < 0)
		return cli_usage(NULL, "%s", sw_error_last());
	first++;
	if (top.version) {
		printf("slipway %s\n", SLIPWAY_VERSION);
		return finish(0);
	}
	if (top.help || first >= argc) {
		print_help();
		return finish(0);
	}
	const char *name = argv[first];
	if (!strcmp(name, "hook") && first + 1 < argc && !strcmp(argv[first + 1], "post-receive"))
		return run_hook();
	const struct cmd *cmd = cli_find(name);
	if (!cmd)
		return cli_usage(NULL, "'%s' is not a slipway command", name);
	struct cli c = { 0 };
	char *self = self_path(argv[0]);
	c.root = top.root;
	c.self = self;
	int rc = finish(cli_run(&c, cmd, argc - first - 1, argv + first + 1));
	free(self);
	return rc;
}
