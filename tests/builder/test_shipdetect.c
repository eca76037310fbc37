/*
 * The shipped buildpacks' bin/detect answered in-process (builder/shipdetect.c)
 * against the same scripts run in the sandbox, over a set of app trees: the
 * same answer and the same name (the "-----> <name> app detected" line), and
 * anything that is not a shipped script as it ships left to the sandbox.
 */
#define _GNU_SOURCE
#include "builder/buildpack.h"
#include "builder/shipdetect.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHIPPED SOURCE_DIR "/buildpacks"

static const char *const shipped[] = { "node", "python", "make", "static", "procfile", NULL };

static char *sb;
static struct sandbox box = SANDBOX_INIT;

static void setup(void)
{
	sb = th_sandbox();
	sandbox_mount(&box, sb, "/job", 1);
	sandbox_mount(&box, SHIPPED, "/shipped", 0);
}

static void teardown(void)
{
	sandbox_release(&box);
	th_sandbox_free(sb);
}

TestSuite(shipdetect, .init = setup, .fini = teardown, .timeout = 120);

/*
 * An app tree: entries "name" (a file), "name/" (a directory), "name|" (a
 * fifo) or "name>target" (a symlink), NULL-terminated.
 */
struct tree {
	const char *what;
	int has_symlink;
	const char *entries[8];
};

static const struct tree trees[] = {
	{ "empty", 0, { NULL } },
	{ "Procfile", 0, { "Procfile", NULL } },
	{ "Procfile, a directory", 0, { "Procfile/", NULL } },
	{ "procfile in lower case", 0, { "procfile", NULL } },
	{ "package.json", 0, { "package.json", NULL } },
	{ "package.json, a directory", 0, { "package.json/", NULL } },
	{ "requirements.txt", 0, { "requirements.txt", NULL } },
	{ "setup.py", 0, { "setup.py", NULL } },
	{ "pyproject.toml and a Procfile", 0, { "pyproject.toml", "Procfile", NULL } },
	{ "Makefile", 0, { "Makefile", NULL } },
	{ "makefile", 0, { "makefile", NULL } },
	{ "GNUmakefile", 0, { "GNUmakefile", NULL } },
	{ "CMakeLists.txt", 0, { "CMakeLists.txt", NULL } },
	{ "index.html", 0, { "index.html", NULL } },
	{ "index.html, a directory", 0, { "index.html/", NULL } },
	{ "index.html, a fifo", 0, { "index.html|", NULL } },
	{ "index.html and package.json", 0, { "index.html", "package.json", NULL } },
	{ "index.html and a Makefile directory", 0, { "index.html", "Makefile/", NULL } },
	{ "index.html and a setup.py fifo", 0, { "index.html", "setup.py|", NULL } },
	{ "every marker", 0, { "Procfile", "package.json", "requirements.txt", "Makefile",
			       "index.html", "CMakeLists.txt", NULL } },
	{ "Procfile, a symlink into the tree", 1, { "real", "Procfile>real", NULL } },
	{ "Procfile, a symlink out of the tree", 1, { "Procfile>/etc/hostname", NULL } },
	{ "Procfile, a dangling symlink", 1, { "Procfile>nowhere", NULL } },
	{ "index.html, and package.json a symlink", 1, { "index.html", "package.json>nowhere",
							  NULL } },
};

/* Makes <sb>/app-<i> holding the tree's entries. */
static char *make_tree(size_t i)
{
	char *dir = th_path("%s/app-%zu", sb, i);
	cr_assert_eq(fs_mkdir_p(dir, 0755), 0);
	for (const char *const *e = trees[i].entries; *e; e++) {
		size_t n = strcspn(*e, "/|>");
		char *path = th_path("%s/%.*s", dir, (int)n, *e);
		if ((*e)[n] == '/')
			cr_assert_eq(mkdir(path, 0755), 0);
		else if ((*e)[n] == '|')
			cr_assert_eq(mkfifo(path, 0644), 0);
		else if ((*e)[n] == '>')
			cr_assert_eq(symlink(*e + n + 1, path), 0);
		else
			th_write(path, "x\n", 0644);
		free(path);
	}
	return dir;
}

Test(shipdetect, every_shipped_detect_answers_as_its_script_does_in_the_sandbox)
{
	for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++) {
		char *dir = make_tree(i);
		int left = 0; /* left to the sandbox: a name a script tests is a symlink */
		for (const char *const *s = shipped; *s; s++) {
			char *bp = th_path("%s/%s", SHIPPED, *s), *want = NULL, *got = NULL;
			int code = buildpack_detect(&box, bp, *s, dir, NULL, NULL, NULL, &want);
			cr_assert(code == 0 || code == SW_ENOTFOUND, "%s on %s: %s", *s, trees[i].what,
				  sw_error_last());
			int ret = shipdetect_answer(bp, *s, dir, &got);
			if (ret == SHIPDETECT_RUN) {
				cr_assert(trees[i].has_symlink, "%s on %s: not answered in-process", *s,
					  trees[i].what);
				cr_assert_null(got);
				left++;
			} else {
				cr_assert_eq(ret, code, "%s on %s: %d in-process, %d in the sandbox", *s,
					     trees[i].what, ret, code);
				if (code == 0)
					cr_assert_str_eq(got, want, "%s on %s", *s, trees[i].what);
				else
					cr_assert_null(got);
			}
			free(want);
			free(got);
			free(bp);
		}
		cr_assert(left || !trees[i].has_symlink, "%s: answered in-process", trees[i].what);
		free(dir);
	}
}

Test(shipdetect, each_shipped_detect_applies_to_some_tree)
{
	for (const char *const *s = shipped; *s; s++) {
		char *bp = th_path("%s/%s", SHIPPED, *s);
		int applied = 0;
		for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++) {
			char *dir = make_tree(i), *name = NULL;
			applied |= shipdetect_answer(bp, *s, dir, &name) == 0;
			free(name);
			fs_rm_rf(dir);
			free(dir);
		}
		cr_assert(applied, "buildpacks/%s/bin/detect is not one shipdetect.c knows "
			  "(changed? bring its rule and hash in line)", *s);
		free(bp);
	}
}

/* A copy of the shipped procfile buildpack in <sb>/<name>, its bin/detect as given. */
static char *procfile_copy(const char *name, const char *detect, unsigned mode)
{
	char *bp = th_path("%s/%s", sb, name), *path = th_path("%s/bin/detect", bp);
	cr_assert_eq(fs_copy_tree(SHIPPED "/procfile", bp), 0, "%s", sw_error_last());
	if (detect) {
		cr_assert_eq(unlink(path), 0);
		th_write(path, detect, mode);
	}
	cr_assert_eq(chmod(path, mode), 0);
	free(path);
	return bp;
}

Test(shipdetect, a_modified_copy_of_a_shipped_buildpack_is_run_in_the_sandbox)
{
	char *dir = make_tree(1); /* a Procfile */
	char *script = th_read(SHIPPED "/procfile/bin/detect", NULL);
	char *edited = th_path("%s# edited\n", script);
	char *bp = procfile_copy("edited", edited, 0755), *name = NULL;
	cr_assert_eq(shipdetect_answer(bp, "procfile", dir, &name), SHIPDETECT_RUN);
	cr_assert_null(name);
	free(bp);

	/* one that says where it runs: the sandbox's paths, not the host's */
	bp = procfile_copy("where", "#!/bin/sh\necho \"Procfile at $1\"\n", 0755);
	cr_assert_eq(shipdetect_answer(bp, "procfile", dir, &name), SHIPDETECT_RUN);
	cr_assert_eq(buildpack_detect(&box, bp, "procfile", dir, NULL, NULL, NULL, &name), 0, "%s",
		     sw_error_last());
	cr_assert_str_eq(name, "Procfile at /job/app-1");
	free(name);
	free(bp);

	/* the script as it ships, but not executable: run with sh, after its warning */
	bp = procfile_copy("plain", NULL, 0644);
	name = NULL;
	cr_assert_eq(shipdetect_answer(bp, "procfile", dir, &name), SHIPDETECT_RUN);
	free(bp);

	/* as it ships, but bin/detect a symlink to it */
	bp = procfile_copy("linked", NULL, 0755);
	char *path = th_path("%s/bin/detect", bp);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(symlink(SHIPPED "/procfile/bin/detect", path), 0);
	cr_assert_eq(shipdetect_answer(bp, "procfile", dir, &name), SHIPDETECT_RUN);
	free(path);
	free(bp);

	/* the control: the unchanged copy is answered in-process */
	bp = procfile_copy("same", NULL, 0755);
	cr_assert_eq(shipdetect_answer(bp, "procfile", dir, &name), 0);
	cr_assert_str_eq(name, "Procfile");
	free(name);
	free(bp);
	free(edited);
	free(script);
	free(dir);
}
