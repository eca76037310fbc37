#include "store/diff.h"

#include "store/cas.h"
#include "store/ledger.h"
#include "store/paths.h"
#include "store/slug.h"
#include "util/error.h"
#include "util/gitutil.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

/* ---- config vars and process types ---- */

static void pairs_push(struct diff_pairs *p, enum diff_kind kind, const char *name,
		       const char *old_value, const char *new_value)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->items = xrealloc(p->items, p->cap * sizeof(*p->items));
	}
	p->items[p->n++] = (struct diff_pair){
		.kind = kind,
		.name = xstrdup(name),
		.old_value = old_value ? xstrdup(old_value) : NULL,
		.new_value = new_value ? xstrdup(new_value) : NULL,
	};
}

void config_diff(const struct config *a, const struct config *b, struct diff_pairs *out)
{
	size_t i = 0, j = 0;
	/* both are sorted by key: one merge */
	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->items[i].key, b->items[j].key);
		if (c < 0) {
			pairs_push(out, DIFF_REMOVED, a->items[i].key, a->items[i].value, NULL);
			i++;
		} else if (c > 0) {
			pairs_push(out, DIFF_ADDED, b->items[j].key, NULL, b->items[j].value);
			j++;
		} else {
			if (strcmp(a->items[i].value, b->items[j].value))
				pairs_push(out, DIFF_CHANGED, a->items[i].key, a->items[i].value,
					   b->items[j].value);
			i++;
			j++;
		}
	}
}

void procs_diff(const struct proc_list *a, const struct proc_list *b, struct diff_pairs *out)
{
	for (size_t i = 0; i < a->n; i++) {
		const char *now = proc_list_get(b, a->items[i].name);
		if (!now)
			pairs_push(out, DIFF_REMOVED, a->items[i].name, a->items[i].command, NULL);
		else if (strcmp(now, a->items[i].command))
			pairs_push(out, DIFF_CHANGED, a->items[i].name, a->items[i].command, now);
	}
	for (size_t j = 0; j < b->n; j++)
		if (!proc_list_get(a, b->items[j].name))
			pairs_push(out, DIFF_ADDED, b->items[j].name, NULL, b->items[j].command);
}

void addons_diff(const struct attachments *a, const struct attachments *b,
		 struct diff_pairs *out)
{
	size_t i = 0, j = 0;
	/* both are sorted by alias: one merge */
	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->v[i].alias, b->v[j].alias);
		if (c < 0) {
			pairs_push(out, DIFF_REMOVED, a->v[i].alias, a->v[i].addon, NULL);
			i++;
		} else if (c > 0) {
			pairs_push(out, DIFF_ADDED, b->v[j].alias, NULL, b->v[j].addon);
			j++;
		} else {
			if (strcmp(a->v[i].addon, b->v[j].addon))
				pairs_push(out, DIFF_CHANGED, a->v[i].alias, a->v[i].addon,
					   b->v[j].addon);
			i++;
			j++;
		}
	}
}

void diff_pairs_count(const struct diff_pairs *p, size_t *added, size_t *removed, size_t *changed)
{
	*added = *removed = *changed = 0;
	for (size_t i = 0; i < p->n; i++)
		(*(p->items[i].kind == DIFF_ADDED     ? added
		   : p->items[i].kind == DIFF_REMOVED ? removed
						      : changed))++;
}

void diff_pairs_release(struct diff_pairs *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->items[i].name);
		free(p->items[i].old_value);
		free(p->items[i].new_value);
	}
	free(p->items);
	memset(p, 0, sizeof(*p));
}

/* ---- slugs ---- */

#define SLUG_DIFF_CHUNK (256 * 1024)

/* One side of the walk: its reader and current entry (path copied). */
struct side {
	struct slug_reader *r;
	struct slug_entry e;
	char *path, *link;
	int more;               /* 1 while e is an entry, 0 at the end */
};

static int side_next(struct side *s)
{
	free(s->path);
	free(s->link);
	s->path = s->link = NULL;
	s->more = slug_reader_next(s->r, &s->e);
	if (s->more > 0) {
		s->path = xstrdup(s->e.path);
		s->link = s->e.link ? xstrdup(s->e.link) : NULL;
	}
	return s->more;
}

/*
 * Slug order (slug.h): siblings by strcmp, each directory followed by its
 * contents.  Comparing paths component by component, with the end of a
 * component below every byte, gives that order; a plain strcmp would not
 * ("./app/a/x" comes before "./app/a-b" although '-' < '/').
 */
static int slug_path_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char ca = *a == '/' ? 0 : (unsigned char)*a;
		unsigned char cb = *b == '/' ? 0 : (unsigned char)*b;
		if (!*a || !*b)
			return (*a != 0) - (*b != 0);
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
}

static void slug_push(struct slug_diff *d, enum diff_kind kind, const struct side *a,
		      const struct side *b, unsigned what)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->items = xrealloc(d->items, d->cap * sizeof(*d->items));
	}
	struct slug_diff_entry *x = &d->items[d->n++];
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	x->what = what;
	x->path = xstrdup(a ? a->path : b->path);
	if (a) {
		x->old_type = a->e.type;
		x->old_mode = a->e.mode;
		x->old_size = a->e.size;
	}
	if (b) {
		x->new_type = b->e.type;
		x->new_mode = b->e.mode;
		x->new_size = b->e.size;
	}
	if (kind == DIFF_ADDED)
		d->added++;
	else if (kind == DIFF_REMOVED)
		d->removed++;
	else
		d->changed++;
}

/* 1 if the data of the two current entries (same size) differ, 0 if equal, or < 0. */
static int data_differs(struct side *a, struct side *b, char *buf_a, char *buf_b,
			uint64_t *compared)
{
	for (;;) {
		int64_t na = slug_reader_data(a->r, buf_a, SLUG_DIFF_CHUNK);
		if (na < 0)
			return (int)na;
		int64_t nb = slug_reader_data(b->r, buf_b, SLUG_DIFF_CHUNK);
		if (nb < 0)
			return (int)nb;
		*compared += (uint64_t)(na < nb ? na : nb);
		if (na != nb || memcmp(buf_a, buf_b, (size_t)na))
			return 1;
		if (na == 0)
			return 0;
	}
}

/* What differs between the current entries of a and b (same path): SLUG_DIFF_* bits, or < 0. */
static int entry_differs(struct side *a, struct side *b, char *buf_a, char *buf_b,
			 uint64_t *compared)
{
	unsigned what = 0;
	if (a->e.type != b->e.type)
		return SLUG_DIFF_TYPE;
	if (a->e.mode != b->e.mode)
		what |= SLUG_DIFF_MODE;
	if (a->e.size != b->e.size)
		what |= SLUG_DIFF_SIZE;
	else if (a->e.type == 'l' && strcmp(a->link ? a->link : "", b->link ? b->link : ""))
		what |= SLUG_DIFF_CONTENT;
	else if (a->e.type == 'f' && a->e.size) {
		int rc = data_differs(a, b, buf_a, buf_b, compared);
		if (rc < 0)
			return rc;
		if (rc)
			what |= SLUG_DIFF_CONTENT;
	}
	return (int)what;
}

int slug_diff(const char *path_a, const char *path_b, struct slug_diff *d)
{
	struct side a = { 0 }, b = { 0 };
	char *buf_a = NULL, *buf_b = NULL;
	int err;

	if ((err = slug_reader_open(&a.r, path_a)) < 0 || (err = slug_reader_open(&b.r, path_b)) < 0)
		goto done;
	buf_a = xmalloc(SLUG_DIFF_CHUNK);
	buf_b = xmalloc(SLUG_DIFF_CHUNK);
	if ((err = side_next(&a)) < 0 || (err = side_next(&b)) < 0)
		goto done;
	while (a.more || b.more) {
		int c = !a.more ? 1 : !b.more ? -1 : slug_path_cmp(a.path, b.path);
		if (c < 0) {
			d->old_bytes += a.e.size;
			slug_push(d, DIFF_REMOVED, &a, NULL, 0);
		} else if (c > 0) {
			d->new_bytes += b.e.size;
			slug_push(d, DIFF_ADDED, NULL, &b, 0);
		} else {
			d->old_bytes += a.e.size;
			d->new_bytes += b.e.size;
			int what = entry_differs(&a, &b, buf_a, buf_b, &d->compared_bytes);
			if ((err = what) < 0)
				goto done;
			if (what)
				slug_push(d, DIFF_CHANGED, &a, &b, (unsigned)what);
		}
		if ((c <= 0 && (err = side_next(&a)) < 0) || (c >= 0 && (err = side_next(&b)) < 0))
			goto done;
	}
	err = 0;
done:
	free(buf_a);
	free(buf_b);
	free(a.path);
	free(a.link);
	free(b.path);
	free(b.link);
	/* nesting order: b was opened last */
	slug_reader_close(b.r);
	slug_reader_close(a.r);
	return err;
}

void slug_diff_release(struct slug_diff *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->items[i].path);
	free(d->items);
	memset(d, 0, sizeof(*d));
}

/* ---- commits ---- */

/* Commits reachable from `from` but not from `hide`, newest first. */
static int walk_range(git_repository *repo, const git_oid *from, const git_oid *hide,
		      struct diff_commits *out)
{
	git_revwalk *w = NULL;
	git_oid oid;
	int rc, err = 0;

	if (git_revwalk_new(&w, repo) < 0 || git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME) < 0 ||
	    git_revwalk_push(w, from) < 0 || git_revwalk_hide(w, hide) < 0) {
		err = sw_git_error(SW_ERROR, "cannot walk the app's commits");
		goto done;
	}
	while ((rc = git_revwalk_next(&oid, w)) == 0) {
		out->total++;
		if (out->n == DIFF_COMMITS_LISTED)
			continue;
		git_commit *commit;
		if (git_commit_lookup(&commit, repo, &oid) < 0) {
			err = sw_git_error(SW_ERROR, "cannot read the app's commits");
			goto done;
		}
		if (!out->items)
			out->items = xcalloc(DIFF_COMMITS_LISTED, sizeof(*out->items));
		struct diff_commit *c = &out->items[out->n++];
		git_oid_tostr(c->sha, sizeof(c->sha), &oid);
		const char *s = git_commit_summary(commit);
		c->subject = xstrdup(s ? s : "");
		git_commit_free(commit);
	}
	if (rc != GIT_ITEROVER)
		err = sw_git_error(SW_ERROR, "cannot walk the app's commits");
done:
	git_revwalk_free(w);
	return err;
}

/* 1 if the repository has commit hex (oid set), 0 if not. */
static int have_commit(git_repository *repo, const char *hex, git_oid *oid)
{
	git_object *o;
	if (git_oid_fromstr(oid, hex) < 0 || git_object_lookup(&o, repo, oid, GIT_OBJECT_COMMIT) < 0)
		return 0;
	git_object_free(o);
	return 1;
}

int diff_commits(const char *repo_path, const char *a, const char *b, struct code_diff *out)
{
	git_repository *repo;
	git_oid oa, ob;
	int err = sw_git_open(&repo, repo_path);
	if (err)
		return err;
	if (!have_commit(repo, a, &oa))
		memcpy(out->missing, a, 41);
	else if (!have_commit(repo, b, &ob))
		memcpy(out->missing, b, 41);
	else if (!(err = walk_range(repo, &ob, &oa, &out->ahead)) &&
		 !(err = walk_range(repo, &oa, &ob, &out->behind)))
		out->compared = 1;
	git_repository_free(repo);
	return err;
}

static void commits_release(struct diff_commits *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->items[i].subject);
	free(c->items);
	memset(c, 0, sizeof(*c));
}

void code_diff_release(struct code_diff *d)
{
	commits_release(&d->ahead);
	commits_release(&d->behind);
	memset(d, 0, sizeof(*d));
}

/* ---- two releases ---- */

static void compare_slugs(const char *root, struct release_diff *d)
{
	char *pa = cas_path(root, d->a.slug), *pb = cas_path(root, d->b.slug);
	if (!pa || !pb)
		d->slug_error = xstrdup("invalid slug checksum");
	else if (cas_lookup(root, d->a.slug, NULL) < 0 || cas_lookup(root, d->b.slug, NULL) < 0)
		d->slug_error = xasprintf("slug %.12s is not in the store",
					  cas_lookup(root, d->a.slug, NULL) < 0 ? d->a.slug : d->b.slug);
	else if (slug_diff(pa, pb, &d->slug) < 0)
		d->slug_error = xstrdup(sw_error_last());
	else
		d->slug_compared = 1;
	free(pa);
	free(pb);
}

int release_diff(const char *root, const char *app, int va, int vb, struct release_diff *d)
{
	struct ledger *l = NULL;
	char *repo = app_repo_path(root, app);
	unsigned what = LEDGER_READ_PROCS | LEDGER_READ_CONFIG;
	int err = ledger_open(&l, repo);

	d->a = (struct release)RELEASE_INIT;
	d->b = (struct release)RELEASE_INIT;
	/* b first: "releases:diff v99" names v99, not v98 */
	if (err || (err = ledger_read(l, vb, what, &d->b)) < 0 ||
	    (err = ledger_read(l, va, what, &d->a)) < 0)
		goto done;
	config_diff(&d->a.config, &d->b.config, &d->config);
	procs_diff(&d->a.procs, &d->b.procs, &d->procs);
	addons_diff(&d->a.addons, &d->b.addons, &d->addons);
	if (d->a.commit[0] && d->b.commit[0] && strcmp(d->a.commit, d->b.commit) &&
	    (err = diff_commits(repo, d->a.commit, d->b.commit, &d->code)) < 0)
		goto done;
	if (d->a.slug[0] && d->b.slug[0] && strcmp(d->a.slug, d->b.slug))
		compare_slugs(root, d);
	err = 0;
done:
	ledger_free(l);
	free(repo);
	return err;
}

void release_diff_release(struct release_diff *d)
{
	release_release(&d->a);
	release_release(&d->b);
	code_diff_release(&d->code);
	diff_pairs_release(&d->config);
	diff_pairs_release(&d->procs);
	diff_pairs_release(&d->addons);
	slug_diff_release(&d->slug);
	free(d->slug_error);
	memset(d, 0, sizeof(*d));
}
