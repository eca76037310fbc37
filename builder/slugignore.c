#define _GNU_SOURCE
#include "builder/slugignore.h"

#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct pattern {
	char *glob;
	int anchored;
	int dir_only;
};

struct patterns {
	struct pattern *items;
	size_t n;
};

static void patterns_release(struct patterns *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->items[i].glob);
	free(p->items);
}

static void parse(struct patterns *out, const char *text, size_t len)
{
	struct text_lines it = TEXT_LINES_INIT(text, len);
	const char *s;
	size_t n;
	while (text_lines_next(&it, &s, &n)) {
		const char *e = s + n;
		struct pattern pat = { NULL, 0, 0 };
		if (e - s > 1 && e[-1] == '/') {
			pat.dir_only = 1;
			e--;
		}
		if (memchr(s, '/', (size_t)(e - s)))
			pat.anchored = 1;
		while (s < e && *s == '/')
			s++;
		if (s == e)
			continue;
		pat.glob = xstrndup(s, (size_t)(e - s));
		out->items = xrealloc(out->items, (out->n + 1) * sizeof(*out->items));
		out->items[out->n++] = pat;
	}
}

static int matches(const struct patterns *ps, const char *rel, const char *name, int is_dir)
{
	for (size_t i = 0; i < ps->n; i++) {
		const struct pattern *p = &ps->items[i];
		if (p->dir_only && !is_dir)
			continue;
		if (p->anchored ? !fnmatch(p->glob, rel, FNM_PATHNAME)
				: !fnmatch(p->glob, name, 0))
			return 1;
	}
	return 0;
}

/* Files and symlinks under path (a directory), recursively, not following links. */
static uint64_t count_files(const char *path)
{
	DIR *d = opendir(path);
	uint64_t n = 0;
	struct dirent *e;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *p = xasprintf("%s/%s", path, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0)
			n += S_ISDIR(st.st_mode) ? count_files(p) : 1;
		free(p);
	}
	closedir(d);
	return n;
}

static int walk(const struct patterns *ps, const char *top, const char *rel, uint64_t *removed)
{
	char *dir = *rel ? xasprintf("%s/%s", top, rel) : xstrdup(top);
	DIR *d = opendir(dir);
	struct strvec names = STRVEC_INIT;
	struct dirent *e;
	int err = 0;

	if (!d) {
		err = sw_error_errno(SW_ERROR, "cannot read directory '%s'", dir);
		free(dir);
		return err;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			strvec_push(&names, e->d_name);
	closedir(d);
	for (size_t i = 0; i < names.n && !err; i++) {
		const char *name = names.v[i];
		char *sub = *rel ? xasprintf("%s/%s", rel, name) : xstrdup(name);
		char *path = xasprintf("%s/%s", top, sub);
		struct stat st;
		if (lstat(path, &st) < 0) {
			err = sw_error_errno(SW_ERROR, "cannot stat '%s'", path);
		} else if (*rel == '\0' && !strcmp(name, ".slugignore")) {
			/* kept */
		} else if (matches(ps, sub, name, S_ISDIR(st.st_mode))) {
			*removed += S_ISDIR(st.st_mode) ? count_files(path) : 1;
			err = fs_rm_rf(path);
		} else if (S_ISDIR(st.st_mode)) {
			err = walk(ps, top, sub, removed);
		}
		free(path);
		free(sub);
	}
	strvec_clear(&names);
	free(dir);
	return err;
}

int slugignore_apply(const char *build_dir, int *found, uint64_t *removed)
{
	struct patterns ps = { NULL, 0 };
	char *text = NULL;
	size_t len = 0;
	int err;

	*found = 0;
	*removed = 0;
	err = fs_read_tree_file(build_dir, ".slugignore", SLUGIGNORE_MAX, &text, &len);
	if (err == SW_ENOTFOUND)
		err = 0;
	if (err || !text)
		goto done;
	*found = 1;
	parse(&ps, text, len);
	if (ps.n)
		err = walk(&ps, build_dir, "", removed);
done:
	patterns_release(&ps);
	free(text);
	return err;
}
