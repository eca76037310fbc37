/*
 * activate.h - the one path that makes a release live.
 *
 * Part of release/: uses util/, store/, exec/ and runtime/; writes only to the FILE * or
 * callback it is given.
 *
 * A deploy (builder/build.h), a config change and a rollback
 * (runtime/change.h) each prepare a release and hand it here; nothing else
 * moves the ledger's current release (store/ledger.h).  In order:
 *
 *   1. append the release to the ledger: pending when something must run
 *      before it may serve (its release phase), else succeeded and current
 *      at once;
 *   2. run its release phase (runtime/release_phase.h), output streaming
 *      to `out`;
 *   3. finish it: succeeded and current, or failed with the reason in its
 *      output while the release that was current stays current;
 *   4. once it is current: retire the old instances and run
 *      slipway.onRelease (runtime/onrelease.h), if set.
 *
 * An app placed on run hosts too (store/apphosts.h apphosts_placement())
 * gets r on each of them in the same step, all or none: r is prepared here
 * (pending even when this host runs none of it) and on every run host
 * (runtime/nodes.h node_release_of(), each its share of the formation);
 * only once all are ready does each switch, and then this host.  When a
 * host cannot, every host aborts and r fails here with that host's line
 * ("h2: web.1 ..."), the release before it serving on everywhere.  An app
 * without run hosts costs nothing more (no ssh).
 *
 * The caller has the app open for writing (store/appctx.h: its lock held,
 * its ledger open, its settings read); the context stays the caller's.
 *
 *     struct activate_report rep;
 *     struct activate_opts o = { .ctx = &ctx, .out = out, .report = &rep };
 *     err = activate(&o, &r);           // r.version, r.status are now set
 *     if (!err && r.status == RELEASE_FAILED) ...
 *     if (!err && rep.not_running) ...  // say ACTIVATE_NOT_RUNNING
 */
#ifndef SW_ACTIVATE_H
#define SW_ACTIVATE_H

#include <stdio.h>

#include "store/appctx.h"
#include "store/ledger.h"

/* What runs the release now, as activate() leaves it. */
struct activate_report {
	int started;      /* its instances started in the running tree and passed the gate */
	int on_release;   /* slipway.onRelease ran for it (whatever its exit status) */
	int not_running;  /* it is current and has instances for the formation to run, but
	                     the tree is down and no slipway.onRelease is set: nothing runs it */
};

/*
 * Who made a release a run host's node agent applied (release/apply.h):
 * such a release is watched by its control, which rolls back every host
 * (release/watch.h), never by the run host on its own.
 */
#define ACTIVATE_CONTROL_USER RELEASE_USER_CONTROL

/* What the user is told, in parentheses, when a report says not_running. */
#define ACTIVATE_NOT_RUNNING "not running: start the runtime with 'slipway server:start'"
/* The same for a remote user, who cannot start it. */
#define ACTIVATE_RUNTIME_STOPPED "the server's runtime is stopped; ask its operator to start it"
#define ACTIVATE_NOT_RUNNING_REMOTE "not running: " ACTIVATE_RUNTIME_STOPPED

struct activate_opts {
	struct app_ctx *ctx;    /* open for writing (under the app lock); the caller's */
	FILE *out;              /* what the user sees; required */
	struct activate_report *report; /* filled in on return; may be NULL */
};

/*
 * Makes r the app's next release and, unless a step before it goes live
 * fails, its current one.  r is filled in as recorded: version, created
 * and the final status (RELEASE_SUCCEEDED or RELEASE_FAILED).  A release
 * that failed is not an error (returns 0); errors are failures to read
 * settings or to record (nothing is appended when the settings are
 * malformed; a release left pending by a failure to finish is marked
 * failed by the ledger's next writer).
 */
int activate(const struct activate_opts *o, struct release *r);

/*
 * The same path in two halves, for a release that goes live on several
 * hosts at once (release/apply.h): activate_prepare() records r pending,
 * runs its release phase and starts its instances through their gate
 * beside the old ones, which serve on; activate_finish() switches the
 * router to them, marks r succeeded and current and retires the old
 * ones; activate_abort() stops them and marks r failed.  activate() is
 * prepare then finish in one go.
 *
 * With hold_seconds > 0 the prepared release waits for a finish or abort
 * from another process (the next request of the control): what it started
 * is kept in <app>.git/slipway-prepared (store/paths.h) with a deadline
 * hold_seconds away and the tag the caller gives (a newer release, prepared
 * or not, replaces it).  The writer's lock cannot stand for the preparer,
 * which has exited by then, so the deadline does: until it passes,
 * activate_recover() spares the pending release and its instances; after
 * it, recovery aborts it (ACTIVATE_ABANDONED), as it fails any other
 * pending release.
 */
struct activate_prep {
	int ready;       /* prepared: finish may make it live (else it failed, or nothing ran) */
	/* the rest is the halves' own */
	int version, previous, up, runtime, gated, hook_timeout;
	struct strvec started, hook;
	struct buf output;
	int guard_pid, guard_fd;
};
#define ACTIVATE_PREP_INIT { .started = STRVEC_INIT, .hook = STRVEC_INIT, \
			     .output = BUF_INIT, .guard_pid = -1, .guard_fd = -1 }

/* The reason recovery gives a prepared release no switch came for. */
#define ACTIVATE_ABANDONED \
	"the release was prepared but neither switched nor aborted before its deadline; " \
	"nothing of it runs"

/*
 * The first half: r appended (pending when gated), its release phase run
 * and its instances started and gated; the router and the old instances
 * untouched.  p->ready says whether finish may follow; when not and r was
 * gated, r is recorded failed with the reason (r->status says so).  With
 * hold_seconds > 0 and p->ready, the prepared release is kept for another
 * process, tagged tag (one word, may be NULL).  Errors as activate().
 */
int activate_prepare(const struct activate_opts *o, struct release *r, int hold_seconds,
		     const char *tag, struct activate_prep *p);

/*
 * The prepared release the app keeps for a switch (hold_seconds above),
 * into r and p, when its tag is tag (NULL: any); SW_ENOTFOUND when there
 * is none (or it is another's).  p is then ready for activate_finish()
 * or activate_abort().
 */
int activate_prepared(struct app_ctx *ctx, const char *tag, struct release *r,
		      struct activate_prep *p);

/*
 * The second half: p's release made live - the router switched to its
 * instances, r succeeded and current, the old instances retired, the
 * watch and slipway.onRelease as activate() - or, when the router
 * refuses, r failed with the reason and its instances stopped.
 */
int activate_finish(const struct activate_opts *o, struct release *r, struct activate_prep *p);

/*
 * p's release not made live: its instances stopped and, while still
 * pending, the release marked failed with why in its output.
 */
int activate_abort(struct app_ctx *ctx, struct activate_prep *p, const char *why);

void activate_prep_release(struct activate_prep *p);

/* The reason a release left pending by a killed writer failed, in its output. */
#define ACTIVATE_INTERRUPTED \
	"the release was interrupted before it finished (the command making it was killed); " \
	"nothing of it runs"

/*
 * Undoes what a switch whose writer was killed left, for the next writer:
 * the caller has just opened ctx for writing (so no switch runs).
 * The newest release, when still pending, is marked failed
 * (ACTIVATE_INTERRUPTED); instances the current release does not run
 * (services_strays) are stopped once the router points at the current
 * release's.  What was undone is said on out (may be NULL) and logged.
 * Errors are failures to record; a router that refuses is said and logged.
 * The common case costs a read of the newest release and of the scan
 * directory.
 */
int activate_recover(struct app_ctx *ctx, FILE *out);

/*
 * activate_recover() for one app, when its lock is free now (else nothing
 * is done: a writer is at work); the app is opened for writing here
 * (APP_CTX_TRY_WRITE) and closed before it returns.  Errors are failures
 * to read or record.
 */
int activate_recover_app(const char *root, const char *app, FILE *out);

/*
 * activate_recover() for every app of the root whose lock is free now
 * (server:start, once the tree and the router run); an app that cannot be
 * put right is said on out (may be NULL) and the others still are.  Errors
 * are failures to list the apps.
 */
int activate_recover_all(const char *root, FILE *out);

/*
 * For fsck: what activate_recover() would undo, one line per problem
 * appended to problems, changing nothing.  Nothing is checked while a
 * writer holds the app lock (its switch is not over), nor when the ledger
 * cannot be read (ledger_check() names that).
 */
void activate_check(const char *root, const char *app, struct strvec *problems);

/*
 * ps:restart: the app's instances that match which ("web", "web.1", NULL:
 * all) are replaced by new ones of its current release r through the same
 * switch - start, gate, router, then SIGTERM to the old ones - without a
 * new release.  The caller has ctx open for writing.  When the gate or the
 * router fails, *why (malloc'ed) may say why, and the old instances run
 * on untouched.
 */
int activate_restart(struct app_ctx *ctx, const struct release *r, const char *which,
		     char **why);

#endif
