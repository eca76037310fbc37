/*
 * rotate.h - an add-on's credentials rotated with no failed request.
 *
 * Part of release/: uses util/, store/ and runtime/; writes only to the
 * FILE * it is given (the release phases' output).
 *
 * An add-on's apps have two logins (store/addons.h): the one their URLs
 * hold, and a second one without a password.  A rotation, in order:
 *
 *   1. a new password on the second login (runtime/addon_kind.h
 *      set_password()), recorded as the rotation under way ("next");
 *   2. in every app the add-on is attached to, a release "Rotate
 *      credentials of NAME" with the URL of that login (change_rotate(),
 *      release/change.h): through the health gate like any config change,
 *      so the new instances start with the new login while the old ones
 *      serve on with the old;
 *   3. once every app switched and their old instances have stopped (the
 *      retired ones and those kept warm), the second login is the apps'
 *      one, and the first one's password is removed and its sessions
 *      ended (revoke()).
 *
 * When a release fails (its gate or release phase), the rotation stops
 * there: nothing is revoked, the old login works on, and the rotation
 * stays under way; running it again (same password) finishes it - apps
 * switched already make no new release.
 *
 *     struct rotate_report rep = ROTATE_REPORT_INIT;
 *     err = rotate_credentials(root, "postgresql-amber-12", "alice", stdout, &rep);
 *     ... rep.v[i]: each app's release ...
 *     rotate_report_release(&rep);
 */
#ifndef SW_ROTATE_H
#define SW_ROTATE_H

#include <stdio.h>

#include "release/change.h"

/* One attachment's release. */
struct rotate_app {
	char app[64];
	char alias[64];
	struct change_result res; /* res.version 0: it had the new URL already */
};

struct rotate_report {
	struct rotate_app *v; /* the attachments, in the order of the apps' names */
	size_t n;
	char user[64];        /* the login the apps have now */
	char revoked[64];     /* the login whose password was removed; "" if none was */
};
#define ROTATE_REPORT_INIT { 0 }

/*
 * Rotates the credentials of the add-on name for every app it is attached
 * to (user: who, for the releases), under the add-on's rotation lock.
 * SW_ENOTFOUND when there is no such add-on; SW_EINVALID when its kind
 * cannot rotate; SW_ELOCKED when another rotation of it runs; SW_ERROR
 * when the server refuses (it is down), a release fails (rep says which:
 * its res.failed) or the old instances do not stop - in each case the old
 * login is left working and the message says so.
 */
int rotate_credentials(const char *root, const char *name, const char *user, FILE *out,
		       struct rotate_report *rep);

void rotate_report_release(struct rotate_report *rep);

#endif
