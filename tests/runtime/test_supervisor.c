/*
 * runtime/supervisor: the one writer of service directories - a service
 * appears whole or not at all, a bad name or file is refused with nothing
 * written, an existing one is kept unless replaced - and what it offers
 * to read, list and move them aside.  No s6 runs in that suite: what is
 * checked is the scan directory s6 would read.
 *
 * The suite supervisor_tree runs the real s6: one s6-svscan per root,
 * started once (a second start finds it), told to rescan, stopped with
 * everything of the root; what a killed s6-svscan left running is found
 * and ended; a missing s6 program or tree is a clear error.
 */
#define _GNU_SOURCE
#include "tests/integration/runtime_helpers.h"
#include "tests/release_helpers.h"

#include "runtime/supervisor.h"
#include "util/error.h"
#include "util/util.h"

#include "util/fsutil.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *root, *scan;

static void setup(void)
{
	root = th_sandbox();
	scan = th_path("%s/services", root);
	cr_assert_eq(mkdir(scan, 0755), 0);
}

static void teardown(void)
{
	free(scan);
	th_sandbox_free(root);
}

TestSuite(supervisor, .init = setup, .fini = teardown, .timeout = 60);

/* The entries of the scan directory (dot-names too), sorted, joined by spaces. */
static char *entries(void)
{
	struct strvec v = STRVEC_INIT;
	DIR *d = opendir(scan);
	struct dirent *e;
	cr_assert(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			strvec_push(&v, e->d_name);
	closedir(d);
	strvec_sort(&v);
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < v.n; i++)
		buf_addf(&b, "%s%s", i ? " " : "", v.v[i]);
	strvec_clear(&v);
	return th_keep(buf_detach(&b));
}

static char *file_of(const char *service, const char *name)
{
	char *path = th_path("%s/%s/%s", scan, service, name);
	char *text = th_read(path, NULL);
	free(path);
	return text ? th_keep(text) : NULL;
}

static unsigned mode_of(const char *service, const char *name)
{
	char *path = th_path("%s/%s/%s", scan, service, name);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "%s is missing", path);
	free(path);
	return st.st_mode & 07777;
}

static const struct service_file port_file = { "port", "20001\n", 6, 0644 };

/* What opens run and log/run but for a service that keeps the tree's capabilities (nginx). */
#define DROP_CAPS \
	"while read -r k v; do [ \"$k\" = CapAmb: ] && break; done </proc/self/status\n" \
	"[ -z \"$v\" ] || [ \"$v\" = 0000000000000000 ] ||\n" \
	"\texec /usr/bin/setpriv --inh-caps=-all --ambient-caps=-all \"$0\"\n"

Test(supervisor, a_service_is_written_with_every_file_it_describes)
{
	const char *env[] = { "HOME=/home/o'neil", "SLIPWAY_X=a b", NULL };
	struct service_desc d = { .name = "myapp.v1-1.web.1", .about = "one process instance",
				  .env = env, .run = "exec sleep 1000 2>&1\n",
				  .finish = "#!/bin/sh\nexit 125\n",
				  .log_run = "#!/bin/sh\nexec cat\n",
				  .check = "#!/bin/sh\nexec true\n",
				  .files = &port_file, .nfiles = 1 };
	cr_assert_eq(supervisor_service_write(root, &d), 0, "%s", sw_error_last());

	cr_assert_str_eq(entries(), "myapp.v1-1.web.1", "nothing else is left in the scan directory");
	cr_assert_str_eq(file_of(d.name, "run"),
			 "#!/bin/sh\n# written by slipway: one process instance\n" DROP_CAPS
			 "export HOME='/home/o'\\''neil'\nexport SLIPWAY_X='a b'\n"
			 "exec sleep 1000 2>&1\n");
	cr_assert_str_eq(file_of(d.name, "finish"), "#!/bin/sh\nexit 125\n");
	cr_assert_str_eq(file_of(d.name, "log/run"), "#!/bin/sh\n" DROP_CAPS "exec cat\n");
	cr_assert_str_eq(file_of(d.name, "port"), "20001\n");
	cr_assert_eq(mode_of(d.name, "run"), 0755);
	cr_assert_eq(mode_of(d.name, "finish"), 0755);
	cr_assert_eq(mode_of(d.name, "log/run"), 0755);
	cr_assert_str_eq(file_of(d.name, "data/check"), "#!/bin/sh\nexec true\n");
	cr_assert_eq(mode_of(d.name, "data/check"), 0755);
	cr_assert_eq(mode_of(d.name, "port"), 0644);

	/* and read back through the supervisor */
	char *text = NULL;
	cr_assert_eq(supervisor_service_read(root, d.name, "port", 32, &text), 0);
	cr_assert_str_eq(text, "20001\n");
	free(text);
	cr_assert(supervisor_service_exists(root, d.name));
}

Test(supervisor, a_write_that_fails_halfway_leaves_nothing)
{
	/* the second "port" cannot be created next to the first: the write fails after run */
	const struct service_file twice[] = { port_file, port_file };
	struct service_desc d = { .name = "myapp.v1-1.web.1", .run = "exec true\n",
				  .files = twice, .nfiles = 2 };
	cr_assert_eq(supervisor_service_write(root, &d), SW_ERROR);
	cr_assert(strstr(sw_error_last(), "cannot write"), "%s", sw_error_last());
	cr_assert_str_eq(entries(), "", "no service and no half-written directory is left");
}

Test(supervisor, a_bad_name_is_refused_and_nothing_is_written)
{
	static const char *const bad[] = { "", ".hidden", "a/b", "..", "../up", "a b",
					   "line\nbreak", "dollar$", NULL };
	for (size_t i = 0; bad[i]; i++) {
		struct service_desc d = { .name = bad[i], .run = "exec true\n" };
		cr_assert_eq(supervisor_service_write(root, &d), SW_EINVALID, "'%s' is taken", bad[i]);
		cr_assert(strstr(sw_error_last(), "invalid service name"), "%s", sw_error_last());
	}
	/* a file name that would leave the directory, or take s6's own */
	static const char *const bad_files[] = { "../escape", "a/b", ".x", "run", "supervise",
						 "data", NULL };
	for (size_t i = 0; bad_files[i]; i++) {
		struct service_file f = { bad_files[i], "x", 1, 0644 };
		struct service_desc d = { .name = "ok", .run = "exec true\n", .files = &f, .nfiles = 1 };
		cr_assert_eq(supervisor_service_write(root, &d), SW_EINVALID, "file '%s' is taken",
			     bad_files[i]);
	}
	const char *env[] = { "1A=x", NULL };
	struct service_desc d = { .name = "ok", .run = "exec true\n", .env = env };
	cr_assert_eq(supervisor_service_write(root, &d), SW_EINVALID);
	cr_assert_str_eq(entries(), "", "nothing was written");
	char *escaped = th_path("%s/escape", root);
	cr_assert_eq(access(escaped, F_OK), -1);
	free(escaped);
}

Test(supervisor, an_existing_service_is_kept_unless_it_is_to_be_replaced)
{
	struct service_desc d = { .name = "router", .about = "first", .run = "exec true\n" };
	cr_assert_eq(supervisor_service_write(root, &d), 0, "%s", sw_error_last());
	d.about = "second";
	cr_assert_eq(supervisor_service_write(root, &d), SW_EEXISTS);
	cr_assert(strstr(file_of("router", "run"), "first"));
	d.replace = 1;
	cr_assert_eq(supervisor_service_write(root, &d), 0, "%s", sw_error_last());
	cr_assert(strstr(file_of("router", "run"), "second"));
	cr_assert_str_eq(entries(), "router");

	/* one file of it replaced in place */
	struct service_file f = { "finish", "#!/bin/sh\nexit 0\n", 17, 0755 };
	cr_assert_eq(supervisor_service_put(root, "router", &f), 0, "%s", sw_error_last());
	cr_assert_str_eq(file_of("router", "finish"), "#!/bin/sh\nexit 0\n");
}

Test(supervisor, a_service_moved_aside_is_no_service_and_the_sweep_removes_it)
{
	struct service_desc d = { .name = "watch-myapp", .run = "exec true\n" };
	cr_assert_eq(supervisor_service_write(root, &d), 0, "%s", sw_error_last());
	cr_assert_eq(supervisor_service_move_aside(root, "watch-myapp"), 0);
	struct strvec names = STRVEC_INIT;
	supervisor_service_names(root, &names);
	cr_assert_eq(names.n, 0, "a service moved aside is listed");
	strvec_clear(&names);
	cr_assert(!supervisor_service_exists(root, "watch-myapp"));
	cr_assert_eq(strncmp(entries(), ".gone-", 6), 0, "%s", entries());
	/* no supervisor runs in it (no s6 here at all): it goes */
	supervisor_sweep(root);
	cr_assert_str_eq(entries(), "");
}

/* Writes n services of several files each, as fast as it can. */
static void writer(int n)
{
	static const struct service_file files[] = {
		{ "port", "20001\n", 6, 0644 }, { "timeout-kill", "35000\n", 6, 0644 },
		{ "zzz-last", "1\n", 2, 0644 },
	};
	for (int i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "app.v%d-1.web.1", i + 1);
		struct service_desc d = { .name = name, .run = "exec true\n",
					  .log_run = "#!/bin/sh\nexec cat\n", .files = files,
					  .nfiles = 3, .replace = 1 };
		if (supervisor_service_write(root, &d) < 0)
			_exit(1);
	}
	_exit(0);
}

/* Whether every service visible now holds every file a service of writer() has. */
static int all_whole(int *seen)
{
	static const char *const need[] = { "run", "log/run", "port", "timeout-kill", "zzz-last",
					    NULL };
	DIR *d = opendir(scan);
	struct dirent *e;
	int whole = 1;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		(*seen)++;
		for (size_t i = 0; need[i]; i++) {
			char *path = th_path("%s/%s/%s", scan, e->d_name, need[i]);
			if (access(path, F_OK))
				whole = 0;
			free(path);
		}
	}
	if (d)
		closedir(d);
	return whole;
}

Test(supervisor, no_reader_of_the_scan_directory_sees_half_a_service)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		writer(300);
	int status = 0, seen = 0, whole = 1;
	/* look while it writes, as s6-svscan would */
	while (whole && waitpid(pid, &status, WNOHANG) == 0)
		whole = all_whole(&seen);
	if (!whole) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	cr_assert(whole, "a service was visible before all of its files were written");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the writer failed");
	cr_assert(all_whole(&seen));
	struct strvec names = STRVEC_INIT;
	supervisor_service_names(root, &names);
	cr_assert_eq(names.n, 300);
	strvec_clear(&names);
}

/* The supervision tree itself, with the real s6. */

static pid_t svscan = -1;

static void tree_setup(void)
{
	if (access("/usr/bin/s6-svscan", X_OK))
		cr_skip_test("s6 is needed (run scripts/deps)");
	root = rh_root();
}

static void tree_teardown(void)
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

TestSuite(supervisor_tree, .init = tree_setup, .fini = tree_teardown, .timeout = 120);

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
	char *run = th_path("exec sh -c 'sleep 1000; : %s'\n", root);
	struct service_desc d = { .name = name, .about = "a test's service", .run = run };
	cr_assert_eq(supervisor_service_write(root, &d), 0, "%s", sw_error_last());
	free(run);
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

Test(supervisor_tree, starts_once_per_root_and_a_second_start_finds_the_first)
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

Test(supervisor_tree, a_service_added_runs_after_a_rescan_and_a_stop_leaves_nothing_of_the_root)
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

Test(supervisor_tree, what_a_killed_tree_left_is_ended_by_the_next_start)
{
	start();
	add_service("one");
	cr_assert_eq(supervisor_rescan(root), 0, "%s", sw_error_last());
	cr_assert_eq(wait_services(1).services, 1);
	/* s6-svscan and the service's shell, once its run script has exec'ed it */
	for (int i = 0; i < 200 && th_processes_with(root) < 2; i++)
		rt_pause_ms(50);
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

Test(supervisor_tree, without_a_tree_a_rescan_says_so_and_with_one_exec_refuses)
{
	cr_assert_eq(supervisor_rescan(root), SW_ERROR);
	cr_assert_str_eq(sw_error_last(),
			 "the runtime is not running (start it with: slipway server:start)");
	start();
	cr_assert_eq(supervisor_exec(root), SW_EEXISTS, "it returned: it would not run twice");
	char *want = th_path("the runtime of %s is already running", root);
	cr_assert_str_eq(sw_error_last(), want);
	free(want);
	cr_assert_eq(th_processes_with(root), 1, "still the one s6-svscan");
}

/* supervisor_service_state() until its process runs (up to about 10 s); the last state. */
static struct service_state wait_up(const char *name)
{
	struct service_state st = { 0 };
	for (int i = 0; i < 200; i++) {
		if (supervisor_service_state(root, name, &st) == 0 && st.up && st.pid > 0)
			break;
		rt_pause_ms(50);
	}
	return st;
}

Test(supervisor_tree, a_service_is_seen_signalled_taken_down_and_removed_through_s6)
{
	start();
	add_service("one");
	cr_assert_eq(supervisor_rescan(root), 0, "%s", sw_error_last());
	struct service_state st = wait_up("one");
	cr_assert_eq(st.up, 1, "s6 runs it");
	cr_assert_eq(st.wanted_up, 1);
	cr_assert_gt(st.pid, 0);
	cr_assert_eq(kill((pid_t)st.pid, 0), 0, "the pid s6 gives runs");

	cr_assert_eq(supervisor_service_signal(root, "one", SIGWINCH), SW_EINVALID);
	cr_assert_eq(supervisor_service_down(root, "one", 10), 0, "%s", sw_error_last());
	cr_assert_eq(supervisor_service_state(root, "one", &st), 0);
	cr_assert_eq(st.up, 0);
	cr_assert_eq(st.wanted_up, 0, "kept down");
	cr_assert_eq(st.pid, 0);

	struct strvec names = STRVEC_INIT;
	strvec_push(&names, "one");
	supervisor_service_remove(root, &names);
	strvec_clear(&names);
	cr_assert_eq(supervisor_service_exists(root, "one"), 0);
	cr_assert_eq(supervisor_service_state(root, "one", &st), -1, "s6 knows it no more");
}

/* What the service's run wrote to root/said, once it has (up to about 10 s), malloc'ed; "" if never. */
static char *said(void)
{
	char *path = th_path("%s/said", root), *text = NULL;
	for (int i = 0; i < 200 && !text; i++) {
		if (fs_read_file(path, 256, &text, NULL) < 0 || !strchr(text, '\n')) {
			free(text);
			text = NULL;
			rt_pause_ms(50);
		}
	}
	free(path);
	return text ? text : strdup("");
}

/* A service whose run writes its file "word" to root/said, then sleeps; finish as given. */
static struct service_desc speaker(const char *word, const char *finish, struct service_file *f,
				   char **run)
{
	*run = th_path("cat word > %s/said.tmp && mv %s/said.tmp %s/said && exec sleep 1000\n", root,
		       root, root);
	*f = (struct service_file){ "word", word, strlen(word), 0644 };
	return (struct service_desc){ .name = "speaker", .about = "a test's service", .run = *run,
				      .finish = finish, .files = f, .nfiles = 1 };
}

Test(supervisor_tree, an_update_restarts_a_service_in_place_with_its_new_files)
{
	start();
	struct service_file f;
	char *run;
	struct service_desc d = speaker("one\n", NULL, &f, &run);
	cr_assert_eq(supervisor_service_update(root, &d), SW_ENOTFOUND, "no service yet");
	cr_assert_eq(supervisor_service_write(root, &d), 0, "%s", sw_error_last());
	cr_assert_eq(supervisor_rescan(root), 0);
	char *text = said();
	cr_assert_str_eq(text, "one\n");
	free(text);
	long first = wait_up("speaker").pid;

	char *path = th_path("%s/said", root);
	unlink(path);
	free(run);
	d = speaker("two\n", NULL, &f, &run);
	cr_assert_eq(supervisor_service_update(root, &d), 0, "%s", sw_error_last());
	text = said();
	cr_assert_str_eq(text, "two\n", "the process started again reads the new file");
	free(text);
	struct service_state st = wait_up("speaker");
	cr_assert_neq(st.pid, first, "a new process");
	cr_assert_eq(kill((pid_t)first, 0), -1, "the old one is gone");

	/* one that is down (its finish said so) is started */
	cr_assert_eq(supervisor_service_down(root, "speaker", 10), 0, "%s", sw_error_last());
	unlink(path);
	free(run);
	d = speaker("three\n", "#!/bin/sh\nexit 125\n", &f, &run);
	cr_assert_eq(supervisor_service_update(root, &d), 0, "%s", sw_error_last());
	text = said();
	cr_assert_str_eq(text, "three\n");
	free(text);
	char *finish = NULL;
	cr_assert_eq(supervisor_service_read(root, "speaker", "finish", 64, &finish), 0);
	cr_assert_str_eq(finish, "#!/bin/sh\nexit 125\n");
	free(finish);
	free(path);
	free(run);
}
