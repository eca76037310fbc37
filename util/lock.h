/*
 * lock.h - per-app writer locks.
 *
 * Part of util/: includes nothing outside util/; prints nothing.
 *
 * An flock() on <root>/locks/<app>.lock: released by the kernel when the
 * process dies, so a killed writer never leaves a stale lock.  Everything
 * that writes an app's ledger holds it; readers never take it.  The lock
 * file and its directories are created; a path ending in '/' names a
 * directory that is locked itself, and must exist (so a lock can guard a
 * directory's files without leaving a file of its own there).
 *
 *     struct lock lk = LOCK_INIT;
 *     if (lock_acquire(&lk, path, 600, on_wait, ctx) < 0) ...;
 *     ... write ...
 *     lock_release(&lk);
 */
#ifndef SW_LOCK_H
#define SW_LOCK_H

struct lock {
	int fd;
};
#define LOCK_INIT { .fd = -1 }

/*
 * Takes the lock, waiting up to wait_sec seconds (0 = do not wait).
 * on_wait (may be NULL) is called once, when the lock is found busy, before
 * waiting.  SW_ELOCKED if it stayed busy.
 */
int lock_acquire(struct lock *lk, const char *path, int wait_sec,
		 void (*on_wait)(void *ctx), void *ctx);

void lock_release(struct lock *lk);

#endif
