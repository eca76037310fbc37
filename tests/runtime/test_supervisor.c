/*
 * runtime/supervisor: one s6-svscan per root, started once (a second
 * start finds it), told to rescan, stopped with everything of the root;
 * what a killed s6-svscan left running is found and ended; a missing s6
 * program or tree is a clear error.
 */
#define _GNU_SOURCE
#include "tests/integration/runtime_helpers.h"
#include "tests/release_helpers.h"

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

static char *root;
static pid_t svscan = -1;

static void setup(void)
{
	if (access("/usr/bin/s6-svscan", X_OK))
		cr_skip_test("s6 is needed (run scripts/deps)");
	root = rh_root();
}

static void teardown(void)
{
	if (!root)
		return;
	supervisor_stop(root, 10);
	if (svscan > 0) {
		kill(svscan, SIGKILL);
		waitpid(svscan, NULL, 0);
	}
	th_sandbox_free(root);
}

TestSuite(supervisor, .init = setup, .fini = teardown, .timeout = 120);

/* Starts the tree, which must come up; its status. */
static struct supervisor_status start(void)
{
	struct supervisor_status st;
	cr_assert_eq(supervisor_start(root, &st), 0, "%s", sw_error_last());
	cr_assert_eq(st.running, 1);
	cr_assert_gt(st.pid, 0);
	svscan = st.pid;
	return st;
}

/* A service that runs a shell naming the root (so it counts as the root's) until stopped. */
static void add_service(const char *name)
{
	char *tmp = th_path("%s/services/.new-%s", root, name);
	char *run = th_path("%s/run", tmp);
	char *text = th_path("#!/bin/sh\nexec sh -c 'sleep 1000; : %s'\n", root);
	th_write(run, text, 0755);
	char *dir = th_path("%s/services/%s", root, name);
	cr_assert_eq(rename(tmp, dir), 0);
	free(dir);
	free(text);
	free(run);
	free(tmp);
}

/* supervisor_status() until services is n, up to about 10 s; the last status. */
static struct supervisor_status wait_services(int n)
{
	struct supervisor_status st;
	for (int i = 0; i < 200; i++) {
		cr_assert_eq(supervisor_status(root, &st), 0);
		if (st.services == n)
			break;
		rt_pause_ms(50);
	}
	return st;
}

Test(supervisor, starts_once_per_root_and_a_second_start_finds_the_first)
{
	cr_assert_eq(supervisor_running(root), 0);
	struct supervisor_status first = start(), again;
	cr_assert_eq(first.already, 0);
	cr_assert_eq(supervisor_running(root), 1);
	cr_assert_eq(supervisor_start(root, &again), 0, "%s", sw_error_last());
	cr_assert_eq(again.already, 1);
	cr_assert_eq(again.pid, first.pid, "the same s6-svscan");
	cr_assert_eq(th_processes_with(root), 1, "one s6-svscan on the root");
}

Test(supervisor, a_service_added_runs_after_a_rescan_and_a_stop_leaves_nothing_of_the_root)
{
	start();
	add_service("one");
	cr_assert_eq(supervisor_rescan(root), 0, "%s", sw_error_last());
	struct supervisor_status st = wait_services(1);
	cr_assert_eq(st.services, 1, "s6 supervises the new service");
	cr_assert_eq(st.outside, 0);

	cr_assert_eq(supervisor_stop(root, 10), 0, "%s", sw_error_last());
	waitpid(svscan, NULL, 0);
	svscan = -1;
	cr_assert_eq(supervisor_running(root), 0);
	cr_assert_eq(supervisor_status(root, &st), 0);
	cr_assert_eq(st.running, 0);
	cr_assert_eq(st.services, 0);
	cr_assert_eq(th_processes_with(root), 0, "no process of the root is left");
	cr_assert_eq(supervisor_stop(root, 10), 0, "stopping what is stopped is fine");
}

Test(supervisor, what_a_killed_tree_left_is_ended_by_the_next_start)
{
	start();
	add_service("one");
	cr_assert_eq(supervisor_rescan(root), 0, "%s", sw_error_last());
	cr_assert_eq(wait_services(1).services, 1);
	cr_assert_eq(kill(svscan, SIGKILL), 0);
	waitpid(svscan, NULL, 0);
	svscan = -1;

	struct supervisor_status st;
	cr_assert_eq(supervisor_status(root, &st), 0);
	cr_assert_eq(st.running, 0);
	cr_assert_geq(st.outside, 2, "its s6-supervise and the service run on: %d", st.outside);
	cr_assert_geq(th_processes_with(root), 1, "the service's shell runs on");

	struct supervisor_status next = start();
	cr_assert_eq(next.already, 0);
	/* at least those (the service's shell may have started its sleep since) */
	cr_assert_geq(next.ended, st.outside, "what was left is ended first: %d of %d", next.ended,
		      st.outside);
	st = wait_services(1);
	cr_assert_eq(st.services, 1, "the new tree runs the service itself");
	cr_assert_eq(st.outside, 0);
}

Test(supervisor, without_a_tree_or_an_s6_program_the_error_says_so)
{
	cr_assert_eq(supervisor_rescan(root), SW_ERROR);
	cr_assert_str_eq(sw_error_last(),
			 "the runtime is not running (start it with: slipway server:start)");
	int status = -1;
	const char *argv[] = { "s6-nosuchprogram", "-h", NULL };
	cr_assert_eq(supervisor_s6(argv, &status, NULL), SW_ERROR);
	cr_assert_str_eq(sw_error_last(), "s6-nosuchprogram is not installed: install the s6 package");
	struct buf out = BUF_INIT;
	const char *ok[] = { "s6-svscanctl", "-z", "/nonexistent", NULL };
	cr_assert_eq(supervisor_s6(ok, &status, &out), 0, "%s", sw_error_last());
	cr_assert_neq(status, 0, "its exit code is the program's");
	buf_release(&out);
}
