#define _GNU_SOURCE
#include "builder/buildpacks.h"

#include "store/app.h"
#include "store/listfile.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

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

/* Keeps a line of a list: a spec that passes buildpacks_spec_check(), BUILDPACKS_MAX at most. */
static int spec_line(const char *line, size_t kept)
{
	int err = buildpacks_spec_check(line);
	if (!err && kept >= BUILDPACKS_MAX)
		err = sw_error_set(SW_EINVALID, "too many buildpacks (max %d)", BUILDPACKS_MAX);
	return err ? err : 1;
}

/* Changed under the app's lock, so never in the middle of a build. */
static const struct listfile list_file = {
	.path = paths_buildpacks_file,
	.max = LIST_FILE_MAX,
	.check = spec_line,
};

int buildpacks_parse(const char *text, size_t len, struct strvec *out)
{
	return listfile_parse(&list_file, text, len, out);
}

int buildpacks_list(const char *root, const char *app, struct strvec *out)
{
	int err = app_check_exists(root, app);
	if (!err)
		err = listfile_read(&list_file, root, app, out);
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

/* A change of the list, for change_list(). */
struct change {
	const char *app, *spec;
	enum op op;
	int index;
	struct strvec next; /* the list after it */
};

/* Where the change goes in l, a list of l->n: *at; SW_EEXISTS, SW_ENOTFOUND or SW_EINVALID. */
static int position(const struct change *ch, const struct strvec *l, size_t *at)
{
	const char *app = ch->app, *spec = ch->spec;
	int index = ch->index;
	*at = l->n;
	if (ch->op == OP_ADD) {
		if (find(l, spec) < l->n)
			return sw_error_set(SW_EEXISTS, "the buildpack '%s' is already set on %s", spec, app);
		if (l->n >= BUILDPACKS_MAX)
			return sw_error_set(SW_EINVALID, "%s already has %d buildpacks, the most it can have",
					    app, BUILDPACKS_MAX);
		if (index < 0 || (size_t)index > l->n + 1)
			return sw_error_set(SW_EINVALID, "invalid index %d: use 1 to %zu", index, l->n + 1);
		*at = index ? (size_t)index - 1 : l->n;
	} else if (ch->op == OP_SET) {
		size_t max = l->n ? l->n : 1;
		if (index < 0 || (size_t)index > max)
			return sw_error_set(SW_EINVALID, "invalid index %d: use 1 to %zu", index, max);
		*at = index ? (size_t)index - 1 : 0;
		size_t was = find(l, spec);
		if (index && was < l->n && was != *at)
			return sw_error_set(SW_EEXISTS, "the buildpack '%s' is already set on %s, at %zu",
					    spec, app, was + 1);
	} else if (ch->op == OP_REMOVE) {
		if (spec) {
			*at = find(l, spec);
			if (*at == l->n)
				return sw_error_set(SW_ENOTFOUND,
					"the buildpack '%s' is not set on %s (see: slipway buildpacks -a %s)",
					spec, app, app);
		} else if (index < 1 || (size_t)index > l->n) {
			return l->n ? sw_error_set(SW_EINVALID, "invalid index %d: use 1 to %zu", index, l->n)
				    : sw_error_set(SW_ENOTFOUND, "%s has no buildpacks set", app);
		} else {
			*at = (size_t)index - 1;
		}
	}
	return 0;
}

/* Makes l the list after the change (listfile_edit()'s callback). */
static int change_list(struct strvec *l, void *ctx)
{
	struct change *ch = ctx;
	struct strvec *next = &ch->next;
	enum op op = ch->op;
	int index = ch->index;
	size_t at;
	int err = position(ch, l, &at);
	if (err)
		return err;
	for (size_t i = 0; op != OP_CLEAR && i <= l->n; i++) {
		if ((op == OP_ADD && i == at) || (op == OP_SET && i == at && (index || !i)))
			strvec_push(next, ch->spec);
		if (op == OP_SET && (!index || i == at))
			continue;
		if (i < l->n && !(op == OP_REMOVE && i == at))
			strvec_push(next, l->v[i]);
	}
	strvec_clear(l);
	for (size_t i = 0; i < next->n; i++)
		strvec_push(l, next->v[i]);
	return 0;
}

/* Read, change and write the list under the app lock. */
static int edit(const char *root, const char *app, enum op op, const char *spec, int index,
		struct strvec *after)
{
	struct change ch = { .app = app, .spec = spec, .op = op, .index = index,
			     .next = STRVEC_INIT };
	int err;

	if ((err = app_check_exists(root, app)) || (spec && (err = buildpacks_spec_check(spec))))
		return err;
	err = listfile_edit(&list_file, root, app, change_list, &ch);
	for (size_t i = 0; !err && after && i < ch.next.n; i++)
		strvec_push(after, ch.next.v[i]);
	strvec_clear(&ch.next);
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
