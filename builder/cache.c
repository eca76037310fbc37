#define _GNU_SOURCE
#include "builder/cache.h"

#include "store/app.h"
#include "store/appctx.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/lock.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Removes every entry of dir (not dir itself); counts them into *n. */
static int empty_dir(const char *dir, unsigned long *n)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : sw_error_errno(SW_ERROR, "cannot open '%s'", dir);
	struct dirent *e;
	int err = 0;
	while (!err && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *p = xasprintf("%s/%s", dir, e->d_name);
		err = fs_rm_rf(p);
		free(p);
		(*n)++;
	}
	closedir(d);
	return err;
}

int cache_purge(const char *root, const char *app, unsigned long *files)
{
	struct lock lk = LOCK_INIT;
	unsigned long n = 0;
	int wait, err = app_check_exists(root, app);
	if (err || (err = app_lock_wait(&wait)))
		return err;
	char *lockpath = app_lock_path(root, app);
	char *dir = app_cache_path(root, app);
	if (!(err = lock_acquire(&lk, lockpath, wait, NULL, NULL)))
		err = empty_dir(dir, &n);
	if (!err && fs_exists(dir))
		err = fs_fsync_dir(dir);
	lock_release(&lk);
	free(lockpath);
	free(dir);
	if (files)
		*files = n;
	return err;
}
