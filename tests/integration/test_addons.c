/*
 * The add-on commands end to end, with a real PostgreSQL under the root's
 * real s6 tree, the product run as an unprivileged user (as on a real
 * server; when the tests run as root each test becomes SLIPWAY_TEST_USER,
 * by default "nobody", first).
 *
 * addons:create heroku-postgresql: "Creating NAME on APP... done" and
 * "Attached as DATABASE (DATABASE_URL), v2"; releases, config and
 * releases:info show the attachment; psql with the URL's credentials over
 * the add-on's socket writes and reads a row; config:set of DATABASE_URL
 * is refused; rollback to before the add-on keeps DATABASE_URL; another
 * app attaches it (the same URL) and detaches it; addons, addons:info;
 * a remote user sees only the add-ons of their apps; addons:destroy
 * detaches it from its owner and removes its service and data; every
 * refusal (unknown kind, name taken, bad alias, alias attached, a var of
 * the user's, unknown add-on, detaching what is not attached, destroy
 * while attached elsewhere or without --confirm, apps:destroy of the
 * owner) says one line, exits 1 and changes nothing; an add-on whose
 * attach fails once it is made (its app stays locked) is destroyed again;
 * apps:destroy --addons destroy takes the app's add-ons with it, but not
 * while one of them is attached to another app.
 * (As root, addons:create is refused: test_addons_root.c, a file of its
 * own because this one's processes change their uid.)
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include "util/util.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define APP "shop"
#define OTHER "admin"

static struct app_sandbox sb;

#define gc th_keep

#define sw(...) SANDBOX_RUN(&sb, sb.dir, SLIPWAY_BIN, __VA_ARGS__)
#define OK(...) gc(app_sandbox_must(sw(__VA_ARGS__), #__VA_ARGS__))

static void setup(void)
{
	app_sandbox_init_addons(&sb, APP);
	OK("server:start");
}

static void teardown(void)
{
	struct th_result r = sw("server:stop");
	th_result_free(&r);
	th_keep_free();
	app_sandbox_release(&sb);
}

TestSuite(addons, .init = setup, .fini = teardown, .timeout = 240);

/* slipway ARGS with the sandbox's environment and "K=V" extra. */
static struct th_result sw_env(const char *extra, const char *const *args)
{
	const char *env[APP_SANDBOX_ENV_MAX + 2], *argv[16];
	size_t n = 0, k = 0;
	for (; n < sb.nenv; n++)
		env[n] = sb.env[n];
	env[n++] = extra;
	env[n] = NULL;
	argv[k++] = SLIPWAY_BIN;
	for (size_t i = 0; args[i] && k < 15; i++)
		argv[k++] = args[i];
	argv[k] = NULL;
	return th_run(sb.dir, env, NULL, argv);
}

/* slipway ARGS as the remote user bob (what `slipway shell bob` runs). */
static struct th_result as_bob(const char *const *args)
{
	return sw_env("SLIPWAY_SHELL_USER=bob", args);
}

/* The release list of app, as `releases` prints it (kept). */
static char *releases(const char *app)
{
	return OK("releases", "-a", app);
}

/* The value of DATABASE_URL of app, "" when it has none (kept). */
static char *database_url(const char *app)
{
	return app_sandbox_chomp(OK("config:get", "DATABASE_URL", "-a", app));
}

/* The one add-on name in s ("postgresql-<adjective>-<number>"), kept. */
static char *addon_name(const char *s)
{
	const char *p = strstr(s, "postgresql-");
	cr_assert(p, "no add-on name in:\n%s", s);
	size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-");
	return gc(xstrndup(p, n));
}

/* A first deploy of APP: a worker the formation does not run, so nothing needs to start. */
static void deploy(void)
{
	app_sandbox_checkout(&sb, NULL, "main", NULL);
	app_sandbox_write(&sb, "Procfile", "worker: sleep 600\n", 0644);
	app_sandbox_write(&sb, "index.txt", "hello\n", 0644);
	free(app_sandbox_must(SANDBOX_RUN(&sb, NULL, "git", "add", "-A"), "git add"));
	free(app_sandbox_must(SANDBOX_RUN(&sb, NULL, "git", "commit", "-q", "-m", "one"),
			      "git commit"));
	free(app_sandbox_push(&sb, "main"));
}

/* psql with url's credentials, its host= (the sandbox's path) the add-on's socket directory. */
static char *psql(const char *url, const char *name, const char *sql)
{
	char *host = strstr(url, "?host=");
	cr_assert(host, "%s", url);
	char *hosturl = gc(th_path("%.*s?host=%s/addons/%s/run", (int)(host - url), url, sb.root,
				   name));
	const char *env[] = { "PGCONNECT_TIMEOUT=30", NULL };
	struct th_result r = th_runv(NULL, env, "psql", "-X", "-q", "-t", "-A", "-v",
				     "ON_ERROR_STOP=1", hosturl, "-c", sql, NULL);
	cr_assert_eq(r.status, 0, "psql: %s", r.err);
	char *out = gc(xstrdup(r.out));
	th_result_free(&r);
	return out;
}

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

Test(addons, create_attach_rollback_detach_destroy)
{
	OK("apps:create", APP);
	OK("apps:create", OTHER);
	deploy();

	/* unknown kind, bad alias, a var of the user's: refused before anything is made */
	app_sandbox_refused_line(sw("addons:create", "mysql", "-a", APP), "unknown add-on service 'mysql': use "
		"postgresql, redis");
	app_sandbox_refused_line(sw("addons:create", "postgresql", "--as", "db", "-a", APP),
		"invalid add-on alias 'db': use capital letters, digits and '_', starting with a "
		"letter (DATABASE)");
	OK("config:set", "DATABASE_URL=mine", "-a", OTHER);
	app_sandbox_refused_line(sw("addons:create", "postgresql", "-a", OTHER),
		"DATABASE_URL is set on " OTHER " already; unset it (slipway config:unset "
		"DATABASE_URL -a " OTHER ") or attach under another name with --as");
	cr_assert_str_eq(OK("addons"), "No add-ons.\n");
	OK("config:unset", "DATABASE_URL", "-a", OTHER);

	/* created, attached: a release with DATABASE_URL */
	char *out = OK("addons:create", "heroku-postgresql", "--wait", "-a", APP);
	char *name = addon_name(out);
	cr_assert_str_eq(out, gc(th_path("Creating %s on " APP "... done\n"
					 "Attached as DATABASE (DATABASE_URL), v2\n", name)));
	cr_assert(strstr(releases(APP), gc(th_path("v2  Attach %s as DATABASE  ", name))),
		  "%s", releases(APP));
	char *url = database_url(APP);
	cr_assert_eq(strncmp(url, "postgres://", 11), 0, "%s", url);
	cr_assert(strstr(url, "?host=/run/addons/database"), "%s", url);
	cr_assert(strstr(OK("config", "-a", APP), gc(th_path("DATABASE_URL: %s\n", url))));
	cr_assert(strstr(OK("releases:info", "-a", APP), gc(th_path("Addons:    %s (DATABASE)\n",
								    name))));
	/* the app's credentials reach it over its socket */
	cr_assert_str_eq(psql(url, name, "CREATE TABLE t (x text); INSERT INTO t VALUES ('hi'); "
				    "SELECT x FROM t"),
			 "hi\n");

	/* listed, shown */
	out = OK("addons", "-a", APP);
	cr_assert(strstr(out, "Add-on "), "%s", out);
	cr_assert(strstr(out, gc(th_path("%s  postgresql 15  ready\n └─ as DATABASE\n", name))),
		  "%s", out);
	out = OK("addons:info", name);
	cr_assert(strstr(out, gc(th_path("=== %s\nKind:         postgresql 15\nOwning app:   " APP
					 "\nAttachments:  " APP "::DATABASE\n", name))), "%s", out);
	cr_assert(strstr(out, "State:        ready\n"), "%s", out);
	cr_assert(strstr(out, "Data size:    "), "%s", out);
	out = OK("addons:info", name, "--json");
	cr_assert(strstr(out, "\"app\":\"" APP "\",\"attachments\":[{\"app\":\"" APP "\","
			      "\"name\":\"DATABASE\"}]"), "%s", out);
	cr_assert(strstr(out, "\"state\":\"ready\""), "%s", out);
	out = OK("addons");
	cr_assert(strstr(out, gc(th_path("Owning App  Add-on %*s Kind           State\n"
					 APP "        %s  postgresql 15  ready\n"
					 "%12s └─ as DATABASE\n", (int)strlen(name) - 6, "", name, ""))),
		  "%s", out);

	/* DATABASE_URL is the add-on's; a rollback to before it keeps it */
	app_sandbox_refused_line(sw("config:set", "DATABASE_URL=x", "-a", APP),
		gc(th_path("cannot set DATABASE_URL: the add-on %s manages it (attached as "
			   "DATABASE); to stop using it: slipway addons:detach DATABASE -a " APP,
			   name)));
	OK("rollback", "v1", "-a", APP);
	cr_assert_str_eq(database_url(APP), url);

	/* refusals: nothing changes */
	app_sandbox_refused_line(sw("addons:create", "postgresql", "--name", name, "-a", OTHER),
		gc(th_path("the add-on name '%s' is already taken", name)));
	app_sandbox_refused_line(sw("addons:attach", name, "-a", APP),
		gc(th_path(APP " has %s attached as DATABASE already: choose another name with "
			   "--as, or detach it (slipway addons:detach DATABASE -a " APP ")", name)));
	app_sandbox_refused_line(sw("addons:info", "postgresql-none-1"),
		"add-on 'postgresql-none-1' does not exist (see: slipway addons)");
	app_sandbox_refused_line(sw("addons:detach", "CACHE", "-a", APP),
		APP " has no add-on attached as CACHE (see: slipway addons -a " APP ")");
	app_sandbox_refused(sw("apps:destroy", APP, "--confirm", APP), 1,
			    gc(th_path(" !    " APP " owns the add-on %s: destroy its add-ons first: "
				       "slipway addons:destroy %s --confirm " APP "\n"
				       " !    or destroy them with the app: slipway apps:destroy " APP
				       " --confirm " APP " --addons destroy\n", name, name)));
	struct th_result r = sw("addons:destroy", name);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.out, "");
	cr_assert_str_eq(r.err, gc(th_path(" !    This will permanently destroy %s and its data.\n"
					   " !    To proceed, run: slipway addons:destroy %s "
					   "--confirm " APP "\n", name, name)));
	th_result_free(&r);
	cr_assert_eq(th_count(releases(APP), "  alice@example.com  "), 3, "%s", releases(APP));

	/* made, but its attach fails (the app stays locked): it goes again */
	char *lockpath = gc(th_path("%s/locks/" APP ".lock", sb.root));
	int lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	cr_assert(lock >= 0 && flock(lock, LOCK_EX) == 0);
	r = sw_env("SLIPWAY_LOCK_TIMEOUT=1", (const char *[]){ "addons:create", "postgresql",
		   "--name", "postgresql-gone-1", "--as", "CACHE", "-a", APP, NULL });
	close(lock);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert_str_eq(r.out, "Creating postgresql-gone-1 on " APP "... done\n");
	const char *gone = " !    postgresql-gone-1 is destroyed again, as it cannot be attached: ";
	cr_assert(!strncmp(r.err, gone, strlen(gone)) && th_count(r.err, "") == 1, "%s", r.err);
	th_result_free(&r);
	cr_assert(!exists(gc(th_path("%s/addons/postgresql-gone-1", sb.root))));
	cr_assert(!exists(gc(th_path("%s/services/addon.postgresql-gone-1", sb.root))));
	cr_assert_eq(th_count(releases(APP), "  alice@example.com  "), 3, "%s", releases(APP));

	/* a remote user sees only the add-ons of apps they may use */
	cr_assert_str_eq(gc(app_sandbox_must(as_bob((const char *[]){ "addons", NULL }), "bob")),
			 "No add-ons.\n");
	app_sandbox_refused_line(as_bob((const char *[]){ "addons:info", name, NULL }),
		gc(th_path("add-on '%s' does not exist (see: slipway addons)", name)));

	/* another app attaches it: the same URL; it cannot go while attached there */
	out = OK("addons:attach", name, "-a", OTHER);
	cr_assert_str_eq(out, gc(th_path("Attaching %s to " OTHER "... done\n"
					 "Attached as DATABASE (DATABASE_URL), v3\n", name)));
	cr_assert_str_eq(database_url(OTHER), url);
	OK("access:add", "bob", "-a", OTHER); /* the control: now bob sees it */
	out = gc(app_sandbox_must(as_bob((const char *[]){ "addons", NULL }), "bob"));
	cr_assert(strstr(out, name) && strstr(out, "as DATABASE on " OTHER), "%s", out);
	app_sandbox_refused_line(as_bob((const char *[]){ "addons", "-a", APP, NULL }),
		"You do not have access to the app " APP ".");
	app_sandbox_refused_line(as_bob((const char *[]){ "addons:destroy", name, "--confirm", APP, NULL }),
		gc(th_path("%s is " APP "'s: only its users may destroy it", name)));
	app_sandbox_refused_line(sw("addons:destroy", name, "--confirm", APP),
		gc(th_path("%s is attached to other apps (" OTHER "::DATABASE): detach it there "
			   "first (slipway addons:detach DATABASE -a " OTHER ")", name)));
	out = OK("addons:detach", "DATABASE", "-a", OTHER);
	cr_assert_str_eq(out, gc(th_path("Detached %s from DATABASE (DATABASE_URL) on " OTHER
					 ", v4\n", name)));
	cr_assert_str_eq(database_url(OTHER), "");
	app_sandbox_refused_line(sw("addons:detach", "DATABASE", "-a", OTHER),
		OTHER " has no add-on attached as DATABASE (see: slipway addons -a " OTHER ")");

	/* destroyed: detached from its owner (a release), its service and data gone */
	out = OK("addons:destroy", name, "--confirm", APP, "--no-backup");
	cr_assert_str_eq(out, gc(th_path("Detached %s from DATABASE (DATABASE_URL) on " APP
					 ", v4\nDestroying %s on " APP "... done\n", name, name)));
	cr_assert_str_eq(database_url(APP), "");
	cr_assert(!exists(gc(th_path("%s/addons/%s", sb.root, name))));
	cr_assert(!exists(gc(th_path("%s/services/addon.%s", sb.root, name))));
	cr_assert_str_eq(OK("addons"), "No add-ons.\n");

	/* a Redis, by Heroku's name: attached as REDIS, its URL the kind's, reached over TCP */
	out = OK("addons:create", "heroku-redis", "-a", APP);
	const char *at = strstr(out, "redis-");
	cr_assert(at && !strncmp(out, "Creating redis-", 15), "%s", out);
	char *rname = gc(xstrndup(at, strspn(at, "abcdefghijklmnopqrstuvwxyz0123456789-")));
	cr_assert(strstr(out, "\nAttached as REDIS (REDIS_URL), v"), "%s", out);
	char *rurl = app_sandbox_chomp(OK("config:get", "REDIS_URL", "-a", APP));
	cr_assert(!strncmp(rurl, "redis://", 8), "%s", rurl);
	struct th_result ping = SANDBOX_RUN(&sb, NULL, "redis-cli", "-u", rurl, "ping");
	cr_assert_eq(ping.status, 0, "%s%s", ping.out, ping.err);
	cr_assert_str_eq(ping.out, "PONG\n");
	th_result_free(&ping);

	/* the app with its add-ons: not while one is attached to another app, nothing changed */
	OK("addons:attach", rname, "-a", OTHER);
	app_sandbox_refused_line(sw("apps:destroy", APP, "--confirm", APP, "--addons", "destroy"),
		gc(th_path("%s is attached to other apps (" OTHER "::REDIS): detach it there first "
			   "(slipway addons:detach REDIS -a " OTHER ")", rname)));
	struct th_result bad = sw("apps:destroy", APP, "--confirm", APP, "--addons", "keep");
	cr_assert_eq(bad.status, 2);
	cr_assert(strstr(bad.err, "--addons takes 'destroy', not 'keep'"), "%s", bad.err);
	th_result_free(&bad);
	cr_assert(exists(gc(th_path("%s/addons/%s", sb.root, rname))));
	cr_assert(strstr(OK("apps"), APP));
	OK("addons:detach", "REDIS", "-a", OTHER);
	out = OK("apps:destroy", APP, "--confirm", APP, "--addons", "destroy");
	cr_assert(strstr(out, gc(th_path("Destroying %s on " APP "... done\n", rname))) &&
			  strstr(out, "Destroying " APP "... done\n"),
		  "%s", out);
	cr_assert(!exists(gc(th_path("%s/addons/%s", sb.root, rname))));
	cr_assert_str_eq(OK("addons", "--all"), "No add-ons.\n");
}
