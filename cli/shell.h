/*
 * shell.h - `slipway shell USER`: what an ssh key's forced command runs.
 *
 * Part of cli/: may use every folder; with hooks/ the only one that prints on
 * its own.
 *
 * sshd runs the forced command whatever the client asked for and puts the
 * client's request in SSH_ORIGINAL_COMMAND.  shell_run() parses it with
 * sshcmd_parse() (never a shell), checks it, and replaces this process:
 *
 *   git-receive-pack / git-upload-pack on an app
 *       a push to an app that does not exist creates it first when the
 *       user may create apps (slipway.sshAppsCreate or sshAppsCreators, its limit and lock:
 *       access_create_app()) and says "Creating APP... done" (a step) to
 *       stderr; otherwise it is refused as any missing app is.  The user
 *       must have access (access.h), else "You do not have access
 *       to the app APP."; then `git receive-pack|upload-pack <repo>` runs
 *       with SLIPWAY_USER=USER and SLIPWAY_SHELL_USER=USER, so a push's
 *       release is by USER and its build reads only submodules of apps USER
 *       has access to (builder/submodule.h);
 *   a slipway command o->allowed accepts (the table's CMD_REMOTE, cli.h)
 *       the slipway executable runs again as `slipway --root ROOT WORDS...`
 *       with SLIPWAY_USER=USER and SLIPWAY_SHELL_USER=USER; the second one
 *       tells the command line that a remote user is acting, so every app
 *       command checks access, `apps` lists only the user's apps and
 *       `apps:create` gives the creator access.
 *
 * Before the exec every GIT_* and SLIPWAY_* variable that came with the
 * connection is removed.  stdin, stdout and stderr stay the connection's.
 *
 *     struct shell_opts o = SHELL_OPTS_INIT;
 *     o.root = root; o.user = "alice"; o.line = getenv("SSH_ORIGINAL_COMMAND");
 *     o.allowed = cli_remote_allowed;
 *     shell_run(&o);                     // returns only if refused or failed
 *     say(stderr, SAY_ERROR, "%s", sw_error_last());   // util/say.h
 */
#ifndef SW_SHELL_H
#define SW_SHELL_H

struct shell_opts {
	const char *root;   /* absolute root; required */
	const char *user;   /* who the key belongs to; required */
	const char *line;   /* SSH_ORIGINAL_COMMAND; NULL = interactive login */
	const char *exe;    /* the slipway executable; NULL = /proc/self/exe */
	/* 1 for the slipway commands a remote user may run (cli_remote_allowed()); required */
	int (*allowed)(const char *name);
};
#define SHELL_OPTS_INIT { 0 }

/*
 * Does not return when the command starts.  Returns SW_EINVALID (refused
 * request), SW_ENOTFOUND (no such app, or no access), SW_EDENIED (a push
 * to create an app past the user's limit) or SW_ERROR (exec failed), with
 * a one-line message.
 */
int shell_run(const struct shell_opts *o);

#endif
