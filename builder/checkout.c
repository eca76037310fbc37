#define _GNU_SOURCE
#include "builder/checkout.h"

#include "builder/submodule.h"

#include "util/blobstream.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/gitutil.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Blobs from this size on are streamed when git stores them whole. */
#define STREAM_MIN ((uint64_t)1 << 20)
#define MAX_THREADS 8

struct job {
	char *path;             /* relative to the checkout directory */
	git_oid id;
	git_filemode_t mode;
	uint64_t size;
	size_t seq;             /* position in the tree walk */
	size_t src;             /* the repository it is read from */
};

/* A repository the checkout reads: the app's (0) or a submodule's. */
struct source {
	char *path;
	struct blobstream *bs;  /* its packs, for streaming big files */
};

struct checkout_plan {
	struct source *srcs;
	size_t nsrcs;
	struct job *jobs;
	size_t n, cap;
	struct strvec dirs;     /* relative, parents before children */
	uint64_t bytes;
	const char *root, *user; /* the app's root and who pushed (submodule_allowed) */
};

/* The gitlinks (submodule commits) of one repository's tree. */
struct links {
	struct strvec paths;    /* relative to the checkout directory */
	git_oid *ids;
	size_t cap;
};

static int name_ok(const char *name)
{
	return *name && strcmp(name, ".") && strcmp(name, "..") && strcasecmp(name, ".git") &&
	       !strchr(name, '/');
}

/* ---- planning ---- */

static int plan_tree(struct checkout_plan *p, git_repository *repo, git_odb *odb,
		     const git_tree *tree, struct buf *path, size_t src, struct links *links)
{
	size_t n = git_tree_entrycount(tree), len = path->len;
	int err = 0;

	for (size_t i = 0; i < n && !err; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const char *name = git_tree_entry_name(e);
		if (!name_ok(name))
			return sw_error_set(SW_EINVALID, "the pushed tree has an unsafe entry '%s'",
					    name);
		buf_truncate(path, len);
		buf_addf(path, "%s%s", len ? "/" : "", name);
		if (path->len >= PATH_MAX)
			return sw_error_set(SW_EINVALID, "the pushed tree has a path longer than %d bytes",
					    PATH_MAX - 1);
		switch (git_tree_entry_type(e)) {
		case GIT_OBJECT_BLOB: {
			size_t size;
			git_object_t type;
			if (git_odb_read_header(&size, &type, odb, git_tree_entry_id(e)) < 0)
				return sw_git_error(SW_ERROR, "cannot read the pushed code");
			if (p->n == p->cap) {
				p->cap = p->cap ? 2 * p->cap : 256;
				p->jobs = xrealloc(p->jobs, p->cap * sizeof(*p->jobs));
			}
			struct job *j = &p->jobs[p->n++];
			j->path = xstrdup(path->data);
			git_oid_cpy(&j->id, git_tree_entry_id(e));
			j->mode = git_tree_entry_filemode(e);
			j->size = size;
			j->seq = p->n - 1;
			j->src = src;
			p->bytes += size;
			break;
		}
		case GIT_OBJECT_TREE: {
			git_tree *sub = NULL;
			strvec_push(&p->dirs, path->data);
			if (git_tree_lookup(&sub, repo, git_tree_entry_id(e)) < 0)
				return sw_git_error(SW_ERROR, "cannot read the pushed code");
			err = plan_tree(p, repo, odb, sub, path, src, links);
			git_tree_free(sub);
			break;
		}
		case GIT_OBJECT_COMMIT: /* a submodule: checked out after this tree */
			if (links->paths.n == links->cap) {
				links->cap = links->cap ? 2 * links->cap : 8;
				links->ids = xrealloc(links->ids, links->cap * sizeof(*links->ids));
			}
			git_oid_cpy(&links->ids[links->paths.n], git_tree_entry_id(e));
			strvec_push(&links->paths, path->data);
			break;
		default:
			break;
		}
	}
	buf_truncate(path, len);
	return err;
}

/*
 * Streamed files first, biggest first, so they do not all end up last on one
 * thread; then the rest in tree order, which is close to the order of the
 * objects in the pack and keeps libgit2's pack windows warm.
 */
static int by_streaming_then_tree(const void *a, const void *b)
{
	const struct job *x = a, *y = b;
	int bx = x->size >= STREAM_MIN, by = y->size >= STREAM_MIN;
	if (bx != by)
		return by - bx;
	if (bx && x->size != y->size)
		return x->size < y->size ? 1 : -1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static size_t add_source(struct checkout_plan *p, const char *path)
{
	p->srcs = xrealloc(p->srcs, (p->nsrcs + 1) * sizeof(*p->srcs));
	p->srcs[p->nsrcs] = (struct source){ xstrdup(path), NULL };
	return p->nsrcs++;
}

static int plan_repo(struct checkout_plan *p, git_repository *repo, size_t src,
		     const git_oid *id, const char *prefix, int depth);

/* The text of the .gitmodules at the top of tree (malloc'ed, NUL-terminated). */
static int read_gitmodules(git_repository *repo, const git_tree *tree, const char *where,
			   char **text, size_t *len)
{
	const git_tree_entry *e = git_tree_entry_byname(tree, ".gitmodules");
	git_blob *blob = NULL;
	*text = NULL;
	if (!e || git_tree_entry_type(e) != GIT_OBJECT_BLOB)
		return sw_error_set(SW_ENOTFOUND, "Submodule '%s' is not in .gitmodules "
				    "(the tree has no .gitmodules file)", where);
	if (git_blob_lookup(&blob, repo, git_tree_entry_id(e)) < 0)
		return sw_git_error(SW_ERROR, "cannot read .gitmodules");
	*len = (size_t)git_blob_rawsize(blob);
	if (*len > SUBMODULE_GITMODULES_MAX) {
		git_blob_free(blob);
		return sw_error_set(SW_EINVALID, ".gitmodules is larger than %d bytes",
				    SUBMODULE_GITMODULES_MAX);
	}
	*text = xstrndup(git_blob_rawcontent(blob), *len);
	git_blob_free(blob);
	return 0;
}

/*
 * The submodule at path (relative to the checkout; rel relative to the
 * superproject's tree) whose commit is id: its repository, from the
 * .gitmodules of tree, planned into path.
 */
static int plan_submodule(struct checkout_plan *p, git_repository *super, const git_tree *tree,
			  size_t super_src, const char *path, const char *rel,
			  const git_oid *id, int depth)
{
	char *text = NULL, *url = NULL, *dir = NULL, hex[GIT_OID_HEXSZ + 1];
	git_repository *repo = NULL;
	size_t len = 0;
	int err;

	git_oid_tostr(hex, sizeof(hex), id);
	if ((err = read_gitmodules(super, tree, path, &text, &len)) ||
	    (err = submodule_url(text, len, rel, &url)) ||
	    (err = submodule_resolve(p->srcs[super_src].path, path, url, &dir)) ||
	    (err = submodule_allowed(p->root, p->user, path, url, dir)))
		goto done;
	if (depth >= SUBMODULE_DEPTH_MAX || p->nsrcs > SUBMODULE_MAX) {
		err = sw_error_set(SW_EINVALID, "Submodule '%s' (%s): more than %d submodules, or "
				   "submodules nested more than %d deep", path, url, SUBMODULE_MAX,
				   SUBMODULE_DEPTH_MAX);
		goto done;
	}
	if (git_repository_open_ext(&repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		err = sw_error_set(SW_ERROR, "Submodule '%s' (%s) cannot be fetched: it is not a "
				   "git repository on this server", path, url);
		goto done;
	}
	size_t src = add_source(p, dir);
	strvec_push(&p->dirs, path);
	err = plan_repo(p, repo, src, id, path, depth + 1);
	if (err == SW_ENOTFOUND && !strcmp(sw_error_last(), "no such commit"))
		err = sw_error_set(SW_ERROR, "Submodule '%s' (%s): commit %.7s is not in that "
				   "repository (push it there first)", path, url, hex);
done:
	git_repository_free(repo);
	free(dir);
	free(url);
	free(text);
	return err;
}

/* Plans commit id of repo (source src) into prefix ("" = the top), submodules too. */
static int plan_repo(struct checkout_plan *p, git_repository *repo, size_t src,
		     const git_oid *id, const char *prefix, int depth)
{
	struct links links = { STRVEC_INIT, NULL, 0 };
	struct buf path = BUF_INIT;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_odb *odb = NULL;
	size_t skip = *prefix ? strlen(prefix) + 1 : 0;
	int err;

	if (git_commit_lookup(&commit, repo, id) < 0) {
		err = sw_error_set(SW_ENOTFOUND, "no such commit");
		goto done;
	}
	if (git_commit_tree(&tree, commit) < 0 || git_repository_odb(&odb, repo) < 0) {
		err = sw_git_error(SW_ERROR, "cannot read the pushed commit");
		goto done;
	}
	buf_addf(&path, "%s", prefix);
	if ((err = plan_tree(p, repo, odb, tree, &path, src, &links)) ||
	    (err = blobstream_open(&p->srcs[src].bs, repo)))
		goto done;
	for (size_t i = 0; i < links.paths.n && !err; i++)
		err = plan_submodule(p, repo, tree, src, links.paths.v[i], links.paths.v[i] + skip,
				     &links.ids[i], depth);
done:
	strvec_clear(&links.paths);
	free(links.ids);
	buf_release(&path);
	git_odb_free(odb);
	git_tree_free(tree);
	git_commit_free(commit);
	return err;
}

int checkout_plan(const char *repo_path, const char *rev, const char *root, const char *user,
		  struct checkout_plan **out)
{
	struct checkout_plan *p = xcalloc(1, sizeof(*p));
	p->root = root;
	p->user = user;
	git_repository *repo = NULL;
	git_oid oid;
	int err;

	*out = NULL;
	add_source(p, repo_path);
	if ((err = sw_git_open_pushed(&repo, repo_path)))
		goto done;
	if (git_oid_fromstr(&oid, rev) < 0) {
		err = sw_error_set(SW_ERROR, "cannot read the pushed commit: '%s' is not a commit id",
				   rev);
		goto done;
	}
	err = plan_repo(p, repo, 0, &oid, "", 0);
	if (err == SW_ENOTFOUND && !strcmp(sw_error_last(), "no such commit"))
		err = sw_git_error(SW_ERROR, "cannot read the pushed commit");
	if (err)
		goto done;
	if (p->n)
		qsort(p->jobs, p->n, sizeof(*p->jobs), by_streaming_then_tree);
	*out = p;
	p = NULL;
done:
	git_repository_free(repo);
	checkout_plan_free(p);
	return err;
}

uint64_t checkout_plan_bytes(const struct checkout_plan *p)
{
	return p->bytes;
}

void checkout_plan_free(struct checkout_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->jobs[i].path);
	free(p->jobs);
	strvec_clear(&p->dirs);
	for (size_t i = 0; i < p->nsrcs; i++) {
		blobstream_free(p->srcs[i].bs);
		free(p->srcs[i].path);
	}
	free(p->srcs);
	free(p);
}

/* ---- writing ---- */

struct writer {
	const struct checkout_plan *p;
	int rootfd;
	size_t next;            /* next job to take (atomic) */
	int stop;               /* set once a thread failed (atomic) */
	pthread_mutex_t mu;     /* guards the fields below */
	int err;
	struct sw_error_state first; /* the first failure, with its message */
	uint64_t files, bytes;
};

/* Records the first failure (this thread's message) and stops the others. */
static void fail(struct writer *w, int err)
{
	pthread_mutex_lock(&w->mu);
	if (!w->err) {
		w->err = sw_error_save(&w->first, err);
	}
	pthread_mutex_unlock(&w->mu);
	__atomic_store_n(&w->stop, 1, __ATOMIC_RELAXED);
}

static int write_error(const struct job *j)
{
	if (errno == ENOSPC)
		return sw_error_set(SW_ERROR, "no space left on device while writing '%s'", j->path);
	return sw_error_errno(SW_ERROR, "cannot write '%s'", j->path);
}

static int write_symlink(git_repository *repo, struct writer *w, const struct job *j)
{
	git_blob *blob = NULL;
	int err = 0;

	if (git_blob_lookup(&blob, repo, &j->id) < 0)
		return sw_git_error(SW_ERROR, "cannot read the pushed code");
	size_t len = (size_t)git_blob_rawsize(blob);
	char *target = xstrndup(git_blob_rawcontent(blob), len);
	if (strlen(target) != len || symlinkat(target, w->rootfd, j->path) < 0)
		err = sw_error_errno(SW_ERROR, "cannot create symlink '%s'", j->path);
	free(target);
	git_blob_free(blob);
	return err;
}

static int write_file(git_repository *repo, struct writer *w, const struct job *j)
{
	git_blob *blob = NULL;
	uint64_t streamed = 0;
	int err = 0, rc;
	int fd = openat(w->rootfd, j->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			j->mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644);

	if (fd < 0)
		return sw_error_errno(SW_ERROR, "cannot create '%s'", j->path);
	rc = j->size >= STREAM_MIN
		? blobstream_write(w->p->srcs[j->src].bs, &j->id, STREAM_MIN, fd, &streamed) : 0;
	if (rc < 0) {
		err = sw_error_prefix(rc, "cannot write '%s': ", j->path);
	} else if (rc == 0) {
		/* small, or stored as a delta: libgit2 reads it whole */
		if (git_blob_lookup(&blob, repo, &j->id) < 0)
			err = sw_git_error(SW_ERROR, "cannot read the pushed code");
		else if (fs_write_all(fd, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob)) < 0)
			err = write_error(j);
		git_blob_free(blob);
	}
	if (close(fd) < 0 && !err)
		err = write_error(j);
	return err;
}

/* The repository of source i, opened on first use (the app's as the push left it). */
static int source_repo(const struct checkout_plan *p, git_repository **repos, size_t i,
		       git_repository **out)
{
	int err = 0;
	if (!repos[i])
		err = i ? sw_git_open(&repos[i], p->srcs[i].path)
			: sw_git_open_pushed(&repos[i], p->srcs[i].path);
	*out = repos[i];
	return err;
}

static void *worker(void *arg)
{
	struct writer *w = arg;
	git_repository **repos = xcalloc(w->p->nsrcs, sizeof(*repos)), *repo;
	uint64_t files = 0, bytes = 0;
	int err;

	while (!__atomic_load_n(&w->stop, __ATOMIC_RELAXED)) {
		size_t i = __atomic_fetch_add(&w->next, 1, __ATOMIC_RELAXED);
		if (i >= w->p->n)
			break;
		const struct job *j = &w->p->jobs[i];
		if (!(err = source_repo(w->p, repos, j->src, &repo)))
			err = j->mode == GIT_FILEMODE_LINK ? write_symlink(repo, w, j)
							   : write_file(repo, w, j);
		if (err) {
			fail(w, err);
			break;
		}
		if (j->mode != GIT_FILEMODE_LINK) {
			files++;
			bytes += j->size;
		}
	}
	for (size_t i = 0; i < w->p->nsrcs; i++)
		git_repository_free(repos[i]);
	free(repos);
	pthread_mutex_lock(&w->mu);
	w->files += files;
	w->bytes += bytes;
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static int default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

int checkout_write(const struct checkout_plan *p, const char *dir, int threads,
		   struct checkout_stats *stats)
{
	struct writer w = { .p = p, .rootfd = -1, .mu = PTHREAD_MUTEX_INITIALIZER };
	pthread_t tids[MAX_THREADS];
	int started = 0, err;

	if (stats)
		memset(stats, 0, sizeof(*stats));
	if (threads <= 0)
		threads = default_threads();
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	if ((err = fs_mkdir_p(dir, 0755)))
		return err;
	w.rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w.rootfd < 0)
		return sw_error_errno(SW_ERROR, "cannot open '%s'", dir);
	for (size_t i = 0; i < p->dirs.n; i++)
		if (mkdirat(w.rootfd, p->dirs.v[i], 0755) < 0) {
			err = sw_error_errno(SW_ERROR, "cannot create directory '%s'", p->dirs.v[i]);
			goto done;
		}
	if ((size_t)threads > p->n)
		threads = p->n ? (int)p->n : 1;
	for (int i = 1; i < threads; i++) {
		if (pthread_create(&tids[i], NULL, worker, &w) != 0)
			break;
		started++;
	}
	worker(&w); /* this thread is a writer too */
	for (int i = 1; i <= started; i++)
		pthread_join(tids[i], NULL);
	if (w.err)
		err = sw_error_restore(&w.first);
	else if (stats) {
		stats->files = w.files;
		stats->bytes = w.bytes;
	}
done:
	close(w.rootfd);
	return err;
}
