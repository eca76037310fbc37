/* The command table and each command's argument handling and printing. */
#define _GNU_SOURCE
#include "hooks/cli.h"
#include "hooks/sshcli.h"
#include "hooks/cmd_buildpacks.h"

#include "builder/build.h"
#include "util/units.h"
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
			rc = cli_usage(cli_find("config:set"), "'%s' is not KEY=value", c->args[i]);
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
	units_format_size(r.slug_bytes + r.temp_bytes, size, sizeof(size));
	printf("Removed %" PRIu64 " slug%s, %" PRIu64 " temporary file%s and %" PRIu64
	       " build director%s; freed %s\n",
	       r.slugs, r.slugs == 1 ? "" : "s", r.temps, r.temps == 1 ? "" : "s", builds,
	       builds == 1 ? "y" : "ies", size);
	return 0;
}

static int cmd_help(struct cli *c)
{
	if (c->nargs) {
		const struct cmd *cmd = cli_find(c->args[0]);
		if (!cmd)
			return cli_usage(NULL, "'%s' is not a slipway command", c->args[0]);
		printf("Usage: slipway %s\n\n%s\n", cmd->usage, cmd->help);
		return 0;
	}
	printf("Usage: slipway [--root DIR] COMMAND [ARGS] [-a APP]\n\nCommands:\n");
	for (const struct cmd *cmd = cli_commands; cmd->name; cmd++)
		if (!(cmd->flags & CMD_HIDDEN))
			printf("  %-18s %s\n", cmd->name, cmd->help);
	printf("\nRun 'slipway COMMAND --help' for a command's options.\n");
	return 0;
}

const struct cmd cli_commands[] = {
	{ "apps", cmd_apps, CMD_JSON, 0, 0, "apps [--json]", "list the apps" },
	{ "apps:create", cmd_apps_create, CMD_BRANCH | CMD_REJECT, 1, 1,
	  "apps:create APP [--branch BRANCH] [--reject-failed-builds]",
	  "create an app: a git repository to push to" },
	{ "apps:destroy", cmd_apps_destroy, CMD_CONFIRM, 1, 1, "apps:destroy APP --confirm APP",
	  "permanently destroy an app, its releases and its config" },
	{ "releases", cmd_releases, CMD_APP | CMD_JSON | CMD_NUM, 0, 0,
	  "releases -a APP [-n N] [--json]", "list an app's releases, newest first" },
	{ "releases:info", cmd_releases_info, CMD_APP | CMD_JSON | CMD_SHELL, 0, 1,
	  "releases:info [vN] -a APP [--json] [--shell]",
	  "show one release in full (default: the current one)" },
	{ "releases:output", cmd_releases_output, CMD_APP, 0, 1, "releases:output [vN] -a APP",
	  "show the output of a release's release phase" },
	{ "rollback", cmd_rollback, CMD_APP, 0, 1, "rollback [vN] -a APP",
	  "make a new release with the slug and config of vN (default: the previous one)" },
	{ "config", cmd_config, CMD_APP | CMD_JSON | CMD_SHELL, 0, 0,
	  "config -a APP [--json|--shell]", "show the config vars" },
	{ "config:get", cmd_config_get, CMD_APP | CMD_SHELL, 1, 1, "config:get KEY -a APP [--shell]",
	  "print one config var's value" },
	{ "config:set", cmd_config_set, CMD_APP, 1, -1, "config:set KEY=value [KEY2=value2 ...] -a APP",
	  "set config vars: one new release" },
	{ "config:unset", cmd_config_unset, CMD_APP, 1, -1, "config:unset KEY [KEY2 ...] -a APP",
	  "remove config vars: one new release" },
	{ "slugs:info", cmd_slugs_info, CMD_APP, 1, 1, "slugs:info vN|SHA256 -a APP",
	  "show a slug: checksum, sizes, files, process types, releases using it" },
	{ "slugs:contents", cmd_slugs_contents, CMD_APP, 1, 1, "slugs:contents vN|SHA256 -a APP",
	  "list the files in a slug" },
	{ "slugs:extract", cmd_slugs_extract, CMD_APP, 2, 2, "slugs:extract vN|SHA256 DIR -a APP",
	  "extract a slug into a new directory, safely" },
	{ "buildpacks", cmd_buildpacks, CMD_APP, 0, 0, "buildpacks -a APP",
	  "list the buildpacks the app's next build uses" },
	{ "buildpacks:add", cmd_buildpacks_add, CMD_APP | CMD_INDEX, 1, 1,
	  "buildpacks:add [--index N] BUILDPACK -a APP",
	  "add a buildpack (shipped name, directory or git URL[#ref]) to the app's list" },
	{ "buildpacks:remove", cmd_buildpacks_remove, CMD_APP | CMD_INDEX, 0, 1,
	  "buildpacks:remove BUILDPACK|--index N -a APP", "remove a buildpack from the app's list" },
	{ "buildpacks:clear", cmd_buildpacks_clear, CMD_APP, 0, 0, "buildpacks:clear -a APP",
	  "clear the app's list: builds detect a buildpack again" },
	{ "repo:purge-cache", cmd_repo_purge_cache, CMD_APP, 0, 0, "repo:purge-cache -a APP",
	  "empty the app's build cache (CACHE_DIR)" },
	{ "repo:purge_cache", cmd_repo_purge_cache, CMD_APP | CMD_HIDDEN, 0, 0,
	  "repo:purge_cache -a APP", "same as repo:purge-cache" },
	{ "fsck", cmd_fsck, CMD_APP_OPT, 0, 0, "fsck [-a APP]",
	  "check slugs, releases and the ledger; exit 1 and name each problem" },
	{ "gc", cmd_gc, CMD_KEEP, 0, 0, "gc [--keep N]",
	  "delete slugs no release uses, leftover temp files and build directories" },
	{ "keys", cmd_keys, 0, 0, 0, "keys", "list the ssh keys installed for users" },
	{ "keys:add", cmd_keys_add, 0, 1, 2, "keys:add USER [KEYFILE|-]",
	  "let USER push and run commands over ssh with a public key (default: from stdin)" },
	{ "keys:remove", cmd_keys_remove, 0, 1, 1, "keys:remove USER", "remove every key of USER" },
	{ "access", cmd_access, CMD_APP, 0, 0, "access -a APP", "list the users who can use an app" },
	{ "access:add", cmd_access_add, CMD_APP, 1, 1, "access:add USER -a APP",
	  "let USER push to an app and run its commands over ssh" },
	{ "access:remove", cmd_access_remove, CMD_APP, 1, 1, "access:remove USER -a APP",
	  "take USER's access to an app away" },
	{ "shell", cmd_shell, CMD_HIDDEN, 1, 1, "shell USER",
	  "the forced command of the keys added with keys:add (reads SSH_ORIGINAL_COMMAND)" },
	{ "help", cmd_help, 0, 0, 1, "help [COMMAND]", "show help" },
	{ NULL, NULL, 0, 0, 0, NULL, NULL },
};
