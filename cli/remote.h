/*
 * remote.h - running a command on the server of an ssh remote: the client
 * side of `slipway shell` (shell.h).
 *
 * Part of cli/: may use every folder; with hooks/ the only one that prints on
 * its own.
 *
 * On a developer's machine, inside a checkout whose remote (heroku, or
 * -r NAME) is an ssh URL (store/app.h, app_remote_parse), the command line
 * sends a CMD_REMOTE command to that server instead of running it here.
 * ssh is found the way git finds it for the same remote:
 *
 *   $GIT_SSH_COMMAND      a shell command line of the user's:
 *   core.sshCommand         sh -c 'COMMAND "$@"' ssh ARGS...
 *   $GIT_SSH              a program, run as it is: PROGRAM ARGS...
 *   ssh                   from PATH
 *
 * ARGS are "-p PORT" when the URL has a port, the user@host, and one
 * command line of words each quoted by sshcmd_quote(), so the server's
 * splitter (access/sshcmd.h) gets exactly these words, whatever they hold.
 * -t (a terminal on the server) only when the caller asks for one: for
 * `run` when stdin is a terminal (the server refuses a terminal to every
 * other command, cli/shell.h).
 * stdin, stdout and stderr are ssh's, and ssh's exit status (the remote
 * command's, or 255 when the connection fails) is the command's.
 *
 *     remote_exec(&remote, (const char *const[]){ "releases", "-a", "myapp", NULL }, 0);
 *     // returns only when ssh could not be started
 */
#ifndef SW_REMOTE_H
#define SW_REMOTE_H

struct app_remote;
struct buf;
struct strvec;

/* The command line that runs words on r's server (with a terminal: tty), appended to out. */
void remote_ssh_argv(struct strvec *out, const struct app_remote *r, const char *const *words,
		     int tty);

/*
 * Replaces this process with ssh running words on r's server, with the
 * signals it ignores back at their defaults.  Returns only when ssh could
 * not be run: the exit code (1) after the message.
 */
int remote_exec(const struct app_remote *r, const char *const *words, int tty);

/*
 * Runs words on r's server as remote_exec() does, but waits for ssh: its
 * stdout (at most 64 KiB) appended to out, its stdin and stderr ours (ssh
 * may ask for a passphrase on the terminal: it stays in our process
 * group).  *status is ssh's exit status (128+N when a signal N ended it).
 * Returns 0, or -1 with the error set when ssh could not be run.
 */
int remote_capture(const struct app_remote *r, const char *const *words, struct buf *out,
		   int *status);

#endif
