/*
 * runtime/addon, what holds for every kind: an unknown kind is refused,
 * and so is Slipway running as root (PostgreSQL refuses root, and add-ons
 * run as the server user) - one line each, nothing made.  The servers
 * themselves: test_addon_pg.c.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include "runtime/addon.h"
#include "util/error.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *sandbox, *root;

static void setup(void)
{
	sandbox = th_sandbox();
	root = th_path("%s/root", sandbox);
	cr_assert_eq(mkdir(root, 0755), 0);
}

static void teardown(void)
{
	free(root);
	th_sandbox_free(sandbox);
}

TestSuite(addon, .init = setup, .fini = teardown, .timeout = 60);

Test(addon, unknown_kind_refused_with_nothing_made)
{
	struct addon_create_opts o = ADDON_CREATE_OPTS_INIT;
	struct addon a;
	o.kind = "mongodb";
	cr_assert_eq(addon_create(root, &o, &a), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "unknown add-on service 'mongodb': use postgresql, redis");
	cr_assert_eq(th_entries(root), 0);
	cr_assert_not(addon_kind_find("mongodb"));
	cr_assert(addon_kind_find("postgresql"));
}

Test(addon, refused_as_root_with_nothing_made)
{
	if (geteuid() != 0)
		cr_skip_test("not running as root");
	struct addon_create_opts o = ADDON_CREATE_OPTS_INIT;
	struct addon a;
	o.kind = "postgresql";
	cr_assert_eq(addon_create(root, &o, &a), SW_EDENIED);
	cr_assert_str_eq(sw_error_last(), "add-ons need slipway to run as an unprivileged user");
	cr_assert_eq(th_entries(root), 0);
}
