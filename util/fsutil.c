#define _GNU_SOURCE
#include "util/fsutil.h"

#include "util/error.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_mkdir_p(const char *path, mode_t mode)
{
	char *p = xstrdup(path);
	int err = 0;

	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			err = sw_error_errno(SW_ERROR, "cannot create directory '%s'", p);
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	if (!err && !fs_is_dir(path))
		err = sw_error_set(SW_ERROR, "'%s' exists and is not a directory", path);
	free(p);
	return err;
}

static int rm_rf_at(int at, const char *name)
{
	struct stat st;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : sw_error_errno(SW_ERROR, "cannot stat '%s'", name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(at, name, 0) < 0 && errno != ENOENT)
			return sw_error_errno(SW_ERROR, "cannot remove '%s'", name);
		return 0;
	}
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sw_error_errno(SW_ERROR, "cannot open directory '%s'", name);
	/* make sure we can enter and delete from it */
	fchmod(fd, (st.st_mode & 07777) | S_IRWXU);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return sw_error_errno(SW_ERROR, "cannot read directory '%s'", name);
	}
	int err = 0;
	struct dirent *de;
	while (!err && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		err = rm_rf_at(dirfd(d), de->d_name);
	}
	closedir(d);
	if (!err && unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		err = sw_error_errno(SW_ERROR, "cannot remove directory '%s'", name);
	return err;
}

int fs_rm_rf(const char *path)
{
	return rm_rf_at(AT_FDCWD, path);
}

int fs_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sw_error_errno(SW_ERROR, "cannot open directory '%s'", path);
	int err = 0;
	if (fsync(fd) < 0 && errno != EINVAL)
		err = sw_error_errno(SW_ERROR, "cannot sync directory '%s'", path);
	close(fd);
	return err;
}

int fs_fsync_parent(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int err;

	if (!slash)
		err = fs_fsync_dir(".");
	else {
		*(slash == dir ? slash + 1 : slash) = '\0';
		err = fs_fsync_dir(dir);
	}
	free(dir);
	return err;
}

int fs_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return sw_error_errno(SW_ERROR, "write failed");
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes data to a temporary file beside path and renames it in; fsyncs when durable. */
static int replace_file(const char *path, const void *data, size_t len, mode_t mode, int durable)
{
	char *tmp = xasprintf("%s.tmp-XXXXXX", path);
	int err = 0;
	int fd = mkostemp(tmp, O_CLOEXEC);

	if (fd < 0) {
		err = sw_error_errno(SW_ERROR, "cannot create a temporary file for '%s'", path);
		goto done;
	}
	if (fchmod(fd, mode) < 0 ||
	    fs_write_all(fd, data, len) < 0 || (durable && fsync(fd) < 0)) {
		err = sw_error_errno(SW_ERROR, "cannot write '%s'", path);
		close(fd);
		unlink(tmp);
		goto done;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		err = sw_error_errno(SW_ERROR, "cannot write '%s'", path);
		unlink(tmp);
		goto done;
	}
	if (durable)
		err = fs_fsync_parent(path);
done:
	free(tmp);
	return err;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	return replace_file(path, data, len, mode, 1);
}

int fs_write_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	return replace_file(path, data, len, mode, 0);
}

int fs_read_file(const char *path, size_t max, char **out, size_t *len)
{
	struct buf b = BUF_INIT;
	char chunk[65536];
	int err = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0)
		return sw_error_errno(errno == ENOENT ? SW_ENOTFOUND : SW_ERROR,
				      "cannot read '%s'", path);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = sw_error_errno(SW_ERROR, "cannot read '%s'", path);
			break;
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > max) {
			err = sw_error_set(SW_EINVALID, "'%s' is too large (max %zu bytes)", path, max);
			break;
		}
		buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	if (err) {
		buf_release(&b);
		return err;
	}
	if (len)
		*len = b.len;
	*out = buf_detach(&b);
	return 0;
}

int fs_read_tree_file(const char *dir, const char *name, size_t max, char **out, size_t *len)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct stat st;
	int err;

	*out = NULL;
	if (lstat(path, &st) < 0)
		err = errno == ENOENT ? SW_ENOTFOUND
				      : sw_error_errno(SW_ERROR, "cannot stat '%s'", name);
	else if (!S_ISREG(st.st_mode))
		err = sw_error_set(SW_EINVALID, "'%s' is not a regular file: make it one or remove it",
				   name);
	else if ((uint64_t)st.st_size > max)
		err = sw_error_set(SW_EINVALID, "'%s' is too large (%lld bytes, at most %zu)", name,
				   (long long)st.st_size, max);
	else
		err = fs_read_file(path, max, out, len);
	free(path);
	return err;
}

int fs_mkdtemp(const char *parent, const char *prefix, char **out)
{
	char *t = xasprintf("%s/%sXXXXXX", parent, prefix);
	if (!mkdtemp(t)) {
		int err = sw_error_errno(SW_ERROR, "cannot create a directory in '%s'", parent);
		free(t);
		*out = NULL;
		return err;
	}
	*out = t;
	return 0;
}

int fs_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

int fs_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int copy_file(const char *src, const char *dst, mode_t mode)
{
	int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return sw_error_errno(SW_ERROR, "cannot read '%s'", src);
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
	if (out < 0) {
		close(in);
		return sw_error_errno(SW_ERROR, "cannot create '%s'", dst);
	}
	int err = 0;
	char chunk[65536];
	for (;;) {
		ssize_t n = read(in, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = sw_error_errno(SW_ERROR, "cannot read '%s'", src);
			break;
		}
		if (n == 0)
			break;
		if ((err = fs_write_all(out, chunk, (size_t)n)) < 0)
			break;
	}
	if (!err && fchmod(out, mode & 07777) < 0)
		err = sw_error_errno(SW_ERROR, "cannot chmod '%s'", dst);
	close(in);
	if (close(out) < 0 && !err)
		err = sw_error_errno(SW_ERROR, "cannot write '%s'", dst);
	return err;
}

int fs_copy_tree(const char *src, const char *dst)
{
	struct stat st;
	if (lstat(src, &st) < 0)
		return sw_error_errno(SW_ERROR, "cannot stat '%s'", src);
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(src, target, sizeof(target) - 1);
		if (n < 0)
			return sw_error_errno(SW_ERROR, "cannot read link '%s'", src);
		target[n] = '\0';
		if (symlink(target, dst) < 0)
			return sw_error_errno(SW_ERROR, "cannot create link '%s'", dst);
		return 0;
	}
	if (S_ISREG(st.st_mode))
		return copy_file(src, dst, st.st_mode);
	if (!S_ISDIR(st.st_mode))
		return 0;
	if (mkdir(dst, 0700) < 0)
		return sw_error_errno(SW_ERROR, "cannot create directory '%s'", dst);
	DIR *d = opendir(src);
	if (!d)
		return sw_error_errno(SW_ERROR, "cannot read directory '%s'", src);
	int err = 0;
	struct dirent *de;
	while (!err && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *s = xasprintf("%s/%s", src, de->d_name);
		char *t = xasprintf("%s/%s", dst, de->d_name);
		err = fs_copy_tree(s, t);
		free(s);
		free(t);
	}
	closedir(d);
	if (!err && chmod(dst, st.st_mode & 07777) < 0)
		err = sw_error_errno(SW_ERROR, "cannot chmod '%s'", dst);
	return err;
}
