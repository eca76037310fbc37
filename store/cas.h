/*
 * cas.h - the content-addressed slug store.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * Objects live at <root>/store/sha256/<ab>/<cdef...>.tar.zst, named by the
 * SHA-256 (lowercase hex, 64 chars) of their bytes.  A name in the store is
 * always a complete object: publishing takes a finished temp file and the
 * hash its writer computed over the bytes it wrote, fsyncs it, renames it
 * into place and fsyncs the directory.  Publishing an
 * object that already exists just removes the temp file (dedupe) and leaves
 * the existing object untouched.  Objects are read-only files (mode 0444);
 * directories are created 0755.
 *
 *     int fd; char *tmp;
 *     cas_tmpfile(root, &fd, &tmp);        // temp file inside the store
 *     write the slug to fd, hashing it (cas_hasher) ...
 *     cas_publish_hashed(root, fd, tmp, hex);   // closes fd, consumes tmp
 */
#ifndef SW_CAS_H
#define SW_CAS_H

#include <stddef.h>
#include <stdint.h>

#define CAS_HEX_LEN 64

/*
 * SHA-256 of bytes as they go by, as the store names objects: for a writer
 * that hashes what it writes (see cas_publish_hashed).
 */
struct cas_hasher {
	void *ctx;              /* the hasher's own: cas_hasher_release() frees it */
};
#define CAS_HASHER_INIT { 0 }

/* 0, or SW_ERROR with the message set. */
int cas_hasher_start(struct cas_hasher *h);
int cas_hasher_add(struct cas_hasher *h, const void *data, size_t len);
/* Writes 64 hex chars + NUL; the hasher is then spent (release it). */
int cas_hasher_finish(struct cas_hasher *h, char hex_out[CAS_HEX_LEN + 1]);
void cas_hasher_release(struct cas_hasher *h);

/* Creates a temp file in <root>/store/tmp/ (same filesystem as the objects). */
int cas_tmpfile(const char *root, int *fd_out, char **path_out);

/*
 * Fsyncs the temp file and moves it to its final name, hex: the SHA-256 its
 * writer computed while it wrote the bytes (slug_write() does), trusted, the
 * file is not read back.  Always closes fd and removes the temp file on
 * failure; frees nothing (tmp_path stays the caller's).  SW_EINVALID if hex
 * is not a valid name.
 */
int cas_publish_hashed(const char *root, int fd, const char *tmp_path, const char *hex);

/* malloc'ed path of the object (whether or not it exists); NULL if hex is invalid. */
char *cas_path(const char *root, const char *hex);

/* 1 if hex is 64 lowercase hex characters. */
int cas_valid_hex(const char *hex);

/*
 * 0 if the object exists (size_out may be NULL), SW_ENOTFOUND if not.
 * Here and below, a hex that is not a valid name is refused with SW_EINVALID.
 */
int cas_lookup(const char *root, const char *hex, uint64_t *size_out);

/* Re-hashes the object: 0 if intact, SW_ENOTFOUND if missing, SW_EINVALID if corrupt. */
int cas_verify(const char *root, const char *hex);

/*
 * Like cas_verify(), in milliseconds whatever the object's size: trusts the
 * last verification (or publication) while the object's file is unchanged
 * since - same size, inode, mtime and ctime, recorded in
 * <root>/store/verified/<hex> - and re-hashes it otherwise.  Any write,
 * chmod or touch of the file changes its ctime and forces a re-hash.  Bit
 * rot below the filesystem is left to cas_verify() (fsck).
 */
int cas_check(const char *root, const char *hex);

/* SHA-256 of len bytes at data. */
int cas_hash_data(const void *data, size_t len, char hex_out[CAS_HEX_LEN + 1]);

/* SHA-256 of a file's bytes, streamed. */
int cas_hash_file(const char *path, char hex_out[CAS_HEX_LEN + 1], uint64_t *size_out);

/*
 * Calls fn for every object in the store (hex name and size); non-zero from
 * fn stops and is returned.  Temp files are not listed.
 */
int cas_foreach(const char *root, int (*fn)(const char *hex, uint64_t size, void *ctx), void *ctx);

/* Removes an object (SW_ENOTFOUND if missing). */
int cas_remove(const char *root, const char *hex);

/*
 * Removes temp files in <root>/store/tmp/ whose writer is gone (the writer
 * holds an flock on its temp file until it publishes), counting them.
 */
int cas_sweep_tmp(const char *root, uint64_t *files, uint64_t *bytes);

#endif
