/*
 * test_proc.c - util/proc.c: the snapshot sees this process, its parent
 * and its age, a child's working directory, executable and open files, and
 * who is whose ancestor, and which processes work under a directory.
 */
#define _GNU_SOURCE
#include "util/proc.h"
#include "tests/helpers.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *sb;

static void setup(void)
{
	sb = th_sandbox();
}

static void teardown(void)
{
	th_sandbox_free(sb);
}

TestSuite(proc, .init = setup, .fini = teardown, .timeout = 60);

/* A child in dir that has path open (if not NULL), waiting to be killed. */
static pid_t child(const char *dir, const char *path, int exec_sleep)
{
	int ready[2];
	cr_assert_eq(pipe(ready), 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		if (chdir(dir) < 0 || (path && open(path, O_RDONLY) < 0))
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		if (exec_sleep)
			execlp("sleep", "sleep", "60", (char *)NULL);
		pause();
		_exit(0);
	}
	close(ready[1]);
	char c;
	cr_assert_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	if (exec_sleep)
		usleep(200 * 1000); /* let it exec */
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

Test(proc, self_parent_age_and_a_childs_directory)
{
	pid_t pid = child(sb, NULL, 1);
	struct proc_table t = PROC_TABLE_INIT;
	cr_assert_eq(proc_table_read(&t), 0);
	const struct proc_info *me = proc_find(&t, getpid());
	cr_assert(me);
	cr_assert_eq(me->ppid, getppid());
	cr_assert(me->age >= 0 && me->age < 3600, "age %f", me->age);
	cr_assert(proc_is_self_or_ancestor(&t, getpid()));
	cr_assert(proc_is_self_or_ancestor(&t, getppid()));
	cr_assert(proc_runs_self(&t, me));

	const struct proc_info *c = proc_find(&t, pid);
	cr_assert(c);
	cr_assert_eq(c->ppid, getpid());
	cr_assert(!proc_is_self_or_ancestor(&t, pid));
	struct stat st;
	cr_assert_eq(stat(sb, &st), 0);
	cr_assert(c->has_cwd && c->cwd_dev == st.st_dev && c->cwd_ino == st.st_ino);
	cr_assert_str_eq(c->exe_name, "sleep");
	cr_assert(!proc_runs_self(&t, c));
	cr_assert(c->age >= 0 && c->age <= me->age + 1, "child %f, me %f", c->age, me->age);
	proc_table_free(&t);
	stop(pid);
}

Test(proc, open_files_by_inode)
{
	char *path = th_path("%s/held", sb);
	char *other = th_path("%s/other", sb);
	th_write(path, "x", 0644);
	th_write(other, "y", 0644);
	struct stat held, not_held;
	cr_assert_eq(stat(path, &held), 0);
	cr_assert_eq(stat(other, &not_held), 0);

	pid_t pid = child("/", path, 0);
	struct proc_table t = PROC_TABLE_INIT;
	cr_assert_eq(proc_table_read(&t), 0);
	pid_t who = 0;
	cr_assert(proc_file_open(&t, &held, &who));
	cr_assert_eq(who, pid);
	cr_assert(!proc_file_open(&t, &not_held, NULL));
	proc_table_free(&t);

	/* this process's own files do not count */
	int fd = open(other, O_RDONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(proc_table_read(&t), 0);
	cr_assert(!proc_file_open(&t, &not_held, NULL));
	proc_table_free(&t);
	close(fd);

	stop(pid);
	cr_assert_eq(proc_table_read(&t), 0);
	cr_assert(!proc_file_open(&t, &held, NULL), "a dead process holds nothing");
	proc_table_free(&t);
	free(path);
	free(other);
}

/* 1 when pid is among the n entries of v. */
static int among(const struct proc_info **v, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i]->pid == pid)
			return 1;
	return 0;
}

Test(proc, the_processes_under_a_directory_and_theirs_even_once_it_is_removed)
{
	char *dir = th_path("%s/services/svc", sb), *other = th_path("%s/services-old", sb);
	cr_assert_eq(fs_mkdir_p(dir, 0755), 0);
	cr_assert_eq(fs_mkdir_p(other, 0755), 0);
	pid_t in = child(dir, NULL, 0), outside = child(other, NULL, 0);
	char *scandir = th_path("%s/services", sb);
	struct proc_table t = PROC_TABLE_INIT;
	const struct proc_info **v = NULL;
	size_t n = 0;
	cr_assert_eq(proc_table_read(&t), 0);
	proc_under(&t, scandir, NULL, NULL, &v, &n);
	cr_assert(among(v, n, in), "the process working under the directory");
	cr_assert_not(among(v, n, outside), "a directory whose name only begins the same");
	cr_assert_not(among(v, n, getpid()), "never this process");
	const struct proc_info *p = proc_find(&t, in);
	cr_assert(p && proc_still_runs(p));
	free(v);
	proc_table_free(&t);

	/* its directory removed: the kernel still shows its last path */
	cr_assert_eq(rmdir(dir), 0);
	cr_assert_eq(proc_table_read(&t), 0);
	proc_under(&t, scandir, NULL, NULL, &v, &n);
	cr_assert(among(v, n, in), "a process whose directory was removed");
	p = proc_find(&t, in);
	struct proc_info gone = *p;
	free(v);
	proc_table_free(&t);
	stop(in);
	cr_assert_not(proc_still_runs(&gone), "an exited process does not run");
	stop(outside);
	free(scandir);
	free(other);
	free(dir);
}

/* Raising oom_score_adj is always allowed and its children inherit it. */
Test(proc, a_raised_oom_score_adj_is_what_the_process_and_its_children_have)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (proc_oom_score_adj(PROC_OOM_APP) < 0)
			_exit(1);
		pid_t child = fork();
		if (child == 0) {
			char text[16] = "";
			int fd = open("/proc/self/oom_score_adj", O_RDONLY);
			_exit(fd >= 0 && read(fd, text, sizeof(text) - 1) > 0 && atoi(text) == PROC_OOM_APP
				      ? 0 : 2);
		}
		int st;
		_exit(child > 0 && waitpid(child, &st, 0) == child && WIFEXITED(st) ? WEXITSTATUS(st)
										      : 3);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
}

static void *fork_one(void *arg)
{
	pid_t *pid = arg;
	*pid = child(sb, NULL, 1);
	return NULL;
}

/* Children forked by the main thread and by another thread are all found, and no one else. */
Test(proc, children_are_every_child_of_every_thread)
{
	pid_t mine[3], none[4];
	for (int i = 0; i < 2; i++)
		mine[i] = child(sb, NULL, 1);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, fork_one, &mine[2]), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	pid_t got[8];
	size_t n = proc_children(getpid(), got, 8);
	cr_assert_eq(n, 3, "%zu children", n);
	for (int i = 0; i < 3; i++) {
		int found = 0;
		for (size_t k = 0; k < n; k++)
			found |= got[k] == mine[i];
		cr_assert(found, "child %d (pid %d) is not among the children", i, (int)mine[i]);
	}
	cr_assert_eq(proc_children(mine[0], none, 4), 0, "a sleep has no children");
	for (int i = 0; i < 3; i++) {
		kill(mine[i], SIGKILL);
		waitpid(mine[i], NULL, 0);
	}
	cr_assert_eq(proc_children(getpid(), got, 8), 0);
}

/* A child that starts a grandchild of its own, then waits; the grandchild's pid through out. */
static pid_t child_with_grandchild(pid_t *grandchild)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		pid_t g = fork();
		if (g == 0) {
			pause();
			_exit(0);
		}
		(void)!write(p[1], &g, sizeof(g));
		pause();
		_exit(0);
	}
	cr_assert_eq(read(p[0], grandchild, sizeof(*grandchild)), (ssize_t)sizeof(*grandchild));
	close(p[0]);
	close(p[1]);
	return pid;
}

Test(proc, descendants_are_the_whole_tree_below_and_no_one_else)
{
	pid_t g, c = child_with_grandchild(&g), other = fork();
	if (other == 0) {
		pause();
		_exit(0);
	}
	pid_t got[16];
	size_t n = proc_descendants(c, got, 16);
	cr_assert_eq(n, 2, "%zu processes", n);
	cr_assert_eq(got[0], c, "the root first");
	cr_assert_eq(got[1], g, "then its child's child");
	n = proc_descendants(getpid(), got, 16);
	int seen = 0;
	for (size_t i = 0; i < n; i++)
		seen += got[i] == c || got[i] == g || got[i] == other;
	cr_assert_eq(seen, 3, "all three are below this process");
	cr_assert_eq(proc_descendants(c, got, 1), 1, "at most max");
	kill(g, SIGKILL);
	kill(c, SIGKILL);
	kill(other, SIGKILL);
	waitpid(c, NULL, 0);
	waitpid(other, NULL, 0);
}
