#include "view/diff.h"

#include "util/json.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared by both views ---- */

enum code_status { CODE_NONE, CODE_ONE_SIDE, CODE_SAME, CODE_MISSING, CODE_FORWARD, CODE_BACKWARD,
		   CODE_DIVERGED };

static enum code_status code_status(const struct release_diff *d)
{
	if (!d->a.commit[0] && !d->b.commit[0])
		return CODE_NONE;
	if (!d->a.commit[0] || !d->b.commit[0])
		return CODE_ONE_SIDE;
	if (!strcmp(d->a.commit, d->b.commit))
		return CODE_SAME;
	if (!d->code.compared)
		return CODE_MISSING;
	if (!d->code.behind.total)
		return CODE_FORWARD;
	return d->code.ahead.total ? CODE_DIVERGED : CODE_BACKWARD;
}

static const char *const code_status_names[] = { "no_code", "one_side", "same", "missing",
						 "forward", "backward", "diverged" };

/* "app/index.js": the stored name without its "./" */
static const char *shown_path(const char *path)
{
	return !strncmp(path, "./", 2) ? path + 2 : path;
}

static const char *type_name(char t)
{
	return t == 'f' ? "file" : t == 'd' ? "directory" : t == 'l' ? "symlink" : "other";
}

/* ---- text ---- */

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* "12 B", "1.2 KB", "3.4 MB", "5.6 GB" (powers of 1000) */
static void add_size(struct buf *out, uint64_t n)
{
	if (n < 1000)
		buf_addf(out, "%" PRIu64 " B", n);
	else if (n < 1000000)
		buf_addf(out, "%.1f KB", (double)n / 1e3);
	else if (n < 1000000000)
		buf_addf(out, "%.1f MB", (double)n / 1e6);
	else
		buf_addf(out, "%.1f GB", (double)n / 1e9);
}

static void text_commits(struct buf *out, const struct diff_commits *c, const char *mark)
{
	for (size_t i = 0; i < c->n; i++)
		buf_addf(out, "  %s%.7s %s\n", mark, c->items[i].sha, c->items[i].subject);
	if (c->total > c->n)
		buf_addf(out, "  %s... and %zu more\n", mark, c->total - c->n);
}

static void text_code(struct buf *out, const struct release_diff *d)
{
	const struct code_diff *c = &d->code;
	int va = d->a.version, vb = d->b.version;
	const char *a = d->a.commit, *b = d->b.commit;
	switch (code_status(d)) {
	case CODE_NONE:
		buf_adds(out, "Code: no code\n");
		return;
	case CODE_ONE_SIDE:
		buf_addf(out, "Code: v%d has no code, v%d has %.7s\n", a[0] ? vb : va,
			 a[0] ? va : vb, a[0] ? a : b);
		return;
	case CODE_SAME:
		buf_addf(out, "Code: same commit (%.7s)\n", a);
		return;
	case CODE_MISSING:
		buf_addf(out, "Code: %.7s -> %.7s (commit %.7s is no longer in the app's repository)\n",
			 a, b, c->missing);
		return;
	case CODE_FORWARD:
		buf_addf(out, "Code: %zu %s (%.7s..%.7s)\n", c->ahead.total,
			 plural(c->ahead.total, "commit", "commits"), a, b);
		text_commits(out, &c->ahead, "");
		return;
	case CODE_BACKWARD:
		buf_addf(out, "Code: %zu %s undone (v%d is behind v%d: %.7s is an ancestor of %.7s)\n",
			 c->behind.total, plural(c->behind.total, "commit", "commits"), vb, va, b, a);
		text_commits(out, &c->behind, "- ");
		return;
	case CODE_DIVERGED:
		buf_addf(out, "Code: diverged (%.7s...%.7s): %zu %s only in v%d, %zu only in v%d\n", a,
			 b, c->ahead.total, plural(c->ahead.total, "commit", "commits"), vb,
			 c->behind.total, va);
		text_commits(out, &c->ahead, "+ ");
		text_commits(out, &c->behind, "- ");
		return;
	}
}

static void text_config(struct buf *out, const struct diff_pairs *p, int values)
{
	size_t added, removed, changed;
	diff_pairs_count(p, &added, &removed, &changed);
	if (!p->n) {
		buf_adds(out, "Config: no changes\n");
		return;
	}
	buf_addf(out, "Config: %zu added, %zu removed, %zu changed\n", added, removed, changed);
	for (size_t i = 0; i < p->n; i++) {
		const struct diff_pair *x = &p->items[i];
		if (x->kind == DIFF_CHANGED)
			buf_addf(out, "  ~ %s: ", x->name);
		else
			buf_addf(out, "  %c %s%s", x->kind == DIFF_ADDED ? '+' : '-', x->name,
				 values ? ": " : "");
		if (x->kind == DIFF_CHANGED && values)
			buf_addf(out, "%s -> %s", x->old_value, x->new_value);
		else if (x->kind == DIFF_CHANGED)
			buf_adds(out, "changed");
		else if (values)
			buf_adds(out, x->kind == DIFF_ADDED ? x->new_value : x->old_value);
		buf_adds(out, "\n");
	}
}

static void text_slug_entry(struct buf *out, const struct slug_diff_entry *e)
{
	buf_addf(out, "  %c %s (", e->kind, shown_path(e->path));
	if (e->kind != DIFF_CHANGED) {
		char t = e->kind == DIFF_ADDED ? e->new_type : e->old_type;
		uint64_t size = e->kind == DIFF_ADDED ? e->new_size : e->old_size;
		if (t == 'f')
			buf_addf(out, "%" PRIu64 " bytes)\n", size);
		else
			buf_addf(out, "%s)\n", type_name(t));
		return;
	}
	if (e->what & SLUG_DIFF_TYPE) {
		buf_addf(out, "%s -> %s)\n", type_name(e->old_type), type_name(e->new_type));
		return;
	}
	const char *sep = "";
	if (e->what & SLUG_DIFF_SIZE) {
		buf_addf(out, "%" PRIu64 " -> %" PRIu64 " bytes", e->old_size, e->new_size);
		sep = ", ";
	} else if (e->what & SLUG_DIFF_CONTENT) {
		if (e->new_type == 'l')
			buf_adds(out, "symlink target");
		else
			buf_addf(out, "content, %" PRIu64 " bytes", e->new_size);
		sep = ", ";
	}
	if (e->what & SLUG_DIFF_MODE)
		buf_addf(out, "%smode %04o -> %04o", sep, e->old_mode, e->new_mode);
	buf_adds(out, ")\n");
}

static void text_slug(struct buf *out, const struct release_diff *d)
{
	const struct slug_diff *s = &d->slug;
	if (!d->a.slug[0] || !d->b.slug[0]) {
		if (!d->a.slug[0] && !d->b.slug[0])
			buf_adds(out, "Slug: none\n");
		else
			buf_addf(out, "Slug: v%d has none\n", d->a.slug[0] ? d->b.version : d->a.version);
		return;
	}
	if (!strcmp(d->a.slug, d->b.slug)) {
		buf_addf(out, "Slug: same slug (SHA256:%.12s)\n", d->a.slug);
		return;
	}
	if (!d->slug_compared) {
		buf_addf(out, "Slug: %.12s -> %.12s, not compared: %s\n", d->a.slug, d->b.slug,
			 d->slug_error);
		return;
	}
	if (!s->n) {
		buf_addf(out, "Slug: same files (the archives %.12s and %.12s differ only in their bytes)\n",
			 d->a.slug, d->b.slug);
		return;
	}
	uint64_t grew = s->new_bytes >= s->old_bytes ? s->new_bytes - s->old_bytes : 0;
	uint64_t shrank = s->new_bytes < s->old_bytes ? s->old_bytes - s->new_bytes : 0;
	buf_addf(out, "Slug: %zu %s changed, %zu added, %zu removed (%c", s->changed,
		 plural(s->changed, "file", "files"), s->added, s->removed, shrank ? '-' : '+');
	add_size(out, grew + shrank);
	buf_adds(out, ")\n");
	for (size_t i = 0; i < s->n; i++)
		text_slug_entry(out, &s->items[i]);
}

static void text_procs(struct buf *out, const struct diff_pairs *p)
{
	buf_adds(out, "Process types: ");
	if (!p->n)
		buf_adds(out, "no changes");
	for (size_t i = 0; i < p->n; i++) {
		const struct diff_pair *x = &p->items[i];
		buf_addf(out, "%s%s %s", i ? ", " : "", x->name,
			 x->kind == DIFF_ADDED ? "added" : x->kind == DIFF_REMOVED ? "removed" : "changed");
		if (x->kind == DIFF_CHANGED)
			buf_addf(out, " (%s -> %s)", x->old_value, x->new_value);
	}
	buf_adds(out, "\n");
}

/* Only for apps with add-ons: "Addons: 1 attached, 0 detached, 0 changed" and one line each. */
static void text_addons(struct buf *out, const struct release_diff *d)
{
	const struct diff_pairs *p = &d->addons;
	size_t added, removed, changed;
	if (!d->a.addons.n && !d->b.addons.n)
		return;
	diff_pairs_count(p, &added, &removed, &changed);
	if (!p->n) {
		buf_adds(out, "Addons: no changes\n");
		return;
	}
	buf_addf(out, "Addons: %zu attached, %zu detached, %zu changed\n", added, removed, changed);
	for (size_t i = 0; i < p->n; i++) {
		const struct diff_pair *x = &p->items[i];
		if (x->kind == DIFF_CHANGED)
			buf_addf(out, "  ~ %s: %s -> %s\n", x->name, x->old_value, x->new_value);
		else
			buf_addf(out, "  %c %s: %s\n", x->kind == DIFF_ADDED ? '+' : '-', x->name,
				 x->kind == DIFF_ADDED ? x->new_value : x->old_value);
	}
}

void view_diff_text(struct buf *out, const char *app, const struct release_diff *d, int values)
{
	buf_addf(out, "=== %s v%d -> v%d\n", app, d->a.version, d->b.version);
	text_code(out, d);
	text_config(out, &d->config, values);
	text_addons(out, d);
	text_slug(out, d);
	text_procs(out, &d->procs);
}

/* ---- JSON ---- */

static void json_side(struct json *j, const char *key, const struct release *r)
{
	json_object_begin(j, key);
	json_int(j, "version", r->version);
	json_string(j, "commit", r->commit[0] ? r->commit : NULL);
	if (r->slug[0])
		json_stringf(j, "slug", "SHA256:%s", r->slug);
	else
		json_null(j, "slug");
	json_object_end(j);
}

static void json_commits(struct json *j, const char *key, const struct diff_commits *c)
{
	char *listed = xasprintf("%s_listed", key);
	json_uint(j, key, c->total);
	json_array_begin(j, listed);
	for (size_t i = 0; i < c->n; i++) {
		json_object_begin(j, NULL);
		json_string(j, "sha", c->items[i].sha);
		json_string(j, "subject", c->items[i].subject);
		json_object_end(j);
	}
	json_array_end(j);
	free(listed);
}

static void json_code(struct json *j, const struct release_diff *d)
{
	enum code_status st = code_status(d);
	json_object_begin(j, "code");
	json_string(j, "status", code_status_names[st]);
	if (st == CODE_MISSING)
		json_string(j, "missing", d->code.missing);
	if (d->code.compared) {
		json_commits(j, "ahead", &d->code.ahead);
		json_commits(j, "behind", &d->code.behind);
	}
	json_object_end(j);
}

/* "added":[..],"removed":[..],"changed":[..] of the names of p's pairs */
static void json_names(struct json *j, const struct diff_pairs *p)
{
	static const enum diff_kind kinds[] = { DIFF_ADDED, DIFF_REMOVED, DIFF_CHANGED };
	static const char *const names[] = { "added", "removed", "changed" };
	for (size_t k = 0; k < 3; k++) {
		json_array_begin(j, names[k]);
		for (size_t i = 0; i < p->n; i++)
			if (p->items[i].kind == kinds[k])
				json_string(j, NULL, p->items[i].name);
		json_array_end(j);
	}
}

/* "key":{"NAME":{"from":old,"to":new},...} */
static void json_values(struct json *j, const char *key, const struct diff_pairs *p)
{
	json_object_begin(j, key);
	for (size_t i = 0; i < p->n; i++) {
		json_object_begin(j, p->items[i].name);
		json_string(j, "from", p->items[i].old_value);
		json_string(j, "to", p->items[i].new_value);
		json_object_end(j);
	}
	json_object_end(j);
}

static void json_slug_side(struct json *j, const char *key, char type, unsigned mode,
			   uint64_t size)
{
	if (!type) {
		json_null(j, key);
		return;
	}
	json_object_begin(j, key);
	json_string(j, "type", type_name(type));
	json_stringf(j, "mode", "%04o", mode);
	json_uint(j, "size", size);
	json_object_end(j);
}

static void json_slug(struct json *j, const struct release_diff *d)
{
	const struct slug_diff *s = &d->slug;
	const char *st = !d->a.slug[0] || !d->b.slug[0] ? "none"
			 : !strcmp(d->a.slug, d->b.slug) ? "same"
			 : d->slug_compared             ? "changed"
							: "not_compared";
	json_object_begin(j, "slug");
	json_string(j, "status", st);
	if (d->slug_error)
		json_string(j, "error", d->slug_error);
	if (d->slug_compared) {
		json_uint(j, "added", s->added);
		json_uint(j, "removed", s->removed);
		json_uint(j, "changed", s->changed);
		json_uint(j, "bytes_before", s->old_bytes);
		json_uint(j, "bytes_after", s->new_bytes);
		json_array_begin(j, "entries");
		for (size_t i = 0; i < s->n; i++) {
			const struct slug_diff_entry *e = &s->items[i];
			json_object_begin(j, NULL);
			json_stringf(j, "status", "%c", e->kind);
			json_string(j, "path", shown_path(e->path));
			json_slug_side(j, "from", e->old_type, e->old_mode, e->old_size);
			json_slug_side(j, "to", e->new_type, e->new_mode, e->new_size);
			json_object_end(j);
		}
		json_array_end(j);
	}
	json_object_end(j);
}

void view_diff_json(struct buf *out, const char *app, const struct release_diff *d, int values)
{
	struct json j = JSON_INIT(out);
	json_object_begin(&j, NULL);
	json_string(&j, "app", app);
	json_side(&j, "from", &d->a);
	json_side(&j, "to", &d->b);
	json_code(&j, d);
	json_object_begin(&j, "config");
	json_names(&j, &d->config);
	if (values)
		json_values(&j, "values", &d->config);
	json_object_end(&j);
	json_slug(&j, d);
	json_object_begin(&j, "process_types");
	json_names(&j, &d->procs);
	json_values(&j, "commands", &d->procs);
	json_object_end(&j);
	json_object_begin(&j, "addons");
	json_names(&j, &d->addons);
	json_values(&j, "names", &d->addons);
	json_object_end(&j);
	json_object_end(&j);
	buf_adds(out, "\n");
}
