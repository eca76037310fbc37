#define _GNU_SOURCE
#include "cli/remote.h"

#include "access/sshcmd.h"
#include "store/app.h"
#include "util/error.h"
#include "util/say.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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

/* What ssh may print for remote_capture(): more is read and dropped. */
#define CAPTURE_MAX (64 * 1024)

/* In the child: stdout onto out_fd, ssh's signals back, exec; errno onto err_fd if it fails. */
static void capture_child(char **argv, int out_fd, int err_fd)
{
	if (dup2(out_fd, STDOUT_FILENO) < 0)
		goto failed;
	close(out_fd);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	execvp(argv[0], argv);
failed:;
	int e = errno;
	ssize_t w = write(err_fd, &e, sizeof(e));
	(void)w;
	_exit(127);
}

/* Reads fd to its end into out, keeping at most CAPTURE_MAX bytes. */
static void capture_read(int fd, struct buf *out)
{
	char chunk[4096];
	size_t kept = 0;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		size_t take = kept + (size_t)n > CAPTURE_MAX ? CAPTURE_MAX - kept : (size_t)n;
		buf_add(out, chunk, take);
		kept += take;
	}
}

int remote_capture(const struct app_remote *r, const char *const *words, struct buf *out,
		   int *status)
{
	struct strvec argv = STRVEC_INIT;
	int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 }, err = 0, wst = 0, child_errno = 0;
	pid_t pid = -1;

	remote_ssh_argv(&argv, r, words, 0);
	fflush(stdout);
	fflush(stderr);
	if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0 ||
	    (pid = fork()) < 0) {
		err = sw_error_errno(SW_ERROR, "cannot run '%s' to reach %s", argv.v[0], r->login);
		goto done;
	}
	if (pid == 0)
		capture_child(argv.v, out_pipe[1], err_pipe[1]);
	close(out_pipe[1]);
	close(err_pipe[1]);
	out_pipe[1] = err_pipe[1] = -1;
	/* EOF once the exec worked (the pipe is close-on-exec), else the child's errno */
	while (read(err_pipe[0], &child_errno, sizeof(child_errno)) < 0 && errno == EINTR)
		;
	capture_read(out_pipe[0], out);
	while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
		;
	if (child_errno) {
		err = sw_error_set(SW_ERROR, "cannot run '%s' to reach %s: %s", argv.v[0],
				   r->login, strerror(child_errno));
		goto done;
	}
	*status = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
done:
	for (int i = 0; i < 2; i++) {
		if (out_pipe[i] >= 0)
			close(out_pipe[i]);
		if (err_pipe[i] >= 0)
			close(err_pipe[i]);
	}
	strvec_clear(&argv);
	return err;
}
