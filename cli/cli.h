/*
 * cli.h - the slipway command line: one table of commands.
 *
 * Part of cli/: may use every folder; with hooks/ the only one that prints on
 * its own.
 *
 * Each row of cli_commands[] is one command: its name, its function, what
 * the dispatcher prepares for it (CMD_* flags), how many arguments it
 * takes, its synopsis, its own options (an opt.h array) and one line of
 * help.  `slipway COMMAND --help`, `help` and the usage printed on a usage
 * error are made from the rows.
 *
 * cli_run() parses the command's options (its own, -a/--app and
 * -r/--remote when it takes an app, -r alone when it is sent to servers,
 * and --root and -h/--help for every command) anywhere on the line (for
 * CMD_ARGV commands only before the first argument), checks the number
 * of arguments and resolves the app: -a/--app, else $SLIPWAY_APP, else the
 * one the URL of the checkout's git remote names (-r NAME, else
 * "heroku").  When that remote is an ssh URL and no root was chosen here
 * (--root, or $SLIPWAY_ROOT without -r), a CMD_REMOTE command is sent to
 * its server over ssh (remote.h) with the same options and arguments and
 * -a APP, and any other command is refused (it is the operator's, to run
 * on the server: here it would act on this machine); everything else
 * resolves the root and calls the function here.
 * Exit codes: 0 ok, 1 refused or failed (message on stderr), 2 usage
 * error; a command sent to a server exits with ssh's status.
 *
 * Adding a command: its function int cmd_x(struct cli *) in the cmd_*.c
 * file of its topic (declared in cmds.h), its row in commands.c, and, if it
 * has options of its own, a static option array next to the table whose
 * values land in struct cli.
 */
#ifndef SW_CLI_H
#define SW_CLI_H

#include "cli/opt.h"

#include <stddef.h>
#include <stdio.h>

enum {
	CMD_APP = 1 << 0,      /* needs an app: -a APP, else the checkout's */
	CMD_APP_OPT = 1 << 1,  /* accepts -a APP, works without one */
	CMD_REMOTE = 1 << 2,   /* a remote user may run it over ssh (on apps they can use) */
	CMD_HIDDEN = 1 << 3,   /* not listed by help */
	/*
	 * makes a release: it runs to the end when its client goes away
	 * (SIGPIPE and SIGHUP are ignored, writing the output is best-effort,
	 * and the exit status is the work's)
	 */
	CMD_RELEASES = 1 << 4,
	/*
	 * its arguments are a command line of their own: options only before
	 * the first argument (or up to "--"), every later word is an argument
	 */
	CMD_ARGV = 1 << 5,
	/*
	 * a CMD_REMOTE command that runs where it is typed, never sent to the
	 * server of an ssh remote nor refused in its checkout (help)
	 */
	CMD_HERE = 1 << 6,
};

struct cmd;

struct cli {
	const struct cmd *cmd; /* the row being run */
	const char *root;
	const char *app;
	const char *remote;    /* -r/--remote: the git remote to use instead of "heroku" */
	const char *self;      /* absolute path of this executable */
	char *user;
	const char *shell_user; /* set when a remote user runs this through `slipway shell` */
	char **args;           /* positional arguments */
	int nargs;
	int help;              /* -h/--help */

	/* the values of the commands' own options (each row's opts say which) */
	const char *confirm, *branch, *release;
	int json, shell, num, keep, reject, accept, port, stop_timeout, supervised, tail;
	const char *ps, *source;  /* logs -p, -s */
	const char *previous;     /* watch:run --previous */
	const char *to, *slug;    /* releases:promote --to, deploy --slug */
	int index;             /* --index N, 0 when not given */
	int values;            /* releases:diff --values */
	int repair;            /* fsck --repair */
	int all;               /* logs --all */
};

struct cmd {
	const char *name;
	int (*fn)(struct cli *c);
	unsigned flags;         /* CMD_* */
	int min_args, max_args; /* max -1: any number */
	const char *synopsis;   /* arguments and options after the name, for "Usage:" */
	const struct opt *opts; /* the command's own options; NULL: none */
	const char *help;
};

extern const struct cmd cli_commands[];

/* -a/--app as the commands with CMD_APP take it (top-level help lists it too). */
extern const struct opt cli_app_opts[];

const struct cmd *cli_find(const char *name);

/* 1 if name is a command a remote user may run over ssh (CMD_REMOTE). */
int cli_remote_allowed(const char *name);

/*
 * Runs cmd with argv[0] .. argv[argc - 1], the words after its name
 * (reordered in place).  c comes zeroed but for self and, from a --root
 * before the command, root.  Returns the exit code.
 */
int cli_run(struct cli *c, const struct cmd *cmd, int argc, char **argv);

/*
 * Writes what `slipway COMMAND --help` shows for cmd to f: its usage, its
 * help and its options (without --root for a remote user).
 */
void cli_print_help(FILE *f, const struct cmd *cmd, int remote_user);

/* The visible commands with every flag of need, one "  NAME   help" line each. */
void cli_print_commands(unsigned need);

/* 1 if cmd is sent to the server of an ssh remote (CMD_REMOTE, not CMD_HERE). */
int cli_forwarded(const struct cmd *cmd);

/* Reports a failed library call on stderr and returns the exit code (1). */
int cli_fail(void);

/* Usage error: message and the command's usage on stderr, returns 2. */
int cli_usage(const struct cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
