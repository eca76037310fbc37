/*
 * store/acme: the ACME answers the router serves are written under the
 * webroot and nowhere else (a token is base64url: no '/', no ".."); an
 * app's certs:auto is on while its directory is there.
 */
#include "store/acme.h"
#include "store/paths.h"
#include "util/error.h"

#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <stdlib.h>
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

TestSuite(acme, .init = setup, .fini = teardown);

Test(acme, an_answer_is_written_in_the_webroot_and_removed)
{
	cr_assert_eq(acme_challenge_put(root, "tok_EN-1", "tok_EN-1.thumb"), 0);
	char *p = paths_acme_challenge(root, "tok_EN-1");
	char *text = th_read(p, NULL);
	cr_assert_str_eq(text, "tok_EN-1.thumb");
	free(text);
	cr_assert_eq(acme_challenge_remove(root, "tok_EN-1"), 0);
	cr_assert(access(p, F_OK) < 0);
	cr_assert_eq(acme_challenge_remove(root, "tok_EN-1"), 0, "none is fine");
	free(p);
}

Test(acme, a_token_that_is_a_path_is_refused_and_nothing_is_written)
{
	const char *bad[] = { "../../../../certs/x", "a/b", "..", "", "a b", NULL };
	for (size_t i = 0; bad[i]; i++) {
		cr_assert_eq(acme_challenge_put(root, bad[i], "x"), SW_EINVALID, "%s", bad[i]);
		cr_assert_eq(acme_challenge_remove(root, bad[i]), SW_EINVALID, "%s", bad[i]);
	}
	char *certs = paths_certs_dir(root);
	cr_assert(access(certs, F_OK) < 0);
	free(certs);
}

Test(acme, the_account_and_app_directories_are_private)
{
	cr_assert_eq(acme_enabled(root, "shop"), 0);
	cr_assert_eq(acme_dirs_make(root, "shop"), 0);
	cr_assert_eq(acme_enabled(root, "shop"), 1);
	struct stat st;
	char *account = paths_acme_account(root), *app = paths_acme_app(root, "shop");
	char *web = paths_acme_webroot(root);
	cr_assert_eq(stat(account, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
	cr_assert_eq(stat(app, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
	cr_assert_eq(stat(web, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0755);
	cr_assert_eq(acme_disable(root, "shop"), 0);
	cr_assert_eq(acme_enabled(root, "shop"), 0);
	free(account);
	free(app);
	free(web);
}
