/*
 * runtime/oneoff: a command run once in the slug's shared tree under an
 * overlay of its own (what it writes stays its own) - one
 * word a shell line, several an argv never joined into one; DYNO=run.PID;
 * the exit status handed back; stdin passed through; a SIGHUP passed on as
 * SIGTERM; refusals before anything starts; nothing left in <root>/runs.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"
#include "tests/release_helpers.h"

#include "runtime/oneoff.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *root, *log_path;
static char hex[65];

static void setup(void)
{
	root = rh_root();
	rh_app(root, "demo");
	log_path = th_path("%s/run.log", root);
	rh_slug(root, hex, "marker", "from the slug\n", NULL);
}

static void teardown(void)
{
	free(log_path);
	th_sandbox_free(root);
}

TestSuite(oneoff, .init = setup, .fini = teardown, .timeout = 60);

struct job {
	struct release r;
	struct oneoff_opts o;
};

static void job_init(struct job *j, const char *const *words)
{
	memset(j, 0, sizeof(*j));
	j->r = (struct release)RELEASE_INIT;
	j->r.version = 2;
	memcpy(j->r.slug, hex, 65);
	size_t n = 0;
	while (words[n])
		n++;
	j->o = (struct oneoff_opts){ .root = root, .app = "demo", .release = &j->r,
				     .words = words, .n = n };
}

/* The call under test, in the child: its result and pid on the last line of the log. */
static void run_job(void *ctx)
{
	struct job *j = ctx;
	int status = -1;
	int err = oneoff_run(&j->o, &status);
	printf("oneoff_run %d: %d, status %d\n", (int)getpid(), err, status);
}

/* The log once the child is done: what the command printed, then the result line. */
static char *finish(pid_t pid)
{
	cr_assert_eq(rh_child_wait(pid), 0);
	char *text = th_read(log_path, NULL);
	cr_assert_not_null(text);
	return text;
}

static int runs_left(void)
{
	char *dir = th_path("%s/runs", root);
	int n = th_entries(dir);
	free(dir);
	return n;
}

Test(oneoff, one_word_is_a_shell_line_run_at_app_as_run_pid)
{
	struct job j;
	job_init(&j, (const char *[]){ "echo \"$DYNO $HOME $(pwd) $GREETING\"; cat marker; "
				       "echo changed > marker; exit 7", NULL });
	config_set(&j.r.config, "GREETING", "hi");
	config_set(&j.r.config, "DYNO", "evil.1");
	pid_t pid = rh_child(log_path, NULL, run_job, &j);
	char *text = finish(pid);
	char *want = th_path("run.%d /app /app hi\nfrom the slug\noneoff_run %d: 0, status 7\n",
			     (int)pid, (int)pid);
	cr_assert_str_eq(text, want);
	cr_assert_eq(runs_left(), 0, "its copy of the slug is gone");
	free(want);
	free(text);
	release_release(&j.r);
}

Test(oneoff, it_sees_the_slugs_shared_tree_and_its_writes_stay_its_own)
{
	struct job j;
	job_init(&j, (const char *[]){ "stat -c %i marker; echo changed > marker; rm marker; "
				       "touch added", NULL });
	pid_t pid = rh_child(log_path, NULL, run_job, &j);
	char *text = finish(pid);
	char *marker = th_path("%s/unpacked/trees/%s/marker", root, hex);
	char *tree = th_path("%s/unpacked/trees/%s", root, hex);
	struct stat st;
	cr_assert_eq(stat(marker, &st), 0);
	char *want = th_path("%llu\noneoff_run %d: 0, status 0\n", (unsigned long long)st.st_ino,
			     (int)pid);
	cr_assert_str_eq(text, want, "it saw the tree's file, not a copy");
	char *kept = th_read(marker, NULL);
	cr_assert_str_eq(kept, "from the slug\n");
	cr_assert_eq(th_entries(tree), 1, "nothing added to the tree");
	cr_assert_eq(runs_left(), 0);
	free(kept);
	free(want);
	free(tree);
	free(marker);
	free(text);
	release_release(&j.r);
}

Test(oneoff, several_words_are_an_argv_never_joined_into_a_shell_line)
{
	struct job j;
	job_init(&j, (const char *[]){ "printf", "[%s]", "a b", "$HOME", "; echo x", NULL });
	char *text = finish(rh_child(log_path, NULL, run_job, &j));
	cr_assert(!strncmp(text, "[a b][$HOME][; echo x]oneoff_run ", 33), "%s", text);
	cr_assert(strstr(text, ": 0, status 0\n"), "%s", text);
	free(text);
	release_release(&j.r);
}

Test(oneoff, stdin_is_the_callers)
{
	char *input = th_path("%s/input", root);
	th_write(input, "typed line\n", 0644);
	struct job j;
	job_init(&j, (const char *[]){ "tr a-z A-Z", NULL });
	char *text = finish(rh_child(log_path, input, run_job, &j));
	cr_assert(!strncmp(text, "TYPED LINE\noneoff_run ", 22), "%s", text);
	free(text);
	free(input);
	release_release(&j.r);
}

Test(oneoff, a_hangup_reaches_the_command_as_sigterm)
{
	struct job j;
	job_init(&j, (const char *[]){ "trap 'echo got TERM; exit 0' TERM; echo ready; "
				       "while :; do sleep 0.1; done", NULL });
	pid_t pid = rh_child(log_path, NULL, run_job, &j);
	app_sandbox_wait_for(log_path, "ready");
	cr_assert_eq(kill(pid, SIGHUP), 0);
	char *text = finish(pid);
	/* every process of the one-off gets it: the shell may say its sleep was terminated */
	char *want = th_path("got TERM\noneoff_run %d: 0, status 0\n", (int)pid);
	cr_assert(!strncmp(text, "ready\n", 6) && strstr(text, want), "%s", text);
	cr_assert_eq(runs_left(), 0);
	free(want);
	free(text);
	release_release(&j.r);
}

Test(oneoff, refuses_before_anything_starts)
{
	struct job j;
	int status = 0;
	job_init(&j, (const char *[]){ "touch /app/ran", NULL });
	j.o.n = 0;
	cr_assert_eq(oneoff_run(&j.o, &status), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "no command to run");
	j.o.n = 1;
	j.r.slug[0] = '\0';
	cr_assert_eq(oneoff_run(&j.o, &status), SW_ENOTFOUND);
	cr_assert_str_eq(sw_error_last(), "release v2 of demo has no slug to run: push code first");
	memcpy(j.r.slug, hex, 65);
	setenv("SLIPWAY_STOP_TIMEOUT", "soon", 1);
	cr_assert_eq(oneoff_run(&j.o, &status), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "$SLIPWAY_STOP_TIMEOUT: "), "%s", sw_error_last());
	cr_assert_eq(status, -1, "nothing ran");
	cr_assert_eq(runs_left(), 0);
	release_release(&j.r);
}

Test(oneoff, what_ignores_sigterm_is_killed_after_the_stop_timeout)
{
	struct job j;
	job_init(&j, (const char *[]){ "trap 'echo ignoring TERM' TERM; echo ready; "
				       "while :; do sleep 0.1; done", NULL });
	j.o.stop_timeout_sec = 1;
	pid_t pid = rh_child(log_path, NULL, run_job, &j);
	app_sandbox_wait_for(log_path, "ready");
	cr_assert_eq(kill(pid, SIGINT), 0);
	char *text = finish(pid);
	char *want = th_path("oneoff_run %d: 0, status 137\n", (int)pid);
	cr_assert(strstr(text, "ignoring TERM\n") && strstr(text, want), "%s", text);
	cr_assert_eq(runs_left(), 0);
	free(want);
	free(text);
	release_release(&j.r);
}
