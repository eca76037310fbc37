#define _GNU_SOURCE
#include "runtime/instance.h"

#include "runtime/logs.h"
#include "runtime/supervisor.h"
#include "exec/limits.h"
#include "exec/procenv.h"
#include "exec/sandbox.h"
#include "exec/overlay.h"
#include "exec/sbcheck.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/gitutil.h"
#include "util/net.h"
#include "util/run.h"
#include "util/util.h"

#include <poll.h>
#include <stdarg.h>

#include <dirent.h>
#include <malloc.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * What an instance is doing, for ps: the file "state" of its service
 * directory; app, once it runs, the process the sandbox started
 * (runtime/instance.h).
 */
static void set_state_of(const struct instance_opts *o, const char *state, pid_t app)
{
	if (!o->state_dir)
		return;
	char *path = xasprintf("%s/state", o->state_dir);
	char text[80];
	int n = app > 0 ? snprintf(text, sizeof(text), "%s %lld %ld %ld\n", state,
				   (long long)time(NULL), (long)getpid(), (long)app)
			: snprintf(text, sizeof(text), "%s %lld %ld\n", state, (long long)time(NULL),
				   (long)getpid());
	fs_write_replace(path, text, (size_t)n, 0644); /* what ps shows: not worth an fsync */
	free(path);
}

static void set_state(const struct instance_opts *o, const char *state)
{
	set_state_of(o, state, 0);
}

/* The instance's output stream: each line stamped and labelled (runtime/logs.h). */
struct outstream {
	const char *label;   /* "web.1" */
	struct buf partial;  /* an app line not ended yet */
	struct buf lines;    /* stamped lines not written yet */
};

/* Writes the stamped lines: one write for all a read brought. */
static void flush_lines(struct outstream *os)
{
	fs_write_all(STDOUT_FILENO, os->lines.data, os->lines.len); /* a logger that is gone loses lines */
	buf_reset(&os->lines);
}

static void emit(struct outstream *os, const char *source, const char *s, size_t n)
{
	char stamp[LOGS_STAMP_LEN + 1];
	logs_stamp(stamp);
	buf_addf(&os->lines, "%s %s[%s]: ", stamp, source, os->label);
	buf_add(&os->lines, s, n);
	buf_adds(&os->lines, "\n");
}

static void say(struct outstream *os, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(struct outstream *os, const char *fmt, ...)
{
	char text[LOGS_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	emit(os, "slipway", text, n < 0 ? 0 : (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
	flush_lines(os);
}

/* Passes on what the app wrote: complete lines, and at the end (or when too long) the rest. */
static void pass_output(struct outstream *os, const char *data, size_t n, int flush)
{
	buf_add(&os->partial, data, n);
	size_t start = 0;
	for (size_t i = 0; i < os->partial.len; i++)
		if (os->partial.data[i] == '\n' || i - start + 1 >= LOGS_LINE_MAX) {
			size_t end = os->partial.data[i] == '\n' ? i : i + 1;
			emit(os, "app", os->partial.data + start, end - start);
			start = i + 1;
		}
	if (flush && start < os->partial.len) {
		emit(os, "app", os->partial.data + start, os->partial.len - start);
		start = os->partial.len;
	}
	memmove(os->partial.data, os->partial.data + start, os->partial.len - start);
	buf_truncate(&os->partial, os->partial.len - start);
	flush_lines(os);
}

/* Reads what the app wrote; 0 at its end. */
static int drain(struct outstream *os, int fd)
{
	char chunk[16384];
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r > 0) {
			pass_output(os, chunk, (size_t)r, 0);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 && errno == EAGAIN ? 1 : 0;
	}
}

struct running {
	struct procenv_proc proc; /* bwrap, its PID namespace and that one's init */
	int out;                  /* the read end of its output, or -1 */
	int web, port, stop_sec;
	long long started;        /* run_now_ms() when it started */
	int up;                   /* it went up (a web process: it accepted on its port) */
	const struct limits *limits; /* its cgroups (exec/limits.h) */
	long long mem_at, r14_at; /* when to look at its memory next, and say R14 again */
	int r15;                  /* it was killed for its memory */
};

/*
 * Heroku's memory errors, from the instance's cgroup about once a second:
 * over the quota R14 (again every 20 s while it lasts); at the hard limit
 * (twice the quota) R15, and the instance is killed - a crash, which s6
 * restarts.  After it exited (exited set), only what is left to say.
 */
static void check_memory(struct running *p, struct outstream *os, long long now, int exited)
{
	struct limits_usage u;
	if (p->r15 || now < p->mem_at || limits_memory(p->limits, &u) < 0)
		return;
	p->mem_at = now + 1000;
	uint64_t quota = p->limits->quota;
	if (!u.oom && u.used <= quota)
		p->r14_at = 0;
	if ((!u.oom && u.used <= quota) || (!u.oom && now < p->r14_at) || (!u.oom && exited))
		return;
	/* what a kill (v2's, by the kernel) left is nothing: the peak says what it took */
	uint64_t mem = u.oom && u.peak > u.used ? u.peak : u.used;
	say(os, "Process running mem=%lluM(%.1f%%)", (unsigned long long)(mem >> 20),
	    100.0 * (double)mem / (double)quota);
	if (!u.oom) {
		say(os, "Error R14 (Memory quota exceeded)");
		p->r14_at = now + 20000;
		return;
	}
	say(os, "Error R15 (Memory quota vastly exceeded)");
	say(os, "Stopping process with SIGKILL");
	if (!exited) {
		procenv_kill(&p->proc);
		limits_kill(p->limits); /* with the sandbox off too: all it started */
	}
	p->r15 = 1;
}

/*
 * Waits for the sandbox, passing its output on and a stop on to its
 * processes, and tells when a web process starts accepting on its port.
 * SIGTERM, SIGINT and SIGCHLD are blocked outside ppoll(), so none is
 * missed between a check and the wait.
 */
static int supervise(const struct instance_opts *o, struct running *p, struct outstream *os,
		     const sigset_t *waitmask)
{
	long long kill_at = 0, probe_at = 0;
	int st = 0, starting = p->web, open_out = p->out >= 0, exited = 0, said_stop = 0, termed = 0;

	while (!exited || open_out) {
		pid_t r = exited ? 0 : waitpid(p->proc.pid, &st, WNOHANG);
		if (r == p->proc.pid) {
			exited = 1;
			check_memory(p, os, run_now_ms() + 1000, 1); /* a kill the kernel made (v2) */
			if (open_out) /* what is left in the pipe; a grandchild may hold it open */
				drain(os, p->out);
			open_out = 0;
			continue;
		}
		if (r < 0 && errno != EINTR)
			return -1;
		if (procenv_stop_asked() && !termed) {
			if (!said_stop)
				say(os, "Stopping all processes with SIGTERM");
			said_stop = 1;
			/* none reached: the sandbox has not started the command yet, next turn */
			termed = procenv_signal(&p->proc, SIGTERM) > 0;
			if (!kill_at)
				kill_at = run_now_ms() + p->stop_sec * 1000LL;
		}
		if (!exited && procenv_net_lost(&p->proc)) {
			/* its $PORT reaches nothing any more: it crashes, and s6 starts it again */
			say(os, "Error: the process's network ended; stopping it with SIGKILL");
			procenv_kill(&p->proc);
		}
		long long now = run_now_ms();
		check_memory(p, os, now, 0);
		if (kill_at && now >= kill_at) {
			say(os, "Error R12 (Exit timeout) -> At least one process failed to exit within "
				"%d seconds of SIGTERM", p->stop_sec);
			say(os, "Stopping remaining processes with SIGKILL");
			procenv_kill(&p->proc);
			kill_at = now + 1000000;
		}
		if (starting && !procenv_stop_asked() && now >= probe_at) {
			/* up once the app itself listens: not whatever else took its port */
			if (net_tree_serves(p->proc.pid, p->port)) {
				starting = 0;
				p->up = 1;
				set_state_of(o, "up", p->proc.pid);
				say(os, "State changed from starting to up");
			}
			/* often at first: the gate of a switch waits for it */
			probe_at = now + (now - p->started < 2000 ? 20 : 200);
		}
		struct pollfd pf = { .fd = open_out ? p->out : -1, .events = POLLIN };
		int wait_ms = starting || kill_at ? 20 : 1000;
		struct timespec ts = { wait_ms / 1000, (long)(wait_ms % 1000) * 1000000L };
		int n = ppoll(&pf, 1, &ts, waitmask);
		if (n > 0 && (pf.revents & (POLLIN | POLLHUP | POLLERR)))
			open_out = drain(os, p->out);
	}
	pass_output(os, "", 0, 1);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * Crash backoff: the file "crashes" of the service directory holds how
 * many times in a row the instance exited by itself.  The first restart is
 * at once, then the wait doubles from 1 s to at most 5 minutes; an
 * instance that ran for a minute starts over.
 */
#define BACKOFF_MAX_SEC 300
#define BACKOFF_RESET_SEC 60

static int crash_count(const struct instance_opts *o)
{
	if (!o->state_dir)
		return 0;
	char *path = xasprintf("%s/crashes", o->state_dir), *text = NULL;
	int n = fs_read_file(path, 64, &text, NULL) == 0 ? atoi(text) : 0;
	free(text);
	free(path);
	return n > 0 ? n : 0;
}

static void set_crash_count(const struct instance_opts *o, int n)
{
	if (!o->state_dir)
		return;
	char *path = xasprintf("%s/crashes", o->state_dir);
	char text[32];
	int len = snprintf(text, sizeof(text), "%d\n", n);
	if (n)
		fs_write_replace(path, text, (size_t)len, 0644);
	else
		unlink(path);
	free(path);
}

static int backoff_sec(int crashes)
{
	if (crashes <= 1)
		return 0;
	int s = 1;
	for (int i = 2; i < crashes && s < BACKOFF_MAX_SEC; i++)
		s *= 2;
	return s < BACKOFF_MAX_SEC ? s : BACKOFF_MAX_SEC;
}

/* Waits out the backoff; 1 when a stop came first. */
static int wait_backoff(const struct instance_opts *o, struct outstream *os, int crashes,
			const sigset_t *waitmask)
{
	int sec = backoff_sec(crashes);
	if (!sec)
		return 0;
	set_state(o, "crashed");
	long long end = run_now_ms() + sec * 1000LL;
	while (!procenv_stop_asked() && run_now_ms() < end) {
		long long left = end - run_now_ms();
		struct timespec ts = { (time_t)(left / 1000), (long)(left % 1000) * 1000000L };
		ppoll(NULL, 0, &ts, waitmask);
	}
	if (procenv_stop_asked()) {
		set_state(o, "down");
		return 1;
	}
	say(os, "State changed from crashed to starting");
	return 0;
}

static int check_opts(const struct instance_opts *o, const char **command)
{
	if (!proc_name_valid(o->type) || o->index < 1 || o->index > 1000 || o->port < 1 ||
	    o->port > 65535)
		return sw_error_set(SW_EINVALID, "invalid instance %s.%d on port %d", o->type,
				    o->index, o->port);
	if (!o->release->slug[0])
		return sw_error_set(SW_ENOTFOUND, "release v%d has no slug to run",
				    o->release->version);
	*command = proc_list_get(&o->release->procs, o->type);
	if (!*command)
		return sw_error_set(SW_ENOTFOUND, "release v%d has no process type '%s'",
				    o->release->version, o->type);
	return 0;
}

/*
 * The instance's cgroups with the app's limits (exec/limits.h), named
 * vN.TYPE.I.  A malformed setting is said and its default taken: it must
 * not keep the instance from running.
 */
static int open_limits(const struct instance_opts *o, const char *label, struct outstream *os,
		       struct limits *l)
{
	struct limits_spec spec;
	char name[128];
	if (limits_spec_read(o->root, o->app, o->type, &spec) < 0)
		say(os, "Error: %s", sw_error_last());
	snprintf(name, sizeof(name), "v%d.%s", o->release->version, label);
	return limits_open(l, o->root, o->app, name, &spec);
}

/*
 * Whether this process's parent is s6-supervise, as it is when the run
 * program of its service exec'ed it.  One whose supervisor died before it
 * asked for PR_SET_PDEATHSIG belongs to init, or a subreaper, by then.
 */
static int parent_is_s6(void)
{
	return supervisor_is_parent();
}

/* Starts the sandbox; where /app cannot be an overlay, with a copy of the slug, said once. */
static int start_app(const struct procenv_start_opts *so, const struct instance_opts *o,
		     struct outstream *os, struct procenv_proc *proc)
{
	int err = procenv_start(so, proc);
	if (!err || !so->overlay->failed)
		return err;
	say(os, "/app is a copy of the slug: %s", sw_error_last());
	if (!(err = overlay_copy(so->overlay, o->root, o->release->slug)))
		err = procenv_start(so, proc);
	return err;
}

int instance_run(const struct instance_opts *o, int *status)
{
	struct sandbox sb = SANDBOX_INIT;
	struct overlay ov = OVERLAY_INIT;
	struct limits lim = LIMITS_INIT;
	struct strvec env = STRVEC_INIT, argv = STRVEC_INIT;
	const char *dir = NULL;
	const char *command = NULL;
	int out[2] = { -1, -1 }, err;
	char label[80];

	*status = -1;
	snprintf(label, sizeof(label), "%s.%d", o->type, o->index);
	struct outstream os = { label, BUF_INIT, BUF_INIT };
	struct running p = { .out = -1, .port = o->port, .web = !strcmp(o->type, "web") };

	/* signals are taken only while waiting (ppoll), never lost in between */
	procenv_catch_stops((const int[]){ SIGTERM, SIGINT, 0 });
	const sigset_t *waitmask = procenv_waitmask();

	if (o->state_dir) {
		/* a supervisor killed must not leave an instance nobody supervises */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (!parent_is_s6())
			procenv_ask_stop();
	}
	if ((err = check_opts(o, &command)))
		goto done;
	int crashes = crash_count(o);
	if (wait_backoff(o, &os, crashes, waitmask)) {
		*status = 0;
		goto done;
	}
	if ((err = sandbox_init(&sb, o->root, o->app, SANDBOX_RUN)) ||
	    (err = sandbox_check_once(&sb, o->root)) ||
	    (err = overlay_open(&ov, o->root, o->app, label, o->release->slug, &sb)))
		goto done;
	dir = ov.dir;
	sandbox_mount(&sb, dir, "/app", 1);
	if ((err = sandbox_addons(&sb, o->root, &o->release->addons)))
		goto done;
	procenv_env(&o->release->config, o->port, label, &sb, dir, &env);
	procenv_argv(&command, 1, &argv);
	if (pipe2(out, O_CLOEXEC) < 0 ||
	    fcntl(out[0], F_SETFL, O_NONBLOCK) < 0) {
		err = sw_error_errno(SW_ERROR, "cannot start %s", label);
		goto done;
	}
	p.stop_sec = o->stop_timeout_sec;
	/* a malformed setting must not keep the instance from running */
	if (p.stop_sec <= 0 &&
	    settings_read_seconds(o->root, o->app, &SETTING_STOP_TIMEOUT, &p.stop_sec) < 0)
		p.stop_sec = 30;
	/* told to stop while getting ready (its supervisor gone): nothing to start */
	if (procenv_stop_asked()) {
		set_state(o, "down");
		*status = 0;
		goto done;
	}
	if ((err = open_limits(o, label, &os, &lim)))
		goto done;
	p.limits = &lim;
	sb.limits = &lim;
	set_state(o, "starting");
	say(&os, "Starting process with command `%s`", command);
	p.started = run_now_ms();
	struct procenv_start_opts so = { .sb = &sb, .argv = (const char *const *)argv.v,
					 .dir = dir, .env = env.v, .out_fd = out[1],
					 .overlay = &ov,
					 .forward_port = p.web ? o->port : 0 /* only web is routed to */ };
	if ((err = start_app(&so, o, &os, &p.proc)))
		goto done;
	close(out[1]);
	out[1] = -1;
	if (!p.web) {
		p.up = 1;
		set_state_of(o, "up", p.proc.pid);
		say(&os, "State changed from starting to up");
	}
	p.out = out[0];
	/* this process lives as long as the instance: give back what starting it took */
	sw_git_shutdown();
	malloc_trim(0);
	*status = supervise(o, &p, &os, waitmask);
	if (*status < 0) {
		err = sw_error_errno(SW_ERROR, "cannot wait for %s", label);
		goto done;
	}
	say(&os, "Process exited with status %d", *status);
	if (procenv_stop_asked()) {
		set_state(o, "down");
		set_crash_count(o, 0);
	} else {
		/* it exited by itself: s6 starts it again, after the backoff */
		int ran_long = run_now_ms() - p.started >= BACKOFF_RESET_SEC * 1000LL;
		set_crash_count(o, ran_long ? 1 : crashes + 1);
		set_state(o, "crashed");
		say(&os, "State changed from %s to crashed", p.up ? "up" : "starting");
	}
done:
	if (err)
		say(&os, "Error: %s", sw_error_last());
	procenv_release(&p.proc);
	for (int i = 0; i < 2; i++)
		if (out[i] >= 0)
			close(out[i]);
	limits_close(&lim); /* its processes are gone with its sandbox's init */
	overlay_close(&ov); /* the instance's changes go with it */
	/* the process ends with its signals as they were: nothing left blocked and pending */
	sigprocmask(SIG_SETMASK, waitmask, NULL);
	sandbox_release(&sb);
	strvec_clear(&env);
	strvec_clear(&argv);
	buf_release(&os.partial);
	buf_release(&os.lines);
	return err;
}
