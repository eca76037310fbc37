#define _GNU_SOURCE
#include "builder/buildarea.h"

#include "builder/buildlimits.h"
#include "store/app.h"
#include "store/paths.h"
#include "util/fsutil.h"
#include "util/lock.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

#define HEADROOM ((uint64_t)256 << 20)

static const char *tmpfs_dir(const char *setting)
{
	if (!setting || !*setting)
		return "/dev/shm";
	return strcmp(setting, "none") ? setting : NULL;
}

static uint64_t mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	unsigned long long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb * 1024;
}

/* <tmpfs>/slipway-<uid>, created if create; NULL unless it is a private dir of ours on a tmpfs. */
static char *private_base(const char *tmpfs, int create)
{
	struct statfs sfs;
	struct stat st;
	char *base;

	if (statfs(tmpfs, &sfs) < 0 || sfs.f_type != TMPFS_MAGIC)
		return NULL;
	base = xasprintf("%s/slipway-%u", tmpfs, (unsigned)geteuid());
	if (create && mkdir(base, 0700) < 0 && errno != EEXIST)
		goto refuse;
	if (lstat(base, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077))
		goto refuse;
	return base;
refuse:
	free(base);
	return NULL;
}

/* The tmpfs area of app, or NULL; the root must exist (its inode names it). */
static char *tmpfs_area(const char *root, const char *app, const char *t, int create)
{
	struct stat rst;
	char *base, *area;

	if (!t || stat(root, &rst) < 0 || !(base = private_base(t, create)))
		return NULL;
	area = xasprintf("%s/%llx-%llx-%s", base, (unsigned long long)rst.st_dev,
			 (unsigned long long)rst.st_ino, app);
	free(base);
	return area;
}

static int roomy(const char *dir, uint64_t tree_bytes)
{
	struct statvfs vfs;
	uint64_t need = 2 * tree_bytes + HEADROOM;

	if (statvfs(dir, &vfs) < 0)
		return 0;
	return (uint64_t)vfs.f_bavail * vfs.f_frsize >= need && mem_available() >= need;
}

char *buildarea_path(const char *root, const char *app, const char *build_dir,
		     const char *tmpfs, uint64_t tree_bytes)
{
	const char *t = tmpfs_dir(tmpfs);
	char *area;

	if (build_dir && *build_dir)
		return xasprintf("%s/%s", build_dir, app);
	if (t && roomy(t, tree_bytes) && (area = tmpfs_area(root, app, t, 1)))
		return area;
	return paths_builds(root, app);
}

char **buildarea_all(const char *root, const char *app, const char *build_dir,
		     const char *tmpfs, size_t *n)
{
	const char *t = tmpfs_dir(tmpfs);
	char *cand[3] = { NULL, NULL, NULL };
	char **out = xmalloc(4 * sizeof(*out));

	*n = 0;
	if (build_dir && *build_dir)
		cand[0] = xasprintf("%s/%s", build_dir, app);
	cand[1] = t ? tmpfs_area(root, app, t, 0) : NULL;
	cand[2] = paths_builds(root, app);
	for (int i = 0; i < 3; i++) {
		if (cand[i] && fs_exists(cand[i]))
			out[(*n)++] = cand[i];
		else
			free(cand[i]);
	}
	out[*n] = NULL;
	return out;
}

int buildarea_clear(const char *root, const char *app, const char *build_dir,
		    const char *tmpfs, uint64_t *removed)
{
	size_t n;
	char **areas = buildarea_all(root, app, build_dir, tmpfs, &n);
	int err = 0;
	for (size_t i = 0; i < n; i++) {
		if (!err && !(err = fs_rm_rf(areas[i])) && removed)
			(*removed)++;
		free(areas[i]);
	}
	free(areas);
	return err;
}

int buildarea_sweep(const char *root, uint64_t *removed)
{
	struct strvec apps = STRVEC_INIT;
	int err = app_list(root, &apps);

	*removed = 0;
	for (size_t i = 0; !err && i < apps.n; i++) {
		struct lock lk = LOCK_INIT;
		struct build_limits lim = BUILD_LIMITS_INIT;
		char *lockpath = app_lock_path(root, apps.v[i]);
		build_limits_load(root, apps.v[i], &lim);
		if (lock_acquire(&lk, lockpath, 0, NULL, NULL) == 0) {
			buildarea_clear(root, apps.v[i], lim.build_dir, lim.tmpfs, removed);
			lock_release(&lk);
		}
		build_limits_release(&lim);
		free(lockpath);
	}
	strvec_clear(&apps);
	return err;
}
