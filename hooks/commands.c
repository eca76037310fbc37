/* The command table and each command's argument handling and printing. */
#define _GNU_SOURCE
#include "hooks/cli.h"
#include "hooks/sshcli.h"
#include "hooks/cmd_buildpacks.h"

#include "builder/build.h"
#include "builder/buildarea.h"
#include "store/slug.h"
#include "access/access.h"
#include "store/app.h"
#include "store/cas.h"
#include "runtime/change.h"
#include "util/error.h"
#include "store/fsck.h"
#include "store/ledger.h"
#include "hooks/view.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void put(struct buf *b)
{
	fwrite(b->data ? b->data : "", 1, b->len, stdout);
	buf_release(b);
}

static int open_app(struct cli *c, struct ledger **l)
{
	if (app_check_exists(c->root, c->app) < 0)
		return cli_fail();
	char *repo = app_repo_path(c->root, c->app);
	int err = ledger_open(l, repo);
	free(repo);
	return err ? cli_fail() : 0;
}

/* The version named by args[i] (vN or N), else the current release. */
static int pick_version(struct cli *c, struct ledger *l, int i, int *v)
{
	if (i < c->nargs)
		return release_parse_version(c->args[i], v) ? cli_fail() : 0;
	if (ledger_current(l, v) < 0)
		return cli_fail();
	if (!*v && ledger_latest(l, v) < 0)
		return cli_fail();
	if (!*v) {
		fprintf(stderr, " !    %s has no releases.\n", c->app);
		return 1;
	}
	return 0;
}

static int cmd_apps(struct cli *c)
{
	struct strvec names = STRVEC_INIT;
	if (app_list(c->root, &names) < 0)
		return cli_fail();
	for (size_t i = 0; c->shell_user && i < names.n; i++) {
		if (access_allowed(c->root, names.v[i], c->shell_user) != 1) {
			free(names.v[i]); /* a remote user sees only their apps */
			memmove(&names.v[i], &names.v[i + 1], (names.n - i) * sizeof(*names.v));
			names.n--;
			i--;
		}
	}
	if (c->json) {
		printf("[");
		for (size_t i = 0; i < names.n; i++)
			printf("%s\"%s\"", i ? "," : "", names.v[i]);
		printf("]\n");
	} else if (!names.n) {
		printf("You have no apps.\n");
	} else {
		printf("=== Apps\n");
		for (size_t i = 0; i < names.n; i++)
			printf("%s\n", names.v[i]);
	}
	strvec_clear(&names);
	return 0;
}

static int cmd_apps_create(struct cli *c)
{
	const char *name = c->args[0];
	struct app_create_opts o = APP_CREATE_OPTS_INIT;
	o.hook_exe = c->self;
	o.branch = c->branch;
	o.reject_failed_builds = c->reject;
	if (app_create(c->root, name, &o) < 0)
		return cli_fail();
	if (c->shell_user && access_add(c->root, name, c->shell_user) < 0)
		return cli_fail(); /* a remote creator gets access */
	char *repo = app_repo_path(c->root, name);
	printf("Creating %s... done\n", name);
	printf("Git repository: %s\n", repo);
	printf("Add it as a remote with: git remote add heroku %s\n", repo);
	free(repo);
	return 0;
}

static int cmd_apps_destroy(struct cli *c)
{
	const char *name = c->args[0];
	if (app_check_exists(c->root, name) < 0)
		return cli_fail();
	if (!c->confirm || strcmp(c->confirm, name)) {
		fprintf(stderr, " !    This will permanently destroy %s, its releases and its config.\n"
				" !    To proceed, run: slipway apps:destroy %s --confirm %s\n",
			name, name, name);
		return 1;
	}
	if (app_destroy(c->root, name) < 0)
		return cli_fail();
	printf("Destroying %s... done\n", name);
	return 0;
}

struct collect {
	struct release *items;
	size_t n, max;
};

static int collect_one(const struct release *r, void *ctx)
{
	struct collect *col = ctx;
	release_copy(&col->items[col->n++], r);
	return col->n >= col->max;
}

static int cmd_releases(struct cli *c)
{
	struct ledger *l = NULL;
	int rc = open_app(c, &l), current = 0;
	if (rc)
		return rc;
	struct collect col = { NULL, 0, (size_t)(c->num ? c->num : 15) };
	col.items = xcalloc(col.max, sizeof(*col.items));
	int err = ledger_current(l, &current);
	if (!err)
		err = ledger_walk(l, 0, 0, collect_one, &col);
	if (err < 0) {
		rc = cli_fail();
		goto done;
	}
	struct buf out = BUF_INIT;
	if (c->json) {
		buf_adds(&out, "[");
		for (size_t i = 0; i < col.n; i++) {
			buf_adds(&out, i ? ",\n " : "");
			view_release_json(&out, &col.items[i], col.items[i].version == current, 0);
		}
		buf_adds(&out, "]\n");
	} else {
		view_releases(&out, c->app, current, col.items, col.n, (int64_t)time(NULL));
	}
	put(&out);
done:
	for (size_t i = 0; i < col.n; i++)
		release_release(&col.items[i]);
	free(col.items);
	ledger_free(l);
	return rc;
}

static int cmd_releases_info(struct cli *c)
{
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	int v = 0, current = 0, rc = open_app(c, &l);
	if (rc)
		return rc;
	if ((rc = pick_version(c, l, 0, &v)))
		goto done;
	if (ledger_current(l, &current) < 0 || ledger_read(l, v, LEDGER_READ_ALL, &r) < 0) {
		rc = cli_fail();
		goto done;
	}
	struct buf out = BUF_INIT;
	if (c->shell)
		view_config_shell(&out, &r.config);
	else if (c->json) {
		view_release_json(&out, &r, v == current, 1);
		buf_adds(&out, "\n");
	} else
		view_release_info(&out, &r, v == current, (int64_t)time(NULL));
	put(&out);
done:
	release_release(&r);
	ledger_free(l);
	return rc;
}

static int cmd_releases_output(struct cli *c)
{
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	int v = 0, rc = open_app(c, &l);
	if (rc)
		return rc;
	if ((rc = pick_version(c, l, 0, &v)))
		goto done;
	if (ledger_read(l, v, LEDGER_READ_OUTPUT | LEDGER_READ_PROCS, &r) < 0) {
		rc = cli_fail();
		goto done;
	}
	if (r.output)
		fputs(r.output, stdout);
	else
		printf("Release v%d has no release phase output (%s).\n", v,
		       proc_list_get(&r.procs, "release") ? "the release command has not run"
							  : "its Procfile has no release process");
done:
	release_release(&r);
	ledger_free(l);
	return rc;
}

/* The new release's release phase failed: it is recorded, but not live. */
static int release_failed(struct cli *c, const struct change_result *res)
{
	fprintf(stderr, " !    The release command of v%d failed; %s.\n"
			" !    See its output with: slipway releases:output v%d -a %s\n",
		res->version, res->previous ? "the current release is unchanged" : "nothing is live",
		res->version, c->app);
	return 1;
}

static int cmd_rollback(struct cli *c)
{
	struct change_result res;
	int target = 0;
	if (app_check_exists(c->root, c->app) < 0)
		return cli_fail();
	if (c->nargs && release_parse_version(c->args[0], &target) < 0)
		return cli_fail();
	if (change_rollback(c->root, c->app, target, c->user, stdout, &res) < 0)
		return cli_fail();
	printf("Rolling back %s to v%d... done, v%d\n", c->app, res.target, res.version);
	fflush(stdout);
	if (res.failed)
		return release_failed(c, &res);
	if (res.previous)
		fprintf(stderr, "To undo, run: slipway rollback v%d -a %s\n", res.previous, c->app);
	return 0;
}

static int read_latest_config(struct cli *c, struct config *out)
{
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	int v, rc = open_app(c, &l);
	if (rc)
		return rc;
	if (ledger_latest(l, &v) < 0 || (v && ledger_read(l, v, LEDGER_READ_CONFIG, &r) < 0))
		rc = cli_fail();
	else
		config_copy(out, &r.config);
	release_release(&r);
	ledger_free(l);
	return rc;
}

static int cmd_config(struct cli *c)
{
	struct config cfg = CONFIG_INIT;
	int rc = read_latest_config(c, &cfg);
	if (rc)
		return rc;
	struct buf out = BUF_INIT;
	if (c->json) {
		view_config_json(&out, &cfg);
		buf_adds(&out, "\n");
	} else if (c->shell) {
		view_config_shell(&out, &cfg);
	} else {
		buf_addf(&out, "=== %s Config Vars\n", c->app);
		view_config_table(&out, &cfg);
	}
	put(&out);
	config_release(&cfg);
	return 0;
}

static int check_key(const char *key);

static int cmd_config_get(struct cli *c)
{
	struct config cfg = CONFIG_INIT;
	if (check_key(c->args[0]) < 0)
		return cli_fail();
	int rc = read_latest_config(c, &cfg);
	if (rc)
		return rc;
	const char *v = config_get(&cfg, c->args[0]);
	if (c->shell && v) {
		struct buf out = BUF_INIT;
		buf_addf(&out, "%s=", c->args[0]);
		buf_add_shell_quoted(&out, v);
		buf_adds(&out, "\n");
		put(&out);
	} else {
		printf("%s\n", v ? v : "");
	}
	config_release(&cfg);
	return 0;
}

static int check_key(const char *key)
{
	if (config_key_valid(key))
		return 0;
	return sw_error_set(SW_EINVALID,
		"invalid config var name '%s': use letters, digits and '_', not starting with a digit",
		key);
}

static void print_done(struct cli *c, const char *verb, const struct buf *names,
		       const struct change_result *res)
{
	if (res->version)
		printf("%s %s and restarting %s... done, v%d\n", verb, names->data, c->app,
		       res->version);
	else
		printf("%s %s and restarting %s... done, no change (still v%d)\n", verb,
		       names->data, c->app, res->previous);
}

static void name_list(struct buf *b, char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_addf(b, "%s%s", i ? ", " : "", names[i]);
}

static int cmd_config_set(struct cli *c)
{
	struct config set = CONFIG_INIT;
	struct strvec keys = STRVEC_INIT;
	struct buf names = BUF_INIT;
	struct change_result res;
	int rc = 0;

	for (int i = 0; i < c->nargs; i++) {
		char *eq = strchr(c->args[i], '=');
		if (!eq) {
			rc = cli_usage(c->cmd, "'%s' is not KEY=value", c->args[i]);
			goto done;
		}
		char *key = xstrndup(c->args[i], (size_t)(eq - c->args[i]));
		int bad = check_key(key);
		if (!bad && strlen(eq + 1) > CONFIG_VALUE_MAX)
			bad = sw_error_set(SW_EINVALID, "the value of '%s' is too long (max %d bytes)",
					   key, CONFIG_VALUE_MAX);
		if (!bad) {
			if (!config_get(&set, key))
				strvec_push(&keys, key);
			config_set(&set, key, eq + 1);
		}
		free(key);
		if (bad) {
			rc = cli_fail();
			goto done;
		}
	}
	if (app_check_exists(c->root, c->app) < 0 ||
	    change_config(c->root, c->app, &set, NULL, c->user, stdout, &res) < 0) {
		rc = cli_fail();
		goto done;
	}
	name_list(&names, keys.v, keys.n);
	print_done(c, "Setting", &names, &res);
	struct buf out = BUF_INIT;
	view_config_table(&out, &set);
	put(&out);
	if (res.failed)
		rc = release_failed(c, &res);
done:
	buf_release(&names);
	strvec_clear(&keys);
	config_release(&set);
	return rc;
}

static int cmd_config_unset(struct cli *c)
{
	struct strvec keys = STRVEC_INIT;
	struct buf names = BUF_INIT;
	struct change_result res;
	int rc = 0;

	for (int i = 0; i < c->nargs; i++) {
		if (check_key(c->args[i]) < 0) {
			rc = cli_fail();
			goto done;
		}
		strvec_push(&keys, c->args[i]);
	}
	if (app_check_exists(c->root, c->app) < 0 ||
	    change_config(c->root, c->app, NULL, &keys, c->user, stdout, &res) < 0) {
		rc = cli_fail();
		goto done;
	}
	name_list(&names, keys.v, keys.n);
	print_done(c, "Unsetting", &names, &res);
	if (res.failed)
		rc = release_failed(c, &res);
done:
	buf_release(&names);
	strvec_clear(&keys);
	return rc;
}

/* Resolves "vN", "N" or a sha256 (optionally "SHA256:...") to a slug hex. */
static int resolve_slug(struct cli *c, struct ledger *l, const char *arg, char hex[65],
			struct release *r)
{
	const char *h = !strncasecmp(arg, "sha256:", 7) ? arg + 7 : arg;
	if (cas_valid_hex(h)) {
		memcpy(hex, h, 65);
		return 0;
	}
	int v;
	if (release_parse_version(arg, &v) < 0 ||
	    ledger_read(l, v, LEDGER_READ_PROCS, r) < 0)
		return cli_fail();
	if (!r->slug[0]) {
		fprintf(stderr, " !    release v%d of %s has no slug\n", v, c->app);
		return 1;
	}
	memcpy(hex, r->slug, 65);
	return 0;
}

struct users {
	const char *hex;
	struct buf list;
	struct release first;
};

static int find_users(const struct release *r, void *ctx)
{
	struct users *u = ctx;
	if (strcmp(r->slug, u->hex))
		return 0;
	buf_addf(&u->list, "%sv%d", u->list.len ? ", " : "", r->version);
	if (!u->first.version)
		release_copy(&u->first, r);
	return 0;
}

static int cmd_slugs_info(struct cli *c)
{
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	struct users u = { NULL, BUF_INIT, RELEASE_INIT };
	struct slug_stats st;
	uint64_t size = 0;
	char hex[65];
	int rc = open_app(c, &l);
	if (rc)
		return rc;
	if ((rc = resolve_slug(c, l, c->args[0], hex, &r)))
		goto done;
	u.hex = hex;
	char *path = cas_path(c->root, hex);
	if (cas_lookup(c->root, hex, &size) < 0 || slug_stat(path, &st) < 0 ||
	    ledger_walk(l, 0, LEDGER_READ_PROCS, find_users, &u) < 0) {
		free(path);
		rc = cli_fail();
		goto done;
	}
	free(path);
	const struct release *src = r.version ? &r : &u.first;
	printf("=== Slug SHA256:%s\n", hex);
	printf("Size:       %" PRIu64 " bytes compressed, %" PRIu64 " bytes uncompressed\n", size,
	       st.bytes_in);
	printf("Files:      %" PRIu64 "\n", st.files);
	printf("Commit:     %s\n", src->commit[0] ? src->commit : "(none)");
	printf("Processes:  %s\n", src->procs.n ? "" : "(none)");
	for (size_t i = 0; i < src->procs.n; i++)
		printf("  %s: %s\n", src->procs.items[i].name, src->procs.items[i].command);
	printf("Releases:   %s\n", u.list.len ? u.list.data : "(none)");
done:
	buf_release(&u.list);
	release_release(&u.first);
	release_release(&r);
	ledger_free(l);
	return rc;
}

static int print_entry(const struct slug_entry *e, void *ctx)
{
	(void)ctx;
	char mode[11] = "----------";
	mode[0] = e->type == 'd' ? 'd' : e->type == 'l' ? 'l' : '-';
	for (int i = 0; i < 9; i++)
		if (e->mode & (1u << (8 - i)))
			mode[1 + i] = "rwxrwxrwx"[i];
	printf("%s %10" PRIu64 " %s", mode, e->size, e->path);
	if (e->link)
		printf(" -> %s", e->link);
	putchar('\n');
	return 0;
}

static int with_slug(struct cli *c, char **path_out)
{
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	char hex[65];
	int rc = open_app(c, &l);
	if (rc)
		return rc;
	if (!(rc = resolve_slug(c, l, c->args[0], hex, &r))) {
		if (cas_check(c->root, hex) < 0)
			rc = cli_fail();
		else
			*path_out = cas_path(c->root, hex);
	}
	release_release(&r);
	ledger_free(l);
	return rc;
}

static int cmd_slugs_contents(struct cli *c)
{
	char *path = NULL;
	int rc = with_slug(c, &path);
	if (!rc && slug_list(path, print_entry, NULL) < 0)
		rc = cli_fail();
	free(path);
	return rc;
}

static int cmd_slugs_extract(struct cli *c)
{
	char *path = NULL;
	int rc = with_slug(c, &path);
	if (!rc) {
		if (slug_extract(path, c->args[1]) < 0)
			rc = cli_fail();
		else
			printf("Extracted %s into %s\n", c->args[0], c->args[1]);
	}
	free(path);
	return rc;
}

static int cmd_fsck(struct cli *c)
{
	struct strvec problems = STRVEC_INIT;
	if (c->app && app_check_exists(c->root, c->app) < 0)
		return cli_fail();
	if (fsck_run(c->root, c->app, &problems) < 0) {
		strvec_clear(&problems);
		return cli_fail();
	}
	for (size_t i = 0; i < problems.n; i++)
		printf("problem: %s\n", problems.v[i]);
	if (problems.n)
		fprintf(stderr, " !    fsck found %zu problem%s\n", problems.n, problems.n == 1 ? "" : "s");
	else
		printf("fsck: %s is consistent\n", c->app ? c->app : "everything");
	int rc = problems.n ? 1 : 0;
	strvec_clear(&problems);
	return rc;
}

static int cmd_gc(struct cli *c)
{
	struct gc_result r;
	uint64_t builds;
	char size[32];
	if (gc_run(c->root, c->keep, &r) < 0 || buildarea_sweep(c->root, &builds) < 0)
		return cli_fail();
	build_human_size(r.slug_bytes + r.temp_bytes, size, sizeof(size));
	printf("Removed %" PRIu64 " slug%s, %" PRIu64 " temporary file%s and %" PRIu64
	       " build director%s; freed %s\n",
	       r.slugs, r.slugs == 1 ? "" : "s", r.temps, r.temps == 1 ? "" : "s", builds,
	       builds == 1 ? "y" : "ies", size);
	return 0;
}

/* ---- the table ---- */

const struct opt cli_app_opts[] = {
	OPT_STRING('a', "app", struct cli, app, "APP", "an app name",
		   "the app (default: from the git remote 'heroku')"),
	OPT_END,
};

static const struct opt app_only_opts[] = {
	OPT_STRING('a', "app", struct cli, app, "APP", "an app name", "only this app"),
	OPT_END,
};

/* Every command's: --root, and -h/--help (not listed). */
static const struct opt common_opts[] = {
	OPT_STRING(0, "root", struct cli, root, "DIR", "a directory",
		   "where apps, slugs and caches live"),
	{ .kind = OPT_KIND_FLAG, .short_name = 'h', .long_name = "help",
	  .offset = OPT_INT_AT(struct cli, help), .flags = OPT_HIDDEN },
	OPT_END,
};

#define JSON_OPT OPT_FLAG(0, "json", struct cli, json, "print JSON")
#define SHELL_OPT \
	OPT_FLAG('s', "shell", struct cli, shell, "print config vars as KEY=value lines, shell-quoted")
#define INDEX_OPT                                                                        \
	OPT_INT('i', "index", struct cli, index, "N", 1, 1000000, "use a position from 1", \
		"the buildpack's position in the list, from 1")

static const struct opt apps_opts[] = { JSON_OPT, OPT_END };

static const struct opt apps_create_opts[] = {
	OPT_FLAG(0, "reject-failed-builds", struct cli, reject,
		 "build before the push is accepted: a failed build\n"
		 "rejects the push and the branch is not updated"),
	OPT_STRING(0, "branch", struct cli, branch, "BRANCH", "a branch name",
		   "the branch that deploys (default: main, or master)"),
	OPT_END,
};

static const struct opt apps_destroy_opts[] = {
	OPT_STRING(0, "confirm", struct cli, confirm, "APP", "the app name",
		   "the app's name again, to confirm"),
	OPT_END,
};

static const struct opt releases_opts[] = {
	OPT_INT('n', "num", struct cli, num, "N", 1, 1000000, NULL,
		"how many releases to show (default 15)"),
	JSON_OPT,
	OPT_END,
};

static const struct opt json_shell_opts[] = { JSON_OPT, SHELL_OPT, OPT_END };

static const struct opt shell_opts[] = { SHELL_OPT, OPT_END };

static const struct opt buildpacks_index_opts[] = { INDEX_OPT, OPT_END };

static const struct opt gc_opts[] = {
	OPT_INT(0, "keep", struct cli, keep, "N", 1, 1000000000, NULL,
		"keep only the slugs of each app's newest N releases"),
	OPT_END,
};

static int cmd_help(struct cli *c);

const struct cmd cli_commands[] = {
	{ "apps", cmd_apps, CMD_REMOTE, 0, 0, "[--json]", apps_opts, "list the apps" },
	{ "apps:create", cmd_apps_create, CMD_REMOTE, 1, 1, "APP [--branch BRANCH] [--reject-failed-builds]",
	  apps_create_opts, "create an app: a git repository to push to" },
	{ "apps:destroy", cmd_apps_destroy, 0, 1, 1, "APP --confirm APP", apps_destroy_opts,
	  "permanently destroy an app, its releases and its config" },
	{ "releases", cmd_releases, CMD_APP | CMD_REMOTE, 0, 0, "-a APP [-n N] [--json]", releases_opts,
	  "list an app's releases, newest first" },
	{ "releases:info", cmd_releases_info, CMD_APP | CMD_REMOTE, 0, 1, "[vN] -a APP [--json] [--shell]",
	  json_shell_opts, "show one release in full (default: the current one)" },
	{ "releases:output", cmd_releases_output, CMD_APP | CMD_REMOTE, 0, 1, "[vN] -a APP", NULL,
	  "show the output of a release's release phase" },
	{ "rollback", cmd_rollback, CMD_APP | CMD_REMOTE, 0, 1, "[vN] -a APP", NULL,
	  "make a new release with the slug and config of vN (default: the previous one)" },
	{ "config", cmd_config, CMD_APP | CMD_REMOTE, 0, 0, "-a APP [--json|--shell]", json_shell_opts,
	  "show the config vars" },
	{ "config:get", cmd_config_get, CMD_APP | CMD_REMOTE, 1, 1, "KEY -a APP [--shell]", shell_opts,
	  "print one config var's value" },
	{ "config:set", cmd_config_set, CMD_APP | CMD_REMOTE, 1, -1, "KEY=value [KEY2=value2 ...] -a APP", NULL,
	  "set config vars: one new release" },
	{ "config:unset", cmd_config_unset, CMD_APP | CMD_REMOTE, 1, -1, "KEY [KEY2 ...] -a APP", NULL,
	  "remove config vars: one new release" },
	{ "slugs:info", cmd_slugs_info, CMD_APP | CMD_REMOTE, 1, 1, "vN|SHA256 -a APP", NULL,
	  "show a slug: checksum, sizes, files, process types, releases using it" },
	{ "slugs:contents", cmd_slugs_contents, CMD_APP | CMD_REMOTE, 1, 1, "vN|SHA256 -a APP", NULL,
	  "list the files in a slug" },
	{ "slugs:extract", cmd_slugs_extract, CMD_APP, 2, 2, "vN|SHA256 DIR -a APP", NULL,
	  "extract a slug into a new directory, safely" },
	{ "buildpacks", cmd_buildpacks, CMD_APP, 0, 0, "-a APP", NULL,
	  "list the buildpacks the app's next build uses" },
	{ "buildpacks:add", cmd_buildpacks_add, CMD_APP, 1, 1, "[--index N] BUILDPACK -a APP",
	  buildpacks_index_opts,
	  "add a buildpack (shipped name, directory or git URL[#ref]) to the app's list" },
	{ "buildpacks:remove", cmd_buildpacks_remove, CMD_APP, 0, 1, "BUILDPACK|--index N -a APP",
	  buildpacks_index_opts, "remove a buildpack from the app's list" },
	{ "buildpacks:clear", cmd_buildpacks_clear, CMD_APP, 0, 0, "-a APP", NULL,
	  "clear the app's list: builds detect a buildpack again" },
	{ "repo:purge-cache", cmd_repo_purge_cache, CMD_APP, 0, 0, "-a APP", NULL,
	  "empty the app's build cache (CACHE_DIR)" },
	{ "repo:purge_cache", cmd_repo_purge_cache, CMD_APP | CMD_HIDDEN, 0, 0, "-a APP", NULL,
	  "same as repo:purge-cache" },
	{ "fsck", cmd_fsck, CMD_APP_OPT, 0, 0, "[-a APP]", NULL,
	  "check slugs, releases and the ledger; exit 1 and name each problem" },
	{ "gc", cmd_gc, 0, 0, 0, "[--keep N]", gc_opts,
	  "delete slugs no release uses, leftover temp files and build directories" },
	{ "keys", cmd_keys, 0, 0, 0, "", NULL, "list the ssh keys installed for users" },
	{ "keys:add", cmd_keys_add, 0, 1, 2, "USER [KEYFILE|-]", NULL,
	  "let USER push and run commands over ssh with a public key (default: from stdin)" },
	{ "keys:remove", cmd_keys_remove, 0, 1, 1, "USER", NULL, "remove every key of USER" },
	{ "access", cmd_access, CMD_APP, 0, 0, "-a APP", NULL, "list the users who can use an app" },
	{ "access:add", cmd_access_add, CMD_APP, 1, 1, "USER -a APP", NULL,
	  "let USER push to an app and run its commands over ssh" },
	{ "access:remove", cmd_access_remove, CMD_APP, 1, 1, "USER -a APP", NULL,
	  "take USER's access to an app away" },
	{ "shell", cmd_shell, CMD_HIDDEN, 1, 1, "USER", NULL,
	  "the forced command of the keys added with keys:add (reads SSH_ORIGINAL_COMMAND)" },
	{ "help", cmd_help, CMD_REMOTE, 0, 1, "[COMMAND]", NULL, "show help" },
	{ NULL, NULL, 0, 0, 0, NULL, NULL, NULL },
};

/* ---- the dispatcher ---- */

const struct cmd *cli_find(const char *name)
{
	for (const struct cmd *c = cli_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

int cli_remote_allowed(const char *name)
{
	const struct cmd *c = cli_find(name);
	return c && (c->flags & CMD_REMOTE);
}

int cli_fail(void)
{
	fprintf(stderr, " !    %s\n", sw_error_last());
	return 1;
}

static void print_usage(FILE *f, const struct cmd *cmd)
{
	fprintf(f, "Usage: slipway %s%s%s\n", cmd->name, *cmd->synopsis ? " " : "", cmd->synopsis);
}

int cli_usage(const struct cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd)
		print_usage(stderr, cmd);
	fputs("Run 'slipway help' for the list of commands.\n", stderr);
	return 2;
}

/* The option arrays cmd takes, in the order its help lists them. */
static void cmd_groups(const struct cmd *cmd, const struct opt *groups[4])
{
	size_t n = 0;
	if (cmd->flags & CMD_APP)
		groups[n++] = cli_app_opts;
	else if (cmd->flags & CMD_APP_OPT)
		groups[n++] = app_only_opts;
	if (cmd->opts)
		groups[n++] = cmd->opts;
	groups[n++] = common_opts;
	groups[n] = NULL;
}

static void print_cmd_help(const struct cmd *cmd)
{
	const struct opt *groups[4];
	cmd_groups(cmd, groups);
	print_usage(stdout, cmd);
	printf("\n%s\n\nOptions:\n", cmd->help);
	opt_print_help(stdout, groups);
}

void cli_print_commands(void)
{
	for (const struct cmd *c = cli_commands; c->name; c++)
		if (!(c->flags & CMD_HIDDEN))
			opt_print_item(stdout, c->name, c->help);
}

static int cmd_help(struct cli *c)
{
	if (c->nargs) {
		const struct cmd *cmd = cli_find(c->args[0]);
		if (!cmd)
			return cli_usage(NULL, "'%s' is not a slipway command", c->args[0]);
		print_cmd_help(cmd);
		return 0;
	}
	printf("Usage: slipway [--root DIR] COMMAND [ARGS] [-a APP]\n\nCommands:\n");
	cli_print_commands();
	printf("\nRun 'slipway COMMAND --help' for a command's options.\n");
	return 0;
}

int cli_run(struct cli *c, const struct cmd *cmd, int argc, char **argv)
{
	const struct opt *groups[4];
	cmd_groups(cmd, groups);
	c->cmd = cmd;
	int n = opt_parse(groups, c, argc, argv, cmd->name, 0);
	if (n < 0)
		return cli_usage(cmd, "%s", sw_error_last());
	c->args = argv;
	c->nargs = n;
	if (c->help) {
		print_cmd_help(cmd);
		return 0;
	}
	if (n < cmd->min_args || (cmd->max_args >= 0 && n > cmd->max_args))
		return cli_usage(cmd, n < cmd->min_args ? "missing argument for %s"
							: "too many arguments for %s", cmd->name);
	char *root = NULL, *app = NULL;
	if (root_resolve(c->root, &root) < 0)
		return cli_fail();
	c->root = root;
	int rc;
	if ((cmd->flags & CMD_APP) && !c->app) {
		if (app_infer_from_cwd(&app) < 0) {
			rc = cli_usage(cmd, "no app specified: use -a APP");
			goto done;
		}
		c->app = app;
	}
	c->user = app_actor();
	c->shell_user = getenv("SLIPWAY_SHELL_USER");
	rc = cli_remote_check(c, cmd); /* 0 unless a remote user may not */
	if (!rc)
		rc = cmd->fn(c);
	free(c->user);
done:
	free(root);
	free(app);
	return rc;
}
