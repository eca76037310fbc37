#define _GNU_SOURCE
#include "runtime/supervisor.h"

#include "store/paths.h"
#include "store/settings.h"
#include "util/caps.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/proc.h"
#include "util/run.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static int supervisor_s6(const char *const *argv, int *status, struct buf *capture)
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

/*
 * 1 when an s6-svscan answers on scandir: its control FIFO has a reader,
 * which is how s6-svscanctl tells too (a non-blocking open for writing
 * fails with ENXIO when no one reads), without a fork and exec.
 */
static int answers(const char *scandir)
{
	char *fifo = xasprintf("%s/.s6-svscan/control", scandir);
	int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	int fifo_read = fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
	free(fifo);
	if (fd >= 0)
		close(fd);
	return fifo_read;
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

/*
 * 1 when p is the s6-supervise of a service directory of scandir (a
 * top-level one: not a logger's, not one moved aside or removed).
 */
static int supervises_a_service(const struct proc_info *p, const char *scandir)
{
	size_t n = strlen(scandir);
	if (!p->exe_name || strcmp(p->exe_name, "s6-supervise") || !p->cwd_path ||
	    strncmp(p->cwd_path, scandir, n) || p->cwd_path[n] != '/')
		return 0;
	const char *name = p->cwd_path + n + 1;
	return *name && *name != '.' && !strchr(name, '/') && !strchr(name, ' ');
}

/* 1 when p is pid or descends from it (entries of t). */
static int descends_from(const struct proc_table *t, const struct proc_info *p, pid_t pid)
{
	for (size_t hops = 0; p && hops <= t->n; hops++) {
		if (p->pid == pid)
			return 1;
		p = proc_find(t, p->ppid);
	}
	return 0;
}

/* What the root is named by: as given, and without symbolic links. */
struct root_names {
	const char *given, *real;
};

/* 1 when the file holds name (NUL bytes, as in a cmdline, do not end it). */
static int file_holds(const char *path, const char *name)
{
	char *text = NULL;
	size_t len = 0, nl = strlen(name);
	int found = 0;
	if (nl && fs_read_file(path, 1 << 16, &text, &len) == 0)
		found = memmem(text, len, name, nl) != NULL;
	free(text);
	return found;
}

/*
 * Whether a process working in the scan directory is the root's: one of
 * s6's, or a program whose arguments name the root (an instance, nginx);
 * a shell of the operator's that only sits there is not.
 */
static int of_the_root(const struct proc_info *p, void *ctx)
{
	const struct root_names *r = ctx;
	static const char *const s6[] = { "s6-svscan", "s6-supervise", "s6-log", NULL };
	for (size_t i = 0; p->exe_name && s6[i]; i++)
		if (!strcmp(p->exe_name, s6[i]))
			return 1;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)p->pid);
	return file_holds(path, r->given) || (r->real && file_holds(path, r->real));
}

/*
 * The root's processes: those of_the_root() working in scandir (the root's
 * scan directory without symbolic links), and their descendants.
 */
static void root_processes(const struct proc_table *t, const char *root, const char *scandir,
			   const struct proc_info ***out, size_t *n)
{
	char *real = xstrdup(scandir), *slash = strrchr(real, '/');
	if (slash)
		*slash = '\0';
	struct root_names names = { root, strcmp(real, root) ? real : NULL };
	proc_under(t, scandir, of_the_root, &names, out, n);
	free(real);
}

/*
 * Keeps of the root's processes all[0..m) (root_processes()) those outside
 * the tree, in place; how many.  The tree is the s6-svscan that works in
 * the scan directory itself (one that is starting does too, before it
 * answers) and what it started.  When one answers (running) but cannot be
 * told, none is outside: a running tree is never taken for leftovers.
 */
static size_t keep_outside(const struct proc_table *t, const char *scandir, int running,
			   const struct proc_info **all, size_t m)
{
	const struct proc_info *svscan = NULL;
	size_t n = 0;
	for (size_t i = 0; i < m; i++)
		if (all[i]->exe_name && !strcmp(all[i]->exe_name, "s6-svscan") &&
		    all[i]->cwd_path && !strcmp(all[i]->cwd_path, scandir))
			svscan = all[i];
	for (size_t i = 0; i < m && (!running || svscan); i++)
		if (!svscan || !descends_from(t, all[i], svscan->pid))
			all[n++] = all[i];
	return n;
}

/* The root's processes but the tree (keep_outside()). */
static void outside_list(const struct proc_table *t, const char *root, const char *scandir,
			 const struct proc_info ***out, size_t *n)
{
	int running = answers(scandir);
	root_processes(t, root, scandir, out, n);
	*n = keep_outside(t, scandir, running, *out, *n);
}

/* The scan directory as /proc shows working directories (NULL: there is none). */
static char *real_scandir(const char *root)
{
	char *scandir = paths_services_dir(root), *real = realpath(scandir, NULL);
	free(scandir);
	return real;
}

/*
 * What of the root runs: st->services, the service directories whose
 * s6-supervise runs (in the tree or outside it), and st->outside (of the
 * tree st->running says of).
 */
static void census(const char *root, struct supervisor_status *st)
{
	char *scandir = real_scandir(root);
	struct proc_table t = PROC_TABLE_INIT;
	const struct proc_info **v = NULL;
	size_t n = 0;
	if (scandir && proc_table_read(&t) == 0) {
		root_processes(&t, root, scandir, &v, &n);
		for (size_t i = 0; i < n; i++)
			st->services += supervises_a_service(v[i], scandir);
		st->outside = (int)keep_outside(&t, scandir, st->running, v, n);
	}
	free(v);
	proc_table_free(&t);
	free(scandir);
}

int supervisor_status(const char *root, struct supervisor_status *st)
{
	char *scandir = paths_services_dir(root);
	memset(st, 0, sizeof(*st));
	if (fs_is_dir(scandir)) {
		st->running = answers(scandir);
		if (st->running)
			st->pid = read_pid(scandir);
		census(root, st);
	}
	free(scandir);
	return 0;
}

int supervisor_is_parent(void)
{
	char *path = xasprintf("/proc/%d/comm", (int)getppid()), *comm = NULL;
	int s6 = fs_read_file(path, 64, &comm, NULL) == 0 && !strcmp(comm, "s6-supervise\n");
	free(comm);
	free(path);
	return s6;
}

int supervisor_running(const char *root)
{
	char *scandir = paths_services_dir(root);
	int up = fs_is_dir(scandir) && answers(scandir);
	free(scandir);
	return up;
}

static void pause_ms(int ms)
{
	nanosleep(&(struct timespec){ ms / 1000, (long)(ms % 1000) * 1000000L }, NULL);
}

/* 1 while one of v (of exe name only, or any when NULL) still runs. */
static int any_runs(const struct proc_info *const *v, size_t n, const char *only)
{
	for (size_t i = 0; i < n; i++)
		if ((!only || (v[i]->exe_name && !strcmp(v[i]->exe_name, only))) &&
		    proc_still_runs(v[i]))
			return 1;
	return 0;
}

/* SIGKILL to what of the root runs outside the tree now; how many there were. */
static size_t kill_outside(const char *root, const char *scandir)
{
	struct proc_table t = PROC_TABLE_INIT;
	const struct proc_info **v = NULL;
	size_t n = 0;
	if (proc_table_read(&t) == 0)
		outside_list(&t, root, scandir, &v, &n);
	for (size_t i = 0; i < n; i++)
		kill(v[i]->pid, SIGKILL);
	/* until they are gone: a port or a lock they held is free then */
	for (int i = 0; i < 200 && any_runs(v, n, NULL); i++)
		pause_ms(25);
	free(v);
	proc_table_free(&t);
	return n;
}

int supervisor_end_outside(const char *root, int wait_sec, int *ended)
{
	char *scandir = real_scandir(root);
	struct proc_table t = PROC_TABLE_INIT;
	const struct proc_info **v = NULL;
	size_t n = 0;
	int err = 0;

	if (ended)
		*ended = 0;
	if (!scandir)
		goto done;
	if ((err = proc_table_read(&t)))
		goto done;
	outside_list(&t, root, scandir, &v, &n);
	if (ended)
		*ended = (int)n;
	if (!n)
		goto done;
	/* each s6-supervise brings its service down as it was told to and exits */
	for (size_t i = 0; i < n; i++)
		if (v[i]->exe_name && !strcmp(v[i]->exe_name, "s6-supervise"))
			kill(v[i]->pid, SIGTERM);
	for (int i = 0; i < wait_sec * 20 && any_runs(v, n, "s6-supervise"); i++)
		pause_ms(50);
	/* what is left (a service that ignored its signal, one whose supervisor was killed) */
	for (size_t i = 0; i < n; i++)
		if (proc_still_runs(v[i]))
			kill(v[i]->pid, SIGKILL);
	/* and whatever started meanwhile, until nothing is left */
	for (int round = 0; round < 5 && kill_outside(root, scandir); round++)
		;
done:
	free(v);
	proc_table_free(&t);
	free(scandir);
	return err;
}

static int prepare(const char *root, char **scandir, char **log)
{
	char *logs = paths_logs_dir(root);
	int err;
	*scandir = paths_services_dir(root);
	*log = paths_supervisor_log(root);
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

extern char **environ;

/*
 * Replaces this process with s6-svscan on scandir; returns only if it
 * cannot.  Its environment, which every service inherits: PATH, and where
 * the server user's global git config is (its HOME, as systemd's User=
 * gives it), so that what s6 starts reads the same settings as the
 * command that started the tree.  No allocation: it runs after fork.
 */
static void exec_svscan(const char *scandir)
{
	static const char *const config[] = { "HOME=", "XDG_CONFIG_HOME=", "GIT_CONFIG_GLOBAL=",
					      "GIT_CONFIG_NOSYSTEM=", NULL };
	const char *env[8] = { path_env[0] };
	size_t n = 1;
	for (char **e = environ; e && *e && n < 7; e++)
		for (size_t i = 0; config[i]; i++)
			if (!strncmp(*e, config[i], strlen(config[i]))) {
				env[n++] = *e;
				break;
			}
	env[n] = NULL;
	/* the tree outlives app code under memory pressure (when we may lower it) */
	proc_oom_score_adj(PROC_OOM_TREE);
	/* the capabilities slipway cleared at start, for the router's nginx (util/caps.h) */
	caps_restore_inherited();
	execle("/usr/bin/s6-svscan", "s6-svscan", scandir, (char *)NULL, (char *const *)env);
	execle("/bin/s6-svscan", "s6-svscan", scandir, (char *)NULL, (char *const *)env);
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
	/* a killed tree's supervisors would keep its services: the new tree could not start them */
	if ((err = supervisor_end_outside(root, 30, &st->ended)))
		goto done;
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
		err = supervisor_end_outside(root, 30, NULL);
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

/* What keeps a stopping tree up, for the message: its services still up, or s6-svscan. */
static void still_up(const char *root, pid_t svscan, struct buf *out)
{
	struct strvec names = STRVEC_INIT;
	struct service_state st;
	supervisor_service_names(root, &names);
	strvec_sort(&names);
	for (size_t i = 0; i < names.n; i++)
		if (!supervisor_service_state(root, names.v[i], &st) && st.up)
			buf_addf(out, "%s%s (pid %ld)", out->len ? ", " : "still up: ", names.v[i],
				 st.pid);
	if (!out->len)
		buf_addf(out, "s6-svscan (pid %ld) still runs, no service up", (long)svscan);
	strvec_clear(&names);
}

int supervisor_stop(const char *root, int wait_sec)
{
	char *scandir = paths_services_dir(root);
	int status = -1, err = 0;

	if (!fs_is_dir(scandir))
		goto done;
	if (answers(scandir)) {
		pid_t pid = read_pid(scandir);
		if ((err = s6("s6-svscanctl", "-t", scandir, &status)))
			goto done;
		int i = 0;
		for (; i < wait_sec * 20 && (answers(scandir) || (pid && proc_runs(pid))); i++)
			pause_ms(50);
		if (i == wait_sec * 20) {
			struct buf held = BUF_INIT;
			still_up(root, pid, &held);
			err = sw_error_set(SW_ERROR, "the runtime did not stop within %d s (%s)",
					   wait_sec, held.data);
			buf_release(&held);
			goto done;
		}
	}
	/* what a killed tree left, or what this one did not stop */
	err = supervisor_end_outside(root, wait_sec, NULL);
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

/* ---- service directories ---- */

static char *service_path(const char *root, const char *service)
{
	return paths_service_dir(root, service);
}

int supervisor_service_name_valid(const char *name)
{
	size_t n = strlen(name);
	return n >= 1 && n <= 200 && name[0] != '.' &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@+-") == n;
}

static int check_name(const char *name)
{
	if (!supervisor_service_name_valid(name))
		return sw_error_set(SW_EINVALID, "invalid service name '%s': use letters, digits "
				    "and . _ @ + -, not a dot first", name);
	return 0;
}

/* A file of a service: a plain name that is none of s6's own. */
static int check_file_name(const char *name)
{
	if (!supervisor_service_name_valid(name) || !strcmp(name, "run") ||
	    !strcmp(name, "finish") || !strcmp(name, "log") || !strcmp(name, "supervise") ||
	    !strcmp(name, "data"))
		return sw_error_set(SW_EINVALID, "invalid file name '%s' for a service", name);
	return 0;
}

/* "NAME=value" with NAME a shell variable name. */
static int check_env(const char *e)
{
	const char *eq = strchr(e, '=');
	size_t n = eq ? (size_t)(eq - e) : 0;
	if (!n || (e[0] >= '0' && e[0] <= '9') ||
	    strspn(e, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != n)
		return sw_error_set(SW_EINVALID, "invalid environment entry '%.*s' for a service",
				    (int)(eq ? n : strlen(e)), e);
	return 0;
}

static int check_desc(const struct service_desc *d)
{
	int err = check_name(d->name ? d->name : "");
	if (!err && !d->run)
		err = sw_error_set(SW_EINVALID, "the service '%s' has no run program", d->name);
	for (size_t i = 0; !err && i < d->nfiles; i++)
		err = check_file_name(d->files[i].name);
	for (size_t i = 0; !err && d->env && d->env[i]; i++)
		err = check_env(d->env[i]);
	return err;
}

/*
 * A file of a service directory still under its dot-name: written plainly,
 * without fsync - a service directory is rebuilt from the ledger, never
 * trusted across a crash, and a switch should not wait for the disk.
 */
static int put_file(const char *dir, const char *name, const char *data, size_t len, mode_t mode)
{
	char *path = xasprintf("%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	int err = fd < 0 || fs_write_all(fd, data, len) < 0
		  ? sw_error_errno(SW_ERROR, "cannot write '%s'", path) : 0;
	if (fd >= 0 && close(fd) < 0 && !err)
		err = sw_error_errno(SW_ERROR, "cannot write '%s'", path);
	free(path);
	return err;
}

/*
 * The lines that open a run program which does not keep the tree's
 * capabilities: holding any ambient one (util/caps.h), it runs itself
 * again under setpriv (util-linux) without any, ambient or inheritable.
 * read is the shell's own: /proc/self is the shell, and no process starts
 * when there is nothing to clear.
 */
static const char drop_caps[] =
	"while read -r k v; do [ \"$k\" = CapAmb: ] && break; done </proc/self/status\n"
	"[ -z \"$v\" ] || [ \"$v\" = 0000000000000000 ] ||\n"
	"\texec /usr/bin/setpriv --inh-caps=-all --ambient-caps=-all \"$0\"\n";

/* A whole program of the caller's (log/run), drop_caps after its first line. */
static void without_caps(const char *prog, struct buf *out)
{
	const char *nl = strchr(prog, '\n');
	size_t first = nl ? (size_t)(nl - prog) + 1 : strlen(prog);
	buf_add(out, prog, first);
	buf_adds(out, drop_caps);
	buf_adds(out, prog + first);
}

/* run: the shebang, what it is, the capabilities cleared, the env exported, then the caller's lines. */
static void run_program(const struct service_desc *d, struct buf *run)
{
	buf_addf(run, "#!/bin/sh\n# written by slipway: %s\n", d->about ? d->about : d->name);
	if (!d->keep_caps)
		buf_adds(run, drop_caps);
	for (size_t i = 0; d->env && d->env[i]; i++) {
		const char *eq = strchr(d->env[i], '=');
		buf_addf(run, "export %.*s=", (int)(eq - d->env[i]), d->env[i]);
		buf_add_shell_quoted(run, eq + 1);
		buf_adds(run, "\n");
	}
	buf_adds(run, d->run);
}

/* Every file of the service, into the directory tmp. */
static int fill(const char *tmp, const struct service_desc *d)
{
	struct buf run = BUF_INIT;
	int err;
	run_program(d, &run);
	err = put_file(tmp, "run", run.data, run.len, 0755);
	buf_release(&run);
	if (!err && d->finish)
		err = put_file(tmp, "finish", d->finish, strlen(d->finish), 0755);
	for (size_t i = 0; !err && i < d->nfiles; i++)
		err = put_file(tmp, d->files[i].name, d->files[i].data, d->files[i].len,
			       d->files[i].mode);
	if (!err && d->check) {
		char *sub = xasprintf("%s/data", tmp);
		if (mkdir(sub, 0755) < 0)
			err = sw_error_errno(SW_ERROR, "cannot create '%s'", sub);
		else
			err = put_file(sub, "check", d->check, strlen(d->check), 0755);
		free(sub);
	}
	if (!err && d->log_run) {
		char *sub = xasprintf("%s/log", tmp);
		struct buf log = BUF_INIT;
		without_caps(d->log_run, &log);
		if (mkdir(sub, 0755) < 0)
			err = sw_error_errno(SW_ERROR, "cannot create '%s'", sub);
		else
			err = put_file(sub, "run", log.data, log.len, 0755);
		buf_release(&log);
		free(sub);
	}
	return err;
}

int supervisor_service_write(const char *root, const struct service_desc *d)
{
	char *scandir = NULL, *final = NULL, *tmp = NULL;
	int err;

	if ((err = check_desc(d)))
		return err;
	scandir = paths_services_dir(root);
	final = paths_service_dir(root, d->name);
	if (!d->replace && fs_exists(final)) {
		err = sw_error_set(SW_EEXISTS, "the service '%s' exists", d->name);
		goto done;
	}
	if ((err = fs_mkdir_p(scandir, 0700)) || (err = fs_mkdtemp(scandir, ".new-", &tmp)) ||
	    (err = fill(tmp, d)))
		goto done;
	if (d->replace)
		fs_rm_rf(final); /* a leftover of the same name is a killed switch's */
	if (rename(tmp, final) < 0)
		err = sw_error_errno(SW_ERROR, "cannot add the service '%s'", d->name);
done:
	if (err && tmp) {
		struct sw_error_state first;
		sw_error_save(&first, err);
		fs_rm_rf(tmp);
		err = sw_error_restore(&first);
	}
	free(tmp);
	free(final);
	free(scandir);
	return err;
}

int supervisor_service_update(const char *root, const struct service_desc *d)
{
	struct buf run = BUF_INIT;
	int err = check_desc(d), status = -1;
	if (err)
		return err;
	if (d->log_run)
		return sw_error_set(SW_EINVALID, "the service '%s' cannot change its logger in place",
				    d->name);
	if (!supervisor_service_exists(root, d->name))
		return sw_error_set(SW_ENOTFOUND, "no service '%s'", d->name);
	/* the files first, run last: what starts next reads them all */
	for (size_t i = 0; !err && i < d->nfiles; i++)
		err = supervisor_service_put(root, d->name, &d->files[i]);
	if (!err && d->finish) {
		struct service_file f = { "finish", d->finish, strlen(d->finish), 0755 };
		err = supervisor_service_put(root, d->name, &f);
	}
	run_program(d, &run);
	struct service_file r = { "run", run.data, run.len, 0755 };
	if (!err)
		err = supervisor_service_put(root, d->name, &r);
	buf_release(&run);
	if (err)
		return err;
	/* -r: a process that runs is stopped and started again; -u: one that is down starts */
	char *dir = service_path(root, d->name);
	const char *argv[] = { "s6-svc", "-r", "-u", dir, NULL };
	if (!(err = supervisor_s6(argv, &status, NULL)) && status)
		err = sw_error_set(SW_ERROR, "s6 did not restart the service '%s' (s6-svc: exit %d)",
				   d->name, status);
	free(dir);
	return err;
}

int supervisor_service_put(const char *root, const char *service, const struct service_file *f)
{
	int err = check_name(service);
	if (!err && strcmp(f->name, "finish") && strcmp(f->name, "run"))
		err = check_file_name(f->name);
	if (err)
		return err;
	char *dir = service_path(root, service), *path = xasprintf("%s/%s", dir, f->name);
	err = fs_write_replace(path, f->data, f->len, f->mode);
	free(path);
	free(dir);
	return err;
}

int supervisor_service_read(const char *root, const char *service, const char *file, size_t max,
			    char **text)
{
	*text = NULL;
	if (!supervisor_service_name_valid(service))
		return sw_error_set(SW_ENOTFOUND, "no service '%s'", service);
	char *dir = service_path(root, service), *path = xasprintf("%s/%s", dir, file);
	int err = fs_read_file(path, max, text, NULL);
	free(path);
	free(dir);
	return err;
}

int supervisor_service_exists(const char *root, const char *service)
{
	char *dir = service_path(root, service);
	int there = supervisor_service_name_valid(service) && fs_is_dir(dir);
	free(dir);
	return there;
}

void supervisor_service_names(const char *root, struct strvec *out)
{
	char *scandir = paths_services_dir(root);
	DIR *d = opendir(scandir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (supervisor_service_name_valid(e->d_name))
			strvec_push(out, e->d_name);
	if (d)
		closedir(d);
	free(scandir);
}

int supervisor_service_state(const char *root, const char *service, struct service_state *st)
{
	char *dir = service_path(root, service);
	const char *argv[] = { "s6-svstat", "-o", "up,wantedup,pid,updownfor,ready", dir, NULL };
	struct buf out = BUF_INIT;
	char up[8] = "", wanted[8] = "", ready[8] = "";
	int status = -1, err = -1;

	memset(st, 0, sizeof(*st));
	if (supervisor_service_name_valid(service) && fs_is_dir(dir) &&
	    supervisor_s6(argv, &status, &out) == 0 && status == 0 &&
	    sscanf(out.data, "%7s %7s %ld %lld %7s", up, wanted, &st->pid, &st->seconds, ready) == 5) {
		st->up = !strcmp(up, "true");
		st->ready = st->up && !strcmp(ready, "true");
		st->wanted_up = !strcmp(wanted, "true");
		if (st->pid < 0)
			st->pid = 0;
		err = 0;
	}
	if (err)
		memset(st, 0, sizeof(*st));
	buf_release(&out);
	free(dir);
	return err;
}

long supervisor_service_own_pid(const char *root, const char *service, long pid)
{
	char proc[64];
	struct stat a, b;
	struct service_state st;
	if (pid <= 0 || !supervisor_service_name_valid(service))
		return 0;
	snprintf(proc, sizeof(proc), "/proc/%ld/cwd", pid);
	if (stat(proc, &a) < 0) {
		/*
		 * a process holding capabilities this one lacks (the router's
		 * nginx: util/caps.h) hides its cwd: s6 says whether it is the service's
		 */
		if (errno != EACCES || supervisor_service_state(root, service, &st) < 0 || !st.up)
			return 0;
		return st.pid == pid ? pid : 0;
	}
	char *dir = service_path(root, service);
	if (stat(dir, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		pid = 0;
	free(dir);
	return pid;
}

/* s6-svc's option for a signal, NULL for one it does not send. */
static const char *svc_option(int sig)
{
	static const struct { int sig; const char *opt; } opts[] = {
		{ SIGHUP, "-h" }, { SIGUSR1, "-1" }, { SIGUSR2, "-2" }, { SIGTERM, "-t" },
		{ SIGINT, "-i" }, { SIGKILL, "-k" }, { SIGALRM, "-a" }, { SIGCONT, "-c" },
		{ SIGSTOP, "-p" }, { SIGQUIT, "-q" },
	};
	for (size_t i = 0; i < sizeof(opts) / sizeof(*opts); i++)
		if (opts[i].sig == sig)
			return opts[i].opt;
	return NULL;
}

int supervisor_service_signal(const char *root, const char *service, int sig)
{
	const char *opt = svc_option(sig);
	int err = check_name(service), status = -1;
	if (!err && !opt)
		err = sw_error_set(SW_EINVALID, "s6 does not send signal %d", sig);
	if (err)
		return err;
	char *dir = service_path(root, service);
	const char *argv[] = { "s6-svc", opt, dir, NULL };
	if (!(err = supervisor_s6(argv, &status, NULL)) && status)
		err = sw_error_set(SW_ERROR, "s6 did not signal the service '%s' (s6-svc %s: exit %d)",
				   service, opt, status);
	free(dir);
	return err;
}

int supervisor_service_down(const char *root, const char *service, int wait_sec)
{
	int err = check_name(service), status = -1;
	if (err)
		return err;
	char *dir = service_path(root, service), *ms = xasprintf("%d", wait_sec * 1000);
	const char *now[] = { "s6-svc", "-d", dir, NULL };
	const char *wait[] = { "s6-svc", "-wD", "-T", ms, "-d", dir, NULL };
	if (!(err = supervisor_s6(wait_sec > 0 ? wait : now, &status, NULL)) && status)
		err = wait_sec > 0
		      ? sw_error_set(SW_ETIMEOUT, "the service '%s' did not stop within %d s", service,
				     wait_sec)
		      : sw_error_set(SW_ERROR, "s6 would not stop the service '%s'", service);
	free(ms);
	free(dir);
	return err;
}

int supervisor_service_up(const char *root, const char *service)
{
	int err = check_name(service), status = -1;
	if (err)
		return err;
	char *dir = service_path(root, service);
	const char *argv[] = { "s6-svc", "-u", dir, NULL };
	if (!(err = supervisor_s6(argv, &status, NULL)) && status)
		err = sw_error_set(SW_ERROR, "s6 would not start the service '%s'", service);
	free(dir);
	return err;
}

int supervisor_service_wait_ready(const char *root, const char *service, int wait_sec)
{
	int err = check_name(service), status = -1;
	if (err)
		return err;
	/* s6-svwait needs the service's supervisor: one just added waits for the tree's scan */
	long long deadline = run_now_ms() + wait_sec * 1000LL;
	struct service_state st;
	while (supervisor_service_state(root, service, &st) < 0 && run_now_ms() < deadline) {
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
	long long left = deadline - run_now_ms();
	char *dir = service_path(root, service), *ms = xasprintf("%lld", left > 0 ? left : 1);
	const char *argv[] = { "s6-svwait", "-U", "-t", ms, dir, NULL };
	if (!(err = supervisor_s6(argv, &status, NULL)) && status)
		err = status == 99 ? sw_error_set(SW_ETIMEOUT, "the service '%s' was not ready within %d s",
						  service, wait_sec)
				   : sw_error_set(SW_ERROR, "s6 cannot wait for the service '%s' (s6-svwait: exit %d)",
						  service, status);
	free(ms);
	free(dir);
	return err;
}

int supervisor_service_move_aside(const char *root, const char *service)
{
	char *scandir = paths_services_dir(root), *dir = NULL, *tmp = NULL;
	int err = -1;
	if (supervisor_service_name_valid(service) &&
	    fs_mkdtemp(scandir, ".gone-", &tmp) == 0) {
		char *to = xasprintf("%s/svc", tmp);
		dir = paths_service_dir(root, service);
		if (rename(dir, to) == 0)
			err = 0;
		else
			rmdir(tmp);
		free(to);
	}
	free(tmp);
	free(dir);
	free(scandir);
	return err;
}

/* 1 when an s6-supervise runs in dir (s6-svok answers 0). */
static int supervised(const char *dir)
{
	const char *argv[] = { "s6-svok", dir, NULL };
	int status = 0;
	return !(supervisor_s6(argv, &status, NULL) == 0 && status != 0);
}

void supervisor_sweep(const char *root)
{
	char *scandir = paths_services_dir(root);
	DIR *d = opendir(scandir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, ".gone-", 6))
			continue;
		char *top = xasprintf("%s/%s", scandir, e->d_name), *svc = xasprintf("%s/svc", top);
		char *log = xasprintf("%s/log", svc);
		/* gone once neither the instance's supervisor nor its logger's runs */
		if (!fs_exists(svc) || (!supervised(svc) && (!fs_exists(log) || !supervised(log))))
			fs_rm_rf(top);
		free(log);
		free(svc);
		free(top);
	}
	if (d)
		closedir(d);
	free(scandir);
}

void supervisor_service_remove(const char *root, const struct strvec *names)
{
	char *scandir = paths_services_dir(root);
	for (size_t i = 0; i < names->n; i++) {
		supervisor_service_down(root, names->v[i], 0);
		supervisor_service_move_aside(root, names->v[i]);
	}
	if (names->n) {
		/* s6-svscan lets the supervisors of what moved away go, once their process is down */
		const char *prune[] = { "s6-svscanctl", "-an", scandir, NULL };
		int status;
		supervisor_s6(prune, &status, NULL);
	}
	supervisor_sweep(root);
	free(scandir);
}

int supervisor_schedule_ensure(const char *root, const char *name, const char *about,
			       const char *command)
{
	if (!supervisor_running(root))
		return 0;
	if (supervisor_service_exists(root, name)) {
		supervisor_service_signal(root, name, SIGALRM);
		return 0;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return sw_error_errno(SW_ERROR, "cannot find the slipway executable");
	self[n] = '\0';
	struct buf run = BUF_INIT;
	struct strvec env = STRVEC_INIT;
	settings_env(&env);
	/* a killed supervisor takes the schedule along */
	buf_adds(&run, "exec /usr/bin/setpriv --pdeathsig TERM ");
	buf_add_shell_quoted(&run, self);
	buf_adds(&run, " --root ");
	buf_add_shell_quoted(&run, root);
	buf_addf(&run, " %s 2>&1\n", command);
	struct service_desc d = {
		.name = name, .about = about, .env = (const char *const *)env.v, .run = run.data,
		.replace = 1,
	};
	int err = supervisor_service_write(root, &d);
	if (!err)
		err = supervisor_rescan(root); /* it looks for due work when it starts */
	buf_release(&run);
	strvec_clear(&env);
	return err;
}
