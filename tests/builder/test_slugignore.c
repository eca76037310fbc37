#define _GNU_SOURCE
#include "builder/slugignore.h"
#include "util/error.h"
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *sb;

static void setup(void)
{
	sb = th_sandbox();
}

static void teardown(void)
{
	th_sandbox_free(sb);
	sb = NULL;
}

TestSuite(slugignore, .init = setup, .fini = teardown);

static void put(const char *rel, const char *content)
{
	char *p = th_path("%s/app/%s", sb, rel);
	th_write(p, content, 0644);
	free(p);
}

static int there(const char *rel)
{
	char *p = th_path("%s/%s", sb, rel);
	struct stat st;
	int r = lstat(p, &st) == 0;
	free(p);
	return r;
}

Test(slugignore, no_file_means_nothing_done)
{
	put("a.log", "x");
	char *app = th_path("%s/app", sb);
	int found = 7;
	uint64_t n = 7;
	cr_assert_eq(slugignore_apply(app, &found, &n), 0);
	cr_assert_eq(found, 0);
	cr_assert_eq(n, 0);
	cr_assert(there("app/a.log"));
	free(app);
}

Test(slugignore, patterns_and_symlinks_never_followed)
{
	put(".slugignore", "# comment\n*.txt\ngone\n/top-only\nbuild/\n");
	put("notes.txt", "x");
	put("a/b/deep.txt", "x");
	put("a/top-only", "kept: anchored patterns only match at the top");
	put("top-only", "x");
	put("build/out/o", "x");
	put("a/build", "kept: a file, and build/ only matches directories");
	char *outside = th_path("%s/outside", sb);
	char *p = th_path("%s/keep.txt", outside);
	th_write(p, "x", 0644);
	free(p);
	p = th_path("%s/app/gone", sb);
	cr_assert_eq(symlink(outside, p), 0);
	free(p);
	p = th_path("%s/app/dirlink", sb);
	cr_assert_eq(symlink(outside, p), 0);
	free(p);

	char *app = th_path("%s/app", sb);
	int found;
	uint64_t n;
	cr_assert_eq(slugignore_apply(app, &found, &n), 0);
	cr_assert_eq(found, 1);
	/* notes.txt, a/b/deep.txt, top-only, build/out/o, the link "gone" */
	cr_assert_eq(n, 5);
	cr_assert(!there("app/notes.txt"));
	cr_assert(!there("app/a/b/deep.txt"));
	cr_assert(there("app/a/b"));
	cr_assert(!there("app/top-only"));
	cr_assert(there("app/a/top-only"));
	cr_assert(!there("app/build"));
	cr_assert(there("app/a/build"));
	cr_assert(!there("app/gone"));
	cr_assert(there("app/dirlink"));
	cr_assert(there("app/.slugignore"));
	cr_assert(there("outside/keep.txt"));
	free(app);
	free(outside);
}

Test(slugignore, a_non_regular_slugignore_is_refused)
{
	char *app = th_path("%s/app", sb);
	char *p = th_path("%s/app/.slugignore", sb);
	put("x", "x");
	cr_assert_eq(symlink("/etc/passwd", p), 0);
	int found;
	uint64_t n;
	cr_assert_eq(slugignore_apply(app, &found, &n), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "'.slugignore' is not a regular file"));
	cr_assert(there("app/x"));
	free(p);
	free(app);
}
