/*
 * gitlocks.h - lock files git itself left in an app's repository.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * To update a ref, git creates "<ref>.lock" (O_EXCL), writes the new value
 * into it, closes it and renames it over the ref.  A git killed in between
 * (kill -9, the OOM killer, a power cut) leaves the lock file behind, and
 * every later update of that ref waits for it (core.filesRefLockTimeout)
 * and fails.  The files looked at are the ones a push locks:
 * every "*.lock" under refs/heads/, HEAD.lock and packed-refs.lock.
 *
 * A lock file is stale when all of these hold:
 *
 *   - it was last written GITLOCKS_MIN_AGE seconds ago or more (git holds a
 *     ref lock for as long as it takes to write a ref: milliseconds);
 *   - no process has it open (a lock being written is open);
 *   - no git process that could have written it is at work in the
 *     repository: none that started before it was last written (give or
 *     take two seconds) has the repository as its working directory (git
 *     receive-pack, gc and most commands chdir there), apart from this
 *     process's own ancestors and those running a hook of ours (a git in
 *     its pre- or post-receive hook holds no ref lock).  A git that has
 *     closed its lock and not yet renamed it is such a process, so while
 *     one is alive its lock is not called stale; pushes that started after
 *     the lock was left cannot be holding it, and do not keep it.
 *
 * Only processes this one may inspect are seen (those of the same user;
 * pushes all run as the server's user); without /proc nothing is stale.
 */
#ifndef SW_GITLOCKS_H
#define SW_GITLOCKS_H

#include "util/util.h"

#define GITLOCKS_MIN_AGE 10

/* The stale lock files of the repository at git_dir, relative to it ("refs/heads/main.lock"), sorted. */
int gitlocks_find_stale(const char *git_dir, struct strvec *out);

/*
 * Removes the stale lock files (the caller holds the app's lock, so no two
 * of these run at once); the names removed go in removed.
 */
int gitlocks_remove_stale(const char *git_dir, struct strvec *removed);

#endif
