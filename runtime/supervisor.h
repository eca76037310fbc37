/*
 * supervisor.h - the supervision tree of a root: s6.
 *
 * Part of runtime/: uses util/, store/ and exec/; writes only to the FILE * or
 * callback it is given.
 *
 * One s6-svscan process watches the root's scan directory
 * <root>/services/ (store/paths.h); each service directory in it is one
 * supervised process, kept running by its own s6-supervise.  Slipway
 * decides what goes there; s6 starts, restarts and stops it.  The scan
 * directory is the tree's identity: s6-svscan refuses to run twice on it,
 * which is what makes starting idempotent, and s6-svscanctl finds the
 * running one through it (no process is ever looked up by name alone).
 * The root's processes are found through it too: those that work in it
 * (s6's programs, and the programs that name the root) and everything
 * they started - so what a killed s6-svscan left is found and ended.
 *
 *     struct supervisor_status st;
 *     if (supervisor_start(root, &st) < 0) ...;  // st.pid, st.already
 *     supervisor_stop(root, 30);
 */
#ifndef SW_SUPERVISOR_H
#define SW_SUPERVISOR_H

#include <stddef.h>
#include <sys/types.h>

#include "util/util.h"

struct supervisor_status {
	int running;      /* an s6-svscan answers on the scan directory */
	pid_t pid;        /* its pid, as recorded when it was started (0: unknown) */
	int already;      /* supervisor_start(): it was running before */
	int services;     /* service directories whose s6-supervise runs */
	int outside;      /* processes of the root that no running s6-svscan of it
			     supervises: what a killed one left (see supervisor_end_outside) */
	int ended;        /* supervisor_start(): how many of those it ended first */
};

/*
 * What runs now.  The processes of the root are those working in its scan
 * directory (each s6-supervise, its run program and logger work in their
 * service directory; one of a service directory removed since counts too)
 * and everything they started.
 */
int supervisor_status(const char *root, struct supervisor_status *st);

/*
 * 1 when this process's parent is an s6-supervise, as it is when the run
 * program of its service exec'ed it.
 */
int supervisor_is_parent(void);

/* 1 when an s6-svscan answers on the root's scan directory (cheaper than the status). */
int supervisor_running(const char *root);

/*
 * Ends every process of the root that runs outside the running tree (all
 * of them when none runs): after s6-svscan was killed, its s6-supervise
 * processes, their services and loggers run on, and a new s6-svscan can
 * neither supervise those services nor stop them.  Each s6-supervise is
 * told to stop its service and exit (SIGTERM, as s6-svc -xd); what is left
 * after wait_sec is killed.  *ended (may be NULL) gets how many processes
 * there were.
 */
int supervisor_end_outside(const char *root, int wait_sec, int *ended);

/*
 * Starts s6-svscan on the root's scan directory in the background, in a
 * session of its own, its output in <root>/logs/supervisor.log, and waits
 * (up to 10 s) until it answers; what an earlier tree left running is
 * ended first (supervisor_end_outside, st->ended), so the new tree starts
 * every service itself.  When one already runs, does nothing and sets
 * st->already.  SW_ERROR naming the cause when s6 is not installed or
 * the tree does not come up.
 */
int supervisor_start(const char *root, struct supervisor_status *st);

/*
 * Replaces this process with s6-svscan on the scan directory, in the
 * foreground (for a service manager), once what an earlier tree left
 * running is ended.  Returns only on failure (SW_EEXISTS when one already
 * runs).
 */
int supervisor_exec(const char *root);

/*
 * Stops every supervised process (SIGTERM, as s6-svc -d does) and then the
 * tree, waiting up to wait_sec for s6-svscan to exit, then ends whatever of
 * the root still runs (supervisor_end_outside): no process of the root is
 * left, whatever happened before.  Not running is fine.
 */
int supervisor_stop(const char *root, int wait_sec);

/*
 * Tells the running s6-svscan to look at the scan directory now, so a
 * service directory just added starts at once and one moved away stops.
 */
int supervisor_rescan(const char *root);

/*
 * Service directories.  A service is a directory NAME of the scan
 * directory; s6 skips dot-names, so one being written (".new-XXXXXX") or
 * moved aside (".gone-XXXXXX/svc") is no service.  This module is the
 * only one that writes, signals, lists or removes them; the others name a
 * service and say what it runs.
 *
 *     struct service_file port = { "port", "20001\n", 6, 0644 };
 *     struct service_desc d = { .name = "myapp.v3-1.web.1", .about = "one process instance",
 *                               .run = "exec slipway instance:run ...\n",
 *                               .files = &port, .nfiles = 1, .replace = 1 };
 *     err = supervisor_service_write(root, &d);
 *     ...
 *     supervisor_rescan(root);  // s6 starts it
 */

/* A name fit for a service: 1 to 200 of [A-Za-z0-9._@+-], not starting with '.'. */
int supervisor_service_name_valid(const char *name);

/* One more file of a service directory. */
struct service_file {
	const char *name;  /* a plain file name (no /, no dot first), none of "run", "finish",
			      "log", "supervise" and "data" */
	const char *data;
	size_t len;
	mode_t mode;
};

/* What a service directory holds. */
struct service_desc {
	const char *name;             /* supervisor_service_name_valid() */
	const char *about;            /* what it is: run's first comment, "written by slipway: ABOUT" */
	const char *const *env;       /* "NAME=value" that run exports first; NULL-ended, may be NULL */
	const char *run;              /* run's command lines after those: "exec PROGRAM ... 2>&1\n" */
	const char *finish;           /* the whole finish program, or NULL for none */
	const char *log_run;          /* the whole run program of its logger (log/run), or NULL */
	const char *check;            /* the whole program s6-notifyoncheck polls (data/check), or NULL */
	const struct service_file *files;  /* nfiles more files, may be NULL */
	size_t nfiles;
	int replace;                  /* 1: a service of that name is replaced (a killed switch's
					 leftover); 0: SW_EEXISTS when there is one */
	int keep_caps;                /* 1: run keeps the tree's ambient capabilities (the
					 router's nginx, for ports below 1024); 0: run and
					 log/run clear them first (util/caps.h) */
};

/*
 * Writes the service into the scan directory, all at once: its files go
 * into a fresh dot-named directory that is renamed to the name once
 * complete, so s6 never sees half a service (on failure nothing is left).
 * The scan directory is made if missing (a root never started, whose
 * server:run writes its services before the tree starts).  Not fsynced: a service directory is rebuilt from the ledger, never
 * trusted across a crash.  The caller tells the tree (supervisor_rescan).
 * SW_EINVALID for a bad name, file name or env entry; SW_EEXISTS (see
 * replace).
 */
int supervisor_service_write(const char *root, const struct service_desc *d);

/*
 * Gives the existing service d->name d's run, finish and files (each
 * replaced whole; a file d does not name stays) and has s6 run the new
 * run program now: the process that runs is stopped (its down signal,
 * SIGTERM unless the service says otherwise) and started again, one that
 * is down is started.  Cheaper than a new service: no directory, no
 * rescan, its s6-supervise stays.  SW_ENOTFOUND when there is no such
 * service; SW_EINVALID as supervisor_service_write(), and for a log_run
 * (a logger is not changed in place).
 */
int supervisor_service_update(const char *root, const struct service_desc *d);

/* Replaces one file of an existing service (never half-written), as a service_file of it. */
int supervisor_service_put(const char *root, const char *service, const struct service_file *f);

/* Reads a file of a service (at most max bytes) into *text (malloc'ed): fs_read_file's codes. */
int supervisor_service_read(const char *root, const char *service, const char *file, size_t max,
			    char **text);

/* 1 when the scan directory holds the service now. */
int supervisor_service_exists(const char *root, const char *service);

/* The names of the services in the scan directory now (unsorted), into out. */
void supervisor_service_names(const char *root, struct strvec *out);

/* What s6 says of a service (s6-svstat). */
struct service_state {
	int up;              /* its process runs */
	int wanted_up;       /* s6 keeps it running: starts it again when it exits */
	int ready;           /* up, and it said it is ready (s6's readiness notification) */
	long pid;            /* 0 when it is down */
	long long seconds;   /* since it went up (or down) */
};

/* 0 with *st when s6 answered for the service; -1 (*st zeroed) when it did not. */
int supervisor_service_state(const char *root, const char *service, struct service_state *st);

/*
 * pid when that process is alive and runs in the service's directory, as
 * the process s6 starts for it does (and no other pid of the machine, so
 * not one reused since), else 0: a pid the service wrote down itself
 * (nginx.pid, an instance's state file), checked without forking
 * s6-svstat - but for a process whose working directory this one may not
 * see (one holding capabilities it lacks: util/caps.h), which s6 names.
 */
long supervisor_service_own_pid(const char *root, const char *service, long pid);

/*
 * Sends the service's process a signal through its supervisor (SIGHUP,
 * SIGUSR1, SIGUSR2, SIGTERM, SIGINT, SIGKILL, SIGALRM, SIGCONT, SIGSTOP).
 * SW_EINVALID for another signal, SW_ERROR when s6 would not.
 */
int supervisor_service_signal(const char *root, const char *service, int sig);

/*
 * A schedule of the runtime: the service name running `slipway --root ROOT
 * command` (this executable; a hidden command such as pg:backups:schedule
 * that looks for due work when it starts and on SIGALRM), with the
 * settings' environment, ended with its supervisor.  When the tree runs:
 * written and started if missing, else woken with SIGALRM.  0 at once
 * when the tree does not run (server:start calls this again).
 */
int supervisor_schedule_ensure(const char *root, const char *name, const char *about,
			       const char *command);

/*
 * Has s6 take the service down (SIGTERM) and keep it down; with
 * wait_sec > 0 waits until it is, SW_ETIMEOUT after wait_sec.
 */
int supervisor_service_down(const char *root, const char *service, int wait_sec);

/* Has s6 start the service again and keep it running (s6-svc -u): undoes a down. */
int supervisor_service_up(const char *root, const char *service);

/*
 * Waits up to wait_sec until the service is up and has said it is ready
 * (s6's readiness notification: the service has a notification-fd file):
 * 0 then, SW_ETIMEOUT when it did not.
 */
int supervisor_service_wait_ready(const char *root, const char *service, int wait_sec);

/*
 * Moves a service out of the tree (to ".gone-XXXXXX/svc"), without telling
 * s6: what a stopped tree must not start again, or what the caller rescans
 * for.  -1 when it cannot be moved.
 */
int supervisor_service_move_aside(const char *root, const char *service);

/*
 * Retires the named services without waiting for them: each is taken down
 * (SIGTERM now), moved aside at once, and s6-svscan is told to let its
 * supervisor go once the process is down; then supervisor_sweep().
 */
void supervisor_service_remove(const char *root, const struct strvec *names);

/* Removes what earlier retirements moved aside, once neither its supervisor nor its logger's runs. */
void supervisor_sweep(const char *root);

#endif
