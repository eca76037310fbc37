/*
 * unpack.h - a slug's files on disk, one private copy per run.
 *
 * Part of exec/: uses util/ and store/; writes only to the FILE * or
 * callback it is given.
 *
 * The release phase (and every process of the app) gets its own copy of the
 * release's slug, extracted for that run into <root>/runs/<app>-XXXXXX/app
 * (store/paths.h) and mounted writable at /app in its sandbox: what the run
 * changes is lost when it ends and never seen by another run, and nothing
 * accumulates - the copy is removed when the run is over.  A run killed
 * with its writer leaves its directory behind; the app's next writer (who
 * holds the app lock) or gc removes it.
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

/* Removes a run's directory (never follows symlinks). */
int unpack_remove(const char *run_dir);

/*
 * Removes the run directories of app, which must not be running anything:
 * the caller holds its lock.  *removed (may be NULL) is increased.
 */
int unpack_clear(const char *root, const char *app, uint64_t *removed);

/*
 * For gc: the run directories of every app that no writer holds now, the
 * instances' copies that no instance holds, and the shared trees
 * <root>/unpacked/ that older versions kept.  *removed gets the count.
 */
int unpack_sweep(const char *root, uint64_t *removed);

#endif
