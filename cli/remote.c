#define _GNU_SOURCE
#include "cli/remote.h"

#include "access/sshcmd.h"
#include "store/app.h"
#include "util/say.h"
#include "util/util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A variable that is set and not empty, or NULL. */
static const char *env_set(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

void remote_ssh_argv(struct strvec *out, const struct app_remote *r, const char *const *words,
		     int tty)
{
	const char *shell = env_set("GIT_SSH_COMMAND");
	const char *prog = env_set("GIT_SSH");
	struct buf line = BUF_INIT;

	if (!shell && r->ssh_command && *r->ssh_command)
		shell = r->ssh_command;
	if (shell) {
		/* as git runs it: the user's own command line, our words as "$@" */
		strvec_push(out, "sh");
		strvec_push(out, "-c");
		strvec_pushf(out, "%s \"$@\"", shell);
		strvec_push(out, "ssh");
	} else {
		strvec_push(out, prog ? prog : "ssh");
	}
	if (r->port) {
		strvec_push(out, "-p");
		strvec_push(out, r->port);
	}
	if (tty)
		strvec_push(out, "-t");
	strvec_push(out, r->login);
	for (size_t i = 0; words[i]; i++) {
		if (i)
			buf_adds(&line, " ");
		sshcmd_quote(&line, words[i]);
	}
	strvec_push(out, line.data);
	buf_release(&line);
}

int remote_exec(const struct app_remote *r, const char *const *words, int tty)
{
	struct strvec argv = STRVEC_INIT;
	remote_ssh_argv(&argv, r, words, tty);
	fflush(stdout);
	fflush(stderr);
	/* a writer ignores these (main.c); ssh must see its client go away */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	execvp(argv.v[0], argv.v);
	int err = errno;
	say(stderr, SAY_ERROR, "cannot run '%s' to reach %s: %s", argv.v[0], r->login,
	    strerror(err));
	strvec_clear(&argv);
	return 1;
}
