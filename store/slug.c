#define _GNU_SOURCE
#include "store/slug.h"

#include "util/error.h"
#include "util/fsutil.h"
#include "util/syncer.h"
#include "util/util.h"

#include "store/arlib.h"
#include "store/cas.h"

#include <zstd.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SLUG_ROOT "./app/"
#define SLUG_ROOT_LEN 6
#define SLUG_CHUNK (256 * 1024)
/*
 * zstd job size: each worker compresses 2 MiB at a time.  zstd's default
 * for level 3 is 8 MiB, and it keeps about (2 * workers + 5) jobs' worth of
 * buffers: 76 MB with two workers.  2 MiB jobs and at most 4 workers (by
 * default) bound that near 26 MB on any machine, for 1.3% more bytes.
 * Part of the slug format: changing it changes every slug's bytes.
 */
#define SLUG_ZSTD_JOB (2 << 20)
#define SLUG_TAR_BLOCK (64 * 1024)
#define SLUG_DEFAULT_THREADS_MAX 4

static const char *ar_error(struct archive *a)
{
	const char *s = a ? archive_error_string(a) : NULL;
	return s ? s : "unknown error";
}

/* ar_error() plus the system's reason ("Write error (File too large)"), for writes. */
static const char *ar_write_error(struct archive *a)
{
	static char msg[512];
	int e = a ? archive_errno(a) : 0;
	if (e <= 0 || strstr(ar_error(a), strerror(e)))
		return ar_error(a);
	snprintf(msg, sizeof(msg), "%s (%s)", ar_error(a), strerror(e));
	return msg;
}

/*
 * libarchive converts names through the current locale; the C locale makes
 * every non-ASCII name travel as raw bytes, whatever locale the caller uses.
 */
struct c_locale {
	locale_t c, old;
};

static void c_locale_enter(struct c_locale *l)
{
	l->c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	l->old = l->c ? uselocale(l->c) : (locale_t)0;
}

/* Back to the caller's locale while its callback runs, and again. */
static void c_locale_pause(struct c_locale *l, int pause)
{
	if (l->c)
		uselocale(pause ? l->old : l->c);
}

static void c_locale_leave(struct c_locale *l)
{
	if (!l->c)
		return;
	uselocale(l->old);
	freelocale(l->c);
}

/* ---- writing ---- */

_Static_assert(SLUG_SHA256_HEX == CAS_HEX_LEN, "a slug's hash is its name in the store");

/* The compressed side: tar bytes in, zstd frame out to fd, hashed as written. */
struct zout {
	ZSTD_CCtx *z;
	struct cas_hasher md;
	int fd;
	unsigned char *buf;
	size_t cap;
	uint64_t bytes;
	struct syncer sync;     /* a file's bytes synced as they are written */
};

struct packer {
	struct archive *a;
	struct zout zo;
	struct archive_entry *e;
	const char *dir;        /* the tree, for messages */
	struct buf path;        /* name of the entry being written */
	char *chunk;
	struct stat out;        /* the slug file itself: never packed */
	uint64_t max_in;
	uint64_t max_entries;
	struct slug_stats st;
};

/* The entry being written, relative to the tree (for messages). */
static const char *rel(const struct packer *p)
{
	return p->path.data + SLUG_ROOT_LEN;
}

static int put_header(struct packer *p, mode_t type, mode_t perm, int64_t size,
		      const char *link)
{
	struct archive_entry *e = p->e;

	if (p->max_entries && p->st.files + p->st.dirs >= p->max_entries)
		return sw_error_set(SW_EINVALID, "slug has more than the limit of %llu files and "
				    "directories", (unsigned long long)p->max_entries);
	archive_entry_clear(e);
	archive_entry_copy_pathname(e, p->path.data);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm & 07777);
	archive_entry_set_size(e, size);
	archive_entry_set_mtime(e, SLUG_MTIME, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	if (link)
		archive_entry_copy_symlink(e, link);
	if (archive_write_header(p->a, e) < ARCHIVE_WARN)
		return sw_error_set(SW_ERROR, "cannot add '%s/%s' to the slug: %s",
				    p->dir, rel(p), ar_error(p->a));
	return 0;
}

static int copy_data(struct packer *p, int fd, uint64_t size)
{
	while (size > 0) {
		size_t want = size < SLUG_CHUNK ? (size_t)size : SLUG_CHUNK;
		ssize_t n = read(fd, p->chunk, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sw_error_errno(SW_ERROR, "cannot read '%s/%s'", p->dir, rel(p));
		if (n == 0)
			return sw_error_set(SW_ERROR, "'%s/%s' shrank while it was packed",
					    p->dir, rel(p));
		if (archive_write_data(p->a, p->chunk, (size_t)n) != n)
			return sw_error_set(SW_ERROR, "cannot write the slug of '%s': %s",
					    p->dir, ar_write_error(p->a));
		size -= (uint64_t)n;
	}
	return 0;
}

static int is_output(const struct packer *p, const struct stat *st)
{
	return S_ISREG(p->out.st_mode) && st->st_dev == p->out.st_dev &&
	       st->st_ino == p->out.st_ino;
}

static int pack_file(struct packer *p, int dfd, const char *name)
{
	struct stat st;
	int err = 0;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return sw_error_errno(SW_ERROR, "cannot open '%s/%s'", p->dir, rel(p));
	if (fstat(fd, &st) < 0) {
		err = sw_error_errno(SW_ERROR, "cannot stat '%s/%s'", p->dir, rel(p));
		goto done;
	}
	if (!S_ISREG(st.st_mode) || is_output(p, &st))
		goto done;
	if (p->max_in && p->st.bytes_in + (uint64_t)st.st_size > p->max_in) {
		err = sw_error_set(SW_EINVALID,
				   "slug is larger than the limit (%llu bytes of files)",
				   (unsigned long long)p->max_in);
		goto done;
	}
	if ((err = put_header(p, AE_IFREG, st.st_mode, st.st_size, NULL)) < 0 ||
	    (err = copy_data(p, fd, (uint64_t)st.st_size)) < 0)
		goto done;
	p->st.files++;
	p->st.bytes_in += (uint64_t)st.st_size;
done:
	close(fd);
	return err;
}

/* readlinkat() into a malloc'ed, NUL-terminated string; -1 with errno. */
static int read_link(int dfd, const char *name, size_t hint, char **out)
{
	size_t cap = hint < 255 ? 256 : hint + 1;

	for (;;) {
		char *t = xmalloc(cap);
		ssize_t n = readlinkat(dfd, name, t, cap);

		if (n >= 0 && (size_t)n < cap) {
			t[n] = '\0';
			*out = t;
			return 0;
		}
		free(t);
		if (n < 0)
			return -1;
		cap *= 2;
	}
}

static int pack_symlink(struct packer *p, int dfd, const char *name,
			const struct stat *st)
{
	char *target = NULL;
	int err;

	if (read_link(dfd, name, (size_t)st->st_size, &target) < 0)
		return sw_error_errno(SW_ERROR, "cannot read link '%s/%s'", p->dir, rel(p));
	err = put_header(p, AE_IFLNK, st->st_mode, 0, target);
	if (!err)
		p->st.files++;
	free(target);
	return err;
}

static int pack_dir(struct packer *p, int fd);

static int pack_subdir(struct packer *p, int dfd, const char *name)
{
	struct stat st;
	int err = 0;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return sw_error_errno(SW_ERROR, "cannot open directory '%s/%s'", p->dir, rel(p));
	if (fstat(fd, &st) < 0) {
		err = sw_error_errno(SW_ERROR, "cannot stat '%s/%s'", p->dir, rel(p));
		goto done;
	}
	buf_adds(&p->path, "/");
	if ((err = put_header(p, AE_IFDIR, st.st_mode, 0, NULL)) < 0)
		goto done;
	p->st.dirs++;
	err = pack_dir(p, fd);
done:
	close(fd);
	return err;
}

static int pack_entry(struct packer *p, int dfd, const char *name)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return sw_error_errno(SW_ERROR, "cannot stat '%s/%s'", p->dir, rel(p));
	if (S_ISREG(st.st_mode))
		return is_output(p, &st) ? 0 : pack_file(p, dfd, name);
	if (S_ISDIR(st.st_mode))
		return pack_subdir(p, dfd, name);
	if (S_ISLNK(st.st_mode))
		return pack_symlink(p, dfd, name, &st);
	return 0; /* fifo, socket, device: never stored */
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in the directory fd (not "." or ".."), sorted byte-wise. */
static int list_names(struct packer *p, int fd, struct strvec *names)
{
	struct dirent *de;
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup_fd < 0 ? NULL : fdopendir(dup_fd);

	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return sw_error_errno(SW_ERROR, "cannot read directory '%s/%s'", p->dir, rel(p));
	}
	errno = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strvec_push(names, de->d_name);
		errno = 0;
	}
	int err = errno ? sw_error_errno(SW_ERROR, "cannot read directory '%s/%s'",
					 p->dir, rel(p)) : 0;
	closedir(d);
	if (!err && names->n)
		qsort(names->v, names->n, sizeof(*names->v), cmp_names);
	return err;
}

/* Packs the contents of the directory fd; p->path is its name, ending in '/'. */
static int pack_dir(struct packer *p, int fd)
{
	struct strvec names = STRVEC_INIT;
	size_t base = p->path.len;
	int err = list_names(p, fd, &names);

	for (size_t i = 0; !err && i < names.n; i++) {
		buf_adds(&p->path, names.v[i]);
		err = pack_entry(p, fd, names.v[i]);
		p->path.len = base;
		p->path.data[base] = '\0';
	}
	strvec_clear(&names);
	return err;
}

/* Writes out the n bytes zstd produced and adds them to the hash. */
static int zout_flush(struct archive *a, struct zout *zo, size_t n)
{
	if (fs_write_all(zo->fd, zo->buf, n) < 0) {
		archive_set_error(a, errno, "Write error");
		return -1;
	}
	if (cas_hasher_add(&zo->md, zo->buf, n) < 0) {
		archive_set_error(a, -1, "%s", sw_error_last());
		return -1;
	}
	zo->bytes += n;
	syncer_wrote(&zo->sync, zo->bytes);
	return 0;
}

/* Runs zstd over the input until it is consumed (ZSTD_e_end: until the frame ends). */
static int zout_feed(struct archive *a, struct zout *zo, const void *data, size_t len,
		     ZSTD_EndDirective op)
{
	ZSTD_inBuffer in = { data, len, 0 };
	for (;;) {
		ZSTD_outBuffer out = { zo->buf, zo->cap, 0 };
		size_t left = ZSTD_compressStream2(zo->z, &out, &in, op);
		if (ZSTD_isError(left)) {
			archive_set_error(a, -1, "zstd: %s", ZSTD_getErrorName(left));
			return -1;
		}
		if (out.pos && zout_flush(a, zo, out.pos) < 0)
			return -1;
		if (op == ZSTD_e_end ? left == 0 : in.pos == in.size)
			return 0;
	}
}

static la_ssize_t zout_write(struct archive *a, void *ctx, const void *data, size_t len)
{
	return zout_feed(a, ctx, data, len, ZSTD_e_continue) < 0 ? -1 : (la_ssize_t)len;
}

static void zout_release(struct zout *zo)
{
	syncer_finish(&zo->sync);
	ZSTD_freeCCtx(zo->z);
	cas_hasher_release(&zo->md);
	free(zo->buf);
	memset(zo, 0, sizeof(*zo));
}

static int zout_init(struct zout *zo, int fd, int threads, int level)
{
	ZSTD_bounds lv = ZSTD_cParam_getBounds(ZSTD_c_compressionLevel);

	struct stat st;
	zo->fd = fd;
	/* a pipe has nothing to sync: the syncer never starts */
	syncer_init(&zo->sync, fd, fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? 0 : UINT64_MAX);
	if (ZSTD_isError(lv.error) || level < lv.lowerBound || level > lv.upperBound)
		return sw_error_set(SW_EINVALID, "invalid zstd level %d (%d to %d)", level,
				    lv.lowerBound, lv.upperBound);
	if (!(zo->z = ZSTD_createCCtx()))
		return sw_error_set(SW_ERROR, "cannot set up the slug compressor");
	if (cas_hasher_start(&zo->md) < 0)
		return SW_ERROR;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(zo->z, ZSTD_c_nbWorkers, threads)))
		return sw_error_set(SW_EINVALID, "invalid zstd thread count %d", threads);
	if (ZSTD_isError(ZSTD_CCtx_setParameter(zo->z, ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(zo->z, ZSTD_c_jobSize, SLUG_ZSTD_JOB)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(zo->z, ZSTD_c_checksumFlag, 1)))
		return sw_error_set(SW_ERROR, "cannot set up the slug compressor");
	zo->cap = ZSTD_CStreamOutSize();
	zo->buf = xmalloc(zo->cap);
	return 0;
}

static int open_writer(struct packer *p, int fd, int threads, int level)
{
	int err = zout_init(&p->zo, fd, threads, level);
	if (err < 0)
		return err;
	if (!(p->a = archive_write_new()))
		return sw_error_set(SW_ERROR, "cannot create the slug writer");
	if (archive_write_set_format_pax_restricted(p->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(p->a, SLUG_TAR_BLOCK) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(p->a, 1) != ARCHIVE_OK)
		return sw_error_set(SW_ERROR, "cannot set up the slug writer: %s",
				    ar_error(p->a));
	if (archive_write_open2(p->a, &p->zo, NULL, zout_write, NULL, NULL) != ARCHIVE_OK)
		return sw_error_set(SW_ERROR, "cannot write the slug of '%s': %s",
				    p->dir, ar_write_error(p->a));
	return 0;
}

static int write_opts(const struct slug_write_opts *opts, int *threads, int *level)
{
	*threads = opts ? opts->threads : 0;
	*level = opts && opts->level ? opts->level : 3;
	if (*threads < 0)
		return sw_error_set(SW_EINVALID, "invalid zstd thread count %d", *threads);
	if (*threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		*threads = n < 1 ? 1 : n > SLUG_DEFAULT_THREADS_MAX ? SLUG_DEFAULT_THREADS_MAX : (int)n;
	}
	if (*threads > 256)
		return sw_error_set(SW_EINVALID, "invalid zstd thread count %d", *threads);
	return 0;
}

static int pack_tree(struct packer *p, int fd, int threads, int level)
{
	struct stat st;
	int err;
	int dfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return sw_error_errno(errno == ENOENT ? SW_ENOTFOUND : SW_ERROR,
				      "cannot open directory '%s'", p->dir);
	if (fstat(dfd, &st) < 0) {
		err = sw_error_errno(SW_ERROR, "cannot stat '%s'", p->dir);
		goto done;
	}
	if ((err = open_writer(p, fd, threads, level)) < 0)
		goto done;
	buf_adds(&p->path, SLUG_ROOT);
	if ((err = put_header(p, AE_IFDIR, st.st_mode, 0, NULL)) < 0)
		goto done;
	p->st.dirs++;
	if ((err = pack_dir(p, dfd)) < 0)
		goto done;
	/*
	 * The frame is ended here, not in a close callback: libarchive ignores
	 * what a close callback returns, and the end of the frame is most of
	 * the output of a small slug.
	 */
	if (archive_write_close(p->a) != ARCHIVE_OK ||
	    zout_feed(p->a, &p->zo, NULL, 0, ZSTD_e_end) < 0) {
		err = sw_error_set(SW_ERROR, "cannot write the slug of '%s': %s",
				   p->dir, ar_write_error(p->a));
		goto done;
	}
	p->st.bytes_out = p->zo.bytes;
	if ((err = syncer_finish(&p->zo.sync)) < 0) {
		err = sw_error_set(SW_ERROR, "cannot write the slug of '%s': %s", p->dir,
				   strerror(-err));
		goto done;
	}
	err = cas_hasher_finish(&p->zo.md, p->st.sha256);
done:
	close(dfd);
	return err;
}

int slug_write(int fd, const char *dir, const struct slug_write_opts *opts,
	       struct slug_stats *stats)
{
	struct packer p = { .dir = dir, .path = BUF_INIT };
	struct c_locale loc;
	int threads, level, err;

	if (stats)
		memset(stats, 0, sizeof(*stats));
	if ((err = write_opts(opts, &threads, &level)) < 0 || (err = arlib_load()) < 0)
		return err;
	if (fstat(fd, &p.out) < 0)
		return sw_error_errno(SW_ERROR, "cannot write the slug of '%s'", dir);
	p.max_in = opts ? opts->max_bytes_in : 0;
	p.max_entries = opts ? opts->max_entries : 0;
	p.e = archive_entry_new();
	p.chunk = xmalloc(SLUG_CHUNK);
	c_locale_enter(&loc);
	err = pack_tree(&p, fd, threads, level);
	c_locale_leave(&loc);
	/* also on failure: archive_write_fail() would leak the fd writer's buffer */
	archive_write_free(p.a);
	zout_release(&p.zo);
	archive_entry_free(p.e);
	free(p.chunk);
	buf_release(&p.path);
	if (!err && stats)
		*stats = p.st;
	return err;
}

/* ---- reading ---- */

struct reader {
	struct archive *a;
	int fd;
	const char *path;
	struct c_locale loc;
};

static int reader_open(struct reader *r, const char *path)
{
	int err;

	r->path = path;
	r->a = NULL;
	r->fd = -1;
	c_locale_enter(&r->loc);
	if ((err = arlib_load()) < 0)
		return err;
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return sw_error_errno(errno == ENOENT ? SW_ENOTFOUND : SW_ERROR,
				      "cannot open slug '%s'", path);
	if (!(r->a = archive_read_new()))
		return sw_error_set(SW_ERROR, "cannot create the slug reader");
	if (archive_read_support_filter_zstd(r->a) != ARCHIVE_OK ||
	    archive_read_support_format_tar(r->a) != ARCHIVE_OK)
		return sw_error_set(SW_ERROR, "cannot set up the slug reader: %s",
				    ar_error(r->a));
	if (archive_read_open_fd(r->a, r->fd, SLUG_CHUNK) != ARCHIVE_OK)
		return sw_error_set(SW_EINVALID, "'%s' is not a valid slug: %s",
				    path, ar_error(r->a));
	if (archive_filter_code(r->a, 0) != ARCHIVE_FILTER_ZSTD)
		return sw_error_set(SW_EINVALID, "'%s' is not a valid slug: not zstd-compressed",
				    path);
	return 0;
}

/* 1 with *e set, 0 at the end of the slug, or a negative code. */
static int reader_next(struct reader *r, struct archive_entry **e)
{
	int rc = archive_read_next_header(r->a, e);

	if (rc == ARCHIVE_EOF)
		return 0;
	if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
		return sw_error_set(SW_EINVALID, "'%s' is not a valid slug: %s",
				    r->path, ar_error(r->a));
	return 1;
}

static void reader_close(struct reader *r)
{
	if (r->a)
		archive_read_free(r->a);
	if (r->fd >= 0)
		close(r->fd);
	c_locale_leave(&r->loc);
}

static void entry_fill(struct slug_entry *e, struct archive_entry *ae)
{
	const char *path = archive_entry_pathname(ae);

	memset(e, 0, sizeof(*e));
	e->path = path ? path : "";
	e->mode = archive_entry_perm(ae) & 07777;
	e->type = '?';
	if (archive_entry_hardlink(ae))
		return;
	switch (archive_entry_filetype(ae)) {
	case AE_IFREG:
		e->type = 'f';
		e->size = (uint64_t)archive_entry_size(ae);
		break;
	case AE_IFDIR:
		e->type = 'd';
		break;
	case AE_IFLNK:
		e->type = 'l';
		e->link = archive_entry_symlink(ae);
		if (!e->link)
			e->link = "";
		break;
	}
}

int slug_list(const char *path,
	      int (*fn)(const struct slug_entry *e, void *ctx), void *ctx)
{
	struct reader r;
	struct archive_entry *ae;
	struct slug_entry e;
	int err;

	if ((err = reader_open(&r, path)) < 0)
		goto done;
	while ((err = reader_next(&r, &ae)) > 0) {
		entry_fill(&e, ae);
		c_locale_pause(&r.loc, 1);
		err = fn(&e, ctx);
		c_locale_pause(&r.loc, 0);
		if (err != 0)
			goto done;
	}
done:
	reader_close(&r);
	return err;
}

struct slug_reader {
	struct reader r;
};

int slug_reader_open(struct slug_reader **out, const char *path)
{
	struct slug_reader *sr = xcalloc(1, sizeof(*sr));
	int err = reader_open(&sr->r, path);
	if (err < 0) {
		slug_reader_close(sr);
		sr = NULL;
	}
	*out = sr;
	return err;
}

int slug_reader_next(struct slug_reader *sr, struct slug_entry *e)
{
	struct archive_entry *ae;
	int rc = reader_next(&sr->r, &ae);
	if (rc > 0)
		entry_fill(e, ae);
	return rc;
}

int64_t slug_reader_data(struct slug_reader *sr, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		la_ssize_t k = archive_read_data(sr->r.a, (char *)buf + got, n - got);
		if (k < 0)
			return sw_error_set(SW_EINVALID, "'%s' is not a valid slug: %s", sr->r.path,
					    ar_error(sr->r.a));
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (int64_t)got;
}

void slug_reader_close(struct slug_reader *sr)
{
	if (!sr)
		return;
	reader_close(&sr->r);
	free(sr);
}

int slug_read_file(const char *path, const char *name, size_t max, char **out, size_t *len)
{
	struct reader r;
	struct archive_entry *ae;
	int err;

	*out = NULL;
	*len = 0;
	if ((err = reader_open(&r, path)) < 0)
		goto done;
	while ((err = reader_next(&r, &ae)) > 0) {
		if (strcmp(archive_entry_pathname(ae), name) || archive_entry_filetype(ae) != AE_IFREG)
			continue;
		la_int64_t size = archive_entry_size(ae);
		if (size < 0 || (uint64_t)size > max) {
			err = sw_error_set(SW_EINVALID, "%s is larger than %zu bytes", name + 6, max);
			goto done;
		}
		struct buf b = BUF_INIT;
		char chunk[16384];
		la_ssize_t n;
		while ((n = archive_read_data(r.a, chunk, sizeof(chunk))) > 0 && b.len + (size_t)n <= max)
			buf_add(&b, chunk, (size_t)n);
		if (n < 0 || n > 0) {
			buf_release(&b);
			err = n < 0 ? sw_error_set(SW_EINVALID, "cannot read %s from the slug: %s", name,
						   ar_error(r.a))
				    : sw_error_set(SW_EINVALID, "%s is larger than %zu bytes", name + 6, max);
			goto done;
		}
		*len = b.len;
		*out = buf_detach(&b);
		err = 0;
		goto done;
	}
	if (err == 0)
		err = sw_error_set(SW_ENOTFOUND, "the slug has no %s", name);
done:
	reader_close(&r);
	return err;
}

static int stat_one(const struct slug_entry *e, void *ctx)
{
	struct slug_stats *st = ctx;

	if (e->type == 'f' || e->type == 'l')
		st->files++;
	else if (e->type == 'd')
		st->dirs++;
	st->bytes_in += e->size;
	return 0;
}

int slug_stat(const char *path, struct slug_stats *out)
{
	memset(out, 0, sizeof(*out));
	return slug_list(path, stat_one, out);
}

/* ---- extracting ---- */

struct dir_mode {
	char *rel;              /* "" for the root */
	unsigned mode;
};

struct extractor {
	struct reader r;
	int root;               /* the target directory */
	const char *name;       /* entry being extracted, as stored */
	char *chunk;
	struct dir_mode *later; /* modes applied at the end (no owner rwx) */
	size_t n_later, cap_later;
	char *parent;           /* the last entry's parent directory (rel), NULL: none */
	int parent_fd;          /* open on it: a slug lists a directory's entries together */
};

static int unsafe(struct extractor *x, const char *why)
{
	return sw_error_set(SW_EINVALID, "slug '%s' has an unsafe entry '%s' (%s)",
			    x->r.path, x->name, why);
}

/*
 * The entry name without "./app/" and trailing '/' ("" for the root) in *out,
 * or SW_EINVALID: every component must be a plain name (no "", ".", "..").
 */
static int clean_name(struct extractor *x, char **out)
{
	const char *n = x->name;
	char *rel, *s;
	size_t len;

	*out = NULL;
	if (!strcmp(n, "./app") || !strcmp(n, SLUG_ROOT)) {
		*out = xstrdup("");
		return 0;
	}
	if (strncmp(n, SLUG_ROOT, SLUG_ROOT_LEN))
		return unsafe(x, "outside ./app/");
	rel = xstrdup(n + SLUG_ROOT_LEN);
	len = strlen(rel);
	if (len && rel[len - 1] == '/')
		rel[--len] = '\0';
	for (s = rel;; ) {
		size_t c = strcspn(s, "/");
		if (c == 0 || (c == 1 && s[0] == '.') ||
		    (c == 2 && s[0] == '.' && s[1] == '.')) {
			free(rel);
			return unsafe(x, "empty, '.' or '..' component");
		}
		if (!s[c])
			break;
		s += c + 1;
	}
	*out = rel;
	return 0;
}

/* Opens directory name in dfd, never through a symlink; creates it when asked. */
static int open_dir_at(struct extractor *x, int dfd, const char *name, int create,
		       int *out)
{
	if (create && mkdirat(dfd, name, 0755) < 0 && errno != EEXIST)
		return sw_error_errno(SW_ERROR, "cannot create the directory of '%s'", x->name);
	*out = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*out >= 0)
		return 0;
	if (errno == ELOOP || errno == ENOTDIR)
		return unsafe(x, "its path passes through a symlink or a file");
	return sw_error_errno(SW_ERROR, "cannot open the directory of '%s'", x->name);
}

/*
 * Walks rel from the root component by component: *pfd is the directory
 * holding the last component, *leaf that component (inside rel).
 */
static int walk_parent(struct extractor *x, char *rel, int create, int *pfd,
		       const char **leaf)
{
	int fd = fcntl(x->root, F_DUPFD_CLOEXEC, 0);
	char *s = rel, *slash;
	int err = 0;

	if (fd < 0)
		return sw_error_errno(SW_ERROR, "cannot extract '%s'", x->name);
	while ((slash = strchr(s, '/'))) {
		int next;
		*slash = '\0';
		err = open_dir_at(x, fd, s, create, &next);
		*slash = '/';
		close(fd);
		if (err)
			return err;
		fd = next;
		s = slash + 1;
	}
	*pfd = fd;
	*leaf = s;
	return 0;
}

static void remember_mode(struct extractor *x, const char *rel, unsigned mode)
{
	if (x->n_later == x->cap_later) {
		x->cap_later = x->cap_later ? 2 * x->cap_later : 16;
		x->later = xrealloc(x->later, x->cap_later * sizeof(*x->later));
	}
	x->later[x->n_later].rel = xstrdup(rel);
	x->later[x->n_later].mode = mode;
	x->n_later++;
}

/* fchmod() a directory now, or later if the mode would lock us out of it. */
static int set_dir_mode(struct extractor *x, int fd, const char *rel, unsigned mode)
{
	mode &= 01777;
	if ((mode & 0700) != 0700) {
		remember_mode(x, rel, mode);
		mode |= 0700;
	}
	if (fchmod(fd, mode) < 0)
		return sw_error_errno(SW_ERROR, "cannot set the mode of '%s'", x->name);
	return 0;
}

static int make_dir(struct extractor *x, int pfd, const char *leaf, const char *rel,
		    unsigned mode)
{
	int fd, err;

	if (!*rel)
		return set_dir_mode(x, x->root, rel, mode);
	if ((err = open_dir_at(x, pfd, leaf, 1, &fd)) < 0)
		return err;
	err = set_dir_mode(x, fd, rel, mode);
	close(fd);
	return err;
}

static int make_file(struct extractor *x, int pfd, const char *leaf, unsigned mode)
{
	int err = 0;
	int fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return errno == EEXIST ? unsafe(x, "it already exists")
				       : sw_error_errno(SW_ERROR, "cannot create '%s'", x->name);
	for (;;) {
		la_ssize_t n = archive_read_data(x->r.a, x->chunk, SLUG_CHUNK);
		if (n == 0)
			break;
		if (n < 0) {
			err = sw_error_set(SW_EINVALID, "'%s' is not a valid slug: %s",
					   x->r.path, ar_error(x->r.a));
			goto done;
		}
		if (fs_write_all(fd, x->chunk, (size_t)n) < 0) {
			err = sw_error_errno(SW_ERROR, "cannot write '%s'", x->name);
			goto done;
		}
	}
	if (fchmod(fd, mode & 0777) < 0)
		err = sw_error_errno(SW_ERROR, "cannot set the mode of '%s'", x->name);
done:
	if (close(fd) < 0 && !err)
		err = sw_error_errno(SW_ERROR, "cannot write '%s'", x->name);
	return err;
}

static int make_symlink(struct extractor *x, int pfd, const char *leaf, const char *target)
{
	if (!target || !*target)
		return unsafe(x, "symlink without a target");
	if (symlinkat(target, pfd, leaf) == 0)
		return 0;
	return errno == EEXIST ? unsafe(x, "it already exists")
			       : sw_error_errno(SW_ERROR, "cannot create '%s'", x->name);
}

static void forget_parent(struct extractor *x)
{
	if (x->parent_fd >= 0)
		close(x->parent_fd);
	x->parent_fd = -1;
	free(x->parent);
	x->parent = NULL;
}

/*
 * walk_parent() (creating what is missing), the directory kept open for
 * the next entry of the same directory.  Safe to reuse: every component
 * was opened without following a symlink, and nothing that exists is
 * ever replaced (entries are created O_EXCL, symlinks only where no name is).
 */
static int parent_of(struct extractor *x, char *rel, int *pfd, const char **leaf)
{
	char *slash = strrchr(rel, '/');
	size_t len = slash ? (size_t)(slash - rel) : 0;
	int err;

	if (x->parent && strlen(x->parent) == len && !strncmp(x->parent, rel, len)) {
		*pfd = x->parent_fd;
		*leaf = slash ? slash + 1 : rel;
		return 0;
	}
	forget_parent(x);
	if ((err = walk_parent(x, rel, 1, pfd, leaf)) < 0)
		return err;
	x->parent = xstrndup(rel, len);
	x->parent_fd = *pfd;
	return 0;
}

static int extract_entry(struct extractor *x, struct archive_entry *ae)
{
	const char *path = archive_entry_pathname(ae), *leaf;
	unsigned type = archive_entry_filetype(ae);
	unsigned mode = archive_entry_perm(ae);
	char *rel = NULL;
	int pfd = -1, err;

	x->name = path ? path : "";
	if ((err = clean_name(x, &rel)) < 0)
		goto done;
	if (archive_entry_hardlink(ae) ||
	    (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)) {
		err = unsafe(x, "only files, directories and symlinks are allowed");
		goto done;
	}
	if (!*rel && type != AE_IFDIR) {
		err = unsafe(x, "./app/ must be a directory");
		goto done;
	}
	if ((err = parent_of(x, rel, &pfd, &leaf)) < 0)
		goto done;
	if (type == AE_IFDIR)
		err = make_dir(x, pfd, leaf, rel, mode);
	else if (type == AE_IFREG)
		err = make_file(x, pfd, leaf, mode);
	else
		err = make_symlink(x, pfd, leaf, archive_entry_symlink(ae));
done:
	free(rel);
	return err;
}

static int apply_mode(struct extractor *x, struct dir_mode *m)
{
	const char *leaf;
	int pfd = -1, fd = -1, err;

	x->name = m->rel;
	if (!*m->rel)
		fd = fcntl(x->root, F_DUPFD_CLOEXEC, 0);
	else if ((err = walk_parent(x, m->rel, 0, &pfd, &leaf)) < 0 ||
		 (err = open_dir_at(x, pfd, leaf, 0, &fd)) < 0)
		goto done;
	err = fd < 0 || fchmod(fd, m->mode) < 0 ?
		sw_error_errno(SW_ERROR, "cannot set the mode of '%s'", m->rel) : 0;
done:
	if (fd >= 0)
		close(fd);
	if (pfd >= 0)
		close(pfd);
	return err;
}

/* Applies the remembered directory modes, deepest (latest) first. */
static int apply_later_modes(struct extractor *x)
{
	int err = 0;

	while (!err && x->n_later) {
		struct dir_mode *m = &x->later[--x->n_later];
		err = apply_mode(x, m);
		free(m->rel);
	}
	return err;
}

/* Creates dir if missing and opens it; it must be empty. */
static int open_target(const char *dir, int *out)
{
	int fd, dup_fd, err = 0;
	DIR *d;
	struct dirent *de;

	*out = -1;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return sw_error_errno(SW_ERROR, "cannot create directory '%s'", dir);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return sw_error_errno(SW_ERROR, "cannot open directory '%s'", dir);
	dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup_fd < 0 || !(d = fdopendir(dup_fd))) {
		err = sw_error_errno(SW_ERROR, "cannot read directory '%s'", dir);
		if (dup_fd >= 0)
			close(dup_fd);
		close(fd);
		return err;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			err = sw_error_set(SW_EEXISTS, "directory '%s' is not empty", dir);
			break;
		}
	closedir(d);
	if (err)
		close(fd);
	else
		*out = fd;
	return err;
}

int slug_extract(const char *path, const char *dir)
{
	struct extractor x = { .root = -1, .parent_fd = -1 };
	struct archive_entry *ae;
	int err;

	if ((err = reader_open(&x.r, path)) < 0 || (err = open_target(dir, &x.root)) < 0)
		goto done;
	x.chunk = xmalloc(SLUG_CHUNK);
	while ((err = reader_next(&x.r, &ae)) > 0)
		if ((err = extract_entry(&x, ae)) < 0)
			goto done;
	if (!err)
		err = apply_later_modes(&x);
done:
	forget_parent(&x);
	for (size_t i = 0; i < x.n_later; i++)
		free(x.later[i].rel);
	free(x.later);
	free(x.chunk);
	if (x.root >= 0)
		close(x.root);
	reader_close(&x.r);
	return err;
}
