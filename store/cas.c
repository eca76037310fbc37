#define _GNU_SOURCE
#include "store/cas.h"

#include "store/paths.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/syncer.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Published objects are read-only: nothing may change a name's bytes. */
#define CAS_OBJECT_MODE 0444
#define CAS_DIR_MODE 0755
#define CAS_SUFFIX ".tar.zst"
#define CAS_CHUNK (128 * 1024)

static int is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int cas_valid_hex(const char *hex)
{
	return hex && strlen(hex) == CAS_HEX_LEN && is_lower_hex(hex, CAS_HEX_LEN);
}

char *cas_path(const char *root, const char *hex)
{
	if (!cas_valid_hex(hex))
		return NULL;
	return paths_store_object(root, hex, CAS_SUFFIX);
}

static int invalid_name(const char *hex)
{
	return sw_error_set(SW_EINVALID, "'%s' is not a valid object name (expected %d lowercase hex characters)",
			    hex ? hex : "(null)", CAS_HEX_LEN);
}

int cas_hasher_start(struct cas_hasher *h)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	h->ctx = ctx;
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		return sw_error_set(SW_ERROR, "cannot start a SHA-256 hash");
	return 0;
}

int cas_hasher_add(struct cas_hasher *h, const void *data, size_t len)
{
	if (!EVP_DigestUpdate(h->ctx, data, len))
		return sw_error_set(SW_ERROR, "cannot compute a SHA-256 hash");
	return 0;
}

int cas_hasher_finish(struct cas_hasher *h, char hex_out[CAS_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_DigestFinal_ex(h->ctx, md, &n) || n != CAS_HEX_LEN / 2)
		return sw_error_set(SW_ERROR, "cannot compute a SHA-256 hash");
	for (unsigned i = 0; i < n; i++) {
		hex_out[2 * i] = digits[md[i] >> 4];
		hex_out[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex_out[CAS_HEX_LEN] = '\0';
	return 0;
}

void cas_hasher_release(struct cas_hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

/* Hashes fd's bytes from offset 0 (pread: the file offset is not used). */
static int hash_fd(int fd, const char *what, char hex_out[CAS_HEX_LEN + 1], uint64_t *size_out)
{
	struct cas_hasher h = CAS_HASHER_INIT;
	unsigned char *chunk = xmalloc(CAS_CHUNK);
	uint64_t off = 0;
	int err;

	if ((err = cas_hasher_start(&h)) < 0)
		goto done;
	for (;;) {
		ssize_t n = pread(fd, chunk, CAS_CHUNK, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = sw_error_errno(SW_ERROR, "cannot read '%s'", what);
			goto done;
		}
		if (n == 0)
			break;
		if ((err = cas_hasher_add(&h, chunk, (size_t)n)) < 0)
			goto done;
		off += (uint64_t)n;
	}
	if ((err = cas_hasher_finish(&h, hex_out)) < 0)
		goto done;
	if (size_out)
		*size_out = off;
done:
	cas_hasher_release(&h);
	free(chunk);
	return err;
}

int cas_hash_data(const void *data, size_t len, char hex_out[CAS_HEX_LEN + 1])
{
	struct cas_hasher h = CAS_HASHER_INIT;
	int err = cas_hasher_start(&h);
	if (!err && !(err = cas_hasher_add(&h, data, len)))
		err = cas_hasher_finish(&h, hex_out);
	cas_hasher_release(&h);
	return err;
}

int cas_hash_file(const char *path, char hex_out[CAS_HEX_LEN + 1], uint64_t *size_out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int err;

	if (fd < 0)
		return sw_error_errno(errno == ENOENT ? SW_ENOTFOUND : SW_ERROR,
				      "cannot open '%s'", path);
	err = hash_fd(fd, path, hex_out, size_out);
	close(fd);
	return err;
}

int cas_tmpfile(const char *root, int *fd_out, char **path_out)
{
	char *dir = paths_store_tmp(root);
	char *path = NULL;
	int fd, err;

	*fd_out = -1;
	*path_out = NULL;
	if ((err = fs_mkdir_p(dir, CAS_DIR_MODE)) < 0)
		goto done;
	path = xasprintf("%s/slug-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		err = sw_error_errno(SW_ERROR, "cannot create a temporary file in '%s'", dir);
		goto done;
	}
	/* held until the file is published or its writer dies: see cas_sweep_tmp() */
	flock(fd, LOCK_EX);
	*fd_out = fd;
	*path_out = path;
	path = NULL;
done:
	free(path);
	free(dir);
	return err;
}

int cas_sweep_tmp(const char *root, uint64_t *files, uint64_t *bytes)
{
	char *dir = paths_store_tmp(root);
	DIR *d = opendir(dir);
	struct dirent *de;
	time_t now = time(NULL);

	*files = *bytes = 0;
	if (!d) {
		free(dir);
		return 0;
	}
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "slug-", 5))
			continue;
		int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (fd < 0)
			continue;
		/* a live writer holds the lock; a fresh file may not be locked yet */
		if (fstat(fd, &st) == 0 && now - st.st_mtime >= 5 &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0 && unlinkat(dirfd(d), de->d_name, 0) == 0) {
			(*files)++;
			*bytes += (uint64_t)st.st_size;
		}
		close(fd);
	}
	closedir(d);
	free(dir);
	return 0;
}

/* mkdir that reports whether it created the directory (*created). */
static int make_dir(const char *path, int *created)
{
	*created = 0;
	if (mkdir(path, CAS_DIR_MODE) == 0) {
		*created = 1;
		return 0;
	}
	if (errno == EEXIST && fs_is_dir(path))
		return 0;
	return sw_error_errno(SW_ERROR, "cannot create directory '%s'", path);
}

/*
 * Moves tmp to final unless final exists; an existing object is left
 * untouched and tmp is removed instead (same name, same bytes).
 */
static int move_into_place(const char *tmp, const char *final, int *existed)
{
	*existed = 0;
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno == EINVAL || errno == ENOSYS) {
		/* the filesystem cannot refuse to replace: check first */
		if (fs_exists(final))
			errno = EEXIST;
		else if (rename(tmp, final) == 0)
			return 0;
	}
	if (errno == EEXIST) {
		unlink(tmp);
		*existed = 1;
		return 0;
	}
	return sw_error_errno(SW_ERROR, "cannot move '%s' to '%s'", tmp, final);
}

static void touch_existing(const char *root, const char *hex);

/* Creates sha256/ and sha256/<ab>/ and moves tmp to its final name, durably. */
static int place_object(const char *root, const char *tmp, const char *hex)
{
	char *top = paths_store_objects(root);
	char *fan = paths_store_fan(root, hex);
	char *final = cas_path(root, hex);
	int top_created = 0, fan_created = 0, existed;
	int err;

	if ((err = make_dir(top, &top_created)) < 0 ||
	    (err = make_dir(fan, &fan_created)) < 0 ||
	    (err = move_into_place(tmp, final, &existed)) < 0)
		goto done;
	if (existed) {
		touch_existing(root, hex);
		goto done;
	}
	if ((err = fs_fsync_dir(fan)) < 0)
		goto done;
	if (fan_created && (err = fs_fsync_dir(top)) < 0)
		goto done;
	if (top_created)
		err = fs_fsync_parent(top);
done:
	free(final);
	free(fan);
	free(top);
	return err;
}

/*
 * Verification stamps: <root>/store/verified/<hex> records the object
 * file's size, inode, mtime and ctime when its bytes were last hashed.
 * Any change to the file (a write, a chmod, a touch) changes its ctime and
 * voids the stamp.  Stamps are hints: losing one costs a re-hash, so they
 * are written without fsync.
 */
static char *stamp_path(const char *root, const char *hex)
{
	return paths_store_stamp(root, hex);
}

static void format_stamp(const struct stat *st, char *buf, size_t len)
{
	snprintf(buf, len, "%llu %llu %lld.%09ld %lld.%09ld\n", (unsigned long long)st->st_size,
		 (unsigned long long)st->st_ino, (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
		 (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

static void write_stamp(const char *root, const char *hex, const struct stat *st)
{
	char line[128];
	char *dir = paths_store_stamps(root);
	char *path = stamp_path(root, hex);
	char *tmp = xasprintf("%s.tmp-%ld", path, (long)getpid());
	format_stamp(st, line, sizeof(line));
	if (fs_mkdir_p(dir, CAS_DIR_MODE) == 0) {
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0) {
			int ok = fs_write_all(fd, line, strlen(line)) == 0;
			close(fd);
			if (!ok || rename(tmp, path) < 0)
				unlink(tmp);
		}
	}
	free(tmp);
	free(path);
	free(dir);
}

/* 1 if hex's stamp matches the object as it is now (st: its lstat). */
static int stamp_matches(const char *root, const char *hex, const struct stat *st)
{
	char line[128], *stamp = NULL, *sp = stamp_path(root, hex);
	format_stamp(st, line, sizeof(line));
	int ok = fs_read_file(sp, sizeof(line), &stamp, NULL) == 0 && !strcmp(stamp, line);
	free(stamp);
	free(sp);
	return ok;
}

/*
 * An object published again is freshly needed: its mtime is bumped so gc
 * leaves it alone for a while.  That also changes its ctime, which would
 * void its verification stamp and cost the next rollback a re-hash; a
 * stamp that held just before the touch is carried over it.
 */
static void touch_existing(const char *root, const char *hex)
{
	char *path = cas_path(root, hex);
	struct stat st;
	int stamped = lstat(path, &st) == 0 && S_ISREG(st.st_mode) && stamp_matches(root, hex, &st);
	if (utimensat(AT_FDCWD, path, NULL, 0) == 0 && stamped && lstat(path, &st) == 0)
		write_stamp(root, hex, &st);
	free(path);
}

/* Stamps a freshly published object when the rename placed our temp file. */
static void stamp_if_ours(const char *root, const char *hex, ino_t ino)
{
	char *path = cas_path(root, hex);
	struct stat st;
	if (path && stat(path, &st) == 0 && st.st_ino == ino)
		write_stamp(root, hex, &st);
	free(path);
}

int cas_check(const char *root, const char *hex)
{
	char *path = cas_path(root, hex);
	struct stat st;
	int err;

	if (!path)
		return invalid_name(hex);
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		free(path);
		return cas_verify(root, hex);
	}
	if (stamp_matches(root, hex, &st))
		err = 0;
	else if ((err = cas_verify(root, hex)) == 0)
		write_stamp(root, hex, &st);
	free(path);
	return err;
}

/* Syncs and closes fd, then moves tmp_path into place as object hex. */
static int publish_as(const char *root, int fd, const char *tmp_path, const char *hex)
{
	struct stat tmp_st;
	int rc, err = 0;

	if (fchmod(fd, CAS_OBJECT_MODE) < 0 || fsync(fd) < 0 || fstat(fd, &tmp_st) < 0) {
		err = sw_error_errno(SW_ERROR, "cannot sync '%s'", tmp_path);
		close(fd);
		return err;
	}
	rc = close(fd);
	if (rc < 0)
		return sw_error_errno(SW_ERROR, "cannot close '%s'", tmp_path);
	if ((err = place_object(root, tmp_path, hex)) < 0)
		return err;
	stamp_if_ours(root, hex, tmp_st.st_ino);
	return 0;
}

int cas_publish_hashed(const char *root, int fd, const char *tmp_path, const char *hex)
{
	int err;

	if (!cas_valid_hex(hex)) {
		close(fd);
		unlink(tmp_path);
		return sw_error_set(SW_EINVALID, "invalid object name '%s'", hex);
	}
	if ((err = publish_as(root, fd, tmp_path, hex)) < 0)
		unlink(tmp_path);
	return err;
}

int cas_lookup(const char *root, const char *hex, uint64_t *size_out)
{
	char *path = cas_path(root, hex);
	struct stat st;
	int err = 0;

	if (!path)
		return invalid_name(hex);
	if (lstat(path, &st) < 0) {
		err = errno == ENOENT || errno == ENOTDIR
			? sw_error_set(SW_ENOTFOUND, "object '%s' is not in the store", hex)
			: sw_error_errno(SW_ERROR, "cannot stat '%s'", path);
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		err = sw_error_set(SW_EINVALID, "'%s' is not a regular file", path);
		goto done;
	}
	if (size_out)
		*size_out = (uint64_t)st.st_size;
done:
	free(path);
	return err;
}

int cas_verify(const char *root, const char *hex)
{
	char actual[CAS_HEX_LEN + 1];
	char *path = NULL;
	int err;

	if ((err = cas_lookup(root, hex, NULL)) < 0)
		goto done;
	path = cas_path(root, hex);
	if ((err = cas_hash_file(path, actual, NULL)) < 0) {
		if (err == SW_ENOTFOUND)
			sw_error_set(err, "object '%s' is not in the store", hex);
		goto done;
	}
	if (strcmp(actual, hex))
		err = sw_error_set(SW_EINVALID, "object '%s' is corrupt (its bytes hash to '%s')",
				   hex, actual);
done:
	free(path);
	return err;
}

int cas_remove(const char *root, const char *hex)
{
	char *path = NULL;
	int err;

	if ((err = cas_lookup(root, hex, NULL)) < 0)
		goto done;
	path = cas_path(root, hex);
	if (unlink(path) < 0) {
		err = errno == ENOENT
			? sw_error_set(SW_ENOTFOUND, "object '%s' is not in the store", hex)
			: sw_error_errno(SW_ERROR, "cannot remove '%s'", path);
		goto done;
	}
	err = fs_fsync_parent(path);
	char *sp = stamp_path(root, hex);
	unlink(sp);
	free(sp);
done:
	free(path);
	return err;
}

static int fan_name(const struct dirent *de)
{
	return strlen(de->d_name) == 2 && is_lower_hex(de->d_name, 2);
}

static int object_name(const struct dirent *de)
{
	const char *s = de->d_name;
	size_t n = CAS_HEX_LEN - 2;

	return strlen(s) == n + strlen(CAS_SUFFIX) && is_lower_hex(s, n) &&
	       !strcmp(s + n, CAS_SUFFIX);
}

/* Byte order, whatever the locale. */
static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void free_entries(struct dirent **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Lists the objects of one fan-out directory; returns fn's non-zero or an error. */
static int foreach_in_fan(const char *fan, const char *prefix,
			  int (*fn)(const char *, uint64_t, void *), void *ctx)
{
	struct dirent **names = NULL;
	int n = scandir(fan, &names, object_name, name_cmp);
	int ret = 0;

	if (n < 0)
		return sw_error_errno(SW_ERROR, "cannot read directory '%s'", fan);
	for (int i = 0; i < n && !ret; i++) {
		char hex[CAS_HEX_LEN + 1];
		char *path = xasprintf("%s/%s", fan, names[i]->d_name);
		struct stat st;

		memcpy(hex, prefix, 2);
		memcpy(hex + 2, names[i]->d_name, CAS_HEX_LEN - 2);
		hex[CAS_HEX_LEN] = '\0';
		if (lstat(path, &st) < 0) {
			if (errno != ENOENT)
				ret = sw_error_errno(SW_ERROR, "cannot stat '%s'", path);
		} else if (S_ISREG(st.st_mode)) {
			ret = fn(hex, (uint64_t)st.st_size, ctx);
		}
		free(path);
	}
	free_entries(names, n);
	return ret;
}

int cas_foreach(const char *root, int (*fn)(const char *hex, uint64_t size, void *ctx), void *ctx)
{
	char *top = paths_store_objects(root);
	struct dirent **fans = NULL;
	int n = 0, ret = 0;

	if (!fs_is_dir(top))
		goto done; /* nothing published yet */
	n = scandir(top, &fans, fan_name, name_cmp);
	if (n < 0) {
		n = 0;
		ret = sw_error_errno(SW_ERROR, "cannot read directory '%s'", top);
		goto done;
	}
	for (int i = 0; i < n && !ret; i++) {
		char *fan = paths_store_fan(root, fans[i]->d_name);
		if (fs_is_dir(fan))
			ret = foreach_in_fan(fan, fans[i]->d_name, fn, ctx);
		free(fan);
	}
done:
	free_entries(fans, n);
	free(top);
	return ret;
}

struct cas_sink {
	int fd;                   /* the temp file */
	const char *tmp;          /* its path, for errors */
	const char *what;
	uint64_t max, got;
	struct cas_hasher hash;
	struct syncer sync;       /* durable as it arrives: the fsync at the end waits less */
};

int cas_sink_write(void *sink, const void *data, size_t len)
{
	struct cas_sink *k = sink;
	if (len > k->max - k->got)
		return sw_error_set(SW_EINVALID, "%s is larger than slipway.maxSlugSize (%llu bytes): "
				    "nothing was stored", k->what, (unsigned long long)k->max);
	k->got += len;
	if (fs_write_all(k->fd, data, len) < 0)
		return sw_error_errno(SW_ERROR, "cannot write '%s'", k->tmp);
	syncer_wrote(&k->sync, k->got);
	return cas_hasher_add(&k->hash, data, len);
}

int cas_source_file(void *ctx, struct cas_sink *sink)
{
	FILE *in = ctx;
	char *chunk = xmalloc(CAS_CHUNK);
	size_t n;
	int err = 0;
	while (!err && (n = fread(chunk, 1, CAS_CHUNK, in)) > 0)
		err = cas_sink_write(sink, chunk, n);
	if (!err && ferror(in))
		err = sw_error_errno(SW_ERROR, "cannot read %s", sink->what);
	free(chunk);
	return err;
}

/* slipway.maxSlugSize of root. */
static int max_slug_size(const char *root, uint64_t *max)
{
	struct settings *st = NULL;
	int err = settings_open(&st, root, NULL);
	if (!err)
		err = settings_size(st, &SETTING_MAX_SLUG_SIZE, max);
	settings_free(st);
	return err;
}

int cas_store_stream(const char *root, const char *hex, struct cas_stream *s)
{
	struct cas_sink k = { .fd = -1 };
	char got[CAS_HEX_LEN + 1], *what = NULL, *tmp = NULL;
	int err;

	s->stored = 0;
	s->size = 0;
	if (!cas_valid_hex(hex))
		return invalid_name(hex);
	if ((err = cas_check(root, hex)) == 0)
		return cas_lookup(root, hex, &s->size);
	/* a corrupt object would stay: publishing never replaces a name */
	if (err == SW_EINVALID && (err = cas_remove(root, hex)) < 0)
		return err;
	if (err < 0 && err != SW_ENOTFOUND)
		return err;
	what = s->what ? xstrdup(s->what) : xasprintf("object %s", hex);
	k.what = what;
	k.max = s->max;
	if ((!k.max && (err = max_slug_size(root, &k.max)) < 0) ||
	    (err = cas_hasher_start(&k.hash)) < 0 ||
	    (err = cas_tmpfile(root, &k.fd, &tmp)) < 0)
		goto done;
	k.tmp = tmp;
	syncer_init(&k.sync, k.fd, 0);
	err = s->source(s->ctx, &k);
	int synced = syncer_finish(&k.sync);
	if (!err && synced < 0)
		err = sw_error_set(SW_ERROR, "cannot write '%s': %s", tmp, strerror(-synced));
	if (err < 0 || (err = cas_hasher_finish(&k.hash, got)) < 0)
		goto done;
	if (strcmp(got, hex)) {
		err = sw_error_set(SW_EINVALID, "%s is corrupt: its bytes hash to %.12s... "
				   "(nothing was stored)", what, got);
		goto done;
	}
	err = cas_publish_hashed(root, k.fd, tmp, hex);
	k.fd = -1;
	if (!err) {
		s->stored = 1;
		s->size = k.got;
	}
done:
	if (k.fd >= 0) {
		close(k.fd);
		unlink(tmp);
	}
	cas_hasher_release(&k.hash);
	free(tmp);
	free(what);
	return err;
}
