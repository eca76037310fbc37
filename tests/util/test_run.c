#define _GNU_SOURCE
#include "util/run.h"
#include "tests/helpers.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/syscall.h>
#endif

static char *sb;

static void setup(void)
{
	sb = th_sandbox();
}

static void teardown(void)
{
	th_sandbox_free(sb);
}

TestSuite(run, .init = setup, .fini = teardown, .timeout = 60);

/* Every delivered line, plus a file to create when a given line arrives. */
struct lines {
	struct strvec v;
	struct buf all;      /* all bytes of all lines, concatenated */
	size_t max_len;
	int bad_nul;         /* a line was not NUL-terminated at len */
	const char *trigger; /* line that makes us create flag */
	const char *flag;
};

static void collect(const char *line, size_t len, void *ctx)
{
	struct lines *l = ctx;
	char *copy = xstrndup(line, len);
	strvec_push(&l->v, copy);
	free(copy);
	buf_add(&l->all, line, len);
	if (len > l->max_len)
		l->max_len = len;
	if (line[len] != '\0')
		l->bad_nul = 1;
	if (l->trigger && len == strlen(l->trigger) && !memcmp(line, l->trigger, len))
		th_write(l->flag, "", 0644);
}

static void lines_free(struct lines *l)
{
	strvec_clear(&l->v);
	buf_release(&l->all);
}

static int run_lines(const char *const *argv, struct lines *l, int *status)
{
	struct run_opts o = RUN_OPTS_INIT;
	o.argv = argv;
	o.on_line = collect;
	o.ctx = l;
	o.timeout_sec = 30;
	return run_child(&o, status);
}

static double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads a pid written by a child. */
static pid_t read_pid(const char *path)
{
	char *s = th_read(path, NULL);
	cr_assert(s, "no pid file %s", path);
	pid_t pid = (pid_t)atoi(s);
	free(s);
	cr_assert(pid > 1);
	return pid;
}

/* With us as subreaper, an orphaned grandchild is ours to reap: it must have died of SIGKILL. */
static void assert_killed(pid_t pid)
{
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid, "grandchild %d was not ours: %s", (int)pid,
		     strerror(errno));
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "grandchild was not killed");
	cr_assert_eq(kill(pid, 0), -1);
	cr_assert_eq(errno, ESRCH);
}

Test(run, lines_arrive_in_order_and_separately)
{
	const char *argv[] = { "sh", "-c",
		"i=1; while [ $i -le 500 ]; do echo line$i; i=$((i+1)); done", NULL };
	struct lines l = { 0 };
	int status;
	cr_assert_eq(run_lines(argv, &l, &status), 0, "%s", sw_error_last());
	cr_assert_eq(status, 0);
	cr_assert_eq(l.v.n, 500);
	for (size_t i = 0; i < l.v.n; i++) {
		char want[32];
		snprintf(want, sizeof(want), "line%zu", i + 1);
		cr_assert_str_eq(l.v.v[i], want);
	}
	cr_assert_not(l.bad_nul);
	lines_free(&l);
}

Test(run, line_is_delivered_before_the_child_exits)
{
	char *flag = th_path("%s/flag", sb);
	const char *argv[] = { "sh", "-c",
		"echo first; while [ ! -e \"$0\" ]; do sleep 0.05; done; echo second",
		flag, NULL };
	struct lines l = { .trigger = "first", .flag = flag };
	struct run_opts o = RUN_OPTS_INIT;
	int status;
	o.argv = argv;
	o.on_line = collect;
	o.ctx = &l;
	o.timeout_sec = 20; /* without streaming, the child waits forever */
	cr_assert_eq(run_child(&o, &status), 0, "%s", sw_error_last());
	cr_assert_eq(status, 0);
	cr_assert_eq(l.v.n, 2);
	cr_assert_str_eq(l.v.v[0], "first");
	cr_assert_str_eq(l.v.v[1], "second");
	lines_free(&l);
	free(flag);
}

Test(run, partial_last_line_and_empty_lines)
{
	const char *argv[] = { "printf", "\\n\\na\\nlast", NULL };
	struct lines l = { 0 };
	int status;
	cr_assert_eq(run_lines(argv, &l, &status), 0, "%s", sw_error_last());
	cr_assert_eq(l.v.n, 4);
	cr_assert_str_eq(l.v.v[0], "");
	cr_assert_str_eq(l.v.v[1], "");
	cr_assert_str_eq(l.v.v[2], "a");
	cr_assert_str_eq(l.v.v[3], "last");
	lines_free(&l);
}

Test(run, long_line_is_split_into_pieces)
{
	const char *argv[] = { "sh", "-c",
		"head -c 20000 /dev/zero | tr '\\0' x; echo; "
		"head -c 8192 /dev/zero | tr '\\0' y; echo; echo z", NULL };
	struct lines l = { 0 };
	int status;
	cr_assert_eq(run_lines(argv, &l, &status), 0, "%s", sw_error_last());
	cr_assert_eq(l.v.n, 5);
	cr_assert_eq(strlen(l.v.v[0]), RUN_LINE_MAX);
	cr_assert_eq(strlen(l.v.v[1]), RUN_LINE_MAX);
	cr_assert_eq(strlen(l.v.v[2]), 20000 - 2 * RUN_LINE_MAX);
	cr_assert_eq(strspn(l.v.v[2], "x"), 20000 - 2 * RUN_LINE_MAX);
	cr_assert_eq(strlen(l.v.v[3]), 8192); /* exactly full: one line, no empty piece */
	cr_assert_eq(strspn(l.v.v[3], "y"), 8192);
	cr_assert_str_eq(l.v.v[4], "z");
	lines_free(&l);
}

Test(run, stdout_and_stderr_are_both_delivered)
{
	const char *argv[] = { "sh", "-c", "echo to-out; echo to-err >&2", NULL };
	struct lines l = { 0 };
	int status;
	cr_assert_eq(run_lines(argv, &l, &status), 0, "%s", sw_error_last());
	cr_assert_eq(l.v.n, 2);
	int out = !strcmp(l.v.v[0], "to-out") || !strcmp(l.v.v[1], "to-out");
	int err = !strcmp(l.v.v[0], "to-err") || !strcmp(l.v.v[1], "to-err");
	cr_assert(out && err);
	lines_free(&l);
}

Test(run, exit_codes_and_signals)
{
	const char *ok[] = { "true", NULL };
	const char *three[] = { "sh", "-c", "exit 3", NULL };
	const char *killed[] = { "sh", "-c", "kill -9 $$", NULL };
	struct lines l = { 0 };
	int status;
	cr_assert_eq(run_lines(ok, &l, &status), 0);
	cr_assert_eq(status, 0);
	cr_assert_eq(run_lines(three, &l, &status), 0);
	cr_assert_eq(status, 3);
	cr_assert_eq(run_lines(killed, &l, &status), 0);
	cr_assert_eq(status, 128 + 9);
	lines_free(&l);
}

Test(run, missing_program_is_not_found)
{
	const char *bare[] = { "slipway-no-such-program", NULL };
	int status = 0;
	struct lines l = { 0 };
	cr_assert_eq(run_lines(bare, &l, &status), SW_ENOTFOUND);
	cr_assert(strstr(sw_error_last(), "'slipway-no-such-program'"), "%s", sw_error_last());
	cr_assert_eq(status, -1);

	char *abs = th_path("%s/nothing-here", sb);
	const char *absv[] = { abs, NULL };
	cr_assert_eq(run_lines(absv, &l, &status), SW_ENOTFOUND);
	cr_assert(strstr(sw_error_last(), abs), "%s", sw_error_last());
	cr_assert_eq(l.v.n, 0);
	free(abs);
	lines_free(&l);
}

Test(run, non_executable_program_is_an_error)
{
	char *path = th_path("%s/script", sb);
	th_write(path, "#!/bin/sh\necho hi\n", 0644);
	const char *argv[] = { path, NULL };
	struct lines l = { 0 };
	int status;
	cr_assert_eq(run_lines(argv, &l, &status), SW_ERROR);
	cr_assert(strstr(sw_error_last(), "ermission denied"), "%s", sw_error_last());
	free(path);
	lines_free(&l);
}

Test(run, empty_argv_is_invalid)
{
	const char *argv[] = { NULL };
	struct lines l = { 0 };
	int status;
	cr_assert_eq(run_lines(argv, &l, &status), SW_EINVALID);
}

Test(run, timeout_kills_the_whole_group)
{
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	char *pidfile = th_path("%s/pid", sb);
	const char *argv[] = { "sh", "-c", "sleep 30 & echo $! > \"$0\"; wait", pidfile, NULL };
	struct run_opts o = RUN_OPTS_INIT;
	int status;
	o.argv = argv;
	o.timeout_sec = 1;
	double t0 = now_sec();
	cr_assert_eq(run_child(&o, &status), SW_ETIMEOUT);
	cr_assert_lt(now_sec() - t0, 10.0);
	cr_assert_str_eq(sw_error_last(), "timed out after 1 second");
	assert_killed(read_pid(pidfile));
	free(pidfile);
}

Test(run, daemon_holding_stdout_does_not_block)
{
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	char *pidfile = th_path("%s/pid", sb);
	const char *argv[] = { "sh", "-c", "(sleep 300 & echo $! > \"$0\"); echo done",
		pidfile, NULL };
	struct lines l = { 0 };
	struct run_opts o = RUN_OPTS_INIT;
	int status;
	o.argv = argv;
	o.on_line = collect;
	o.ctx = &l;
	double t0 = now_sec();
	cr_assert_eq(run_child(&o, &status), 0, "%s", sw_error_last());
	cr_assert_lt(now_sec() - t0, 10.0);
	cr_assert_eq(status, 0);
	cr_assert_eq(l.v.n, 1);
	cr_assert_str_eq(l.v.v[0], "done");
	assert_killed(read_pid(pidfile));
	lines_free(&l);
	free(pidfile);
}

Test(run, env_is_exactly_the_given_one)
{
	const char *env[] = { "FOO=bar baz", "PATH=/usr/bin:/bin", NULL };
	const char *argv[] = { "env", NULL };
	struct run_opts o = RUN_OPTS_INIT;
	struct buf out = BUF_INIT;
	int status;
	o.argv = argv;
	o.env = env;
	o.capture = &out;
	cr_assert_eq(run_child(&o, &status), 0, "%s", sw_error_last());
	cr_assert_eq(status, 0);
	cr_assert_str_eq(out.data, "FOO=bar baz\nPATH=/usr/bin:/bin\n");
	buf_release(&out);
}

Test(run, path_is_taken_from_the_given_env)
{
	char *bin = th_path("%s/bin", sb), *prog = th_path("%s/bin/slipway-test-prog", sb);
	th_write(prog, "#!/bin/sh\necho found-me\n", 0755);
	char *pathvar = th_path("PATH=/nonexistent:%s", bin);
	const char *env[] = { pathvar, NULL };
	const char *argv[] = { "slipway-test-prog", NULL };
	struct lines l = { 0 };
	struct run_opts o = RUN_OPTS_INIT;
	int status;
	o.argv = argv;
	o.env = env;
	o.on_line = collect;
	o.ctx = &l;
	cr_assert_eq(run_child(&o, &status), 0, "%s", sw_error_last());
	cr_assert_eq(l.v.n, 1);
	cr_assert_str_eq(l.v.v[0], "found-me");
	o.env = NULL; /* not in our own PATH */
	cr_assert_eq(run_child(&o, &status), SW_ENOTFOUND);
	lines_free(&l);
	free(pathvar);
	free(prog);
	free(bin);
}

Test(run, runs_in_dir_with_null_stdin_in_own_group)
{
	const char *pwd[] = { "pwd", NULL };
	const char *cat[] = { "cat", NULL };
	const char *stat[] = { "cat", "/proc/self/stat", NULL };
	struct lines l = { 0 };
	struct run_opts o = RUN_OPTS_INIT;
	int status;
	char real[PATH_MAX];
	cr_assert(realpath(sb, real));
	o.on_line = collect;
	o.ctx = &l;
	o.dir = sb;
	o.argv = pwd;
	cr_assert_eq(run_child(&o, &status), 0, "%s", sw_error_last());
	o.argv = cat; /* stdin at EOF: returns at once */
	cr_assert_eq(run_child(&o, &status), 0, "%s", sw_error_last());
	cr_assert_eq(status, 0);
	o.argv = stat;
	cr_assert_eq(run_child(&o, &status), 0, "%s", sw_error_last());
	cr_assert_eq(l.v.n, 2);
	cr_assert_str_eq(l.v.v[0], real);
	int pid = 0, pgrp = -1;
	const char *after = strrchr(l.v.v[1], ')');
	cr_assert(after && sscanf(l.v.v[1], "%d", &pid) == 1 &&
		  sscanf(after, ") %*c %*d %d", &pgrp) == 1);
	cr_assert_eq(pid, pgrp, "child is not a process group leader");
	lines_free(&l);
}

Test(run, missing_dir_is_named)
{
	char *dir = th_path("%s/no-such-dir", sb);
	const char *argv[] = { "true", NULL };
	struct run_opts o = RUN_OPTS_INIT;
	int status;
	o.argv = argv;
	o.dir = dir;
	cr_assert_eq(run_child(&o, &status), SW_ENOTFOUND);
	cr_assert(strstr(sw_error_last(), dir), "%s", sw_error_last());
	free(dir);
}

Test(run, capture_collects_stdout_and_relays_stderr)
{
	const char *argv[] = { "sh", "-c", "printf 'a\\nb'; echo err >&2", NULL };
	struct lines l = { 0 };
	struct buf out = BUF_INIT;
	struct run_opts o = RUN_OPTS_INIT;
	int status;
	o.argv = argv;
	o.on_line = collect;
	o.ctx = &l;
	o.capture = &out;
	o.capture_max = 3; /* exactly the output: fine */
	cr_assert_eq(run_child(&o, &status), 0, "%s", sw_error_last());
	cr_assert_eq(out.len, 3);
	cr_assert_str_eq(out.data, "a\nb");
	cr_assert_eq(l.v.n, 1);
	cr_assert_str_eq(l.v.v[0], "err");
	lines_free(&l);
	buf_release(&out);
}

Test(run, capture_overflow_kills_and_fails)
{
	const char *argv[] = { "yes", NULL };
	struct buf out = BUF_INIT;
	struct run_opts o = RUN_OPTS_INIT;
	int status;
	o.argv = argv;
	o.capture = &out;
	o.capture_max = 1000;
	o.timeout_sec = 30;
	cr_assert_eq(run_child(&o, &status), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "larger than 1000 bytes"), "%s", sw_error_last());
	cr_assert_leq(out.len, 1000);
	buf_release(&out);
}

Test(run, binary_output_without_newlines)
{
	char *path = th_path("%s/garbage", sb);
	size_t n = 100000;
	char *data = xmalloc(n + 1);
	unsigned x = 12345;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (char)(x >> 16);
		if (data[i] == '\n')
			data[i] = '\0';
	}
	FILE *f = fopen(path, "wb");
	cr_assert(f && fwrite(data, 1, n, f) == n && fclose(f) == 0);
	const char *argv[] = { "cat", path, NULL };
	struct lines l = { 0 };
	int status;
	cr_assert_eq(run_lines(argv, &l, &status), 0, "%s", sw_error_last());
	cr_assert_eq(l.all.len, n);
	cr_assert_eq(memcmp(l.all.data, data, n), 0);
	cr_assert_eq(l.max_len, RUN_LINE_MAX);
	cr_assert_not(l.bad_nul);
	lines_free(&l);
	free(data);
	free(path);
}

Test(run, child_gets_default_sigpipe)
{
	signal(SIGPIPE, SIG_IGN);
	const char *argv[] = { "sh", "-c", "yes | head -c 10 > /dev/null; echo done", NULL };
	struct lines l = { 0 };
	int status;
	cr_assert_eq(run_lines(argv, &l, &status), 0, "%s", sw_error_last());
	cr_assert_eq(l.v.n, 1, "unexpected output: %s", l.v.v[0]);
	cr_assert_str_eq(l.v.v[0], "done");
	lines_free(&l);
}

/* Milliseconds that n runs of argv through run_child() take, all exiting 0. */
static long long runs_ms(const char *const *argv, int n)
{
	struct run_opts o = RUN_OPTS_INIT;
	int status;
	o.argv = argv;
	long long t0 = run_now_ms();
	for (int i = 0; i < n; i++) {
		cr_assert_eq(run_child(&o, &status), 0, "%s", sw_error_last());
		cr_assert_eq(status, 0);
	}
	return run_now_ms() - t0;
}

/*
 * A dying child closes its pipes before it can be waited for: run_child()
 * must notice the exit itself, not sleep after the pipes' end.  Each run
 * of a short child costs a few milliseconds; a 100 ms sleep per run (what
 * a lost race used to cost) would take 100 runs to 10 s.  The bound is half
 * of that, far above what a loaded machine needs.
 */
Test(run, short_children_are_not_slept_on)
{
	const char *argv[] = { "/bin/true", NULL };
	long long ms = runs_ms(argv, 100);
	cr_assert_lt(ms, 5000, "100 runs of /bin/true took %lld ms", ms);
}

/* The same when the child closes its output well before it exits: the race lost every time. */
Test(run, child_exit_after_closing_its_output_is_seen_at_once)
{
	const char *argv[] = { "sh", "-c", "exec >&- 2>&-; exec true", NULL };
	long long ms = runs_ms(argv, 50);
	cr_assert_lt(ms, 2500, "50 runs took %lld ms", ms);
}

#if defined(__x86_64__)
/* From now on this process's pidfd_open() fails with ENOSYS, as on a kernel before 5.3. */
static void without_pidfd_open(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
	cr_assert_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	cr_assert_eq(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
	cr_assert_eq(syscall(SYS_pidfd_open, getpid(), 0), -1);
	cr_assert_eq(errno, ENOSYS);
}

/* Without pidfds (older kernels) run_child() still sees such a child's exit soon, and its output. */
Test(run, without_pidfds_children_still_run_and_are_not_slept_on)
{
	without_pidfd_open();
	const char *argv[] = { "sh", "-c", "exec >&- 2>&-; exec true", NULL };
	long long ms = runs_ms(argv, 50);
	cr_assert_lt(ms, 2500, "50 runs took %lld ms", ms);
	const char *echo[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	struct lines l = { 0 };
	int status;
	cr_assert_eq(run_lines(echo, &l, &status), 0, "%s", sw_error_last());
	cr_assert_eq(status, 3);
	cr_assert_eq(l.v.n, 2);
	lines_free(&l);
}
#endif

/* run_opts.started: the child's pid, and what it returns. */
struct started {
	pid_t pid;
	int ret;
};

static int on_started(pid_t pid, void *ctx)
{
	struct started *s = ctx;
	s->pid = pid;
	if (s->ret < 0)
		return sw_error_set(s->ret, "not this one");
	return 0;
}

Test(run, started_sees_the_running_child_and_can_refuse_it)
{
	const char *argv[] = { "/bin/sh", "-c", "echo ran", NULL };
	struct buf out = BUF_INIT;
	struct started s = { 0, 0 };
	struct run_opts o = RUN_OPTS_INIT;
	int status = -1;
	o.argv = argv;
	o.capture = &out;
	o.started = on_started;
	o.started_ctx = &s;
	cr_assert_eq(run_child(&o, &status), 0);
	cr_assert_gt(s.pid, 0);
	cr_assert_eq(status, 0);
	cr_assert_str_eq(out.data, "ran\n");

	/* refused: the child is killed, its output never read, the error returned */
	const char *slow[] = { "/bin/sh", "-c", "sleep 30", NULL };
	s = (struct started){ 0, SW_EINVALID };
	o.argv = slow;
	cr_assert_eq(run_child(&o, &status), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "not this one");
	cr_assert_eq(kill(s.pid, 0), -1, "the refused child still runs");
	buf_release(&out);
}

/*
 * run_forked_each(): child i marks itself in dir, then waits (at most 10 s)
 * until every child has: they only all get there when they run at once.
 */
struct each_ctx {
	const char *dir;
	size_t n;
	int touched; /* changed in the children only */
};

static int each_all_at_once(size_t i, void *ctx)
{
	struct each_ctx *e = ctx;
	e->touched = 1;
	char *mine = th_path("%s/%zu", e->dir, i);
	th_write(mine, "", 0644);
	free(mine);
	size_t seen = 0;
	for (int tries = 0; tries < 1000 && seen < e->n; tries++) {
		if (tries)
			usleep(10 * 1000);
		seen = 0;
		for (size_t k = 0; k < e->n; k++) {
			char *p = th_path("%s/%zu", e->dir, k);
			seen += access(p, F_OK) == 0;
			free(p);
		}
	}
	if (seen < e->n)
		return sw_error_set(SW_ERROR, "child %zu saw %zu of %zu", i, seen, e->n);
	if (i == 1)
		return sw_error_set(SW_EDENIED, "child %zu says no", i);
	if (i == 2)
		raise(SIGKILL);
	return 0;
}

static int each_alone(size_t i, void *ctx)
{
	(void)i;
	(void)ctx;
	return 0;
}

Test(run, forked_each_runs_every_child_at_once_and_keeps_each_answer)
{
	char *dir = th_sandbox();
	struct each_ctx e = { .dir = dir, .n = 4 };
	int codes[4];
	char *whys[4];
	run_forked_each(4, each_all_at_once, &e, codes, whys);
	/* child 0 saw child 3's mark, made after it started: all ran at once */
	cr_assert_eq(codes[0], 0, "%s", whys[0]);
	cr_assert_null(whys[0]);
	cr_assert_eq(codes[1], SW_EDENIED);
	cr_assert_str_eq(whys[1], "child 1 says no");
	cr_assert_eq(codes[2], SW_ERROR);
	cr_assert_str_eq(whys[2], "it was killed by signal 9");
	cr_assert_eq(codes[3], 0);
	cr_assert_eq(e.touched, 0, "a child's memory is its own");
	for (size_t i = 0; i < 4; i++)
		free(whys[i]);
	/* none left behind to reap */
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1);
	run_forked_each(0, each_alone, NULL, codes, whys); /* none: nothing to wait for */
	th_sandbox_free(dir);
}
