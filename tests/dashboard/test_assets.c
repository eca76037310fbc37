/*
 * dashboard/assets: the scripts' files, named by their content, written
 * where nginx serves /static/ from.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include "dashboard/assets.h"
#include "store/paths.h"
#include "util/fsutil.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *root;

static void setup(void)
{
	root = th_sandbox();
}

static void teardown(void)
{
	th_sandbox_free(root);
}

TestSuite(assets, .init = setup, .fini = teardown, .timeout = 60);

/* s is "/static/STEM.HHHHHHHH.EXT", 8 lowercase hex digits */
static void hashed(const char *s, const char *stem, const char *ext)
{
	char *head = th_path("/static/%s.", stem);
	cr_assert(!strncmp(s, head, strlen(head)), "%s", s);
	const char *h = s + strlen(head);
	for (int i = 0; i < 8; i++)
		cr_assert(isxdigit((unsigned char)h[i]) && !isupper((unsigned char)h[i]), "%s", s);
	cr_assert_str_eq(h + 8, ext, "%s", s);
	free(head);
}

Test(assets, names_are_the_content_s_hash_and_a_changed_content_is_a_new_name)
{
	hashed(assets_url("login.js"), "login", ".js");
	hashed(assets_url("logs.js"), "logs", ".js");
	cr_assert_str_neq(assets_url("login.js"), assets_url("logs.js"));

	char a[ASSETS_NAME_MAX], b[ASSETS_NAME_MAX], again[ASSETS_NAME_MAX];
	assets_file_name(a, "login.js", assets_body("login.js"));
	cr_assert_str_eq(assets_url("login.js") + strlen("/static/"), a);
	/* SHA-256("abc") begins ba7816bf */
	assets_file_name(b, "x.js", "abc");
	cr_assert_str_eq(b, "x.ba7816bf.js");
	assets_file_name(again, "x.js", "abd");
	cr_assert_str_neq(again, b);
	assets_file_name(again, "x.js", "abc");
	cr_assert_str_eq(again, b);
	cr_assert_null(assets_body("nothing.js"));
}

Test(assets, written_whole_under_their_names_and_an_older_binary_s_removed)
{
	char *dir = paths_dashboard_kind(root, "static");
	char *old = th_path("%s/login.00000000.js", dir);
	th_write(old, "old();\n", 0644);
	cr_assert_eq(assets_write(root), 0);
	static const char *const names[] = { "login.js", "logs.js", "build.js", NULL };
	for (size_t i = 0; names[i]; i++) {
		char *p = th_path("%s%s", dir, assets_url(names[i]) + strlen("/static"));
		char *got = th_read(p, NULL);
		cr_assert_str_eq(got, assets_body(names[i]));
		struct stat st;
		cr_assert_eq(stat(p, &st), 0);
		cr_assert_eq(st.st_mode & 0777, 0644, "readable by the router");
		free(got);
		free(p);
	}
	cr_assert(!fs_exists(old), "an older binary's file is left");
	cr_assert_eq(th_entries(dir), 3);
	/* again: the same files */
	cr_assert_eq(assets_write(root), 0);
	cr_assert_eq(th_entries(dir), 3);
	free(old);
	free(dir);
}
