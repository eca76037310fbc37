/*
 * store/listfile: a list of lines in an app's repository - read back as
 * written, blank and comment lines left out, each line checked, a missing
 * file empty; changed under its lock, so no change is lost to another
 * writer and nothing is written when the change is refused or the lock
 * stays busy.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include "store/listfile.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/lock.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define APP "myapp"

static char *root, *file;

/* Lines that start with "bad" fail the read, those that start with "skip" are left out. */
static int check(const char *line, size_t kept)
{
	(void)kept;
	if (!strncmp(line, "bad", 3))
		return sw_error_set(SW_EINVALID, "'%s' is bad", line);
	return strncmp(line, "skip", 4) != 0;
}

/* At most two lines. */
static int two(const char *line, size_t kept)
{
	(void)line;
	return kept < 2 ? 1 : sw_error_set(SW_EINVALID, "too many");
}

static const struct listfile app_list = { .path = paths_domains_file, .max = 1024 };
static const struct listfile checked = { .path = paths_domains_file, .max = 1024, .check = check };
static const struct listfile own = { .path = paths_access_file, .max = 1024, .lock = "test" };

static void setup(void)
{
	root = th_sandbox();
	char *repo = th_path("%s/apps/" APP ".git", root);
	cr_assert_eq(fs_mkdir_p(repo, 0755), 0);
	free(repo);
	file = paths_domains_file(root, APP);
	setenv("SLIPWAY_LOCK_TIMEOUT", "1", 1);
}

static void teardown(void)
{
	unsetenv("SLIPWAY_LOCK_TIMEOUT");
	free(file);
	th_sandbox_free(root);
}

TestSuite(listfile, .init = setup, .fini = teardown, .timeout = 60);

/* 1 if someone holds the flock on path. */
static int busy(const char *path)
{
	struct lock lk = LOCK_INIT;
	int err = lock_acquire(&lk, path, 0, NULL, NULL);
	lock_release(&lk);
	return err == SW_ELOCKED;
}

static void assert_file(const char *want)
{
	char *got = th_read(file, NULL);
	cr_assert_not_null(got, "no file");
	cr_assert_str_eq(got, want);
	free(got);
}

Test(listfile, a_missing_file_is_an_empty_list)
{
	struct strvec l = STRVEC_INIT;
	cr_assert_eq(listfile_read(&app_list, root, APP, &l), 0);
	cr_assert_eq(l.n, 0);
}

Test(listfile, what_is_written_reads_back_one_line_each)
{
	struct strvec l = STRVEC_INIT, back = STRVEC_INIT;
	strvec_push(&l, "www.example.com");
	strvec_push(&l, "api.example.com");
	cr_assert_eq(listfile_write(&app_list, root, APP, &l), 0);
	assert_file("www.example.com\napi.example.com\n");
	struct stat st;
	cr_assert_eq(stat(file, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644);
	cr_assert_eq(listfile_read(&app_list, root, APP, &back), 0);
	cr_assert_eq(back.n, 2);
	cr_assert_str_eq(back.v[0], "www.example.com");
	cr_assert_str_eq(back.v[1], "api.example.com");
	strvec_clear(&back);

	strvec_clear(&l);
	cr_assert_eq(listfile_write(&app_list, root, APP, &l), 0);
	assert_file("");
	cr_assert_eq(listfile_read(&app_list, root, APP, &back), 0);
	cr_assert_eq(back.n, 0);
}

Test(listfile, blanks_comments_and_lines_the_check_leaves_out_are_skipped)
{
	struct strvec l = STRVEC_INIT;
	th_write(file, "# a comment\n  one  \r\n\n\ttwo\nskip me\nthree", 0644);
	cr_assert_eq(listfile_read(&checked, root, APP, &l), 0);
	cr_assert_eq(l.n, 3);
	cr_assert_str_eq(l.v[0], "one");
	cr_assert_str_eq(l.v[1], "two");
	cr_assert_str_eq(l.v[2], "three");
	strvec_clear(&l);
}

Test(listfile, a_line_the_check_refuses_fails_the_read_naming_its_line)
{
	struct strvec l = STRVEC_INIT;
	th_write(file, "one\n\nbad two\n", 0644);
	cr_assert_eq(listfile_read(&checked, root, APP, &l), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "line 3: 'bad two' is bad");
	strvec_clear(&l);
}

Test(listfile, the_check_is_told_how_many_lines_were_kept)
{
	struct listfile f = { .path = paths_domains_file, .max = 1024, .check = two };
	struct strvec l = STRVEC_INIT;
	const char *text = "a\n# not counted\nb\nc\n";
	cr_assert_eq(listfile_parse(&f, text, strlen(text), &l), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "line 4: too many");
	strvec_clear(&l);
}

Test(listfile, a_nul_byte_or_a_file_too_big_is_refused)
{
	struct strvec l = STRVEC_INIT;
	cr_assert_eq(listfile_parse(&app_list, "one\ntw\0o\n", 9, &l), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "line 2: it holds a NUL byte");
	strvec_clear(&l);

	char big[2000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	th_write(file, big, 0644);
	cr_assert_eq(listfile_read(&app_list, root, APP, &l), SW_EINVALID);
	cr_assert_eq(l.n, 0);
}

static int add(struct strvec *lines, void *ctx)
{
	strvec_push(lines, ctx);
	return 0;
}

/* Checks that the lock at ctx is held while the change runs, then adds a line. */
static int add_if_locked(struct strvec *lines, void *ctx)
{
	cr_assert(busy(ctx), "the change runs under %s", (char *)ctx);
	strvec_push(lines, "locked");
	return 0;
}

static int refuse(struct strvec *lines, void *ctx)
{
	(void)ctx;
	strvec_push(lines, "never written");
	return sw_error_set(SW_EEXISTS, "refused");
}

Test(listfile, edit_changes_the_list_under_the_apps_lock)
{
	char *lock = app_lock_path(root, APP);
	th_write(file, "one\n", 0644);
	cr_assert_eq(listfile_edit(&app_list, root, APP, add_if_locked, lock), 0);
	assert_file("one\nlocked\n");
	cr_assert_not(busy(lock), "the lock is let go");
	free(lock);
}

Test(listfile, edit_of_a_list_with_its_own_lock_takes_that_one)
{
	char *lock = paths_app_file_lock(root, APP, "test"), *app_lock = app_lock_path(root, APP);
	struct lock lk = LOCK_INIT;
	/* the app's lock is not the list's: holding it does not stop the change */
	cr_assert_eq(lock_acquire(&lk, app_lock, 0, NULL, NULL), 0);
	cr_assert_eq(listfile_edit(&own, root, APP, add_if_locked, lock), 0);
	lock_release(&lk);
	char *path = paths_access_file(root, APP), *got = th_read(path, NULL);
	cr_assert_str_eq(got, "locked\n");
	free(got);
	free(path);
	free(app_lock);
	free(lock);
}

Test(listfile, a_refused_edit_writes_nothing)
{
	th_write(file, "one\n", 0644);
	cr_assert_eq(listfile_edit(&app_list, root, APP, refuse, NULL), SW_EEXISTS);
	cr_assert_str_eq(sw_error_last(), "refused");
	assert_file("one\n");
}

Test(listfile, a_busy_lock_writes_nothing)
{
	char *lock = app_lock_path(root, APP);
	struct lock lk = LOCK_INIT;
	th_write(file, "one\n", 0644);
	cr_assert_eq(lock_acquire(&lk, lock, 0, NULL, NULL), 0);
	cr_assert_eq(listfile_edit(&app_list, root, APP, add, "two"), SW_ELOCKED);
	lock_release(&lk);
	assert_file("one\n");
	cr_assert_eq(listfile_edit(&app_list, root, APP, add, "two"), 0);
	assert_file("one\ntwo\n");
	free(lock);
}

Test(listfile, concurrent_edits_lose_nothing)
{
	enum { WRITERS = 4, EACH = 15 };
	setenv("SLIPWAY_LOCK_TIMEOUT", "60", 1);
	pid_t pids[WRITERS];
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		cr_assert_neq(pids[w], -1);
		if (pids[w] == 0) {
			for (int i = 0; i < EACH; i++) {
				char line[32];
				snprintf(line, sizeof(line), "w%d-%d", w, i);
				if (listfile_edit(&app_list, root, APP, add, line) < 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int status = -1;
		cr_assert_eq(waitpid(pids[w], &status, 0), pids[w]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d failed", w);
	}
	struct strvec l = STRVEC_INIT;
	cr_assert_eq(listfile_read(&app_list, root, APP, &l), 0);
	cr_assert_eq(l.n, WRITERS * EACH, "%zu lines", l.n);
	strvec_sort(&l);
	for (int w = 0; w < WRITERS; w++)
		for (int i = 0; i < EACH; i++) {
			char line[32];
			snprintf(line, sizeof(line), "w%d-%d", w, i);
			cr_assert(strvec_has_sorted(&l, line), "%s was lost", line);
		}
	strvec_clear(&l);
}
