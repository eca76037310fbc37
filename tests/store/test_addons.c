/*
 * store/addons: add-on names (checked, generated Heroku's way, unique),
 * the record and the credentials written and read back (the credentials
 * 0600), the list (only add-ons with a record; the others apart), removal.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include "store/addons.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *root;

static void setup(void)
{
	root = th_sandbox();
}

static void teardown(void)
{
	th_sandbox_free(root);
}

TestSuite(addons, .init = setup, .fini = teardown);

static void make_dir(const char *name)
{
	char *top = paths_addons_dir(root), *dir = paths_addon_dir(root, name);
	mkdir(top, 0755);
	cr_assert_eq(mkdir(dir, 0755), 0);
	free(dir);
	free(top);
}

Test(addons, names)
{
	const char *good[] = { "postgresql-amber-12345", "db", "a1-b2" };
	const char *bad[] = { "", "Postgres", "1db", "db-", "a--b", "a_b", "a.b", "../x",
			      "a b", "x123456789012345678901234567890123456789012345678901234567890123" };
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		cr_assert(addon_name_valid(good[i]), "%s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cr_assert_not(addon_name_valid(bad[i]), "%s", bad[i]);
		cr_assert_eq(addon_name_check(bad[i]), SW_EINVALID);
	}
	cr_assert(strstr(sw_error_last(), "invalid add-on name"), "%s", sw_error_last());
}

Test(addons, generated_names_are_herokus_and_free)
{
	char a[ADDON_NAME_MAX + 1], b[ADDON_NAME_MAX + 1];
	cr_assert_eq(addon_name_generate(root, "postgresql", a, sizeof(a)), 0);
	cr_assert_eq(strncmp(a, "postgresql-", 11), 0, "%s", a);
	cr_assert(addon_name_valid(a), "%s", a);
	const char *num = strrchr(a, '-') + 1;
	cr_assert(strspn(num, "0123456789") == strlen(num) && atoi(num) >= 1000, "%s", a);
	/* a name taken (its directory exists) is never handed out again */
	make_dir(a);
	for (int i = 0; i < 200; i++) {
		cr_assert_eq(addon_name_generate(root, "postgresql", b, sizeof(b)), 0);
		cr_assert_str_neq(a, b);
	}
}

Test(addons, record_and_credentials_read_back)
{
	struct addon a = { .name = "postgresql-calm-4242", .kind = "postgresql", .port = 30001,
			   .created = 1764601234, .app = "myapp", .major = 15 };
	make_dir(a.name);
	cr_assert_eq(addon_write(root, &a), 0, "%s", sw_error_last());
	struct addon r;
	cr_assert_eq(addon_read(root, a.name, &r), 0, "%s", sw_error_last());
	cr_assert_str_eq(r.name, a.name);
	cr_assert_str_eq(r.kind, "postgresql");
	cr_assert_eq(r.port, 30001);
	cr_assert_eq(r.created, 1764601234);
	cr_assert_str_eq(r.app, "myapp");
	cr_assert_eq(r.major, 15);

	struct addon_credentials c = { .superuser = "slipway", .superpassword = "s3", .user = "uab",
				       .password = "p4", .database = "dcd" }, rc;
	cr_assert_eq(addon_credentials_write(root, a.name, &c), 0, "%s", sw_error_last());
	cr_assert_eq(addon_credentials_read(root, a.name, &rc), 0, "%s", sw_error_last());
	cr_assert_str_eq(rc.superuser, "slipway");
	cr_assert_str_eq(rc.superpassword, "s3");
	cr_assert_str_eq(rc.user, "uab");
	cr_assert_str_eq(rc.password, "p4");
	cr_assert_str_eq(rc.database, "dcd");
	/* an add-on made with one login: no owner, no other login, no rotation */
	cr_assert_str_eq(rc.owner, "");
	cr_assert_str_eq(rc.other, "");
	cr_assert_str_eq(rc.next, "");

	/* the two logins and a rotation under way */
	snprintf(c.owner, sizeof(c.owner), "oef");
	snprintf(c.other, sizeof(c.other), "u12");
	snprintf(c.next, sizeof(c.next), "u12");
	snprintf(c.nextpassword, sizeof(c.nextpassword), "p5");
	cr_assert_eq(addon_credentials_write(root, a.name, &c), 0, "%s", sw_error_last());
	cr_assert_eq(addon_credentials_read(root, a.name, &rc), 0, "%s", sw_error_last());
	cr_assert_str_eq(rc.user, "uab");
	cr_assert_str_eq(rc.owner, "oef");
	cr_assert_str_eq(rc.other, "u12");
	cr_assert_str_eq(rc.next, "u12");
	cr_assert_str_eq(rc.nextpassword, "p5");
	char *path = paths_addon_file(root, a.name, "credentials");
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	free(path);

	char hex[65];
	cr_assert_eq(addon_random_hex(hex, 32), 0);
	cr_assert_eq(strlen(hex), 64);
	cr_assert_eq(strspn(hex, "0123456789abcdef"), 64);
}

Test(addons, list_has_only_records_and_remove_ends_one)
{
	struct addon a = { .name = "postgresql-one-1000", .kind = "postgresql", .port = 30000,
			   .major = 15 };
	make_dir(a.name);
	cr_assert_eq(addon_write(root, &a), 0, "%s", sw_error_last());
	make_dir("postgresql-half-1001"); /* a killed create's: no record */
	struct strvec names = STRVEC_INIT;
	cr_assert_eq(addons_list(root, &names), 0);
	cr_assert_eq(names.n, 1);
	cr_assert_str_eq(names.v[0], a.name);
	strvec_clear(&names);
	cr_assert_eq(addons_list_unfinished(root, &names), 0);
	cr_assert_eq(names.n, 1);
	cr_assert_str_eq(names.v[0], "postgresql-half-1001");
	strvec_clear(&names);

	struct addon r;
	cr_assert_eq(addon_read(root, "postgresql-half-1001", &r), SW_ENOTFOUND);
	cr_assert_str_eq(sw_error_last(), "add-on 'postgresql-half-1001' does not exist");
	cr_assert_eq(addon_read(root, "../etc", &r), SW_EINVALID);

	cr_assert_eq(addon_remove(root, a.name), 0, "%s", sw_error_last());
	char *dir = paths_addon_dir(root, a.name);
	cr_assert_neq(access(dir, F_OK), 0);
	free(dir);
	cr_assert_eq(addon_read(root, a.name, &r), SW_ENOTFOUND);
	cr_assert_eq(addons_list(root, &names), 0);
	cr_assert_eq(names.n, 0);
	cr_assert_eq(addon_remove(root, a.name), 0); /* gone already: fine */
}
