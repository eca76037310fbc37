#define _GNU_SOURCE
#include "builder/buildpacks.h"

#include "store/app.h"
#include "store/appctx.h"
#include "store/paths.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/lockfile.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

#define LIST_FILE "slipway-buildpacks"

/* What each shipped buildpack's bin/detect checks (buildpacks/<name>/bin/detect). */
static const struct buildpacks_shipped shipped[] = {
	{ "node", "heroku/nodejs", "package.json" },
	{ "python", "heroku/python", "requirements.txt, setup.py or pyproject.toml" },
	{ "make", NULL, "Makefile, makefile, GNUmakefile or CMakeLists.txt" },
	{ "static", NULL, "index.html, and none of the files above" },
	{ "procfile", NULL, "Procfile" },
};

const struct buildpacks_shipped *buildpacks_shipped_find(const char *name)
{
	for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++)
		if (!strcmp(name, shipped[i].name) ||
		    (shipped[i].heroku && !strcmp(name, shipped[i].heroku)))
			return &shipped[i];
	return NULL;
}
#define LIST_FILE_MAX (BUILDPACKS_MAX * (BUILDPACKS_SPEC_MAX + 1))

int buildpacks_spec_check(const char *spec)
{
	size_t n = strlen(spec);
	if (!n)
		return sw_error_set(SW_EINVALID, "empty buildpack: give a shipped name, a directory or a git URL");
	if (n > BUILDPACKS_SPEC_MAX)
		return sw_error_set(SW_EINVALID, "buildpack '%.40s...' is too long (max %d bytes)",
				    spec, BUILDPACKS_SPEC_MAX);
	for (const unsigned char *p = (const unsigned char *)spec; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return sw_error_set(SW_EINVALID,
				"buildpack '%s' holds a blank or control character: give a shipped name, a directory or a git URL",
				spec);
	return 0;
}

int buildpacks_parse(const char *text, size_t len, struct strvec *out)
{
	struct text_lines it = TEXT_LINES_INIT(text, len);
	const char *s;
	size_t n;
	while (text_lines_next(&it, &s, &n)) {
		const char *e = s + n;
		char *spec = xstrndup(s, (size_t)(e - s));
		int err = buildpacks_spec_check(spec);
		if (!err && out->n >= BUILDPACKS_MAX)
			err = sw_error_set(SW_EINVALID, "too many buildpacks (max %d)", BUILDPACKS_MAX);
		if (!err && memchr(s, '\0', (size_t)(e - s)))
			err = sw_error_set(SW_EINVALID, "it holds a NUL byte");
		if (err) {
			free(spec);
			return sw_error_prefix(SW_EINVALID, "line %d: ", it.lineno);
		}
		strvec_push(out, spec);
		free(spec);
	}
	return 0;
}

static char *list_path(const char *root, const char *app)
{
	return paths_repo_file(root, app, LIST_FILE);
}

static int read_list(const char *path, struct strvec *out)
{
	char *text = NULL;
	size_t len = 0;
	int err = fs_read_file(path, LIST_FILE_MAX, &text, &len);
	if (err == SW_ENOTFOUND)
		return 0;
	if (!err)
		err = buildpacks_parse(text, len, out);
	free(text);
	return err;
}

static int write_list(struct lockfile *lf, const struct strvec *l)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < l->n; i++)
		buf_addf(&b, "%s\n", l->v[i]);
	int err = lockfile_commit(lf, b.data, b.len, 0644);
	buf_release(&b);
	return err;
}

int buildpacks_list(const char *root, const char *app, struct strvec *out)
{
	int err = app_check_exists(root, app);
	if (err)
		return err;
	char *path = list_path(root, app);
	err = read_list(path, out);
	free(path);
	return err;
}

static size_t find(const struct strvec *l, const char *spec)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], spec))
			return i;
	return l->n;
}

enum op { OP_ADD, OP_REMOVE, OP_SET, OP_CLEAR };

/* Read, change and write the list under the app lock. */
static int edit(const char *root, const char *app, enum op op, const char *spec, int index,
		struct strvec *after)
{
	struct strvec l = STRVEC_INIT, next = STRVEC_INIT;
	struct lockfile lf = LOCKFILE_INIT;
	char *path = NULL, *lockpath = NULL;
	int wait, err;

	if ((err = app_check_exists(root, app)) || (spec && (err = buildpacks_spec_check(spec))))
		return err;
	lockpath = app_lock_path(root, app);
	path = list_path(root, app);
	if ((err = app_lock_wait(&wait)) ||
	    (err = lockfile_hold(&lf, path, lockpath, wait)) ||
	    (err = read_list(path, &l)))
		goto done;
	size_t at = l.n;
	if (op == OP_ADD) {
		if (find(&l, spec) < l.n) {
			err = sw_error_set(SW_EEXISTS, "the buildpack '%s' is already set on %s", spec, app);
			goto done;
		}
		if (l.n >= BUILDPACKS_MAX) {
			err = sw_error_set(SW_EINVALID, "%s already has %d buildpacks, the most it can have",
					   app, BUILDPACKS_MAX);
			goto done;
		}
		if (index < 0 || (size_t)index > l.n + 1) {
			err = sw_error_set(SW_EINVALID, "invalid index %d: use 1 to %zu", index, l.n + 1);
			goto done;
		}
		at = index ? (size_t)index - 1 : l.n;
	} else if (op == OP_SET) {
		size_t max = l.n ? l.n : 1;
		if (index < 0 || (size_t)index > max) {
			err = sw_error_set(SW_EINVALID, "invalid index %d: use 1 to %zu", index, max);
			goto done;
		}
		at = index ? (size_t)index - 1 : 0;
		size_t was = find(&l, spec);
		if (index && was < l.n && was != at) {
			err = sw_error_set(SW_EEXISTS, "the buildpack '%s' is already set on %s, at %zu",
					   spec, app, was + 1);
			goto done;
		}
	} else if (op == OP_REMOVE) {
		if (spec) {
			at = find(&l, spec);
			if (at == l.n) {
				err = sw_error_set(SW_ENOTFOUND,
					"the buildpack '%s' is not set on %s (see: slipway buildpacks -a %s)",
					spec, app, app);
				goto done;
			}
		} else if (index < 1 || (size_t)index > l.n) {
			err = l.n ? sw_error_set(SW_EINVALID, "invalid index %d: use 1 to %zu", index, l.n)
				  : sw_error_set(SW_ENOTFOUND, "%s has no buildpacks set", app);
			goto done;
		} else {
			at = (size_t)index - 1;
		}
	}
	for (size_t i = 0; op != OP_CLEAR && i <= l.n; i++) {
		if ((op == OP_ADD && i == at) || (op == OP_SET && i == at && (index || !i)))
			strvec_push(&next, spec);
		if (op == OP_SET && (!index || i == at))
			continue;
		if (i < l.n && !(op == OP_REMOVE && i == at))
			strvec_push(&next, l.v[i]);
	}
	if ((err = write_list(&lf, &next)))
		goto done;
	if (after)
		for (size_t i = 0; i < next.n; i++)
			strvec_push(after, next.v[i]);
done:
	lockfile_rollback(&lf);
	strvec_clear(&l);
	strvec_clear(&next);
	free(path);
	free(lockpath);
	return err;
}

int buildpacks_add(const char *root, const char *app, const char *spec, int index,
		   struct strvec *after)
{
	return edit(root, app, OP_ADD, spec, index, after);
}

int buildpacks_remove(const char *root, const char *app, const char *spec, int index,
		      struct strvec *after)
{
	return edit(root, app, OP_REMOVE, spec, index, after);
}

int buildpacks_set(const char *root, const char *app, const char *spec, int index,
		   struct strvec *after)
{
	return edit(root, app, OP_SET, spec, index, after);
}

int buildpacks_clear(const char *root, const char *app)
{
	return edit(root, app, OP_CLEAR, NULL, 0, NULL);
}
