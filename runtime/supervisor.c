#define _GNU_SOURCE
#include "runtime/supervisor.h"

#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/run.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Where the pid of the s6-svscan we started is kept (a dot-name: s6 skips it). */
#define PID_FILE ".slipway-svscan.pid"

static const char *const path_env[] = { "PATH=/usr/local/bin:/usr/bin:/bin", NULL };

static char *pid_path(const char *scandir)
{
	return xasprintf("%s/" PID_FILE, scandir);
}

int supervisor_s6(const char *const *argv, int *status, struct buf *capture)
{
	struct run_opts o = RUN_OPTS_INIT;
	o.argv = argv;
	o.env = path_env;
	o.timeout_sec = 120;
	o.capture = capture;
	int err = run_child(&o, status);
	if (err == SW_ENOTFOUND)
		return sw_error_set(SW_ERROR, "%s is not installed: install the s6 package", argv[0]);
	return err;
}

/* Runs an s6 tool on the scan directory; *status gets its exit code. */
static int s6(const char *tool, const char *flags, const char *scandir, int *status)
{
	const char *argv[] = { tool, flags, scandir, NULL };
	return supervisor_s6(argv, status, NULL);
}

/* 1 when an s6-svscan answers on scandir. */
static int answers(const char *scandir)
{
	int status = -1;
	return s6("s6-svscanctl", "-z", scandir, &status) == 0 && status == 0;
}

static pid_t read_pid(const char *scandir)
{
	char *path = pid_path(scandir), *text = NULL;
	pid_t pid = 0;
	if (fs_read_file(path, 64, &text, NULL) == 0)
		pid = (pid_t)atoi(text);
	free(text);
	free(path);
	return pid > 0 ? pid : 0;
}

static int count_services(const char *scandir)
{
	DIR *d = opendir(scandir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

int supervisor_status(const char *root, struct supervisor_status *st)
{
	char *scandir = paths_services_dir(root);
	memset(st, 0, sizeof(*st));
	st->running = fs_is_dir(scandir) && answers(scandir);
	if (st->running) {
		st->pid = read_pid(scandir);
		st->services = count_services(scandir);
	}
	free(scandir);
	return 0;
}

static int prepare(const char *root, char **scandir, char **log)
{
	char *logs = paths_logs_dir(root);
	int err;
	*scandir = paths_services_dir(root);
	*log = xasprintf("%s/supervisor.log", logs);
	if (!(err = fs_mkdir_p(*scandir, 0700)))
		err = fs_mkdir_p(logs, 0700);
	free(logs);
	return err;
}

static int write_pid(const char *scandir, pid_t pid)
{
	char *path = pid_path(scandir), text[32];
	int n = snprintf(text, sizeof(text), "%d\n", (int)pid);
	int err = fs_write_atomic(path, text, (size_t)n, 0600);
	free(path);
	return err;
}

/* Replaces this process with s6-svscan on scandir; returns only if it cannot. */
static void exec_svscan(const char *scandir)
{
	execle("/usr/bin/s6-svscan", "s6-svscan", scandir, (char *)NULL, path_env);
	execle("/bin/s6-svscan", "s6-svscan", scandir, (char *)NULL, path_env);
}

/* In the child: its own session, the log as its output, nothing else of ours open. */
static void __attribute__((noreturn)) become_svscan(const char *scandir, const char *log)
{
	int in = open("/dev/null", O_RDONLY), out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(111);
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	setsid();
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	exec_svscan(scandir);
	_exit(127);
}

int supervisor_start(const char *root, struct supervisor_status *st)
{
	char *scandir = NULL, *log = NULL;
	int err;

	memset(st, 0, sizeof(*st));
	if ((err = prepare(root, &scandir, &log)))
		goto done;
	if (answers(scandir)) {
		st->already = st->running = 1;
		st->pid = read_pid(scandir);
		goto done;
	}
	if (access("/usr/bin/s6-svscan", X_OK) && access("/bin/s6-svscan", X_OK)) {
		err = sw_error_set(SW_ERROR, "s6-svscan is not installed: install the s6 package");
		goto done;
	}
	pid_t pid = fork();
	if (pid < 0) {
		err = sw_error_errno(SW_ERROR, "cannot start the supervisor");
		goto done;
	}
	if (pid == 0)
		become_svscan(scandir, log);
	for (int i = 0; i < 200; i++) {
		int wst;
		if (waitpid(pid, &wst, WNOHANG) == pid) {
			/* 100: another s6-svscan took the scan directory first */
			if (WIFEXITED(wst) && WEXITSTATUS(wst) == 100 && answers(scandir)) {
				st->already = st->running = 1;
				st->pid = read_pid(scandir);
			} else {
				err = sw_error_set(SW_ERROR, "the supervisor exited at once (see %s)", log);
			}
			goto done;
		}
		if (answers(scandir)) {
			st->running = 1;
			st->pid = pid;
			err = write_pid(scandir, pid);
			goto done;
		}
		nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	err = sw_error_set(SW_ERROR, "the supervisor did not come up within 10 s (see %s)", log);
done:
	free(scandir);
	free(log);
	return err;
}

int supervisor_exec(const char *root)
{
	char *scandir = NULL, *log = NULL;
	int err = prepare(root, &scandir, &log);
	if (!err && answers(scandir))
		err = sw_error_set(SW_EEXISTS, "the runtime of %s is already running", root);
	if (!err)
		err = write_pid(scandir, getpid());
	if (!err) {
		exec_svscan(scandir);
		err = sw_error_errno(SW_ERROR, "cannot run s6-svscan (install the s6 package)");
	}
	free(scandir);
	free(log);
	return err;
}

int supervisor_stop(const char *root, int wait_sec)
{
	char *scandir = paths_services_dir(root);
	int status = -1, err = 0;

	if (!fs_is_dir(scandir) || !answers(scandir))
		goto done;
	pid_t pid = read_pid(scandir);
	if ((err = s6("s6-svscanctl", "-t", scandir, &status)))
		goto done;
	for (int i = 0; i < wait_sec * 20; i++) {
		if (!answers(scandir) && (!pid || kill(pid, 0) < 0))
			goto done;
		nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	err = sw_error_set(SW_ERROR, "the runtime did not stop within %d s", wait_sec);
done:
	free(scandir);
	return err;
}

int supervisor_rescan(const char *root)
{
	char *scandir = paths_services_dir(root);
	int status = -1;
	int err = s6("s6-svscanctl", "-an", scandir, &status);
	if (!err && status)
		err = sw_error_set(SW_ERROR, "the runtime is not running (start it with: slipway server:start)");
	free(scandir);
	return err;
}
