#define _GNU_SOURCE
#include "release/rotate.h"

#include "release/change.h"
#include "runtime/addon.h"
#include "runtime/host.h"
#include "runtime/logs.h"
#include "runtime/services.h"
#include "store/addons.h"
#include "store/app.h"
#include "store/appctx.h"
#include "store/ledger.h"
#include "store/paths.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/lock.h"
#include "util/run.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Beyond slipway.stopTimeout, how long old instances may take to be gone. */
#define ROTATE_STOP_MARGIN_SEC 30

void rotate_report_release(struct rotate_report *rep)
{
	free(rep->v);
	memset(rep, 0, sizeof(*rep));
}

/* The attachments of add-on name in every app's newest release, into rep->v. */
static int attachments_of(const char *root, const char *name, struct rotate_report *rep)
{
	struct strvec apps = STRVEC_INIT;
	int err = app_list(root, &apps);
	strvec_sort(&apps);
	for (size_t i = 0; !err && i < apps.n; i++) {
		struct release r = RELEASE_INIT;
		err = ledger_read_newest(root, apps.v[i], LEDGER_READ_CONFIG, &r);
		for (size_t k = 0; !err && k < r.addons.n; k++) {
			if (strcmp(r.addons.v[k].addon, name))
				continue;
			rep->v = xrealloc(rep->v, (rep->n + 1) * sizeof(*rep->v));
			struct rotate_app *ra = &rep->v[rep->n++];
			memset(ra, 0, sizeof(*ra));
			snprintf(ra->app, sizeof(ra->app), "%s", apps.v[i]);
			snprintf(ra->alias, sizeof(ra->alias), "%s", r.addons.v[k].alias);
		}
		release_release(&r);
	}
	strvec_clear(&apps);
	return err;
}

/* The pids of the app's instances now (warm ones too), into pids. */
static void instance_pids(const char *root, const char *app, struct strvec *pids)
{
	struct service_info *v = NULL;
	size_t n = 0;
	if (host_list(root, app, &v, &n) == 0)
		for (size_t i = 0; i < n; i++)
			if (v[i].pid > 0)
				strvec_pushf(pids, "%ld", v[i].pid);
	free(v);
}

/* Retires the app's warm instances: they hold the old login. */
static void retire_warm(const char *root, const char *app)
{
	struct service_info *v = NULL;
	struct strvec warm = STRVEC_INIT;
	size_t n = 0;
	if (host_list(root, app, &v, &n) == 0)
		for (size_t i = 0; i < n; i++)
			if (!strcmp(v[i].state, "warm"))
				strvec_push(&warm, v[i].name);
	if (warm.n) {
		host_retire(root, app, &warm, NULL);
		logs_event(root, app, "api", "Stopped %zu warm process instance%s: the add-on "
			   "credentials they hold are rotated", warm.n, warm.n == 1 ? "" : "s");
	}
	strvec_clear(&warm);
	free(v);
}

/* 1 while the process pid runs (neither gone nor a zombie). */
static int running(const char *pid)
{
	char *path = xasprintf("/proc/%s/stat", pid), *text = NULL;
	size_t len = 0;
	int alive = 0;
	if (fs_read_file(path, 4096, &text, &len) == 0) {
		const char *paren = strrchr(text, ')');
		alive = paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
	}
	free(text);
	free(path);
	return alive;
}

/* Waits up to wait_sec until none of pids runs: 0, or SW_ETIMEOUT. */
static int wait_stopped(const struct strvec *pids, int wait_sec)
{
	long long until = run_now_ms() + wait_sec * 1000LL;
	for (;;) {
		size_t left = 0;
		for (size_t i = 0; i < pids->n; i++)
			left += (size_t)running(pids->v[i]);
		if (!left)
			return 0;
		if (run_now_ms() > until)
			return SW_ETIMEOUT;
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

/*
 * Step 2 for one attachment: its release with the URL of login nc, then
 * (when it made one) its warm instances retired, and its old instances
 * waited for until they are gone.
 */
static int switch_app(const char *root, const struct addon *a, const struct addon_kind *k,
		      const struct addon_credentials *nc, struct rotate_app *ra, const char *user,
		      FILE *out)
{
	struct app_ctx ctx = APP_CTX_INIT;
	struct config vars = CONFIG_INIT;
	struct strvec pids = STRVEC_INIT;
	char *var = xasprintf("%s_URL", ra->alias), *url = k->url(a, nc, ra->alias);
	int stop = 30, err = app_ctx_open(&ctx, root, ra->app, APP_CTX_WRITE);
	if (!err) {
		instance_pids(root, ra->app, &pids);
		config_set(&vars, var, url);
		err = change_rotate(&ctx, ra->alias, a->name, &vars, user, out, &ra->res);
	}
	if (err) {
		sw_error_prefix(err, "the new credentials of %s are not released on %s, the old "
				"ones still work: ", a->name, ra->app);
		goto done;
	}
	if (ra->res.failed) {
		err = sw_error_set(SW_ERROR, "the release of %s with the new credentials failed "
				   "(v%d; see: slipway releases:output v%d -a %s): the old "
				   "credentials of %s still work; run the rotation again once it "
				   "is fixed", ra->app, ra->res.version, ra->res.version, ra->app,
				   a->name);
		goto done;
	}
	if (!ra->res.version) /* its current release has the new URL already: a rotation run again */
		goto done;
	retire_warm(root, ra->app);
	settings_seconds(ctx.settings, &SETTING_STOP_TIMEOUT, &stop);
	app_ctx_release(&ctx); /* the app's other commands need not wait for its old instances */
	if (wait_stopped(&pids, stop + ROTATE_STOP_MARGIN_SEC))
		err = sw_error_set(SW_ERROR, "old instances of %s still run after %d s: the old "
				   "credentials of %s still work; run the rotation again",
				   ra->app, stop + ROTATE_STOP_MARGIN_SEC, a->name);
done:
	app_ctx_release(&ctx);
	strvec_clear(&pids);
	config_release(&vars);
	memset(url, 0, strlen(url));
	free(url);
	free(var);
	return err;
}

/*
 * Step 1: the rotation under way in c - the one recorded, or a new
 * password for the second login (made now if there is none) - set on the
 * server.
 */
static int begin(const char *root, const struct addon *a, const struct addon_kind *k,
		 struct addon_credentials *c)
{
	int err = 0;
	if (!c->next[0]) {
		char hex[15];
		if (!c->other[0]) {
			if ((err = addon_random_hex(hex, 7)))
				return err;
			snprintf(c->other, sizeof(c->other), "u%s", hex);
		}
		/* an add-on made with one login: that login owns what the apps made */
		if (!c->owner[0])
			snprintf(c->owner, sizeof(c->owner), "%s", c->user);
		snprintf(c->next, sizeof(c->next), "%s", c->other);
		if ((err = addon_random_hex(c->nextpassword, 32)) ||
		    (err = addon_credentials_write(root, a->name, c)))
			return err;
	}
	return k->set_password(root, a, c, c->next, c->nextpassword);
}

/* Step 3: the second login is the apps' now; the first one can no longer log in. */
static int finish(const char *root, const struct addon *a, const struct addon_kind *k,
		  struct addon_credentials *c, struct rotate_report *rep)
{
	char old[sizeof(c->user)];
	snprintf(old, sizeof(old), "%s", c->user);
	snprintf(c->other, sizeof(c->other), "%s", old);
	snprintf(c->user, sizeof(c->user), "%s", c->next);
	snprintf(c->password, sizeof(c->password), "%s", c->nextpassword);
	c->next[0] = c->nextpassword[0] = '\0';
	snprintf(rep->user, sizeof(rep->user), "%s", c->user);
	int err = addon_credentials_write(root, a->name, c);
	if (!err && (err = k->revoke(root, a, c, old)))
		sw_error_prefix(err, "the apps use the new credentials of %s, but its old login "
				"still works (run the rotation again): ", a->name);
	if (!err)
		snprintf(rep->revoked, sizeof(rep->revoked), "%s", old);
	return err;
}

int rotate_credentials(const char *root, const char *name, const char *user, FILE *out,
		       struct rotate_report *rep)
{
	const struct addon_kind *k = NULL;
	struct addon_credentials c, nc;
	struct addon a;
	struct lock lk = LOCK_INIT;
	char *lock_path = NULL;
	int err = 0;

	memset(rep, 0, sizeof(*rep));
	memset(&c, 0, sizeof(c));
	if (!addon_name_valid(name))
		return sw_error_set(SW_ENOTFOUND, "add-on '%s' does not exist", name);
	if ((err = addon_read(root, name, &a)) || (err = addon_kind_get(a.kind, &k)))
		return err;
	if (!k->set_password || !k->revoke)
		return sw_error_set(SW_EINVALID, "add-ons of kind '%s' have no credentials to "
				    "rotate", a.kind);
	lock_path = paths_addon_file(root, name, "rotate.lock");
	if ((err = lock_acquire(&lk, lock_path, 0, NULL, NULL)) == SW_ELOCKED)
		err = sw_error_set(SW_ELOCKED, "the credentials of %s are being rotated already",
				   name);
	if (err || (err = addon_credentials_read(root, name, &c)) || (err = begin(root, &a, k, &c)) ||
	    (err = attachments_of(root, name, rep)))
		goto done;
	nc = c;
	snprintf(nc.user, sizeof(nc.user), "%s", c.next);
	snprintf(nc.password, sizeof(nc.password), "%s", c.nextpassword);
	for (size_t i = 0; !err && i < rep->n; i++)
		err = switch_app(root, &a, k, &nc, &rep->v[i], user, out);
	if (!err)
		err = finish(root, &a, k, &c, rep);
	memset(&nc, 0, sizeof(nc));
done:
	memset(&c, 0, sizeof(c));
	lock_release(&lk);
	free(lock_path);
	return err;
}
