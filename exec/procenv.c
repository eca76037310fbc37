#define _GNU_SOURCE
#include "exec/procenv.h"

#include "util/error.h"
#include "util/fsutil.h"
#include "util/proc.h"
#include "util/run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROFILE                                                                    \
	"for f in /app/.profile.d/*.sh; do [ -r \"$f\" ] && . \"$f\"; done; "       \
	"[ -r /app/.profile ] && . /app/.profile; "

const char procenv_launcher[] = PROFILE "exec /bin/sh -c \"$1\"";
const char procenv_launcher_exec[] = PROFILE "exec \"$@\"";

/*
 * Makes the terminal on stdin the command's, from inside the sandbox:
 * setsid(1) forks (the sandbox's process leads a session already) and
 * waits.  The shell between keeps the status the shell's way (128+signal)
 * where setsid would make up one for a command a signal ended; it outlives
 * the keys' ^C and ^\ (a trap, not an ignore, so the command gets them).
 */
static const char *const ctty_argv[] = {
	"setsid", "-w", "--ctty", "/bin/sh", "-c", "trap : INT QUIT; \"$@\"; exit $?", "sh", NULL
};

void procenv_argv(const char *const *words, size_t n, struct strvec *out)
{
	strvec_push(out, "/bin/sh");
	strvec_push(out, "-c");
	strvec_push(out, n == 1 ? procenv_launcher : procenv_launcher_exec);
	strvec_push(out, "sh");
	for (size_t i = 0; i < n; i++)
		strvec_push(out, words[i]);
}

void procenv_env(const struct config *cfg, int port, const char *dyno, const struct sandbox *sb,
		 const char *home, struct strvec *env)
{
	for (size_t i = 0; i < cfg->n; i++)
		if (strcmp(cfg->items[i].key, "PORT") && strcmp(cfg->items[i].key, "DYNO"))
			strvec_pushf(env, "%s=%s", cfg->items[i].key, cfg->items[i].value);
	strvec_pushf(env, "PORT=%d", port);
	strvec_pushf(env, "DYNO=%s", dyno);
	sandbox_env(sb, home, env);
}

static volatile sig_atomic_t stop_asked;
static int caught;
static sigset_t stops, waitmask;

static void on_stop(int sig)
{
	(void)sig;
	stop_asked = 1;
}

static void on_child(int sig)
{
	(void)sig; /* only wakes the wait */
}

void procenv_catch_stops(const int *sigs)
{
	struct sigaction sa = { .sa_handler = on_stop }, chld = { .sa_handler = on_child };
	sigset_t block;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&chld.sa_mask);
	sigemptyset(&stops);
	for (size_t i = 0; sigs[i]; i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(&stops, sigs[i]);
	}
	sigaction(SIGCHLD, &chld, NULL);
	block = stops;
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	for (size_t i = 0; sigs[i]; i++)
		sigdelset(&waitmask, sigs[i]);
	sigdelset(&waitmask, SIGCHLD);
	caught = 1;
}

int procenv_stop_asked(void)
{
	sigset_t pending;
	if (stop_asked)
		return 1;
	if (!caught || sigpending(&pending) < 0)
		return 0;
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&stops, sig) == 1 && sigismember(&pending, sig) == 1)
			return 1;
	return 0;
}

void procenv_ask_stop(void)
{
	stop_asked = 1;
}

const sigset_t *procenv_waitmask(void)
{
	return caught ? &waitmask : NULL;
}

/* In the child: fd from becomes fd to, open across exec; -1 when it cannot. */
static int pass_fd(int from, int to)
{
	if (from == to)
		return fcntl(to, F_SETFD, 0);
	return dup2(from, to) < 0 ? -1 : 0;
}

/* In the child: its limits and signals, fds 0 to 5, its directory; then argv. */
static void exec_child(const struct procenv_start_opts *o, char *const *argv, int info_fd,
		       int block_fd, int resolv_fd)
{
	static const int dfl[] = { SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD };
	struct sigaction sa = { .sa_handler = SIG_DFL };
	/* its limits (sb->limits) before anything of it runs; unlimited it must not run */
	if (o->sb->limits && limits_join(o->sb->limits) < 0)
		_exit(126);
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(dfl) / sizeof(*dfl); i++)
		sigaction(dfl[i], &sa, NULL);
	if (caught)
		sigprocmask(SIG_SETMASK, &waitmask, NULL);
	if (o->own_group && !o->sb->off)
		setpgid(0, 0);
	struct rlimit core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &core);
	proc_oom_score_adj(PROC_OOM_APP);
	if (o->sb->max_file_size) {
		struct rlimit fs = { o->sb->max_file_size, o->sb->max_file_size };
		setrlimit(RLIMIT_FSIZE, &fs); /* lowering only: a failure leaves ours */
	}
	if (!o->keep_stdin) {
		int null = open("/dev/null", O_RDONLY);
		if (null < 0 || dup2(null, 0) < 0)
			_exit(127);
	}
	if (o->out_fd > 0 && (dup2(o->out_fd, 1) < 0 || dup2(o->out_fd, 2) < 0))
		_exit(127);
	if (o->tty_fd > 0 &&
	    (dup2(o->tty_fd, 0) < 0 || dup2(o->tty_fd, 1) < 0 || dup2(o->tty_fd, 2) < 0))
		_exit(127);
	/* unsandboxed, it is the command: a session of its own, the terminal its own */
	if (o->tty_fd > 0 && o->sb->off && (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0))
		_exit(127);
	/* in this order: each pipe was made after the one before, so none is another's target */
	if ((info_fd >= 0 && pass_fd(info_fd, 3) < 0) || (block_fd >= 0 && pass_fd(block_fd, 4) < 0) ||
	    (resolv_fd >= 0 && pass_fd(resolv_fd, 5) < 0))
		_exit(127);
	if ((!o->sb->off && chdir("/") < 0) || (o->sb->off && chdir(o->dir) < 0))
		_exit(127);
	if (o->overlay && overlay_wanted(o->overlay))
		overlay_mount(o->overlay);
	execvpe(argv[0], argv, o->env);
	_exit(127);
}

/* The child could not mount the overlay: it exited; reaped here. */
static int overlay_not_mounted(struct procenv_proc *p, struct overlay *ov)
{
	int err = overlay_started(ov);
	if (err) {
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
		memset(p, 0, sizeof(*p));
	}
	return err;
}

int procenv_start(const struct procenv_start_opts *o, struct procenv_proc *p)
{
	struct strvec argv = STRVEC_INIT, inner = STRVEC_INIT;
	struct sandbox sb = *o->sb; /* shares its strings: never released */
	int info[2] = { -1, -1 }, block[2] = { -1, -1 }, resolv[2] = { -1, -1 }, err = 0;
	char *conf = NULL, dns[APPNET_ADDR_MAX] = "";

	memset(p, 0, sizeof(*p));
	if (o->sb->off) {
		for (size_t i = 0; o->argv[i]; i++)
			strvec_push(&argv, o->argv[i]);
	} else {
		int own_dns = o->sb->appnet && appnet_resolv_conf("/etc/resolv.conf", &conf, dns);
		/* the info pipe first, then block, then resolv: see exec_child() */
		if (pipe2(info, O_CLOEXEC) < 0 ||
		    (o->sb->appnet && pipe2(block, O_CLOEXEC) < 0) ||
		    (own_dns && (pipe2(resolv, O_CLOEXEC) < 0 ||
				 fs_write_all(resolv[1], conf, strlen(conf)) < 0))) {
			err = sw_error_errno(SW_ERROR, "cannot start the process");
			goto done;
		}
		if (o->sb->appnet) {
			/* its own network namespace; the command waits on fd 4 for the forwarder */
			sb.network = 0;
			sb.block_fd = 4;
			sb.resolv_fd = own_dns ? 5 : 0; /* a resolv.conf is far below a pipe's buffer */
		}
		if (resolv[1] >= 0) {
			close(resolv[1]);
			resolv[1] = -1;
		}
		if (o->tty_fd > 0) {
			for (size_t i = 0; ctty_argv[i]; i++)
				strvec_push(&inner, ctty_argv[i]);
			for (size_t i = 0; o->argv[i]; i++)
				strvec_push(&inner, o->argv[i]);
		}
		sandbox_command(&sb, o->tty_fd > 0 ? (const char *const *)inner.v : o->argv,
				o->dir, 3, &argv);
	}
	if (o->overlay && overlay_wanted(o->overlay) && (err = overlay_arm(o->overlay)))
		goto done;
	pid_t pid = fork();
	if (pid < 0) {
		err = sw_error_errno(SW_ERROR, "cannot start the process");
		goto done;
	}
	if (pid == 0)
		exec_child(o, argv.v, info[1], block[0], resolv[0]);
	p->pid = pid;
	if (info[1] >= 0) {
		close(info[1]);
		info[1] = -1;
		sandbox_read_info(info[0], &p->ns, &p->init);
	}
	if (o->overlay && overlay_wanted(o->overlay))
		err = overlay_not_mounted(p, o->overlay);
	if (!err && block[1] >= 0 && p->init > 0 &&
	    (err = appnet_start(&p->net, p->init, o->forward_port, o->sb->host_ports, dns,
				o->out_fd)) < 0) {
		procenv_kill(p); /* it never ran its command */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		p->pid = 0;
	}
	if (block[1] >= 0 && !err)
		fs_write_all(block[1], "1", 1); /* the command runs */
done:
	for (int i = 0; i < 2; i++) {
		if (info[i] >= 0)
			close(info[i]);
		if (block[i] >= 0)
			close(block[i]);
		if (resolv[i] >= 0)
			close(resolv[i]);
	}
	free(conf);
	strvec_clear(&argv);
	strvec_clear(&inner);
	return err;
}

int procenv_net_lost(struct procenv_proc *p)
{
	int had = p->net.pid > 0;
	return had && !appnet_running(&p->net);
}

void procenv_release(struct procenv_proc *p)
{
	appnet_stop(&p->net);
}

#define SIGNALLED_MAX 4096

/*
 * Sends sig to every process in the PID namespace whose inode is ns, but
 * its init.  Reading /proc while processes come and go can skip entries,
 * so it reads again until a whole pass finds no process it had not
 * signalled yet (at most a few passes).  How many it signalled.
 */
static int signal_namespace(unsigned long long ns, pid_t init, int sig)
{
	static pid_t done[SIGNALLED_MAX];
	size_t ndone = 0;
	for (int pass = 0; pass < 5; pass++) {
		DIR *d = opendir("/proc");
		struct dirent *e;
		int fresh = 0;
		if (!d)
			break;
		while ((e = readdir(d))) {
			pid_t pid = (pid_t)atoi(e->d_name);
			if (pid <= 0 || pid == init)
				continue;
			char path[64];
			struct stat st;
			snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
			if (stat(path, &st) != 0 || (unsigned long long)st.st_ino != ns)
				continue;
			size_t k = 0;
			while (k < ndone && done[k] != pid)
				k++;
			if (k < ndone)
				continue;
			kill(pid, sig);
			fresh = 1;
			if (ndone < SIGNALLED_MAX)
				done[ndone++] = pid;
		}
		closedir(d);
		if (!fresh && pass > 0)
			break;
	}
	return (int)ndone;
}

int procenv_signal(const struct procenv_proc *p, int sig)
{
	if (p->ns)
		return signal_namespace(p->ns, p->init, sig);
	return kill(p->pid, sig) == 0;
}

void procenv_kill(const struct procenv_proc *p)
{
	/* the namespace's init takes everything in it along */
	kill(p->init > 0 ? p->init : p->pid, SIGKILL);
	kill(p->pid, SIGKILL);
}

int procenv_wait(const struct procenv_proc *p, int stop_sec)
{
	return procenv_wait_tty(p, stop_sec, NULL);
}

int procenv_wait_tty(const struct procenv_proc *p, int stop_sec, struct tty_relay *relay)
{
	long long kill_at = 0;
	int st;
	for (;;) {
		/* with the stops caught, they and SIGCHLD come only inside ppoll: none is missed */
		pid_t r = waitpid(p->pid, &st, caught || kill_at ? WNOHANG : 0);
		if (r == p->pid)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
		if (stop_asked && !kill_at) {
			procenv_signal(p, SIGTERM);
			kill_at = run_now_ms() + stop_sec * 1000LL;
		}
		if (kill_at && run_now_ms() >= kill_at)
			procenv_kill(p);
		struct timespec tick = { 0, 20 * 1000 * 1000 };
		struct pollfd pfd[TTY_RELAY_FDS];
		int n = relay && caught ? tty_relay_fds(relay, pfd) : 0;
		if (caught) {
			if (ppoll(pfd, (nfds_t)n, kill_at ? &tick : NULL, &waitmask) <= 0)
				n = 0; /* nothing ready: a signal, or the tick */
		} else if (kill_at) {
			nanosleep(&tick, NULL);
		}
		if (relay)
			tty_relay_step(relay, pfd, n);
	}
	if (relay)
		tty_relay_drain(relay);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
