#define _GNU_SOURCE
#include "util/run.h"

#include "util/error.h"
#include "util/fsutil.h"
#include "util/proc.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define RUN_CAPTURE_DEFAULT ((size_t)10 * 1024 * 1024)
#define RUN_POLL_MS 100   /* without a pidfd: at most this long between looks at the child */
#define RUN_FIRST_MS 1    /* without a pidfd: the first look after the pipes closed */
#define RUN_DRAIN_MS 2000 /* after exit: how long we wait for the pipes' EOF */

/* What the child reports through the close-on-exec pipe when it cannot exec. */
enum { STAGE_SETUP = 1, STAGE_CHDIR, STAGE_EXEC };
struct exec_report {
	int stage;
	int err;
};

/* One output pipe of the child, split into lines. */
struct stream {
	int fd;
	int is_stdout;
	size_t len;
	char line[RUN_LINE_MAX + 1];
};

/* Everything prepared before fork, so the child only makes async-signal-safe calls. */
struct launch {
	struct strvec paths; /* candidates for argv[0], in PATH order */
	char *const *envp;
	int devnull, out[2], err[2], rep[2];
};

long long run_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The PATH the child will see: from its env if given, else ours. */
static const char *child_path(const struct run_opts *o)
{
	const char *p = NULL;
	if (o->env) {
		for (size_t i = 0; o->env[i]; i++)
			if (!strncmp(o->env[i], "PATH=", 5))
				p = o->env[i] + 5;
	} else {
		p = getenv("PATH");
	}
	return p ? p : "/usr/local/bin:/usr/bin:/bin";
}

static void resolve_program(struct strvec *out, const struct run_opts *o)
{
	const char *prog = o->argv[0];
	if (strchr(prog, '/')) {
		strvec_push(out, prog);
		return;
	}
	const char *p = child_path(o);
	for (;;) {
		const char *colon = strchrnul(p, ':');
		int n = (int)(colon - p);
		if (n == 0)
			strvec_pushf(out, "./%s", prog);
		else
			strvec_pushf(out, "%.*s/%s", n, p, prog);
		if (!*colon)
			break;
		p = colon + 1;
	}
}

/* Moves fd above 2 (close-on-exec) so the dup2()s in the child cannot clash. */
static int fd_high(int *fd)
{
	if (*fd > 2)
		return 0;
	int nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0)
		return -1;
	close(*fd);
	*fd = nfd;
	return 0;
}

static int launch_prepare(struct launch *l, const struct run_opts *o)
{
	resolve_program(&l->paths, o);
	l->envp = o->env ? (char *const *)o->env : environ;
	const char *in = o->input_path ? o->input_path : "/dev/null";
	l->devnull = open(in, O_RDONLY | O_CLOEXEC);
	if (l->devnull < 0 || fd_high(&l->devnull) < 0)
		return sw_error_errno(SW_ERROR, "cannot open '%s'", in);
	if (pipe2(l->out, O_CLOEXEC) < 0 || pipe2(l->err, O_CLOEXEC) < 0 ||
	    pipe2(l->rep, O_CLOEXEC) < 0)
		return sw_error_errno(SW_ERROR, "cannot create a pipe");
	for (int i = 0; i < 2; i++)
		if (fd_high(&l->out[i]) < 0 || fd_high(&l->err[i]) < 0 ||
		    fd_high(&l->rep[i]) < 0)
			return sw_error_errno(SW_ERROR, "cannot create a pipe");
	return 0;
}

static void launch_release(struct launch *l)
{
	strvec_clear(&l->paths);
	close_fd(&l->devnull);
	for (int i = 0; i < 2; i++) {
		close_fd(&l->out[i]);
		close_fd(&l->err[i]);
		close_fd(&l->rep[i]);
	}
}

static void __attribute__((noreturn)) child_fail(int rep, int stage, int err)
{
	struct exec_report r = { stage, err };
	ssize_t w = write(rep, &r, sizeof(r));
	(void)w;
	_exit(127);
}

/* Runs in the child between fork and exec: async-signal-safe calls only. */
static void __attribute__((noreturn)) child_exec(const struct launch *l,
						 const struct run_opts *o)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL); /* a writer ignores it to finish its work; its children do not */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	if (o->max_file_size) {
		struct rlimit rl;
		/* never above the limit we run under: lowering is always allowed */
		if (getrlimit(RLIMIT_FSIZE, &rl) < 0)
			child_fail(l->rep[1], STAGE_SETUP, errno);
		if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > o->max_file_size)
			rl.rlim_max = o->max_file_size;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			child_fail(l->rep[1], STAGE_SETUP, errno);
	}
	/* raising it is always allowed: only a lower value may be refused, and left */
	if (o->oom_score_adj)
		proc_oom_score_adj(o->oom_score_adj);
	if (o->no_core) {
		struct rlimit rl = { 0, 0 };
		if (setrlimit(RLIMIT_CORE, &rl) < 0)
			child_fail(l->rep[1], STAGE_SETUP, errno);
	}
	if (dup2(l->devnull, 0) < 0 || dup2(l->out[1], 1) < 0 ||
	    dup2(l->err[1], 2) < 0)
		child_fail(l->rep[1], STAGE_SETUP, errno);
	if (o->dir && chdir(o->dir) < 0)
		child_fail(l->rep[1], STAGE_CHDIR, errno);
	if (o->before_exec)
		o->before_exec(o->before_exec_ctx);
	int err = ENOENT, saw_eacces = 0;
	for (size_t i = 0; i < l->paths.n; i++) {
		execve(l->paths.v[i], (char *const *)o->argv, l->envp);
		err = errno;
		if (err == EACCES)
			saw_eacces = 1;
		else if (err != ENOENT && err != ENOTDIR && err != ELOOP &&
			 err != ENAMETOOLONG && err != ESTALE)
			break;
	}
	child_fail(l->rep[1], STAGE_EXEC, saw_eacces && err == ENOENT ? EACCES : err);
}

/* Reads the exec report: 0 when the program started, else the error. */
static int exec_result(int rep, const struct run_opts *o)
{
	struct exec_report r;
	ssize_t n;
	while ((n = read(rep, &r, sizeof(r))) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(r))
		return 0;
	errno = r.err;
	int code = r.err == ENOENT || r.err == ENOTDIR ? SW_ENOTFOUND : SW_ERROR;
	if (r.stage == STAGE_CHDIR)
		return sw_error_errno(code, "cannot change to directory '%s'", o->dir);
	if (r.stage == STAGE_EXEC && code == SW_ENOTFOUND)
		return sw_error_set(code, "cannot run '%s': program not found", o->argv[0]);
	if (r.stage == STAGE_EXEC)
		return sw_error_errno(code, "cannot run '%s'", o->argv[0]);
	return sw_error_errno(SW_ERROR, "cannot set up the child for '%s'", o->argv[0]);
}

static void deliver(struct stream *s, const struct run_opts *o)
{
	s->line[s->len] = '\0';
	if (o->on_line)
		o->on_line(s->line, s->len, o->ctx);
	s->len = 0;
}

/* Splits data into lines; a line that fills RUN_LINE_MAX is delivered as a piece. */
static void stream_feed(struct stream *s, const char *data, size_t len,
			const struct run_opts *o)
{
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t seg = nl ? (size_t)(nl - data) : len;
		while (seg) {
			if (s->len == RUN_LINE_MAX)
				deliver(s, o);
			size_t n = RUN_LINE_MAX - s->len;
			if (n > seg)
				n = seg;
			memcpy(s->line + s->len, data, n);
			s->len += n;
			data += n;
			len -= n;
			seg -= n;
		}
		if (nl) {
			deliver(s, o);
			data++;
			len--;
		}
	}
}

/* State of one run after the child started. */
struct watch {
	pid_t pid;
	int pidfd;     /* readable once the child has exited; -1 if the kernel has none */
	int exited;    /* the direct child has exited (not reaped yet) */
	int killed;    /* we sent SIGKILL to the group */
	int timed_out;
	int overflow;
	int stopped;   /* o->check said stop */
	struct sw_error_state why;  /* the check's message */
	size_t captured, capture_max;
	struct stream *out, *err;
};

static void kill_group(struct watch *w)
{
	if (!w->killed)
		kill(-w->pid, SIGKILL);
	w->killed = 1;
}

/* Reads once from a readable stream; closes it on EOF or error. */
static void stream_read(struct stream *s, struct watch *w, const struct run_opts *o)
{
	char chunk[65536];
	ssize_t n = read(s->fd, chunk, sizeof(chunk));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		if (s->len)
			deliver(s, o);
		close_fd(&s->fd);
		return;
	}
	if (!s->is_stdout || !o->capture) {
		stream_feed(s, chunk, (size_t)n, o);
		return;
	}
	if (w->overflow)
		return;
	if (w->captured + (size_t)n > w->capture_max) {
		w->overflow = 1;
		kill_group(w);
		return;
	}
	buf_add(o->capture, chunk, (size_t)n);
	w->captured += (size_t)n;
}

/*
 * Waits up to ms for output, or with pidfd >= 0 for the child's exit too, and
 * reads what is there.  A dying child closes its pipes before it can be
 * waited for, so the pipes alone cannot tell when it is gone.
 */
static void poll_streams(struct watch *w, const struct run_opts *o, int pidfd, int ms)
{
	struct pollfd p[3];
	struct stream *s[3];
	int n = 0;
	if (w->out->fd >= 0)
		s[n] = w->out, p[n++] = (struct pollfd){ w->out->fd, POLLIN, 0 };
	if (w->err->fd >= 0)
		s[n] = w->err, p[n++] = (struct pollfd){ w->err->fd, POLLIN, 0 };
	if (pidfd >= 0)
		s[n] = NULL, p[n++] = (struct pollfd){ pidfd, POLLIN, 0 };
	if (poll(p, (nfds_t)n, ms) <= 0)
		return;
	for (int i = 0; i < n; i++)
		if (p[i].revents && s[i])
			stream_read(s[i], w, o);
}

/* A pidfd of the child (close-on-exec), or -1 where the kernel has none. */
static int pidfd_of(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

/*
 * Notices the direct child's exit without reaping it, so its pgid stays ours.
 * A child that cannot be waited for at all (reaped elsewhere) counts as
 * exited too, or a readable pidfd would keep poll() spinning.
 */
static void check_exited(struct watch *w)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	int r = waitid(P_PID, (id_t)w->pid, &si, WEXITED | WNOHANG | WNOWAIT);
	if ((r == 0 && si.si_pid == w->pid) || (r < 0 && errno == ECHILD))
		w->exited = 1;
}

static void watch_loop(struct watch *w, const struct run_opts *o)
{
	long long deadline = o->timeout_sec > 0 ? run_now_ms() + o->timeout_sec * 1000LL : 0;
	int every = o->check_ms > 0 ? o->check_ms : 1000;
	long long next_check = o->check ? run_now_ms() + every : 0;
	int idle_ms = RUN_FIRST_MS; /* without a pidfd, once the pipes are closed */
	while (!w->exited && !w->overflow && !w->stopped) {
		if (next_check && run_now_ms() >= next_check) {
			int err = o->check(o->check_ctx);
			if (err < 0) {
				sw_error_save(&w->why, err);
				w->stopped = 1;
				break;
			}
			next_check = run_now_ms() + every;
		}
		int ms = RUN_POLL_MS;
		if (deadline) {
			long long left = deadline - run_now_ms();
			if (left <= 0) {
				w->timed_out = 1;
				break;
			}
			if (left < ms)
				ms = (int)left;
		}
		if (w->pidfd >= 0 || w->out->fd >= 0 || w->err->fd >= 0) {
			poll_streams(w, o, w->pidfd, ms);
		} else {
			usleep((useconds_t)(idle_ms < ms ? idle_ms : ms) * 1000);
			if (idle_ms < RUN_POLL_MS)
				idle_ms *= 2;
		}
		check_exited(w);
	}
	kill_group(w);
	long long drain_end = run_now_ms() + RUN_DRAIN_MS;
	while (w->out->fd >= 0 || w->err->fd >= 0) {
		long long left = drain_end - run_now_ms();
		if (left <= 0)
			break;
		poll_streams(w, o, -1, left < RUN_POLL_MS ? (int)left : RUN_POLL_MS);
	}
}

static int reap(pid_t pid, int *status)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return sw_error_errno(SW_ERROR, "cannot wait for child %d", (int)pid);
	if (status)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

static int supervise(pid_t pid, struct launch *l, const struct run_opts *o, int *status)
{
	struct stream *out = xcalloc(1, sizeof(*out)), *err = xcalloc(1, sizeof(*err));
	struct watch w = { .pid = pid, .pidfd = pidfd_of(pid), .out = out, .err = err };
	int ret;

	w.capture_max = o->capture_max ? o->capture_max : RUN_CAPTURE_DEFAULT;
	out->fd = l->out[0], out->is_stdout = 1;
	err->fd = l->err[0];
	l->out[0] = l->err[0] = -1;
	watch_loop(&w, o);
	if ((ret = reap(pid, status)) < 0)
		goto done;
	if (w.timed_out)
		ret = sw_error_set(SW_ETIMEOUT, "timed out after %d second%s",
				   o->timeout_sec, o->timeout_sec == 1 ? "" : "s");
	else if (w.overflow)
		ret = sw_error_set(SW_EINVALID, "output of '%s' is larger than %zu bytes",
				   o->argv[0], w.capture_max);
	else if (w.stopped)
		ret = sw_error_restore(&w.why);
done:
	close_fd(&out->fd);
	close_fd(&err->fd);
	close_fd(&w.pidfd);
	free(out);
	free(err);
	return ret;
}

int run_child(const struct run_opts *o, int *status)
{
	struct launch l = { STRVEC_INIT, NULL, -1, { -1, -1 }, { -1, -1 }, { -1, -1 } };
	pid_t pid = -1;
	int ret;

	if (status)
		*status = -1;
	if (!o->argv || !o->argv[0] || !o->argv[0][0]) {
		ret = sw_error_set(SW_EINVALID, "no program to run");
		goto done;
	}
	if ((ret = launch_prepare(&l, o)) < 0)
		goto done;
	if ((pid = fork()) < 0) {
		ret = sw_error_errno(SW_ERROR, "cannot start '%s'", o->argv[0]);
		goto done;
	}
	if (pid == 0)
		child_exec(&l, o);
	setpgid(pid, pid);
	close_fd(&l.devnull);
	close_fd(&l.out[1]);
	close_fd(&l.err[1]);
	close_fd(&l.rep[1]);
	if ((ret = exec_result(l.rep[0], o)) < 0) {
		reap(pid, NULL);
		goto done;
	}
	if (o->started && (ret = o->started(pid, o->started_ctx)) < 0) {
		kill(-pid, SIGKILL);
		reap(pid, NULL);
		goto done;
	}
	ret = supervise(pid, &l, o, status);
done:
	launch_release(&l);
	return ret;
}

/* In the child: fn's answer on fd, "CODE MESSAGE" when it failed; then _exit. */
static _Noreturn void forked_answer(size_t i, int (*fn)(size_t i, void *ctx), void *ctx, int fd)
{
	int code = fn(i, ctx);
	if (code < 0) {
		char *said = xasprintf("%d %s", code, sw_error_last());
		(void)fs_write_all(fd, said, strlen(said));
	} else {
		(void)fs_write_all(fd, "0", 1);
	}
	_exit(0);
}

/* The answer of the child on fd, pid, into *code and *why. */
static void forked_result(pid_t pid, int fd, int *code, char **why)
{
	struct buf said = BUF_INIT;
	char chunk[4096];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_add(&said, chunk, (size_t)n);
	}
	int status = 0;
	reap(pid, &status);
	char *end = NULL;
	long c = said.len ? strtol(said.data, &end, 10) : 1;
	if (!said.len || status || c > 0 || end == said.data) {
		*code = SW_ERROR;
		*why = status > 128 ? xasprintf("it was killed by signal %d", status - 128)
				    : xstrdup("it ended without an answer");
	} else if (c < 0) {
		*code = (int)c;
		*why = xstrdup(*end == ' ' ? end + 1 : end);
	}
	buf_release(&said);
}

void run_forked_each(size_t n, int (*fn)(size_t i, void *ctx), void *ctx, int *codes,
		     char **whys)
{
	pid_t *pids = xcalloc(n ? n : 1, sizeof(*pids));
	int *fds = xcalloc(n ? n : 1, sizeof(*fds));
	pid_t parent = getpid();
	for (size_t i = 0; i < n; i++) {
		int p[2];
		codes[i] = 0;
		whys[i] = NULL;
		pids[i] = -1;
		fds[i] = -1;
		if (pipe2(p, O_CLOEXEC) < 0) {
			codes[i] = sw_error_errno(SW_ERROR, "cannot start a child");
			whys[i] = xstrdup(sw_error_last());
			continue;
		}
		if ((pids[i] = fork()) < 0) {
			codes[i] = sw_error_errno(SW_ERROR, "cannot start a child");
			whys[i] = xstrdup(sw_error_last());
			close(p[0]);
			close(p[1]);
			continue;
		}
		if (pids[i] == 0) {
			/*
			 * it holds what the caller holds open (its locks too): it
			 * never outlives the caller
			 */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(0);
			close(p[0]);
			forked_answer(i, fn, ctx, p[1]);
		}
		close(p[1]);
		fds[i] = p[0];
	}
	for (size_t i = 0; i < n; i++) {
		if (pids[i] <= 0)
			continue;
		forked_result(pids[i], fds[i], &codes[i], &whys[i]);
		close(fds[i]);
	}
	free(fds);
	free(pids);
}
