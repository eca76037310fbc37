/*
 * common.h - what every command shares: the parsed command line (struct
 * cli) and the helpers the cmd_*.c files use to open an app, print and
 * refuse.
 *
 * Part of cli/: may use every folder; with hooks/ the only one that prints on
 * its own.  The command files include this and cmds.h, never cli.h: a
 * command does not need the table that runs it (commands.c).
 *
 * A command's own options are its file's: a struct of their values and an
 * opt.h array bound to it, ended by OPT_END_OF() (cli.h says how the
 * dispatcher fills it).  The command reads them at c->options:
 *
 *     struct logs_args { int num, tail; };
 *     const struct opt logs_opts[] = {
 *             OPT_INT('n', "num", struct logs_args, num, ...),
 *             OPT_END_OF(struct logs_args),
 *     };
 *     int cmd_logs(struct cli *c)
 *     {
 *             const struct logs_args *a = c->options;
 *             ...
 */
#ifndef SW_CLI_COMMON_H
#define SW_CLI_COMMON_H

#include "cli/opt.h"
#include "release/activate.h"

struct app_remote;
struct buf;
struct change_result;
struct cmd;
struct ledger;
struct release;

/* The command line a command runs with: what every command may use. */
struct cli {
	const struct cmd *cmd; /* the row being run (cli.h) */
	const char *root;
	const char *app;
	const char *remote;    /* -r/--remote: the git remote to use instead of "heroku" */
	const char *self;      /* absolute path of this executable */
	char *user;
	const char *shell_user; /* set when a remote user runs this through `slipway shell` */
	/* a CMD_CLIENT command's, in a checkout of a server's app: its remote (root is NULL) */
	const struct app_remote *ssh_remote;
	char **args;           /* positional arguments */
	int nargs;
	int help;              /* -h/--help */
	/*
	 * the values of the command's own options: the struct its row's opts
	 * store into, zeroed but for the options given; NULL when it has none
	 */
	void *options;
};

/* Options more than one command has, with the same help everywhere. */
#define CLI_OPT_JSON(type) OPT_FLAG(0, "json", type, json, "print JSON")
#define CLI_OPT_SHELL(type) \
	OPT_FLAG('s', "shell", type, shell, "print config vars as KEY=value lines, shell-quoted")
#define CLI_OPT_STOP_TIMEOUT(type)                                         \
	OPT_INT(0, "stop-timeout", type, stop_timeout, "S", 1, 3600, NULL, \
		"seconds from SIGTERM to SIGKILL (default: slipway.stopTimeout, 30)")

/* Reports a failed library call on stderr and returns the exit code (1). */
int cli_fail(void);

/*
 * Usage error: message and the command's usage on stderr (cmd NULL: no
 * usage line), returns 2.
 */
int cli_usage(const struct cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes "Usage: slipway NAME SYNOPSIS" for cmd to f. */
void cli_print_usage(FILE *f, const struct cmd *cmd);

/* Writes b to stdout and releases it. */
void cli_put(struct buf *b);

/* Opens c->app's ledger: 0, or the exit code after the message (no such app...). */
int cli_open_app(struct cli *c, struct ledger **l);

/*
 * The git URL to push app to: its repository's path for the operator; for
 * a remote user slipway.gitUrl (settings_git_url), else USER@HOST:APP.git
 * (the server account and the address ssh reached), or
 * ssh://USER@HOST:PORT/APP.git when ssh was reached on a port other than
 * 22.  Malloc'ed, or NULL
 * with the error set.
 */
char *cli_git_url(const struct cli *c, const char *app);

/* What a remote user is told when the runtime is not running: it is not theirs to start. */
#define CLI_RUNTIME_STOPPED ACTIVATE_RUNTIME_STOPPED

/* Why a new release waits, as the one who ran the command can act on it. */
const char *cli_not_running(const struct cli *c);

/* The new release's release phase failed: it is recorded, but not live.  Returns 1. */
int cli_release_failed(struct cli *c, const struct change_result *res);

/* The hex of a slug checksum argument ("SHA256:<hex>" or "<hex>"), NULL if it is none. */
const char *slug_arg_hex(const char *arg);

/* The newest release in l whose slug is hex into r (RELEASE_INIT): 1, 0 if none, or < 0. */
int slug_owner(struct ledger *l, const char *hex, struct release *r);

/*
 * The app's instances on the run hosts apps:hosts:set left out stop there
 * (runtime/nodes.h node_withdraw()), a line each on stdout; a host that
 * cannot be reached is warned of on stderr, with the command that stops
 * them once it answers.  The caller holds the app's lock.
 */
void cli_withdraw_strays(struct cli *c);

/* "web" or "web.1": a process type, or one instance of it */
int ps_name_valid(const char *s);

/*
 * A schedule's loop (pg:backups:schedule, certs:auto:schedule): pass(arg)
 * at once, then again after seconds or at SIGALRM (s6-svc -a), until
 * SIGTERM or SIGINT; interrupt, when not NULL, runs in that signal's
 * handler (async-signal-safe).  cli_schedule_stopping() is 1 once one came,
 * for a pass to stop early.
 */
void cli_schedule_run(int seconds, void (*pass)(void *arg), void *arg, void (*interrupt)(void));
int cli_schedule_stopping(void);

#endif
