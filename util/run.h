/*
 * run.h - child processes from an argv array, output relayed line by line.
 *
 * Part of util/: includes nothing outside util/; prints nothing.
 *
 * Never a shell string: argv[0] is executed directly (PATH is searched only
 * when it has no '/'; the PATH of env when env is given and has one, else
 * ours, else /usr/local/bin:/usr/bin:/bin).  The child runs in its own
 * process group with stdin from /dev/null (or input_path) and SIGPIPE and SIGHUP at their
 * defaults; its
 * stdout and stderr are read through pipes and every complete line is handed
 * to on_line as soon as it is read (no buffering until the end).  The parent
 * only reads, so it never gets SIGPIPE itself.  When the direct child exits,
 * anything it left running in its process group (a daemon holding the pipe
 * open) is killed with SIGKILL and whatever was already written is still
 * delivered.  On timeout the whole process group is killed.  Exec failures
 * are reported to the parent through a close-on-exec pipe (SW_ENOTFOUND /
 * SW_ERROR with a message).
 *
 *     const char *argv[] = { "bin/compile", build, cache, env, NULL };
 *     struct run_opts o = RUN_OPTS_INIT;
 *     o.argv = argv; o.on_line = relay; o.timeout_sec = 900;
 *     int status;
 *     if (run_child(&o, &status) < 0) ...;   // did not run, or timed out
 *     if (status != 0) ...;                  // ran and failed
 */
#ifndef SW_RUN_H
#define SW_RUN_H

#include <stddef.h>
#include <sys/types.h>

#include "util/util.h"

/* Lines longer than this are delivered in pieces of this size. */
#define RUN_LINE_MAX 8192

typedef void (*run_line_fn)(const char *line, size_t len, void *ctx);

struct run_opts {
	const char *const *argv;  /* required, NULL-terminated */
	const char *const *env;   /* full environment; NULL = inherit ours */
	const char *dir;          /* working directory; NULL = ours */
	const char *input_path;   /* the child's stdin: this file; NULL = /dev/null */
	int timeout_sec;          /* 0 = no limit */
	run_line_fn on_line;      /* every line of stderr, and of stdout unless captured;
	                             the line excludes its '\n' and is NUL-terminated
	                             (it may also contain NUL bytes); NULL = discard */
	void *ctx;                /* passed to on_line */
	struct buf *capture;      /* if set, stdout bytes are appended to this buffer of
	                             the caller's instead */
	size_t capture_max;       /* with capture: more than this many bytes kills the
	                             child and fails with SW_EINVALID; 0 = 10 MiB */
	unsigned long long max_file_size; /* the child's RLIMIT_FSIZE, bytes; 0 = ours */
	int (*check)(void *ctx);  /* called every check_ms while the child runs; a
	                             negative sw_code (message set) kills its group
	                             and is what run_child() returns; NULL = none */
	void *check_ctx;
	int check_ms;             /* 0 = 1000 */
	int no_core;              /* 1: the child's RLIMIT_CORE is 0 */
	int oom_score_adj;        /* the child's oom_score_adj (util/proc.h); 0 = ours */
	int (*started)(pid_t pid, void *ctx); /* called once the child runs, before its
	                             output is read; a negative sw_code kills its group
	                             and is what run_child() returns; NULL = none */
	void *started_ctx;
	void (*before_exec)(void *ctx); /* called in the child last, before its exec:
	                             async-signal-safe calls only; it may _exit() */
	void *before_exec_ctx;
};
#define RUN_OPTS_INIT { 0 }

/*
 * Runs the child to completion.  Returns 0 when it ran and exited (its exit
 * code, or 128+signal if it was killed by a signal, in *status), SW_ETIMEOUT
 * when the time limit killed it, SW_EINVALID when capture_max was exceeded,
 * SW_ENOTFOUND when argv[0] could not be found, SW_ERROR otherwise.
 */
int run_child(const struct run_opts *o, int *status);

/*
 * Runs fn(i, ctx) for each i below n at once, each in a child process of
 * its own (a fork: what fn changes in memory stays in its child, and its
 * stdio buffers are never flushed), and waits for all of them.  codes[i]
 * is what fn returned (0, or a negative sw_code), whys[i] its message
 * then (malloc'ed; NULL for 0); a child that could not be made or ended
 * without an answer is SW_ERROR with why.  Each child dies with the
 * caller.
 */
void run_forked_each(size_t n, int (*fn)(size_t i, void *ctx), void *ctx, int *codes,
		     char **whys);

/* Milliseconds of the monotonic clock, which run_child() times children by. */
long long run_now_ms(void);

#endif
