/*
 * lockfile.h - a small file replaced under a lock.
 *
 * Part of util/: includes nothing outside util/; prints nothing.
 *
 * One object is both the lock and the way to the new content:
 * lockfile_hold() takes the lock, the caller reads the file and works out
 * what it should hold, lockfile_commit() replaces it and lets the lock go,
 * lockfile_rollback() lets the lock go and leaves the file as it was.
 *
 * The lock is an flock() on a separate lock file (lock.h), never the file
 * itself: the kernel releases it when the process dies, so a killed writer
 * never leaves a stale lock, and everyone who takes the same lock file
 * (lock_acquire() included) excludes everyone else.  The file is replaced
 * with fs_write_atomic(), so readers, who take no lock, and a crash see
 * either the old content or the new.
 *
 * A zeroed object (LOCKFILE_INIT) is not held and rolling back one that is
 * not held does nothing, so a cleanup path can always call it:
 *
 *     struct lockfile lf = LOCKFILE_INIT;
 *     if ((err = lockfile_hold(&lf, path, NULL, 30)) < 0)
 *             goto done;
 *     ... read path, put the new content in b ...
 *     err = lockfile_commit(&lf, b.data, b.len, 0644);
 * done:
 *     lockfile_rollback(&lf);
 */
#ifndef SW_LOCKFILE_H
#define SW_LOCKFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "util/lock.h"

struct lockfile {
	char *path;     /* the file it guards (malloc'ed, ours); NULL = not held */
	struct lock lk; /* meaningful only while path is set */
};
#define LOCKFILE_INIT { 0 }

/*
 * Takes the lock that guards path: an flock() on lock_path, or on
 * "<path>.lock" when lock_path is NULL (the lock file and its directories
 * are created), waiting up to wait_sec seconds (0 = do not wait).
 * SW_ELOCKED if it stayed busy; on any failure lf is not held.
 */
int lockfile_hold(struct lockfile *lf, const char *path, const char *lock_path, int wait_sec);

/*
 * Replaces the file with exactly len bytes of data, with mode, atomically and
 * durably (fs_write_atomic()), then lets the lock go, whether or not the
 * write worked.  SW_ERROR if lf is not held.
 */
int lockfile_commit(struct lockfile *lf, const void *data, size_t len, mode_t mode);

/* Lets the lock go and leaves the file as it is; nothing if lf is not held. */
void lockfile_rollback(struct lockfile *lf);

#endif
