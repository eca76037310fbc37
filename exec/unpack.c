#include "exec/unpack.h"

#include "exec/slugtree.h"

#include "store/app.h"
#include "store/appctx.h"
#include "store/ledger.h"
#include "store/cas.h"
#include "store/paths.h"
#include "store/slug.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/lock.h"
#include "util/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int make_run(const char *root, const char *prefix, char **run_dir);
static int lock_run(char **run_dir, int *lock_fd);

int unpack_copy(const char *root, const char *hex, const char *run_dir)
{
	char *slug = NULL, *inside = NULL;
	int err;

	if ((err = cas_check(root, hex)))
		return err;
	slug = cas_path(root, hex);
	inside = xasprintf("%s/app", run_dir);
	if (fs_exists(inside))
		rmdir(inside); /* an overlay's empty mount point: the copy takes its place */
	err = slug_extract(slug, inside);
	free(inside);
	free(slug);
	return err;
}

/* A fresh run directory with slug hex's copy in it; nothing left behind on failure. */
static int make_copy(const char *root, const char *prefix, const char *hex, char **run_dir)
{
	char *run = NULL;
	int err;

	*run_dir = NULL;
	if ((err = make_run(root, prefix, &run)) || (err = unpack_copy(root, hex, run))) {
		if (run)
			fs_rm_rf(run);
		free(run);
		return err;
	}
	*run_dir = run;
	return 0;
}

int unpack_for_run(const char *root, const char *app, const char *hex, char **run_dir)
{
	char *prefix = xasprintf("%s-", app);
	int err = make_copy(root, prefix, hex, run_dir);
	free(prefix);
	return err;
}

int unpack_for_instance(const char *root, const char *app, const char *label, const char *hex,
			char **run_dir, int *lock_fd)
{
	char *prefix = xasprintf("%s.%s-", app, label);
	int err = make_copy(root, prefix, hex, run_dir);
	free(prefix);
	*lock_fd = -1;
	return err ? err : lock_run(run_dir, lock_fd);
}

int unpack_run_dir(const char *root, const char *app, const char *label, char **run_dir,
		   int *lock_fd)
{
	char *prefix = label ? xasprintf("%s.%s-", app, label) : xasprintf("%s-", app), *mnt = NULL;
	int err = make_run(root, prefix, run_dir);
	free(prefix);
	*lock_fd = -1;
	if (err)
		return err;
	mnt = xasprintf("%s/app", *run_dir);
	if (mkdir(mnt, 0755) < 0) {
		err = sw_error_errno(SW_ERROR, "cannot create directory '%s'", mnt);
		fs_rm_rf(*run_dir);
		free(*run_dir);
		*run_dir = NULL;
	}
	free(mnt);
	return err ? err : lock_run(run_dir, lock_fd);
}

static int make_run(const char *root, const char *prefix, char **run_dir)
{
	char *parent = paths_runs_dir(root);
	int err;

	*run_dir = NULL;
	if (!(err = fs_mkdir_p(parent, 0700)))
		err = fs_mkdtemp(parent, prefix, run_dir);
	free(parent);
	return err;
}

/* Takes the run directory's lock; on failure removes it. */
static int lock_run(char **run_dir, int *lock_fd)
{
	int err = 0;
	*lock_fd = open(*run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*lock_fd < 0 || flock(*lock_fd, LOCK_EX) < 0) {
		err = sw_error_errno(SW_ERROR, "cannot lock '%s'", *run_dir);
		if (*lock_fd >= 0)
			close(*lock_fd);
		*lock_fd = -1;
		fs_rm_rf(*run_dir);
		free(*run_dir);
		*run_dir = NULL;
	}
	return err;
}

int unpack_remove(const char *run_dir)
{
	return fs_rm_rf(run_dir);
}

/* Run directories are "<app>-XXXXXX": the app's name, a dash, six characters. */
static int is_run_of(const char *name, const char *app)
{
	size_t n = strlen(app);
	return !strncmp(name, app, n) && name[n] == '-' && strlen(name + n + 1) == 6;
}

int unpack_clear(const char *root, const char *app, uint64_t *removed)
{
	char *parent = paths_runs_dir(root);
	DIR *d = opendir(parent);
	int err = 0;

	if (!d) {
		err = errno == ENOENT ? 0 : sw_error_errno(SW_ERROR, "cannot read '%s'", parent);
		free(parent);
		return err;
	}
	struct dirent *e;
	while (!err && (e = readdir(d))) {
		if (!is_run_of(e->d_name, app))
			continue;
		char *p = xasprintf("%s/%s", parent, e->d_name);
		if (!(err = fs_rm_rf(p)) && removed)
			(*removed)++;
		free(p);
	}
	closedir(d);
	free(parent);
	return err;
}

/* "<app>.<TYPE.N>-XXXXXX": an instance's run directory. */
static int is_instance_run(const char *name)
{
	const char *dash = strrchr(name, '-');
	return dash && strlen(dash + 1) == 6 && memchr(name, '.', (size_t)(dash - name)) &&
	       name[0] != '.';
}

/*
 * The run directories of instances that were killed: no instance holds
 * its lock any more.  Young ones are left alone (one may be between its
 * creation and its lock).
 */
static int sweep_instances(const char *root, uint64_t *removed)
{
	char *parent = paths_runs_dir(root);
	DIR *d = opendir(parent);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!is_instance_run(e->d_name))
			continue;
		char *p = xasprintf("%s/%s", parent, e->d_name);
		struct stat st;
		int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && fstat(fd, &st) == 0 && st.st_mtime < time(NULL) - 60 &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0 && fs_rm_rf(p) == 0)
			(*removed)++;
		if (fd >= 0)
			close(fd);
		free(p);
	}
	if (d)
		closedir(d);
	free(parent);
	return 0;
}

/* What older versions kept in <root>/unpacked/: everything there but trees/. */
static int sweep_old_trees(const char *root, uint64_t *removed)
{
	char *parent = paths_unpacked_dir(root);
	DIR *d = opendir(parent);
	struct dirent *e;
	int err = 0;
	while (!err && d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "trees"))
			continue;
		char *p = xasprintf("%s/%s", parent, e->d_name);
		if (!(err = fs_rm_rf(p)))
			(*removed)++;
		free(p);
	}
	if (d)
		closedir(d);
	free(parent);
	return err;
}

/*
 * The slugs whose trees gc keeps even when no process holds them: each
 * app's current release's and the one before it - what `rollback` goes
 * back to - so that a rollback finds its tree unpacked.
 */
static void rollback_slugs(const char *root, const struct strvec *apps, struct strvec *keep)
{
	for (size_t i = 0; i < apps->n; i++) {
		struct app_ctx ctx = APP_CTX_INIT;
		int current = 0;
		if (app_ctx_open(&ctx, root, apps->v[i], APP_CTX_READ) < 0)
			continue;
		if (ledger_current(ctx.ledger, &current) == 0)
			for (int v = current; v >= 1 && v >= current - 1; v--) {
				struct release r = RELEASE_INIT;
				if (ledger_read(ctx.ledger, v, 0, &r) == 0 && r.slug[0])
					strvec_push(keep, r.slug);
				release_release(&r);
			}
		app_ctx_release(&ctx);
	}
	strvec_sort(keep);
}

int unpack_sweep(const char *root, uint64_t *removed)
{
	struct strvec apps = STRVEC_INIT, keep = STRVEC_INIT;
	int err = app_list(root, &apps);

	*removed = 0;
	for (size_t i = 0; !err && i < apps.n; i++) {
		struct lock lk = LOCK_INIT;
		char *lockpath = app_lock_path(root, apps.v[i]);
		if (lock_acquire(&lk, lockpath, 0, NULL, NULL) == 0) {
			err = unpack_clear(root, apps.v[i], removed);
			lock_release(&lk);
		}
		free(lockpath);
	}
	if (!err)
		err = sweep_old_trees(root, removed);
	if (!err)
		err = sweep_instances(root, removed);
	if (!err) {
		rollback_slugs(root, &apps, &keep);
		err = slugtree_sweep(root, &keep, removed);
	}
	strvec_clear(&keep);
	strvec_clear(&apps);
	return err;
}
