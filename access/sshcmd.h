/*
 * sshcmd.h - what an ssh user asked for: SSH_ORIGINAL_COMMAND, parsed
 * without a shell.
 *
 * Part of access/: uses util/ and store/; prints nothing.
 *
 * The line is split into words on spaces and tabs.  Quoting is the simple
 * part of a POSIX shell's: '...' and "..." take everything inside
 * literally (adjacent pieces join: 'a'b is the word ab), and nothing else
 * is special.  Everything a shell would treat specially - ; & | < > ( )
 * { } $ ` \ * ? [ ] # ! - is refused outside single quotes (and $ ` \
 * inside double quotes too), with a message that shows the word in
 * single quotes; so are unterminated quotes and lines over SSHCMD_MAX
 * bytes.  Control characters are refused anywhere, but for tabs between
 * words, and line breaks and tabs inside single quotes, which are kept
 * byte for byte (a value may have several lines).  No word is ever
 * expanded or handed to a shell.
 *
 * The words then name one of:
 *   git-receive-pack PATH, git-upload-pack PATH   PATH is APP, APP.git,
 *                          /APP.git or ~/APP.git and APP a valid app name
 *                          (so '../x' is refused)
 *   a slipway command      one the caller's allowed(name) says a remote
 *                          user may run, with any arguments except --root
 *
 *     struct sshcmd c = SSHCMD_INIT;
 *     if (sshcmd_parse(&c, getenv("SSH_ORIGINAL_COMMAND"), remote_ok) < 0)
 *             refuse(sw_error_last());
 *     ... c.kind, c.app, c.words.v ...
 *     sshcmd_release(&c);
 */
#ifndef SW_SSHCMD_H
#define SW_SSHCMD_H

#include "util/util.h"

#define SSHCMD_MAX 8192

enum sshcmd_kind {
	SSHCMD_NONE = 0,
	SSHCMD_RECEIVE_PACK,   /* git push */
	SSHCMD_UPLOAD_PACK,    /* git fetch / clone */
	SSHCMD_SLIPWAY,        /* a slipway command: words.v[0] is its name */
};

struct sshcmd {
	enum sshcmd_kind kind;
	char *app;             /* the app, for the git commands (malloc'ed, ours) */
	struct strvec words;   /* every word of the line */
};
#define SSHCMD_INIT { .words = STRVEC_INIT }

/* Splits line into words (appended to out).  SW_EINVALID with a one-line reason. */
int sshcmd_split(const char *line, struct strvec *out);

/*
 * Appends word as sshcmd_split() (and a POSIX shell) reads it back: as it
 * is when nothing in it is special, else in single quotes, each ' written
 * '"'"'.  Any bytes but NUL and control characters other than line
 * breaks and tabs come back exactly.
 */
void sshcmd_quote(struct buf *b, const char *word);

/*
 * Splits and classifies line (NULL or empty means an interactive login,
 * which is refused).  allowed(name) returns 1 for the slipway commands a
 * remote user may run, 0 for any other word (it sees the first word of
 * every line that is not a git command).  SW_EINVALID with a one-line
 * reason for anything not allowed.
 */
int sshcmd_parse(struct sshcmd *out, const char *line, int (*allowed)(const char *name));

void sshcmd_release(struct sshcmd *c);

#endif
