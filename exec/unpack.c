#include "exec/unpack.h"

#include "store/app.h"
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

static int unpack_prefixed(const char *root, const char *prefix, const char *hex,
			   char **run_dir);

int unpack_for_run(const char *root, const char *app, const char *hex, char **run_dir)
{
	char *prefix = xasprintf("%s-", app);
	int err = unpack_prefixed(root, prefix, hex, run_dir);
	free(prefix);
	return err;
}

int unpack_for_instance(const char *root, const char *app, const char *label, const char *hex,
			char **run_dir, int *lock_fd)
{
	char *prefix = xasprintf("%s.%s-", app, label);
	int err = unpack_prefixed(root, prefix, hex, run_dir);
	free(prefix);
	*lock_fd = -1;
	if (!err) {
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
	}
	return err;
}

static int unpack_prefixed(const char *root, const char *prefix, const char *hex,
			   char **run_dir)
{
	char *parent = paths_runs_dir(root);
	char *run = NULL, *slug = NULL, *inside = NULL;
	int err;

	*run_dir = NULL;
	if ((err = cas_check(root, hex)) || (err = fs_mkdir_p(parent, 0700)) ||
	    (err = fs_mkdtemp(parent, prefix, &run)))
		goto done;
	slug = cas_path(root, hex);
	inside = xasprintf("%s/app", run);
	err = slug_extract(slug, inside);
done:
	if (err && run)
		fs_rm_rf(run);
	if (!err)
		*run_dir = run;
	else
		free(run);
	free(inside);
	free(slug);
	free(parent);
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

int unpack_sweep(const char *root, uint64_t *removed)
{
	struct strvec apps = STRVEC_INIT;
	char *shared = paths_unpacked_dir(root);
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
	if (!err && fs_exists(shared) && !(err = fs_rm_rf(shared)))
		(*removed)++;
	if (!err)
		err = sweep_instances(root, removed);
	strvec_clear(&apps);
	free(shared);
	return err;
}
