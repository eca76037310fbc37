/*
 * store/maintenance: the maintenance flag of an app - off until set, on
 * and off again, kept in the app's repository.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include "store/maintenance.h"
#include "store/paths.h"
#include "util/fsutil.h"

#include <criterion/criterion.h>
#include <stdlib.h>

#define APP "myapp"

static char *root;

static void setup(void)
{
	root = th_sandbox();
	char *repo = th_path("%s/apps/" APP ".git", root);
	cr_assert_eq(fs_mkdir_p(repo, 0755), 0);
	free(repo);
}

static void teardown(void)
{
	th_sandbox_free(root);
}

TestSuite(maintenance, .init = setup, .fini = teardown, .timeout = 60);

Test(maintenance, is_off_until_set_and_turns_on_and_off)
{
	char *file = paths_maintenance_file(root, APP);
	cr_assert_eq(maintenance_on(root, APP), 0);
	cr_assert_eq(maintenance_set(root, APP, 1), 0);
	cr_assert_eq(maintenance_on(root, APP), 1);
	cr_assert(fs_exists(file), "kept in the app's repository");
	cr_assert_eq(maintenance_set(root, APP, 1), 0, "on twice is fine");
	cr_assert_eq(maintenance_on(root, APP), 1);
	cr_assert_eq(maintenance_set(root, APP, 0), 0);
	cr_assert_eq(maintenance_on(root, APP), 0);
	cr_assert_not(fs_exists(file));
	cr_assert_eq(maintenance_set(root, APP, 0), 0, "off twice is fine");
	cr_assert_eq(maintenance_on(root, APP), 0);
	free(file);
}

Test(maintenance, is_the_apps_own)
{
	char *other = th_path("%s/apps/other.git", root);
	cr_assert_eq(fs_mkdir_p(other, 0755), 0);
	cr_assert_eq(maintenance_set(root, APP, 1), 0);
	cr_assert_eq(maintenance_on(root, "other"), 0);
	free(other);
}
