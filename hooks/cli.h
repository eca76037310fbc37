/*
 * cli.h - the slipway command line: one table of commands.
 *
 * main() resolves the root, the app (-a/--app, else the git remote
 * "heroku" of the checkout around cwd) and the common options from each
 * command's flags, then calls its function.  Exit codes: 0 ok, 1 refused
 * or failed (message on stderr), 2 usage error.
 */
#ifndef SW_CLI_H
#define SW_CLI_H

#include <stddef.h>

enum {
	CMD_APP = 1 << 0,      /* needs -a APP */
	CMD_JSON = 1 << 1,     /* accepts --json */
	CMD_SHELL = 1 << 2,    /* accepts --shell */
	CMD_NUM = 1 << 3,      /* accepts -n N */
	CMD_CONFIRM = 1 << 4,  /* accepts --confirm APP */
	CMD_BRANCH = 1 << 5,   /* accepts --branch B */
	CMD_HIDDEN = 1 << 6,   /* not listed by help */
	CMD_APP_OPT = 1 << 7,  /* accepts -a APP, works without one */
	CMD_KEEP = 1 << 8,     /* accepts --keep N */
	CMD_REJECT = 1 << 9,   /* accepts --reject-failed-builds */
	CMD_INDEX = 1 << 10,   /* accepts --index N (buildpacks) */
};

struct cli {
	const char *root;
	const char *app;
	const char *confirm;
	const char *branch;
	const char *self;      /* absolute path of this executable */
	char *user;
	const char *shell_user; /* set when a remote user runs this through `slipway shell` */
	int json, shell, num, keep, reject;
	int index;             /* --index N, 0 when not given */
	char **args;           /* positional arguments */
	int nargs;
};

struct cmd {
	const char *name;
	int (*fn)(struct cli *c);
	unsigned flags;
	int min_args, max_args; /* max -1: any number */
	const char *usage;
	const char *help;
};

extern const struct cmd cli_commands[];

/* Reports a failed library call on stderr and returns the exit code (1). */
int cli_fail(void);

/* Usage error: message and the command's usage on stderr, returns 2. */
int cli_usage(const struct cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

const struct cmd *cli_find(const char *name);

#endif
