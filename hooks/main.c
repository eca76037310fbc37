#define _GNU_SOURCE
#include "hooks/cli.h"
#include "hooks/sshcli.h"

#include "hooks/receive.h"
#include "store/app.h"
#include "util/error.h"
#include "util/util.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_fail(void)
{
	fprintf(stderr, " !    %s\n", sw_error_last());
	return 1;
}

static void print_usage(FILE *f, const struct cmd *cmd)
{
	fprintf(f, "Usage: slipway %s\n", cmd->usage);
}

int cli_usage(const struct cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd)
		print_usage(stderr, cmd);
	fputs("Run 'slipway help' for the list of commands.\n", stderr);
	return 2;
}

const struct cmd *cli_find(const char *name)
{
	for (const struct cmd *c = cli_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static void print_help(void)
{
	puts("Usage: slipway [--root DIR] COMMAND [ARGS] [-a APP]\n");
	puts("Heroku-style releases on your own server: git push builds a slug and records a\n"
	     "numbered release; every config change and rollback is a release too.\n");
	puts("Commands:");
	for (const struct cmd *c = cli_commands; c->name; c++)
		if (!(c->flags & CMD_HIDDEN))
			printf("  %-18s %s\n", c->name, c->help);
	puts("\nOptions:\n"
	     "  --root DIR         where apps, slugs and caches live (default: $SLIPWAY_ROOT,\n"
	     "                     else ~/.local/share/slipway)\n"
	     "  -a, --app APP      the app (default: from the git remote 'heroku')\n"
	     "  -h, --help         help for a command: slipway COMMAND --help\n"
	     "  --version          print the version");
}

static void print_cmd_help(const struct cmd *c)
{
	print_usage(stdout, c);
	printf("\n%s\n", c->help);
	if (c->flags & ~(unsigned)CMD_HIDDEN)
		puts("\nOptions:");
	if (c->flags & CMD_APP)
		puts("  -a, --app APP      the app (default: from the git remote 'heroku')");
	if (c->flags & CMD_APP_OPT)
		puts("  -a, --app APP      only this app");
	if (c->flags & CMD_REJECT)
		puts("  --reject-failed-builds  build before the push is accepted: a failed build\n"
		     "                     rejects the push and the branch is not updated");
	if (c->flags & CMD_KEEP)
		puts("  --keep N           keep only the slugs of each app's newest N releases");
	if (c->flags & CMD_NUM)
		puts("  -n, --num N        how many releases to show (default 15)");
	if (c->flags & CMD_JSON)
		puts("  --json             print JSON");
	if (c->flags & CMD_SHELL)
		puts("  --shell            print config vars as KEY=value lines, shell-quoted");
	if (c->flags & CMD_CONFIRM)
		puts("  --confirm APP      the app's name again, to confirm");
	if (c->flags & CMD_INDEX)
		puts("  -i, --index N      the buildpack's position in the list, from 1");
	if (c->flags & CMD_BRANCH)
		puts("  --branch BRANCH    the branch that deploys (default: main, or master)");
	puts("  --root DIR         where apps, slugs and caches live");
}

/* Value of an option: "--opt=value" or the next argument. */
static const char *opt_value(int argc, char **argv, int *i, const char *arg)
{
	const char *eq = strchr(arg, '=');
	if (arg[0] == '-' && arg[1] == '-' && eq)
		return eq + 1;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static int is_opt(const char *arg, const char *s, const char *l)
{
	size_t n = strlen(l);
	return (s && !strcmp(arg, s)) || !strcmp(arg, l) || (!strncmp(arg, l, n) && arg[n] == '=');
}

/* Parses options anywhere on the line (like the Heroku CLI); 0 ok, else exit code. */
static int parse(struct cli *c, const struct cmd *cmd, int argc, char **argv, int *help)
{
	int only_args = 0;
	c->args = xcalloc((size_t)argc + 1, sizeof(char *));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v;
		if (only_args || a[0] != '-' || !strcmp(a, "-")) {
			c->args[c->nargs++] = argv[i];
		} else if (!strcmp(a, "--")) {
			only_args = 1;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			*help = 1;
		} else if (is_opt(a, NULL, "--root")) {
			if (!(v = opt_value(argc, argv, &i, a)))
				return cli_usage(cmd, "--root needs a directory");
			c->root = v;
		} else if ((cmd->flags & (CMD_APP | CMD_APP_OPT)) && is_opt(a, "-a", "--app")) {
			if (!(v = opt_value(argc, argv, &i, a)))
				return cli_usage(cmd, "%s needs an app name", a);
			c->app = v;
		} else if ((cmd->flags & CMD_JSON) && !strcmp(a, "--json")) {
			c->json = 1;
		} else if ((cmd->flags & CMD_SHELL) && (!strcmp(a, "--shell") || !strcmp(a, "-s"))) {
			c->shell = 1;
		} else if ((cmd->flags & CMD_NUM) && is_opt(a, "-n", "--num")) {
			char *end;
			if (!(v = opt_value(argc, argv, &i, a)))
				return cli_usage(cmd, "%s needs a number", a);
			errno = 0;
			long n = strtol(v, &end, 10);
			if (!*v || *end || errno || n < 1 || n > 1000000)
				return cli_usage(cmd, "invalid number '%s' for %s", v, a);
			c->num = (int)n;
		} else if ((cmd->flags & CMD_REJECT) && !strcmp(a, "--reject-failed-builds")) {
			c->reject = 1;
		} else if ((cmd->flags & CMD_KEEP) && is_opt(a, NULL, "--keep")) {
			char *end;
			if (!(v = opt_value(argc, argv, &i, a)))
				return cli_usage(cmd, "--keep needs a number");
			errno = 0;
			long n = strtol(v, &end, 10);
			if (!*v || *end || errno || n < 1 || n > 1000000000)
				return cli_usage(cmd, "invalid number '%s' for --keep", v);
			c->keep = (int)n;
		} else if ((cmd->flags & CMD_INDEX) && is_opt(a, "-i", "--index")) {
			char *end;
			if (!(v = opt_value(argc, argv, &i, a)))
				return cli_usage(cmd, "--index needs a number");
			errno = 0;
			long n = strtol(v, &end, 10);
			if (!*v || *end || errno || n < 1 || n > 1000000)
				return cli_usage(cmd, "invalid index '%s': use a position from 1", v);
			c->index = (int)n;
		} else if ((cmd->flags & CMD_CONFIRM) && is_opt(a, NULL, "--confirm")) {
			if (!(v = opt_value(argc, argv, &i, a)))
				return cli_usage(cmd, "--confirm needs the app name");
			c->confirm = v;
		} else if ((cmd->flags & CMD_BRANCH) && is_opt(a, NULL, "--branch")) {
			if (!(v = opt_value(argc, argv, &i, a)))
				return cli_usage(cmd, "--branch needs a branch name");
			c->branch = v;
		} else {
			return cli_usage(cmd, "unknown option '%s' for %s", a, cmd->name);
		}
	}
	return 0;
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

	struct cli c = { 0 };
	int first = 1;
	/* global options before the command */
	while (first < argc && argv[first][0] == '-') {
		const char *a = argv[first];
		if (!strcmp(a, "--version") || !strcmp(a, "-v")) {
			printf("slipway %s\n", SLIPWAY_VERSION);
			return finish(0);
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			print_help();
			return finish(0);
		}
		if (is_opt(a, NULL, "--root")) {
			const char *v = opt_value(argc, argv, &first, a);
			if (!v)
				return cli_usage(NULL, "--root needs a directory");
			c.root = v;
			first++;
			continue;
		}
		return cli_usage(NULL, "unknown option '%s'", a);
	}
	if (first >= argc) {
		print_help();
		return finish(0);
	}
	const char *name = argv[first];
	if (!strcmp(name, "hook") && first + 1 < argc && !strcmp(argv[first + 1], "post-receive"))
		return run_hook();
	const struct cmd *cmd = cli_find(name);
	if (!cmd)
		return cli_usage(NULL, "'%s' is not a slipway command", name);
	int help = 0;
	int rc = parse(&c, cmd, argc - first - 1, argv + first + 1, &help);
	if (rc)
		goto done;
	if (help) {
		print_cmd_help(cmd);
		rc = finish(0);
		goto done;
	}
	if (c.nargs < cmd->min_args || (cmd->max_args >= 0 && c.nargs > cmd->max_args)) {
		rc = cli_usage(cmd, c.nargs < cmd->min_args ? "missing argument for %s"
							    : "too many arguments for %s", cmd->name);
		goto done;
	}
	char *root = NULL, *app = NULL;
	if (root_resolve(c.root, &root) < 0) {
		rc = cli_fail();
		goto done;
	}
	c.root = root;
	if ((cmd->flags & CMD_APP) && !c.app) {
		if (app_infer_from_cwd(&app) < 0) {
			rc = cli_usage(cmd, "no app specified: use -a APP");
			free(root);
			goto done;
		}
		c.app = app;
	}
	c.self = self_path(argv[0]);
	c.user = app_actor();
	c.shell_user = getenv("SLIPWAY_SHELL_USER");
	rc = cli_remote_check(&c, cmd); /* 0 unless a remote user may not */
	rc = finish(rc ? rc : cmd->fn(&c));
	free((char *)c.self);
	free(c.user);
	free(root);
	free(app);
done:
	free(c.args);
	return rc;
}
