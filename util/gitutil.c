#include "util/gitutil.h"

#include "util/error.h"

#include <stdlib.h>

static int git_inited;

void sw_git_init(void)
{
	if (!git_inited) {
		git_libgit2_init();
		/* refs and objects are ours; fsync them like everything else */
		git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
		/* map packs in small windows: memory stays bounded however big the repository */
		git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)8 << 20);
		git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)32 << 20);
		/* objects were hashed and checked by git when they arrived (receive.fsckObjects) */
		git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
		git_inited = 1;
	}
}

void sw_git_shutdown(void)
{
	if (git_inited) {
		git_libgit2_shutdown();
		git_inited = 0;
	}
}

int sw_git_error(int code, const char *what)
{
	const git_error *e = git_error_last();
	return sw_error_set(code, "%s: %s", what, e && e->message ? e->message : "unknown git error");
}

int sw_git_open_pushed(git_repository **out, const char *path)
{
	const char *q = getenv("GIT_QUARANTINE_PATH");
	sw_git_init();
	if (!q || !*q)
		return sw_git_open(out, path);
	if (git_repository_open_ext(out, NULL, GIT_REPOSITORY_OPEN_FROM_ENV, NULL) < 0)
		return sw_git_error(SW_ERROR, "cannot open the pushed objects");
	return 0;
}

int sw_git_open(git_repository **out, const char *path)
{
	sw_git_init();
	if (git_repository_open_ext(out, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return sw_git_error(SW_ERROR, "cannot open repository");
	return 0;
}
