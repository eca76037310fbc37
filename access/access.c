#define _GNU_SOURCE
#include "access/access.h"

#include "store/app.h"
#include "store/appctx.h"
#include "store/listfile.h"
#include "store/paths.h"
#include "store/release.h"
#include "util/error.h"
#include "util/lock.h"

#include <stdlib.h>
#include <string.h>

#define ACCESS_FILE_MAX (1024 * 1024)

int access_user_valid(const char *user)
{
	size_t n = strlen(user);
	if (n == 0 || n > ACCESS_USER_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = user[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || !strchr("._@+-", c)))
			return 0;
	}
	return 1;
}

int access_user_check(const char *user)
{
	if (access_user_valid(user))
		return 0;
	return sw_error_set(SW_EINVALID,
		"invalid user name '%s': use 1 to %d letters, digits and '._@+-', starting with a letter or digit",
		user, ACCESS_USER_MAX);
}

int access_user_new_check(const char *user)
{
	int err = access_user_check(user);
	if (!err && (!strcmp(user, RELEASE_USER_AUTOMATIC) || !strcmp(user, RELEASE_USER_CONTROL)))
		err = sw_error_set(SW_EINVALID, "the user name '%s' is Slipway's own (its releases "
				   "would be taken for Slipway's): choose another", user);
	return err;
}

/* 1 keeps a line of the list: a valid user name (anything else is left out). */
static int name_line(const char *line, size_t kept)
{
	(void)kept;
	return access_user_valid(line);
}

static const struct listfile access_file = {
	.path = paths_access_file,
	.max = ACCESS_FILE_MAX,
	.check = name_line,
	.lock = "access",
};

static long find(const struct strvec *names, const char *user)
{
	for (size_t i = 0; i < names->n; i++)
		if (!strcmp(names->v[i], user))
			return (long)i;
	return -1;
}

int access_list(const char *root, const char *app, struct strvec *out)
{
	int err = app_check_exists(root, app);
	if (!err)
		err = listfile_read(&access_file, root, app, out);
	if (!err)
		strvec_sort(out);
	return err;
}

struct change {
	const char *app, *user;
	int add; /* 1 adds user, 0 removes them */
};

/* Adds or removes the user in the list of names, kept sorted. */
static int change_names(struct strvec *names, void *ctx)
{
	const struct change *ch = ctx;
	long at = find(names, ch->user);
	if (ch->add && at >= 0)
		return sw_error_set(SW_EEXISTS, "user '%s' already has access to '%s'", ch->user,
				    ch->app);
	if (!ch->add && at < 0)
		return sw_error_set(SW_ENOTFOUND,
			"user '%s' does not have access to '%s' (see: slipway access -a %s)",
			ch->user, ch->app, ch->app);
	if (ch->add) {
		strvec_push(names, ch->user);
	} else {
		free(names->v[at]);
		memmove(&names->v[at], &names->v[at + 1], (names->n - (size_t)at) * sizeof(*names->v));
		names->n--;
	}
	strvec_sort(names);
	return 0;
}

/* Adds (add=1) or removes user under the app's access lock. */
static int change(const char *root, const char *app, const char *user, int add)
{
	struct change ch = { .app = app, .user = user, .add = add };
	int err = access_user_check(user);
	if (!err)
		err = app_check_exists(root, app);
	if (!err)
		err = listfile_edit(&access_file, root, app, change_names, &ch);
	return err;
}

int access_add(const char *root, const char *app, const char *user)
{
	return change(root, app, user, 1);
}

int access_remove(const char *root, const char *app, const char *user)
{
	return change(root, app, user, 0);
}

int access_allowed(const char *root, const char *app, const char *user)
{
	struct strvec names = STRVEC_INIT;
	int err = app_check_exists(root, app);
	if (!err)
		err = listfile_read(&access_file, root, app, &names);
	if (!err)
		err = access_user_valid(user) && find(&names, user) >= 0;
	strvec_clear(&names);
	return err;
}

int access_check(const char *root, const char *app, const char *user)
{
	int ok = access_allowed(root, app, user);
	if (ok < 0)
		return ok;
	if (!ok)
		return sw_error_set(SW_ENOTFOUND, "You do not have access to the app %s.", app);
	return 0;
}

/* The apps user created and still has access to. */
static int created_by(const char *root, const char *user, struct strvec *out)
{
	struct strvec apps = STRVEC_INIT;
	int err = app_list(root, &apps);
	for (size_t i = 0; i < apps.n && !err; i++) {
		char *who = NULL;
		if ((err = app_creator(root, apps.v[i], &who)) == SW_ENOTFOUND) {
			err = 0; /* destroyed meanwhile */
		} else if (!err && who && !strcmp(who, user)) {
			int ok = access_allowed(root, apps.v[i], user);
			if (ok == 1)
				strvec_push(out, apps.v[i]);
			else if (ok < 0 && ok != SW_ENOTFOUND)
				err = ok;
		}
		free(who);
	}
	strvec_clear(&apps);
	return err;
}

int access_create_app(const char *root, const char *app, const struct app_create_opts *opts,
		      const char *user, int max)
{
	struct lock lk = LOCK_INIT;
	struct strvec mine = STRVEC_INIT;
	struct app_create_opts o = *opts;
	int err;

	if ((err = access_user_check(user)) < 0)
		return err;
	if (max == 0)
		return sw_error_set(SW_EDENIED,
			"You cannot create apps on this server. Ask its operator to create %s and give you access.",
			app);
	char *lock_path = paths_apps_create_lock(root);
	int wait;
	if (max > 0 && ((err = app_lock_wait(&wait)) < 0 ||
			(err = lock_acquire(&lk, lock_path, wait, NULL, NULL)) < 0))
		goto done;
	if (max > 0 && (err = created_by(root, user, &mine)) < 0)
		goto done;
	if (max > 0 && mine.n >= (size_t)max) {
		struct buf names = BUF_INIT;
		for (size_t i = 0; i < mine.n; i++)
			buf_addf(&names, "%s%s", i ? ", " : "", mine.v[i]);
		err = sw_error_set(SW_EDENIED,
			"You have reached the limit of %d app%s you may create on this server (%s). "
			"Ask its operator for more.",
			max, max == 1 ? "" : "s", names.data);
		buf_release(&names);
		goto done;
	}
	o.creator = user;
	if (!(err = app_create(root, app, &o)))
		err = access_add(root, app, user);
done:
	lock_release(&lk);
	strvec_clear(&mine);
	free(lock_path);
	return err;
}
