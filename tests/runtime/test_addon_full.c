/*
 * runtime/addon on a full disk: a root on a disk too small for a
 * PostgreSQL cluster (a tmpfs in a mount namespace of the test's own), so
 * initdb runs out of space half-way.  addon_create() refuses with one line
 * that says why, and nothing of the add-on is left: no directory, no
 * service, no record.  The control: a root on a disk with room creates it.
 *
 * Needs root to mount (CI runs as root); the server then runs as the test
 * user, as on a real server.
 */
#define _GNU_SOURCE
#include "tests/addon_helpers.h"

#include "store/paths.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <pwd.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static char *sandbox, *root;

static void teardown(void)
{
	if (root)
		ah_stop(root, sandbox);
}

TestSuite(addon_full, .fini = teardown, .timeout = 240);

/* A tmpfs of size at dir, the test user's, in a mount namespace of this test's own. */
static void disk(const char *dir, const char *size)
{
	const char *name = getenv("SLIPWAY_TEST_USER");
	struct passwd *pw = getpwnam(name && *name ? name : "nobody");
	cr_assert(pw);
	cr_assert_eq(unshare(CLONE_NEWNS), 0);
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	cr_assert_eq(mkdir(dir, 0755), 0);
	char *opts = th_path("size=%s,mode=0755,uid=%u,gid=%u", size, (unsigned)pw->pw_uid,
			     (unsigned)pw->pw_gid);
	cr_assert_eq(mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts), 0);
	free(opts);
}

/* Room for the runtime's own files, not for a cluster (initdb writes about 40 MB). */
static void small_disk(const char *dir)
{
	disk(dir, "6m");
}

static void large_disk(const char *dir)
{
	disk(dir, "256m");
}

/* What a create left: entries of the add-ons' directory, and services of the tree. */
static int left(void)
{
	char *dir = paths_addons_dir(root);
	int n = access(dir, F_OK) ? 0 : th_entries(dir);
	free(dir);
	struct strvec names = STRVEC_INIT;
	supervisor_service_names(root, &names);
	n += (int)names.n;
	strvec_clear(&names);
	return n;
}

static int create(struct addon *a)
{
	struct addon_create_opts o = ADDON_CREATE_OPTS_INIT;
	o.kind = "postgresql";
	o.app = "myapp";
	return addon_create(root, &o, a);
}

Test(addon_full, a_disk_that_fills_during_initdb_is_refused_with_nothing_left)
{
	if (geteuid() != 0)
		cr_skip_test("mounting a small disk needs root");
	root = ah_start_with(&sandbox, small_disk);
	struct addon a;
	cr_assert_eq(create(&a), SW_ERROR);
	const char *msg = sw_error_last();
	/* initdb's own reason, not its whole output */
	const char *start = "initdb failed (exit 1): could not write to file ";
	const char *end = ": No space left on device";
	cr_assert(!strncmp(msg, start, strlen(start)) && strlen(msg) < 200 &&
			  !strcmp(msg + strlen(msg) - strlen(end), end),
		  "%s", msg);
	cr_assert_eq(left(), 0, "a refused create left something");
	struct strvec names = STRVEC_INIT;
	cr_assert_eq(addons_list(root, &names), 0);
	cr_assert_eq(names.n, 0);
	strvec_clear(&names);
}

Test(addon_full, the_control_a_disk_with_room_creates_it)
{
	if (geteuid() != 0)
		cr_skip_test("mounting a disk needs root");
	root = ah_start_with(&sandbox, large_disk);
	struct addon a;
	cr_assert_eq(create(&a), 0, "%s", sw_error_last());
	cr_assert_str_eq(ah_select_one(root, &a, "SELECT 1"), "1\n");
	cr_assert_eq(left(), 2, "its directory and its service");
}
