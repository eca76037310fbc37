/*
 * Lock files git itself leaves in an app's repository when it is killed
 * between locking a ref and renaming the lock over it: the next push
 * removes them and says so, fsck names them, and a lock that may still be
 * in use (recent, open, or kept by a git at work in the repository) is
 * left alone, so git's own waiting and compare-and-swap still decide.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct app_sandbox sb;

static void setup(void)
{
	app_sandbox_init(&sb, "app", APP_SANDBOX_CREATE | APP_SANDBOX_BATCH);
	app_sandbox_write(&sb, "Procfile", "web: ./run\n", 0644);
	app_sandbox_checkout(&sb, NULL, "main", "first");
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v1"), "%s", out);
	free(out);
}

static void teardown(void)
{
	app_sandbox_release(&sb);
}

TestSuite(git_locks, .init = setup, .fini = teardown, .timeout = 300);

#define STALE_MSG(f) "stale git lock " f ", left behind by an interrupted git process"

static double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *repo_file(const char *name)
{
	return th_path("%s/%s", sb.repo, name);
}

/* What a git killed after locking a ref leaves: the new value in <ref>.lock, written age seconds ago. */
static void leave_lock(const char *name, int age)
{
	char *path = repo_file(name);
	char *sha = app_sandbox_head(&sb, NULL);
	char *content = th_path("%s\n", sha);
	th_write(path, content, 0644);
	struct timespec t[2];
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= age;
	t[1] = t[0];
	cr_assert_eq(utimensat(AT_FDCWD, path, t, 0), 0);
	free(content);
	free(sha);
	free(path);
}

static int has(const char *name)
{
	char *path = repo_file(name);
	int ok = access(path, F_OK) == 0;
	free(path);
	return ok;
}

static void commit(const char *msg)
{
	char *name = th_path("%s.txt", msg);
	app_sandbox_write(&sb, name, msg, 0644);
	free(name);
	free(SANDBOX_OK(&sb, NULL, "git", "add", "-A"));
	free(SANDBOX_OK(&sb, NULL, "git", "commit", "-q", "-m", msg));
}

static void fsck_clean(void)
{
	struct th_result r = SANDBOX_RUN(&sb, sb.dir, SLIPWAY_BIN, "fsck", "-a", "app");
	cr_assert_eq(r.status, 0, "fsck: %s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "fsck: app is consistent\n");
	th_result_free(&r);
}

Test(git_locks, the_next_push_removes_what_a_killed_git_left_and_fsck_names_it)
{
	leave_lock("refs/heads/main.lock", 60);
	leave_lock("HEAD.lock", 60);
	leave_lock("refs/heads/feature/x.lock", 3600);

	struct th_result r = SANDBOX_RUN(&sb, sb.dir, SLIPWAY_BIN, "fsck");
	cr_assert_eq(r.status, 1, "fsck: exit %d\n%s%s", r.status, r.out, r.err);
	cr_assert_str_eq(r.out,
			 "problem: app: " STALE_MSG("HEAD.lock") " (the next push removes it)\n"
			 "problem: app: " STALE_MSG("refs/heads/feature/x.lock") " (the next push removes it)\n"
			 "problem: app: " STALE_MSG("refs/heads/main.lock") " (the next push removes it)\n");
	cr_assert_str_eq(r.err, " !    fsck found 3 problems\n");
	th_result_free(&r);
	cr_assert(has("refs/heads/main.lock"), "fsck changed nothing");

	/* without the fix git waits core.filesRefLockTimeout (60 s) and fails */
	commit("second");
	double t0 = now_sec();
	char *out = app_sandbox_push(&sb, "main");
	double took = now_sec() - t0;
	cr_assert_lt(took, 30.0, "the push took %.1f s", took);
	cr_assert_eq(th_count(out, "remote: -----> Removed " STALE_MSG("HEAD.lock")), 1, "%s", out);
	cr_assert_eq(th_count(out, "remote: -----> Removed " STALE_MSG("refs/heads/main.lock")), 1,
		     "%s", out);
	cr_assert_eq(th_count(out, "remote: -----> Removed " STALE_MSG("refs/heads/feature/x.lock")),
		     1, "%s", out);
	cr_assert(strstr(out, "Released v2"), "%s", out);
	free(out);
	cr_assert(!has("refs/heads/main.lock") && !has("HEAD.lock") &&
		  !has("refs/heads/feature/x.lock"));
	char *head = app_sandbox_head(&sb, NULL);
	char *ref = app_sandbox_ref(&sb, "refs/heads/main");
	cr_assert_str_eq(ref, head);
	free(ref);
	free(head);
	fsck_clean();

	/* nothing left: the next push says nothing about locks */
	commit("third");
	out = app_sandbox_push(&sb, "main");
	cr_assert_null(strstr(out, "Removed"), "%s", out);
	cr_assert(strstr(out, "Released v3"), "%s", out);
	free(out);
}

/* A push git refuses because main.lock is there; the lock and the app are unchanged. */
static void push_blocked(const char *what)
{
	struct stat before, after;
	char *lock = repo_file("refs/heads/main.lock");
	cr_assert_eq(stat(lock, &before), 0);
	char *ref_before = app_sandbox_ref(&sb, "refs/heads/main");
	int releases = app_sandbox_release_count(&sb);

	struct th_result r = SANDBOX_RUN(&sb, NULL, "git", "push", "heroku", "main");
	cr_assert_neq(r.status, 0, "%s: the push went through:\n%s", what, r.err);
	cr_assert(strstr(r.err, "refs/heads/main.lock': File exists"), "%s:\n%s", what, r.err);
	cr_assert_null(strstr(r.err, "Removed"), "%s:\n%s", what, r.err);
	th_result_free(&r);

	cr_assert_eq(stat(lock, &after), 0, "%s: the lock was removed", what);
	cr_assert_eq(after.st_ino, before.st_ino, "%s: the lock was replaced", what);
	char *ref_after = app_sandbox_ref(&sb, "refs/heads/main");
	cr_assert_str_eq(ref_after, ref_before, "%s", what);
	cr_assert_eq(app_sandbox_release_count(&sb), releases, "%s", what);
	/* fsck does not call it stale either */
	fsck_clean();
	free(ref_after);
	free(ref_before);
	free(lock);
}

Test(git_locks, a_lock_that_may_be_in_use_is_left_alone)
{
	/* git gives up on a locked ref after 300 ms instead of 60 s */
	char *gitdir = th_path("--git-dir=%s", sb.repo);
	free(SANDBOX_OK(&sb, NULL, "git", gitdir, "config", "core.filesRefLockTimeout", "300"));
	commit("second");

	/* just written: a git may be about to rename it */
	leave_lock("refs/heads/main.lock", 0);
	push_blocked("a recent lock");

	/* open in a process (a git writing it) */
	char *lock = repo_file("refs/heads/main.lock");
	leave_lock("refs/heads/main.lock", 60);
	int ready[2];
	cr_assert_eq(pipe(ready), 0);
	pid_t holder = fork();
	cr_assert(holder >= 0);
	if (holder == 0) {
		int fd = open(lock, O_RDONLY);
		if (fd < 0 || write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	char c;
	cr_assert_eq(read(ready[0], &c, 1), 1);
	push_blocked("a lock a process has open");
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	close(ready[0]);
	close(ready[1]);

	/* written since a git that is still at work in the repository started: it may be
	   that git's, closed and not yet renamed */
	int in[2];
	cr_assert_eq(pipe(in), 0);
	pid_t git = fork();
	cr_assert(git >= 0);
	if (git == 0) {
		close(in[1]);
		if (dup2(in[0], 0) < 0 || chdir(sb.repo) < 0)
			_exit(127);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		execlp("git", "git", "cat-file", "--batch", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	unlink(lock);
	sleep(1);
	leave_lock("refs/heads/main.lock", 0);
	sleep(11); /* old enough to be stale, but not older than that git */
	push_blocked("a lock of a git at work in the repository");
	close(in[1]); /* that git ends */
	cr_assert_eq(waitpid(git, NULL, 0), git);

	/* now nobody can be holding it */
	char *out = app_sandbox_push(&sb, "main");
	cr_assert_eq(th_count(out, "remote: -----> Removed " STALE_MSG("refs/heads/main.lock")), 1,
		     "%s", out);
	cr_assert(strstr(out, "Released v2"), "%s", out);
	free(out);
	fsck_clean();
	free(lock);
	free(gitdir);
}

/* Pushes racing just after a kill: one of them removes the lock, every one is settled by git. */
Test(git_locks, racing_pushes_after_a_kill)
{
	enum { PUSHES = 4 };
	char *dirs[PUSHES];
	for (int i = 0; i < PUSHES; i++) {
		dirs[i] = th_path("%s/c%d", sb.dir, i);
		char *procfile = th_path("%s/Procfile", dirs[i]);
		char *content = th_path("web: echo %d\n", i);
		th_write(procfile, content, 0644);
		app_sandbox_checkout(&sb, dirs[i], "main", content);
		free(procfile);
		free(content);
	}
	leave_lock("refs/heads/main.lock", 60);
	leave_lock("HEAD.lock", 60);
	double t0 = now_sec();
	pid_t pids[PUSHES];
	for (int i = 0; i < PUSHES; i++) {
		pids[i] = fork();
		cr_assert(pids[i] >= 0);
		if (pids[i])
			continue;
		/* git refuses the losers of each round (its compare-and-swap); they push again */
		char *all = strdup("");
		int status = 1;
		for (int try = 0; try < 20 && status; try++) {
			struct th_result r = SANDBOX_RUN(&sb, dirs[i], "git", "push", "--force",
							 "heroku", "HEAD:main");
			char *more = th_path("%s%s", all, r.err);
			free(all);
			all = more;
			status = r.status;
			int again = r.status && strstr(r.err, "failed to update ref");
			th_result_free(&r);
			if (!again)
				break;
		}
		char *log = th_path("%s/out-%d", sb.dir, i);
		th_write(log, all, 0644);
		_exit(status);
	}
	for (int i = 0; i < PUSHES; i++) {
		int st;
		cr_assert_eq(waitpid(pids[i], &st, 0), pids[i]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "push %d failed", i);
	}
	cr_assert_lt(now_sec() - t0, 50.0, "the pushes waited for the lock");
	int removed_main = 0, removed_head = 0;
	for (int i = 0; i < PUSHES; i++) {
		char *log = th_path("%s/out-%d", sb.dir, i);
		char *out = th_read(log, NULL);
		cr_assert(strstr(out, "Released v"), "push %d: %s", i, out);
		removed_main += th_count(out, "Removed " STALE_MSG("refs/heads/main.lock"));
		removed_head += th_count(out, "Removed " STALE_MSG("HEAD.lock"));
		free(out);
		free(log);
		free(dirs[i]);
	}
	cr_assert_eq(removed_main, 1);
	cr_assert_eq(removed_head, 1);
	cr_assert_eq(app_sandbox_release_count(&sb), 1 + PUSHES);
	fsck_clean();
}
