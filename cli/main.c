#define _GNU_SOURCE
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/common.h"

#include "hooks/receive.h"
#include "runtime/acme.h"
#include "util/caps.h"
#include "util/error.h"
#include "util/say.h"
#include "util/util.h"

#include "store/settings.h"

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
	puts("Usage: slipway [--root DIR] COMMAND [ARGS] [-a APP] [-r REMOTE]\n");
	puts("Heroku-style releases on your own server: git push builds a slug and records a\n"
	     "numbered release; every config change and rollback is a release too.\n");
	puts("Commands:");
	cli_print_commands(0);
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

/*
 * A writer (a hook, a CMD_RELEASES command) finishes what it started when
 * its client goes away: a closed pipe or a hung-up terminal must not kill
 * it between recording a release and finishing it, or while its release
 * command runs under the app lock.  Writes to the gone client fail with
 * EPIPE instead, and are not checked.  Children get SIGPIPE back at its
 * default (util/run.h).
 */
static void keep_working_without_client(void)
{
	int timeout = 60;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	/* a client that stops reading without closing is gone too (hooks/client.h) */
	if (settings_client_timeout(&timeout) < 0)
		timeout = 60; /* a malformed setting must not cost the release */
	client_guard(&stdout, STDOUT_FILENO, timeout);
	client_guard(&stderr, STDERR_FILENO, timeout);
}

/*
 * The exit status once the output is flushed.  When it cannot be written,
 * a reader that succeeded fails with a message.  A writer keeps the status
 * of its work (the release was recorded or not, whatever became of its
 * output) and names the error only when it is not its reader going away.
 */
static int finish(int code, int writer)
{
	int err = fflush(stdout) ? errno : 0;
	int bad = err || ferror(stdout);
	client_release(); /* stdout and stderr are the process's own again */
	if (!bad)
		return code;
	if (writer) {
		if (err && err != EPIPE)
			fprintf(stderr, "error: cannot write output: %s\n", strerror(err));
		return code;
	}
	if (err)
		fprintf(stderr, "error: cannot write output: %s\n", strerror(err));
	else
		fputs("error: cannot write output\n", stderr);
	return code ? code : 1;
}

/* git runs hooks in the repository with GIT_DIR set (often to "."). */
static const char *hook_git_dir(void)
{
	const char *d = getenv("GIT_DIR");
	return d && *d ? d : ".";
}

/*
 * git gives a hook's stdout and stderr to the client's sideband; its exit
 * status is the hook's verdict (pre-receive: whether the push is accepted),
 * never whether the client was still there to read.
 */
static int run_hook(int pre)
{
	keep_working_without_client();
	const char *dir = hook_git_dir();
	return finish(pre ? receive_pre(stdin, stdout, dir) : receive_post(stdin, stdout, dir), 1);
}

int main(int argc, char **argv)
{
	/* no program started inherits the server user's capabilities (util/caps.h) */
	if (caps_drop_inherited() < 0)
		say(stderr, SAY_WARN, "cannot clear the capabilities programs inherit (%s): "
		    "bubblewrap may refuse to start", strerror(errno));
	/* past a file size limit, writes fail with EFBIG and are reported, not fatal */
	signal(SIGXFSZ, SIG_IGN);
	/* a debugging aid: each git config snapshot read says so (store/settings.h) */
	const char *trace = getenv("SLIPWAY_TRACE_SETTINGS");
	if (trace && *trace && strcmp(trace, "0"))
		settings_trace(stderr);
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	if (!strcmp(base, "post-receive"))
		return run_hook(0);
	if (!strcmp(base, "pre-receive"))
		return run_hook(1);

	/* uacme's hook (runtime/acme.h): certs:auto:hook with its five words */
	static char *hook_argv[16];
	if (!strcmp(base, ACME_HOOK_NAME)) {
		if (argc + 3 > (int)(sizeof(hook_argv) / sizeof(*hook_argv)))
			return cli_usage(NULL, "%s: too many arguments", base);
		hook_argv[0] = argv[0];
		hook_argv[1] = "certs:auto:hook";
		hook_argv[2] = "--";
		for (int i = 1; i < argc; i++)
			hook_argv[i + 2] = argv[i];
		argc += 2;
		argv = hook_argv;
	}
	static const struct opt *const top_opts[] = { top_root_opts, top_info_opts, NULL };
	struct top top = { 0 };
	int first = opt_parse(top_opts, &top, argc - 1, argv + 1, NULL, OPT_PARSE_LEADING);
	if (first < 0)
		return cli_usage(NULL, "%s", sw_error_last());
	first++;
	if (top.version) {
		printf("slipway %s\n", SLIPWAY_VERSION);
		return finish(0, 0);
	}
	if (top.help || first >= argc) {
		print_help();
		return finish(0, 0);
	}
	const char *name = argv[first];
	if (!strcmp(name, "hook") && first + 1 < argc && !strcmp(argv[first + 1], "post-receive"))
		return run_hook(0);
	const struct cmd *cmd = cli_find(name);
	if (!cmd)
		return cli_usage(NULL, "'%s' is not a slipway command", name);
	int writer = (cmd->flags & CMD_RELEASES) != 0;
	if (writer)
		keep_working_without_client();
	struct cli c = { 0 };
	char *self = self_path(argv[0]);
	c.root = top.root;
	c.self = self;
	int rc = finish(cli_run(&c, cmd, argc - first - 1, argv + first + 1), writer);
	free(self);
	return rc;
}
