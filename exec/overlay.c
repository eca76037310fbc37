#define _GNU_SOURCE
#include "exec/overlay.h"

#include "exec/slugtree.h"
#include "exec/unpack.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* The app's settings for its files: whether to overlay, and the overlay's size. */
static int read_settings(const char *root, const char *app, int *use, uint64_t *size)
{
	struct settings *s = NULL;
	int err;
	if ((err = settings_open(&s, root, app)))
		return err;
	if (!(err = settings_bool(s, &SETTING_APP_OVERLAY, use)))
		err = settings_size(s, &SETTING_APP_WRITE_SIZE, size);
	settings_free(s);
	return err;
}

/* The mount options name the directories: ',' ':' and '\' would be read as separators. */
static int fits_options(const char *path)
{
	return !strpbrk(path, ",:\\");
}

/* Everything overlay_mount() will need, formatted now. */
static int prepare(struct overlay *ov, uint64_t size)
{
	if (mkdir(ov->scratch, 0700) < 0)
		return sw_error_errno(SW_ERROR, "cannot create directory '%s'", ov->scratch);
	ov->upper = xasprintf("%s/upper", ov->scratch);
	ov->work = xasprintf("%s/work", ov->scratch);
	ov->options = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s,userxattr", ov->tree,
				ov->upper, ov->work);
	ov->tmpfs_options = size ? xasprintf("mode=0700,size=%llu", (unsigned long long)size)
				 : xstrdup("mode=0700");
	snprintf(ov->uid_map, sizeof(ov->uid_map), "%u %u 1", (unsigned)getuid(),
		 (unsigned)getuid());
	snprintf(ov->gid_map, sizeof(ov->gid_map), "%u %u 1", (unsigned)getgid(),
		 (unsigned)getgid());
	ov->bounding = 0;
	for (int cap = 0; cap < 64 && prctl(PR_CAPBSET_READ, cap) >= 0; cap++)
		if (prctl(PR_CAPBSET_READ, cap) == 1)
			ov->bounding |= 1ULL << cap;
	return 0;
}

int overlay_open(struct overlay *ov, const char *root, const char *app, const char *label,
		 const char *hex, const struct sandbox *sb)
{
	uint64_t size = 0;
	int use = 0, err;

	*ov = (struct overlay)OVERLAY_INIT;
	if ((err = read_settings(root, app, &use, &size)))
		return err;
	if (sb->off || !use || !fits_options(root)) {
		err = label ? unpack_for_instance(root, app, label, hex, &ov->run, &ov->run_lock)
			    : unpack_for_run(root, app, hex, &ov->run);
		if (!err)
			ov->dir = xasprintf("%s/app", ov->run);
		return err;
	}
	if ((err = slugtree_open(root, hex, &ov->tree, &ov->tree_lock)) ||
	    (err = unpack_run_dir(root, app, label, &ov->run, &ov->run_lock)))
		goto done;
	ov->dir = xasprintf("%s/app", ov->run);
	ov->scratch = xasprintf("%s/rw", ov->run);
	err = prepare(ov, size);
done:
	if (err)
		overlay_close(ov);
	return err;
}

int overlay_wanted(const struct overlay *ov)
{
	return ov->tree != NULL;
}

int overlay_arm(struct overlay *ov)
{
	ov->failed = 0;
	if (pipe2(ov->report, O_CLOEXEC) < 0) {
		ov->report[0] = ov->report[1] = -1;
		return sw_error_errno(SW_ERROR, "cannot start the process");
	}
	return 0;
}

/* write(2) of a whole short string, in the child. */
static int put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t n = strlen(text);
	int ok = fd >= 0 && write(fd, text, n) == (ssize_t)n;
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* The new user namespace's full set, back to the bounding set of before. */
static int drop_new_caps(const struct overlay *ov)
{
	for (int cap = 0; cap < 64 && prctl(PR_CAPBSET_READ, cap) >= 0; cap++)
		if (!(ov->bounding & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap) < 0)
			return -1;
	return 0;
}

void overlay_mount(const struct overlay *ov)
{
	/* the same ids inside: what runs keeps its uid, and bwrap no capabilities after exec */
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 && put("/proc/self/setgroups", "deny") == 0 &&
	    put("/proc/self/uid_map", ov->uid_map) == 0 &&
	    put("/proc/self/gid_map", ov->gid_map) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
	    mount("slipway", ov->scratch, "tmpfs", MS_NOSUID | MS_NODEV, ov->tmpfs_options) == 0 &&
	    mkdir(ov->upper, 0755) == 0 && mkdir(ov->work, 0700) == 0 &&
	    mount("overlay", ov->dir, "overlay", MS_NOSUID | MS_NODEV, ov->options) == 0 &&
	    drop_new_caps(ov) == 0)
		return;
	int e = errno;
	if (write(ov->report[1], &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

static void mount_before_exec(void *ctx)
{
	overlay_mount(ctx);
}

int overlay_run_opts(struct overlay *ov, struct run_opts *o)
{
	o->before_exec = NULL;
	if (!overlay_wanted(ov))
		return 0;
	o->before_exec = mount_before_exec;
	o->before_exec_ctx = ov;
	return overlay_arm(ov);
}

static void close_report(struct overlay *ov)
{
	for (int i = 0; i < 2; i++)
		if (ov->report[i] >= 0)
			close(ov->report[i]);
	ov->report[0] = ov->report[1] = -1;
}

int overlay_started(struct overlay *ov)
{
	int e = 0;
	ssize_t n;
	if (ov->report[1] >= 0)
		close(ov->report[1]);
	ov->report[1] = -1;
	do
		n = read(ov->report[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close_report(ov);
	if (n != (ssize_t)sizeof(e))
		return 0;
	ov->failed = 1;
	errno = e;
	return sw_error_errno(SW_ERROR, "cannot mount the slug's tree as an overlay at /app");
}

int overlay_copy(struct overlay *ov, const char *root, const char *hex)
{
	int err = unpack_copy(root, hex, ov->run);
	if (err)
		return err;
	if (ov->tree_lock >= 0)
		close(ov->tree_lock);
	ov->tree_lock = -1;
	free(ov->tree);
	ov->tree = NULL;
	return 0;
}

void overlay_close(struct overlay *ov)
{
	if (ov->run)
		unpack_remove(ov->run); /* the process's changes go with it */
	if (ov->run_lock >= 0)
		close(ov->run_lock);
	if (ov->tree_lock >= 0)
		close(ov->tree_lock);
	close_report(ov);
	free(ov->run);
	free(ov->dir);
	free(ov->tree);
	free(ov->scratch);
	free(ov->upper);
	free(ov->work);
	free(ov->options);
	free(ov->tmpfs_options);
	*ov = (struct overlay)OVERLAY_INIT;
}
