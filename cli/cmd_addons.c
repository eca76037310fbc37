/* addons, addons:create, addons:info, addons:attach, addons:detach, addons:destroy. */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"
#include "view/addons.h"

#include "access/access.h"
#include "release/change.h"
#include "runtime/addon.h"
#include "runtime/addon_backup.h"
#include "runtime/supervisor.h"
#include "store/addons.h"
#include "store/app.h"
#include "store/appctx.h"
#include "store/attach.h"
#include "store/backups.h"
#include "store/ledger.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/say.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- what the commands share ---- */

/*
 * Every app's attachments now (those of its newest release, which the next
 * change starts from): "ADDON APP::ALIAS" lines, sorted.
 */
static int attachments_now(const char *root, struct strvec *out)
{
	struct strvec apps = STRVEC_INIT;
	int err = app_list(root, &apps);
	for (size_t i = 0; !err && i < apps.n; i++) {
		struct release r = RELEASE_INIT;
		if (!(err = ledger_read_newest(root, apps.v[i], LEDGER_READ_CONFIG, &r)))
			for (size_t k = 0; k < r.addons.n; k++)
				strvec_pushf(out, "%s %s::%s", r.addons.v[k].addon, apps.v[i],
					     r.addons.v[k].alias);
		release_release(&r);
	}
	strvec_sort(out);
	strvec_clear(&apps);
	return err;
}

/* 1 if the remote user may use app (the operator may use every app). */
static int may_use(const struct cli *c, const char *app)
{
	return !c->shell_user || (app[0] && access_allowed(c->root, app, c->shell_user) == 1);
}

/* The app of "APP::ALIAS" (malloc'ed). */
static char *attachment_app(const char *at)
{
	const char *sep = strstr(at, "::");
	return xstrndup(at, sep ? (size_t)(sep - at) : strlen(at));
}

/* 1 if the remote user may see s: they may use its owner or an app it is attached to. */
static int may_see(const struct cli *c, const struct addon_shown *s, const struct strvec *all)
{
	int ok = may_use(c, s->a.app);
	size_t len = strlen(s->a.name);
	for (size_t i = 0; !ok && i < all->n; i++) {
		if (strncmp(all->v[i], s->a.name, len) || all->v[i][len] != ' ')
			continue;
		char *app = attachment_app(all->v[i] + len + 1);
		ok = may_use(c, app);
		free(app);
	}
	return ok;
}

/* "ready", "starting", "down" or "down: why", as s6 and the kind's check say. */
static void addon_state(const char *root, const struct addon *a, char *out, size_t n)
{
	char *service = addon_service_name(a->name);
	struct service_state st;
	if (!supervisor_running(root))
		snprintf(out, n, "down: the runtime is not running");
	else if (supervisor_service_state(root, service, &st) < 0)
		snprintf(out, n, "down: it has no service (server:start adds it)");
	else if (st.up)
		/* s6's readiness: its check (pg_isready) said it accepts connections */
		snprintf(out, n, "%s", st.ready ? "ready" : "starting");
	else if (addon_check(root, a) == SW_EINVALID)
		snprintf(out, n, "down: %s", sw_error_last());
	else
		snprintf(out, n, "down");
	free(service);
}

static int64_t du_total;

static int du_add(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_F)
		du_total += (int64_t)st->st_size;
	return 0;
}

/* The bytes of the add-on's data directory, -1 when it cannot be read. */
static int64_t data_size(const char *root, const char *name)
{
	char *dir = paths_addon_file(root, name, "data");
	du_total = 0;
	int err = nftw(dir, du_add, 16, FTW_PHYS);
	free(dir);
	return err ? -1 : du_total;
}

/* s->a's attachments from all (attachments_now()): those the user may see, or (c NULL) all. */
static void attachments_of(const struct cli *c, struct addon_shown *s, const struct strvec *all)
{
	size_t len = strlen(s->a.name);
	for (size_t i = 0; i < all->n; i++) {
		if (strncmp(all->v[i], s->a.name, len) || all->v[i][len] != ' ')
			continue;
		char *app = attachment_app(all->v[i] + len + 1);
		if (!c || may_use(c, app))
			strvec_push(&s->attachments, all->v[i] + len + 1);
		free(app);
	}
}

/* s->a's attachments the user may see, its state and (with size) its data's size. */
static void shown_fill(const struct cli *c, struct addon_shown *s, const struct strvec *all,
		       int size)
{
	attachments_of(c, s, all);
	addon_state(c->root, &s->a, s->state, sizeof(s->state));
	s->data_size = size ? data_size(c->root, s->a.name) : -1;
}

static int no_such_addon(const char *name)
{
	return sw_error_set(SW_ENOTFOUND, "add-on '%s' does not exist (see: slipway addons)", name);
}

/* Reads the add-on name the user may see; not one they may not (it does not exist for them). */
static int read_visible(const struct cli *c, const char *name, const struct strvec *all,
			struct addon_shown *s)
{
	int err = addon_name_valid(name) ? addon_read(c->root, name, &s->a) : SW_ENOTFOUND;
	if (err == SW_ENOTFOUND || (!err && !may_see(c, s, all)))
		return no_such_addon(name);
	return err;
}

/* A new release's line: "Attached as DATABASE (DATABASE_URL), v5", as config:set tells it. */
static void print_release(struct cli *c, const char *what, const struct change_result *res)
{
	if (res->failed)
		printf("%s, v%d: failed, it is recorded but not live\n", what, res->version);
	else if (res->not_running)
		printf("%s, v%d (%s)\n", what, res->version, cli_not_running(c));
	else
		printf("%s, v%d\n", what, res->version);
	fflush(stdout);
}

/*
 * Refuses, before any add-on is made, an attachment as alias to c->app
 * that change_attach() would refuse: a bad alias, one attached already,
 * its var set by the user.
 */
static int attach_precheck(struct cli *c, const char *alias, const char *var)
{
	struct release r = RELEASE_INIT;
	const struct attachment *at;
	int err = 0;
	if (!attach_alias_valid(alias))
		return sw_error_set(SW_EINVALID, "invalid add-on alias '%s': use capital letters, "
				    "digits and '_', starting with a letter (DATABASE)", alias);
	if ((err = app_check_exists(c->root, c->app)) ||
	    (err = ledger_read_newest(c->root, c->app, LEDGER_READ_CONFIG, &r)))
		goto done;
	if ((at = attach_find(&r.addons, alias)))
		err = sw_error_set(SW_EEXISTS, "%s has %s attached as %s already: choose another "
				   "name with --as, or detach it (slipway addons:detach %s -a %s)",
				   c->app, at->addon, alias, alias, c->app);
	else if ((at = attach_managing(&r.addons, var)))
		err = sw_error_set(SW_EEXISTS, "%s is managed by %s (attached as %s): choose another "
				   "name with --as", var, at->addon, at->alias);
	else if (config_get(&r.config, var))
		err = sw_error_set(SW_EEXISTS, "%s is set on %s already; unset it (slipway "
				   "config:unset %s -a %s) or attach under another name with --as",
				   var, c->app, var, c->app);
done:
	release_release(&r);
	return err;
}

/* Attaches a to c->app as alias: the release, and its line. */
static int attach(struct cli *c, const struct addon *a, const char *alias,
		  struct change_result *res)
{
	struct config vars = CONFIG_INIT;
	struct app_ctx ctx = APP_CTX_INIT;
	char *var = xasprintf("%s_URL", alias), *url = NULL;
	int err = addon_url(c->root, a, alias, &url);
	if (!err) {
		config_set(&vars, var, url);
		if (!(err = app_ctx_open(&ctx, c->root, c->app, APP_CTX_WRITE)))
			err = change_attach(&ctx, alias, a->name, &vars, c->user, stdout, res);
	}
	app_ctx_release(&ctx);
	config_release(&vars);
	free(url);
	free(var);
	return err;
}

/* Prints the attachment's release line; its status: 0, or the failed release's. */
static int print_attached(struct cli *c, const char *alias, const struct change_result *res)
{
	char *what = xasprintf("Attached as %s (%s_URL)", alias, alias);
	print_release(c, what, res);
	free(what);
	return res->failed ? cli_release_failed(c, res) : 0;
}

/* ---- addons ---- */

struct addons_args {
	int json, all;
};

const struct opt addons_opts[] = {
	OPT_FLAG(0, "all", struct addons_args, all,
		 "every add-on you can see, not only the app's of the checkout"),
	CLI_OPT_JSON(struct addons_args),
	OPT_END_OF(struct addons_args),
};

/* 1 if s belongs in the listing of app: app owns it or it is attached to app. */
static int listed_for(const struct addon_shown *s, const char *app)
{
	if (!strcmp(s->a.app, app))
		return 1;
	for (size_t i = 0; i < s->attachments.n; i++) {
		char *at = attachment_app(s->attachments.v[i]);
		int same = !strcmp(at, app);
		free(at);
		if (same)
			return 1;
	}
	return 0;
}

/* The add-ons c->app owns or attaches, else every one the user may see, into v[0..*n). */
static int addons_gather(struct cli *c, struct addon_shown **v, size_t *n)
{
	struct strvec names = STRVEC_INIT, all = STRVEC_INIT;
	int err = addons_list(c->root, &names);
	if (!err)
		err = attachments_now(c->root, &all);
	*v = xcalloc(names.n + 1, sizeof(**v));
	*n = 0;
	for (size_t i = 0; !err && i < names.n; i++) {
		struct addon_shown *s = &(*v)[*n];
		memset(s, 0, sizeof(*s));
		if ((err = addon_read(c->root, names.v[i], &s->a)) == SW_ENOTFOUND) {
			err = 0; /* destroyed since it was listed */
			continue;
		}
		if (err || !may_see(c, s, &all))
			continue;
		shown_fill(c, s, &all, 0);
		if (c->app && !listed_for(s, c->app))
			strvec_clear(&s->attachments);
		else
			(*n)++;
	}
	strvec_clear(&all);
	strvec_clear(&names);
	return err;
}

int cmd_addons(struct cli *c)
{
	const struct addons_args *a = c->options;
	struct addon_shown *v = NULL;
	struct buf out = BUF_INIT;
	size_t n = 0;
	int rc = 0;
	if (a->all)
		c->app = NULL;
	if (c->app && (app_check_exists(c->root, c->app) < 0 ||
		       (c->shell_user && access_check(c->root, c->app, c->shell_user) < 0)))
		return cli_fail();
	if (addons_gather(c, &v, &n) < 0) {
		rc = cli_fail();
		goto done;
	}
	if (a->json)
		view_addons_json(&out, v, n);
	else if (!n && c->app)
		buf_addf(&out, "No add-ons for app %s.\n", c->app);
	else if (!n)
		buf_adds(&out, "No add-ons.\n");
	else
		view_addons_table(&out, v, n, c->app);
	cli_put(&out);
done:
	for (size_t i = 0; v && i < n; i++)
		strvec_clear(&v[i].attachments);
	free(v);
	return rc;
}

/* ---- addons:info ---- */

struct addons_info_args {
	int json;
};

const struct opt addons_info_opts[] = { CLI_OPT_JSON(struct addons_info_args),
					OPT_END_OF(struct addons_info_args) };

int cmd_addons_info(struct cli *c)
{
	const struct addons_info_args *a = c->options;
	struct addon_shown s;
	struct strvec all = STRVEC_INIT;
	struct buf out = BUF_INIT;
	int rc = 0;
	memset(&s, 0, sizeof(s));
	if (attachments_now(c->root, &all) < 0 || read_visible(c, c->args[0], &all, &s) < 0) {
		rc = cli_fail();
		goto done;
	}
	shown_fill(c, &s, &all, 1);
	if (a->json)
		view_addon_json(&out, &s);
	else
		view_addon_info(&out, &s, (int64_t)time(NULL));
	cli_put(&out);
done:
	strvec_clear(&s.attachments);
	strvec_clear(&all);
	return rc;
}

/* ---- addons:create ---- */

struct addons_create_args {
	const char *name, *as;
	int wait;
};

const struct opt addons_create_opts[] = {
	OPT_STRING(0, "name", struct addons_create_args, name, "NAME", "an add-on name",
		   "the add-on's name (default: KIND-<adjective>-<number>)"),
	OPT_STRING(0, "as", struct addons_create_args, as, "ALIAS", "an alias",
		   "attach it as ALIAS: its URL in ALIAS_URL\n"
		   "(default: DATABASE for PostgreSQL)"),
	OPT_FLAG(0, "wait", struct addons_create_args, wait,
		 "wait until it accepts connections (creating always does)"),
	OPT_END_OF(struct addons_create_args),
};

/* "heroku-postgresql" is "postgresql": Heroku's names of the kinds are taken too. */
static const char *kind_arg(const char *arg)
{
	return strncmp(arg, "heroku-", 7) ? arg : arg + 7;
}

int cmd_addons_create(struct cli *c)
{
	const struct addons_create_args *args = c->options;
	struct addon_create_opts o = ADDON_CREATE_OPTS_INIT;
	const struct addon_kind *k = NULL;
	struct change_result res;
	struct addon a = ADDON_INIT;
	char *alias = NULL, *var = NULL;
	int rc = 0;

	if (addon_kind_get(kind_arg(c->args[0]), &k) < 0)
		return cli_fail();
	alias = args->as ? xstrdup(args->as) : addon_default_alias(k);
	var = xasprintf("%s_URL", alias);
	o.kind = k->kind;
	o.name = args->name;
	o.app = c->app;
	/* what the attach would refuse is refused before a server is made */
	if (attach_precheck(c, alias, var) < 0 || addon_create(c->root, &o, &a) < 0) {
		rc = cli_fail();
		goto done;
	}
	printf("Creating %s on %s... done\n", a.name, c->app);
	fflush(stdout); /* before what the release phase prints */
	if (addon_backup_schedule_ensure(c->root) < 0) /* its first backup soon */
		say(stderr, SAY_WARN, "%s", sw_error_last());
	int err = attach(c, &a, alias, &res);
	if (err < 0) {
		/* nothing half-made: the add-on goes again, the attach's reason is told */
		struct sw_error_state first;
		sw_error_save(&first, err);
		addon_destroy(c->root, a.name);
		sw_error_prefix(sw_error_restore(&first), "%s is destroyed again, as it cannot be "
				"attached: ", a.name);
		rc = cli_fail();
		goto done;
	}
	rc = print_attached(c, alias, &res);
done:
	free(var);
	free(alias);
	return rc;
}

/* ---- addons:attach, addons:detach ---- */

struct addons_attach_args {
	const char *as;
};

const struct opt addons_attach_opts[] = {
	OPT_STRING(0, "as", struct addons_attach_args, as, "ALIAS", "an alias",
		   "the attachment's name: the URL in ALIAS_URL\n"
		   "(default: DATABASE for PostgreSQL)"),
	OPT_END_OF(struct addons_attach_args),
};

int cmd_addons_attach(struct cli *c)
{
	const struct addons_attach_args *args = c->options;
	const struct addon_kind *k = NULL;
	struct addon_shown s;
	struct strvec all = STRVEC_INIT;
	struct change_result res;
	char *alias = NULL, *var = NULL;
	int rc = 0;
	memset(&s, 0, sizeof(s));
	if (attachments_now(c->root, &all) < 0 || read_visible(c, c->args[0], &all, &s) < 0 ||
	    addon_kind_get(s.a.kind, &k) < 0) {
		rc = cli_fail();
		goto done;
	}
	alias = args->as ? xstrdup(args->as) : addon_default_alias(k);
	var = xasprintf("%s_URL", alias);
	if (attach_precheck(c, alias, var) < 0 || attach(c, &s.a, alias, &res) < 0) {
		rc = cli_fail();
		goto done;
	}
	printf("Attaching %s to %s... done\n", s.a.name, c->app);
	rc = print_attached(c, alias, &res);
done:
	free(var);
	free(alias);
	strvec_clear(&all);
	return rc;
}

/* Detaches the attachment alias (of the add-on addon) from app: the release and its line. */
static int detach(struct cli *c, const char *app, const char *alias, const char *addon)
{
	struct app_ctx ctx = APP_CTX_INIT;
	struct change_result res;
	int rc = 0;
	if (app_ctx_open(&ctx, c->root, app, APP_CTX_WRITE) < 0 ||
	    change_detach(&ctx, alias, addon, c->user, stdout, &res) < 0) {
		app_ctx_release(&ctx);
		return cli_fail();
	}
	app_ctx_release(&ctx);
	char *what = xasprintf("Detached %s from %s (%s_URL) on %s", addon, alias, alias, app);
	print_release(c, what, &res);
	free(what);
	if (res.failed)
		rc = cli_release_failed(c, &res);
	return rc;
}

int cmd_addons_detach(struct cli *c)
{
	struct release r = RELEASE_INIT;
	const char *alias = c->args[0];
	if (app_check_exists(c->root, c->app) < 0 ||
	    ledger_read_newest(c->root, c->app, LEDGER_READ_CONFIG, &r) < 0)
		return cli_fail();
	const struct attachment *at = attach_find(&r.addons, alias);
	/* not attached: change_detach() says so, naming the app's add-ons */
	int rc = detach(c, c->app, alias, at ? at->addon : alias);
	release_release(&r);
	return rc;
}

/* ---- addons:destroy ---- */

struct addons_destroy_args {
	const char *confirm;
	int no_backup;
};

const struct opt addons_destroy_opts[] = {
	OPT_STRING(0, "confirm", struct addons_destroy_args, confirm, "APP", "the app name",
		   "the name of the app that owns the add-on, to confirm"),
	OPT_FLAG(0, "no-backup", struct addons_destroy_args, no_backup,
		 "take no final backup of a PostgreSQL first"),
	OPT_END_OF(struct addons_destroy_args),
};

/*
 * Of the attachments of s (attachments_of()'s, all of them): those to other
 * apps than its owner into others ("APP::ALIAS"), the owner's aliases
 * into own.
 */
static void split_attachments(const struct addon_shown *s, struct strvec *own,
			      struct strvec *others)
{
	for (size_t i = 0; i < s->attachments.n; i++) {
		const char *at = s->attachments.v[i];
		char *app = attachment_app(at);
		if (!strcmp(app, s->a.app))
			strvec_push(own, at + strlen(app) + 2);
		else
			strvec_push(others, at);
		free(app);
	}
}

static int destroy_refused(const struct addon_shown *s, const struct strvec *others)
{
	struct buf names = BUF_INIT;
	for (size_t i = 0; i < others->n; i++)
		buf_addf(&names, "%s%s", i ? ", " : "", others->v[i]);
	char *app = attachment_app(others->v[0]);
	say(stderr, SAY_ERROR, "%s is attached to other apps (%s): detach it there first "
			       "(slipway addons:detach %s -a %s)",
	    s->a.name, names.data, strstr(others->v[0], "::") + 2, app);
	free(app);
	buf_release(&names);
	return 1;
}

/* A PostgreSQL's final backup (runtime/addon_backup.h), which outlives it; its line. */
static int final_backup(struct cli *c, const struct addon *a)
{
	struct backup b;
	char id[16];
	if (addon_backup_supported(a) < 0)
		return 0;
	printf("Capturing a final backup of %s... ", a->name);
	fflush(stdout);
	if (addon_backup_capture(c->root, a, a->app, 600, &b) < 0) {
		printf("failed\n");
		fflush(stdout);
		return sw_error_prefix(SW_ERROR, "%s is not destroyed: its final backup failed "
				       "(destroy it without one with --no-backup): ", a->name);
	}
	backup_id(b.number, id);
	printf("done, %s (see: slipway pg:backups -a %s)\n", id, a->app);
	return 0;
}

/*
 * Destroys s->a, whose owner the user confirmed: refused when it is
 * attached to other apps; otherwise its final backup (unless no_backup),
 * its owner's attachments detached as releases, then the add-on.  all:
 * attachments_now().
 */
static int destroy_confirmed(struct cli *c, struct addon_shown *s, const struct strvec *all,
			     int no_backup)
{
	struct strvec own = STRVEC_INIT, others = STRVEC_INIT;
	int rc = 0;
	strvec_clear(&s->attachments);
	attachments_of(NULL, s, all); /* those of apps the user may not use too */
	split_attachments(s, &own, &others);
	if (others.n)
		rc = destroy_refused(s, &others);
	else if (!no_backup && final_backup(c, &s->a) < 0)
		rc = cli_fail();
	for (size_t i = 0; !rc && i < own.n; i++)
		rc = detach(c, s->a.app, own.v[i], s->a.name);
	if (!rc && addon_destroy(c->root, s->a.name) < 0)
		rc = cli_fail();
	else if (!rc)
		printf("Destroying %s on %s... done\n", s->a.name, s->a.app[0] ? s->a.app : s->a.name);
	strvec_clear(&others);
	strvec_clear(&own);
	return rc;
}

int cmd_addons_destroy(struct cli *c)
{
	const struct addons_destroy_args *args = c->options;
	struct addon_shown s;
	struct strvec all = STRVEC_INIT;
	int rc = 0;
	memset(&s, 0, sizeof(s));
	if (attachments_now(c->root, &all) < 0 || read_visible(c, c->args[0], &all, &s) < 0) {
		rc = cli_fail();
		goto done;
	}
	if (!may_use(c, s.a.app)) { /* a remote user destroys only what their app owns */
		say(stderr, SAY_ERROR, "%s is %s's: only its users may destroy it", s.a.name,
		    s.a.app[0] ? s.a.app : "no app");
		rc = 1;
		goto done;
	}
	const char *owner = s.a.app[0] ? s.a.app : s.a.name;
	if (!args->confirm || strcmp(args->confirm, owner)) {
		say(stderr, SAY_ERROR, "This will permanently destroy %s and its data.", s.a.name);
		say(stderr, SAY_ERROR, "To proceed, run: slipway addons:destroy %s --confirm %s",
		    s.a.name, owner);
		rc = 1;
		goto done;
	}
	rc = destroy_confirmed(c, &s, &all, args->no_backup);
done:
	strvec_clear(&s.attachments);
	strvec_clear(&all);
	return rc;
}

int addons_destroy_owned(struct cli *c, const struct strvec *owned)
{
	struct strvec all = STRVEC_INIT;
	struct addon_shown *v = xcalloc(owned->n ? owned->n : 1, sizeof(*v));
	int rc = attachments_now(c->root, &all) < 0 ? cli_fail() : 0;
	/* every one first: one attached to another app refuses them all, nothing changed */
	for (size_t i = 0; !rc && i < owned->n; i++) {
		struct strvec own = STRVEC_INIT, others = STRVEC_INIT;
		if (addon_read(c->root, owned->v[i], &v[i].a) < 0)
			rc = cli_fail();
		attachments_of(NULL, &v[i], &all);
		split_attachments(&v[i], &own, &others);
		if (!rc && others.n)
			rc = destroy_refused(&v[i], &others);
		strvec_clear(&others);
		strvec_clear(&own);
	}
	for (size_t i = 0; !rc && i < owned->n; i++)
		rc = destroy_confirmed(c, &v[i], &all, 0);
	for (size_t i = 0; i < owned->n; i++)
		strvec_clear(&v[i].attachments);
	free(v);
	strvec_clear(&all);
	return rc;
}
