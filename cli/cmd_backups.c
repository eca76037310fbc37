/*
 * pg:backups, pg:backups:capture, pg:backups:restore, pg:backups:download,
 * pg:backups:info, and pg:backups:schedule (what the runtime's service runs).
 */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"
#include "view/backups.h"

#include "runtime/addon.h"
#include "runtime/addon_backup.h"
#include "store/addons.h"
#include "store/app.h"
#include "store/backups.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/say.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- which add-on, which backup ---- */

/*
 * 1 when addon is a destroyed add-on whose backups were taken for app: its
 * final backup stays reachable by its name.
 */
static int destroyed_of(const char *root, const char *app, const char *addon)
{
	struct addon a;
	struct backup *v = NULL;
	size_t n = 0;
	int mine = 0;
	if (!addon_name_valid(addon) || addon_read(root, addon, &a) != SW_ENOTFOUND)
		return 0;
	if (backups_list(root, addon, &v, &n) == 0)
		for (size_t i = 0; i < n && !mine; i++)
			mine = !strcmp(v[i].app, app);
	free(v);
	return mine;
}

/*
 * The add-on whose backups arg (NULL: the app's PostgreSQL) means for
 * c->app: an attached one (*a read, 1 returned), or a destroyed one of the
 * app's (only its name in a->name, 0 returned).
 */
static int which_addon(struct cli *c, const char *arg, struct addon *a)
{
	char *alias = NULL;
	memset(a, 0, sizeof(*a));
	if (arg && destroyed_of(c->root, c->app, arg)) {
		snprintf(a->name, sizeof(a->name), "%s", arg);
		return 0;
	}
	int err = addon_resolve(c->root, c->app, "postgresql", arg, a, &alias);
	free(alias);
	return err < 0 ? err : 1;
}

/*
 * Splits "ADDON::b001" into the add-on's name (malloc'ed into *addon) and
 * the id; a plain "b001" leaves *addon NULL.
 */
static int split_id(const char *arg, char **addon, int *number)
{
	const char *sep = strstr(arg, "::");
	*addon = sep ? xstrndup(arg, (size_t)(sep - arg)) : NULL;
	return backup_id_parse(sep ? sep + 2 : arg, number);
}

/*
 * The backup id_arg (NULL: the newest completed, or with verified the
 * newest whose restore test passed) of the add-on db_arg means: its
 * record into *b, its add-on into *a (see which_addon()).
 */
static int which_backup(struct cli *c, const char *id_arg, const char *db_arg, int verified,
			struct addon *a, struct backup *b)
{
	char *of = NULL;
	int number = 0, err = id_arg ? split_id(id_arg, &of, &number) : 0;
	if (!err)
		err = which_addon(c, of ? of : db_arg, a);
	free(of);
	if (err < 0)
		return err;
	if (id_arg)
		return backup_read(c->root, a->name, number, b);
	struct backup *v = NULL;
	size_t n = 0;
	if ((err = backups_list(c->root, a->name, &v, &n)) == 0) {
		err = sw_error_set(SW_ENOTFOUND, "%s has no %s backups (capture one with: slipway "
				   "pg:backups:capture -a %s)", a->name, verified ? "verified" :
				   "completed", c->app);
		for (size_t i = n; i-- > 0;)
			if (verified ? backup_verified(&v[i]) : !strcmp(v[i].status, "completed")) {
				*b = v[i];
				err = 0;
				break;
			}
	}
	free(v);
	return err;
}

/* ---- pg:backups ---- */

struct backups_args {
	int json;
};

const struct opt pg_backups_opts[] = { CLI_OPT_JSON(struct backups_args),
				       OPT_END_OF(struct backups_args) };

/* The backups of addon (taken for app, unless attached) appended to *v. */
static int gather(const char *root, const char *app, const char *addon, int attached,
		  struct backup_shown **v, size_t *n, struct strvec *names)
{
	struct backup *b = NULL;
	size_t k = 0;
	int err = backups_list(root, addon, &b, &k);
	strvec_push(names, addon);
	const char *name = names->v[names->n - 1];
	for (size_t i = 0; !err && i < k; i++) {
		if (!attached && strcmp(b[i].app, app))
			continue;
		*v = xrealloc(*v, (*n + 1) * sizeof(**v));
		(*v)[*n].b = b[i];
		(*v)[(*n)++].addon = name;
	}
	free(b);
	return err;
}

static int by_created(const void *x, const void *y)
{
	const struct backup_shown *a = x, *b = y;
	return a->b.created < b->b.created ? -1 : a->b.created > b->b.created;
}

int cmd_pg_backups(struct cli *c)
{
	const struct backups_args *args = c->options;
	struct backup_shown *v = NULL;
	struct strvec names = STRVEC_INIT, all = STRVEC_INIT;
	struct buf out = BUF_INIT;
	struct addon a;
	size_t n = 0;
	int rc = 0, attached = which_addon(c, NULL, &a);
	int err = attached < 0 && attached != SW_ENOTFOUND ? attached : 0;
	if (err || (err = app_check_exists(c->root, c->app)))
		goto done;
	if (attached > 0 && (err = gather(c->root, c->app, a.name, 1, &v, &n, &names)))
		goto done;
	/* and the final backups of the app's destroyed add-ons */
	if ((err = backups_addons(c->root, &all)))
		goto done;
	for (size_t i = 0; !err && i < all.n; i++)
		if (destroyed_of(c->root, c->app, all.v[i]))
			err = gather(c->root, c->app, all.v[i], 0, &v, &n, &names);
	if (err)
		goto done;
	if (attached < 0 && !n) { /* no PostgreSQL, and no backups of one: addon_resolve's line */
		which_addon(c, NULL, &a);
		err = SW_ENOTFOUND;
		goto done;
	}
	if (n)
		qsort(v, n, sizeof(*v), by_created);
	if (args->json)
		view_backups_json(&out, v, n);
	else if (!n)
		buf_addf(&out, "No backups. Capture one with: slipway pg:backups:capture -a %s\n",
			 c->app);
	else
		view_backups_table(&out, v, n);
	cli_put(&out);
done:
	if (err)
		rc = cli_fail();
	free(v);
	strvec_clear(&all);
	strvec_clear(&names);
	return rc;
}

/* ---- pg:backups:capture ---- */

/* "b001" of b */
static const char *id_of(const struct backup *b, char out[16])
{
	backup_id(b->number, out);
	return out;
}

int cmd_pg_backups_capture(struct cli *c)
{
	struct addon a;
	struct backup b;
	char id[16];
	if (which_addon(c, c->nargs ? c->args[0] : NULL, &a) <= 0) {
		if (a.name[0]) /* a destroyed one: nothing to dump */
			sw_error_set(SW_ENOTFOUND, "%s was destroyed: only its backups are left",
				     a.name);
		return cli_fail();
	}
	printf("Starting backup of %s... ", a.name);
	fflush(stdout);
	if (addon_backup_capture(c->root, &a, c->app, 600, &b) < 0) {
		printf("failed\n");
		fflush(stdout);
		if (b.number)
			sw_error_prefix(SW_ERROR, "backup %s of %s failed: ", id_of(&b, id), a.name);
		return cli_fail();
	}
	printf("done\nBacking up %s to %s... done\n", a.name, id_of(&b, id));
	printf("Restore test of %s in a scratch cluster... passed (%d table%s)\n", id, b.tables,
	       b.tables == 1 ? "" : "s");
	return 0;
}

/* ---- pg:backups:restore ---- */

struct restore_args {
	const char *confirm;
	int unverified;
};

const struct opt pg_backups_restore_opts[] = {
	OPT_STRING(0, "confirm", struct restore_args, confirm, "APP", "the app name",
		   "the app's name, to confirm its database is overwritten"),
	OPT_FLAG(0, "unverified", struct restore_args, unverified,
		 "restore a backup whose restore test did not pass"),
	OPT_END_OF(struct restore_args),
};

int cmd_pg_backups_restore(struct cli *c)
{
	const struct restore_args *args = c->options;
	const char *id_arg = NULL, *db_arg = NULL;
	struct addon target, from;
	struct backup b;
	char id[16];
	int number = 0;
	/* [BACKUP_ID] [DATABASE]: one argument that is no backup id is the database */
	if (c->nargs == 2 || (c->nargs == 1 && (strstr(c->args[0], "::") ||
						 backup_id_parse(c->args[0], &number) == 0)))
		id_arg = c->args[0];
	if (c->nargs == 2 || (c->nargs == 1 && !id_arg))
		db_arg = c->args[c->nargs - 1];
	if (which_addon(c, db_arg, &target) <= 0) {
		if (target.name[0])
			sw_error_set(SW_ENOTFOUND, "%s was destroyed: restore into an attached "
				     "add-on (slipway pg:backups:restore %s::b001 DATABASE -a %s)",
				     target.name, target.name, c->app);
		return cli_fail();
	}
	if (which_backup(c, id_arg, id_arg && strstr(id_arg, "::") ? NULL : db_arg,
			 !args->unverified, &from, &b) < 0)
		return cli_fail();
	id_of(&b, id);
	if (strcmp(b.status, "completed")) {
		say(stderr, SAY_ERROR, "backup %s of %s failed: there is nothing to restore", id,
		    from.name);
		return 1;
	}
	if (!backup_verified(&b) && !args->unverified) {
		say(stderr, SAY_ERROR, "backup %s of %s did not pass its restore test: restore it "
		    "anyway with --unverified", id, from.name);
		return 1;
	}
	if (!args->confirm || strcmp(args->confirm, c->app)) {
		say(stderr, SAY_ERROR, "This overwrites the data of %s on %s with backup %s: to "
		    "proceed, run: slipway pg:backups:restore %s%s%s %s -a %s --confirm %s",
		    target.name, c->app, id, strcmp(from.name, target.name) ? from.name : "",
		    strcmp(from.name, target.name) ? "::" : "", id, target.name, c->app, c->app);
		return 1;
	}
	printf("Restoring %s to %s... ", id, target.name);
	fflush(stdout);
	if (addon_backup_restore(c->root, &target, from.name, &b) < 0) {
		printf("failed\n");
		fflush(stdout);
		return cli_fail();
	}
	printf("done\n");
	return 0;
}

/* ---- pg:backups:download, pg:backups:info ---- */

int cmd_pg_backups_download(struct cli *c)
{
	struct addon a;
	struct backup b;
	if (isatty(STDOUT_FILENO)) {
		say(stderr, SAY_ERROR, "a backup is binary: send it to a file (slipway "
		    "pg:backups:download %s -a %s > latest.dump)", c->nargs ? c->args[0] : "b001",
		    c->app);
		return 1;
	}
	if (which_backup(c, c->nargs ? c->args[0] : NULL, c->nargs > 1 ? c->args[1] : NULL, 0,
			 &a, &b) < 0 || addon_backup_check(c->root, a.name, &b) < 0)
		return cli_fail();
	char *path = backup_dump_path(c->root, a.name, b.number), chunk[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	ssize_t got;
	if (fd < 0)
		err = sw_error_errno(SW_ERROR, "cannot open '%s'", path);
	while (!err && (got = read(fd, chunk, sizeof(chunk))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			err = sw_error_errno(SW_ERROR, "cannot read '%s'", path);
		else if (fs_write_all(STDOUT_FILENO, chunk, (size_t)got) < 0)
			err = sw_error_errno(SW_ERROR, "cannot write the backup");
	}
	if (fd >= 0)
		close(fd);
	free(path);
	return err ? cli_fail() : 0;
}

struct backups_info_args {
	int json;
};

const struct opt pg_backups_info_opts[] = { CLI_OPT_JSON(struct backups_info_args),
					    OPT_END_OF(struct backups_info_args) };

int cmd_pg_backups_info(struct cli *c)
{
	const struct backups_info_args *args = c->options;
	struct backup_shown s;
	struct addon a;
	struct buf out = BUF_INIT;
	if (which_backup(c, c->nargs ? c->args[0] : NULL, c->nargs > 1 ? c->args[1] : NULL, 0, &a,
			 &s.b) < 0)
		return cli_fail();
	s.addon = a.name;
	if (args->json)
		view_backups_json(&out, &s, 1);
	else
		view_backup_info(&out, &s);
	cli_put(&out);
	return 0;
}

/* ---- pg:backups:schedule ---- */

/* One pass: a backup of each add-on whose backup is due, a line each for the log. */
static void schedule_pass(void *arg)
{
	const char *root = arg;
	struct strvec due = STRVEC_INIT;
	if (addon_backup_due(root, (int64_t)time(NULL), &due) < 0)
		say(stdout, SAY_WARN, "%s", sw_error_last());
	for (size_t i = 0; i < due.n && !cli_schedule_stopping(); i++) {
		struct addon a;
		struct backup b;
		char id[16];
		if (addon_read(root, due.v[i], &a) < 0)
			continue;
		/* 0: a capture of it runs now, which is this pass's backup */
		int err = addon_backup_capture(root, &a, a.app, 0, &b);
		if (err == SW_ELOCKED || cli_schedule_stopping())
			continue;
		if (err)
			printf("Backup %s of %s: failed: %s\n", id_of(&b, id), a.name, sw_error_last());
		else
			printf("Backup %s of %s: completed, restore test passed (%d table%s)\n",
			       id_of(&b, id), a.name, b.tables, b.tables == 1 ? "" : "s");
	}
	fflush(stdout);
	strvec_clear(&due);
}

int cmd_pg_backups_schedule(struct cli *c)
{
	printf("Backing up PostgreSQL add-ons daily, checking every minute\n");
	fflush(stdout);
	/* s6's SIGTERM: the capture under way stops and cleans up, then the loop ends */
	cli_schedule_run(60, schedule_pass, (void *)c->root, addon_backup_interrupt);
	return 0;
}
