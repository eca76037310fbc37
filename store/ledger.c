#include "store/ledger.h"

#include "store/paths.h"

#include "util/error.h"
#include "util/gitutil.h"
#include "util/util.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct ledger {
	git_repository *repo;
};

int ledger_open(struct ledger **out, const char *repo_path)
{
	git_repository *repo;
	int err = sw_git_open(&repo, repo_path);
	if (err)
		return err;
	*out = xcalloc(1, sizeof(**out));
	(*out)->repo = repo;
	return 0;
}

void ledger_free(struct ledger *l)
{
	if (!l)
		return;
	git_repository_free(l->repo);
	free(l);
}

static int lookup_ref_oid(struct ledger *l, const char *name, git_oid *out)
{
	int rc = git_reference_name_to_id(out, l->repo, name);
	if (rc == GIT_ENOTFOUND)
		return SW_ENOTFOUND;
	if (rc < 0)
		return sw_git_error(SW_ERROR, "cannot read the release ledger");
	return 0;
}

static char *version_ref(int version)
{
	return xasprintf(LEDGER_RELEASE_REF_PREFIX "%d", version);
}

static int read_blob_entry(git_repository *repo, const git_tree *tree, const char *path,
			   char **out, size_t *len)
{
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	int err = 0;

	*out = NULL;
	if (git_tree_entry_bypath(&e, tree, path) < 0)
		return SW_ENOTFOUND;
	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
	    git_blob_lookup(&blob, repo, git_tree_entry_id(e)) < 0) {
		err = sw_git_error(SW_ERROR, "cannot read the release ledger");
		goto done;
	}
	size_t n = (size_t)git_blob_rawsize(blob);
	*out = xstrndup(git_blob_rawcontent(blob), n);
	if (len)
		*len = n;
done:
	git_blob_free(blob);
	git_tree_entry_free(e);
	return err;
}

/* Calls fn(name, value) for every blob in the subtree at path. */
static int read_subtree(git_repository *repo, const git_tree *tree, const char *path,
			void (*fn)(void *ctx, const char *name, const char *value), void *ctx)
{
	git_tree_entry *e = NULL;
	git_tree *sub = NULL;
	int err = 0;

	if (git_tree_entry_bypath(&e, tree, path) < 0)
		return 0;
	if (git_tree_lookup(&sub, repo, git_tree_entry_id(e)) < 0) {
		err = sw_git_error(SW_ERROR, "cannot read the release ledger");
		goto done;
	}
	for (size_t i = 0; i < git_tree_entrycount(sub); i++) {
		const git_tree_entry *ce = git_tree_entry_byindex(sub, i);
		git_blob *blob;
		if (git_tree_entry_type(ce) != GIT_OBJECT_BLOB)
			continue;
		if (git_blob_lookup(&blob, repo, git_tree_entry_id(ce)) < 0) {
			err = sw_git_error(SW_ERROR, "cannot read the release ledger");
			goto done;
		}
		char *value = xstrndup(git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
		fn(ctx, git_tree_entry_name(ce), value);
		free(value);
		git_blob_free(blob);
	}
done:
	git_tree_free(sub);
	git_tree_entry_free(e);
	return err;
}

static void add_config(void *ctx, const char *name, const char *value)
{
	config_set(ctx, name, value);
}

/* An attachment's blob (store/attach.h); the first malformed one is kept in its error. */
struct addons_read {
	struct attachments *addons;
	int err;
};

static void add_attachment(void *ctx, const char *name, const char *value)
{
	struct addons_read *r = ctx;
	if (!r->err)
		r->err = attach_parse(r->addons, name, value, strlen(value));
}

static void add_proc(void *ctx, const char *name, const char *value)
{
	proc_list_set(ctx, name, value);
}

static int read_commit(struct ledger *l, const git_commit *commit, unsigned what,
		       struct release *out)
{
	git_tree *tree = NULL;
	char *record = NULL;
	size_t len;
	int err;

	if (git_commit_tree(&tree, commit) < 0)
		return sw_git_error(SW_ERROR, "cannot read the release ledger");
	if ((err = read_blob_entry(l->repo, tree, "release", &record, &len))) {
		if (err == SW_ENOTFOUND)
			err = sw_error_set(SW_EINVALID, "release commit %.7s has no record",
					   git_oid_tostr_s(git_commit_id(commit)));
		goto done;
	}
	if ((err = release_parse(out, record, len)))
		goto done;
	struct addons_read ar = { &out->addons, 0 };
	if ((what & LEDGER_READ_CONFIG) &&
	    ((err = read_subtree(l->repo, tree, "config", add_config, &out->config)) ||
	     (err = read_subtree(l->repo, tree, "addons", add_attachment, &ar)) || (err = ar.err)))
		goto done;
	if ((what & LEDGER_READ_PROCS) &&
	    (err = read_subtree(l->repo, tree, "processes", add_proc, &out->procs)))
		goto done;
	if (what & LEDGER_READ_OUTPUT) {
		err = read_blob_entry(l->repo, tree, "output", &out->output, NULL);
		if (err == SW_ENOTFOUND)
			err = 0;
	}
done:
	free(record);
	git_tree_free(tree);
	return err;
}

static int read_oid(struct ledger *l, const git_oid *oid, unsigned what, struct release *out)
{
	git_commit *commit;
	if (git_commit_lookup(&commit, l->repo, oid) < 0)
		return sw_git_error(SW_ERROR, "cannot read the release ledger");
	int err = read_commit(l, commit, what, out);
	git_commit_free(commit);
	return err;
}

static int version_of(struct ledger *l, const git_oid *oid, int *version)
{
	struct release r = RELEASE_INIT;
	int err = read_oid(l, oid, 0, &r);
	*version = r.version;
	release_release(&r);
	return err;
}

/*
 * Finds the newest release: the head ref, then any complete release a
 * killed writer recorded after it (refs/releases/v(N+1) whose parent is
 * the head).
 */
/* 1 if commits a and b have the same parents. */
static int same_parent(struct ledger *l, const git_oid *a, const git_oid *b)
{
	git_commit *ca = NULL, *cb = NULL;
	int same = 0;
	if (git_commit_lookup(&ca, l->repo, a) == 0 && git_commit_lookup(&cb, l->repo, b) == 0) {
		unsigned n = git_commit_parentcount(ca);
		same = n == git_commit_parentcount(cb) &&
		       (n == 0 || git_oid_equal(git_commit_parent_id(ca, 0), git_commit_parent_id(cb, 0)));
	}
	git_commit_free(ca);
	git_commit_free(cb);
	return same;
}

/*
 * The newest release may have been rewritten by ledger_finish() (pending ->
 * succeeded/failed) by a writer killed before it moved the head: the
 * release ref is the truth then.
 */
static int follow_finished(struct ledger *l, int version, git_oid *head)
{
	git_oid ref;
	char *name = version_ref(version);
	int err = lookup_ref_oid(l, name, &ref);
	free(name);
	if (err == SW_ENOTFOUND)
		return 0;
	if (!err && !git_oid_equal(&ref, head) && same_parent(l, &ref, head))
		*head = ref;
	return err;
}

static int find_head(struct ledger *l, int *version, git_oid *oid, int *found)
{
	int err = lookup_ref_oid(l, LEDGER_HEAD_REF, oid);
	*version = 0;
	*found = 0;
	if (err == 0) {
		*found = 1;
		if ((err = version_of(l, oid, version)) || (err = follow_finished(l, *version, oid)))
			return err;
	} else if (err != SW_ENOTFOUND) {
		return err;
	}
	for (;;) {
		git_oid next;
		git_commit *c = NULL;
		char *name = version_ref(*version + 1);
		err = lookup_ref_oid(l, name, &next);
		free(name);
		if (err == SW_ENOTFOUND)
			return 0;
		if (err)
			return err;
		if (git_commit_lookup(&c, l->repo, &next) < 0)
			return sw_git_error(SW_ERROR, "cannot read the release ledger");
		int linked = *found ? (git_commit_parentcount(c) == 1 &&
				       git_oid_equal(git_commit_parent_id(c, 0), oid))
				    : git_commit_parentcount(c) == 0;
		git_commit_free(c);
		if (!linked)
			return 0;
		*oid = next;
		*found = 1;
		(*version)++;
	}
}

int ledger_latest(struct ledger *l, int *version)
{
	git_oid oid;
	int found;
	return find_head(l, version, &oid, &found);
}

/* 1 when the release at oid succeeded (0 with *err set when it cannot be read). */
static int succeeded(struct ledger *l, const git_oid *oid, int *err)
{
	struct release r = RELEASE_INIT;
	*err = read_oid(l, oid, 0, &r);
	int ok = !*err && r.status == RELEASE_SUCCEEDED;
	release_release(&r);
	return ok;
}

int ledger_current(struct ledger *l, int *version)
{
	git_oid oid, head;
	int found, latest, err;

	*version = 0;
	/*
	 * The newest release, when it succeeded, is current: its writer may
	 * have been killed before it (or the next writer's repair) moved the
	 * current ref.
	 */
	if ((err = find_head(l, &latest, &head, &found)))
		return err;
	if (found) {
		int ok = succeeded(l, &head, &err);
		if (err || ok) {
			*version = ok ? latest : 0;
			return err;
		}
	}
	err = lookup_ref_oid(l, LEDGER_CURRENT_REF, &oid);
	if (err == SW_ENOTFOUND)
		return 0;
	return err ? err : version_of(l, &oid, version);
}

/* The commit of release `version`; SW_ENOTFOUND says so in the message. */
static int lookup_version(struct ledger *l, int version, git_oid *oid)
{
	char *name = version_ref(version);
	int err = lookup_ref_oid(l, name, oid);
	free(name);
	if (err == SW_ENOTFOUND)
		return sw_error_set(SW_ENOTFOUND, "release v%d does not exist", version);
	return err;
}

int ledger_read(struct ledger *l, int version, unsigned what, struct release *out)
{
	git_oid oid;
	int err = lookup_version(l, version, &oid);
	if (err)
		return err;
	if ((err = read_oid(l, &oid, what, out)))
		return err;
	if (out->version != version)
		return sw_error_set(SW_EINVALID, "refs/releases/v%d names release v%d", version,
				    out->version);
	return 0;
}

static int insert_blob(git_repository *repo, git_treebuilder *tb, const char *name,
		       const char *data, size_t len)
{
	git_oid oid;
	if (git_blob_create_from_buffer(&oid, repo, data, len) < 0 ||
	    git_treebuilder_insert(NULL, tb, name, &oid, GIT_FILEMODE_BLOB) < 0)
		return sw_git_error(SW_ERROR, "cannot write the release");
	return 0;
}

static int insert_subtree(git_repository *repo, git_treebuilder *parent, const char *name,
			  size_t n, const char *(*key)(const void *, size_t),
			  const char *(*val)(const void *, size_t), const void *items)
{
	git_treebuilder *tb = NULL;
	git_oid oid;
	int err = 0;

	if (git_treebuilder_new(&tb, repo, NULL) < 0)
		return sw_git_error(SW_ERROR, "cannot write the release");
	for (size_t i = 0; i < n && !err; i++)
		err = insert_blob(repo, tb, key(items, i), val(items, i), strlen(val(items, i)));
	if (!err && (git_treebuilder_write(&oid, tb) < 0 ||
		     git_treebuilder_insert(NULL, parent, name, &oid, GIT_FILEMODE_TREE) < 0))
		err = sw_git_error(SW_ERROR, "cannot write the release");
	git_treebuilder_free(tb);
	return err;
}

static const char *cfg_key(const void *p, size_t i) { return ((const struct config_var *)p)[i].key; }
static const char *cfg_val(const void *p, size_t i) { return ((const struct config_var *)p)[i].value; }
static const char *proc_key(const void *p, size_t i) { return ((const struct proc_type *)p)[i].name; }
static const char *proc_val(const void *p, size_t i) { return ((const struct proc_type *)p)[i].command; }

/* addons/<ALIAS>: one blob per attachment (store/attach.h). */
struct blob_pair {
	const char *name;
	char *text;
};

static const char *pair_key(const void *p, size_t i) { return ((const struct blob_pair *)p)[i].name; }
static const char *pair_val(const void *p, size_t i) { return ((const struct blob_pair *)p)[i].text; }

static int insert_addons(git_repository *repo, git_treebuilder *parent,
			 const struct attachments *a)
{
	struct blob_pair *pairs = xcalloc(a->n, sizeof(*pairs));
	for (size_t i = 0; i < a->n; i++) {
		struct buf b = BUF_INIT;
		attach_format(&a->v[i], &b);
		pairs[i].name = a->v[i].alias;
		pairs[i].text = buf_detach(&b);
	}
	int err = insert_subtree(repo, parent, "addons", a->n, pair_key, pair_val, pairs);
	for (size_t i = 0; i < a->n; i++)
		free(pairs[i].text);
	free(pairs);
	return err;
}

static int write_tree(struct ledger *l, const struct release *r, git_oid *out)
{
	git_treebuilder *tb = NULL;
	struct buf rec = BUF_INIT;
	int err;

	if (git_treebuilder_new(&tb, l->repo, NULL) < 0)
		return sw_git_error(SW_ERROR, "cannot write the release");
	release_format(r, &rec);
	if ((err = insert_blob(l->repo, tb, "release", rec.data, rec.len)))
		goto done;
	if (r->config.n && (err = insert_subtree(l->repo, tb, "config", r->config.n, cfg_key,
						 cfg_val, r->config.items)))
		goto done;
	if (r->procs.n && (err = insert_subtree(l->repo, tb, "processes", r->procs.n, proc_key,
						proc_val, r->procs.items)))
		goto done;
	if (r->addons.n && (err = insert_addons(l->repo, tb, &r->addons)))
		goto done;
	if (r->output && (err = insert_blob(l->repo, tb, "output", r->output, strlen(r->output))))
		goto done;
	if (git_treebuilder_write(out, tb) < 0)
		err = sw_git_error(SW_ERROR, "cannot write the release");
done:
	buf_release(&rec);
	git_treebuilder_free(tb);
	return err;
}

static int write_commit(struct ledger *l, const struct release *r, const git_oid *parent,
			git_oid *out)
{
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_commit *pc = NULL;
	git_odb *odb = NULL;
	git_buf body = { 0 };
	git_oid tree_oid;
	int err;

	if ((err = write_tree(l, r, &tree_oid)))
		return err;
	if (git_tree_lookup(&tree, l->repo, &tree_oid) < 0 ||
	    git_signature_new(&sig, "slipway", "slipway@localhost", (git_time_t)r->created, 0) < 0 ||
	    (parent && git_commit_lookup(&pc, l->repo, parent) < 0)) {
		err = sw_git_error(SW_ERROR, "cannot write the release");
		goto done;
	}
	char *msg = xasprintf("v%d: %s\n\nBy: %s\n", r->version, r->description, r->user);
	const git_commit *parents[1] = { pc };
	/*
	 * Built, then written through the object database: git_commit_create()
	 * of libgit2 1.5 reports success when the write fails (a full disk),
	 * and the release would then name a commit that was never stored.
	 */
	if (git_commit_create_buffer(&body, l->repo, sig, sig, NULL, msg, tree, pc ? 1 : 0,
				     parents) < 0 ||
	    git_repository_odb(&odb, l->repo) < 0 ||
	    git_odb_write(out, odb, body.ptr, body.size, GIT_OBJECT_COMMIT) < 0)
		err = sw_git_error(SW_ERROR, "cannot write the release");
	free(msg);
done:
	git_odb_free(odb);
	git_buf_dispose(&body);
	git_commit_free(pc);
	git_tree_free(tree);
	git_signature_free(sig);
	return err;
}

/* Moves name from old (NULL: must not exist) to new. */
static int ref_cas(struct ledger *l, const char *name, const git_oid *new_oid,
		   const git_oid *old_oid, const char *why)
{
	git_reference *ref = NULL;
	int rc = old_oid
		? git_reference_create_matching(&ref, l->repo, name, new_oid, 1, old_oid, why)
		: git_reference_create(&ref, l->repo, name, new_oid, 0, why);
	git_reference_free(ref);
	if (rc == GIT_EEXISTS || rc == GIT_EMODIFIED)
		return sw_error_set(SW_ECONFLICT, "'%s' was changed by another writer; try again",
				    name);
	if (rc < 0)
		return sw_git_error(SW_ERROR, "cannot update the release ledger");
	return 0;
}

/*
 * Finishes what a killed writer left: the current ref lags behind the
 * newest release when that succeeded, and the head ref behind the newest
 * complete release.  Current moves first, as in ledger_append(), so that
 * a repair stopped between the two leaves a head that still lags, which
 * the next reader and writer follow.
 */
static int repair(struct ledger *l, const git_oid *head, git_oid *cur, int *has_cur)
{
	git_oid stored;
	int err;

	if (succeeded(l, head, &err) && !(*has_cur && git_oid_equal(cur, head))) {
		if ((err = ref_cas(l, LEDGER_CURRENT_REF, head, *has_cur ? cur : NULL, "repair")))
			return err;
		*cur = *head;
		*has_cur = 1;
	}
	if (err)
		return err;
	err = lookup_ref_oid(l, LEDGER_HEAD_REF, &stored);
	if (err && err != SW_ENOTFOUND)
		return err;
	int has_stored = err == 0;
	if (has_stored && git_oid_equal(&stored, head))
		return 0;
	return ref_cas(l, LEDGER_HEAD_REF, head, has_stored ? &stored : NULL, "repair");
}

/*
 * Writers hold the app lock, so a ref lock file in the ledger's namespaces
 * is what a killed writer left between locking a ref and renaming it: it
 * would block every later update of that ref.  refs/slipway holds two refs
 * and is scanned.  In refs/releases, which grows with every release, only
 * two refs can have been mid-update: the newest release's (ledger_finish)
 * and the next one's (ledger_append); looking for exactly those keeps an
 * append independent of the ledger's length.
 */
static void remove_stale_ref_locks(struct ledger *l, int newest)
{
	char *dir = xasprintf("%srefs/slipway", git_repository_path(l->repo));
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n > 5 && !strcmp(de->d_name + n - 5, ".lock"))
			unlinkat(dirfd(d), de->d_name, 0);
	}
	if (d)
		closedir(d);
	free(dir);
	for (int v = newest; v <= newest + 1; v++) {
		if (v < 1)
			continue;
		char *lock = xasprintf("%s" LEDGER_RELEASE_REF_PREFIX "%d.lock",
				       git_repository_path(l->repo), v);
		unlink(lock);
		free(lock);
	}
}

/* A release left pending by a killed writer (we hold the lock now) failed. */
static int fail_interrupted(struct ledger *l, int version, git_oid *head)
{
	struct release r = RELEASE_INIT;
	int err = read_oid(l, head, 0, &r);
	int pending = !err && r.status == RELEASE_PENDING;
	release_release(&r);
	if (err || !pending)
		return err;
	if ((err = ledger_finish(l, version, RELEASE_FAILED, RELEASE_INTERRUPTED,
				 "the release was interrupted before it finished\n")))
		return err;
	int v, found;
	return find_head(l, &v, head, &found);
}

/*
 * Takes back a release whose later refs could not be written (a full
 * disk), so a refused change leaves the ledger as it was: its ref vN first,
 * which frees the room current needs, then current.  Keeps the message of
 * the error err that made it undo.
 */
static void undo_append(struct ledger *l, const char *name, const git_oid *oid, int moved_cur,
			const git_oid *cur, int err)
{
	struct sw_error_state why;
	sw_error_save(&why, err);
	git_reference_remove(l->repo, name);
	if (moved_cur && cur)
		ref_cas(l, LEDGER_CURRENT_REF, cur, oid, "undo");
	else if (moved_cur)
		git_reference_remove(l->repo, LEDGER_CURRENT_REF);
	sw_error_restore(&why);
}

int ledger_append(struct ledger *l, struct release *r)
{
	git_oid head, cur, oid;
	int found, version, has_cur, err;

	if ((err = find_head(l, &version, &head, &found)))
		return err;
	remove_stale_ref_locks(l, found ? version : 0);
	err = lookup_ref_oid(l, LEDGER_CURRENT_REF, &cur);
	if (err && err != SW_ENOTFOUND)
		return err;
	has_cur = !err;
	if (found && (err = repair(l, &head, &cur, &has_cur)))
		return err;
	if (found && (err = fail_interrupted(l, version, &head)))
		return err;
	if (version >= RELEASE_VERSION_MAX)
		return sw_error_set(SW_EINVALID, "the ledger is full");
	r->version = version + 1;
	if (!r->created)
		r->created = (int64_t)time(NULL);
	if ((err = write_commit(l, r, found ? &head : NULL, &oid)))
		return err;
	char *name = version_ref(r->version);
	char *why = xasprintf("v%d: %s", r->version, r->description);
	/* vN is the commit point; current moves before the head so that an
	 * up-to-date head always means an up-to-date current */
	int moved_cur = 0;
	err = ref_cas(l, name, &oid, NULL, why);
	if (!err && r->status == RELEASE_SUCCEEDED &&
	    !(err = ref_cas(l, LEDGER_CURRENT_REF, &oid, has_cur ? &cur : NULL, why)))
		moved_cur = 1;
	if (!err)
		err = ref_cas(l, LEDGER_HEAD_REF, &oid, found ? &head : NULL, why);
	if (err && err != SW_ECONFLICT)
		undo_append(l, name, &oid, moved_cur, has_cur ? &cur : NULL, err);
	free(why);
	free(name);
	return err;
}

int ledger_walk(struct ledger *l, int from, unsigned what,
		int (*fn)(const struct release *r, void *ctx), void *ctx)
{
	git_oid oid;
	git_commit *c = NULL;
	int err = 0;

	if (from == 0) {
		int found;
		if ((err = find_head(l, &from, &oid, &found)) || !found)
			return err;
	} else if ((err = lookup_version(l, from, &oid))) {
		return err;
	}
	if (git_commit_lookup(&c, l->repo, &oid) < 0)
		return sw_git_error(SW_ERROR, "cannot read the release ledger");
	for (;;) {
		struct release r = RELEASE_INIT;
		err = read_commit(l, c, what, &r);
		if (!err)
			err = fn(&r, ctx);
		release_release(&r);
		if (err || git_commit_parentcount(c) == 0)
			break;
		git_commit *parent;
		if (git_commit_parent(&parent, c, 0) < 0) {
			err = sw_git_error(SW_ERROR, "cannot read the release ledger");
			break;
		}
		git_commit_free(c);
		c = parent;
	}
	git_commit_free(c);
	return err;
}

static void problem(struct strvec *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct strvec *p, const char *fmt, ...)
{
	va_list ap;
	char msg[512];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	strvec_push(p, msg);
}

struct ref_scan {
	int latest;
	struct strvec *problems;
};

static int scan_release_ref(const char *name, void *ctx)
{
	struct ref_scan *s = ctx;
	const char *v = name + strlen(LEDGER_RELEASE_REF_PREFIX);
	int n;
	if (release_parse_version(v, &n) < 0 || n > s->latest)
		problem(s->problems, "%s is not on the release ledger", name);
	return 0;
}

/* Checks the chain from the head down to v1 against the refs. */
static void check_chain(struct ledger *l, const git_oid *head, int latest, struct strvec *p,
			git_oid *current, int has_current, int *current_ok)
{
	git_oid oid = *head;
	int expect = latest;

	while (expect >= 1) {
		git_commit *c = NULL;
		struct release r = RELEASE_INIT;
		git_oid ref_oid;
		if (git_commit_lookup(&c, l->repo, &oid) < 0) {
			problem(p, "v%d: the release commit is missing", expect);
			return;
		}
		if (read_commit(l, c, 0, &r) < 0)
			problem(p, "v%d: %s", expect, sw_error_last());
		else if (r.version != expect)
			problem(p, "the ledger has v%d where v%d belongs (a gap or a duplicate)",
				r.version, expect);
		char *name = version_ref(expect);
		if (lookup_ref_oid(l, name, &ref_oid) < 0)
			problem(p, "%s is missing", name);
		else if (!git_oid_equal(&ref_oid, &oid))
			problem(p, "%s does not match the release on the ledger", name);
		free(name);
		if (has_current && git_oid_equal(current, &oid)) {
			*current_ok = 1;
			if (r.status != RELEASE_SUCCEEDED)
				problem(p, "the current release v%d did not succeed", expect);
		}
		int parents = (int)git_commit_parentcount(c);
		if (parents == 1)
			oid = *git_commit_parent_id(c, 0);
		if ((expect > 1 && parents != 1) || (expect == 1 && parents != 0))
			problem(p, "v%d: the ledger chain is broken", expect);
		release_release(&r);
		git_commit_free(c);
		if (parents != 1)
			return;
		expect--;
	}
}

int ledger_check(struct ledger *l, struct strvec *problems)
{
	git_oid head, current;
	int latest, found, err;

	if ((err = find_head(l, &latest, &head, &found)))
		return err;
	int has_current = lookup_ref_oid(l, LEDGER_CURRENT_REF, &current) == 0;
	int current_ok = 0;
	if (found)
		check_chain(l, &head, latest, problems, &current, has_current, &current_ok);
	if (has_current && !current_ok)
		problem(problems, "%s does not name a release on the ledger", LEDGER_CURRENT_REF);
	struct ref_scan scan = { latest, problems };
	if (git_reference_foreach_glob(l->repo, LEDGER_RELEASE_REF_PREFIX "*", scan_release_ref,
				       &scan) < 0)
		return sw_git_error(SW_ERROR, "cannot list the release refs");
	return 0;
}

int ledger_finish(struct ledger *l, int version, enum release_status status, int failed_start,
		  const char *output)
{
	git_oid head, cur, oid;
	struct release r = RELEASE_INIT;
	int latest, found, has_cur, err;

	if ((err = find_head(l, &latest, &head, &found)))
		return err;
	if (!found || latest != version)
		return sw_error_set(SW_ECONFLICT, "release v%d is not the newest release", version);
	if ((err = read_oid(l, &head, LEDGER_READ_ALL, &r)))
		return err;
	if (r.status != RELEASE_PENDING) {
		err = sw_error_set(SW_EINVALID, "release v%d is not pending", version);
		goto done;
	}
	git_commit *c = NULL;
	if (git_commit_lookup(&c, l->repo, &head) < 0) {
		err = sw_git_error(SW_ERROR, "cannot read the release ledger");
		goto done;
	}
	git_oid parent;
	int has_parent = git_commit_parentcount(c) == 1;
	if (has_parent)
		parent = *git_commit_parent_id(c, 0);
	git_commit_free(c);
	r.status = status;
	r.failed_start = status == RELEASE_FAILED ? failed_start : 0;
	free(r.output);
	r.output = output ? xstrdup(output) : NULL;
	if ((err = write_commit(l, &r, has_parent ? &parent : NULL, &oid)))
		goto done;
	err = lookup_ref_oid(l, LEDGER_CURRENT_REF, &cur);
	if (err && err != SW_ENOTFOUND)
		goto done;
	has_cur = !err;
	char *name = version_ref(version);
	char *why = xasprintf("v%d: %s", version, release_status_name(status));
	git_oid stored;
	int has_stored = lookup_ref_oid(l, LEDGER_HEAD_REF, &stored) == 0;
	err = ref_cas(l, name, &oid, &head, why);
	if (!err && status == RELEASE_SUCCEEDED)
		err = ref_cas(l, LEDGER_CURRENT_REF, &oid, has_cur ? &cur : NULL, why);
	if (!err)
		err = ref_cas(l, LEDGER_HEAD_REF, &oid, has_stored ? &stored : NULL, why);
	free(why);
	free(name);
done:
	release_release(&r);
	return err;
}

/* Reads the app's release that which() names (newest, current) into out. */
static int read_one(const char *root, const char *app, int (*which)(struct ledger *, int *),
		    unsigned what, struct release *out)
{
	struct ledger *l = NULL;
	char *repo = app_repo_path(root, app);
	int v = 0, err = ledger_open(&l, repo);
	if (!err && !(err = which(l, &v)) && v)
		err = ledger_read(l, v, what, out);
	ledger_free(l);
	free(repo);
	return err;
}

int ledger_read_newest(const char *root, const char *app, unsigned what, struct release *out)
{
	return read_one(root, app, ledger_latest, what, out);
}

int ledger_read_current(const char *root, const char *app, unsigned what, struct release *out)
{
	return read_one(root, app, ledger_current, what, out);
}
