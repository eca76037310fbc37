/*
 * change.h - new releases without a build: config changes, rollbacks and
 * promotions.
 *
 * Part of release/: uses util/, store/, exec/ and runtime/; writes only to the FILE * or
 * callback it is given.
 *
 * Each works on an app opened by the caller (store/appctx.h): it takes the
 * app lock unless the context holds it already (waiting slipway.lockTimeout;
 * the lock stays held until the caller releases the context), reads the
 * ledger and makes one release live through release/activate.h -
 * no slug is touched or rebuilt, so it takes milliseconds whatever the slug
 * size or history length.  When the release has a `release` process, its
 * release phase runs, streaming to `out` (required): the release is pending until it
 * succeeds, and failed (result->failed, not current) if it does not.
 */
#ifndef SW_CHANGE_H
#define SW_CHANGE_H

#include <stdio.h>

#include "store/config.h"
#include "store/release.h"
#include "util/util.h"

struct app_ctx;

struct change_result {
	int version;   /* the new release (0 when nothing changed) */
	int previous;  /* the release that was current before */
	int target;    /* rollback: the release rolled back to */
	int failed;    /* its release phase failed: recorded, not current */
	int failed_start; /* failed because its processes did not start */
	int not_running; /* current, but nothing runs it (runtime/activate.h) */
	/* rollback without a version: the newer releases it passed over and why
	   ("v5: failed, v4: rolled back automatically"), "" if none */
	char skipped[320];
};

/*
 * Sets the vars in `set` and removes the keys in `unset` on top of the
 * newest release's config; the description names the keys in set_order,
 * the order the user typed them ("Set ZED, ALPHA config vars"), when it is
 * not NULL.  The new release keeps the current release's slug and process
 * types.  Setting vars to the values they already have
 * (or unsetting absent ones) records nothing (result->version = 0).
 * Refused (SW_ENOTFOUND / SW_EINVALID, nothing recorded) when that slug is
 * missing or corrupt in the store, as a rollback to it would be.
 */
int change_config(struct app_ctx *ctx, const struct config *set,
		  const struct strvec *set_order, const struct strvec *unset, const char *user,
		  FILE *out, struct change_result *result);

/*
 * Add-on changes (store/attach.h), each a release like a config change,
 * on the current release's code:
 *
 * change_attach() sets vars and records them as managed by addon under
 * alias: "Attach ADDON as ALIAS".  Refused (SW_EEXISTS, nothing recorded)
 * when alias is attached already or one of vars is set on the app (the
 * user's own, or another attachment's).
 *
 * change_detach() removes the attachment alias and the vars it manages:
 * "Detach ADDON from ALIAS".  change_rotate() gives vars (which the
 * attachment alias must manage) new values: "Rotate credentials of
 * ADDON"; values the newest release has already make no release, unless
 * that release failed (a rotation run again releases them again).
 * SW_ENOTFOUND when nothing is attached as alias.
 *
 * config:set and config:unset of a var an attachment manages are refused
 * by change_config() (SW_EDENIED); a rollback keeps the attachments of now
 * and their vars' values of now, and takes the target's own vars.
 */
int change_attach(struct app_ctx *ctx, const char *alias, const char *addon,
		  const struct config *vars, const char *user, FILE *out, struct change_result *res);
int change_detach(struct app_ctx *ctx, const char *alias, const char *addon, const char *user,
		  FILE *out, struct change_result *res);
int change_rotate(struct app_ctx *ctx, const char *alias, const char *addon,
		  const struct config *vars, const char *user, FILE *out, struct change_result *res);

/*
 * Rolls back to `target` (0 = the newest release older than the current
 * one that succeeded, was not undone by an automatic rollback - the
 * release live when "Rollback to vJ (automatic: ...)" was made - and whose
 * slug is intact; result->skipped names the ones passed over): a new
 * release "Rollback to vK" with vK's slug, config and process types.  Refused (SW_ENOTFOUND / SW_EINVALID, nothing recorded) when
 * vK does not exist, failed, has no slug, or its slug is missing or corrupt
 * in the store.  The add-ons stay as they are now (see change_attach()).
 */
/*
 * 1 if a rollback may go to t (it succeeded and its slug is intact in the
 * store); else 0 and why not ("that release failed") in why, n bytes.
 */
int change_rollback_eligible(const char *root, const struct release *t, char *why, size_t n);

int change_rollback(struct app_ctx *ctx, int target, const char *user, FILE *out,
		    struct change_result *result);

/*
 * change_rollback() to target, made only while `from` is still the current
 * release (checked under the app lock): else SW_ECONFLICT ("v5 is no longer
 * the current release of demo (v6 is)") and nothing recorded.  For a
 * rollback confirmed against what a page showed (dashboard/).
 */
int change_rollback_from(struct app_ctx *ctx, int target, int from, const char *user, FILE *out,
			 struct change_result *result);

/*
 * An automatic rollback to target while from is still the current release
 * (else SW_ECONFLICT, nothing recorded): "Rollback to vK (automatic: why)"
 * by WATCH_USER (runtime/watch.h).
 */
int change_rollback_auto(struct app_ctx *ctx, int target, int from, const char *why, FILE *out,
			 struct change_result *res);

/*
 * Releases the current release of app `from` on app `to`, without a
 * build: a new release of `to` "Promote FROM vN (sha7)" with from's slug
 * (no copy: the store holds it once, by its hash), commit and process
 * types, and to's own config (its latest release's), through to's release
 * phase and switch under to's app lock (from is only read: open it for
 * reading).  Refused (nothing recorded) when from and to are the same
 * app, from has no
 * current release or it has no slug, the slug is missing or corrupt in
 * the store, or to's formation runs a process type the slug does not
 * define ("prod runs worker=2, which staging's v12 does not define; ...").
 */
int change_promote(struct app_ctx *from, struct app_ctx *to, const char *user, FILE *out,
		   struct change_result *result);

/*
 * The same for the slug of release `source` (of any app; the caller
 * decides whether the user may see it): a new release of app "Deploy slug
 * <hex12>" with that slug, source's commit and process types, and app's
 * own config.  Refused as change_promote() is.
 */
int change_deploy_slug(struct app_ctx *ctx, const struct release *source, const char *user,
		       FILE *out, struct change_result *result);

#endif
