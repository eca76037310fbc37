/*
 * limits.h - what one process instance may take of the machine: memory,
 * processes and CPU, through a cgroup of its own.
 *
 * Part of exec/: uses util/ and store/; prints nothing (what the instance
 * should say is returned to its caller).
 *
 * Where: the cgroup this process runs in, when it may write there.  With
 * cgroup v2 (/sys/fs/cgroup unified) that is the subtree a service manager
 * delegates (systemd's Delegate=yes, dist/slipway.service); its processes
 * move into a leaf of their own, slipway.runtime, first, since v2 lets a
 * cgroup pass controllers down only when no process runs in it.  With
 * cgroup v1, each of the memory, pids and cpu hierarchies on its own.
 * Under that place, one cgroup per instance:
 *
 *     slipway-<hash of the root>/<app>/<label>.<pid of its supervisor>
 *
 * (two roots on one machine never share one, nor two instances running
 * side by side in a switch), made before the instance starts and removed
 * when it has ended; one left by a supervisor that was killed is removed
 * when the next instance of the app starts.  The app's level holds the CPU
 * weight: every app has the same (cpu.shares 1024, cpu.weight 100), so
 * apps share the CPU fairly however many instances each runs.
 *
 * Memory, as on Heroku: the quota (slipway.memory, 512M by default) is
 * what the instance may use; over it the instance says Error R14, and the
 * kernel stops it at twice the quota (the hard limit), where it says Error
 * R15 and is killed.  With v1 the kernel's OOM killer is off in the
 * instance's cgroup, so what reaches the hard limit waits there until
 * limits_memory() reports it; with v2 the kernel kills the whole cgroup
 * (memory.oom.group) and limits_memory() reports it afterwards.
 * Processes and threads: slipway.maxProcesses (256).
 *
 *     struct limits l = LIMITS_INIT;
 *     struct limits_spec spec = { .memory = 512 << 20, .pids = 256 };
 *     if (limits_open(&l, root, app, "v3.web.1", &spec) < 0) ...;
 *     // in the child, before exec: limits_join(&l)
 *     struct limits_usage u;
 *     limits_memory(&l, &u);   // about once a second
 *     limits_close(&l);        // once every process of it has ended
 */
#ifndef SW_LIMITS_H
#define SW_LIMITS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The hierarchies an instance joins: v1 has one per controller, v2 one. */
#define LIMITS_GROUPS_MAX 3

struct limits_spec {
	uint64_t memory;  /* the quota in bytes (the hard limit is twice it); 0: none */
	uint64_t pids;    /* processes and threads at most; 0: none */
	/*
	 * nothing watches its memory (a one-off): with v1 too, the kernel's OOM
	 * killer ends what reaches the hard limit
	 */
	int kernel_kills;
};

/*
 * The app's limits for a process of type: slipway.memory, or the type's
 * size (ps:resize, store/formation.h), and slipway.maxProcesses; for the
 * type "build" (the buildpacks of a build), slipway.buildMemory as the
 * hard limit, the kernel's OOM killer at it.  A
 * malformed setting is SW_EINVALID with its default in spec all the same:
 * the caller says so and runs.
 */
int limits_spec_read(const char *root, const char *app, const char *type,
		     struct limits_spec *spec);

struct limits {
	int version;                       /* 1 or 2; 0: nothing is enforced */
	char *dirs[LIMITS_GROUPS_MAX];     /* the instance's cgroups (owned) */
	int procs[LIMITS_GROUPS_MAX];      /* their cgroup.procs, open for limits_join() */
	size_t n;
	int memory;                        /* index in dirs of the memory cgroup; -1: none */
	uint64_t quota;                    /* spec.memory, when memory >= 0 */
};
#define LIMITS_INIT { .memory = -1, .procs = { -1, -1, -1 } }

/*
 * Whether the limits of instances started by pid (0: this process; the
 * supervision tree's s6-svscan, whose cgroup they share) can be enforced,
 * as this user: 1 with *what (malloc'ed) naming how ("cgroup v1 (memory,
 * pids, cpu)"), or 0 with *what saying why not
 * ("/sys/fs/cgroup/memory/...: Permission denied").  Makes nothing.
 */
int limits_probe(pid_t pid, char **what);

/*
 * Makes the instance's cgroups (see above) and sets spec's limits in them.
 * Where no cgroup is writable, l->version stays 0 and nothing is enforced:
 * that is not an error.  SW_ERROR when a cgroup that could be made
 * refuses a limit.
 */
int limits_open(struct limits *l, const char *root, const char *app, const char *label,
		const struct limits_spec *spec);

/*
 * Moves the calling process into the instance's cgroups: for the child,
 * between fork() and exec() (async-signal-safe; allocates nothing).  -1
 * when one refused it.
 */
int limits_join(const struct limits *l);

struct limits_usage {
	uint64_t used;   /* bytes in use now, page cache that can be dropped left out */
	uint64_t peak;   /* the most it used (page cache included; v2 kernels before 5.19: used) */
	int oom;         /* it reached the hard limit (twice the quota) */
};

/* The instance's memory now.  SW_ENOTFOUND when its memory is not limited. */
int limits_memory(const struct limits *l, struct limits_usage *u);

/*
 * SIGKILL to every process in the instance's cgroups: all it started,
 * whatever namespace or session it went to.
 */
void limits_kill(const struct limits *l);

/*
 * Ends what is left in the instance's cgroups (limits_kill) and removes
 * them (waiting a little for processes still exiting), and the app's and
 * the root's levels when they are left empty; frees l's contents.  Safe
 * on LIMITS_INIT.
 */
void limits_close(struct limits *l);

/*
 * Removes every empty cgroup of root's instances in this process's place
 * (one with processes stays): what supervisors killed outright left.  Only
 * while no instance of root is starting (one whose cgroup is made but not
 * joined yet would lose it): when the runtime starts or has stopped.
 */
void limits_sweep(const char *root);

/*
 * The cgroup name of root ("slipway-" and 8 hex digits of its path), for
 * tests and fsck that look for what is left: into buf.
 */
void limits_root_name(const char *root, char *buf, size_t size);

#endif
