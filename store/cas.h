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
 *
 * Bytes that come from elsewhere under the name they should have (a run
 * host's slug sent by its control or fetched from S3, a standby's mirrored
 * slug) go through cas_store_stream() instead: it hashes them as they
 * arrive, refuses more than a limit and publishes them only when they hash
 * to that name.
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

/*
 * Where cas_store_stream() puts the bytes its source gives: each write is
 * hashed, counted against the limit and written to the temp file.
 */
struct cas_sink;

/*
 * Takes len more bytes: 0, or the refusal (SW_EINVALID over the limit,
 * SW_ERROR when the temp file cannot be written), after which the source
 * stops and returns it.  A void * for libraries that take a callback.
 */
int cas_sink_write(void *sink, const void *data, size_t len);

/*
 * Gives all its bytes to sink (cas_sink_write()) and returns 0, or the
 * first error (the sink's own, or the source's with its message set).
 */
typedef int cas_source_fn(void *ctx, struct cas_sink *sink);

/* A source reading ctx, a FILE *, to its end. */
int cas_source_file(void *ctx, struct cas_sink *sink);

/* What cas_store_stream() stores, and what it did. */
struct cas_stream {
	const char *what;       /* names the bytes in a refusal ("the slug sent"); NULL: "object HEX" */
	uint64_t max;           /* the most bytes taken; 0: the root's slipway.maxSlugSize */
	cas_source_fn *source;  /* the bytes */
	void *ctx;              /* source's */
	int stored;             /* out: 1 if it was stored now, 0 if the store had it already */
	uint64_t size;          /* out: the bytes taken (stored), or the object's size (not) */
};
#define CAS_STREAM_INIT { 0 }

/*
 * Stores the bytes of s->source as the object hex: hashed as they arrive
 * into a temp file of the store, at most s->max of them, fsynced and
 * renamed into place only when they hash to hex.  When the store has hex
 * intact already (cas_check()) the source is not called and nothing
 * changes; an object there that is corrupt is replaced.
 *
 * Errors (nothing stored, no temp file left): SW_EINVALID for a hex that
 * is not a name, for more bytes than the limit ("WHAT is larger than
 * slipway.maxSlugSize (N bytes): nothing was stored") and for bytes that
 * hash to another name ("WHAT is corrupt: its bytes hash to ABC... (nothing
 * was stored)"); the source's own error; SW_ERROR when the store cannot
 * be written.
 */
int cas_store_stream(const char *root, const char *hex, struct cas_stream *s);

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
