/*
 * diff.h - what changed between two releases: code, config, slug, processes.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * release_diff() compares release a (the older one, usually) with release b
 * and fills a struct release_diff; cli/ shows it.  Each part can also be
 * computed alone:
 *
 *   - config_diff(): keys added, removed and changed, sorted by key;
 *   - procs_diff(): process types added, removed, or whose command changed;
 *   - addons_diff(): add-ons attached, detached, or another under the same name;
 *   - diff_commits(): the commits of the app's repository between two
 *     releases' commits, `git log A..B` and `git log B..A` (newest first);
 *   - slug_diff(): the entries of two slugs that differ, computed by
 *     streaming both tar.zst archives side by side (nothing is unpacked).
 *     Slugs list their entries in one sorted order (slug.h), so the two
 *     listings are merged in a single pass.  An entry present in both is
 *     changed when its type, permission bits, size or symlink target
 *     differ, or, same size, when its bytes differ: the data of both is
 *     read in step and compared, stopping at the first difference.  mtimes
 *     are fixed in slugs (SLUG_MTIME), so they say nothing.
 */
#ifndef SW_DIFF_H
#define SW_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "store/config.h"
#include "store/procs.h"
#include "store/release.h"

enum diff_kind {
	DIFF_ADDED = 'A',
	DIFF_REMOVED = 'D',
	DIFF_CHANGED = 'M',
};

/* One config var or process type that differs; values NULL where absent. */
struct diff_pair {
	enum diff_kind kind;
	char *name;
	char *old_value; /* NULL when added */
	char *new_value; /* NULL when removed */
};

struct diff_pairs {
	struct diff_pair *items;
	size_t n, cap;
};

/* Config vars of b against a, sorted by key. */
void config_diff(const struct config *a, const struct config *b, struct diff_pairs *out);

/* Process types of b against a: a's order first (removed and changed), then b's additions. */
void procs_diff(const struct proc_list *a, const struct proc_list *b, struct diff_pairs *out);

/* Attachments of b against a, by alias: the add-on's name is the value. */
void addons_diff(const struct attachments *a, const struct attachments *b,
		 struct diff_pairs *out);

void diff_pairs_release(struct diff_pairs *p);

/* Counts of each kind in p. */
void diff_pairs_count(const struct diff_pairs *p, size_t *added, size_t *removed, size_t *changed);

/* ---- slugs ---- */

enum {
	SLUG_DIFF_TYPE = 1,    /* file, directory or symlink changed */
	SLUG_DIFF_MODE = 2,    /* permission bits */
	SLUG_DIFF_SIZE = 4,
	SLUG_DIFF_CONTENT = 8, /* same size, other bytes (or another symlink target) */
};

struct slug_diff_entry {
	enum diff_kind kind;
	char *path;            /* as stored, e.g. "./app/index.js" */
	char old_type, new_type; /* 'f', 'd', 'l', '?'; 0 where absent */
	unsigned old_mode, new_mode;
	uint64_t old_size, new_size;
	unsigned what;         /* SLUG_DIFF_* for a changed entry */
};

struct slug_diff {
	struct slug_diff_entry *items; /* in the slugs' order */
	size_t n, cap;
	size_t added, removed, changed;
	uint64_t old_bytes, new_bytes; /* sums of the regular files' sizes */
	uint64_t compared_bytes;       /* bytes read in step to compare contents (each side) */
};

/* Compares the slug files at path_a and path_b; out must be zeroed. */
int slug_diff(const char *path_a, const char *path_b, struct slug_diff *out);

void slug_diff_release(struct slug_diff *d);

/* ---- commits ---- */

#define DIFF_COMMITS_LISTED 50 /* subjects kept per side; the counts are exact */

struct diff_commit {
	char sha[41];
	char *subject;
};

struct diff_commits {
	struct diff_commit *items; /* newest first, at most DIFF_COMMITS_LISTED */
	size_t n;
	size_t total;              /* all of them */
};

/* The commits between two releases' commits. */
struct code_diff {
	/* both commits are in the repository: ahead is `git log a..b`, behind `git log b..a` */
	int compared;
	struct diff_commits ahead, behind;
	char missing[41];          /* else: a commit the repository no longer has */
};

/*
 * The commits of the repository at repo_path between commits a and b (40
 * hex each, both non-empty and different).  A commit the repository no
 * longer has (a force push, then gc) is no error: out->compared stays 0 and
 * out->missing names it.
 */
int diff_commits(const char *repo_path, const char *a, const char *b, struct code_diff *out);

void code_diff_release(struct code_diff *d);

/* ---- two releases ---- */

struct release_diff {
	struct release a, b;      /* both read in full but their output */
	struct code_diff code;    /* when both have different commits */
	struct diff_pairs config;
	struct diff_pairs procs;
	struct diff_pairs addons; /* by alias (store/attach.h) */
	/* when both have different slugs: the comparison, or why it failed */
	struct slug_diff slug;
	int slug_compared;
	char *slug_error;
};

/*
 * Reads releases va and vb of the app at <root>/apps/<app>.git and compares
 * them (out must be zeroed; release it either way).  A missing release is
 * SW_ENOTFOUND ("release v99 does not exist").  A slug that cannot be read
 * is not a failure: slug_error says why.
 */
int release_diff(const char *root, const char *app, int va, int vb, struct release_diff *out);

void release_diff_release(struct release_diff *d);

#endif
