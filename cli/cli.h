/*
 * cli.h - the slipway command line: one table of commands and the
 * dispatcher that runs them.
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
 * How a command's options bind: the command's file has the struct of
 * their values and the array bound to it, ended by OPT_END_OF(that
 * struct) (common.h shows one); the row names the array.  cli_run()
 * allocates that struct zeroed (opt_size() of the array), parses the
 * line with opt_parse_each(), the command's options going into it and
 * the options every command shares into struct cli, and the command finds
 * it at c->options.  The array cannot be static to its file, as the table
 * is the one place help, usage and the words sent to a server are made
 * from; it is declared in cmds.h next to the command's function.
 *
 * cli_run() parses the command's options (its own, -a/--app and
 * -r/--remote when it takes an app, -r alone when it is sent to servers,
 * and --root and -h/--help for every command) anywhere on the line (for
 * CMD_ARGV commands only before the first argument), checks the number
 * of arguments and resolves the app (of a command that needs one, or of
 * one sent to servers that takes one, as `addons` does): -a/--app, else
 * $SLIPWAY_APP, else the one the URL of the checkout's git remote names
 * (-r NAME, else "heroku").  When that remote is an ssh URL and no root
 * was chosen here (--root, or $SLIPWAY_ROOT without -r), a CMD_REMOTE
 * command is sent to its server over ssh (remote.h) with the same options and arguments and
 * -a APP, and any other command is refused (it is the operator's, to run
 * on the server: here it would act on this machine); everything else
 * resolves the root and calls the function here.
 * Exit codes: 0 ok, 1 refused or failed (message on stderr), 2 usage
 * error; a command sent to a server exits with ssh's status.
 *
 * Adding a command: its function int cmd_x(struct cli *) in the cmd_*.c
 * file of its topic, which includes common.h and cmds.h; its declaration
 * (and its option array's, if it has options) in cmds.h; its row in
 * commands.c.  The files call down only: main.c -> commands.c (this
 * header) -> cmd_*.c -> common.c; only help, shell and completion, which
 * need the table, are commands.c's own (completion's script is made by
 * completion.h, which reads the table as docgen does).
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
	 * runs where it is typed, never sent to the server of an ssh remote
	 * nor refused in its checkout (help, completion)
	 */
	CMD_HERE = 1 << 6,
	/*
	 * a client's command: in a checkout whose remote is an ssh URL (and
	 * no root chosen here) it runs here with that remote (c->ssh_remote)
	 * and no root, talking to the server itself; elsewhere as any command
	 */
	CMD_CLIENT = 1 << 7,
};

struct cli; /* common.h */

struct cmd {
	const char *name;
	int (*fn)(struct cli *c);
	unsigned flags;         /* CMD_* */
	int min_args, max_args; /* max -1: any number */
	const char *synopsis;   /* arguments and options after the name, for "Usage:" */
	const struct opt *opts; /* the command's own options, ended by OPT_END_OF(); NULL: none */
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

/*
 * The option arrays cmd takes, in the order its help lists them (its
 * shared ones, its own, then --root and -h/--help), NULL-terminated.
 */
void cli_option_groups(const struct cmd *cmd, const struct opt *groups[4]);

/* The visible commands with every flag of need, one "  NAME   help" line each. */
void cli_print_commands(unsigned need);

/* 1 if cmd is sent to the server of an ssh remote (CMD_REMOTE, not CMD_HERE). */
int cli_forwarded(const struct cmd *cmd);

#endif
