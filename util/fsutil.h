/*
 * fsutil.h - small filesystem helpers with crash-safe writes.
 *
 * Part of util/: includes nothing outside util/; prints nothing.
 *
 * Every function returns 0 or a negative sw_code with the message set.
 * fs_write_atomic() is the only way files are replaced: temp file in the
 * same directory, write, fsync, rename over the target, fsync the directory.
 */
#ifndef SW_FSUTIL_H
#define SW_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p; existing directories are fine. */
int fs_mkdir_p(const char *path, mode_t mode);

/* rm -rf; never follows symlinks; a missing path is fine. */
int fs_rm_rf(const char *path);

/* fsync() the directory at path. */
int fs_fsync_dir(const char *path);

/* fsync() the directory that contains path. */
int fs_fsync_parent(const char *path);

/* Replaces path with exactly len bytes of data, atomically and durably. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/*
 * The same without fsync: never half-written, but what a crash may lose -
 * for files rebuilt from the ledger or of no worth after a crash.
 */
int fs_write_replace(const char *path, const void *data, size_t len, mode_t mode);

/*
 * Reads a whole file into *out (NUL-terminated, caller frees) and its length
 * into *len (may be NULL).  Files bigger than max bytes are refused with
 * SW_EINVALID.  A missing file is SW_ENOTFOUND.
 */
int fs_read_file(const char *path, size_t max, char **out, size_t *len);

/*
 * Reads <dir>/<name>, a file from a pushed tree (.buildpacks, .slugignore):
 * SW_ENOTFOUND if it is absent; SW_EINVALID, with a message naming only
 * `name`, if it is not a regular file (a symlink is never followed) or is
 * larger than max bytes.
 */
int fs_read_tree_file(const char *dir, const char *name, size_t max, char **out, size_t *len);

/* Creates a fresh private directory "<parent>/<prefix>XXXXXX"; *out is malloc'ed. */
int fs_mkdtemp(const char *parent, const char *prefix, char **out);

/* 1 if path exists (lstat), else 0. */
int fs_exists(const char *path);

/* 1 if path is a directory (stat), else 0. */
int fs_is_dir(const char *path);

/*
 * Copies the tree at src into dst (created; must not exist), keeping modes
 * and copying symlinks as symlinks (never following them).  Regular files,
 * directories and symlinks only; anything else is skipped.
 */
int fs_copy_tree(const char *src, const char *dst);

/* write() all of it, retrying on EINTR and short writes. */
int fs_write_all(int fd, const void *data, size_t len);

#endif
