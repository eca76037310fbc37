/*
 * checkout.h - write a commit's tree into a directory with libgit2.
 *
 * Reads objects straight from the repository (which may be a bare app
 * repository, or git's quarantine during pre-receive when the environment
 * names it) and never touches its refs, index or working tree.  Blobs are
 * written byte for byte (no filters), executables 0755, others 0644,
 * symlinks as symlinks, submodules skipped.  Entries are created relative
 * to directory descriptors opened with O_NOFOLLOW, and names ".", "..",
 * ".git" or containing '/' are refused, so a hostile tree cannot write
 * outside dir.
 */
#ifndef SW_CHECKOUT_H
#define SW_CHECKOUT_H

#include <stdint.h>

struct checkout_stats {
	uint64_t files;
	uint64_t bytes;
};

/*
 * Writes the tree of commit `rev` (40-hex sha) from the repository at
 * repo_path into dir (created if missing; must be empty).  stats may be NULL.
 */
int checkout_commit(const char *repo_path, const char *rev, const char *dir,
		    struct checkout_stats *stats);

#endif
