/*
 * arlib.h - libarchive, loaded the first time a slug is read or written.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * Most commands (releases, rollback, config:set, ...) never open a slug,
 * and loading libarchive with everything it links (libxml2, ICU,
 * libstdc++, nettle, ...) costs about 3 ms of every process start.  So the
 * slug code includes this header instead of <archive.h>: each archive_*
 * function it calls is a pointer that arlib_load() fills in from
 * dlopen(ARLIB_SONAME).  The pointers have the functions' own types
 * (__typeof__), so calls are checked as usual.  Add a function to
 * ARLIB_FUNCS and to the #defines below before using it.
 *
 *     if ((err = arlib_load()) < 0)
 *             return err;
 *     struct archive *a = archive_read_new();   // through the table
 */
#ifndef SW_ARLIB_H
#define SW_ARLIB_H

#include <archive.h>
#include <archive_entry.h>

/* libarchive's ABI name since 3.0 */
#define ARLIB_SONAME "libarchive.so.13"

#define ARLIB_FUNCS(X) \
	X(archive_entry_clear) \
	X(archive_entry_copy_pathname) \
	X(archive_entry_copy_symlink) \
	X(archive_entry_filetype) \
	X(archive_entry_free) \
	X(archive_entry_hardlink) \
	X(archive_entry_new) \
	X(archive_entry_pathname) \
	X(archive_entry_perm) \
	X(archive_entry_set_filetype) \
	X(archive_entry_set_gid) \
	X(archive_entry_set_mtime) \
	X(archive_entry_set_perm) \
	X(archive_entry_set_size) \
	X(archive_entry_set_uid) \
	X(archive_entry_size) \
	X(archive_entry_symlink) \
	X(archive_errno) \
	X(archive_error_string) \
	X(archive_filter_code) \
	X(archive_read_data) \
	X(archive_read_free) \
	X(archive_read_new) \
	X(archive_read_next_header) \
	X(archive_read_open_fd) \
	X(archive_read_support_filter_zstd) \
	X(archive_read_support_format_tar) \
	X(archive_set_error) \
	X(archive_write_close) \
	X(archive_write_data) \
	X(archive_write_fail) \
	X(archive_write_free) \
	X(archive_write_header) \
	X(archive_write_new) \
	X(archive_write_open2) \
	X(archive_write_set_bytes_in_last_block) \
	X(archive_write_set_bytes_per_block) \
	X(archive_write_set_format_pax_restricted)

struct arlib {
#define ARLIB_POINTER(f) __typeof__(f) *f;
	ARLIB_FUNCS(ARLIB_POINTER)
#undef ARLIB_POINTER
};

/* The table; valid once arlib_load() succeeded. */
extern struct arlib arlib;

/* Loads libarchive once per process: 0, or SW_ERROR with the message set. */
int arlib_load(void);

#ifndef ARLIB_IMPLEMENTATION
#define archive_entry_clear (arlib.archive_entry_clear)
#define archive_entry_copy_pathname (arlib.archive_entry_copy_pathname)
#define archive_entry_copy_symlink (arlib.archive_entry_copy_symlink)
#define archive_entry_filetype (arlib.archive_entry_filetype)
#define archive_entry_free (arlib.archive_entry_free)
#define archive_entry_hardlink (arlib.archive_entry_hardlink)
#define archive_entry_new (arlib.archive_entry_new)
#define archive_entry_pathname (arlib.archive_entry_pathname)
#define archive_entry_perm (arlib.archive_entry_perm)
#define archive_entry_set_filetype (arlib.archive_entry_set_filetype)
#define archive_entry_set_gid (arlib.archive_entry_set_gid)
#define archive_entry_set_mtime (arlib.archive_entry_set_mtime)
#define archive_entry_set_perm (arlib.archive_entry_set_perm)
#define archive_entry_set_size (arlib.archive_entry_set_size)
#define archive_entry_set_uid (arlib.archive_entry_set_uid)
#define archive_entry_size (arlib.archive_entry_size)
#define archive_entry_symlink (arlib.archive_entry_symlink)
#define archive_errno (arlib.archive_errno)
#define archive_error_string (arlib.archive_error_string)
#define archive_filter_code (arlib.archive_filter_code)
#define archive_read_data (arlib.archive_read_data)
#define archive_read_free (arlib.archive_read_free)
#define archive_read_new (arlib.archive_read_new)
#define archive_read_next_header (arlib.archive_read_next_header)
#define archive_read_open_fd (arlib.archive_read_open_fd)
#define archive_read_support_filter_zstd (arlib.archive_read_support_filter_zstd)
#define archive_read_support_format_tar (arlib.archive_read_support_format_tar)
#define archive_set_error (arlib.archive_set_error)
#define archive_write_close (arlib.archive_write_close)
#define archive_write_data (arlib.archive_write_data)
#define archive_write_fail (arlib.archive_write_fail)
#define archive_write_free (arlib.archive_write_free)
#define archive_write_header (arlib.archive_write_header)
#define archive_write_new (arlib.archive_write_new)
#define archive_write_open2 (arlib.archive_write_open2)
#define archive_write_set_bytes_in_last_block (arlib.archive_write_set_bytes_in_last_block)
#define archive_write_set_bytes_per_block (arlib.archive_write_set_bytes_per_block)
#define archive_write_set_format_pax_restricted (arlib.archive_write_set_format_pax_restricted)
#endif

#endif
