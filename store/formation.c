#include "store/formation.h"

#include "store/listfile.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FORMATION_MAX (64 * 1024)

/* "TYPE=N" lines, changed under the app's lock, which the caller holds. */
static const struct listfile formation_file = {
	.path = paths_formation_file,
	.max = FORMATION_MAX,
};

/* 1 when name is the release type, which runs once per release, never as an instance. */
static int is_release(const char *name)
{
	return !strcmp(name, "release");
}

/* The count line "TYPE=N" gives r's type i, or -1 when it is not about that type. */
static int count_of(const char *line, const char *name)
{
	const char *eq = strchr(line, '=');
	size_t tl = eq ? (size_t)(eq - line) : 0;
	if (!eq || strlen(name) != tl || strncmp(name, line, tl) || is_release(name))
		return -1;
	int c = atoi(eq + 1);
	return c < 0 ? 0 : c > FORMATION_COUNT_MAX ? FORMATION_COUNT_MAX : c;
}

int formation_counts(const char *root, const char *app, const struct release *r, int *counts)
{
	struct strvec lines = STRVEC_INIT;
	char *path = paths_formation_file(root, app);
	int missing = !fs_exists(path);
	int err = listfile_read(&formation_file, root, app, &lines);
	free(path);
	for (size_t i = 0; i < r->procs.n; i++)
		counts[i] = missing && !strcmp(r->procs.items[i].name, "web");
	for (size_t k = 0; !err && k < lines.n; k++)
		for (size_t i = 0; i < r->procs.n; i++) {
			int c = count_of(lines.v[k], r->procs.items[i].name);
			if (c >= 0)
				counts[i] = c;
		}
	strvec_clear(&lines);
	return err;
}

int formation_share(int total, size_t i, size_t n)
{
	if (i >= n || total <= 0)
		return 0;
	return (int)((size_t)total / n + (i < (size_t)total % n));
}

int formation_change(const struct release *r, int *counts, const char *change, int max)
{
	size_t tl = strcspn(change, "=+-");
	const char *op = change + tl;
	char *end = NULL;
	long v = *op ? strtol(op + 1, &end, 10) : -1;
	if (!tl || !*op || !op[1] || *end || v < 0 || v > 1000)
		return sw_error_set(SW_EINVALID, "invalid change '%s': use TYPE=N, TYPE+N or TYPE-N, "
				    "for example web=2", change);
	for (size_t i = 0; i < r->procs.n; i++) {
		if (strlen(r->procs.items[i].name) != tl ||
		    strncmp(r->procs.items[i].name, change, tl) || is_release(r->procs.items[i].name))
			continue;
		long n = *op == '=' ? v : *op == '+' ? counts[i] + v : counts[i] - v;
		if (n < 0 || n > max)
			return sw_error_set(SW_EINVALID, "cannot run %ld %.*s processes: use 0 to %d "
					    "(slipway.maxInstances)", n, (int)tl, change, max);
		counts[i] = (int)n;
		return 0;
	}
	struct buf types = BUF_INIT;
	for (size_t i = 0; i < r->procs.n; i++)
		if (!is_release(r->procs.items[i].name))
			buf_addf(&types, "%s%s", types.len ? ", " : "", r->procs.items[i].name);
	int err = sw_error_set(SW_EINVALID, "no such process type '%.*s' in release v%d (types: %s)",
			       (int)tl, change, r->version, types.len ? types.data : "none");
	buf_release(&types);
	return err;
}

int formation_write(const char *root, const char *app, const struct release *r,
		    const int *counts)
{
	struct strvec lines = STRVEC_INIT;
	for (size_t i = 0; i < r->procs.n; i++)
		if (!is_release(r->procs.items[i].name))
			strvec_pushf(&lines, "%s=%d", r->procs.items[i].name, counts[i]);
	int err = listfile_write(&formation_file, root, app, &lines);
	strvec_clear(&lines);
	return err;
}

const struct formation_size formation_sizes[] = {
	{ "standard-1x", 512ULL << 20 },
	{ "standard-2x", 1ULL << 30 },
	{ "performance-m", 2560ULL << 20 },
	{ "performance-l", 14ULL << 30 },
	{ NULL, 0 },
};

/* "TYPE=SIZE" lines, changed under the app's lock, which the caller holds. */
static const struct listfile sizes_file = {
	.path = paths_sizes_file,
	.max = FORMATION_MAX,
};

const struct formation_size *formation_size_find(const char *name)
{
	for (size_t i = 0; formation_sizes[i].name; i++)
		if (!strcasecmp(formation_sizes[i].name, name))
			return &formation_sizes[i];
	return NULL;
}

int formation_size_parse(const char *name, const struct formation_size **out)
{
	if ((*out = formation_size_find(name)))
		return 0;
	struct buf names = BUF_INIT;
	for (size_t i = 0; formation_sizes[i].name; i++)
		buf_addf(&names, "%s%s", i ? ", " : "", formation_sizes[i].name);
	int err = sw_error_set(SW_EINVALID, "invalid size '%s': use %s", name, names.data);
	buf_release(&names);
	return err;
}

/* The size the line "TYPE=SIZE" gives type, or NULL when it is not about it. */
static const struct formation_size *size_of(const char *line, const char *type)
{
	size_t tl = strlen(type);
	if (strncmp(line, type, tl) || line[tl] != '=')
		return NULL;
	return formation_size_find(line + tl + 1);
}

const struct formation_size *formation_size_of(const char *root, const char *app,
					       const char *type)
{
	struct strvec lines = STRVEC_INIT;
	const struct formation_size *found = NULL;
	if (listfile_read(&sizes_file, root, app, &lines) == 0)
		for (size_t k = 0; k < lines.n; k++)
			if (size_of(lines.v[k], type))
				found = size_of(lines.v[k], type);
	strvec_clear(&lines);
	return found;
}

/* The type of "TYPE=SIZE" and its size; SW_EINVALID (the message set) when either is wrong. */
static int parse_resize(const struct release *r, const char *change, char **type,
			const struct formation_size **size)
{
	size_t tl = strcspn(change, "=");
	*type = xstrndup(change, tl);
	if (!tl || !change[tl])
		return sw_error_set(SW_EINVALID, "invalid size '%s': use TYPE=SIZE, for example "
				    "web=standard-2x", change);
	if (!proc_list_get(&r->procs, *type) || is_release(*type))
		return sw_error_set(SW_EINVALID, "no such process type '%s' in release v%d", *type,
				    r->version);
	return formation_size_parse(change + tl + 1, size);
}

int formation_resize(const char *root, const char *app, const struct release *r,
		     char *const *changes, size_t n, struct strvec *types)
{
	struct strvec lines = STRVEC_INIT, sizes = STRVEC_INIT;
	int err = 0;
	for (size_t i = 0; !err && i < n; i++) {
		char *type = NULL;
		const struct formation_size *size = NULL;
		if (!(err = parse_resize(r, changes[i], &type, &size))) {
			strvec_push(types, type);
			strvec_push(&sizes, size->name);
		}
		free(type);
	}
	if (err || (err = listfile_read(&sizes_file, root, app, &lines)))
		goto done;
	struct strvec kept = STRVEC_INIT;
	for (size_t k = 0; k < lines.n; k++) {
		size_t tl = strcspn(lines.v[k], "=");
		int changed = 0;
		for (size_t i = 0; i < types->n; i++)
			changed |= strlen(types->v[i]) == tl && !strncmp(lines.v[k], types->v[i], tl);
		if (!changed)
			strvec_push(&kept, lines.v[k]);
	}
	for (size_t i = 0; i < types->n; i++)
		strvec_pushf(&kept, "%s=%s", types->v[i], sizes.v[i]);
	err = listfile_write(&sizes_file, root, app, &kept);
	strvec_clear(&kept);
done:
	strvec_clear(&lines);
	strvec_clear(&sizes);
	return err;
}
