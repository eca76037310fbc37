/*
 * proc.h - what the other processes of this machine are doing, from /proc.
 *
 * Part of util/: includes nothing outside util/; prints nothing.
 *
 * A snapshot of the processes whose /proc entries this process may read
 * (on a usual system: all of them for their pid and parent, those of the
 * same user for their working directory, executable and open files).
 * Files and directories are compared by device and inode, never by name.
 *
 *     struct proc_table t = PROC_TABLE_INIT;
 *     if (proc_table_read(&t) == 0 && proc_file_open(&t, &st, NULL)) ...;
 *     proc_table_free(&t);
 */
#ifndef SW_PROC_H
#define SW_PROC_H

#include <sys/stat.h>
#include <sys/types.h>

struct proc_info {
	pid_t pid, ppid;
	int has_cwd, has_exe;  /* whether cwd and exe could be read */
	dev_t cwd_dev, exe_dev;
	ino_t cwd_ino, exe_ino;
	char *exe_name;        /* the executable's file name (no directory), or NULL */
	char *cwd_path;        /* the working directory's path as the kernel shows it (one
				  removed since: its last path), or NULL */
	double age;            /* seconds since it started (-1: unknown) */
	unsigned long long start; /* when it started, in clock ticks since boot */
	int zombie;            /* it has exited and waits for its parent */
};

struct proc_table {
	struct proc_info *v;
	size_t n;
	pid_t self;
};
#define PROC_TABLE_INIT { NULL, 0, 0 }

/* Reads the snapshot.  SW_ERROR if /proc cannot be read at all. */
int proc_table_read(struct proc_table *t);

void proc_table_free(struct proc_table *t);

/* The entry of pid, or NULL. */
const struct proc_info *proc_find(const struct proc_table *t, pid_t pid);

/* 1 if pid is this process or one of its ancestors. */
int proc_is_self_or_ancestor(const struct proc_table *t, pid_t pid);

/* 1 if p runs the same executable as this process. */
int proc_runs_self(const struct proc_table *t, const struct proc_info *p);

/*
 * 1 if a process other than this one has the file st describes open (now:
 * this looks at every open file of every readable process); its pid in
 * *who (may be NULL).
 */
int proc_file_open(const struct proc_table *t, const struct stat *st, pid_t *who);

/*
 * The processes working in dir or under it (by the path the kernel shows:
 * one whose directory was removed or moved within dir since still counts;
 * dir is an absolute path without symbolic links) that keep accepts (NULL:
 * all), and all their descendants, however they were started: entries of
 * t, into *out (malloc'ed, free it; the entries stay t's) and *n.  Never
 * this process or one of its ancestors, nor a zombie.
 */
void proc_under(const struct proc_table *t, const char *dir,
		int (*keep)(const struct proc_info *p, void *ctx), void *ctx,
		const struct proc_info ***out, size_t *n);

/* 1 while pid is a process that has not exited (a zombie has). */
int proc_runs(pid_t pid);

/*
 * 1 while the process p describes still runs: not exited (a zombie has),
 * and its pid not taken by another process since.
 */
int proc_still_runs(const struct proc_info *p);

/*
 * The pids of parent's children now (from /proc/PID/task/TID/children
 * where the kernel has them, else from each /proc/PID/stat), up to max
 * into out; how many there are.
 */
size_t proc_children(pid_t parent, pid_t *out, size_t max);

/*
 * root and its descendants now, root first, up to max into out (from each
 * one's /proc/PID/task/TID/children where the kernel has them, else one
 * pass over /proc); how many were written.
 */
size_t proc_descendants(pid_t root, pid_t *out, size_t max);

/*
 * How the kernel's OOM killer ranks what Slipway starts: the runtime (s6,
 * the router, each instance's supervisor) is the last to go and app code
 * (processes, one-offs, the release phase, buildpacks) the first, so a
 * hungry app cannot take the tree or another app's router down with it.
 */
#define PROC_OOM_TREE (-500)
#define PROC_OOM_APP 500

/*
 * Sets this process's /proc/self/oom_score_adj (-1000..1000), which its
 * children inherit.  Raising it is always allowed; lowering it below what
 * it was needs CAP_SYS_RESOURCE (root): -1 with errno EACCES then, and
 * nothing changed.  Safe between fork() and exec() (no allocation).
 */
int proc_oom_score_adj(int value);

#endif
