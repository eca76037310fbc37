/*
 * unpack.h - a slug's files on disk, one private copy per run.
 *
 * Part of exec/: uses util/ and store/; writes only to the FILE * or
 * callback it is given.
 *
 * A process sees its slug's shared tree (exec/slugtree.h) at /app through
 * an overlay of its own (exec/overlay.h); here is where that happens, its
 * run directory, and the other way: where no overlay can be mounted, a
 * run gets its own copy of the slug, extracted for that run into <root>/runs/<app>-XXXXXX/app and
 * mounted writable at /app: also lost when the run ends, never seen by
 * another.  A run killed with its writer leaves its directory behind; the
 * app's next writer (who holds the app lock) or gc removes it.
 *
 *     char *run = NULL;
 *     if (unpack_for_run(root, app, hex, &run) < 0) ...;
 *     ... mount <run>/app at /app, run ...
 *     unpack_remove(run);
 *     free(run);
 */
#ifndef SW_UNPACK_H
#define SW_UNPACK_H

#include <stdint.h>

/*
 * Extracts slug `hex` into a fresh <root>/runs/<app>-XXXXXX; its files are
 * in <*run_dir>/app.  The slug is checked against its checksum first
 * (store/cas.h cas_check): SW_ENOTFOUND when it is missing, SW_EINVALID
 * when it is corrupt.  Nothing is left behind on failure.
 */
int unpack_for_run(const char *root, const char *app, const char *hex, char **run_dir);

/*
 * The same for a process instance: <root>/runs/<app>.<label>-XXXXXX
 * (label "web.1"), which unpack_clear() leaves alone: the instance may be
 * running.  *lock_fd holds a lock on it for as long as it is open (close
 * it after unpack_remove()): what gc sweeps is only what no instance
 * holds - the copies of instances that were killed.
 */
int unpack_for_instance(const char *root, const char *app, const char *label, const char *hex,
			char **run_dir, int *lock_fd);

/*
 * An instance's run directory as unpack_for_instance() makes it, locked
 * the same way, but with an empty <*run_dir>/app: its overlay's mount
 * point (exec/overlay.h), in which unpack_copy() can still put a copy.
 * label NULL: a run's directory, as unpack_for_run() names it.
 */
int unpack_run_dir(const char *root, const char *app, const char *label, char **run_dir,
		   int *lock_fd);

/* Extracts slug hex (checked first) into <run_dir>/app, which is missing or empty. */
int unpack_copy(const char *root, const char *hex, const char *run_dir);

/* Removes a run's directory (never follows symlinks). */
int unpack_remove(const char *run_dir);

/*
 * Removes the run directories of app, which must not be running anything:
 * the caller holds its lock.  *removed (may be NULL) is increased.
 */
int unpack_clear(const char *root, const char *app, uint64_t *removed);

/*
 * For gc: the run directories of every app that no writer holds now, the
 * instances' copies that no instance holds, the shared trees no process
 * holds (slugtree_sweep) but those of each app's current release and the
 * one before it (what `rollback` goes back to), and what older versions kept in <root>/unpacked/
 * beside trees/.  *removed gets the count.
 */
int unpack_sweep(const char *root, uint64_t *removed);


#endif
