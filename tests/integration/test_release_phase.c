/*
 * The release phase: a Procfile `release` process runs for every new
 * release (deploy, config change, rollback); the release becomes current
 * only when it succeeds, and its output is kept for releases:output.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct app_sandbox sb;

#define SW(...) SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__)
#define GIT(...) SANDBOX_RUN(&sb, NULL, "git", __VA_ARGS__)

static void ok(struct th_result r)
{
	free(app_sandbox_must(r, "command"));
}

/* A Procfile whose release command echoes $FOO and fails when FOO=bad. */
static const char procfile[] =
	"web: ./server\n"
	"release: echo \"migrating with FOO=$FOO in $(basename \"$PWD\")\"; test \"$FOO\" != bad\n";

static void setup(void)
{
	app_sandbox_init(&sb, "app", 0);
	app_sandbox_setenv(&sb, "SLIPWAY_USER=alice@example.com");
	app_sandbox_write(&sb, "Procfile", procfile, 0644);
	app_sandbox_create(&sb, NULL);
	app_sandbox_checkout(&sb, NULL, "main", "one");
}

static void teardown(void)
{
	app_sandbox_release(&sb);
}

TestSuite(release_phase, .init = setup, .fini = teardown, .timeout = 120);

static char *current_line(void)
{
	struct th_result r = SW("releases", "-a", "app");
	cr_assert_eq(r.status, 0);
	char *nl = strchr(r.out, '\n');
	*nl = '\0';
	free(r.err);
	return r.out;
}

static char *info_json(const char *v)
{
	struct th_result r = SW("releases:info", v, "--json", "-a", "app");
	cr_assert_eq(r.status, 0, "%s", r.err);
	free(r.err);
	return r.out;
}

Test(release_phase, a_deploy_runs_it_and_keeps_its_output)
{
	struct th_result r = GIT("push", "heroku", "main");
	cr_assert_eq(r.status, 0);
	const char *run = strstr(r.err, "Running release command...");
	const char *out = strstr(r.err, "migrating with FOO= in ");
	const char *done = strstr(r.err, "Waiting for release.... done.");
	const char *rel = strstr(r.err, "Released v1: Deploy");
	cr_assert(run && out && done && rel && run < out && out < done && done < rel, "%s", r.err);
	th_result_free(&r);
	char *head = current_line();
	cr_assert_str_eq(head, "=== app Releases - Current: v1");
	free(head);
	r = SW("releases:output", "v1", "-a", "app");
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "migrating with FOO= in "), "%s", r.out);
	th_result_free(&r);
}

Test(release_phase, a_failed_command_records_a_failed_release_that_is_not_current)
{
	ok(GIT("push", "-q", "heroku", "main"));
	struct th_result r = SW("config:set", "FOO=bad", "-a", "app");
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.out, "migrating with FOO=bad"), "%s", r.out);
	cr_assert(strstr(r.out, " !     Release command failed"), "%s", r.out);
	cr_assert(strstr(r.out, "Setting FOO on app... failed, v2 is recorded but not live\n"), "%s",
		  r.out);
	cr_assert_null(strstr(r.out, "done"), "a failed config change said done:\n%s", r.out);
	cr_assert(strstr(r.err, "The release command of v2 failed; the current release is unchanged."),
		  "%s", r.err);
	th_result_free(&r);

	char *head = current_line();
	cr_assert_str_eq(head, "=== app Releases - Current: v1");
	free(head);
	r = SW("releases", "-a", "app");
	cr_assert(strstr(r.out, "v2  Set FOO config vars (release command failed)"), "%s", r.out);
	th_result_free(&r);
	char *j = info_json("v2");
	cr_assert(strstr(j, "\"status\":\"failed\",\"current\":false"), "%s", j);
	free(j);
	r = SW("releases:output", "v2", "-a", "app");
	cr_assert(strstr(r.out, "migrating with FOO=bad") && strstr(r.out, "exited with status 1"),
		  "%s", r.out);
	th_result_free(&r);
	/* config shows the values of v2, and says they are not the live ones */
	r = SW("config", "-a", "app");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "FOO: bad\n"), "%s", r.out);
	cr_assert_str_eq(r.err, " !    These are the config vars of v2, which failed: its release "
				"command failed.\n !    v1 is live: slipway releases:info v1 -a app\n");
	th_result_free(&r);
	/* releases:info shows the latest release, failed, and says it cannot be rolled back to */
	r = SW("releases:info", "-a", "app");
	cr_assert(strstr(r.out, "=== Release v2\n"), "%s", r.out);
	cr_assert(strstr(r.out, "\nEligible for Rollback?: No (that release failed)\n"), "%s", r.out);
	th_result_free(&r);
	r = SW("releases:info", "v1", "-a", "app");
	cr_assert(strstr(r.out, "=== Release v1 (current)\n"), "%s", r.out);
	cr_assert(strstr(r.out, "\nEligible for Rollback?: Yes\n"), "%s", r.out);
	th_result_free(&r);
	j = info_json("v2");
	cr_assert(strstr(j, ",\"eligible_for_rollback\":false,\"ineligible_reason\":\"that release "
			 "failed\"}"), "%s", j);
	free(j);
	/* a failed release cannot be rolled back to */
	r = SW("rollback", "v2", "-a", "app");
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "cannot roll back to v2: that release failed"), "%s", r.err);
	th_result_free(&r);

	/* a deploy whose release command fails: no "Released" line, still v1 live */
	r = GIT("commit", "-q", "--allow-empty", "-m", "two");
	th_result_free(&r);
	r = GIT("push", "heroku", "main");
	cr_assert(strstr(r.err, " !     Release command failed"), "%s", r.err);
	cr_assert_null(strstr(r.err, "Released v3"), "%s", r.err);
	th_result_free(&r);
	head = current_line();
	cr_assert_str_eq(head, "=== app Releases - Current: v1");
	free(head);

	/* fixing the config runs it again, and the fix goes live */
	r = SW("config:set", "FOO=good", "-a", "app");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "migrating with FOO=good"), "%s", r.out);
	th_result_free(&r);
	head = current_line();
	cr_assert_str_eq(head, "=== app Releases - Current: v4");
	free(head);
}

/* The last "remote:" line of a push's stderr, without git's padding. */
static char *last_remote_line(const char *err)
{
	const char *last = NULL;
	for (const char *p = err; (p = strstr(p, "remote: ")); p++)
		if (p == err || p[-1] == '\n')
			last = p;
	cr_assert(last, "%s", err);
	size_t n = strcspn(last, "\n");
	while (n && last[n - 1] == ' ')
		n--;
	return strndup(last, n);
}

Test(release_phase, a_failed_release_says_so_last_and_fails_the_push_when_asked)
{
	ok(GIT("push", "-q", "heroku", "main"));
	struct th_result r = SW("config:set", "FOO=bad", "-a", "app");
	cr_assert_eq(r.status, 1, "%s", r.err);
	th_result_free(&r);
	/* by default: exit 0, as on Heroku, and the last line says nothing went live */
	ok(GIT("commit", "-q", "--allow-empty", "-m", "two"));
	r = GIT("push", "heroku", "main");
	cr_assert_eq(r.status, 0, "%s", r.err);
	char *last = last_remote_line(r.err);
	cr_assert_str_eq(last, "remote:  !     The push was accepted, but nothing new is live "
			       "(slipway.failedReleaseExit true makes such a push fail)");
	free(last);
	th_result_free(&r);
	char *pushed = app_sandbox_head(&sb, NULL);
	char *main_ref = app_sandbox_ref(&sb, "refs/heads/main");
	cr_assert_str_eq(main_ref, pushed);
	free(main_ref);
	free(pushed);
	int before = app_sandbox_release_count(&sb);

	/* slipway.failedReleaseExit: the release runs before git moves the branch */
	char *gd = th_path("--git-dir=%s", sb.repo);
	ok(GIT(gd, "config", "slipway.failedReleaseExit", "true"));
	ok(GIT("commit", "-q", "--allow-empty", "-m", "three"));
	char *old_main = app_sandbox_ref(&sb, "refs/heads/main");
	r = GIT("push", "heroku", "main");
	cr_assert_neq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, " !     Release command failed"), "%s", r.err);
	cr_assert(strstr(r.err, "[remote rejected] main -> main (pre-receive hook declined)"), "%s",
		  r.err);
	th_result_free(&r);
	main_ref = app_sandbox_ref(&sb, "refs/heads/main");
	cr_assert_str_eq(main_ref, old_main, "the branch moved");
	free(main_ref);
	/* the failed release is recorded, as any failed release is; v1 stays live */
	cr_assert_eq(app_sandbox_release_count(&sb), before + 1);
	char *head = current_line();
	cr_assert_str_eq(head, "=== app Releases - Current: v1");
	free(head);

	/* a release that works: exit 0, launched and released once, the branch moves */
	ok(SW("config:set", "FOO=good", "-a", "app"));
	before = app_sandbox_release_count(&sb);
	r = GIT("push", "heroku", "main");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(th_count(r.err, "Released v"), 1, "%s", r.err);
	cr_assert_eq(th_count(r.err, "remote: -----> Launching..."), 1, "%s", r.err);
	const char *compressed = strstr(r.err, "-----> Compressing... done");
	const char *launching = strstr(r.err, "remote: -----> Launching...");
	const char *command = strstr(r.err, "remote: -----> Running release command...");
	cr_assert(compressed && launching && command && compressed < launching &&
		  launching < command, "%s", r.err);
	th_result_free(&r);
	cr_assert_eq(app_sandbox_release_count(&sb), before + 1);
	pushed = app_sandbox_head(&sb, NULL);
	main_ref = app_sandbox_ref(&sb, "refs/heads/main");
	cr_assert_str_eq(main_ref, pushed);
	free(main_ref);
	free(pushed);

	/* a malformed value refuses the push and says where it is */
	ok(GIT(gd, "config", "slipway.failedReleaseExit", "maybe"));
	ok(GIT("commit", "-q", "--allow-empty", "-m", "four"));
	r = GIT("push", "heroku", "main");
	cr_assert_neq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "slipway.failedReleaseExit"), "%s", r.err);
	th_result_free(&r);
	cr_assert_eq(app_sandbox_release_count(&sb), before + 1);
	free(old_main);
	free(gd);
}

Test(release_phase, a_rollback_runs_it_with_the_old_config)
{
	ok(GIT("push", "-q", "heroku", "main"));
	ok(SW("config:set", "FOO=one", "-a", "app"));
	struct th_result r = SW("rollback", "v1", "-a", "app");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "migrating with FOO= in "), "%s", r.out);
	cr_assert(strstr(r.out, "Rolling back app to v1... done, v3 (not running: start the runtime "
			 "with 'slipway server:start')\n"), "%s", r.out);
	th_result_free(&r);
	r = SW("releases:output", "v3", "-a", "app");
	cr_assert(strstr(r.out, "migrating with FOO= in "), "%s", r.out);
	th_result_free(&r);
}

/* Starts `slipway ARGS` with the sandbox's environment; returns its pid. */
static pid_t start_slipway(const char *const *argv)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		for (size_t i = 0; i < sb.nenv; i++)
			putenv((char *)sb.env[i]);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execv(SLIPWAY_BIN, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

Test(release_phase, a_writer_killed_during_it_leaves_a_release_its_guard_marks_failed)
{
	app_sandbox_write(&sb, "Procfile", "web: ./server\nrelease: test \"$FOO\" != slow || sleep 60\n",
			  0644);
	ok(GIT("commit", "-qam", "slow when asked"));
	ok(GIT("push", "-q", "heroku", "main"));
	struct th_result r = SW("config:set", "FOO=x", "-a", "app");
	th_result_free(&r);
	/* the release command of v3 runs long; its writer is killed meanwhile
	 * (the sandbox keeps the release command from reaching the writer itself) */
	const char *argv[] = { "slipway", "config:set", "FOO=slow", "-a", "app", NULL };
	pid_t pid = start_slipway(argv);
	int pending = 0;
	for (int i = 0; i < 200 && !pending; i++) {
		r = SW("releases", "-a", "app");
		pending = strstr(r.out, "(release command executing)") != NULL;
		th_result_free(&r);
		if (!pending)
			usleep(50 * 1000);
	}
	cr_assert(pending, "v3 never showed its release command executing");
	cr_assert_eq(kill(pid, SIGKILL), 0);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	/* the writer's guard finds it pending, under the lock: it was interrupted */
	char *j = NULL;
	for (int i = 0; i < 300; i++) {
		free(j);
		j = info_json("v3");
		if (strstr(j, "\"status\":\"failed\""))
			break;
		usleep(100 * 1000);
	}
	int failed = strstr(j, "\"status\":\"failed\"") != NULL;
	cr_assert(failed, "%s", j);
	free(j);
	r = SW("releases:output", "v3", "-a", "app");
	cr_assert(strstr(r.out, "interrupted"), "%s", r.out);
	th_result_free(&r);
	r = SW("fsck", "-a", "app");
	cr_assert_eq(r.status, 0, "%s", r.out);
	th_result_free(&r);
	/* and the next writer is not held up */
	r = SW("config:set", "FOO=y", "-a", "app");
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
}

Test(release_phase, with_no_release_live_releases_names_no_current_one)
{
	app_sandbox_write(&sb, "Procfile", "web: ./server\nrelease: exit 1\n", 0644);
	ok(GIT("commit", "-qam", "a release command that fails"));
	struct th_result r = GIT("push", "heroku", "main");
	th_result_free(&r);
	char *head = current_line();
	cr_assert_str_eq(head, "=== app Releases", "with no release live: %s", head);
	free(head);
}

/*
 * Without a version, rollback skips a release that failed and says so; a
 * rollback to a release whose release command differs from the live one's
 * warns that what the live one did is not undone.
 */
Test(release_phase, rollback_skips_failed_releases_and_warns_of_a_different_release_command)
{
	ok(GIT("push", "-q", "heroku", "main"));                /* v1 */
	struct th_result r = SW("config:set", "FOO=bad", "-a", "app"); /* v2 fails */
	cr_assert_eq(r.status, 1, "%s", r.err);
	th_result_free(&r);
	ok(SW("config:set", "FOO=good", "-a", "app"));          /* v3 */
	r = SW("rollback", "-a", "app");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "Rolling back app to v1 (skipped v2: failed)... done, v4 (not "
			 "running: start the runtime with 'slipway server:start')\n"), "%s", r.out);
	/* the same release command: no warning of it, only that add-ons stay */
	cr_assert_str_eq(r.err, " !     Warning: rollback affects code and config vars; it doesn't add or remove addons.\n"
			 "To undo, run: slipway rollback v3 -a app\n");
	th_result_free(&r);

	/* v5 migrates differently; going back to v4 does not undo it */
	app_sandbox_write(&sb, "Procfile", "web: ./server\nrelease: echo rake db:migrate\n", 0644);
	ok(GIT("commit", "-qam", "a new migration"));
	ok(GIT("push", "-q", "heroku", "main"));
	r = SW("rollback", "v4", "-a", "app");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "Rolling back app to v4... done, v6"), "%s", r.out);
	char *want = th_path(" !    v4's release command differs from v5's: the release phase ran "
			     "v4's (\"%s\"), but what v5's (\"echo rake db:migrate\") did to your "
			     "database is not undone.\n !     Warning: rollback affects code and config vars; it doesn't add or remove addons.\n"
			     "To undo, run: slipway rollback v5 -a app\n",
			     "echo \"migrating with FOO=$FOO in $(basename \"$PWD\")\"; test \"$FOO\" "
			     "!= bad");
	cr_assert_str_eq(r.err, want);
	free(want);
	th_result_free(&r);

	/* a release without a release command did nothing to undo: no warning */
	app_sandbox_write(&sb, "Procfile", "web: ./server\n", 0644);
	ok(GIT("commit", "-qam", "no release command"));
	ok(GIT("push", "-q", "heroku", "main"));                /* v7 */
	r = SW("rollback", "v6", "-a", "app");                  /* v8 */
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.err, " !     Warning: rollback affects code and config vars; it doesn't add or remove addons.\n"
			 "To undo, run: slipway rollback v7 -a app\n");
	th_result_free(&r);
	/* going back to it leaves what the live one's did */
	r = SW("rollback", "v7", "-a", "app");                  /* v9 */
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "Rolling back app to v7... done, v9"), "%s", r.out);
	cr_assert(strstr(r.err, " !    v7 has no release command, unlike v8: what v8's (\"echo "
			     "\"migrating with FOO="), "%s", r.err);
	cr_assert(strstr(r.err, "\") did to your database is not undone.\n !     Warning: rollback "
			     "affects code and config vars; it doesn't add or remove addons.\nTo undo, "
			     "run: slipway rollback v8 -a app\n"), "%s", r.err);
	th_result_free(&r);
}
