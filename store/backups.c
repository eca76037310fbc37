#define _GNU_SOURCE
#include "store/backups.h"

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
#include <unistd.h>

void backup_id(int number, char out[16])
{
	snprintf(out, 16, "b%03d", number);
}

int backup_id_parse(const char *id, int *number)
{
	char *end = NULL;
	long v = 0;
	if (id && (id[0] == 'b' || id[0] == 'B') && id[1] >= '0' && id[1] <= '9') {
		errno = 0;
		v = strtol(id + 1, &end, 10);
	}
	if (!end || *end || errno || v < 1 || v > BACKUP_NUMBER_MAX)
		return sw_error_set(SW_EINVALID, "'%s' is no backup id: backups are named b001, "
				    "b002, ... (see: slipway pg:backups)", id ? id : "");
	*number = (int)v;
	return 0;
}

int backup_verified(const struct backup *b)
{
	return !strcmp(b->status, "completed") && !strcmp(b->restore, "passed");
}

/* "b001.backup" or "b001.dump" of the add-on (malloc'ed). */
static char *backup_file(const char *root, const char *addon, int number, const char *ext)
{
	char id[16], *file, *path;
	backup_id(number, id);
	file = xasprintf("%s.%s", id, ext);
	path = paths_addon_backup_file(root, addon, file);
	free(file);
	return path;
}

char *backup_dump_path(const char *root, const char *addon, int number)
{
	return backup_file(root, addon, number, "dump");
}

/* A value is one line: a newline would end the record's line (an error's text). */
static void add_line(struct buf *b, const char *key, const char *value)
{
	buf_addf(b, "%s ", key);
	for (const char *p = value; *p; p++)
		buf_add(b, *p == '\n' || *p == '\r' ? " " : p, 1);
	buf_adds(b, "\n");
}

int backup_write(const char *root, const char *addon, const struct backup *b)
{
	struct buf text = BUF_INIT;
	char *dir = NULL, *path = NULL;
	int err = addon_name_check(addon);
	if (err)
		return err;
	dir = paths_addon_backups(root, addon);
	buf_addf(&text, "created %" PRId64 "\nfinished %" PRId64 "\nsize %" PRId64 "\ntables %d\n",
		 b->created, b->finished, b->size, b->tables);
	if (b->app[0]) /* a line "app " would lose its space: none for no app */
		add_line(&text, "app", b->app);
	add_line(&text, "status", b->status);
	add_line(&text, "restore", b->restore[0] ? b->restore : "none");
	if (b->sha256[0])
		add_line(&text, "sha256", b->sha256);
	if (b->error[0])
		add_line(&text, "error", b->error);
	path = backup_file(root, addon, b->number, "backup");
	if (!(err = fs_mkdir_p(dir, 0755)))
		err = fs_write_atomic(path, text.data, text.len, 0644);
	free(path);
	free(dir);
	buf_release(&text);
	return err;
}

static int field(char *dst, size_t n, const char *value)
{
	if (strlen(value) >= n)
		return -1;
	memcpy(dst, value, strlen(value) + 1);
	return 0;
}

static int number(const char *value, int64_t *out)
{
	char *end = NULL;
	errno = 0;
	long long v = strtoll(value, &end, 10);
	if (errno || end == value || *end || v < 0)
		return -1;
	*out = v;
	return 0;
}

static int set_field(struct backup *b, const char *key, const char *value)
{
	int64_t v = 0;
	if (!strcmp(key, "app"))
		return field(b->app, sizeof(b->app), value);
	if (!strcmp(key, "status"))
		return field(b->status, sizeof(b->status), value);
	if (!strcmp(key, "restore"))
		return field(b->restore, sizeof(b->restore), value);
	if (!strcmp(key, "sha256"))
		return field(b->sha256, sizeof(b->sha256), value);
	if (!strcmp(key, "error")) {
		snprintf(b->error, sizeof(b->error), "%s", value);
		return 0;
	}
	int64_t *to = !strcmp(key, "created") ? &b->created : !strcmp(key, "finished") ? &b->finished
		    : !strcmp(key, "size") ? &b->size : NULL;
	if (!strcmp(key, "tables")) {
		if (number(value, &v) < 0 || v > 1000000000)
			return -1;
		b->tables = (int)v;
		return 0;
	}
	if (!to)
		return 0; /* a key of a later version */
	return number(value, to);
}

int backup_read(const char *root, const char *addon, int n, struct backup *b)
{
	char id[16], *path = NULL, *text = NULL;
	size_t len = 0;
	int err = addon_name_check(addon);
	memset(b, 0, sizeof(*b));
	if (err)
		return err;
	backup_id(n, id);
	path = backup_file(root, addon, n, "backup");
	if ((err = fs_read_file(path, 64 * 1024, &text, &len)) == SW_ENOTFOUND)
		err = sw_error_set(SW_ENOTFOUND, "backup %s of %s does not exist (see: slipway "
				   "pg:backups)", id, addon);
	struct text_lines it = TEXT_LINES_INIT(text, len);
	const char *s;
	size_t k;
	while (!err && text_lines_next(&it, &s, &k)) {
		char *line = xstrndup(s, k), *sp = strchr(line, ' ');
		if (sp)
			*sp = '\0';
		if (!sp || set_field(b, line, sp + 1) < 0)
			err = sw_error_set(SW_ERROR, "'%s' line %d is not understood", path, it.lineno);
		free(line);
	}
	if (!err && !b->status[0])
		err = sw_error_set(SW_ERROR, "the record '%s' is incomplete", path);
	b->number = n;
	free(text);
	free(path);
	return err;
}

/* The numbers of the add-on's records, ascending, into *v. */
static int list_numbers(const char *root, const char *addon, int **v, size_t *n)
{
	char *dir = paths_addon_backups(root, addon);
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;
	int err = 0;
	*v = NULL;
	*n = 0;
	if (!d && errno != ENOENT)
		err = sw_error_errno(SW_ERROR, "cannot read '%s'", dir);
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		int k = 0;
		char *id = len > 7 && !strcmp(e->d_name + len - 7, ".backup")
			   ? xstrndup(e->d_name, len - 7) : NULL;
		if (id && backup_id_parse(id, &k) == 0) {
			if (*n == cap)
				*v = xrealloc(*v, (cap = cap ? 2 * cap : 16) * sizeof(**v));
			(*v)[(*n)++] = k;
		}
		free(id);
	}
	if (d)
		closedir(d);
	for (size_t i = 1; i < *n; i++) /* few: insertion sort */
		for (size_t j = i; j > 0 && (*v)[j - 1] > (*v)[j]; j--) {
			int t = (*v)[j];
			(*v)[j] = (*v)[j - 1];
			(*v)[j - 1] = t;
		}
	free(dir);
	return err;
}

int backups_list(const char *root, const char *addon, struct backup **v, size_t *n)
{
	int *nums = NULL;
	size_t count = 0;
	int err = addon_name_check(addon);
	*v = NULL;
	*n = 0;
	if (!err)
		err = list_numbers(root, addon, &nums, &count);
	*v = xcalloc(count + 1, sizeof(**v));
	for (size_t i = 0; !err && i < count; i++) {
		if ((err = backup_read(root, addon, nums[i], &(*v)[*n])) == SW_ENOTFOUND)
			err = 0; /* removed since it was listed */
		else if (!err)
			(*n)++;
	}
	free(nums);
	return err;
}

int backup_next_number(const char *root, const char *addon, int *next)
{
	int *nums = NULL;
	size_t count = 0;
	int err = addon_name_check(addon);
	if (!err)
		err = list_numbers(root, addon, &nums, &count);
	*next = count ? nums[count - 1] + 1 : 1;
	free(nums);
	if (!err && *next > BACKUP_NUMBER_MAX)
		err = sw_error_set(SW_ERROR, "%s has had %d backups: no more numbers", addon,
				   BACKUP_NUMBER_MAX);
	return err;
}

int backup_remove(const char *root, const char *addon, int n)
{
	int err = addon_name_check(addon);
	if (err)
		return err;
	char *record = backup_file(root, addon, n, "backup"), *dump = backup_dump_path(root, addon, n);
	if (unlink(record) < 0 && errno != ENOENT)
		err = sw_error_errno(SW_ERROR, "cannot remove '%s'", record);
	else if (unlink(dump) < 0 && errno != ENOENT)
		err = sw_error_errno(SW_ERROR, "cannot remove '%s'", dump);
	free(dump);
	free(record);
	return err;
}

int backups_prune(const char *root, const char *addon, int keep, int *removed)
{
	struct backup *v = NULL;
	size_t n = 0;
	int err = backups_list(root, addon, &v, &n), kept = 0, oldest_kept = 0;
	*removed = 0;
	/* newest first: the keep-th completed one is the oldest that stays */
	for (size_t i = n; !err && i-- > 0 && kept < keep;)
		if (!strcmp(v[i].status, "completed") && ++kept == keep)
			oldest_kept = v[i].number;
	/* what is older goes, completed or failed */
	for (size_t i = 0; !err && i < n && v[i].number < oldest_kept; i++)
		if (!(err = backup_remove(root, addon, v[i].number)))
			(*removed)++;
	free(v);
	return err;
}

int backups_addons(const char *root, struct strvec *out)
{
	char *dir = paths_backups_dir(root);
	DIR *d = opendir(dir);
	struct dirent *e;
	int err = 0;
	if (!d && errno != ENOENT)
		err = sw_error_errno(SW_ERROR, "cannot read '%s'", dir);
	while (d && (e = readdir(d)))
		if (addon_name_valid(e->d_name))
			strvec_push(out, e->d_name);
	if (d)
		closedir(d);
	strvec_sort(out);
	free(dir);
	return err;
}
