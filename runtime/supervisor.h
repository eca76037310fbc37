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
 * Runs an s6 program (argv[0] found on /usr/local/bin:/usr/bin:/bin) to
 * completion: *status gets its exit code, capture (may be NULL) its stdout.
 * SW_ERROR saying to install s6 when it is not there.
 */
int supervisor_s6(const char *const *argv, int *status, struct buf *capture);

#endif
