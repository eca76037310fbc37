/*
 * The pg:backups commands end to end, with a real PostgreSQL add-on under
 * the root's real s6 tree, the product run as an unprivileged user (when
 * the tests run as root each test becomes SLIPWAY_TEST_USER first).
 *
 * pg:backups:capture says its lines and the backup is listed with its
 * restore test passed; the SHA-256 of what pg:backups:download writes is
 * the checksum pg:backups:info shows; a dropped table is back, with its
 * row, after pg:backups:restore --confirm; refusals (restore without
 * --confirm, an unknown backup id, an app without PostgreSQL) say one line,
 * exit 1 and change nothing.  The runtime's schedule takes a first backup
 * of a new add-on by itself; addons:destroy leaves a final backup that
 * pg:backups still lists, download still gives and restore (NAME::ID)
 * puts into the app's next PostgreSQL; with --no-backup it takes none.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include "util/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

TestSuite(pg_backups, .init = setup, .fini = teardown, .timeout = 240);

/* A first deploy of APP: a worker the formation does not run. */
static void deploy(void)
{
	app_sandbox_checkout(&sb, NULL, "main", NULL);
	app_sandbox_write(&sb, "Procfile", "worker: sleep 600\n", 0644);
	free(app_sandbox_must(SANDBOX_RUN(&sb, NULL, "git", "add", "-A"), "git add"));
	free(app_sandbox_must(SANDBOX_RUN(&sb, NULL, "git", "commit", "-q", "-m", "one"),
			      "git commit"));
	free(app_sandbox_push(&sb, "main"));
}

/* The add-on addons:create made for APP (its name, kept). */
static char *create(void)
{
	char *out = OK("addons:create", "heroku-postgresql", "-a", APP);
	const char *p = strstr(out, "postgresql-");
	cr_assert(p, "%s", out);
	return gc(xstrndup(p, strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-")));
}

/* psql as APP's DATABASE_URL says, over the add-on's socket; what sql prints (kept). */
static struct th_result psql_r(const char *name, const char *sql)
{
	char *url = app_sandbox_chomp(OK("config:get", "DATABASE_URL", "-a", APP));
	char *host = strstr(url, "?host=");
	cr_assert(host, "%s", url);
	char *hosturl = gc(th_path("%.*s?host=%s/addons/%s/run", (int)(host - url), url, sb.root,
				   name));
	const char *env[] = { "PGCONNECT_TIMEOUT=30", NULL };
	return th_runv(NULL, env, "psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", hosturl,
		       "-c", sql, NULL);
}

static char *psql(const char *name, const char *sql)
{
	struct th_result r = psql_r(name, sql);
	cr_assert_eq(r.status, 0, "psql: %s", r.err);
	char *out = gc(xstrdup(r.out));
	th_result_free(&r);
	return out;
}

/* The "Checksum:" of pg:backups:info ID ARG... (kept). */
static char *checksum(const char *id, const char *db)
{
	char *info = db ? OK("pg:backups:info", id, db, "-a", APP) : OK("pg:backups:info", id, "-a", APP);
	const char *p = strstr(info, "Checksum:      ");
	cr_assert(p, "%s", info);
	return gc(xstrndup(p + 15, 64));
}

/* sha256sum of what pg:backups:download ARGS writes (kept). */
static char *download_sha(const char *args)
{
	char *cmd = gc(th_path("'%s' pg:backups:download %s -a " APP " | sha256sum", SLIPWAY_BIN,
			       args));
	char *out = gc(app_sandbox_must(SANDBOX_RUN(&sb, sb.dir, "sh", "-c", cmd), cmd));
	return gc(xstrndup(out, 64));
}

/* 1 if the listing has a line of backup id of the add-on name. */
static int has_row(const char *list, const char *id, const char *name)
{
	for (const char *line = list; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		size_t len = strcspn(line, "\n");
		char *l = xstrndup(line, len);
		int found = !strncmp(l, id, strlen(id)) && strstr(l, name);
		free(l);
		if (found)
			return 1;
	}
	return 0;
}

/* Polls pg:backups -a APP until it lists backup id of name (the schedule works on its own). */
static void backups_with(const char *id, const char *name)
{
	char *out = NULL;
	for (int i = 0; i < 1200; i++) {
		out = OK("pg:backups", "-a", APP);
		if (has_row(out, id, name))
			return;
		usleep(100 * 1000);
	}
	cr_assert_fail("no %s of %s in pg:backups:\n%s", id, name, out);
}

Test(pg_backups, capture_download_restore_refusals)
{
	OK("apps:create", APP);
	OK("apps:create", OTHER);
	deploy();
	char *name = create();
	psql(name, "CREATE TABLE t (x text); INSERT INTO t VALUES ('precious')");

	char *out = OK("pg:backups:capture", "-a", APP);
	char *id = strstr(out, "b001") ? "b001" : "b002"; /* the schedule may have taken b001 */
	cr_assert_str_eq(out, gc(th_path("Starting backup of %s... done\n"
					 "Backing up %s to %s... done\n"
					 "Restore test of %s in a scratch cluster... passed (1 table)\n",
					 name, name, id, id)));
	char *list = OK("pg:backups", "-a", APP);
	cr_assert(strstr(list, "=== Backups\n"), "%s", list);
	cr_assert(strstr(list, id) && strstr(list, "passed"), "%s", list);
	cr_assert(strstr(OK("pg:backups", "-a", APP, "--json"), "\"restore_test\":\"passed\""));

	/* the checksum recorded is that of the bytes download gives */
	cr_assert_str_eq(download_sha(id), checksum(id, NULL));

	psql(name, "DROP TABLE t");
	/* refusals: one line, exit 1, the database as it was (no t) */
	app_sandbox_refused_line(sw("pg:backups:restore", id, "-a", APP),
		gc(th_path("This overwrites the data of %s on " APP " with backup %s: to proceed, "
			   "run: slipway pg:backups:restore %s %s -a " APP " --confirm " APP, name,
			   id, id, name)));
	app_sandbox_refused_line(sw("pg:backups:restore", id, "-a", APP, "--confirm", OTHER),
		gc(th_path("This overwrites the data of %s on " APP " with backup %s: to proceed, "
			   "run: slipway pg:backups:restore %s %s -a " APP " --confirm " APP, name,
			   id, id, name)));
	app_sandbox_refused_line(sw("pg:backups:restore", "b099", "-a", APP, "--confirm", APP),
		gc(th_path("backup b099 of %s does not exist (see: slipway pg:backups)", name)));
	app_sandbox_refused_line(sw("pg:backups:info", "x1", "-a", APP),
		"'x1' is no backup id: backups are named b001, b002, ... (see: slipway pg:backups)");
	struct th_result r = psql_r(name, "SELECT x FROM t");
	cr_assert_neq(r.status, 0, "%s", r.out);
	th_result_free(&r);
	/* an app without PostgreSQL */
	app_sandbox_refused_line(sw("pg:backups:capture", "-a", OTHER),
		OTHER " has no postgresql add-on (addons:create postgresql -a " OTHER ")");
	app_sandbox_refused_line(sw("pg:backups", "-a", OTHER),
		OTHER " has no postgresql add-on (addons:create postgresql -a " OTHER ")");

	cr_assert_str_eq(OK("pg:backups:restore", id, "-a", APP, "--confirm", APP),
			 gc(th_path("Restoring %s to %s... done\n", id, name)));
	cr_assert_str_eq(psql(name, "SELECT x FROM t"), "precious\n");
}

Test(pg_backups, schedule_and_final_backup)
{
	OK("apps:create", APP);
	deploy();
	char *name = create();
	/* the runtime's schedule backs a new add-on up by itself */
	backups_with("b001", name);
	psql(name, "CREATE TABLE kept (x text); INSERT INTO kept VALUES ('final')");
	char *out = OK("addons:destroy", name, "--confirm", APP);
	cr_assert(strstr(out, gc(th_path("Capturing a final backup of %s... done, b002 (see: "
					 "slipway pg:backups -a " APP ")\n", name))), "%s", out);
	/* its final backup outlives it: listed, and downloaded whole */
	char *list = OK("pg:backups", "-a", APP);
	cr_assert(has_row(list, "b002", name), "%s", list);
	cr_assert_str_eq(download_sha(gc(th_path("b002 %s", name))), checksum("b002", name));

	/* restored into the app's next PostgreSQL, by its add-on's name */
	char *second = create();
	cr_assert_str_eq(OK("pg:backups:restore", gc(th_path("%s::b002", name)), "-a", APP,
			    "--confirm", APP),
			 gc(th_path("Restoring b002 to %s... done\n", second)));
	cr_assert_str_eq(psql(second, "SELECT x FROM kept"), "final\n");

	/* --no-backup: the new add-on keeps only what the schedule took */
	backups_with("b001", second);
	out = OK("addons:destroy", second, "--confirm", APP, "--no-backup");
	cr_assert(!strstr(out, "final backup"), "%s", out);
	list = OK("pg:backups", "-a", APP);
	cr_assert(has_row(list, "b001", second) && !has_row(list, "b002", second), "%s", list);
}
