/*
 * release/watch: the watcher itself, run in this process against a real
 * s6 tree - it ends at once when its service is not its own, leaves the
 * service for the next start when the runtime stopped, lets another
 * release be, and rolls back to the release before when a web instance of
 * its release crashed WATCH_STRIKES times: "Rollback to vP (automatic:
 * ...)" by slipway, never watched itself, said in the app's log.
 *
 * The crashed instance is a service directory holding the crash count as
 * runtime/instance.c keeps it, kept down (a real instance here would run
 * this test executable); tests/integration/test_watch.c crashes real ones.
 */
#define _GNU_SOURCE
#include "tests/release_helpers.h"

#include "release/watch.h"
#include "release/watcher.h"
#include "store/appctx.h"
#include "runtime/logs.h"
#include "runtime/supervisor.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *root, *dir;
static pid_t svscan = -1;
static char hex[65];

static void setup(void)
{
	if (access("/usr/bin/s6-svscan", X_OK))
		cr_skip_test("s6 is needed (run scripts/deps)");
	root = rh_root();
	rh_app(root, "demo");
	char *name = watch_service_name("demo");
	dir = th_path("%s/services/%s", root, name);
	free(name);
	rh_slug(root, hex, "worker", "#!/bin/sh\n", NULL);
	/* v1 runs nothing the default formation starts, so going back to it starts nothing */
	rh_release(root, "demo", hex, RELEASE_SUCCEEDED, "worker", "./worker", NULL);
	rh_release(root, "demo", hex, RELEASE_SUCCEEDED, "worker", "./worker", NULL);
}

static void teardown(void)
{
	if (!root)
		return;
	if (svscan > 0) {
		supervisor_stop(root, 10);
		kill(svscan, SIGKILL);
		waitpid(svscan, NULL, 0);
	}
	free(dir);
	th_sandbox_free(root);
}

TestSuite(watch, .init = setup, .fini = teardown, .timeout = 60);

static void start_tree(void)
{
	struct supervisor_status st;
	cr_assert_eq(supervisor_start(root, &st), 0, "%s", sw_error_last());
	svscan = st.pid;
}

/* The calls under test, in one place: the watch of v2 (v1 before it), as watch:run opens it. */
static int run_watch(int *rolled_back)
{
	struct app_ctx ctx = APP_CTX_INIT;
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_READ), 0, "%s", sw_error_last());
	*rolled_back = -1;
	int err = watch_run(&ctx, 2, 1, rolled_back);
	app_ctx_release(&ctx);
	return err;
}

/* Starts the watch of v2 (v1 before it), as a writer under the app lock does. */
static int spawn(void)
{
	struct app_ctx ctx = APP_CTX_INIT;
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_WRITE), 0, "%s", sw_error_last());
	int err = watch_spawn(&ctx, 2, 1, 0);
	app_ctx_release(&ctx);
	return err;
}

/* A web instance of v2 that crashed n times, kept down. */
static void crashed_instance(int n)
{
	char *svc = th_path("%s/services/demo.v2-1.web.1", root);
	char *path = th_path("%s/down", svc);
	th_write(path, "", 0644);
	free(path);
	path = th_path("%s/run", svc);
	th_write(path, "#!/bin/sh\nexit 0\n", 0755);
	free(path);
	path = th_path("%s/crashes", svc);
	char *text = th_path("%d\n", n);
	th_write(path, text, 0644);
	free(text);
	free(path);
	free(svc);
}

static char *app_log(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	cr_assert_eq(logs_show(root, "demo", NULL, 100, 0, out, NULL, NULL), 0, "%s",
		     sw_error_last());
	fclose(out);
	return text;
}

Test(watch, without_its_service_the_watcher_ends_at_once)
{
	start_tree();
	int rolled = 0;
	cr_assert_eq(run_watch(&rolled), 0, "%s", sw_error_last());
	cr_assert_eq(rolled, 0);
	cr_assert_eq(rh_latest(root, "demo"), 2, "nothing recorded");
}

Test(watch, a_stopped_runtime_leaves_the_watch_for_the_next_start)
{
	start_tree();
	cr_assert_eq(spawn(), 0, "%s", sw_error_last());
	cr_assert_eq(supervisor_stop(root, 10), 0, "%s", sw_error_last());
	int rolled = 0;
	cr_assert_eq(run_watch(&rolled), 0, "%s", sw_error_last());
	cr_assert_eq(rolled, 0);
	int v = 0, p = 0;
	long long end = 0;
	cr_assert_eq(watch_service_read(root, "demo", &v, &p, &end), 0, "the service stays");
	cr_assert_eq(v, 2);
	cr_assert_eq(rh_latest(root, "demo"), 2);
}

Test(watch, another_release_made_current_ends_the_watch_without_a_rollback)
{
	start_tree();
	crashed_instance(WATCH_STRIKES);
	cr_assert_eq(spawn(), 0, "%s", sw_error_last());
	rh_release(root, "demo", hex, RELEASE_SUCCEEDED, "worker", "./worker", NULL);
	int rolled = 0;
	cr_assert_eq(run_watch(&rolled), 0, "%s", sw_error_last());
	cr_assert_eq(rolled, 0, "not its release to roll back");
	cr_assert_eq(rh_latest(root, "demo"), 3);
	cr_assert_eq(rh_current(root, "demo"), 3);
	cr_assert_neq(access(dir, F_OK), 0, "its service is gone");
}

Test(watch, a_web_instance_that_crashed_three_times_rolls_back_to_the_release_before)
{
	start_tree();
	crashed_instance(WATCH_STRIKES);
	/* a window shorter than the test's time: a watch that never rolls back ends and fails it */
	setenv("SLIPWAY_WATCH", "20", 1);
	cr_assert_eq(spawn(), 0, "%s", sw_error_last());
	int rolled = 0;
	cr_assert_eq(run_watch(&rolled), 0, "%s", sw_error_last());
	cr_assert_eq(rolled, 3);
	cr_assert_eq(rh_current(root, "demo"), 3);
	struct release r = RELEASE_INIT;
	rh_read(root, "demo", 3, &r);
	cr_assert_str_eq(r.description,
			 "Rollback to v1 (automatic: web.1 crashed 3 times after v2 went live)");
	cr_assert_str_eq(r.user, WATCH_USER);
	cr_assert_eq(r.rollback_of, 1);
	release_release(&r);
	cr_assert_neq(access(dir, F_OK), 0, "an automatic rollback is never watched itself");
	char *log = app_log();
	cr_assert(strstr(log, "slipway[api]: Rolling back to v1 automatically: web.1 crashed 3 "
			 "times after v2 went live\n"), "%s", log);
	free(log);
}
