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
