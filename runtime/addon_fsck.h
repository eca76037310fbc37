/*
 * addon_fsck.h - `fsck` of a root's add-ons: their files and the
 * attachments that name them.
 *
 * Part of runtime/: uses util/, store/ and runtime/addon*.h,
 * runtime/supervisor.h; prints nothing and changes nothing.
 *
 * An add-on is consistent when its directory has its data, its
 * credentials (mode 0600, readable), its service in the supervision tree,
 * a port of slipway.addonPortRange that no other add-on has, data its
 * installed server can run, and an owning app that exists (or none).  An
 * app's attachments are consistent when its latest and its current
 * release name add-ons that exist: those are what its processes get and
 * what its next change starts from.  Older releases that name a destroyed
 * add-on are history, as on Heroku, not a problem: a rollback keeps the
 * add-ons of now (release/change.h), so it never brings one back.
 */
#ifndef SW_ADDON_FSCK_H
#define SW_ADDON_FSCK_H

#include "util/util.h"

/*
 * Checks every add-on and every app's attachments (app != NULL: the
 * add-ons app owns or attaches, and app's attachments).  Each problem is
 * one line appended to problems.  Returns non-zero only when checking
 * itself failed.
 */
int addon_fsck(const char *root, const char *app, struct strvec *problems);

#endif
