#include "util/lockfile.h"

#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <stdlib.h>

int lockfile_hold(struct lockfile *lf, const char *path, const char *lock_path, int wait_sec)
{
	struct lock lk = LOCK_INIT;
	char *own = lock_path ? NULL : xasprintf("%s.lock", path);

	if (lf->path) {
		free(own);
		return sw_error_set(SW_ERROR, "the lock on '%s' is already held", lf->path);
	}
	int err = lock_acquire(&lk, lock_path ? lock_path : own, wait_sec, NULL, NULL);
	free(own);
	if (err < 0)
		return err;
	lf->lk = lk;
	lf->path = xstrdup(path);
	return 0;
}

int lockfile_commit(struct lockfile *lf, const void *data, size_t len, mode_t mode)
{
	if (!lf->path)
		return sw_error_set(SW_ERROR, "cannot write a file whose lock is not held");
	int err = fs_write_atomic(lf->path, data, len, mode);
	lockfile_rollback(lf);
	return err;
}

void lockfile_rollback(struct lockfile *lf)
{
	if (!lf->path)
		return;
	lock_release(&lf->lk);
	free(lf->path);
	lf->path = NULL;
}
