/*
 * release/watcher: the watch service of a release - written when
 * slipway.watch is on and there is a release to go back to, holding the
 * release, the one before it and the end of the window; a newer release's
 * takes its place; never a remote user's name; a clear error without a
 * tree.
 *
 * With the tree running, s6 starts the service's run program, which is
 * this test executable here (the watcher is /proc/self/exe): it prints its
 * usage and ends by itself, and the service's finish keeps it down.
 */
#define _GNU_SOURCE
#include "tests/release_helpers.h"

#include "release/watcher.h"
#include "store/appctx.h"
#include "runtime/supervisor.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *root, *dir;
static pid_t svscan = -1;

static void setup(void)
{
	root = rh_root();
	rh_app(root, "demo");
	char *name = watch_service_name("demo");
	dir = th_path("%s/services/%s", root, name);
	free(name);
}

static void teardown(void)
{
	if (svscan > 0) {
		supervisor_stop(root, 10);
		kill(svscan, SIGKILL);
		waitpid(svscan, NULL, 0);
	}
	free(dir);
	th_sandbox_free(root);
}

TestSuite(watcher, .init = setup, .fini = teardown, .timeout = 60);

static void start_tree(void)
{
	if (access("/usr/bin/s6-svscan", X_OK))
		cr_skip_test("s6 is needed (run scripts/deps)");
	struct supervisor_status st;
	cr_assert_eq(supervisor_start(root, &st), 0, "%s", sw_error_last());
	svscan = st.pid;
}

/* The call under test, in one place: as a writer under the app lock makes it. */
static int spawn(int version, int previous)
{
	struct app_ctx ctx = APP_CTX_INIT;
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_WRITE), 0, "%s", sw_error_last());
	int err = watch_spawn(&ctx, version, previous, 0);
	app_ctx_release(&ctx);
	return err;
}

Test(watcher, the_service_is_named_for_the_app)
{
	char *name = watch_service_name("demo");
	cr_assert_str_eq(name, "watch-demo");
	free(name);
	int v = 0, p = 0;
	long long end = 0;
	cr_assert_eq(watch_service_read(root, "demo", &v, &p, &end), -1, "none yet");
}

Test(watcher, nothing_is_watched_when_slipway_watch_is_0_or_no_release_came_before)
{
	start_tree();
	setenv("SLIPWAY_WATCH", "0", 1);
	cr_assert_eq(spawn(2, 1), 0, "%s", sw_error_last());
	cr_assert_neq(access(dir, F_OK), 0, "slipway.watch 0: no watch");
	unsetenv("SLIPWAY_WATCH");
	cr_assert_eq(spawn(1, 0), 0, "%s", sw_error_last());
	cr_assert_neq(access(dir, F_OK), 0, "the first release: nothing to go back to");
}

Test(watcher, the_service_holds_the_release_the_one_before_and_the_end_of_the_window)
{
	start_tree();
	setenv("SLIPWAY_WATCH", "120", 1);
	setenv("SLIPWAY_USER", "mallory", 1);
	long long t0 = time(NULL);
	cr_assert_eq(spawn(5, 3), 0, "%s", sw_error_last());
	long long t1 = time(NULL);
	int v = 0, p = 0;
	long long end = 0;
	cr_assert_eq(watch_service_read(root, "demo", &v, &p, &end), 0);
	cr_assert_eq(v, 5);
	cr_assert_eq(p, 3);
	cr_assert(end >= t0 + 120 && end <= t1 + 120, "the window ends %lld s after it started",
		  end - t0);
	char *run_path = th_path("%s/run", dir), *run = th_read(run_path, NULL);
	cr_assert(strstr(run, " watch:run v5 --previous v3 -a demo "), "%s", run);
	cr_assert_null(strstr(run, "mallory"), "a remote user's name never reaches it: %s", run);
	cr_assert(strstr(run, "SLIPWAY_WATCH="), "the settings it was started with: %s", run);
	free(run);
	free(run_path);
}

Test(watcher, a_newer_release_takes_the_place_of_the_earlier_watch_and_stop_ends_it)
{
	start_tree();
	cr_assert_eq(spawn(2, 1), 0, "%s", sw_error_last());
	cr_assert_eq(spawn(3, 2), 0, "%s", sw_error_last());
	int v = 0, p = 0;
	long long end = 0;
	cr_assert_eq(watch_service_read(root, "demo", &v, &p, &end), 0);
	cr_assert_eq(v, 3);
	cr_assert_eq(p, 2);
	watch_stop(root, "demo");
	cr_assert_neq(access(dir, F_OK), 0, "apps:destroy: the watch is gone");
	watch_stop(root, "demo");
}

/*
 * The reason the tree gave is said once, after the prefix (the message is
 * formatted apart from the error it wraps, never into the same buffer).
 */
Test(watcher, without_a_tree_it_says_the_watcher_cannot_start)
{
	/* a root whose tree ran once and is stopped now */
	start_tree();
	cr_assert_eq(supervisor_stop(root, 10), 0, "%s", sw_error_last());
	cr_assert_eq(spawn(2, 1), SW_ERROR);
	cr_assert_str_eq(sw_error_last(), "cannot start the watcher: the runtime is not running "
			 "(start it with: slipway server:start)");
}

/* A root never started: its service is written (the tree starts it later), and it says why not now. */
Test(watcher, without_a_scan_directory_it_says_the_watcher_cannot_start)
{
	cr_assert_eq(spawn(2, 1), SW_ERROR);
	cr_assert_str_eq(sw_error_last(), "cannot start the watcher: the runtime is not running "
			 "(start it with: slipway server:start)");
}
