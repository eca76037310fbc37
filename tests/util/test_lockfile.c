/*
 * test_lockfile.c - util/lockfile.c: the lock excludes other holders (and
 * lock_acquire() on the same lock file), commit replaces the file and lets
 * the lock go, rollback leaves it alone, a zeroed object is not held, and a
 * killed holder leaves no stale lock.
 */
#include "util/lockfile.h"
#include "tests/helpers.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *sb, *file, *lock;

static void setup(void)
{
	sb = th_sandbox();
	file = th_path("%s/list", sb);
	lock = th_path("%s/list.lock", sb);
}

static void teardown(void)
{
	free(file);
	free(lock);
	th_sandbox_free(sb);
}

TestSuite(lockfile, .init = setup, .fini = teardown, .timeout = 60);

/* 1 if someone holds the flock on path. */
static int busy(const char *path)
{
	struct lock lk = LOCK_INIT;
	int err = lock_acquire(&lk, path, 0, NULL, NULL);
	lock_release(&lk);
	return err == SW_ELOCKED;
}

/* Number of directory entries in dir (without . and ..). */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	cr_assert(d);
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

Test(lockfile, a_zeroed_object_is_not_held)
{
	struct lockfile lf = LOCKFILE_INIT, zero;
	memset(&zero, 0, sizeof(zero));
	lockfile_rollback(&lf);
	lockfile_rollback(&zero);
	cr_assert_eq(lockfile_commit(&lf, "x", 1, 0644), SW_ERROR);
	cr_assert_not(fs_exists(file));
}

Test(lockfile, commit_replaces_the_file_and_lets_the_lock_go)
{
	struct lockfile lf = LOCKFILE_INIT;
	struct stat st;
	th_write(file, "old\n", 0600);
	cr_assert_eq(lockfile_hold(&lf, file, NULL, 0), 0);
	cr_assert(busy(lock), "the lock is on <path>.lock");
	cr_assert_eq(lockfile_commit(&lf, "new\n", 4, 0644), 0);
	cr_assert_null(lf.path);
	cr_assert_not(busy(lock));
	char *got = th_read(file, NULL);
	cr_assert_str_eq(got, "new\n");
	free(got);
	cr_assert_eq(stat(file, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644);
	cr_assert_eq(entries(sb), 2, "only the file and its lock file are left");
	lockfile_rollback(&lf); /* after commit: nothing to do */
	cr_assert_eq(lockfile_commit(&lf, "x", 1, 0644), SW_ERROR);
}

Test(lockfile, commit_of_nothing_makes_an_empty_file)
{
	struct lockfile lf = LOCKFILE_INIT;
	cr_assert_eq(lockfile_hold(&lf, file, NULL, 0), 0);
	cr_assert_eq(lockfile_commit(&lf, "", 0, 0600), 0);
	char *got = th_read(file, NULL);
	cr_assert_str_eq(got, "");
	free(got);
}

Test(lockfile, rollback_leaves_the_file_and_lets_the_lock_go)
{
	struct lockfile lf = LOCKFILE_INIT;
	th_write(file, "old\n", 0644);
	cr_assert_eq(lockfile_hold(&lf, file, NULL, 0), 0);
	lockfile_rollback(&lf);
	cr_assert_null(lf.path);
	cr_assert_not(busy(lock));
	char *got = th_read(file, NULL);
	cr_assert_str_eq(got, "old\n");
	free(got);
	lockfile_rollback(&lf);
}

Test(lockfile, holders_exclude_each_other)
{
	struct lockfile a = LOCKFILE_INIT, b = LOCKFILE_INIT;
	cr_assert_eq(lockfile_hold(&a, file, NULL, 0), 0);
	cr_assert_eq(lockfile_hold(&b, file, NULL, 0), SW_ELOCKED);
	cr_assert_null(b.path, "a failed hold leaves the object not held");
	lockfile_rollback(&b);
	cr_assert(busy(lock), "rolling back the failed one keeps the other's lock");
	cr_assert_eq(lockfile_hold(&a, file, NULL, 0), SW_ERROR, "already held");
	lockfile_rollback(&a);
	cr_assert_eq(lockfile_hold(&b, file, NULL, 0), 0);
	lockfile_rollback(&b);
}

Test(lockfile, excludes_and_is_excluded_by_lock_acquire)
{
	struct lockfile lf = LOCKFILE_INIT;
	struct lock lk = LOCK_INIT;
	cr_assert_eq(lock_acquire(&lk, lock, 0, NULL, NULL), 0);
	cr_assert_eq(lockfile_hold(&lf, file, NULL, 0), SW_ELOCKED);
	lock_release(&lk);
	cr_assert_eq(lockfile_hold(&lf, file, NULL, 0), 0);
	cr_assert_eq(lock_acquire(&lk, lock, 0, NULL, NULL), SW_ELOCKED);
	lockfile_rollback(&lf);
}

Test(lockfile, a_given_lock_path_is_the_lock)
{
	struct lockfile lf = LOCKFILE_INIT;
	char *other = th_path("%s/locks/app.lock", sb);
	cr_assert_eq(lockfile_hold(&lf, file, other, 0), 0);
	cr_assert(busy(other));
	cr_assert_not(fs_exists(lock), "no <path>.lock is made");
	cr_assert_eq(lockfile_commit(&lf, "a\n", 2, 0644), 0);
	cr_assert_not(busy(other));
	free(other);
}

Test(lockfile, a_directory_can_be_the_lock_and_nothing_is_made)
{
	struct lockfile a = LOCKFILE_INIT, b = LOCKFILE_INIT;
	char *dir = th_path("%s/", sb), *missing = th_path("%s/none/", sb);
	cr_assert_eq(lockfile_hold(&a, file, dir, 0), 0, "%s", sw_error_last());
	cr_assert(busy(dir));
	cr_assert_eq(lockfile_hold(&b, file, dir, 0), SW_ELOCKED);
	cr_assert_eq(lockfile_commit(&a, "a\n", 2, 0644), 0);
	cr_assert_not(busy(dir));
	cr_assert_eq(entries(sb), 1, "only the file itself");
	/* a directory that is not there is not made */
	cr_assert_eq(lockfile_hold(&b, file, missing, 0), SW_ERROR);
	cr_assert_eq(entries(sb), 1);
	free(missing);
	free(dir);
}

Test(lockfile, a_failed_commit_lets_the_lock_go)
{
	struct lockfile lf = LOCKFILE_INIT;
	char *missing = th_path("%s/no/such/dir/list", sb);
	cr_assert_eq(lockfile_hold(&lf, missing, lock, 0), 0);
	cr_assert_eq(lockfile_commit(&lf, "a\n", 2, 0644), SW_ERROR);
	cr_assert_null(lf.path);
	cr_assert_not(busy(lock));
	free(missing);
}

Test(lockfile, a_killed_holder_leaves_no_stale_lock)
{
	int ready[2];
	cr_assert_eq(pipe(ready), 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct lockfile lf = LOCKFILE_INIT;
		close(ready[0]);
		if (lockfile_hold(&lf, file, NULL, 0) == 0 && write(ready[1], "x", 1) == 1)
			pause();
		_exit(1);
	}
	close(ready[1]);
	char c;
	cr_assert_eq(read(ready[0], &c, 1), 1, "the child holds the lock");
	close(ready[0]);
	struct lockfile lf = LOCKFILE_INIT;
	cr_assert_eq(lockfile_hold(&lf, file, NULL, 0), SW_ELOCKED);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_assert_eq(lockfile_hold(&lf, file, NULL, 0), 0);
	lockfile_rollback(&lf);
}
