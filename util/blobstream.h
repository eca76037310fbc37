/*
 * blobstream.h - write big git blobs to a file without holding them in memory.
 *
 * Part of util/: includes nothing outside util/; prints nothing.
 *
 * libgit2 1.5 inflates a blob whole (git_blob_lookup), so checking out a
 * 50 MB file costs 50 MB of memory, and it cannot stream packed objects.
 * This module reads the object directories itself: a blob that git stored
 * whole - a non-delta entry of a pack (index version 2) or a loose object -
 * is inflated in small chunks straight into a file descriptor, so the memory
 * a call needs does not grow with the blob.  Anything else (a delta, an
 * object it cannot find) is left to libgit2: the caller falls back.
 *
 *     struct blobstream *bs;
 *     uint64_t size;
 *     if (blobstream_open(&bs, repo) < 0) ...
 *     int r = blobstream_write(bs, oid, 1 << 20, fd, &size);
 *     if (r < 0) ...error...; else if (r == 0) ...use git_blob_lookup...
 *     blobstream_free(bs);
 *
 * Only SHA-1 repositories (20-byte object names, all libgit2 1.5 reads).
 * Everything read from disk is bounds-checked; no size read from disk is
 * ever used to allocate memory.
 */
#ifndef SW_BLOBSTREAM_H
#define SW_BLOBSTREAM_H

#include <git2.h>
#include <stdint.h>

/* Opaque: the pack indexes and loose object directories of one repository. */
struct blobstream;

/*
 * Opens the object directory of repo ("objects/" of its common directory)
 * and, when the environment names one (GIT_OBJECT_DIRECTORY, which git sets
 * to its quarantine in a pre-receive hook), that directory too.  Every
 * .idx file in their pack/ directories is mapped read-only and its .pack
 * opened read-only.
 * Packs whose index is not version 2, or that do not match their index
 * (object count, trailing checksum), or that vanished meanwhile are skipped:
 * libgit2 reads those.  No packs at all is fine.  The repository handle is
 * not kept.  Returns 0 or a negative SW_* code with the message set.
 */
int blobstream_open(struct blobstream **out, git_repository *repo);

/* Unmaps and closes everything; NULL is fine. */
void blobstream_free(struct blobstream *bs);

/*
 * Writes the content of blob id to fd, at its current offset with plain
 * write()s of at most 64 KiB, when git stores it whole (a non-delta pack
 * entry or a loose object) and it is at least min_size bytes.  Returns:
 *   1  written; *size_out (may be NULL) is the number of bytes written;
 *   0  nothing done, nothing written: not found, stored as a delta, not a
 *      blob, or smaller than min_size - read it with libgit2 instead;
 *  <0  an SW_* code with the message set: corrupt data (bad zlib stream,
 *      wrong inflated length, checksum mismatch, offsets outside the
 *      files) or a read or write error.  Part of the blob may have reached
 *      fd by then: the caller throws the file away.
 * Thread-safe: any number of threads may call it on the same blobstream at
 * once (each call has its own buffers and zlib stream, about 170 KiB).
 */
int blobstream_write(struct blobstream *bs, const git_oid *id, uint64_t min_size, int fd,
		     uint64_t *size_out);

#endif
