/*
 * slugtree.h - a slug's files, extracted once, shared read-only by every
 * process that runs it.
 *
 * Part of exec/: uses util/ and store/; prints nothing.
 *
 * Slug hex's tree is <root>/unpacked/trees/<hex> (store/paths.h).  It is
 * made the first time a process asks for it, and nothing writes it after
 * that: processes see it at /app through an overlay of their own
 * (exec/overlay.h).  A tree under that name is always whole - it is
 * extracted into a temp directory beside it (".tmp-<hex>-XXXXXX") that is
 * renamed into place once complete and on disk - and a process that holds
 * it keeps gc from removing it:
 *
 *     char *tree; int fd;
 *     if (slugtree_open(root, hex, &tree, &fd) < 0) ...;
 *     ... tree is the overlay's lower directory ...
 *     close(fd);     // gc may remove it now, unless another process holds it
 *     free(tree);
 */
#ifndef SW_SLUGTREE_H
#define SW_SLUGTREE_H

#include <stdint.h>

#include "util/util.h"

/*
 * *tree = slug hex's tree, extracted now if it is missing - the slug
 * checked against its checksum first (store/cas.h cas_check: SW_ENOTFOUND
 * when it is missing, SW_EINVALID when it is corrupt); two processes asking
 * at once extract it once (the second waits for the first, under
 * <hex>.lock).  The files keep the slug's modes: what an app sees at /app
 * is what a copy showed.  *lock_fd holds a shared lock on the tree for as
 * long as it is open.  No tree or temp directory is left behind on
 * failure (the lock file stays, for gc).
 */
int slugtree_open(const char *root, const char *hex, char **tree, int *lock_fd);

/*
 * For gc: removes the trees no process holds (renamed away first, so no
 * half tree keeps a tree's name) but the whole ones of the slugs in keep
 * (sorted; may be NULL), their lock files, and what extractions that were killed left.
 * *removed is increased by the trees and temp directories removed.  0.
 */
int slugtree_sweep(const char *root, const struct strvec *keep, uint64_t *removed);

/*
 * For fsck: one line appended to problems for each tree that differs from
 * its slug (an entry missing, of another type or size, or one more) and
 * each half-extracted one no extraction holds.  Changes nothing; 0.
 */
int slugtree_fsck(const char *root, struct strvec *problems);

#endif
