/*
 * Where builds run: a tmpfs when the tree fits, else <root>/builds, or
 * SLIPWAY_BUILD_DIR when the operator names one; leftovers of killed builds
 * are cleared by the next build and by gc.  The "yes" fixture buildpack
 * records its BUILD_DIR argument in the slug (compile-args, line 2).
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define APP "myapp"
#define FIX TESTS_DIR "/fixtures/buildpacks"

static struct app_sandbox sb;
static char *shm; /* a private directory on /dev/shm, when that is a tmpfs */
static char *paths[16]; /* gc_path's strings, freed by teardown */
static int npaths;

/* th_path whose result teardown frees. */
__attribute__((format(printf, 1, 2)))
static const char *gc_path(const char *fmt, ...)
{
	va_list ap;
	char *p;
	va_start(ap, fmt);
	cr_assert(vasprintf(&p, fmt, ap) >= 0 && npaths < 16);
	va_end(ap);
	return paths[npaths++] = p;
}

static int dev_shm_is_tmpfs(void)
{
	struct statfs s;
	return statfs("/dev/shm", &s) == 0 && s.f_type == 0x01021994;
}

static void setup(void)
{
	app_sandbox_init(&sb, APP, APP_SANDBOX_BATCH);
	/* these tests read where the build ran from BUILD_DIR as the buildpack saw
	 * it; in the sandbox that is always /app (tests/integration/test_sandbox.c) */
	app_sandbox_setenv(&sb, "SLIPWAY_SANDBOX=none");
	shm = NULL;
	if (dev_shm_is_tmpfs()) {
		shm = xstrdup("/dev/shm/slipway-test-XXXXXX");
		cr_assert(mkdtemp(shm), "cannot make a directory in /dev/shm");
	}
}

static void teardown(void)
{
	if (shm)
		fs_rm_rf(shm);
	free(shm);
	while (npaths)
		free(paths[--npaths]);
	app_sandbox_release(&sb);
}

TestSuite(build_area, .init = setup, .fini = teardown, .timeout = 120);

#define ok(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

static void env_add_fmt(const char *fmt, const char *arg)
{
	char *kv = th_path(fmt, arg);
	app_sandbox_setenv(&sb, kv);
	free(kv);
}

static void init_app(void)
{
	app_sandbox_create(&sb, NULL);
	app_sandbox_checkout(&sb, NULL, "main", NULL);
	app_sandbox_write(&sb, "Procfile", "web: ./run.sh\n", 0644);
	free(ok(SLIPWAY_BIN, "buildpacks:add", FIX "/yes", "-a", APP));
	free(ok("git", "add", "-A"));
	free(ok("git", "commit", "-q", "-m", "first"));
}

/* Pushes (a new empty commit after the first push) and returns where the build ran. */
static char *push_and_build_dir(int version)
{
	if (version > 1)
		free(ok("git", "commit", "-q", "--allow-empty", "-m", "again"));
	char *out = app_sandbox_push(&sb, "main");
	char *want = th_path("-----> Released v%d: Deploy ", version);
	cr_assert(strstr(out, want), "want '%s' in:\n%s", want, out);
	free(want);
	free(out);

	char v[16], *x = th_path("%s/x%d", sb.dir, version);
	snprintf(v, sizeof(v), "v%d", version);
	free(ok(SLIPWAY_BIN, "slugs:extract", v, x, "-a", APP));
	char *p = th_path("%s/compile-args", x);
	char *args = th_read(p, NULL);
	cr_assert(args, "no compile-args in the slug");
	/* line 1: argument count, line 2: BUILD_DIR */
	char *nl = strchr(args, '\n');
	cr_assert(nl);
	char *dir = xstrndup(nl + 1, strcspn(nl + 1, "\n"));
	free(args);
	free(p);
	free(x);
	return dir;
}

/* <tmpfs>/slipway-<uid>/<dev>-<ino>-APP for this sandbox's root. */
static char *tmpfs_area(const char *tmpfs)
{
	struct stat st;
	cr_assert_eq(stat(sb.root, &st), 0);
	return th_path("%s/slipway-%u/%llx-%llx-%s", tmpfs, (unsigned)geteuid(),
		       (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, APP);
}

static int has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* Pushes (see push_and_build_dir) and asserts the build ran under prefix. */
static void expect_build_under(int version, const char *prefix)
{
	char *dir = push_and_build_dir(version);
	cr_assert(has_prefix(dir, prefix), "built in %s, not under %s", dir, prefix);
	free(dir);
}

#define assert_gone(p) assert_gone_at(p, __LINE__)
static void assert_gone_at(const char *path, int line)
{
	struct stat st;
	cr_assert_neq(lstat(path, &st), 0, "line %d: %s was left behind", line, path);
}

Test(build_area, tmpfs_when_the_tree_fits)
{
	struct statvfs v;
	if (!shm || statvfs(shm, &v) < 0 || (uint64_t)v.f_bavail * v.f_frsize < (1ull << 30))
		cr_skip_test("/dev/shm is not a tmpfs with 1 GB free on this machine");
	env_add_fmt("SLIPWAY_TMPFS=%s", shm);
	init_app();
	char *area = tmpfs_area(shm);
	char *prefix = th_path("%s/build-", area);
	expect_build_under(1, prefix);
	/* the build removed its area when it was done, and never used the disk one */
	assert_gone(area);
	assert_gone(gc_path("%s/builds/%s", sb.root, APP));
	/* the private base is ours alone */
	struct stat st;
	char *base = th_path("%s/slipway-%u", shm, (unsigned)geteuid());
	cr_assert_eq(lstat(base, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, 0700, "mode %o", st.st_mode & 0777);
	free(base);
	free(prefix);
	free(area);
}

Test(build_area, disk_when_tmpfs_is_off_or_not_a_tmpfs)
{
	app_sandbox_setenv(&sb, "SLIPWAY_TMPFS=none");
	init_app();
	char *prefix = th_path("%s/builds/%s/build-", sb.root, APP);
	expect_build_under(1, prefix);

	/* the sandbox is on an ordinary filesystem: not used as a tmpfs */
	env_add_fmt("SLIPWAY_TMPFS=%s", sb.dir);
	expect_build_under(2, prefix);
	char *base = th_path("%s/slipway-%u", sb.dir, (unsigned)geteuid());
	assert_gone(base);
	free(base);
	free(prefix);
}

Test(build_area, build_dir_setting_wins)
{
	if (shm)
		env_add_fmt("SLIPWAY_TMPFS=%s", shm);
	env_add_fmt("SLIPWAY_BUILD_DIR=%s/bd", sb.dir);
	init_app();
	char *prefix = th_path("%s/bd/%s/build-", sb.dir, APP);
	expect_build_under(1, prefix);
	free(prefix);
}

Test(build_area, a_tmpfs_base_that_is_not_private_is_not_used)
{
	if (!shm)
		cr_skip_test("/dev/shm is not a tmpfs on this machine");
	env_add_fmt("SLIPWAY_TMPFS=%s", shm);
	init_app();
	char *base = th_path("%s/slipway-%u", shm, (unsigned)geteuid());
	char *prefix = th_path("%s/builds/%s/build-", sb.root, APP);

	/* open to others */
	cr_assert_eq(mkdir(base, 0700), 0);
	cr_assert_eq(chmod(base, 0777), 0);
	char *dir = push_and_build_dir(1);
	cr_assert(has_prefix(dir, prefix), "built in %s despite a mode 0777 %s", dir, base);
	struct stat st;
	cr_assert_eq(stat(base, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0777, "the base was changed");
	free(dir);

	/* a symlink to somewhere else */
	cr_assert_eq(rmdir(base), 0);
	char *elsewhere = th_path("%s/elsewhere", sb.dir);
	cr_assert_eq(mkdir(elsewhere, 0700), 0);
	cr_assert_eq(symlink(elsewhere, base), 0);
	dir = push_and_build_dir(2);
	cr_assert(has_prefix(dir, prefix), "built in %s through a symlinked %s", dir, base);
	char *probe = th_path("%s/x", elsewhere);
	cr_assert_eq(rmdir(elsewhere), 0, "something was written through the symlink");
	free(probe);
	free(elsewhere);
	free(dir);
	free(prefix);
	free(base);
}

Test(build_area, leftovers_are_cleared_by_the_next_build_and_by_gc)
{
	if (!shm)
		cr_skip_test("/dev/shm is not a tmpfs on this machine");
	env_add_fmt("SLIPWAY_TMPFS=%s", shm);
	init_app();
	char *area = tmpfs_area(shm);
	char *disk = th_path("%s/builds/%s", sb.root, APP);
	char *a1 = th_path("%s/build-killed/app/file", area);
	char *d1 = th_path("%s/build-killed/app/file", disk);

	/* a killed build's leftovers in both places: the next build clears both */
	cr_assert_eq(mkdir(gc_path("%s/slipway-%u", shm, (unsigned)geteuid()), 0700), 0);
	th_write(a1, "left", 0644);
	th_write(d1, "left", 0644);
	free(push_and_build_dir(1));
	assert_gone(area);
	assert_gone(gc_path("%s/build-killed", disk));

	/* and gc sweeps them when no build is running */
	th_write(a1, "left", 0644);
	th_write(d1, "left", 0644);
	char *out = ok(SLIPWAY_BIN, "gc");
	cr_assert(strstr(out, ", 2 build directories, "), "%s", out);
	free(out);
	assert_gone(area);
	assert_gone(disk);
	free(a1);
	free(d1);
	free(disk);
	free(area);
}

Test(build_area, git_config_chooses_too_and_the_environment_wins)
{
	init_app();
	/* the server user's global git config: every app */
	char *global = th_path("%s/.gitconfig", sb.dir);
	char *gtext = th_path("[slipway]\n\tbuildDir = %s/global\n", sb.dir);
	th_write(global, gtext, 0644);
	expect_build_under(1, gc_path("%s/global/%s/build-", sb.dir, APP));

	/* the app's own config over the global one */
	char *own = th_path("%s/own", sb.dir);
	free(ok("git", "--git-dir", sb.repo, "config", "slipway.buildDir", own));
	expect_build_under(2, gc_path("%s/%s/build-", own, APP));

	/* the environment over both */
	env_add_fmt("SLIPWAY_BUILD_DIR=%s/env", sb.dir);
	expect_build_under(3, gc_path("%s/env/%s/build-", sb.dir, APP));
	free(own);
	free(gtext);
	free(global);
}

Test(build_area, slipway_tmpfs_none_in_git_config_keeps_builds_on_the_disk)
{
	init_app();
	free(ok("git", "--git-dir", sb.repo, "config", "slipway.tmpfs", "none"));
	char *prefix = th_path("%s/builds/%s/build-", sb.root, APP);
	expect_build_under(1, prefix);
	free(prefix);
}

Test(build_area, a_relative_setting_is_refused_and_changes_nothing)
{
	init_app();
	free(ok("git", "--git-dir", sb.repo, "config", "slipway.buildDir", "relative/dir"));
	char *out = app_sandbox_push_rejected(&sb, "main");
	cr_assert(strstr(out, "remote:  !     git config slipway.buildDir: 'relative/dir' is not an "
			      "absolute path"), "%s", out);
	cr_assert(strstr(out, "remote:  !     Push rejected, no release was created."), "%s", out);
	cr_assert(!strstr(out, "Released"), "%s", out);
	free(out);
	cr_assert_eq(app_sandbox_release_count(&sb), 0);
	assert_gone(gc_path("%s/relative", sb.repo));
	assert_gone(gc_path("%s/relative", sb.dir));
	assert_gone(gc_path("%s/relative", sb.src));

	free(ok("git", "--git-dir", sb.repo, "config", "slipway.tmpfs", "shm"));
	free(ok("git", "--git-dir", sb.repo, "config", "--unset", "slipway.buildDir"));
	free(ok("git", "commit", "-q", "--allow-empty", "-m", "again"));
	out = app_sandbox_push_rejected(&sb, "main");
	cr_assert(strstr(out, "remote:  !     git config slipway.tmpfs: 'shm' is neither an "
			      "absolute path nor 'none'"), "%s", out);
	free(out);
	cr_assert_eq(app_sandbox_release_count(&sb), 0);
	/* gc still runs */
	free(ok(SLIPWAY_BIN, "gc"));
}
