/*
 * apply.h - a run host's side of a desired state: the release of an app
 * its control wants running here, made this host's through the one path
 * that makes a release live (release/activate.h), and the state of the
 * app's instances here.
 *
 * Part of release/: uses util/, store/, runtime/ and release/activate.h;
 * writes only to the buf it is given.
 *
 * The document is what the control sends the node agent (release/agent.h,
 * built by runtime/nodes.h): one flat JSON object (util/json.h), so
 * every peer reads it with the one reader:
 *
 *   "app":"shop"             the app (made here the first time: its own
 *                            repository and ledger, as apps:create makes)
 *   "version":4              the control's release
 *   "description":"..."      what the control's release says it is
 *   "slug":"<sha256>"        its slug, which this host's store must hold
 *   "slug_size":12345        (the agent's slug request puts it there)
 *   "phase":"prepare"        start and gate its instances beside the old
 *                            ones, which serve on; held for the switch
 *   "phase":"switch"         make it live: the prepared release switched
 *                            to, else start, gate and switch in one go
 *   "phase":"abort"          stop what prepare started; the release fails
 *   "hold_s":600             how long a prepared release waits for its
 *                            switch (optional; release/activate.h)
 *   "reason":"..."           why an abort (optional), in the failed release
 *   "process.TYPE":"COMMAND" one member per process type
 *   "instances.TYPE":N       how many of TYPE run here (absent: none)
 *   "config.KEY":"VALUE"     one member per config var
 *   "domain.NAME":true       one member per custom domain
 *
 * Applying makes a release of this host's own ledger from the document
 * (its formation and domains first) and hands it to activate(): the
 * release phase, the instances started through their gate, the router
 * switched, the old instances retired - as a deploy does here.  What ran
 * is recorded in <app>.git/slipway-applied (store/paths.h: the document's
 * digest and the local release, 0600); a document whose digest is that of
 * the release that is still current here changes nothing: no release, the
 * same instances; so does a prepare of the document already prepared or
 * live, and an abort when nothing of it is prepared.  The config vars are kept as every release's are, in the
 * app's ledger under this host's root.
 *
 * The answer, of apply and of state, is flat too:
 *
 *   {"app":"shop","version":4,"release":2,"status":"succeeded","changed":true,
 *    "instances":"shop.v2-1.web.1 ...",
 *    "shop.v2-1.web.1.type":"web","shop.v2-1.web.1.state":"up",
 *    "shop.v2-1.web.1.address":"127.0.0.1:5000","shop.v2-1.web.1.pid":4242,
 *    "shop.v2-1.web.1.gate":"passed", ...}
 *
 * `version` is the control's release the host runs (0: none applied),
 * `release` this host's own; `gate` is "passed" when the instance passes
 * its gate now (a web one serves its port, any other runs), else "failing".
 * Each instance also has, for `ps` on the control (runtime/hostview.h):
 * "NAME.index" (the 1 of web.1), "NAME.port", "NAME.since" (seconds since
 * the epoch it went up, or down), "NAME.version" (the control's release
 * it runs, 0 when unknown) and, kept warm, "NAME.warm_until" and
 * "NAME.rss" (bytes).
 */
#ifndef SW_APPLY_H
#define SW_APPLY_H

#include "util/util.h"

/*
 * Makes the document text this host's (self: the slipway executable, for
 * an app made here) and appends the app's state to out, "changed" saying
 * whether anything was.  SW_EINVALID for a malformed document (the member
 * named), SW_ENOTFOUND when this host's store lacks its slug, SW_ERROR when
 * the release did not go live here (the reason said; what ran before runs
 * on); nothing is recorded on a refusal.
 */
int apply_document(const char *root, const char *self, const char *text, struct buf *out);

/*
 * Appends the state of app's instances on this host (as above, without
 * "changed") to out; with health, each web instance of the release that
 * is up gets "NAME.health": "passed", or why the app's health checks
 * (runtime/healthcheck.h, each tried once) failed now.  An app without
 * checks gets no such member.
 */
int apply_state(const char *root, const char *app, int health, struct buf *out);

#endif
