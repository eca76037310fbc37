/*
 * procenv.h - how an app's process starts and stops: what a process
 * instance (runtime/instance.h) and a one-off process (runtime/oneoff.h)
 * share.
 *
 * Part of exec/: uses util/ and store/; writes only to the FILE * or
 * callback it is given.
 *
 * As on Heroku, a process runs in the sandbox (runtime/sandbox.h) in the
 * slug's files at /app, its own (exec/overlay.h; its directory and HOME); /app/.profile.d/ *.sh
 * and then /app/.profile are sourced first, then its command runs: one
 * command line with /bin/sh -c (a Procfile command), or an argument vector
 * exec'ed as it is (never joined into a shell line).  Its environment is
 * the release's config vars plus PORT, DYNO and PATH (PORT and DYNO are the
 * platform's: a config var of that name does not win).
 *
 * Stopping: bubblewrap passes no signal on, so procenv_wait() sends a stop
 * asked of this process (procenv_catch_stops) as SIGTERM to every process
 * of the sandbox's PID namespace, and SIGKILL to whatever still runs after
 * the stop timeout.  If this process dies, the sandbox dies with it.
 *
 *     procenv_catch_stops((const int[]){ SIGTERM, SIGINT, 0 });
 *     procenv_argv(&command, 1, &inner);
 *     procenv_env(&r->config, port, "web.1", &sb, dir, &env);
 *     struct procenv_start_opts so = { .sb = &sb, .argv = ..., .dir = dir, .env = env.v };
 *     struct procenv_proc p;
 *     if (procenv_start(&so, &p) == 0)
 *             status = procenv_wait(&p, stop_timeout_sec);
 */
#ifndef SW_PROCENV_H
#define SW_PROCENV_H

#include "exec/appnet.h"
#include "exec/limits.h"
#include "exec/overlay.h"
#include "exec/sandbox.h"
#include "store/config.h"
#include "util/tty.h"
#include "util/util.h"

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * The launcher's shell code, run as `/bin/sh -c LAUNCHER sh ARGS...`: the
 * profile scripts, then `exec /bin/sh -c "$1"` (procenv_launcher) or
 * `exec "$@"` (procenv_launcher_exec).  Nothing of the command is ever
 * spliced into them.
 */
extern const char procenv_launcher[];
extern const char procenv_launcher_exec[];

/*
 * Appends to out the argv that runs the command words[0 .. n-1] (n >= 1)
 * after the profile: one word is a shell command line, several are exec'ed
 * as they are (words[0] found in PATH).
 */
void procenv_argv(const char *const *words, size_t n, struct strvec *out);

/*
 * Appends the process's environment to env: every config var of cfg but
 * PORT and DYNO, then PORT=port, DYNO=dyno, and PATH and HOME=home (the
 * host path of /app) from sandbox_env().
 */
void procenv_env(const struct config *cfg, int port, const char *dyno, const struct sandbox *sb,
		 const char *home, struct strvec *env);

/*
 * From now on each signal of sigs (0-terminated) asks procenv_wait() to
 * stop the process instead of ending this one; one that came before the
 * process started stops it as soon as it has.  They and SIGCHLD are
 * blocked but while waiting with procenv_waitmask() (ppoll, sigsuspend), so
 * none is missed between a check and the wait; processes started with
 * procenv_start() get the mask of before.  procenv_stop_asked() says
 * whether one came (or waits, blocked).
 */
void procenv_catch_stops(const int *sigs);
int procenv_stop_asked(void);

/* Asks the stop as a caught signal would (the process it is for is not started yet, or runs). */
void procenv_ask_stop(void);

/* The signal mask to wait with, the stops and SIGCHLD let in; NULL before procenv_catch_stops(). */
const sigset_t *procenv_waitmask(void);

struct procenv_start_opts {
	const struct sandbox *sb;  /* sandbox_init()ed, /app mounted */
	const char *const *argv;   /* what runs inside: procenv_argv()'s */
	const char *dir;           /* host path of /app: the working directory */
	char *const *env;          /* procenv_env()'s, NULL-terminated */
	int keep_stdin;            /* stdin stays this process's; else /dev/null */
	int out_fd;                /* > 0: its stdout and stderr; 0: this process's */
	/*
	 * the sandbox gets a process group of its own, so that a terminal's
	 * ^C reaches only this process (which passes it on as a stop); not
	 * with the sandbox off (the process would lose the terminal)
	 */
	int own_group;
	/* with overlay_wanted(): /app (dir) is mounted by the child (exec/overlay.h) */
	struct overlay *overlay;
	/*
	 * with a network of its own (sb->appnet): the host's 127.0.0.1:port
	 * reaches port inside; 0: outbound only
	 */
	int forward_port;
	/*
	 * > 0: a pseudo-terminal's slave (util/tty.h): its stdin, stdout,
	 * stderr and controlling terminal (keep_stdin and out_fd unused); with
	 * the sandbox, sb->tty is its name.  The sandbox's new session has no
	 * terminal (bwrap --new-session keeps the caller's out of reach):
	 * inside it, setsid(1) --ctty makes this one the command's.
	 */
	int tty_fd;
};

struct procenv_proc {
	pid_t pid;                 /* bwrap (with the sandbox off: the process) */
	unsigned long long ns;     /* its PID namespace's inode; 0 when unknown */
	pid_t init;                /* the namespace's first process; 0 when unknown */
	struct appnet net;         /* its network's forwarder (sb->appnet) */
};

/*
 * Starts the process: core dumps off, the sandbox's file size limit, and
 * SIGTERM, SIGINT, SIGHUP, SIGPIPE and SIGCHLD at their defaults; then the
 * overlay, if any, is mounted.  With a network of its own (sb->appnet), its
 * command runs once the forwarder is ready (exec/appnet.h).  SW_ERROR when
 * it cannot be started (p->pid is then 0; o->overlay->failed when its
 * overlay could not be mounted).  procenv_release() once it has ended.
 */
int procenv_start(const struct procenv_start_opts *o, struct procenv_proc *p);

/*
 * 1 when the process had a network of its own and its forwarder has ended:
 * its $PORT no longer reaches it, and the process should be stopped.
 */
int procenv_net_lost(struct procenv_proc *p);

/* Ends what runs beside the process (its network's forwarder); after it ended. */
void procenv_release(struct procenv_proc *p);

/*
 * A stop: sig to every process of the sandbox but its init (the process
 * itself with the sandbox off).  How many processes it reached: 0 also
 * while the sandbox's init has not started the command yet.
 */
int procenv_signal(const struct procenv_proc *p, int sig);

/* SIGKILL to the sandbox's init, which takes every process in it along, and to bwrap. */
void procenv_kill(const struct procenv_proc *p);

/*
 * Waits for the process to end, passing a stop on as described above
 * (SIGKILL stop_sec seconds after SIGTERM).  Its exit status, 128+signal
 * when it was killed, or -1 (errno set) when it cannot be waited for.
 */
int procenv_wait(const struct procenv_proc *p, int stop_sec);

/*
 * procenv_wait() copying the process's terminal (tty_relay_start()ed on
 * the master of its tty_fd) while it waits, and what is left of its output
 * once it ended.  After procenv_catch_stops().
 */
int procenv_wait_tty(const struct procenv_proc *p, int stop_sec, struct tty_relay *relay);

#endif
