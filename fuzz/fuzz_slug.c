/*
 * fuzz_slug.c - reading a slug made of arbitrary bytes: the bytes are
 * written to a temp file which slug_list() and slug_stat() read.  Only
 * reading is fuzzed; extraction writes to the filesystem.
 *
 * Random bytes rarely make a valid zstd frame, so an input starting with
 * 'T' has the rest compressed with zstd first: that fuzzes the tar reader
 * behind the decompressor.  Any other input is the slug file as is.
 */
#include "store/slug.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[] = "/tmp/slipway-fuzz-slug-XXXXXX";
static int fd = -1;

static void cleanup(void)
{
	unlink(path);
}

static int visit(const struct slug_entry *e, void *ctx)
{
	size_t *n = ctx;
	/* touch every field the callback gets */
	*n += strlen(e->path) + (e->link ? strlen(e->link) : 0) + e->mode + (size_t)e->size;
	if (!strchr("fdl?", e->type) || e->mode > 07777)
		abort();
	return 0;
}

/* Writes data to fd as one zstd frame (libarchive's raw format). */
static void write_zstd(const uint8_t *data, size_t size)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	if (lseek(fd, 0, SEEK_SET) < 0 || archive_write_add_filter_zstd(a) != ARCHIVE_OK ||
	    archive_write_set_format_raw(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK)
		abort();
	archive_entry_set_pathname(e, "data");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_size(e, (la_int64_t)size);
	if (archive_write_header(a, e) != ARCHIVE_OK ||
	    (size && archive_write_data(a, data, size) != (la_ssize_t)size) ||
	    archive_write_close(a) != ARCHIVE_OK)
		abort();
	archive_entry_free(e);
	archive_write_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fd < 0) {
		fd = mkstemp(path);
		if (fd < 0)
			abort();
		atexit(cleanup);
	}
	if (ftruncate(fd, 0) < 0)
		abort();
	if (size && data[0] == 'T')
		write_zstd(data + 1, size - 1);
	else if (pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	size_t n = 0;
	struct slug_stats st;
	slug_list(path, visit, &n);
	slug_stat(path, &st);
	return 0;
}
