/*
 * runtime/addon: addon_resolve(), which add-on "pg:psql [DATABASE] -a APP"
 * means - by the attachments of the app's newest release, with the
 * add-ons' records (no server runs: resolving reads records only).
 *
 * Without an argument the app's one add-on of the kind; with several, the
 * one under the kind's default alias, or a refusal naming the way out;
 * with one, an alias, its var or an add-on name; a name of another kind,
 * an add-on not attached to the app and an app without add-ons are
 * refused with one line.
 */
#define _GNU_SOURCE
#include "tests/release_helpers.h"

#include "runtime/addon.h"
#include "store/ledger.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *root;

static void setup(void)
{
	root = rh_root();
	rh_app(root, "demo");
	rh_app(root, "other");
}

static void teardown(void)
{
	th_sandbox_free(root);
}

TestSuite(addon_resolve, .init = setup, .fini = teardown, .timeout = 60);

/* An add-on's record (no server): name of kind. */
static void record(const char *name, const char *kind)
{
	char *adds = paths_addons_dir(root), *dir = paths_addon_dir(root, name);
	mkdir(adds, 0755);
	cr_assert_eq(mkdir(dir, 0755), 0);
	struct addon a = ADDON_INIT;
	snprintf(a.name, sizeof(a.name), "%s", name);
	snprintf(a.kind, sizeof(a.kind), "%s", kind);
	a.port = 30000;
	a.major = 15;
	cr_assert_eq(addon_write(root, &a), 0, "%s", sw_error_last());
	free(dir);
	free(adds);
}

/* A release of app attaching the ALIAS, ADDON pairs given (NULL-terminated). */
static void attached(const char *app, ...)
{
	struct release r = RELEASE_INIT;
	struct ledger *l = NULL;
	char *repo = app_repo_path(root, app);
	cr_assert_eq(ledger_open(&l, repo), 0, "%s", sw_error_last());
	va_list ap;
	va_start(ap, app);
	const char *alias;
	while ((alias = va_arg(ap, const char *))) {
		char *var = xasprintf("%s_URL", alias);
		struct strvec vars = STRVEC_INIT;
		strvec_push(&vars, var);
		cr_assert_eq(attach_add(&r.addons, alias, va_arg(ap, const char *), &vars), 0);
		strvec_clear(&vars);
		free(var);
	}
	va_end(ap);
	r.status = RELEASE_SUCCEEDED;
	r.description = xstrdup("Attach");
	r.user = xstrdup("alice@example.com");
	cr_assert_eq(ledger_append(l, &r), 0, "%s", sw_error_last());
	release_release(&r);
	ledger_free(l);
	free(repo);
}

/* What addon_resolve() says: "NAME ALIAS", or the error's code and line. */
static char *resolve(const char *app, const char *kind, const char *arg)
{
	struct addon a = ADDON_INIT;
	char *alias = NULL;
	int err = addon_resolve(root, app, kind, arg, &a, &alias);
	char *said = err ? xasprintf("%d %s", err, sw_error_last())
			 : xasprintf("%s %s", a.name, alias);
	free(alias);
	return th_keep(said);
}

Test(addon_resolve, the_apps_one_add_on_of_a_kind_by_default_or_by_alias_var_or_name)
{
	record("postgresql-amber-12", "postgresql");
	record("redis-clear-7", "redis");
	attached("demo", "DATABASE", "postgresql-amber-12", "CACHE", "redis-clear-7", NULL);
	cr_assert_str_eq(resolve("demo", "postgresql", NULL), "postgresql-amber-12 DATABASE");
	cr_assert_str_eq(resolve("demo", "redis", NULL), "redis-clear-7 CACHE");
	cr_assert_str_eq(resolve("demo", "postgresql", "DATABASE"), "postgresql-amber-12 DATABASE");
	cr_assert_str_eq(resolve("demo", "postgresql", "DATABASE_URL"),
			 "postgresql-amber-12 DATABASE");
	cr_assert_str_eq(resolve("demo", "redis", "redis-clear-7"), "redis-clear-7 CACHE");
	cr_assert_str_eq(resolve("demo", NULL, "CACHE_URL"), "redis-clear-7 CACHE");
	th_keep_free();
}

Test(addon_resolve, several_of_a_kind_take_the_default_alias_or_are_refused)
{
	record("postgresql-amber-12", "postgresql");
	record("postgresql-brave-13", "postgresql");
	attached("demo", "HEROKU_POSTGRESQL_RED", "postgresql-amber-12", "DATABASE",
		 "postgresql-brave-13", NULL);
	attached("other", "HEROKU_POSTGRESQL_RED", "postgresql-amber-12", "REPLICA",
		 "postgresql-brave-13", NULL);
	cr_assert_str_eq(resolve("demo", "postgresql", NULL), "postgresql-brave-13 DATABASE");
	cr_assert_str_eq(resolve("demo", "postgresql", "HEROKU_POSTGRESQL_RED"),
			 "postgresql-amber-12 HEROKU_POSTGRESQL_RED");
	char *want = xasprintf("%d other has several postgresql add-ons: name one (addons -a other)",
			       SW_EINVALID);
	cr_assert_str_eq(resolve("other", "postgresql", NULL), want);
	free(want);
	th_keep_free();
}

Test(addon_resolve, what_the_app_has_not_attached_or_of_another_kind_is_refused)
{
	record("postgresql-amber-12", "postgresql");
	record("redis-clear-7", "redis");
	attached("demo", "DATABASE", "postgresql-amber-12", NULL);
	attached("other", "REDIS", "redis-clear-7", NULL);
	char *want[] = {
		xasprintf("%d other has no postgresql add-on (addons:create postgresql -a other)",
			  SW_ENOTFOUND),
		xasprintf("%d Couldn't find that add-on: redis-clear-7 is not attached to demo",
			  SW_ENOTFOUND),
		xasprintf("%d REDIS is a redis add-on, not postgresql", SW_EINVALID),
		xasprintf("%d demo has no redis add-on (addons:create redis -a demo)", SW_ENOTFOUND),
	};
	cr_assert_str_eq(resolve("other", "postgresql", NULL), want[0]);
	cr_assert_str_eq(resolve("demo", "postgresql", "redis-clear-7"), want[1]);
	cr_assert_str_eq(resolve("other", "postgresql", "REDIS"), want[2]);
	cr_assert_str_eq(resolve("demo", "redis", NULL), want[3]);
	for (size_t i = 0; i < 4; i++)
		free(want[i]);
	th_keep_free();
}
