/*
 * runtime/supervisor: the one writer of service directories - a service
 * appears whole or not at all, a bad name or file is refused with nothing
 * written, an existing one is kept unless replaced - and what it offers
 * to read, list and move them aside.  No s6 runs here: what is checked is
 * the scan directory s6 would read.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include "runtime/supervisor.h"
#include "util/error.h"
#include "util/util.h"

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

Test(supervisor, a_service_is_written_with_every_file_it_describes)
{
	const char *env[] = { "HOME=/home/o'neil", "SLIPWAY_X=a b", NULL };
	struct service_desc d = { .name = "myapp.v1-1.web.1", .about = "one process instance",
				  .env = env, .run = "exec sleep 1000 2>&1\n",
				  .finish = "#!/bin/sh\nexit 125\n",
				  .log_run = "#!/bin/sh\nexec cat\n",
				  .files = &port_file, .nfiles = 1 };
	cr_assert_eq(supervisor_service_write(root, &d), 0, "%s", sw_error_last());

	cr_assert_str_eq(entries(), "myapp.v1-1.web.1", "nothing else is left in the scan directory");
	cr_assert_str_eq(file_of(d.name, "run"),
			 "#!/bin/sh\n# written by slipway: one process instance\n"
			 "export HOME='/home/o'\\''neil'\nexport SLIPWAY_X='a b'\n"
			 "exec sleep 1000 2>&1\n");
	cr_assert_str_eq(file_of(d.name, "finish"), "#!/bin/sh\nexit 125\n");
	cr_assert_str_eq(file_of(d.name, "log/run"), "#!/bin/sh\nexec cat\n");
	cr_assert_str_eq(file_of(d.name, "port"), "20001\n");
	cr_assert_eq(mode_of(d.name, "run"), 0755);
	cr_assert_eq(mode_of(d.name, "finish"), 0755);
	cr_assert_eq(mode_of(d.name, "log/run"), 0755);
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
	static const char *const bad_files[] = { "../escape", "a/b", ".x", "run", "supervise", NULL };
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
