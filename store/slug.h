/*
 * slug.h - reproducible tar.zst slugs: write a build directory, read one back.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * A slug is a pax (restricted) tar compressed with zstd: level 3, a content
 * checksum, 2 MiB jobs and at least one worker thread, so the bytes do not
 * depend on the core count.  Every
 * entry lives under "./app/" ("./app/" itself first, then its contents in
 * byte-wise sorted path order, depth first: "./app/a/", "./app/a/b",
 * "./app/b").  mtime is fixed (SLUG_MTIME), uid/gid 0, no user or group
 * names, permission bits kept as on disk (mode & 07777), symlinks stored as
 * symlinks with their target text as is, never followed.  Only directories,
 * regular files and symlinks are stored; anything else (fifo, socket,
 * device) is skipped.  The same tree always gives the same bytes.
 *
 * Siblings are sorted with strcmp() and each directory is followed by its
 * contents, so "./app/a/x" comes before "./app/a-b".  Directory names end
 * in '/' (the root is "./app/"), other names never do.  Names are stored as
 * the raw bytes found on disk (a non-ASCII name carries a pax
 * "hdrcharset=BINARY" record), whatever the caller's locale.
 *
 * Memory does not grow with the size of the tree's files: files are
 * streamed in chunks, and zstd's buffers are bounded (about 26 MB with the
 * default thread count).
 */
#ifndef SW_SLUG_H
#define SW_SLUG_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define SLUG_MTIME ((time_t)0)

#define SLUG_SHA256_HEX 64

struct slug_stats {
	uint64_t files;         /* regular files + symlinks stored */
	uint64_t dirs;          /* directories stored (including ./app/) */
	uint64_t bytes_in;      /* sum of regular file sizes */
	uint64_t bytes_out;     /* compressed bytes written */
	char sha256[SLUG_SHA256_HEX + 1]; /* of the bytes written (slug_write only) */
};

struct slug_write_opts {
	int threads;            /* zstd workers; 0 = online CPUs, 1 to 4 */
	int level;              /* zstd level; 0 = 3 */
	uint64_t max_bytes_in;  /* 0 = unlimited; else refuse (SW_EINVALID) once
	                           the uncompressed file bytes exceed it */
	uint64_t max_entries;   /* 0 = unlimited; else refuse (SW_EINVALID) beyond
	                           this many files, symlinks and directories */
};
#define SLUG_WRITE_OPTS_INIT { 0 }

/*
 * Packs the tree at dir into fd (a fresh, empty, writable file; not closed,
 * not fsync'ed).  opts may be NULL.  stats may be NULL.  If fd is a file
 * inside dir it is not packed.  A missing dir is SW_ENOTFOUND, a bad option
 * or a max_bytes_in overrun SW_EINVALID; after any failure fd holds garbage
 * (throw the temp file away) and *stats is zero.
 */
int slug_write(int fd, const char *dir, const struct slug_write_opts *opts,
	       struct slug_stats *stats);

/* One entry as listed by slug_list(); strings valid only during the callback. */
struct slug_entry {
	const char *path;       /* as stored, e.g. "./app/Procfile" */
	char type;              /* 'f' file, 'd' directory, 'l' symlink, '?' other */
	unsigned mode;          /* permission bits (07777) */
	uint64_t size;          /* file size (0 for others) */
	const char *link;       /* symlink target, else NULL */
};

/*
 * Calls fn for each entry of the slug at path, in order; fn returning non-zero
 * stops the walk and that value is returned.  A file that is not a valid
 * tar.zst is SW_EINVALID (also a plain tar, or a truncated slug: fn may have
 * seen the entries before the damage); a missing file is SW_ENOTFOUND.
 * Hard links are reported as type '?'.
 */
int slug_list(const char *path,
	      int (*fn)(const struct slug_entry *e, void *ctx), void *ctx);

/*
 * A slug read entry by entry, with the data of each regular file, for a
 * caller that walks two slugs side by side (store/diff.h):
 *
 *     struct slug_reader *r;
 *     struct slug_entry e;
 *     slug_reader_open(&r, path);
 *     while ((err = slug_reader_next(r, &e)) > 0)
 *             ... slug_reader_data(r, buf, size) while it returns > 0 ...
 *     slug_reader_close(r);
 *
 * slug_reader_next() returns 1 with e filled (its strings valid until the
 * next call), 0 at the end, or a negative code (SW_EINVALID for a damaged
 * slug); the data an entry's caller did not read is skipped.
 * slug_reader_data() fills buf with up to n bytes of the current entry's
 * data: the count (less than n only at the entry's end), 0 at its end, or
 * SW_EINVALID.  Open and close readers in nesting order (last opened,
 * first closed) within one thread.
 */
struct slug_reader;
int slug_reader_open(struct slug_reader **out, const char *path);
int slug_reader_next(struct slug_reader *r, struct slug_entry *e);
int64_t slug_reader_data(struct slug_reader *r, void *buf, size_t n);
void slug_reader_close(struct slug_reader *r);

/*
 * The contents of one regular file of the slug (name as stored, e.g.
 * "./app/app.json") into *out (malloc'ed, NUL-terminated) and *len, read
 * without unpacking the slug.  SW_ENOTFOUND when the slug has no such
 * regular file; SW_EINVALID when it is larger than max.
 */
int slug_read_file(const char *path, const char *name, size_t max, char **out, size_t *len);

/* Totals over a slug: files + symlinks, dirs, uncompressed file bytes (bytes_out unset). */
int slug_stat(const char *path, struct slug_stats *out);

/*
 * Extracts the slug at path into dir (created if missing, must be empty if it
 * exists).  Entry "./app/x" lands at "<dir>/x".  Safe by construction: an
 * entry with an absolute path, a ".." component, or a path that would pass
 * through a symlink (stored or pre-existing) is refused with SW_EINVALID and
 * nothing outside dir is ever written.  Symlinks are created as symlinks and
 * never followed.  Modes are applied (no setuid/setgid bits).
 *
 * Also refused (SW_EINVALID, naming the entry): names outside "./app/",
 * empty or "." components, hard links, devices, fifos and sockets, and a
 * second entry for an existing file or symlink.  Missing parent directories
 * are created 0755.  Ownership and times are not restored.  Directory modes
 * that would lock the owner out are applied last.  A non-empty dir is
 * SW_EEXISTS.  On failure dir may hold part of the tree: remove it.
 */
int slug_extract(const char *path, const char *dir);

#endif
