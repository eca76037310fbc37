#define _GNU_SOURCE
#include "util/blobstream.h"

#include "util/error.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define BS_CHUNK (64 * 1024)
#define BS_OID_LEN 20
#define BS_HEX_LEN 40

/*
 * Pack index version 2 (gitformat-pack):
 *   "\377tOc", version (4 bytes, 2), fanout[256] (4 bytes each: number of
 *   names whose first byte is <= i), N names (20 bytes, sorted), N CRC32s of
 *   the packed entries, N offsets (4 bytes; MSB set: index into the 64-bit
 *   table), 64-bit offsets (8 bytes each), pack checksum, index checksum.
 * All integers are big-endian.
 */
#define IDX_HEADER 8
#define IDX_FANOUT (256 * 4)
#define IDX_TRAILER (2 * BS_OID_LEN)
#define PACK_HEADER 12
#define PACK_TRAILER BS_OID_LEN

enum pack_type {
	OBJ_COMMIT = 1,
	OBJ_TREE = 2,
	OBJ_BLOB = 3,
	OBJ_TAG = 4,
	OBJ_OFS_DELTA = 6,
	OBJ_REF_DELTA = 7,
};

/* pack_stream()'s "stored as a delta here, keep looking elsewhere" */
#define BS_DELTA 2

struct bs_pack {
	char *path;               /* of the .pack, for messages */
	const unsigned char *idx; /* the mapped .idx */
	size_t idx_size;
	uint32_t nr;              /* objects */
	uint64_t nr_large;        /* entries of the 64-bit offset table */
	int fd;                   /* the .pack */
	uint64_t pack_size;
};

struct blobstream {
	struct bs_pack *packs;
	size_t nr_packs;
	char **objdirs;           /* for loose objects */
	size_t nr_objdirs;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* pread() exactly len bytes at off; 1 if the file ended first, <0 on error. */
static int pread_full(int fd, void *buf, size_t len, uint64_t off, const char *path)
{
	unsigned char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sw_error_errno(SW_ERROR, "cannot read '%s'", path);
		if (n == 0)
			return 1;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static void pack_release(struct bs_pack *p)
{
	if (p->idx)
		munmap((void *)p->idx, p->idx_size);
	if (p->fd >= 0)
		close(p->fd);
	free(p->path);
}

/*
 * Checks the mapped index: version 2, monotonic fanout, tables inside the
 * file.  0 if usable, 1 if not (skipped).
 */
static int idx_check(struct bs_pack *p)
{
	const unsigned char *fan = p->idx + IDX_HEADER;
	uint64_t min;
	uint32_t prev = 0;

	if (p->idx_size < IDX_HEADER + IDX_FANOUT + IDX_TRAILER)
		return 1;
	if (memcmp(p->idx, "\377tOc", 4) || be32(p->idx + 4) != 2)
		return 1;
	for (int i = 0; i < 256; i++) {
		uint32_t n = be32(fan + 4 * i);
		if (n < prev)
			return 1;
		prev = n;
	}
	p->nr = prev;
	min = IDX_HEADER + IDX_FANOUT + (uint64_t)p->nr * (BS_OID_LEN + 4 + 4) + IDX_TRAILER;
	if (p->idx_size < min)
		return 1;
	p->nr_large = (p->idx_size - min) / 8;
	return 0;
}

/*
 * Checks that the pack belongs to the index: header, object count and the
 * trailing checksum the index records.  0 if it does, 1 if not, <0 on error.
 */
static int pack_check(struct bs_pack *p)
{
	unsigned char hdr[PACK_HEADER], sum[PACK_TRAILER];
	uint32_t version;
	int r;

	if (p->pack_size < PACK_HEADER + PACK_TRAILER)
		return 1;
	if ((r = pread_full(p->fd, hdr, sizeof(hdr), 0, p->path)) != 0)
		return r;
	if ((r = pread_full(p->fd, sum, sizeof(sum), p->pack_size - PACK_TRAILER, p->path)) != 0)
		return r;
	version = be32(hdr + 4);
	if (memcmp(hdr, "PACK", 4) || (version != 2 && version != 3) || be32(hdr + 8) != p->nr)
		return 1;
	if (memcmp(sum, p->idx + p->idx_size - IDX_TRAILER, PACK_TRAILER))
		return 1;
	return 0;
}

/* Opens <packdir>/<name> (a .idx) and its .pack; skips what is unusable. */
static int add_pack(struct blobstream *bs, const char *packdir, const char *name)
{
	struct bs_pack p = { .fd = -1 };
	char *idx_path = xasprintf("%s/%s", packdir, name);
	struct stat st;
	void *map;
	int fd, r = 1;

	p.path = xasprintf("%s/%.*s.pack", packdir, (int)(strlen(name) - 4), name);
	fd = open(idx_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		/* a concurrent gc may just have removed it */
		r = errno == ENOENT ? 1 : sw_error_errno(SW_ERROR, "cannot open '%s'", idx_path);
		goto done;
	}
	if (fstat(fd, &st) < 0) {
		r = sw_error_errno(SW_ERROR, "cannot stat '%s'", idx_path);
		close(fd);
		goto done;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < IDX_HEADER + IDX_FANOUT + IDX_TRAILER) {
		close(fd);
		goto done;
	}
	p.idx_size = (size_t)st.st_size;
	map = mmap(NULL, p.idx_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		r = sw_error_errno(SW_ERROR, "cannot map '%s'", idx_path);
		goto done;
	}
	p.idx = map;
	if (idx_check(&p))
		goto done;

	p.fd = open(p.path, O_RDONLY | O_CLOEXEC);
	if (p.fd < 0) {
		r = errno == ENOENT ? 1 : sw_error_errno(SW_ERROR, "cannot open '%s'", p.path);
		goto done;
	}
	if (fstat(p.fd, &st) < 0) {
		r = sw_error_errno(SW_ERROR, "cannot stat '%s'", p.path);
		goto done;
	}
	if (!S_ISREG(st.st_mode))
		goto done;
	p.pack_size = (uint64_t)st.st_size;
	if ((r = pack_check(&p)) != 0)
		goto done;

	bs->packs = xrealloc(bs->packs, (bs->nr_packs + 1) * sizeof(*bs->packs));
	bs->packs[bs->nr_packs++] = p;
done:
	if (r != 0)
		pack_release(&p);
	free(idx_path);
	return r < 0 ? r : 0;
}

static int add_objdir(struct blobstream *bs, const char *dir)
{
	char *packdir = xasprintf("%s/pack", dir);
	struct dirent *de;
	int err = 0;
	DIR *d;

	bs->objdirs = xrealloc(bs->objdirs, (bs->nr_objdirs + 1) * sizeof(*bs->objdirs));
	bs->objdirs[bs->nr_objdirs++] = xstrdup(dir);

	d = opendir(packdir);
	if (!d) {
		if (errno != ENOENT)
			err = sw_error_errno(SW_ERROR, "cannot open '%s'", packdir);
		free(packdir);
		return err;
	}
	while (!err) {
		size_t len;

		errno = 0;
		if (!(de = readdir(d))) {
			if (errno)
				err = sw_error_errno(SW_ERROR, "cannot read '%s'", packdir);
			break;
		}
		len = strlen(de->d_name);
		if (len > 4 && !strcmp(de->d_name + len - 4, ".idx"))
			err = add_pack(bs, packdir, de->d_name);
	}
	closedir(d);
	free(packdir);
	return err;
}

/* 1 if a and b name the same existing directory. */
static int same_dir(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int blobstream_open(struct blobstream **out, git_repository *repo)
{
	struct blobstream *bs = xcalloc(1, sizeof(*bs));
	const char *common = git_repository_commondir(repo);
	const char *env = getenv("GIT_OBJECT_DIRECTORY");
	size_t len;
	char *main_dir;
	int err;

	*out = NULL;
	if (!common || !*common) {
		free(bs);
		return sw_error_set(SW_ERROR, "cannot find the repository's object directory");
	}
	len = strlen(common);
	while (len > 1 && common[len - 1] == '/')
		len--;
	main_dir = xasprintf("%.*s/objects", (int)len, common);
	err = add_objdir(bs, main_dir);
	if (!err && env && *env && !same_dir(env, main_dir))
		err = add_objdir(bs, env);
	free(main_dir);
	if (err) {
		blobstream_free(bs);
		return err;
	}
	*out = bs;
	return 0;
}

void blobstream_free(struct blobstream *bs)
{
	if (!bs)
		return;
	for (size_t i = 0; i < bs->nr_packs; i++)
		pack_release(&bs->packs[i]);
	for (size_t i = 0; i < bs->nr_objdirs; i++)
		free(bs->objdirs[i]);
	free(bs->packs);
	free(bs->objdirs);
	free(bs);
}

/*
 * Looks id up in the pack's index: 1 and *off if present, 0 if not, <0 if
 * the index points outside itself.
 */
static int pack_find(const struct bs_pack *p, const git_oid *id, uint64_t *off, uint32_t *crc)
{
	const unsigned char *fan = p->idx + IDX_HEADER;
	const unsigned char *names = fan + IDX_FANOUT;
	const unsigned char *crcs = names + (uint64_t)p->nr * BS_OID_LEN;
	const unsigned char *offs = crcs + (uint64_t)p->nr * 4;
	const unsigned char *large = offs + (uint64_t)p->nr * 4;
	uint32_t first = id->id[0];
	uint32_t lo = first ? be32(fan + 4 * (first - 1)) : 0;
	uint32_t hi = be32(fan + 4 * first);

	/* idx_check(): the fanout is monotonic and ends at nr, so lo <= hi <= nr */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(names + (uint64_t)mid * BS_OID_LEN, id->id, BS_OID_LEN);
		uint32_t o;

		if (c < 0) {
			lo = mid + 1;
			continue;
		}
		if (c > 0) {
			hi = mid;
			continue;
		}
		*crc = be32(crcs + (uint64_t)mid * 4);
		o = be32(offs + (uint64_t)mid * 4);
		if (!(o & 0x80000000u)) {
			*off = o;
			return 1;
		}
		o &= 0x7fffffffu;
		if (o >= p->nr_large)
			return sw_error_set(SW_ERROR, "corrupt pack index for '%s': large offset %u of %llu",
					    p->path, o, (unsigned long long)p->nr_large);
		*off = be64(large + (uint64_t)o * 8);
		return 1;
	}
	return 0;
}

/* An inflating reader of [pos, end) of a file. */
struct zin {
	z_stream zs;
	int fd;
	const char *path;
	uint64_t pos, end;
	unsigned char *buf;   /* BS_CHUNK bytes of input */
	uLong crc;            /* CRC32 of the compressed bytes consumed */
};

static int zin_corrupt(const struct zin *z, const char *hex, const char *what)
{
	return sw_error_set(SW_ERROR, "corrupt object %s in '%s': %s", hex, z->path, what);
}

/*
 * Inflates into out until it is full or the zlib stream ends (*ended = 1);
 * *got is the number of bytes produced.
 */
static int zin_read(struct zin *z, const char *hex, unsigned char *out, size_t cap, size_t *got,
		    int *ended)
{
	z->zs.next_out = out;
	z->zs.avail_out = (uInt)cap;
	*ended = 0;
	while (z->zs.avail_out) {
		const Bytef *before;
		int ret;

		if (!z->zs.avail_in) {
			uint64_t left = z->end - z->pos;
			size_t n = left < BS_CHUNK ? (size_t)left : BS_CHUNK;
			int r;

			if (!n)
				return zin_corrupt(z, hex, "compressed data is truncated");
			if ((r = pread_full(z->fd, z->buf, n, z->pos, z->path)) < 0)
				return r;
			if (r)
				return zin_corrupt(z, hex, "file is truncated");
			z->pos += n;
			z->zs.next_in = z->buf;
			z->zs.avail_in = (uInt)n;
		}
		before = z->zs.next_in;
		ret = inflate(&z->zs, Z_NO_FLUSH);
		z->crc = crc32(z->crc, before, (uInt)(z->zs.next_in - before));
		if (ret == Z_STREAM_END) {
			*ended = 1;
			break;
		}
		if (ret == Z_BUF_ERROR && !z->zs.avail_in)
			continue;       /* needs more input */
		if (ret != Z_OK) {
			char msg[160];

			if (ret == Z_MEM_ERROR)
				return sw_error_set(SW_ERROR, "cannot inflate object %s: out of memory", hex);
			snprintf(msg, sizeof(msg), "zlib: %s",
				 z->zs.msg ? z->zs.msg : "invalid compressed data");
			return zin_corrupt(z, hex, msg);
		}
	}
	*got = cap - z->zs.avail_out;
	return 0;
}

static int write_out(int fd, const unsigned char *p, size_t len, const char *hex)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOSPC)
			return sw_error_set(SW_ERROR, "cannot write blob %s: no space left on device", hex);
		if (n < 0)
			return sw_error_errno(SW_ERROR, "cannot write blob %s", hex);
		if (n == 0)
			return sw_error_set(SW_ERROR, "cannot write blob %s: write returned 0", hex);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Inflates the rest of the stream into fd; done bytes of the object were
 * produced (and written) already; it must come to exactly size bytes.
 */
static int zin_copy(struct zin *z, const char *hex, unsigned char *out, uint64_t done,
		    uint64_t size, int ended, int fd)
{
	while (!ended) {
		size_t got;
		int r = zin_read(z, hex, out, BS_CHUNK, &got, &ended);

		if (r < 0)
			return r;
		if (got > size - done)
			return zin_corrupt(z, hex, "inflates to more bytes than its header says");
		if ((r = write_out(fd, out, got, hex)) < 0)
			return r;
		done += got;
	}
	if (done != size)
		return zin_corrupt(z, hex, "inflates to fewer bytes than its header says");
	return 0;
}

static int zin_init(struct zin *z, const char *hex, int fd, const char *path, uint64_t pos,
		    uint64_t end, unsigned char *buf)
{
	memset(z, 0, sizeof(*z));
	z->fd = fd;
	z->path = path;
	z->pos = pos;
	z->end = end;
	z->buf = buf;
	z->crc = crc32(0, Z_NULL, 0);
	if (inflateInit(&z->zs) != Z_OK)
		return sw_error_set(SW_ERROR, "cannot inflate object %s: zlib failed to start", hex);
	return 0;
}

/*
 * Streams the pack entry at off if it is a whole blob of at least min_size
 * bytes: 1 if written, 0 if not a blob or too small, BS_DELTA if a delta.
 */
static int pack_stream(const struct bs_pack *p, uint64_t off, uint32_t crc, const char *hex,
		       uint64_t min_size, int fd, uint64_t *size_out)
{
	uint64_t end = p->pack_size - PACK_TRAILER, size;
	unsigned char hdr[16], *bufs;
	size_t n, used = 0;
	unsigned type, shift = 4;
	unsigned char c;
	struct zin z;
	int r;

	if (off < PACK_HEADER || off >= end)
		return sw_error_set(SW_ERROR, "corrupt pack index for '%s': object %s at offset %llu of %llu",
				    p->path, hex, (unsigned long long)off,
				    (unsigned long long)p->pack_size);
	n = end - off < sizeof(hdr) ? (size_t)(end - off) : sizeof(hdr);
	if ((r = pread_full(p->fd, hdr, n, off, p->path)) < 0)
		return r;
	if (r)
		return sw_error_set(SW_ERROR, "corrupt pack '%s': file is truncated", p->path);

	/* type and size: 1xxx ssss, then 7 more bits of size per byte while the MSB is set */
	c = hdr[used++];
	type = (c >> 4) & 7;
	size = c & 15;
	while (c & 0x80) {
		uint64_t bits;

		if (used >= n)
			return sw_error_set(SW_ERROR, "corrupt object %s in '%s': entry header runs off the end",
					    hex, p->path);
		c = hdr[used++];
		bits = c & 0x7f;
		if (shift >= 64 || (bits << shift) >> shift != bits)
			return sw_error_set(SW_ERROR, "corrupt object %s in '%s': object size overflows",
					    hex, p->path);
		size |= bits << shift;
		shift += 7;
	}
	switch (type) {
	case OBJ_BLOB:
		break;
	case OBJ_OFS_DELTA:
	case OBJ_REF_DELTA:
		return BS_DELTA;
	case OBJ_COMMIT:
	case OBJ_TREE:
	case OBJ_TAG:
		return 0;
	default:
		return sw_error_set(SW_ERROR, "corrupt object %s in '%s': unknown type %u",
				    hex, p->path, type);
	}
	if (size < min_size)
		return 0;

	bufs = xmalloc(2 * BS_CHUNK);
	if ((r = zin_init(&z, hex, p->fd, p->path, off + used, end, bufs)) < 0) {
		free(bufs);
		return r;
	}
	z.crc = crc32(z.crc, hdr, (uInt)used);
	r = zin_copy(&z, hex, bufs + BS_CHUNK, 0, size, 0, fd);
	if (!r && z.crc != crc)
		r = zin_corrupt(&z, hex, "packed data does not match the index's checksum");
	inflateEnd(&z.zs);
	free(bufs);
	if (r < 0)
		return r;
	if (size_out)
		*size_out = size;
	return 1;
}

/*
 * Streams the loose object <dir>/xx/yyyy... if it is a blob of at least
 * min_size bytes: 1 if written, 0 if absent, not a blob or too small.
 */
static int loose_stream(const char *dir, const char *hex, uint64_t min_size, int fd,
			uint64_t *size_out)
{
	char *path = xasprintf("%s/%.2s/%s", dir, hex, hex + 2);
	unsigned char *bufs = NULL, *out, *nul;
	uint64_t size = 0;
	size_t got, hlen, rest;
	struct stat st;
	int ofd, r, ended, zinit = 0;
	struct zin z;

	ofd = open(path, O_RDONLY | O_CLOEXEC);
	if (ofd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			r = 0;
		else
			r = sw_error_errno(SW_ERROR, "cannot open '%s'", path);
		free(path);
		return r;
	}
	if (fstat(ofd, &st) < 0) {
		r = sw_error_errno(SW_ERROR, "cannot stat '%s'", path);
		goto done;
	}
	bufs = xmalloc(2 * BS_CHUNK);
	out = bufs + BS_CHUNK;
	if ((r = zin_init(&z, hex, ofd, path, 0, (uint64_t)st.st_size, bufs)) < 0)
		goto done;
	zinit = 1;

	/* "<type> <decimal size>\0": at most "commit " + 20 digits + NUL */
	if ((r = zin_read(&z, hex, out, 32, &got, &ended)) < 0)
		goto done;
	nul = memchr(out, '\0', got);
	if (!nul) {
		r = zin_corrupt(&z, hex, "bad loose object header");
		goto done;
	}
	hlen = (size_t)(nul - out) + 1;
	if (hlen < 6 || memcmp(out, "blob ", 5)) {
		const unsigned char *sp = memchr(out, ' ', hlen);
		static const char *const types[] = { "commit", "tree", "tag" };

		r = zin_corrupt(&z, hex, "bad loose object header");
		for (size_t i = 0; sp && i < sizeof(types) / sizeof(*types); i++) {
			size_t n = strlen(types[i]);

			if ((size_t)(sp - out) == n && !memcmp(out, types[i], n))
				r = 0;   /* a commit, tree or tag: not ours */
		}
		goto done;
	}
	if (nul == out + 5) {
		r = zin_corrupt(&z, hex, "bad size in loose object header");
		goto done;
	}
	for (const unsigned char *d = out + 5; d < nul; d++) {
		if (*d < '0' || *d > '9' || size > (UINT64_MAX - 9) / 10) {
			r = zin_corrupt(&z, hex, "bad size in loose object header");
			goto done;
		}
		size = size * 10 + (uint64_t)(*d - '0');
	}
	rest = got - hlen;
	if (rest > size) {
		r = zin_corrupt(&z, hex, "inflates to more bytes than its header says");
		goto done;
	}
	if (size < min_size) {
		r = 0;
		goto done;
	}
	if ((r = write_out(fd, nul + 1, rest, hex)) < 0)
		goto done;
	if ((r = zin_copy(&z, hex, out, rest, size, ended, fd)) < 0)
		goto done;
	if (size_out)
		*size_out = size;
	r = 1;
done:
	if (zinit)
		inflateEnd(&z.zs);
	free(bufs);
	close(ofd);
	free(path);
	return r;
}

int blobstream_write(struct blobstream *bs, const git_oid *id, uint64_t min_size, int fd,
		     uint64_t *size_out)
{
	char hex[BS_HEX_LEN + 1];
	int r;

	if (size_out)
		*size_out = 0;
	git_oid_fmt(hex, id);
	hex[BS_HEX_LEN] = '\0';
	for (size_t i = 0; i < bs->nr_packs; i++) {
		uint64_t off = 0;
		uint32_t crc = 0;

		r = pack_find(&bs->packs[i], id, &off, &crc);
		if (r == 0)
			continue;
		if (r < 0)
			return r;
		r = pack_stream(&bs->packs[i], off, crc, hex, min_size, fd, size_out);
		if (r != BS_DELTA)
			return r;
		/* a delta here; another pack or a loose copy may hold it whole */
	}
	for (size_t i = 0; i < bs->nr_objdirs; i++)
		if ((r = loose_stream(bs->objdirs[i], hex, min_size, fd, size_out)) != 0)
			return r;
	return 0;
}
