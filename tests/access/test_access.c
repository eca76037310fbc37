/*
 * access/access: an app's collaborators, a list file of its repository -
 * kept sorted, one name a line; lines that are no user name are left out;
 * refusals change nothing.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include "access/access.h"
#include "store/app.h"
#include "store/paths.h"
#include "util/error.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define APP "myapp"

static char *root, *file;

static void setup(void)
{
	root = th_sandbox();
	struct app_create_opts o = APP_CREATE_OPTS_INIT;
	o.hook_exe = "/bin/true";
	cr_assert_eq(app_create(root, APP, &o), 0, "%s", sw_error_last());
	file = paths_access_file(root, APP);
}

static void teardown(void)
{
	free(file);
	th_sandbox_free(root);
}

TestSuite(access, .init = setup, .fini = teardown, .timeout = 60);

static void assert_file(const char *want)
{
	char *got = th_read(file, NULL);
	cr_assert_not_null(got);
	cr_assert_str_eq(got, want);
	free(got);
}

Test(access, collaborators_are_kept_sorted_one_a_line)
{
	cr_assert_eq(access_add(root, APP, "carol"), 0);
	cr_assert_eq(access_add(root, APP, "alice@example.com"), 0);
	cr_assert_eq(access_add(root, APP, "bob"), 0);
	assert_file("alice@example.com\nbob\ncarol\n");
	cr_assert_eq(access_remove(root, APP, "bob"), 0);
	assert_file("alice@example.com\ncarol\n");
	cr_assert_eq(access_allowed(root, APP, "carol"), 1);
	cr_assert_eq(access_allowed(root, APP, "bob"), 0);
}

Test(access, refusals_change_nothing)
{
	cr_assert_eq(access_add(root, APP, "bob"), 0);
	cr_assert_eq(access_add(root, APP, "bob"), SW_EEXISTS);
	cr_assert_str_eq(sw_error_last(), "user 'bob' already has access to '" APP "'");
	cr_assert_eq(access_remove(root, APP, "carol"), SW_ENOTFOUND);
	cr_assert_eq(access_add(root, APP, "a b"), SW_EINVALID);
	cr_assert_eq(access_add(root, "nope", "bob"), SW_ENOTFOUND);
	assert_file("bob\n");
}

Test(access, lines_that_are_no_user_name_are_left_out)
{
	struct strvec l = STRVEC_INIT;
	th_write(file, "# written by hand\nzoe\n\n  bob  \nnot a name\n-dash\n", 0644);
	cr_assert_eq(access_list(root, APP, &l), 0);
	cr_assert_eq(l.n, 2);
	cr_assert_str_eq(l.v[0], "bob");
	cr_assert_str_eq(l.v[1], "zoe");
	strvec_clear(&l);
	cr_assert_eq(access_allowed(root, APP, "not a name"), 0);
	cr_assert_eq(access_add(root, APP, "amy"), 0);
	assert_file("amy\nbob\nzoe\n");
}
