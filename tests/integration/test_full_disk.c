/*
 * A full disk: a change that cannot be recorded is refused with the
 * system's own words ("No space left on device"), exit status 1, and the
 * release list is as it was - whichever write runs out of room (an object
 * of the release, its commit, or one of the ledger's refs).
 *
 * The root lives on a small tmpfs mounted in a mount namespace of the
 * test's own, so nothing outside the test sees the full filesystem.  That
 * needs root (or CAP_SYS_ADMIN); without it the test is skipped.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include "util/util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define APP "full"
#define PAGE 4096

static struct app_sandbox sb;
static int mounted;

#define sw(...) SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__)
#define ok(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

/* The root on a tmpfs of size (e.g. "32m") in a mount namespace of this test's; 0 or why not. */
static const char *mount_root(const char *size)
{
	if (unshare(CLONE_NEWNS) < 0)
		return "cannot make a mount namespace (needs root)";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return "cannot make the mounts private";
	if (mkdir(sb.root, 0755) < 0 && errno != EEXIST)
		return "cannot make the root";
	char *opt = th_path("size=%s,mode=0755", size);
	int r = mount("tmpfs", sb.root, "tmpfs", 0, opt);
	free(opt);
	if (r < 0)
		return "cannot mount a tmpfs";
	mounted = 1;
	return NULL;
}

static void setup(void)
{
	app_sandbox_init(&sb, APP, APP_SANDBOX_BATCH);
	const char *why = mount_root("32m");
	if (why)
		cr_skip_test("%s", why);
	app_sandbox_create(&sb, NULL);
}

static void teardown(void)
{
	if (mounted)
		umount2(sb.root, MNT_DETACH);
	app_sandbox_release(&sb);
}

TestSuite(full_disk, .init = setup, .fini = teardown, .timeout = 300);

static char *fill_path(const char *name)
{
	return th_path("%s/%s", sb.root, name);
}

/* Writes zeros to path until it holds bytes, or (bytes 0) until the disk is full. */
static void write_zeros(const char *path, size_t bytes)
{
	static char zeros[PAGE];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(fd >= 0, "cannot create %s", path);
	for (size_t done = 0; !bytes || done < bytes; done += PAGE)
		if (write(fd, zeros, PAGE) != PAGE) {
			cr_assert(!bytes && errno == ENOSPC, "cannot write %s: %s", path,
				  strerror(errno));
			break;
		}
	close(fd);
}

/* Fills the root's filesystem but for pages free pages. */
static void fill_but(int pages)
{
	char *spare = fill_path("spare"), *fill = fill_path("fill");
	if (pages)
		write_zeros(spare, (size_t)pages * PAGE);
	write_zeros(fill, 0);
	unlink(spare);
	free(spare);
	free(fill);
}

static void unfill(void)
{
	char *fill = fill_path("fill");
	unlink(fill);
	free(fill);
}

static char *releases_json(void)
{
	struct th_result r = sw("releases", "--json", "-a", APP);
	cr_assert_eq(r.status, 0, "releases: %s", r.err);
	char *out = xstrdup(r.out);
	th_result_free(&r);
	return out;
}

/* The loose objects of the app's repository ("xx/yyyy…"), sorted. */
static void list_objects(struct strvec *out)
{
	char *objects = th_path("%s/objects", sb.repo);
	DIR *d = opendir(objects);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (strlen(e->d_name) != 2)
			continue;
		char *sub = th_path("%s/%s", objects, e->d_name);
		DIR *s = opendir(sub);
		struct dirent *f;
		while (s && (f = readdir(s)))
			if (f->d_name[0] != '.')
				strvec_pushf(out, "%s/%s", e->d_name, f->d_name);
		if (s)
			closedir(s);
		free(sub);
	}
	if (d)
		closedir(d);
	free(objects);
	strvec_sort(out);
}

/*
 * Removes the objects a refused attempt left (nothing names them), so the
 * next attempt of a sweep writes the same objects again and a sweep meets
 * every write of a change in turn.
 */
static void remove_new_objects(const struct strvec *before)
{
	struct strvec now = STRVEC_INIT;
	list_objects(&now);
	for (size_t i = 0; i < now.n; i++)
		if (!strvec_has_sorted(before, now.v[i])) {
			char *path = th_path("%s/objects/%s", sb.repo, now.v[i]);
			unlink(path);
			free(path);
		}
	strvec_clear(&now);
}

/*
 * Runs argv on a disk filled but for 0, 1, 2 ... free pages (tmpfs
 * gives each file whole pages) until it succeeds, so each of its writes
 * in turn is the one that finds no room: each refusal says "No space left on device", exits 1 and
 * leaves the release list as it was.  How many were refused.
 */
static int sweep(const char *const *argv)
{
	int refused = 0;
	for (int pages = 0; pages < 64; pages++) {
		char *before = releases_json();
		struct strvec objects = STRVEC_INIT;
		list_objects(&objects);
		fill_but(pages);
		struct th_result r = app_sandbox_run(&sb, NULL, NULL, argv);
		char *after = releases_json();
		unfill();
		if (r.status)
			remove_new_objects(&objects);
		strvec_clear(&objects);
		if (r.status == 0) {
			cr_log_info("%s: refused with 0 to %d free pages", argv[1], pages - 1);
			cr_assert_str_neq(after, before, "%s succeeded and recorded nothing", argv[1]);
			th_result_free(&r);
			free(before);
			free(after);
			return refused;
		}
		refused++;
		cr_log_info("%s with %d free pages: %s", argv[1], pages, r.err);
		cr_assert_eq(r.status, 1, "%s with %d free pages: exit %d: %s", argv[1], pages,
			     r.status, r.err);
		cr_assert(strstr(r.err, "No space left on device"),
			  "%s with %d free pages said: %s", argv[1], pages, r.err);
		cr_assert_str_eq(after, before, "%s with %d free pages changed the releases",
				 argv[1], pages);
		th_result_free(&r);
		free(before);
		free(after);
	}
	cr_assert_fail("%s never succeeded", argv[1]);
	return refused;
}

Test(full_disk, config_set_is_refused_with_no_space_left_and_changes_nothing)
{
	free(ok(SLIPWAY_BIN, "config:set", "A=1", "-a", APP));
	const char *argv[] = { SLIPWAY_BIN, "config:set", "B=2", "-a", APP, NULL };
	cr_assert_geq(sweep(argv), 3, "the sweep did not reach the ledger's writes");
	char *out = ok(SLIPWAY_BIN, "config:get", "B", "-a", APP);
	cr_assert_str_eq(out, "2\n");
	free(out);
}

Test(full_disk, rollback_is_refused_with_no_space_left_and_changes_nothing)
{
	app_sandbox_write(&sb, "Procfile", "web: sleep 600\n", 0644);
	app_sandbox_write(&sb, "index.txt", "one\n", 0644);
	app_sandbox_checkout(&sb, NULL, "main", "one");
	free(app_sandbox_push(&sb, "main"));
	free(ok(SLIPWAY_BIN, "config:set", "A=1", "-a", APP));
	const char *argv[] = { SLIPWAY_BIN, "rollback", "v1", "-a", APP, NULL };
	cr_assert_geq(sweep(argv), 3, "the sweep did not reach the ledger's writes");
	cr_assert_eq(app_sandbox_release_count(&sb), 3);
}
