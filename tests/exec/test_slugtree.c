/*
 * exec/slugtree: a slug's shared tree - extracted once, whole under its
 * name, the same for every process that asks - swept by gc when no
 * process holds it, and checked by fsck against its slug.
 */
#define _GNU_SOURCE
#include "tests/release_helpers.h"

#include "exec/slugtree.h"
#include "exec/unpack.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *root;
static char one[65], two[65];

static void setup(void)
{
	root = rh_root();
	rh_slug(root, one, "data.txt", "one\n", "lib/a.txt", "a\n", NULL);
	rh_slug(root, two, "data.txt", "two\n", NULL);
}

static void teardown(void)
{
	th_sandbox_free(root);
}

TestSuite(slugtree, .init = setup, .fini = teardown, .timeout = 60);

static char *tree_of(const char *hex, const char *rest)
{
	return th_path("%s/unpacked/trees/%s%s", root, hex, rest);
}

static ino_t inode_of(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "%s", path);
	return st.st_ino;
}

Test(slugtree, a_slugs_tree_is_extracted_once_for_every_process_that_asks)
{
	char *tree = NULL, *again = NULL;
	int fd = -1, fd2 = -1;
	cr_assert_eq(slugtree_open(root, one, &tree, &fd), 0, "%s", sw_error_last());
	char *want = tree_of(one, ""), *data = tree_of(one, "/data.txt");
	cr_assert_str_eq(tree, want);
	char *text = th_read(data, NULL);
	cr_assert_str_eq(text, "one\n");
	free(text);
	ino_t ino = inode_of(data);
	cr_assert_eq(slugtree_open(root, one, &again, &fd2), 0);
	cr_assert_eq(inode_of(data), ino, "the same files: not extracted again");
	close(fd);
	close(fd2);
	free(again);
	free(tree);
	free(want);
	free(data);
}

Test(slugtree, two_processes_asking_at_once_get_one_tree)
{
	pid_t kids[2];
	for (int i = 0; i < 2; i++) {
		kids[i] = fork();
		cr_assert(kids[i] >= 0);
		if (!kids[i]) {
			char *tree = NULL;
			int fd = -1;
			_exit(slugtree_open(root, one, &tree, &fd) == 0 ? 0 : 1);
		}
	}
	for (int i = 0; i < 2; i++) {
		int st = 0;
		cr_assert_eq(waitpid(kids[i], &st, 0), kids[i]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	char *trees = th_path("%s/unpacked/trees", root);
	cr_assert_eq(th_entries(trees), 2, "the tree and its lock file, no temp directory left");
	free(trees);
}

Test(slugtree, a_missing_or_corrupt_slug_makes_no_tree)
{
	char *tree = NULL, *slug = NULL;
	int fd = -1;
	slug = th_path("%s/store/sha256/%.2s/%s.tar.zst", root, two, two + 2);
	th_corrupt(slug);
	cr_assert_eq(slugtree_open(root, two, &tree, &fd), SW_EINVALID);
	cr_assert_null(tree);
	cr_assert_eq(fd, -1);
	unlink(slug);
	cr_assert_eq(slugtree_open(root, two, &tree, &fd), SW_ENOTFOUND);
	char *trees = th_path("%s/unpacked/trees", root);
	cr_assert_eq(th_entries(trees), 1, "only the lock file: no tree, no temp directory");
	free(trees);
	free(slug);
}

Test(slugtree, gc_removes_the_trees_no_process_holds_and_keeps_those_in_use)
{
	char *t1 = NULL, *t2 = NULL;
	int fd1 = -1, fd2 = -1;
	uint64_t removed = 0;
	cr_assert_eq(slugtree_open(root, one, &t1, &fd1), 0);
	cr_assert_eq(slugtree_open(root, two, &t2, &fd2), 0);
	close(fd2); /* its last process stopped */
	cr_assert_eq(unpack_sweep(root, &removed), 0, "%s", sw_error_last());
	cr_assert_eq(removed, 1);
	cr_assert(access(t1, F_OK) == 0, "in use: kept");
	cr_assert(access(t2, F_OK) != 0, "no one holds it: removed");
	close(fd1);
	cr_assert_eq(unpack_sweep(root, &removed), 0);
	cr_assert_eq(removed, 1);
	cr_assert(access(t1, F_OK) != 0);
	char *trees = th_path("%s/unpacked/trees", root);
	cr_assert_eq(th_entries(trees), 0, "their lock files went too");
	free(trees);
	free(t1);
	free(t2);
}

Test(slugtree, gc_removes_what_older_versions_and_killed_extractions_left)
{
	char *old = th_path("%s/unpacked/%s/data.txt", root, one);
	char *half = th_path("%s/unpacked/trees/.tmp-%s-abcdef/data.txt", root, one);
	th_write(old, "old\n", 0644);
	th_write(half, "on\n", 0644);
	uint64_t removed = 0;
	cr_assert_eq(unpack_sweep(root, &removed), 0);
	cr_assert_eq(removed, 2);
	char *unpacked = th_path("%s/unpacked", root), *trees = th_path("%s/unpacked/trees", root);
	cr_assert_eq(th_entries(unpacked), 1, "trees/ only");
	cr_assert_eq(th_entries(trees), 0);
	free(unpacked);
	free(trees);
	free(old);
	free(half);
}

/* fsck's lines about the trees. */
static struct strvec problems_now(void)
{
	struct strvec p = STRVEC_INIT;
	cr_assert_eq(slugtree_fsck(root, &p), 0);
	return p;
}

Test(slugtree, fsck_names_a_tree_that_differs_from_its_slug_and_a_half_extracted_one)
{
	char *t1 = NULL, *t2 = NULL;
	int fd1 = -1, fd2 = -1;
	cr_assert_eq(slugtree_open(root, one, &t1, &fd1), 0);
	cr_assert_eq(slugtree_open(root, two, &t2, &fd2), 0);
	struct strvec p = problems_now();
	cr_assert_eq(p.n, 0, "whole trees: %s", p.n ? p.v[0] : "");
	strvec_clear(&p);

	char *gone = tree_of(one, "/lib/a.txt"), *extra = tree_of(two, "/new.txt");
	char *half = th_path("%s/unpacked/trees/.tmp-%s-abcdef/data.txt", root, one);
	cr_assert_eq(unlink(gone), 0);
	th_write(extra, "x\n", 0644);
	th_write(half, "on\n", 0644);
	p = problems_now();
	cr_assert_eq(p.n, 3);
	char want[512];
	snprintf(want, sizeof(want), "unpacked tree of slug %.12s differs from its slug: "
		 "'lib/a.txt' is missing (gc removes it when no instance uses it)", one);
	int seen = 0;
	for (size_t i = 0; i < p.n; i++)
		seen += !strcmp(p.v[i], want);
	snprintf(want, sizeof(want), "unpacked tree of slug %.12s holds 2 entries, its slug 1 "
		 "(gc removes it when no instance uses it)", two);
	for (size_t i = 0; i < p.n; i++)
		seen += !strcmp(p.v[i], want);
	snprintf(want, sizeof(want), "half-extracted tree '%s/unpacked/trees/.tmp-%s-abcdef' "
		 "(gc removes it)", root, one);
	for (size_t i = 0; i < p.n; i++)
		seen += !strcmp(p.v[i], want);
	cr_assert_eq(seen, 3, "%s | %s | %s", p.v[0], p.v[1], p.v[2]);
	strvec_clear(&p);
	close(fd1);
	close(fd2);
	free(gone);
	free(extra);
	free(half);
	free(t1);
	free(t2);
}
