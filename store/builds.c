#define _GNU_SOURCE
#include "store/builds.h"

#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/say.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define INFO_MAX (64 * 1024)
#define LOG_MAX (256u * 1024 * 1024)

static const char *const status_names[] = { "pending", "succeeded", "failed" };

const char *build_status_name(enum build_status s)
{
	return (unsigned)s < 3 ? status_names[s] : "unknown";
}

void build_record_release(struct build_record *r)
{
	free(r->user);
	free(r->source);
	memset(r, 0, sizeof(*r));
}

static char *dir_path(const char *root, const char *app)
{
	return paths_builds_records(root, app);
}

static char *file_path(const char *root, const char *app, int id, const char *ext)
{
	return paths_build_record(root, app, id, ext);
}

/* The ids of the builds kept, ascending. */
static int ids(const char *root, const char *app, int **out, size_t *n)
{
	char *dir = dir_path(root, app);
	DIR *d = opendir(dir);
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	if (!d) {
		int err = errno == ENOENT ? 0 : sw_error_errno(SW_ERROR, "cannot read the builds of %s", app);
		free(dir);
		return err;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		long v = strtol(e->d_name, &end, 10);
		if (end == e->d_name || strcmp(end, ".info") || v < 1 || v > 1000000000)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[(*n)++] = (int)v;
	}
	closedir(d);
	free(dir);
	for (size_t i = 1; i < *n; i++) /* insertion sort: a hundred or so */
		for (size_t j = i; j > 0 && (*out)[j - 1] > (*out)[j]; j--) {
			int t = (*out)[j];
			(*out)[j] = (*out)[j - 1];
			(*out)[j - 1] = t;
		}
	return 0;
}

static void format(const struct build_record *r, struct buf *b)
{
	buf_addf(b, "status %s\ncreated %lld\n", build_status_name(r->status), (long long)r->created);
	if (r->commit[0])
		buf_addf(b, "commit %s\n", r->commit);
	if (r->user)
		buf_addf(b, "user %s\n", r->user);
	if (r->source)
		buf_addf(b, "source %s\n", r->source);
	if (r->release)
		buf_addf(b, "release %d\n", r->release);
}

static int parse(struct build_record *r, char *text)
{
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *v = strchr(line, ' ');
		if (!v)
			return SW_EINVALID;
		*v++ = '\0';
		if (!strcmp(line, "status")) {
			for (int i = 0; i < 3; i++)
				if (!strcmp(v, status_names[i]))
					r->status = (enum build_status)i;
		} else if (!strcmp(line, "created")) {
			r->created = strtoll(v, NULL, 10);
		} else if (!strcmp(line, "commit") && strlen(v) == 40) {
			memcpy(r->commit, v, 41);
		} else if (!strcmp(line, "user")) {
			free(r->user);
			r->user = xstrdup(v);
		} else if (!strcmp(line, "source")) {
			free(r->source);
			r->source = xstrdup(v);
		} else if (!strcmp(line, "release")) {
			r->release = atoi(v);
		}
	}
	return 0;
}

int builds_update(const char *root, const char *app, const struct build_record *r)
{
	struct buf b = BUF_INIT;
	format(r, &b);
	char *path = file_path(root, app, r->id, "info");
	int err = fs_write_atomic(path, b.data, b.len, 0600);
	free(path);
	buf_release(&b);
	return err;
}

int builds_read(const char *root, const char *app, int id, struct build_record *r)
{
	char *path = file_path(root, app, id, "info"), *text = NULL;
	int err = fs_read_file(path, INFO_MAX, &text, NULL);
	free(path);
	memset(r, 0, sizeof(*r));
	r->id = id;
	if (err == SW_ENOTFOUND)
		return sw_error_set(SW_ENOTFOUND, "build %d of %s does not exist (see: slipway builds -a %s)",
				    id, app, app);
	if (!err && parse(r, text))
		err = sw_error_set(SW_EINVALID, "the record of build %d of %s is unreadable", id, app);
	free(text);
	return err;
}

int builds_latest(const char *root, const char *app, int *id)
{
	int *v;
	size_t n;
	int err = ids(root, app, &v, &n);
	*id = !err && n ? v[n - 1] : 0;
	free(v);
	return err;
}

int builds_list(const char *root, const char *app, size_t max, struct build_record **out,
		size_t *n)
{
	int *v;
	size_t total;
	int err = ids(root, app, &v, &total);
	*out = NULL;
	*n = 0;
	if (err)
		return err;
	size_t k = max && total > max ? max : total;
	*out = xcalloc(k ? k : 1, sizeof(**out));
	for (size_t i = 0; i < k && !err; i++) {
		err = builds_read(root, app, v[total - 1 - i], &(*out)[*n]);
		if (err == SW_ENOTFOUND) /* pruned meanwhile */
			err = 0;
		else if (!err)
			(*n)++;
	}
	free(v);
	return err;
}

int builds_output(const char *root, const char *app, int id, char **text, size_t *len)
{
	struct build_record r;
	int err = builds_read(root, app, id, &r);
	build_record_release(&r);
	if (err)
		return err;
	char *path = file_path(root, app, id, "log");
	err = fs_read_file(path, LOG_MAX, text, len);
	free(path);
	if (err == SW_ENOTFOUND) {
		*text = xstrdup("");
		if (len)
			*len = 0;
		err = 0;
	}
	return err;
}

int builds_prune(const char *root, const char *app, int keep, int *removed)
{
	int *v;
	size_t n;
	int err = ids(root, app, &v, &n);
	if (removed)
		*removed = 0;
	for (size_t i = 0; !err && n > (size_t)keep && i < n - (size_t)keep; i++) {
		char *info = file_path(root, app, v[i], "info");
		char *log = file_path(root, app, v[i], "log");
		/* the record first: a build without one is gone, whatever is left of its log */
		if (unlink(info) < 0 && errno != ENOENT)
			err = sw_error_errno(SW_ERROR, "cannot remove build %d of %s", v[i], app);
		else if (unlink(log) < 0 && errno != ENOENT)
			err = sw_error_errno(SW_ERROR, "cannot remove the log of build %d of %s", v[i], app);
		else if (removed)
			(*removed)++;
		free(info);
		free(log);
	}
	free(v);
	return err;
}

static int open_log(const char *path, int flags, FILE **log)
{
	int fd = open(path, flags | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return sw_error_errno(SW_ERROR, "cannot open the build log");
	*log = fdopen(fd, "a");
	if (!*log) {
		close(fd);
		return sw_error_errno(SW_ERROR, "cannot open the build log");
	}
	setvbuf(*log, NULL, _IOLBF, 0);
	return 0;
}

/*
 * The newest build, still pending when a new one begins, was killed: every
 * build holds the app's lock until its record says how it ended, so older
 * ones were settled by the builds after them.  It becomes failed, and its
 * log says so.
 */
static void mark_interrupted(const char *root, const char *app, int id)
{
	struct build_record r = BUILD_RECORD_INIT;
	FILE *log = NULL;
	if (id && builds_read(root, app, id, &r) == 0 && r.status == BUILD_PENDING) {
		if (builds_log_append(root, app, id, &log) == 0) {
			say(log, SAY_WARN, "This build was interrupted before it finished.");
			fclose(log);
		}
		r.status = BUILD_FAILED;
		builds_update(root, app, &r);
	}
	build_record_release(&r);
}

int builds_begin(const char *root, const char *app, struct build_record *r, int keep, FILE **log)
{
	char *dir = dir_path(root, app), *last_path = paths_builds_last(root, app);
	char *text = NULL, *path = NULL;
	int latest = 0, err;

	*log = NULL;
	if ((err = fs_mkdir_p(dir, 0700)) || (err = builds_latest(root, app, &latest)))
		goto done;
	mark_interrupted(root, app, latest);
	/* numbers are never reused, even once every build was pruned */
	if (fs_read_file(last_path, 64, &text, NULL) == 0 && atoi(text) > latest)
		latest = atoi(text);
	r->id = latest + 1;
	r->status = BUILD_PENDING;
	r->created = (int64_t)time(NULL);
	r->release = 0;
	char num[16];
	snprintf(num, sizeof(num), "%d\n", r->id);
	if ((err = fs_write_replace(last_path, num, strlen(num), 0600)) ||
	    (err = builds_update(root, app, r)))
		goto done;
	path = file_path(root, app, r->id, "log");
	if ((err = open_log(path, O_CREAT | O_TRUNC, log)))
		goto done;
	err = builds_prune(root, app, keep, NULL);
done:
	free(path);
	free(text);
	free(last_path);
	free(dir);
	return err;
}

int builds_log_append(const char *root, const char *app, int id, FILE **log)
{
	char *path = file_path(root, app, id, "log");
	int err = open_log(path, O_APPEND, log);
	free(path);
	return err;
}
