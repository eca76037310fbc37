/*
 * addons:create as root: refused with one line (PostgreSQL refuses to run
 * as root, and so do add-ons), nothing made.  Apart from test_addons.c,
 * whose processes give up root: Criterion's runner reports a leak of its
 * own when a suite that keeps root shares a file with one that does not.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include "util/util.h"

#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#define APP "shop"

static struct app_sandbox sb;

#define sw(...) SANDBOX_RUN(&sb, sb.dir, SLIPWAY_BIN, __VA_ARGS__)
#define OK(...) th_keep(app_sandbox_must(sw(__VA_ARGS__), #__VA_ARGS__))

static void setup(void)
{
	app_sandbox_init(&sb, APP, 0);
	app_sandbox_setenv(&sb, "SLIPWAY_USER=alice@example.com");
}

static void teardown(void)
{
	th_keep_free();
	app_sandbox_release(&sb);
}

TestSuite(addons_root, .init = setup, .fini = teardown, .timeout = 60);

Test(addons_root, create_is_refused)
{
	if (geteuid() != 0)
		cr_skip_test("not run as root");
	OK("apps:create", APP);
	app_sandbox_refused(sw("addons:create", "postgresql", "-a", APP), 1,
			    " !    add-ons need slipway to run as an unprivileged user\n");
	cr_assert_str_eq(OK("addons"), "No add-ons.\n");
	const char *rels = OK("releases", "-a", APP);
	cr_assert(!strstr(rels, "\nv"), "%s", rels);
}
