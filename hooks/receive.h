/*
 * receive.h - what the git hooks do with the refs a push updated.
 *
 * Part of hooks/: may use every folder but cli/; with cli/ the only one that prints on
 * its own.
 *
 * git runs the hook in the app repository with one "<old> <new> <ref>"
 * line per updated ref on stdin.  Only the deploy branch is built (the
 * app's slipway.branch, else main, else master when that is the branch
 * that exists); other branches, tags and deletions get a note and nothing
 * else.
 */
#ifndef SW_RECEIVE_H
#define SW_RECEIVE_H

#include <stdio.h>

/*
 * Runs post-receive for the repository at git_dir: reads the ref lines from
 * in, builds what needs building, writes everything for the pusher to out.
 * Returns 0 when every build succeeded (or nothing needed building).
 */
int receive_post(FILE *in, FILE *out, const char *git_dir);

/*
 * Runs pre-receive: refuses (returns 1, nothing is updated) a push that
 * touches anything but branches (refs/heads/) and tags (refs/tags/, kept
 * and never built) - the release ledger's refs or any other namespace -
 * naming each refused ref on out.  For an app created
 * with --reject-failed-builds it also builds here, reading the pushed
 * objects from git's quarantine, and a failed build refuses the push
 * (receive_post() then builds nothing).
 */
int receive_pre(FILE *in, FILE *out, const char *git_dir);

#endif
