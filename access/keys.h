/*
 * keys.h - the ssh keys that may reach slipway, in an authorized_keys file.
 *
 * Part of access/: uses util/ and store/; prints nothing.
 *
 * Every key slipway installs gets one line that forces the slipway shell
 * for its user, whatever command the client asks for:
 *
 *   restrict,pty,command="/usr/local/bin/slipway --root /home/git shell alice" ssh-ed25519 AAAA... alice@laptop
 *
 * (one line).  `restrict` is OpenSSH's every restriction at once: no port,
 * agent or X11 forwarding, no pty, no ~/.ssh/rc, and whatever sshd adds to
 * it later; `pty` then allows a terminal, which OpenSSH can only allow for
 * every command: the slipway shell refuses it to all but the consoles
 * (`run`, `pg:psql`, `redis:cli`; cli/shell.c).  Lines written by earlier versions, which began with the
 * command and spelled the options out, are still read and removed; those
 * with `restrict,` alone (no terminal: `run` then has none) get `pty`
 * whenever the file is written again (keys:add, keys:remove).  Paths with characters a shell would treat specially are
 * single-quoted; paths containing quotes, backslashes or control
 * characters are refused.  Lines slipway did not write are kept byte for
 * byte.  The file is replaced with fs_write_atomic() (mode 0600) under
 * an flock() on its directory (no lock file); the directory is created
 * (0700) if missing.
 *
 * The file: $SLIPWAY_AUTHORIZED_KEYS if set, else ~/.ssh/authorized_keys
 * of the user running slipway ($HOME, else the password database).
 */
#ifndef SW_KEYS_H
#define SW_KEYS_H

#include <stddef.h>

#define KEY_TEXT_MAX 16384

/* A public key: "TYPE BASE64 [COMMENT]". */
struct ssh_key {
	char *type;             /* type, blob and comment are malloc'ed, the
	                           key's own: key_release() frees them */
	char *blob;             /* base64, as written */
	char *comment;          /* "" if none */
	char fingerprint[64];   /* "SHA256:..." as ssh-keygen -l prints it */
};
#define SSH_KEY_INIT { 0 }

/*
 * Parses one public key (a line as in an .pub file; one trailing newline
 * allowed).  Refused with SW_EINVALID: options, several lines, an unknown
 * type, a blob that is not base64 or does not hold a key of that type,
 * control characters in the comment.
 */
int key_parse(struct ssh_key *out, const char *text);
void key_release(struct ssh_key *k);

/* The authorized_keys path (malloc'ed). */
int keys_path(char **out);

struct keys_add_opts {
	const char *file;   /* authorized_keys; required */
	const char *exe;    /* absolute path of slipway; required */
	const char *root;   /* absolute root; required */
};
#define KEYS_ADD_OPTS_INIT { 0 }

/*
 * Installs key for user.  SW_EEXISTS if the same key is already in the
 * file (for any user, or not written by slipway): ssh would pick one line
 * and the other user would be impersonated.
 */
int keys_add(const struct keys_add_opts *o, const char *user, const struct ssh_key *key);

/*
 * Lets the control whose key this is run "slipway --root ROOT command" here
 * (o->root), and nothing else, with the line
 *
 *   restrict,command="/usr/bin/slipway --root /var/lib/slipway COMMAND" ssh-ed25519 AAAA... slipway@control
 *
 * (one line; every restriction, no pty).  *added is 0 when that very
 * line is there already.  SW_EEXISTS if the key is in the file otherwise
 * (a user's key, or a control's forced to another command: ssh would pick
 * one line of the two, so one key runs one command).
 */
int keys_allow_forced(const struct keys_add_opts *o, const char *command,
		      const struct ssh_key *key, int *added);

/* keys_allow_forced() of "node-agent": the node agent of o->root (release/agent.h). */
int keys_allow_agent(const struct keys_add_opts *o, const struct ssh_key *key, int *added);

/*
 * keys_allow_forced() of "mirror-receive": the control pushes its ledger
 * into o->root's app repositories as this server's standby control
 * (store/standby.h), and does nothing else.
 */
int keys_allow_standby(const struct keys_add_opts *o, const struct ssh_key *key, int *added);

/* Removes every key of user; *removed says how many.  SW_ENOTFOUND if none. */
int keys_remove(const char *file, const char *user, int *removed);

/* Calls fn for each key slipway installed, in file order; a missing file has none. */
/*
 * Brings the lines slipway wrote in an earlier version up to date (a pty
 * allowed, for `run`), as any write of the file does; *upgraded is 1 when
 * the file changed.  0 when there is no file.
 */
int keys_upgrade(const char *file, int *upgraded);

typedef int (*keys_fn)(const char *user, const struct ssh_key *key, void *ctx);
int keys_list(const char *file, keys_fn fn, void *ctx);

#endif
