/*
 * access.h - user names and who may use which app (collaborators).
 *
 * Part of access/: uses util/ and store/; prints nothing.
 *
 * Users are the names that ssh keys are installed for (keys.h); the name
 * reaches `slipway shell USER` from the key's forced command and becomes
 * the release's "By".  User names match [A-Za-z0-9][A-Za-z0-9._@+-]{0,63}.
 *
 * Each app's collaborators are kept in its repository, one name a line,
 * sorted: <root>/apps/<app>.git/slipway-access, a list file
 * (store/listfile.h) changed under its own lock,
 * <root>/locks/<app>.access.lock, so two concurrent changes never lose one
 * another; readers take no lock.  Destroying the
 * app removes it.  The server's operator (slipway run without `shell`) is
 * not a user and needs no access.
 *
 *     if (access_check(root, "myapp", "alice@example.com") < 0)
 *             refuse(sw_error_last());   // "You do not have access to the app myapp."
 */
#ifndef SW_ACCESS_H
#define SW_ACCESS_H

#include "store/app.h"
#include "util/util.h"

#define ACCESS_USER_MAX 64

/* 1 if user is a valid user name. */
int access_user_valid(const char *user);

/* 0, or SW_EINVALID with a message that says what is allowed. */
int access_user_check(const char *user);

/*
 * access_user_check() of a user to be given a key: SW_EINVALID too for
 * the names of Slipway's own releases' makers (store/release.h).
 */
int access_user_new_check(const char *user);

/* The app's collaborators, sorted (empty if none).  SW_ENOTFOUND if the app does not exist. */
int access_list(const char *root, const char *app, struct strvec *out);

/* Gives user access to the app.  SW_EEXISTS if they already have it. */
int access_add(const char *root, const char *app, const char *user);

/* Takes user's access away.  SW_ENOTFOUND if they had none. */
int access_remove(const char *root, const char *app, const char *user);

/* 1 if user may use the app, 0 if not, negative on error (app missing...). */
int access_allowed(const char *root, const char *app, const char *user);

/*
 * 0 if user may use the app; SW_ENOTFOUND with "You do not have access to
 * the app APP." if not, or with app_check_exists()'s message if the app
 * does not exist.
 */
int access_check(const char *root, const char *app, const char *user);

/*
 * Creates the app for the remote user, who is recorded as its creator and
 * gets access to it: apps:create over ssh.  max is what
 * settings_ssh_apps_create() gives the user (store/settings.h: the
 * server's slipway.sshAppsCreate, or the user's own right in
 * slipway.sshAppsCreators): -1 no limit; 0 refused; N refused once the user has
 * created N apps they still have access to.  SW_EDENIED, with a message
 * for the user, when refused.  The apps are counted and the app is created
 * under <root>/locks/apps_create.lock, so racing creations never go past
 * the limit.
 */
int access_create_app(const char *root, const char *app, const struct app_create_opts *opts,
		      const char *user, int max);

#endif
