/*
 * onrelease.h - slipway.onRelease: the operator's own program, run after
 * every release that becomes current.
 *
 * Part of release/: uses util/, store/, exec/ and runtime/; writes only to the FILE * or
 * callback it is given.
 *
 * For servers whose apps run under something other than the supervision
 * tree: the setting is an argv, one word per value (store/settings.h
 * settings_list; the app's values replace the global ones), never a shell
 * string.  runtime/activate.h runs it once the release is succeeded and
 * current - a deploy, a config change, a rollback, whether or not the
 * tree runs - as the server user, outside the app sandbox, with stdin
 * from /dev/null, for at most slipway.releaseTimeout, and only PATH and:
 *
 *   SLIPWAY_APP            the app
 *   SLIPWAY_RELEASE        the release, "v8"
 *   SLIPWAY_SLUG           the slug's file in the store (absent without a slug)
 *   SLIPWAY_SLUG_CHECKSUM  "SHA256:<hex>" as releases:info shows it (empty without a slug)
 *   SLIPWAY_CONFIG_FILE    the release's config vars, KEY=value lines (a value
 *                          holding newlines spans lines, as it was set), mode
 *                          0600, in a private directory <root>/runs/<app>-XXXXXX
 *                          (runtime/unpack.h) removed when the program exits
 *   SLIPWAY_ROOT           the root
 *
 * Its output goes to `out` indented like build output.  Whatever it does,
 * the release stays current: a failure (non-zero exit, cannot start, out of
 * time) is one warning line on `out`.
 */
#ifndef SW_ONRELEASE_H
#define SW_ONRELEASE_H

#include <stdio.h>

#include "store/appctx.h"
#include "store/release.h"
#include "util/util.h"

/*
 * The app's slipway.onRelease words into argv (cleared first; empty when it
 * is not set) and, when set, its time limit (slipway.releaseTimeout) into
 * *timeout_sec, from the settings ctx opened with.
 */
int onrelease_load(const struct app_ctx *ctx, struct strvec *argv, int *timeout_sec);

/*
 * Runs argv (non-empty, from onrelease_load) for r, the app's current
 * release.  Returns 1 when it ran and exited 0, else 0 after the warning.
 */
int onrelease_run(const struct app_ctx *ctx, const struct strvec *argv, int timeout_sec,
		  const struct release *r, FILE *out);

#endif
