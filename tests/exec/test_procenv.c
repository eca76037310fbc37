/*
 * runtime/procenv: how an app process starts - its command (a shell line,
 * or words exec'ed untouched), its environment - and how it stops: a stop
 * asked of us reaches it as SIGTERM, and SIGKILL follows after the stop
 * timeout.  Run with the sandbox off, so no bubblewrap is needed here.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include "exec/procenv.h"
#include "store/config.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char *dir;

static void setup(void)
{
	dir = th_sandbox();
}

static void teardown(void)
{
	th_sandbox_free(dir);
}

TestSuite(procenv, .init = setup, .fini = teardown, .timeout = 60);

/* Runs words through procenv_argv with the sandbox off; its output in *out, the status. */
static int run_words(const char *const *words, size_t n, const char *const *env, char **out)
{
	struct sandbox sb = SANDBOX_INIT;
	struct strvec argv = STRVEC_INIT;
	sb.off = 1;
	procenv_argv(words, n, &argv);
	char *log = th_path("%s/out", dir);
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(fd > 0);
	struct procenv_start_opts o = { .sb = &sb, .argv = (const char *const *)argv.v,
					.dir = dir, .env = (char *const *)env, .out_fd = fd };
	struct procenv_proc p;
	int err = procenv_start(&o, &p);
	close(fd);
	cr_assert_eq(err, 0);
	int status = procenv_wait(&p, 5);
	*out = th_read(log, NULL);
	free(log);
	strvec_clear(&argv);
	return status;
}

Test(procenv, one_word_is_a_shell_line_several_are_exec_ed_untouched)
{
	const char *env[] = { "PATH=/usr/bin:/bin", "X=from-env", NULL };
	char *out;
	const char *line[] = { "echo \"$X\" $(pwd); echo err >&2; exit 7" };
	cr_assert_eq(run_words(line, 1, env, &out), 7);
	char *want = th_path("from-env %s\nerr\n", dir);
	cr_assert_str_eq(out, want);
	free(want);
	free(out);

	const char *words[] = { "printf", "[%s]", "a b", "$X", "-la", "'; exit 3'", "*" };
	cr_assert_eq(run_words(words, 7, env, &out), 0);
	cr_assert_str_eq(out, "[a b][$X][-la]['; exit 3'][*]");
	free(out);

	/* a missing program is the shell's 127, not ours */
	const char *missing[] = { "no-such-program-here", "x" };
	cr_assert_eq(run_words(missing, 2, env, &out), 127);
	free(out);
}

Test(procenv, environment_is_the_configs_with_the_platforms_port_and_dyno)
{
	struct config cfg = CONFIG_INIT;
	config_set(&cfg, "A", "b c");
	config_set(&cfg, "PORT", "1");
	config_set(&cfg, "DYNO", "mine");
	struct sandbox sb = SANDBOX_INIT;
	char *app = th_path("%s/app", dir);
	sandbox_mount(&sb, app, "/app", 1);
	struct strvec env = STRVEC_INIT;
	procenv_env(&cfg, 5123, "run.7", &sb, app, &env);
	cr_assert_eq(env.n, 5);
	cr_assert_str_eq(env.v[0], "A=b c");
	cr_assert_str_eq(env.v[1], "PORT=5123");
	cr_assert_str_eq(env.v[2], "DYNO=run.7");
	cr_assert_str_eq(env.v[3], "PATH=" SANDBOX_PATH);
	cr_assert_str_eq(env.v[4], "HOME=/app");
	strvec_clear(&env);
	sandbox_release(&sb);
	free(app);
	config_release(&cfg);
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Starts script with the sandbox off; a SIGALRM asks the stop after a second. */
static int stopped_after_a_second(const char *script, int stop_sec, double *took)
{
	struct sandbox sb = SANDBOX_INIT;
	sb.off = 1;
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	const char *env[] = { "PATH=/usr/bin:/bin", NULL };
	struct procenv_start_opts o = { .sb = &sb, .argv = argv, .dir = dir,
					.env = (char *const *)env };
	struct procenv_proc p;
	procenv_catch_stops((const int[]){ SIGALRM, 0 });
	cr_assert_eq(procenv_start(&o, &p), 0);
	double t0 = now();
	alarm(1);
	int status = procenv_wait(&p, stop_sec);
	*took = now() - t0;
	cr_assert(procenv_stop_asked());
	return status;
}

Test(procenv, a_stop_is_sigterm_to_the_process)
{
	double took;
	int status = stopped_after_a_second("trap 'exit 3' TERM; while :; do sleep 0.05; done",
					    30, &took);
	cr_assert_eq(status, 3, "status %d", status);
	cr_assert_lt(took, 5.0, "%.2f s", took);
}

Test(procenv, what_ignores_sigterm_gets_sigkill_after_the_stop_timeout)
{
	double took;
	int status = stopped_after_a_second("trap '' TERM; while :; do sleep 0.05; done", 1, &took);
	cr_assert_eq(status, 128 + SIGKILL, "status %d", status);
	cr_assert_geq(took, 1.9, "killed before the stop timeout (%.2f s)", took);
	cr_assert_lt(took, 6.0, "%.2f s", took);
}
