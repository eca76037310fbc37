#define _GNU_SOURCE
#include "cli/browser.h"

#include "util/error.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A variable that is set and not empty. */
static int env_set(const char *name)
{
	const char *v = getenv(name);
	return v && *v;
}

/* 1 if name is an executable file in a directory of $PATH. */
static int on_path(const char *name)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		return 0;
	char *dirs = xstrdup(path), *save = NULL;
	int found = 0;
	for (char *d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", *d ? d : ".", name);
		found = access(p, X_OK) == 0;
		free(p);
	}
	free(dirs);
	return found;
}

const char *browser_opener(void)
{
#ifdef __APPLE__
	/* a session reached over ssh has no screen of its own to show a browser on */
	if (env_set("SSH_CONNECTION") || env_set("SSH_TTY"))
		return NULL;
	return on_path("open") ? "open" : NULL;
#else
	if (!env_set("DISPLAY") && !env_set("WAYLAND_DISPLAY"))
		return NULL;
	return on_path("xdg-open") ? "xdg-open" : NULL;
#endif
}

/*
 * In the first child: a session of its own, then a second child runs the
 * opener, so that the opener is nobody's to wait for once this one exits.
 * The opener's exec error goes onto err_fd (close-on-exec).
 */
static void opener_child(const char *opener, const char *url, int err_fd)
{
	int e = 0;
	setsid();
	pid_t pid = fork();
	if (pid != 0)
		_exit(pid < 0 ? 127 : 0);
	int null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		goto failed;
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	execlp(opener, opener, url, (char *)NULL);
failed:
	e = errno;
	ssize_t w = write(err_fd, &e, sizeof(e));
	(void)w;
	_exit(127);
}

int browser_open(const char *opener, const char *url)
{
	int errp[2], child_errno = 0, st = 0;
	if (pipe2(errp, O_CLOEXEC) < 0)
		return sw_error_errno(SW_ERROR, "cannot run '%s'", opener);
	pid_t pid = fork();
	if (pid < 0) {
		int err = sw_error_errno(SW_ERROR, "cannot run '%s'", opener);
		close(errp[0]);
		close(errp[1]);
		return err;
	}
	if (pid == 0)
		opener_child(opener, url, errp[1]);
	close(errp[1]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	/* EOF once the opener runs (or its fork failed: then the first child's status says so) */
	while (read(errp[0], &child_errno, sizeof(child_errno)) < 0 && errno == EINTR)
		;
	close(errp[0]);
	if (child_errno)
		return sw_error_set(SW_ERROR, "cannot run '%s': %s", opener, strerror(child_errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return sw_error_set(SW_ERROR, "cannot run '%s'", opener);
	return 0;
}
