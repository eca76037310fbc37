#define _GNU_SOURCE
#include "util/proc.h"

#include "util/error.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int numeric(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* Seconds since boot (/proc/uptime), -1 if unknown. */
static double read_uptime(void)
{
	FILE *f = fopen("/proc/uptime", "re");
	double up = -1;
	if (f) {
		if (fscanf(f, "%lf", &up) != 1)
			up = -1;
		fclose(f);
	}
	return up;
}

/*
 * The parent and the age from /proc/PID/stat ("pid (comm) state ppid ...",
 * field 22 the start in clock ticks since boot); -1 if unreadable.
 */
static int read_stat(struct proc_info *p, double uptime)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)p->pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *s = strrchr(buf, ')'); /* comm may hold spaces and parentheses */
	char state = 0;
	if (!s || sscanf(s + 1, " %c %d", &state, &p->ppid) != 2)
		return -1;
	p->zombie = state == 'Z' || state == 'X';
	s += 2;
	s += strcspn(s, " "); /* past the state */
	unsigned long long v = 0;
	for (int field = 4; field <= 22; field++) {
		char *end;
		errno = 0;
		v = strtoull(s, &end, 10);
		if (end == s || errno)
			return -1;
		s = end;
	}
	p->start = v;
	long hz = sysconf(_SC_CLK_TCK);
	p->age = uptime >= 0 && hz > 0 ? uptime - (double)v / (double)hz : -1;
	return 0;
}

static void read_one(struct proc_info *p)
{
	char path[64], target[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/cwd", (int)p->pid);
	if (stat(path, &st) == 0) {
		p->has_cwd = 1;
		p->cwd_dev = st.st_dev;
		p->cwd_ino = st.st_ino;
	}
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = '\0';
		p->cwd_path = xstrdup(target);
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)p->pid);
	if (stat(path, &st) == 0) {
		p->has_exe = 1;
		p->exe_dev = st.st_dev;
		p->exe_ino = st.st_ino;
	}
	n = readlink(path, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = '\0';
		static const char deleted[] = " (deleted)"; /* replaced since it started */
		size_t len = (size_t)n, dl = sizeof(deleted) - 1;
		if (len > dl && !strcmp(target + len - dl, deleted))
			target[len - dl] = '\0';
		const char *slash = strrchr(target, '/');
		p->exe_name = xstrdup(slash ? slash + 1 : target);
	}
}

int proc_table_read(struct proc_table *t)
{
	size_t cap = 0;
	t->v = NULL;
	t->n = 0;
	t->self = getpid();
	DIR *d = opendir("/proc");
	if (!d)
		return sw_error_errno(SW_ERROR, "cannot read /proc");
	double uptime = read_uptime();
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!numeric(de->d_name))
			continue;
		struct proc_info one = { .pid = (pid_t)atol(de->d_name) };
		if (read_stat(&one, uptime) < 0)
			continue; /* gone meanwhile */
		if (t->n == cap) {
			cap = cap ? cap * 2 : 256;
			t->v = xrealloc(t->v, cap * sizeof(*t->v));
		}
		struct proc_info *p = &t->v[t->n++];
		*p = one;
		read_one(p);
	}
	closedir(d);
	return 0;
}

void proc_table_free(struct proc_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].exe_name);
		free(t->v[i].cwd_path);
	}
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

const struct proc_info *proc_find(const struct proc_table *t, pid_t pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].pid == pid)
			return &t->v[i];
	return NULL;
}

int proc_is_self_or_ancestor(const struct proc_table *t, pid_t pid)
{
	pid_t p = t->self;
	for (size_t hops = 0; p > 0 && hops <= t->n; hops++) {
		if (p == pid)
			return 1;
		const struct proc_info *e = proc_find(t, p);
		if (!e)
			break;
		p = e->ppid;
	}
	return 0;
}

int proc_runs_self(const struct proc_table *t, const struct proc_info *p)
{
	const struct proc_info *me = proc_find(t, t->self);
	return me && me->has_exe && p->has_exe && me->exe_dev == p->exe_dev &&
	       me->exe_ino == p->exe_ino;
}

static int has_open(pid_t pid, const struct stat *want)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	struct dirent *de;
	int found = 0;
	while (!found && (de = readdir(d))) {
		struct stat st;
		if (numeric(de->d_name) && fstatat(dirfd(d), de->d_name, &st, 0) == 0 &&
		    st.st_dev == want->st_dev && st.st_ino == want->st_ino)
			found = 1;
	}
	closedir(d);
	return found;
}

int proc_file_open(const struct proc_table *t, const struct stat *st, pid_t *who)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].pid != t->self && has_open(t->v[i].pid, st)) {
			if (who)
				*who = t->v[i].pid;
			return 1;
		}
	}
	return 0;
}

static size_t children_files(pid_t parent, pid_t *out, size_t max);

size_t proc_descendants(pid_t root, pid_t *out, size_t max)
{
	if (max && access("/proc/thread-self/children", R_OK) == 0) {
		/* breadth first, each process's children from its own files */
		size_t have = 1;
		out[0] = root;
		for (size_t i = 0; i < have && have < max; i++) {
			size_t n = children_files(out[i], out + have, max - have);
			have += n < max - have ? n : max - have;
		}
		return have;
	}
	struct proc_info *all = NULL;
	size_t n = 0, cap = 0, have = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		struct proc_info p = { .pid = (pid_t)atoi(e->d_name) };
		if (read_stat(&p, -1) < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			all = xrealloc(all, cap * sizeof(*all));
		}
		all[n++] = p;
	}
	if (d)
		closedir(d);
	if (max)
		out[have++] = root;
	/* breadth first: every process whose parent is already in out */
	for (size_t i = 0; i < have; i++)
		for (size_t k = 0; k < n && have < max; k++)
			if (all[k].ppid == out[i] && all[k].pid != root)
				out[have++] = all[k].pid;
	free(all);
	return have;
}

/*
 * parent's children from /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN,
 * on in Debian's kernels): one read per thread of parent instead of one
 * per process of the machine.
 */
static size_t children_files(pid_t parent, pid_t *out, size_t max)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)parent);
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		char path[PATH_MAX], text[8192]; /* some 1,000 pids per thread */
		snprintf(path, sizeof(path), "%s/%s/children", dir, e->d_name);
		FILE *f = fopen(path, "re");
		if (!f)
			continue; /* the thread is gone */
		size_t got = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[got] = '\0';
		for (char *p = text, *end;; p = end) {
			long pid = strtol(p, &end, 10);
			if (end == p)
				break;
			if (n < max)
				out[n] = (pid_t)pid;
			n++;
		}
	}
	if (d)
		closedir(d);
	return n;
}

size_t proc_children(pid_t parent, pid_t *out, size_t max)
{
	if (access("/proc/thread-self/children", R_OK) == 0)
		return children_files(parent, out, max);
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t n = 0;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		struct proc_info p = { .pid = (pid_t)atoi(e->d_name) };
		if (read_stat(&p, -1) == 0 && p.ppid == parent) {
			if (n < max)
				out[n] = p.pid;
			n++;
		}
	}
	if (d)
		closedir(d);
	return n;
}

/* 1 when path is dir or lies under it; a removed directory's path ends in " (deleted)". */
static int path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/' || path[n] == ' ');
}

void proc_under(const struct proc_table *t, const char *dir,
		int (*keep)(const struct proc_info *p, void *ctx), void *ctx,
		const struct proc_info ***out, size_t *n)
{
	char *in = xcalloc(t->n ? t->n : 1, 1);
	size_t have = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].cwd_path && path_under(t->v[i].cwd_path, dir) &&
		    (!keep || keep(&t->v[i], ctx))) {
			in[i] = 1;
			have++;
		}
	/* their descendants, until a pass finds none more */
	for (size_t added = have; added;) {
		added = 0;
		for (size_t i = 0; i < t->n; i++) {
			const struct proc_info *parent = in[i] ? NULL : proc_find(t, t->v[i].ppid);
			if (parent && in[parent - t->v]) {
				in[i] = 1;
				added++;
			}
		}
	}
	*out = xcalloc(t->n ? t->n : 1, sizeof(**out));
	*n = 0;
	for (size_t i = 0; i < t->n; i++)
		if (in[i] && !t->v[i].zombie && !proc_is_self_or_ancestor(t, t->v[i].pid))
			(*out)[(*n)++] = &t->v[i];
	free(in);
}

int proc_still_runs(const struct proc_info *p)
{
	struct proc_info now = { .pid = p->pid };
	return read_stat(&now, -1) == 0 && !now.zombie && now.start == p->start;
}

int proc_runs(pid_t pid)
{
	struct proc_info now = { .pid = pid };
	return read_stat(&now, -1) == 0 && !now.zombie;
}

int proc_oom_score_adj(int value)
{
	char text[16];
	int n = snprintf(text, sizeof(text), "%d", value);
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, text, (size_t)n);
	int saved = errno;
	close(fd);
	errno = saved;
	return w == n ? 0 : -1;
}
