#include "builder/submodule.h"
#include "util/error.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char gitmodules[] =
	"# written by git submodule add\n"
	"[submodule \"lib/x\"]\n"
	"\tpath = lib/x\n"
	"\turl = ../x.git\n"
	"[core]\n"
	"\tpath = lib/y\n"
	"\turl = /not/a/submodule\n"
	"[submodule \"y\"]\n"
	"\tURL = \"file:///srv/y.git\"\n"
	"  ; a comment\n"
	"\tpath=lib/y\n";

Test(submodule, url_by_path)
{
	char *url = NULL;
	cr_assert_eq(submodule_url(gitmodules, strlen(gitmodules), "lib/x", &url), 0);
	cr_assert_str_eq(url, "../x.git");
	free(url);
	cr_assert_eq(submodule_url(gitmodules, strlen(gitmodules), "lib/y", &url), 0);
	cr_assert_str_eq(url, "file:///srv/y.git");
	free(url);
	cr_assert_eq(submodule_url(gitmodules, strlen(gitmodules), "lib", &url), SW_ENOTFOUND);
	cr_assert_null(url);
	cr_assert_str_eq(sw_error_last(), "Submodule 'lib' has no url in .gitmodules");
	const char *nourl = "[submodule \"a\"]\n\tpath = a\n";
	cr_assert_eq(submodule_url(nourl, strlen(nourl), "a", &url), SW_ENOTFOUND);
}

static void resolves(const char *url, const char *want)
{
	char *repo = NULL;
	cr_assert_eq(submodule_resolve("/srv/root/apps/web.git", "lib", url, &repo), 0, "%s",
		     sw_error_last());
	cr_assert_str_eq(repo, want, "%s", url);
	free(repo);
}

Test(submodule, reachable_urls)
{
	resolves("../other.git", "/srv/root/apps/other.git");
	resolves("../../shared/lib.git", "/srv/root/shared/lib.git");
	resolves("./sub.git", "/srv/root/apps/web.git/sub.git");
	resolves("/srv/lib", "/srv/lib");
	resolves("file:///srv/lib.git", "/srv/lib.git");
}

Test(submodule, other_urls_are_refused)
{
	const char *bad[] = { "https://github.com/x/lib.git", "git@github.com:x/lib.git",
			      "ssh://git@host/lib.git", "lib.git", "file://host/lib.git", NULL };
	for (size_t i = 0; bad[i]; i++) {
		char *repo = NULL;
		cr_assert_eq(submodule_resolve("/srv/root/apps/web.git", "lib/x", bad[i], &repo),
			     SW_EINVALID, "%s", bad[i]);
		cr_assert_null(repo);
		char want[256];
		snprintf(want, sizeof(want), "Submodule 'lib/x' (%s) cannot be fetched: only paths, "
			 "file:// URLs and apps on this server", bad[i]);
		cr_assert(!strncmp(sw_error_last(), want, strlen(want)), "%s", sw_error_last());
	}
}
