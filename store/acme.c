#define _GNU_SOURCE
#include "store/acme.h"

#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* path made (or there) with mode, which is set even when it was there */
static int dir_mode(const char *path, mode_t mode)
{
	int err = fs_mkdir_p(path, mode);
	if (!err && chmod(path, mode) < 0)
		err = sw_error_errno(SW_ERROR, "cannot set the mode of '%s'", path);
	return err;
}

int acme_dirs_make(const char *root, const char *app)
{
	char *top = paths_acme_dir(root), *web = paths_acme_webroot(root);
	char *account = paths_acme_account(root);
	char *dir = app ? paths_acme_app(root, app) : NULL;
	int err = dir_mode(top, 0755);
	if (!err)
		err = dir_mode(web, 0755);
	if (!err)
		err = dir_mode(account, 0700);
	if (!err && dir) {
		char *apps = paths_acme_file(root, "apps");
		err = dir_mode(apps, 0700);
		if (!err)
			err = dir_mode(dir, 0700);
		free(apps);
	}
	free(top);
	free(web);
	free(account);
	free(dir);
	return err;
}

int acme_token_valid(const char *token)
{
	size_t n = strlen(token);
	return n >= 1 && n <= 128 &&
	       strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

int acme_challenge_put(const char *root, const char *token, const char *keyauth)
{
	if (!acme_token_valid(token))
		return sw_error_set(SW_EINVALID, "'%s' is not an ACME token", token);
	int err = acme_dirs_make(root, NULL);
	char *path = paths_acme_challenge(root, token);
	if (!err)
		err = fs_write_atomic(path, keyauth, strlen(keyauth), 0644);
	free(path);
	return err;
}

int acme_challenge_remove(const char *root, const char *token)
{
	if (!acme_token_valid(token))
		return sw_error_set(SW_EINVALID, "'%s' is not an ACME token", token);
	char *path = paths_acme_challenge(root, token);
	int err = unlink(path) < 0 && errno != ENOENT
			  ? sw_error_errno(SW_ERROR, "cannot remove '%s'", path)
			  : 0;
	free(path);
	return err;
}

int acme_enabled(const char *root, const char *app)
{
	char *dir = paths_acme_app(root, app);
	int on = fs_is_dir(dir) == 1;
	free(dir);
	return on;
}

int acme_disable(const char *root, const char *app)
{
	char *dir = paths_acme_app(root, app);
	int err = fs_rm_rf(dir);
	free(dir);
	return err;
}
