#define _GNU_SOURCE
#include "exec/limits.h"

#include "store/formation.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define CGROUP_FS "/sys/fs/cgroup"
#define CGROUP2_MAGIC 0x63677270
/* v2: where this process's own cgroup's processes go, so its children may have controllers */
#define RUNTIME_LEAF "slipway.runtime"
/* Heroku's share: every app the same (cpu.shares' and cpu.weight's defaults) */
#define APP_SHARES "1024"
#define APP_WEIGHT "100"

static const char *const v1_controllers[LIMITS_GROUPS_MAX] = { "memory", "pids", "cpu" };

/* Where instances' cgroups go on this machine: one base per hierarchy. */
struct place {
	int version;                       /* 0: none (why says why) */
	char *base[LIMITS_GROUPS_MAX];     /* the cgroup this process runs in, per hierarchy */
	const char *name[LIMITS_GROUPS_MAX]; /* v1: its controller; v2: NULL */
	size_t n;
	char *why;
};

static void place_release(struct place *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->base[i]);
	free(p->why);
	memset(p, 0, sizeof(*p));
}

/* A whole small file of a cgroup, NUL-terminated; NULL when it cannot be read. */
static char *read_small(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name), *text = NULL;
	if (fs_read_file(path, 65536, &text, NULL) < 0)
		text = NULL;
	free(path);
	return text;
}

/* The errno of write_value()'s last failure. */
static int write_errno;

/* Writes value into dir/name as one write (a cgroup file takes each write whole). */
static int write_value(const char *dir, const char *name, const char *value)
{
	char *path = xasprintf("%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;
	size_t len = strlen(value);
	if (fd < 0 || write(fd, value, len) != (ssize_t)len) {
		write_errno = errno;
		err = sw_error_errno(SW_ERROR, "cannot write '%s' to %s", value, path);
	}
	if (fd >= 0)
		close(fd);
	free(path);
	return err;
}

/* The value after "key " on a line of text (memory.stat, memory.events); 0 when absent. */
static uint64_t keyed(const char *text, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, n) && p[n] == ' ')
			return strtoull(p + n + 1, NULL, 10);
	return 0;
}

/* 1 when word is one of the comma-separated words of list (its first len bytes). */
static int has_word(const char *list, size_t len, const char *word, char sep)
{
	size_t n = strlen(word);
	for (size_t i = 0; i < len;) {
		size_t j = i;
		while (j < len && list[j] != sep)
			j++;
		if (j - i == n && !strncmp(list + i, word, n))
			return 1;
		i = j + 1;
	}
	return 0;
}

/* pid's (0: this process's) cgroup in the hierarchy of controller (v1), or of v2 (""); malloc'ed. */
static char *own_cgroup(pid_t pid, const char *controller)
{
	char *text = NULL, *found = NULL, path[64];
	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (fs_read_file(pid ? path : "/proc/self/cgroup", 65536, &text, NULL) < 0)
		return NULL;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
		if (!b)
			continue;
		if (*controller ? has_word(a + 1, (size_t)(b - a - 1), controller, ',')
				: !strncmp(line, "0::", 3))
			found = xstrdup(b + 1);
	}
	free(text);
	return found;
}

/*
 * Where the v1 hierarchy of controller is mounted, and which of its
 * cgroups the mount shows at its top (a container's is often its own):
 * from /proc/self/mountinfo.
 */
static int v1_mount(const char *controller, char **point, char **top)
{
	char *text = NULL;
	int found = 0;
	if (fs_read_file("/proc/self/mountinfo", 1 << 20, &text, NULL) < 0)
		return 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		char root[PATH_MAX], mnt[PATH_MAX], type[32], super[1024];
		const char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
		    sscanf(dash + 3, "%31s %*s %1023s", type, super) != 2 || strcmp(type, "cgroup"))
			continue;
		if (has_word(super, strlen(super), controller, ',')) {
			*point = xstrdup(mnt);
			*top = xstrdup(root);
			found = 1;
		}
	}
	free(text);
	return found;
}

/* The v1 base of controller: its mount plus this process's cgroup; NULL (why set) when none. */
static char *v1_base(pid_t pid, const char *controller, char **why)
{
	char *point = NULL, *top = NULL, *own = own_cgroup(pid, controller), *base = NULL;
	if (!own || !v1_mount(controller, &point, &top)) {
		if (!*why)
			*why = xasprintf("no %s cgroup is mounted", controller);
		goto done;
	}
	size_t t = strcmp(top, "/") ? strlen(top) : 0;
	const char *rest = !strncmp(own, top, t) ? own + t : own;
	base = xasprintf("%s%s", point, strcmp(rest, "/") ? rest : "");
	if (access(base, W_OK) < 0) {
		if (!*why)
			*why = xasprintf("%s: %s", base, strerror(errno));
		free(base);
		base = NULL;
	}
done:
	free(point);
	free(top);
	free(own);
	return base;
}

/* The v2 base: this process's cgroup (its parent when it is our leaf), when it is ours to write. */
static int v2_find(struct place *p, pid_t pid)
{
	char *own = own_cgroup(pid, ""), *base, *ctrl = NULL;
	if (!own) {
		p->why = xstrdup("this process's cgroup is unknown (/proc/self/cgroup)");
		return 0;
	}
	char *slash = strrchr(own, '/');
	if (slash && !strcmp(slash + 1, RUNTIME_LEAF))
		*slash = '\0';
	base = xasprintf(CGROUP_FS "%s", strcmp(own, "/") ? own : "");
	free(own);
	ctrl = read_small(base, "cgroup.controllers");
	char *procs = xasprintf("%s/cgroup.procs", base), *sub = xasprintf("%s/cgroup.subtree_control", base);
	if (access(procs, W_OK) < 0 || access(sub, W_OK) < 0)
		p->why = xasprintf("%s is not delegated to this user (%s; with systemd: Delegate=yes)",
				   base, strerror(errno));
	else if (!ctrl || !has_word(ctrl, strcspn(ctrl, "\n"), "memory", ' ') ||
		 !has_word(ctrl, strcspn(ctrl, "\n"), "pids", ' '))
		p->why = xasprintf("%s has no memory and pids controllers", base);
	free(procs);
	free(sub);
	free(ctrl);
	if (p->why) {
		free(base);
		return 0;
	}
	p->version = 2;
	p->base[p->n++] = base;
	return 1;
}

/* Where the instances of pid's (0: this process's) cgroups go. */
static int place_find(struct place *p, pid_t pid)
{
	struct statfs fs;
	memset(p, 0, sizeof(*p));
	if (statfs(CGROUP_FS, &fs) == 0 && fs.f_type == CGROUP2_MAGIC)
		return v2_find(p, pid);
	for (size_t i = 0; i < LIMITS_GROUPS_MAX; i++) {
		char *base = v1_base(pid, v1_controllers[i], &p->why);
		if (base) {
			p->name[p->n] = v1_controllers[i];
			p->base[p->n++] = base;
		}
	}
	/* memory or processes: either is worth enforcing; CPU alone is not a limit */
	if (p->n && (!strcmp(p->name[0], "memory") || !strcmp(p->name[0], "pids"))) {
		p->version = 1;
		free(p->why);
		p->why = NULL;
		return 1;
	}
	if (!p->why)
		p->why = xstrdup("no cgroup hierarchy is mounted at " CGROUP_FS);
	return 0;
}

int limits_probe(pid_t pid, char **what)
{
	struct place p;
	if (!place_find(&p, pid)) {
		*what = p.why;
		p.why = NULL;
		place_release(&p);
		return 0;
	}
	struct buf b = BUF_INIT;
	buf_addf(&b, "cgroup v%d (", p.version);
	if (p.version == 2) {
		char *ctrl = read_small(p.base[0], "cgroup.controllers");
		buf_adds(&b, ctrl && has_word(ctrl, strcspn(ctrl, "\n"), "cpu", ' ')
			? "memory, pids, cpu" : "memory, pids");
		free(ctrl);
	} else {
		for (size_t i = 0; i < p.n; i++)
			buf_addf(&b, "%s%s", i ? ", " : "", p.name[i]);
	}
	buf_adds(&b, ")");
	*what = buf_detach(&b);
	place_release(&p);
	return 1;
}

int limits_spec_read(const char *root, const char *app, const char *type,
		     struct limits_spec *spec)
{
	struct settings *s = NULL;
	*spec = (struct limits_spec){ .memory = 512ULL << 20, .pids = 256 };
	int err = settings_open(&s, root, app);
	if (!err && (err = settings_size(s, &SETTING_MEMORY, &spec->memory)) < 0)
		spec->memory = 512ULL << 20;
	if (!err && (err = settings_count(s, &SETTING_MAX_PROCESSES, &spec->pids)) < 0)
		spec->pids = 256;
	if (!err && !strcmp(type, "build")) {
		/* the setting is the hard limit, twice the quota */
		if ((err = settings_size(s, &SETTING_BUILD_MEMORY, &spec->memory)) < 0)
			spec->memory = 2ULL << 30;
		spec->memory /= 2;
		spec->kernel_kills = 1;
		settings_free(s);
		return err;
	}
	settings_free(s);
	/* a size set with ps:resize wins */
	const struct formation_size *size = formation_size_of(root, app, type);
	if (size)
		spec->memory = size->memory;
	return err;
}

void limits_root_name(const char *root, char *buf, size_t size)
{
	char real[PATH_MAX];
	const char *path = realpath(root, real) ? real : root;
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const char *s = path; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	snprintf(buf, size, "slipway-%08x", h);
}

/* mkdir that finds one already there fine. */
static int make_dir(const char *path)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return 0;
	return sw_error_errno(SW_ERROR, "cannot make the cgroup %s", path);
}

/* v2: moves every process of base into its leaf (made), until none is left. */
static int v2_move_out(const char *base)
{
	char *leaf = xasprintf("%s/" RUNTIME_LEAF, base), *save = NULL;
	int err = 0;
	for (int round = 0; !err && round < 10; round++) {
		char *procs = read_small(base, "cgroup.procs");
		if (!procs || !*procs) {
			free(procs);
			break;
		}
		if (!(err = make_dir(leaf)))
			for (char *pid = strtok_r(procs, "\n", &save); pid;
			     pid = strtok_r(NULL, "\n", &save))
				(void)write_value(leaf, "cgroup.procs", pid); /* gone meanwhile: fine */
		free(procs);
	}
	free(leaf);
	return err;
}

/*
 * v2: lets base's children have the controllers.  A cgroup with processes
 * cannot (the root of the whole tree aside: EBUSY tells), so they move
 * into its leaf first: this process and its fellows, all the delegating
 * manager's service.
 */
static int v2_enable(const char *base)
{
	char *sub = read_small(base, "cgroup.subtree_control"), *ctrl = NULL;
	int err = 0;
	size_t len = sub ? strcspn(sub, "\n") : 0;
	if (sub && has_word(sub, len, "memory", ' ') && has_word(sub, len, "pids", ' '))
		goto done;
	if ((err = write_value(base, "cgroup.subtree_control", "+memory +pids")) &&
	    write_errno == EBUSY && !(err = v2_move_out(base)))
		err = write_value(base, "cgroup.subtree_control", "+memory +pids");
	ctrl = read_small(base, "cgroup.controllers");
	/* CPU weight is fairness, not a limit: without it all else holds */
	if (!err && ctrl && has_word(ctrl, strcspn(ctrl, "\n"), "cpu", ' '))
		(void)write_value(base, "cgroup.subtree_control", "+cpu");
done:
	free(sub);
	free(ctrl);
	return err;
}

/* base/top/app/label made, their parents passing controllers down (v2); the label's path. */
static int make_tree(const struct place *p, size_t i, const char *top, const char *app,
		     const char *label, char **out)
{
	char *t = xasprintf("%s/%s", p->base[i], top), *a = xasprintf("%s/%s", t, app);
	char *l = xasprintf("%s/%s", a, label);
	int err = 0;
	/* another instance of the app may remove the app's level as it ends: again then */
	for (int round = 0; round < 5; round++) {
		if ((err = make_dir(t)) || (p->version == 2 && (err = v2_enable(t))) ||
		    (err = make_dir(a)) || (p->version == 2 && (err = v2_enable(a))))
			break;
		/* the app's share of the CPU, equal for every app */
		if (p->version == 2)
			(void)write_value(a, "cpu.weight", APP_WEIGHT);
		else if (!strcmp(p->name[i], "cpu"))
			(void)write_value(a, "cpu.shares", APP_SHARES);
		if (mkdir(l, 0755) == 0 || errno == EEXIST) {
			err = 0;
			break;
		}
		err = sw_error_errno(SW_ERROR, "cannot make the cgroup %s", l);
		if (errno != ENOENT)
			break;
	}
	free(t);
	free(a);
	if (err)
		free(l);
	else
		*out = l;
	return err;
}

static int set_limits(struct limits *l, size_t i, const char *name, const struct limits_spec *spec)
{
	const char *dir = l->dirs[i];
	char value[32];
	int err = 0;
	if ((!name || !strcmp(name, "memory")) && spec->memory) {
		snprintf(value, sizeof(value), "%llu", (unsigned long long)spec->memory * 2);
		if (l->version == 2) {
			if (!(err = write_value(dir, "memory.max", value)))
				err = write_value(dir, "memory.oom.group", "1");
		} else if (!(err = write_value(dir, "memory.limit_in_bytes", value))) {
			/* with swap accounted, swap counts too; without it there is no such file */
			(void)write_value(dir, "memory.memsw.limit_in_bytes", value);
			/* what reaches the limit waits for limits_memory(): R15 kills the instance */
			if (!spec->kernel_kills)
				err = write_value(dir, "memory.oom_control", "1");
		}
		if (!err) {
			l->memory = (int)i;
			l->quota = spec->memory;
		}
	}
	if (!err && (!name || !strcmp(name, "pids"))) {
		snprintf(value, sizeof(value), "%llu", (unsigned long long)spec->pids);
		err = write_value(dir, "pids.max", spec->pids ? value : "max");
	}
	return err;
}

/*
 * Removes the cgroups of app's instances whose supervisor is gone without
 * removing its own (killed): NAME.PID with no process PID, and empty (a
 * cgroup with processes is never removed).  One whose PID was taken since
 * waits for a later turn.
 */
static void sweep(const char *app_dir)
{
	DIR *d = opendir(app_dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		const char *dot = strrchr(e->d_name, '.');
		char *end = NULL;
		long pid = dot ? strtol(dot + 1, &end, 10) : 0;
		if (e->d_type != DT_DIR || pid <= 0 || *end || kill((pid_t)pid, 0) == 0 ||
		    errno != ESRCH)
			continue;
		char *path = xasprintf("%s/%s", app_dir, e->d_name);
		rmdir(path);
		free(path);
	}
	if (d)
		closedir(d);
}

int limits_open(struct limits *l, const char *root, const char *app, const char *label,
		const struct limits_spec *spec)
{
	struct place p;
	char top[32], *name = NULL;
	int err = 0;

	if (!place_find(&p, 0)) {
		place_release(&p);
		return 0;
	}
	name = xasprintf("%s.%d", label, (int)getpid());
	limits_root_name(root, top, sizeof(top));
	l->version = p.version;
	if (p.version == 2 && (err = v2_enable(p.base[0])))
		goto done;
	for (size_t i = 0; i < p.n; i++) {
		if ((err = make_tree(&p, i, top, app, name, &l->dirs[i])))
			goto done;
		l->n++;
		char *app_dir = xasprintf("%s/%s/%s", p.base[i], top, app);
		sweep(app_dir);
		free(app_dir);
		if ((err = set_limits(l, i, p.name[i], spec)))
			goto done;
		char *procs = xasprintf("%s/cgroup.procs", l->dirs[i]);
		l->procs[i] = open(procs, O_WRONLY | O_CLOEXEC);
		if (l->procs[i] < 0)
			err = sw_error_errno(SW_ERROR, "cannot open %s", procs);
		free(procs);
		if (err)
			goto done;
	}
done:
	place_release(&p);
	free(name);
	if (err) {
		struct sw_error_state first;
		sw_error_save(&first, err);
		limits_close(l);
		sw_error_restore(&first);
	}
	return err;
}

int limits_join(const struct limits *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (write(l->procs[i], "0", 1) != 1) /* "0": the writer itself */
			return -1;
	return 0;
}

int limits_memory(const struct limits *l, struct limits_usage *u)
{
	memset(u, 0, sizeof(*u));
	if (l->memory < 0)
		return SW_ENOTFOUND;
	const char *dir = l->dirs[l->memory];
	int v2 = l->version == 2;
	char *now = read_small(dir, v2 ? "memory.current" : "memory.usage_in_bytes");
	char *stat = read_small(dir, "memory.stat");
	char *oom = read_small(dir, v2 ? "memory.events" : "memory.oom_control");
	uint64_t used = now ? strtoull(now, NULL, 10) : 0;
	uint64_t idle = stat ? keyed(stat, v2 ? "inactive_file" : "total_inactive_file") : 0;
	u->used = used > idle ? used - idle : 0;
	char *peak = read_small(dir, v2 ? "memory.peak" : "memory.max_usage_in_bytes");
	u->peak = peak ? strtoull(peak, NULL, 10) : u->used;
	free(peak);
	if (oom)
		u->oom = v2 ? keyed(oom, "oom_kill") > 0 || keyed(oom, "oom_group_kill") > 0
			    : keyed(oom, "under_oom") > 0 || keyed(oom, "oom_kill") > 0;
	free(now);
	free(stat);
	free(oom);
	return 0;
}

/* Removes dir's empty cgroups, deepest first, and dir when it is left empty. */
static void remove_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_type == DT_DIR && e->d_name[0] != '.') {
			char *sub = xasprintf("%s/%s", dir, e->d_name);
			remove_empty(sub);
			free(sub);
		}
	if (d)
		closedir(d);
	rmdir(dir);
}

void limits_sweep(const char *root)
{
	struct place p;
	char top[32];
	if (!place_find(&p, 0)) {
		place_release(&p);
		return;
	}
	limits_root_name(root, top, sizeof(top));
	for (size_t i = 0; i < p.n; i++) {
		char *dir = xasprintf("%s/%s", p.base[i], top);
		remove_empty(dir);
		free(dir);
	}
	place_release(&p);
}

void limits_kill(const struct limits *l)
{
	for (size_t i = 0; i < l->n; i++) {
		char *procs = read_small(l->dirs[i], "cgroup.procs"), *save = NULL;
		for (char *pid = procs ? strtok_r(procs, "\n", &save) : NULL; pid;
		     pid = strtok_r(NULL, "\n", &save))
			if (atoi(pid) > 0)
				kill((pid_t)atoi(pid), SIGKILL);
		free(procs);
	}
}

/* rmdir, waiting up to a second for the last processes to be gone. */
static void remove_group(const char *dir)
{
	for (int i = 0; i < 50; i++) {
		if (rmdir(dir) == 0 || errno != EBUSY)
			return;
		nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
	}
}

void limits_close(struct limits *l)
{
	limits_kill(l); /* the instance has ended: what is left of it (a daemon it started) goes */
	for (size_t i = 0; i < LIMITS_GROUPS_MAX; i++) {
		if (l->procs[i] >= 0)
			close(l->procs[i]);
		if (!l->dirs[i])
			continue;
		remove_group(l->dirs[i]);
		/* the app's level and the root's, when no other instance is left in them */
		char *up = l->dirs[i];
		for (int level = 0; level < 2; level++) {
			char *slash = strrchr(up, '/');
			if (!slash)
				break;
			*slash = '\0';
			if (rmdir(up) < 0)
				break;
		}
		free(l->dirs[i]);
	}
	*l = (struct limits)LIMITS_INIT;
}
