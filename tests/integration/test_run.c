/*
 * One-off processes (`slipway run -a APP COMMAND [ARGS...]`, Heroku's
 * `heroku run`): the command runs once in the current release's sandbox
 * with its config, profile and /app, its input and output are the
 * caller's, its exit status is slipway's, a stop reaches it as SIGTERM,
 * deploys go on while it runs, and it leaves nothing behind.  Refusals
 * say why and change nothing.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define APP "app"

static struct app_sandbox sb;
static pid_t child = -1;

static void setup(void)
{
	app_sandbox_init(&sb, APP, APP_SANDBOX_BATCH);
	app_sandbox_write(&sb, "Procfile", "web: sleep 300\n", 0644);
	app_sandbox_write(&sb, ".profile.d/greet.sh",
			  "export GREETING=from-profile ORDER=profile.d\n", 0644);
	app_sandbox_write(&sb, ".profile", "export ORDER=\"$ORDER,profile\"\n", 0644);
	app_sandbox_write(&sb, "index.html", "<h1>the slug's page</h1>\n", 0644);
	app_sandbox_create(&sb, NULL);
	app_sandbox_checkout(&sb, NULL, "main", "first");
	free(app_sandbox_push(&sb, "main"));
}

static void teardown(void)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = -1;
	}
	app_sandbox_release(&sb);
}

TestSuite(run, .init = setup, .fini = teardown, .timeout = 120);

/* argv (16 entries) = `slipway run -a APP` and words (NULL-terminated). */
static void run_argv(const char **argv, const char *const *words)
{
	static const char *const head[] = { SLIPWAY_BIN, "run", "-a", APP };
	size_t n = 0;
	for (; n < 4; n++)
		argv[n] = head[n];
	for (size_t i = 0; words[i]; i++) {
		cr_assert_lt(n, 15);
		argv[n++] = words[i];
	}
	argv[n] = NULL;
}

/* `slipway run -a APP` and the words given, with input on stdin (NULL: none). */
static struct th_result run_in(const char *input, const char *const *words)
{
	const char *argv[16];
	run_argv(argv, words);
	return app_sandbox_run(&sb, NULL, input, argv);
}
#define RUN(input, ...) run_in((input), (const char *const[]){ __VA_ARGS__, NULL })

/* Every ref of the app's repository with its target: the ledger's state. */
static char *refs(const char *app)
{
	char *gd = th_path("--git-dir=%s/apps/%s.git", sb.root, app);
	char *out = SANDBOX_OK(&sb, NULL, "git", gd, "for-each-ref",
			       "--format=%(objectname) %(refname)");
	free(gd);
	return out;
}

Test(run, the_command_sees_the_config_profile_and_herokus_environment)
{
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "config:set", "MSG=hello world", "DYNO=mine", "-a",
			APP));
	struct th_result r = RUN(NULL, "echo \"$MSG|$GREETING|$ORDER|$HOME|$(pwd)\"; "
				       "echo \"$DYNO\" | grep -Eqx 'run\\.[0-9]+' && echo dyno ok; "
				       "[ \"$PORT\" -gt 0 ] && echo port ok");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "hello world|from-profile|profile.d,profile|/app|/app\n"
			       "dyno ok\nport ok\n");
	th_result_free(&r);
	cr_assert_eq(app_sandbox_runs_left(&sb), 0, "the one-off's copy of the slug was left behind");
}

Test(run, the_exit_status_is_the_commands)
{
	struct th_result r = RUN(NULL, "echo out; echo err >&2; exit 7");
	cr_assert_eq(r.status, 7);
	cr_assert_str_eq(r.out, "out\n");
	cr_assert_str_eq(r.err, "err\n");
	th_result_free(&r);
	r = RUN(NULL, "kill -KILL $$");
	cr_assert_eq(r.status, 128 + SIGKILL, "status %d: %s", r.status, r.err);
	th_result_free(&r);
	r = RUN(NULL, "true");
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	cr_assert_eq(app_sandbox_runs_left(&sb), 0);
}

Test(run, several_words_are_exec_ed_as_they_are_options_and_all)
{
	struct th_result r = RUN(NULL, "printf", "[%s]\\n", "a b", "-la", "$MSG", "--help", "-a",
				 "'; exit 3'");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "[a b]\n[-la]\n[$MSG]\n[--help]\n[-a]\n['; exit 3']\n");
	th_result_free(&r);
	/* "--" ends slipway's options: a command that looks like one */
	r = RUN(NULL, "--", "ls", "-a", "/app");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, ".\n..\n.profile\n.profile.d\n.slipway\nProcfile\nindex.html\n");
	th_result_free(&r);
	/* the profile ran before the exec: its variables are there */
	r = RUN(NULL, "printenv", "GREETING");
	cr_assert_str_eq(r.out, "from-profile\n");
	th_result_free(&r);
}

Test(run, stdin_passes_through)
{
	struct th_result r = RUN("line one\nline two\n", "cat");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "line one\nline two\n");
	th_result_free(&r);
	r = RUN("a\nb\nc\n", "wc -l");
	cr_assert_str_eq(app_sandbox_chomp(r.out), "3");
	th_result_free(&r);
}

Test(run, it_runs_in_the_sandbox_in_its_own_copy_of_the_slug)
{
	char *script = th_path("cat /app/index.html; test -e '%s' && echo sees-root || echo no-root;"
			       " echo changed > /app/index.html; touch /app/mark", sb.root);
	struct th_result r = RUN(NULL, script);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "<h1>the slug's page</h1>\nno-root\n");
	th_result_free(&r);
	free(script);
	/* what it changed was its own */
	r = RUN(NULL, "cat /app/index.html; ls /app/mark");
	cr_assert_neq(r.status, 0);
	cr_assert_str_eq(r.out, "<h1>the slug's page</h1>\n");
	th_result_free(&r);
	cr_assert_eq(app_sandbox_runs_left(&sb), 0);
}

/* Starts `slipway run -a APP` with more words, its output into log. */
static pid_t start(const char *log, const char *const *words)
{
	const char *argv[16];
	run_argv(argv, words);
	child = app_sandbox_start(&sb, log, argv);
	return child;
}
#define START(log, ...) start((log), (const char *const[]){ __VA_ARGS__, NULL })

/* Sends sig to the child; its exit status, and the seconds it took to end. */
static int stop(pid_t pid, int sig, double *took)
{
	int status = app_sandbox_signal(pid, sig, took);
	child = -1;
	return status;
}

static const char trapper[] =
	"trap 'echo got TERM; exit 3' TERM; echo started; sleep 300 & wait";

Test(run, sigterm_or_sighup_to_run_reaches_the_command_as_sigterm)
{
	static const int sigs[] = { SIGTERM, SIGHUP, SIGINT };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++) {
		char *log = th_path("%s/run%zu.log", sb.dir, i);
		pid_t pid = START(log, trapper);
		app_sandbox_wait_for(log, "started");
		double took;
		int status = stop(pid, sigs[i], &took);
		char *s = th_read(log, NULL);
		cr_assert_eq(status, 3, "signal %d: status %d\n%s", sigs[i], status, s);
		cr_assert(strstr(s, "got TERM"), "the command never saw SIGTERM:\n%s", s);
		cr_assert_lt(took, 5.0);
		free(s);
		free(log);
		cr_assert_eq(app_sandbox_runs_left(&sb), 0, "the run dir was left behind after signal %d", sigs[i]);
	}
}

Test(run, what_ignores_sigterm_is_killed_after_the_stop_timeout)
{
	char *log = th_path("%s/stubborn.log", sb.dir);
	pid_t pid = START(log, "--stop-timeout", "1",
			  "trap '' TERM; echo stubborn; while :; do sleep 0.1; done");
	app_sandbox_wait_for(log, "stubborn");
	double took;
	int status = stop(pid, SIGTERM, &took);
	cr_assert_eq(status, 128 + SIGKILL, "status %d", status);
	cr_assert_geq(took, 0.9, "killed before the stop timeout (%.2f s)", took);
	cr_assert_lt(took, 5.0, "not killed after the stop timeout (%.2f s)", took);
	cr_assert_eq(app_sandbox_runs_left(&sb), 0);
	free(log);
}

Test(run, it_holds_no_lock_deploys_go_on_and_each_one_off_has_its_own_dyno)
{
	char *log = th_path("%s/long.log", sb.dir);
	pid_t pid = START(log, "echo \"started $DYNO\"; sleep 300");
	app_sandbox_wait_for(log, "started run.");
	/* a config change (a release, under the app's lock) goes on at once */
	double t0 = app_sandbox_clock();
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "config:set", "LATER=1", "-a", APP));
	cr_assert_lt(app_sandbox_clock() - t0, 10.0);
	struct th_result r = RUN(NULL, "echo \"$DYNO $LATER\"");
	cr_assert_eq(r.status, 0, "%s", r.err);
	char *s = th_read(log, NULL);
	char dyno[64] = "";
	sscanf(s, "started %63s", dyno);
	char *mine = th_path("%s 1\n", dyno);
	cr_assert_str_neq(r.out, mine, "two one-offs share %s", dyno);
	cr_assert(!strncmp(r.out, "run.", 4) && strstr(r.out, " 1\n"), "%s", r.out);
	th_result_free(&r);
	free(mine);
	free(s);
	double took;
	stop(pid, SIGTERM, &took);
	cr_assert_eq(app_sandbox_runs_left(&sb), 0);
	free(log);
}

/* `run -a app 'echo ran'` is refused with err; nothing ran, the ledger is as it was. */
static void refused_on(const char *app, const char *err)
{
	char *before = refs(app);
	struct th_result r = SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, "run", "-a", app, "echo ran");
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert_str_eq(r.out, "");
	cr_assert_str_eq(r.err, err);
	th_result_free(&r);
	char *after = refs(app);
	cr_assert_str_eq(after, before);
	free(after);
	free(before);
}

Test(run, refusals_say_why_and_change_nothing)
{
	char *before = refs(APP);
	struct th_result r = run_in(NULL, (const char *const[]){ NULL });
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "error: missing argument for run\n"), "%s", r.err);
	th_result_free(&r);
	r = RUN(NULL, "--nope", "ls");
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "error: unknown option '--nope' for run\n"), "%s", r.err);
	th_result_free(&r);
	/* Heroku's sizes only: nothing runs */
	r = RUN(NULL, "--size", "huge", "echo ran");
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "error: invalid size 'huge': use standard-1x, standard-2x, "
			 "performance-m, performance-l\nUsage: slipway run ") == r.err, "%s", r.err);
	cr_assert_str_eq(r.out, "");
	th_result_free(&r);

	r = SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, "run", "-a", "nope", "true");
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err,
			 " !    app 'nope' does not exist (create it with: slipway apps:create nope)\n");
	th_result_free(&r);

	/* an app without releases, then one whose only release has no slug */
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "apps:create", "fresh"));
	refused_on("fresh", " !    fresh has no release to run yet: push first\n");
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "config:set", "X=1", "-a", "fresh"));
	refused_on("fresh", " !    release v1 of fresh has no slug to run: push code first\n");

	char *after = refs(APP);
	cr_assert_str_eq(after, before);
	free(after);
	free(before);
	cr_assert_eq(app_sandbox_runs_left(&sb), 0);
}

/* /tmp is the sandbox's own memory: slipway.tmpSize bounds it (1G by default). */
Test(run, tmp_holds_at_most_slipway_tmp_size)
{
	static const char fill[] = "head -c 3000000 /dev/zero > /tmp/fill && echo wrote";
	struct th_result r = RUN(NULL, fill);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "wrote\n");
	th_result_free(&r);

	app_sandbox_setenv(&sb, "SLIPWAY_TMP_SIZE=1M");
	r = RUN(NULL, fill);
	cr_assert_neq(r.status, 0);
	cr_assert_str_eq(r.out, "");
	cr_assert(strstr(r.err, "No space left on device"), "%s", r.err);
	th_result_free(&r);
}
