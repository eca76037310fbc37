#define _GNU_SOURCE
#include "store/gitlocks.h"

#include "util/error.h"
#include "util/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* how far a process's start (whole seconds of uptime, ticks) and a file's time may disagree */
#define GITLOCKS_CLOCK_SLACK 2

struct candidate {
	char *name;     /* relative to the repository */
	struct stat st;
};

struct candidates {
	struct candidate *v;
	size_t n, cap;
};

static int ends_with_lock(const char *s)
{
	size_t n = strlen(s);
	return n > 5 && !strcmp(s + n - 5, ".lock");
}

static void consider(struct candidates *c, const char *git_dir, const char *name, time_t now)
{
	char *path = xasprintf("%s/%s", git_dir, name);
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && now - st.st_mtime >= GITLOCKS_MIN_AGE) {
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 4;
			c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
		}
		c->v[c->n].name = xstrdup(name);
		c->v[c->n].st = st;
		c->n++;
	}
	free(path);
}

/* Every *.lock under refs/heads/ (rel), depth-first; symlinks are not followed. */
static void scan_heads(struct candidates *c, const char *git_dir, const char *rel, time_t now,
		       int depth)
{
	char *dir = xasprintf("%s/%s", git_dir, rel);
	DIR *d = depth < 64 ? opendir(dir) : NULL;
	free(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		char *name = xasprintf("%s/%s", rel, de->d_name);
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISDIR(st.st_mode))
				scan_heads(c, git_dir, name, now, depth + 1);
			else if (ends_with_lock(de->d_name))
				consider(c, git_dir, name, now);
		}
		free(name);
	}
	closedir(d);
}

static void candidates_free(struct candidates *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].name);
	free(c->v);
}

/*
 * 1 if a git process other than ours, old enough to have written a lock
 * file lock_age seconds ago, works in the repository (repo: its directory).
 */
static int git_at_work(const struct proc_table *t, const struct stat *repo, double lock_age)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct proc_info *p = &t->v[i];
		if (!p->has_cwd || p->cwd_dev != repo->st_dev || p->cwd_ino != repo->st_ino ||
		    (p->age >= 0 && p->age < lock_age - GITLOCKS_CLOCK_SLACK) ||
		    !p->exe_name || (strcmp(p->exe_name, "git") && strncmp(p->exe_name, "git-", 4)) ||
		    proc_is_self_or_ancestor(t, p->pid))
			continue;
		int in_hook = 0;
		for (size_t j = 0; j < t->n && !in_hook; j++)
			in_hook = t->v[j].ppid == p->pid && proc_runs_self(t, &t->v[j]);
		if (!in_hook)
			return 1;
	}
	return 0;
}

/* The candidates that are stale, in c (the others dropped). */
static int judge(const char *git_dir, struct candidates *c)
{
	struct proc_table t = PROC_TABLE_INIT;
	struct stat repo;
	size_t kept = 0;

	if (stat(git_dir, &repo) < 0)
		return sw_error_errno(SW_ERROR, "cannot read '%s'", git_dir);
	/* without /proc nobody can be seen: nothing is called stale */
	int blind = proc_table_read(&t) < 0;
	time_t now = time(NULL);
	for (size_t i = 0; i < c->n; i++) {
		double age = difftime(now, c->v[i].st.st_mtime);
		if (!blind && !git_at_work(&t, &repo, age) && !proc_file_open(&t, &c->v[i].st, NULL))
			c->v[kept++] = c->v[i];
		else
			free(c->v[i].name);
	}
	c->n = kept;
	proc_table_free(&t);
	return 0;
}

static int find(const char *git_dir, struct candidates *c)
{
	time_t now = time(NULL);
	consider(c, git_dir, "HEAD.lock", now);
	consider(c, git_dir, "packed-refs.lock", now);
	scan_heads(c, git_dir, "refs/heads", now, 0);
	return c->n ? judge(git_dir, c) : 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct candidate *)a)->name, ((const struct candidate *)b)->name);
}

static void sort(struct candidates *c)
{
	if (c->n > 1)
		qsort(c->v, c->n, sizeof(*c->v), by_name);
}

int gitlocks_find_stale(const char *git_dir, struct strvec *out)
{
	struct candidates c = { 0 };
	int err = find(git_dir, &c);
	if (!err) {
		sort(&c);
		for (size_t i = 0; i < c.n; i++)
			strvec_push(out, c.v[i].name);
	}
	candidates_free(&c);
	return err;
}

int gitlocks_remove_stale(const char *git_dir, struct strvec *removed)
{
	struct candidates c = { 0 };
	int err = find(git_dir, &c);
	if (!err)
		sort(&c);
	for (size_t i = 0; i < c.n && !err; i++) {
		char *path = xasprintf("%s/%s", git_dir, c.v[i].name);
		struct stat st;
		/* the very file judged stale, not one a git has made since */
		if (lstat(path, &st) == 0 && st.st_dev == c.v[i].st.st_dev &&
		    st.st_ino == c.v[i].st.st_ino) {
			if (unlink(path) == 0)
				strvec_push(removed, c.v[i].name);
			else if (errno != ENOENT)
				err = sw_error_errno(SW_ERROR, "cannot remove '%s'", path);
		}
		free(path);
	}
	candidates_free(&c);
	return err;
}
