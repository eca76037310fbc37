#define _GNU_SOURCE
#include "store/addons.h"

#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

int addon_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > ADDON_NAME_MAX || name[0] < 'a' || name[0] > 'z' || name[n - 1] == '-' ||
	    strstr(name, "--"))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '-'))
			return 0;
	return 1;
}

int addon_name_check(const char *name)
{
	if (addon_name_valid(name))
		return 0;
	return sw_error_set(SW_EINVALID,
			    "invalid add-on name '%s': use lowercase letters, digits and single "
			    "dashes, starting with a letter, at most %d characters",
			    name ? name : "", ADDON_NAME_MAX);
}

int addon_random_hex(char *out, size_t size)
{
	unsigned char bytes[64];
	size_t got = 0;
	if (size > sizeof(bytes))
		return sw_error_set(SW_EINVALID, "at most %zu random bytes", sizeof(bytes));
	while (got < size) {
		ssize_t r = getrandom(bytes + got, size - got, 0);
		if (r < 0 && errno != EINTR)
			return sw_error_errno(SW_ERROR, "cannot get random bytes");
		if (r > 0)
			got += (size_t)r;
	}
	for (size_t i = 0; i < size; i++)
		snprintf(out + 2 * i, 3, "%02x", bytes[i]);
	out[2 * size] = '\0';
	return 0;
}

/* Heroku-style words: short, plain, neutral. */
static const char *const adjectives[] = {
	"amber", "ancient", "aqueous", "autumn", "bold", "brave", "breezy", "bright", "calm",
	"clear", "cloudy", "cool", "crimson", "crisp", "curved", "dapper", "deep", "dimpled",
	"dry", "eager", "early", "elegant", "fair", "fluffy", "flat", "fresh", "gentle",
	"glacial", "golden", "graceful", "green", "hidden", "humble", "icy", "jolly", "keen",
	"late", "lively", "lunar", "misty", "mossy", "narrow", "neat", "nimble", "opaque",
	"polished", "proud", "quiet", "rapid", "regular", "round", "ruby", "shallow", "sharp",
	"silent", "silver", "slender", "smooth", "solid", "spherical", "steady", "still",
	"sunny", "swift", "tidy", "tranquil", "vast", "violet", "warm", "wide", "windy",
};

int addon_name_generate(const char *root, const char *kind, char *out, size_t n)
{
	for (int tries = 0; tries < 100; tries++) {
		unsigned char r[4];
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return sw_error_errno(SW_ERROR, "cannot get random bytes");
		unsigned v = (unsigned)r[0] << 16 | (unsigned)r[1] << 8 | r[2];
		const char *adj = adjectives[r[3] % (sizeof(adjectives) / sizeof(*adjectives))];
		int len = snprintf(out, n, "%s-%s-%u", kind, adj, 1000 + v % 99000);
		if (len < 0 || (size_t)len >= n || !addon_name_valid(out))
			return sw_error_set(SW_EINVALID, "no add-on name fits for '%s'", kind);
		char *dir = paths_addon_dir(root, out);
		int taken = fs_exists(dir);
		free(dir);
		if (!taken)
			return 0;
	}
	return sw_error_set(SW_ERROR, "no free add-on name for '%s' after 100 tries", kind);
}

/* Copies the value into a field of n bytes; SW_ERROR when it does not fit. */
static int field(char *dst, size_t n, const char *value)
{
	if (strlen(value) >= n)
		return -1;
	memcpy(dst, value, strlen(value) + 1);
	return 0;
}

static int write_file(const char *root, const char *name, const char *file, const struct buf *b,
		      mode_t mode)
{
	char *path = paths_addon_file(root, name, file);
	int err = fs_write_atomic(path, b->data, b->len, mode);
	free(path);
	return err;
}

int addon_write(const char *root, const struct addon *a)
{
	struct buf b = BUF_INIT;
	if (addon_name_check(a->name) < 0)
		return SW_EINVALID;
	buf_addf(&b, "kind %s\nport %d\ncreated %" PRId64 "\n", a->kind, a->port, a->created);
	if (a->app[0])
		buf_addf(&b, "app %s\n", a->app);
	buf_addf(&b, "major %d\n", a->major);
	int err = write_file(root, a->name, "addon", &b, 0644);
	buf_release(&b);
	return err;
}

/*
 * Reads <root>/addons/NAME/FILE and hands each "key value" line to set;
 * a line set refuses makes it SW_ERROR naming the file.
 */
static int read_lines(const char *root, const char *name, const char *file,
		      int (*set)(void *out, const char *key, const char *value), void *out)
{
	char *path = NULL, *text = NULL;
	size_t len = 0;
	int err = addon_name_check(name);
	if (err)
		return err;
	path = paths_addon_file(root, name, file);
	if ((err = fs_read_file(path, 64 * 1024, &text, &len)) == SW_ENOTFOUND)
		err = sw_error_set(SW_ENOTFOUND, "add-on '%s' does not exist", name);
	struct text_lines it = TEXT_LINES_INIT(text, len);
	const char *s;
	size_t n;
	while (!err && text_lines_next(&it, &s, &n)) {
		char *line = xstrndup(s, n), *sp = strchr(line, ' ');
		if (sp)
			*sp = '\0';
		if (!sp || set(out, line, sp + 1) < 0)
			err = sw_error_set(SW_ERROR, "'%s' line %d is not understood", path,
					   it.lineno);
		free(line);
	}
	free(text);
	free(path);
	return err;
}

static int number(const char *value, long long min, long long max, long long *out)
{
	char *end = NULL;
	errno = 0;
	long long v = strtoll(value, &end, 10);
	if (errno || end == value || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int set_record(void *out, const char *key, const char *value)
{
	struct addon *a = out;
	long long v = 0;
	if (!strcmp(key, "kind"))
		return field(a->kind, sizeof(a->kind), value);
	if (!strcmp(key, "app"))
		return field(a->app, sizeof(a->app), value);
	if (!strcmp(key, "port") && !number(value, 1, 65535, &v))
		a->port = (int)v;
	else if (!strcmp(key, "created") && !number(value, 0, INT64_MAX, &v))
		a->created = v;
	else if (!strcmp(key, "major") && !number(value, 1, 1000, &v))
		a->major = (int)v;
	else if (strcmp(key, "port") && strcmp(key, "created") && strcmp(key, "major"))
		return 0; /* a key of a later version */
	else
		return -1;
	return 0;
}

int addon_read(const char *root, const char *name, struct addon *a)
{
	memset(a, 0, sizeof(*a));
	int err = read_lines(root, name, "addon", set_record, a);
	if (!err && (!a->kind[0] || !a->port))
		err = sw_error_set(SW_ERROR, "the record of add-on '%s' is incomplete", name);
	if (!err)
		snprintf(a->name, sizeof(a->name), "%s", name);
	return err;
}

int addon_credentials_write(const char *root, const char *name,
			    const struct addon_credentials *c)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "superuser %s\nsuperpassword %s\nuser %s\npassword %s\ndatabase %s\n",
		 c->superuser, c->superpassword, c->user, c->password, c->database);
	if (c->owner[0])
		buf_addf(&b, "owner %s\n", c->owner);
	if (c->other[0])
		buf_addf(&b, "other %s\n", c->other);
	if (c->next[0])
		buf_addf(&b, "next %s\nnextpassword %s\n", c->next, c->nextpassword);
	int err = write_file(root, name, "credentials", &b, 0600);
	buf_release(&b);
	return err;
}

static int set_credential(void *out, const char *key, const char *value)
{
	struct addon_credentials *c = out;
	if (!strcmp(key, "superuser"))
		return field(c->superuser, sizeof(c->superuser), value);
	if (!strcmp(key, "superpassword"))
		return field(c->superpassword, sizeof(c->superpassword), value);
	if (!strcmp(key, "user"))
		return field(c->user, sizeof(c->user), value);
	if (!strcmp(key, "password"))
		return field(c->password, sizeof(c->password), value);
	if (!strcmp(key, "database"))
		return field(c->database, sizeof(c->database), value);
	if (!strcmp(key, "owner"))
		return field(c->owner, sizeof(c->owner), value);
	if (!strcmp(key, "other"))
		return field(c->other, sizeof(c->other), value);
	if (!strcmp(key, "next"))
		return field(c->next, sizeof(c->next), value);
	if (!strcmp(key, "nextpassword"))
		return field(c->nextpassword, sizeof(c->nextpassword), value);
	return 0;
}

int addon_credentials_read(const char *root, const char *name, struct addon_credentials *c)
{
	memset(c, 0, sizeof(*c));
	return read_lines(root, name, "credentials", set_credential, c);
}

/* The add-on directories whose record exists (with 1) or not (with 0), sorted, into out. */
static int list_dirs(const char *root, int with_record, struct strvec *out)
{
	char *dir = paths_addons_dir(root);
	DIR *d = opendir(dir);
	struct dirent *e;
	int err = 0;
	if (!d && errno != ENOENT)
		err = sw_error_errno(SW_ERROR, "cannot read '%s'", dir);
	while (d && (e = readdir(d))) {
		if (!addon_name_valid(e->d_name))
			continue;
		char *record = paths_addon_file(root, e->d_name, "addon");
		if (fs_exists(record) == with_record)
			strvec_push(out, e->d_name);
		free(record);
	}
	if (d)
		closedir(d);
	free(dir);
	strvec_sort(out);
	return err;
}

int addons_list(const char *root, struct strvec *out)
{
	return list_dirs(root, 1, out);
}

int addons_list_unfinished(const char *root, struct strvec *out)
{
	return list_dirs(root, 0, out);
}

int addon_remove(const char *root, const char *name)
{
	int err = addon_name_check(name);
	if (err)
		return err;
	char *record = paths_addon_file(root, name, "addon"), *dir = paths_addon_dir(root, name);
	if (unlink(record) < 0 && errno != ENOENT)
		err = sw_error_errno(SW_ERROR, "cannot remove '%s'", record);
	else if (fs_exists(dir) && (err = fs_fsync_dir(dir)) == 0)
		err = fs_rm_rf(dir);
	free(dir);
	free(record);
	return err;
}

char *addon_version_file(const char *root, const char *name, const char *file)
{
	char *path = paths_addon_file(root, name, file), *text = NULL;
	if (fs_read_file(path, 64, &text, NULL) < 0) {
		free(text);
		text = xstrdup("none");
	}
	text[strcspn(text, "\n")] = '\0';
	free(path);
	return text;
}
