/* buildpacks, buildpacks:add/set/remove/clear, repo:purge-cache: arguments and printing. */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"

#include "builder/bpsource.h"
#include "builder/build.h"
#include "store/app.h"
#include "builder/buildpacks.h"
#include "builder/cache.h"
#include "util/error.h"
#include "util/fsutil.h"

#include <stdio.h>
#include <stdlib.h>

static void print_list(const struct strvec *l, const char *indent)
{
	for (size_t i = 0; i < l->n; i++)
		printf("%s%zu. %s\n", indent, i + 1, l->v[i]);
}

static void print_next(struct cli *c, const char *what, const struct strvec *l)
{
	if (!l->n) {
		printf("%s. Next release on %s will detect buildpacks normally.\n", what, c->app);
		return;
	}
	printf("%s. Next release on %s will use:\n", what, c->app);
	print_list(l, "  ");
	printf("Run git push heroku main to create a new release using %s.\n",
	       l->n > 1 ? "these buildpacks" : "this buildpack");
}

int cmd_buildpacks(struct cli *c)
{
	struct strvec l = STRVEC_INIT;
	if (buildpacks_list(c->root, c->app, &l) < 0)
		return cli_fail();
	if (!l.n)
		printf("%s has no Buildpack URL set.\n", c->app);
	else {
		printf("=== %s Buildpack URL%s\n", c->app, l.n > 1 ? "s" : "");
		print_list(&l, "");
	}
	strvec_clear(&l);
	return 0;
}

/*
 * Refuses what could never build (a bad spec, a missing shipped name or
 * directory) and, over ssh, what the user may not name (bpsource_allowed).
 */
static int check_source(const char *spec, const char *user)
{
	enum bpsource_kind kind;
	int err = buildpacks_spec_check(spec);
	if (!err)
		err = bpsource_allowed(spec, user);
	if (!err)
		err = bpsource_kind(spec, &kind);
	if (err)
		return err;
	if (kind == BPSOURCE_SHIPPED) {
		char *dir = bpsource_shipped_dir(spec, build_buildpacks_dir());
		int found = fs_is_dir(dir);
		free(dir);
		if (!found)
			return sw_error_set(SW_ENOTFOUND,
				"there is no shipped buildpack '%s': give a directory or a git URL instead", spec);
	} else if (kind == BPSOURCE_DIR && !fs_is_dir(spec)) {
		return sw_error_set(SW_ENOTFOUND, "buildpack directory '%s' does not exist", spec);
	}
	return 0;
}

/* buildpacks:add, buildpacks:set and buildpacks:remove */
struct buildpacks_index_args {
	int index; /* 0 when not given */
};

const struct opt buildpacks_index_opts[] = {
	OPT_INT('i', "index", struct buildpacks_index_args, index, "N", 1, 1000000,
		"use a position from 1", "the buildpack's position in the list, from 1"),
	OPT_END_OF(struct buildpacks_index_args),
};

typedef int list_edit_fn(const char *root, const char *app, const char *spec, int index,
			 struct strvec *after);

/* buildpacks:add and buildpacks:set: check the buildpack, change the list, show it. */
static int put_buildpack(struct cli *c, list_edit_fn *edit, const char *what)
{
	const struct buildpacks_index_args *a = c->options;
	struct strvec l = STRVEC_INIT;
	if (app_check_exists(c->root, c->app) < 0 || check_source(c->args[0], c->shell_user) < 0 ||
	    edit(c->root, c->app, c->args[0], a->index, &l) < 0)
		return cli_fail();
	print_next(c, what, &l);
	strvec_clear(&l);
	return 0;
}

int cmd_buildpacks_add(struct cli *c)
{
	return put_buildpack(c, buildpacks_add, "Buildpack added");
}

int cmd_buildpacks_set(struct cli *c)
{
	return put_buildpack(c, buildpacks_set, "Buildpack set");
}

int cmd_buildpacks_remove(struct cli *c)
{
	const struct buildpacks_index_args *a = c->options;
	struct strvec l = STRVEC_INIT;
	if (!c->nargs == !a->index)
		return cli_usage(c->cmd,
				 "name the buildpack to remove, or give its --index (not both)");
	if (buildpacks_remove(c->root, c->app, c->nargs ? c->args[0] : NULL, a->index, &l) < 0)
		return cli_fail();
	print_next(c, "Buildpack removed", &l);
	strvec_clear(&l);
	return 0;
}

int cmd_buildpacks_clear(struct cli *c)
{
	if (buildpacks_clear(c->root, c->app) < 0)
		return cli_fail();
	printf("Buildpacks cleared. Next release on %s will detect buildpacks normally.\n", c->app);
	return 0;
}

int cmd_repo_purge_cache(struct cli *c)
{
	unsigned long n;
	if (cache_purge(c->root, c->app, &n) < 0)
		return cli_fail();
	printf("Purging build cache of %s... done (%lu %s removed)\n", c->app, n,
	       n == 1 ? "entry" : "entries");
	return 0;
}
