/*
 * checkout.h - write a commit's tree into a directory with libgit2.
 *
 * Part of builder/: uses util/, store/, exec/ and release/, never hooks/; writes only
 * to the FILE * or callback it is given.
 *
 * Reads objects straight from the repository (which may be a bare app
 * repository, or git's quarantine during pre-receive when the environment
 * names it) and never touches its refs, index or working tree.  Blobs are
 * written byte for byte (no filters), executables 0755, others 0644,
 * symlinks as symlinks.  Names ".", "..", ".git" or containing '/' are
 * refused before anything is written, so a hostile tree cannot write
 * outside dir.
 *
 * Submodules are checked out like the rest, from the repository the
 * tree's .gitmodules names when the server can read it (submodule.h: a
 * relative URL such as ../otherapp.git, a path or a file:// URL; opened
 * plainly, never through the push's quarantine), recursively, at most
 * SUBMODULE_DEPTH_MAX deep and SUBMODULE_MAX in all.  Their files count in
 * checkout_plan_bytes() and, once written, in every bound of the build
 * directory and the slug.  A submodule that is not in .gitmodules, whose
 * URL is not reachable, or whose commit is not in its repository fails the
 * plan with a message naming it.
 *
 * Two steps: checkout_plan() walks the tree (every name checked, every
 * blob's size read from its object header; the packs opened for streaming)
 * and checkout_write() creates the directories, then writes the files with
 * several threads: streamed files first, biggest first, then the rest in
 * tree order.
 * Every path below dir is a directory the writer created itself; leaves are
 * opened O_EXCL | O_NOFOLLOW.  Blobs of 1 MiB or more that git stores whole
 * are streamed (store/blobstream.h): memory does not grow with file size.
 */
#ifndef SW_CHECKOUT_H
#define SW_CHECKOUT_H

#include <stdint.h>

struct checkout_stats {
	uint64_t files;
	uint64_t bytes;
};

struct checkout_plan;

/*
 * Plans the checkout of commit `rev` (40-hex sha) from the repository at
 * repo_path, an app of root pushed by user (NULL: the server's own account;
 * submodule_allowed() says which submodules it may read).
 */
int checkout_plan(const char *repo_path, const char *rev, const char *root, const char *user,
		  struct checkout_plan **out);

/* Sum of the sizes of the plan's files (what the tree needs on disk, roughly). */
uint64_t checkout_plan_bytes(const struct checkout_plan *p);

/*
 * Writes the planned tree into dir (created if missing; must be empty).
 * threads: writers, 0 = one per online CPU (at most 8).  stats may be NULL.
 */
int checkout_write(const struct checkout_plan *p, const char *dir, int threads,
		   struct checkout_stats *stats);

void checkout_plan_free(struct checkout_plan *p);

#endif
