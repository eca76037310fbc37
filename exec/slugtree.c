#define _GNU_SOURCE
#include "exec/slugtree.h"

#include "store/cas.h"
#include "store/paths.h"
#include "store/slug.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Opens the tree with a shared lock.  gc renames a tree away while it
 * holds the exclusive lock: once ours is granted, the name must still be
 * this directory.  SW_ENOTFOUND when there is no tree (any more).
 */
static int tree_hold(const char *tree, int *fd)
{
	struct stat a, b;
	*fd = open(tree, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0)
		return errno == ENOENT ? SW_ENOTFOUND
				       : sw_error_errno(SW_ERROR, "cannot open '%s'", tree);
	if (flock(*fd, LOCK_SH) < 0 || fstat(*fd, &a) < 0) {
		int err = sw_error_errno(SW_ERROR, "cannot lock '%s'", tree);
		close(*fd);
		*fd = -1;
		return err;
	}
	if (stat(tree, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
		close(*fd);
		*fd = -1;
		return SW_ENOTFOUND;
	}
	return 0;
}

/* Extracts the slug into a temp directory beside the tree, then renames it into place. */
static int tree_fill(const char *root, const char *hex, const char *tree)
{
	char *parent = paths_trees_dir(root), *slug = cas_path(root, hex);
	char *prefix = xasprintf(".tmp-%s-", hex), *tmp = NULL;
	int err, fd = -1;

	if ((err = cas_check(root, hex)) || (err = fs_mkdtemp(parent, prefix, &tmp)) ||
	    (err = slug_extract(slug, tmp)))
		goto done;
	/* whole on disk before its name says it is: one syncfs, not one fsync per file */
	if ((fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fchmod(fd, 0755) < 0 ||
	    syncfs(fd) < 0 || (rename(tmp, tree) < 0 && !fs_is_dir(tree))) {
		err = sw_error_errno(SW_ERROR, "cannot unpack slug %.12s into '%s'", hex, tree);
		goto done;
	}
	fs_fsync_dir(parent);
done:
	if (fd >= 0)
		close(fd);
	if (tmp && fs_exists(tmp)) /* failed, or another extraction's tree came first */
		fs_rm_rf(tmp);
	free(tmp);
	free(prefix);
	free(slug);
	free(parent);
	return err;
}

/* Under the tree's lock file: one extraction at a time, none once the tree is there. */
static int tree_extract(const char *root, const char *hex, const char *tree)
{
	char *parent = paths_trees_dir(root), *lockpath = paths_tree_lock(root, hex);
	int fd = -1, err;

	if ((err = fs_mkdir_p(parent, 0755)))
		goto done;
	fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		err = sw_error_errno(SW_ERROR, "cannot lock '%s'", lockpath);
		goto done;
	}
	if (!fs_is_dir(tree))
		err = tree_fill(root, hex, tree);
done:
	if (fd >= 0)
		close(fd);
	free(lockpath);
	free(parent);
	return err;
}

int slugtree_open(const char *root, const char *hex, char **tree, int *lock_fd)
{
	char *path;
	int err = SW_ENOTFOUND;

	*tree = NULL;
	*lock_fd = -1;
	if (!cas_valid_hex(hex))
		return sw_error_set(SW_EINVALID, "invalid slug '%s'", hex);
	path = paths_tree(root, hex);
	/* gc may take a tree between its extraction and our lock: a few tries */
	for (int i = 0; i < 3; i++) {
		if ((err = tree_hold(path, lock_fd)) != SW_ENOTFOUND ||
		    (err = tree_extract(root, hex, path)))
			break;
		err = sw_error_set(SW_ERROR, "cannot keep the tree of slug %.12s", hex);
	}
	if (!err)
		*tree = path;
	else
		free(path);
	return err;
}

/* "<hex>.lock" */
static int is_lock_name(const char *name)
{
	char hex[CAS_HEX_LEN + 1];
	if (strlen(name) != CAS_HEX_LEN + 5 || strcmp(name + CAS_HEX_LEN, ".lock"))
		return 0;
	memcpy(hex, name, CAS_HEX_LEN);
	hex[CAS_HEX_LEN] = '\0';
	return cas_valid_hex(hex);
}

/*
 * The lock file of a tree that is gone, unless an extraction holds it.
 * (One that opened it just before would extract beside a second one:
 * the later rename finds the tree there and throws its copy away.)
 */
static void sweep_lock(const char *parent, const char *name)
{
	char *lockpath = xasprintf("%s/%s", parent, name);
	char *tree = xasprintf("%s/%.*s", parent, CAS_HEX_LEN, name);
	int fd = open(lockpath, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && !fs_exists(tree) && flock(fd, LOCK_EX | LOCK_NB) == 0)
		unlink(lockpath);
	if (fd >= 0)
		close(fd);
	free(tree);
	free(lockpath);
}

/* Removes the tree if no one holds it: renamed away first, so no half tree keeps its name. */
static int sweep_tree(const char *parent, const char *name, uint64_t *removed)
{
	char *path = xasprintf("%s/%s", parent, name), *gone = NULL;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
		gone = xasprintf("%s/.gc-%s-%d", parent, name, (int)getpid());
		if (rename(path, gone) == 0 && fs_rm_rf(gone) == 0)
			(*removed)++;
		char *lockname = xasprintf("%s.lock", name);
		sweep_lock(parent, lockname);
		free(lockname);
	}
	if (fd >= 0)
		close(fd);
	free(gone);
	free(path);
	return 0;
}

/*
 * A temp directory ".tmp-<hex>-XXXXXX" (or a tree gc was removing,
 * ".gc-..."): left half-written by an extraction that was killed, when
 * the tree's lock file is free.
 */
static int stale_temp(const char *root, const char *name)
{
	char hex[CAS_HEX_LEN + 1];
	if (!strncmp(name, ".gc-", 4))
		return 1;
	if (strncmp(name, ".tmp-", 5) || strlen(name) < 5 + CAS_HEX_LEN)
		return 0;
	memcpy(hex, name + 5, CAS_HEX_LEN);
	hex[CAS_HEX_LEN] = '\0';
	if (!cas_valid_hex(hex))
		return 0;
	char *lockpath = paths_tree_lock(root, hex);
	int fd = open(lockpath, O_RDWR | O_CLOEXEC), stale = 1;
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0)
		stale = 0;
	if (fd >= 0)
		close(fd);
	free(lockpath);
	return stale;
}

static void check_tree(const char *root, const char *parent, const char *hex,
		       struct strvec *problems);

/* Whether gc keeps the tree of slug hex: one of keep's, and whole. */
static int kept(const char *root, const char *parent, const char *hex, const struct strvec *keep)
{
	struct strvec problems = STRVEC_INIT;
	if (!keep || !strvec_has_sorted(keep, hex))
		return 0;
	check_tree(root, parent, hex, &problems);
	int whole = problems.n == 0;
	strvec_clear(&problems);
	return whole;
}

int slugtree_sweep(const char *root, const struct strvec *keep, uint64_t *removed)
{
	char *parent = paths_trees_dir(root);
	DIR *d = opendir(parent);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (cas_valid_hex(e->d_name)) {
			if (!kept(root, parent, e->d_name, keep))
				sweep_tree(parent, e->d_name, removed);
		} else if (is_lock_name(e->d_name)) {
			sweep_lock(parent, e->d_name);
		} else if (e->d_name[0] == '.' && stale_temp(root, e->d_name)) {
			char *p = xasprintf("%s/%s", parent, e->d_name);
			if (fs_rm_rf(p) == 0)
				(*removed)++;
			free(p);
		}
	}
	if (d)
		closedir(d);
	free(parent);
	return 0;
}

/* A tree against its slug: each entry there, of its type and size. */
struct tree_check {
	int dir;          /* the tree, open */
	size_t entries;   /* the slug's entries below ./app/ */
	char *first;      /* the first difference, malloc'ed */
};

static int check_entry(const struct slug_entry *e, void *ctx)
{
	struct tree_check *c = ctx;
	const char *rel = e->path;
	struct stat st;
	if (!strncmp(rel, "./", 2))
		rel += 2;
	if (strncmp(rel, "app", 3) || (rel[3] && rel[3] != '/'))
		return 0;
	rel += rel[3] ? 4 : 3;
	if (!*rel)
		return 0; /* the tree itself */
	c->entries++;
	char type = 0;
	if (fstatat(c->dir, rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
		type = S_ISREG(st.st_mode) ? 'f' : S_ISDIR(st.st_mode) ? 'd' : S_ISLNK(st.st_mode) ? 'l' : '?';
	if (!type)
		c->first = xasprintf("'%s' is missing", rel);
	else if (type != e->type)
		c->first = xasprintf("'%s' is not of its slug's type", rel);
	else if (type == 'f' && (uint64_t)st.st_size != e->size)
		c->first = xasprintf("'%s' is not of its slug's size", rel);
	return c->first ? 1 : 0;
}

/* How many entries a tree holds, below its top. */
static size_t count_entries(int dirfd)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	size_t n = 0;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		n++;
		int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0) {
			n += count_entries(sub);
			close(sub);
		}
	}
	closedir(d);
	return n;
}

static void check_tree(const char *root, const char *parent, const char *hex,
		       struct strvec *problems)
{
	char *path = xasprintf("%s/%s", parent, hex), *slug = cas_path(root, hex);
	struct tree_check c = { .dir = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) };
	int err = 0;
	if (c.dir < 0) {
		strvec_pushf(problems, "unpacked tree '%s' cannot be read", path);
	} else if (fs_exists(slug)) {
		/* a tree whose slug is gone is only waiting for gc: nothing to check it against */
		err = slug_list(slug, check_entry, &c);
		size_t held = c.first || err < 0 ? 0 : count_entries(c.dir);
		if (c.first)
			strvec_pushf(problems, "unpacked tree of slug %.12s differs from its slug: %s "
				     "(gc removes it when no instance uses it)", hex, c.first);
		else if (held != c.entries)
			strvec_pushf(problems, "unpacked tree of slug %.12s holds %zu entries, its "
				     "slug %zu (gc removes it when no instance uses it)", hex, held,
				     c.entries);
	}
	if (c.dir >= 0)
		close(c.dir);
	free(c.first);
	free(slug);
	free(path);
}

int slugtree_fsck(const char *root, struct strvec *problems)
{
	char *parent = paths_trees_dir(root);
	DIR *d = opendir(parent);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (cas_valid_hex(e->d_name))
			check_tree(root, parent, e->d_name, problems);
		else if (!strncmp(e->d_name, ".tmp-", 5) && stale_temp(root, e->d_name))
			strvec_pushf(problems, "half-extracted tree '%s/%s' (gc removes it)", parent,
				     e->d_name);
	}
	if (d)
		closedir(d);
	free(parent);
	return 0;
}
