/*
 * overlay.h - what a process sees at /app: the slug's shared tree under a
 * writable overlay of its own.
 *
 * Part of exec/: uses util/ and store/; prints nothing.
 *
 * Every process instance and one-off process of a release sees the same
 * read-only tree of its slug (exec/slugtree.h) at /app through
 * an overlay: what it writes there lands on a tmpfs of its own of at most
 * slipway.appWriteSize (1G), seen by no other process and gone when it
 * stops, as a private copy was; starting one copies nothing.  The overlay
 * is mounted by procenv_start()'s child (exec/procenv.h), in a user and
 * mount namespace of its own, just before it execs bubblewrap - which
 * binds it at /app as it bound a copy - so it needs no privilege and no
 * one else ever sees it.  Where it cannot be mounted the process gets a
 * copy of the slug after all (overlay_copy); with the sandbox off, or
 * slipway.appOverlay false, it gets one from the start.
 *
 *     struct overlay ov = OVERLAY_INIT;
 *     if (overlay_open(&ov, root, app, "web.1", hex, &sb) < 0) ...;
 *     ... mount ov.dir at /app; procenv_start() with .overlay = &ov;
 *     if that failed and ov.failed: overlay_copy(&ov, root, hex), start again ...
 *     overlay_close(&ov);
 *
 * overlay_close() removes the run directory, then lets go of the tree,
 * which gc may then remove (unless another process holds it).
 */
#ifndef SW_OVERLAY_H
#define SW_OVERLAY_H

#include "exec/sandbox.h"
#include "util/run.h"

#include <stdint.h>

struct overlay {
	char *run;       /* owned: the run directory <root>/runs/<app>.<label>-XXXXXX */
	char *dir;       /* owned: <run>/app, the host path of /app */
	char *tree;      /* owned: the shared tree under the overlay; NULL: dir holds a copy */
	int run_lock;    /* the run directory's lock (exec/unpack.h) */
	int tree_lock;   /* a shared lock on the tree */
	int failed;      /* the last start could not mount the overlay (message set) */
	/* what overlay_mount() needs, made beforehand: nothing is allocated after fork() */
	char *scratch;   /* <run>/rw: the tmpfs of upper and work */
	char *upper, *work, *options, *tmpfs_options;
	char uid_map[32], gid_map[32];
	unsigned long long bounding; /* this process's capability bounding set, one bit a capability */
	int report[2];   /* a failed mount's errno, child to parent */
};
#define OVERLAY_INIT { .run_lock = -1, .tree_lock = -1, .report = { -1, -1 } }

/*
 * Makes the instance's run directory (label "web.1", "run.1234"; NULL
 * for the release command, whose directory is a run's: exec/unpack.h) and
 * holds the slug's shared tree - or, with sb off or slipway.appOverlay
 * false, copies the slug into ov->dir.  Errors are slugtree_open()'s (a
 * missing slug SW_ENOTFOUND, a corrupt one SW_EINVALID) and the
 * settings'; nothing is left behind on failure.
 */
int overlay_open(struct overlay *ov, const char *root, const char *app, const char *label,
		 const char *hex, const struct sandbox *sb);

/* Whether the next start mounts the overlay (a tree is held and no copy made). */
int overlay_wanted(const struct overlay *ov);

/* In the parent, before fork(): the pipe a failed mount is reported on.  0 or SW_ERROR. */
int overlay_arm(struct overlay *ov);

/*
 * In the child, between fork() and exec: a user and mount namespace of
 * its own (the same uid and gid, no other groups), the tmpfs and the
 * overlay mounted at ov->dir; then the capabilities the new namespace
 * gave that this process's bounding set did not have are dropped again,
 * so bubblewrap, started as root, hands on no more than it did without
 * the overlay (started as another user it gets none: it runs as it did).  Only system calls: async-signal-safe.  On
 * failure the errno goes to the parent and the child exits (127).
 */
void overlay_mount(const struct overlay *ov);

/*
 * In the parent, after fork() and once the child exec'ed or exited: 0,
 * or SW_ERROR when it could not mount the overlay (ov->failed set, the
 * message says why).
 */
int overlay_started(struct overlay *ov);

/*
 * For a process started by run_child() (util/run.h) rather than
 * procenv_start(): when the overlay is wanted, o->before_exec mounts it
 * and the report pipe is armed; call overlay_started() once it ran.
 */
int overlay_run_opts(struct overlay *ov, struct run_opts *o);

/* The fallback: the tree let go, a copy of slug hex in ov->dir. */
int overlay_copy(struct overlay *ov, const char *root, const char *hex);

/* Removes the run directory and lets go of the tree; ov is then OVERLAY_INIT. */
void overlay_close(struct overlay *ov);

#endif
