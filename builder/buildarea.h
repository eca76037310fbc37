/*
 * buildarea.h - where builds run.
 *
 * Part of builder/: uses util/, store/, exec/ and release/, never hooks/; writes only
 * to the FILE * or callback it is given.
 *
 * A build writes the pushed tree, runs the buildpacks over it and packs it:
 * the directory's filesystem matters more than the compressor (creating and
 * removing 20,000 files on disk costs several times what it costs in RAM).
 *
 * Two settings choose (store/limits.h: the environment, else git config):
 *
 *   - build_dir (SLIPWAY_BUILD_DIR, slipway.buildDir): builds of APP run in
 *     build_dir/APP, always.
 *   - Otherwise, in a tmpfs when it holds the tree comfortably: the tmpfs
 *     (SLIPWAY_TMPFS, slipway.tmpfs; default /dev/shm, "none" turns this
 *     off) has free room
 *     for twice the tree plus 256 MiB, and so has the machine's available
 *     memory.  The area is <tmpfs>/slipway-<uid>/<dev>-<ino>-APP, where dev
 *     and ino (hex) name the root directory, so two roots never share an
 *     area; <tmpfs>/slipway-<uid> must be a directory of ours, mode 0700,
 *     else the tmpfs is not used.
 *   - Else <root>/builds/APP.
 *
 * Whoever holds the app's lock owns its areas: anything there is a killed
 * build's leftover (build_deploy clears them, and removes its area when it
 * is done; gc sweeps them).
 */
#ifndef SW_BUILDAREA_H
#define SW_BUILDAREA_H

#include <stddef.h>
#include <stdint.h>

/*
 * The area for a build of a tree of tree_bytes; malloc'ed path, not created.
 * build_dir and tmpfs are the settings (NULL when not set).
 */
char *buildarea_path(const char *root, const char *app, const char *build_dir,
		     const char *tmpfs, uint64_t tree_bytes);

/*
 * Every area a build of app may have used under these settings and that
 * exists now (build_dir's, the tmpfs one, <root>/builds/APP), for sweeping;
 * *n receives the count.  A malloc'ed NULL-terminated array of malloc'ed
 * paths.
 */
char **buildarea_all(const char *root, const char *app, const char *build_dir,
		     const char *tmpfs, size_t *n);

/*
 * Removes every area of app that exists (buildarea_all()); the caller holds
 * the app's lock.  *removed (may be NULL) is increased by how many were
 * removed.
 */
int buildarea_clear(const char *root, const char *app, const char *build_dir,
		    const char *tmpfs, uint64_t *removed);

/*
 * For gc: clears the areas of every app no build is using right now (its
 * lock is free), under the settings each app has (a malformed setting fails
 * builds, not this: it sweeps with what could be read).  *removed gets the
 * count.
 */
int buildarea_sweep(const char *root, uint64_t *removed);

#endif
