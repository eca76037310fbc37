/*
 * fsck and gc of a root with add-ons, with real PostgreSQL and Redis
 * servers under the root's s6 tree, the product run as an unprivileged
 * user (as root, each test becomes SLIPWAY_TEST_USER first).
 *
 * fsck: a root whose add-ons are whole is consistent, and stays so when
 * an old release names an add-on destroyed since (history, not a
 * problem: a rollback keeps the add-ons of now); credentials readable by
 * others, two add-ons on one port, a port outside slipway.addonPortRange,
 * data of another major version, a service removed (server:start adds it
 * again), and an attachment of the latest release whose add-on is gone
 * are each one "problem:" line, exit 1; fsck -a APP tells only APP's.
 * gc: the files of an add-on's directory, its service and the backups'
 * directories are never touched, whatever they are called (the control: a
 * leftover of the same name in the store's temp directory goes), and the
 * add-on still answers.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include "util/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define APP "shop"
#define OTHER "blog"

static struct app_sandbox sb;

#define gc th_keep
#define sw(...) SANDBOX_RUN(&sb, sb.dir, SLIPWAY_BIN, __VA_ARGS__)
#define OK(...) gc(app_sandbox_must(sw(__VA_ARGS__), #__VA_ARGS__))

static void setup(void)
{
	app_sandbox_init_addons(&sb, APP);
	OK("server:start");
	OK("apps:create", APP);
	OK("apps:create", OTHER);
}

static void teardown(void)
{
	struct th_result r = sw("server:stop");
	th_result_free(&r);
	th_keep_free();
	app_sandbox_release(&sb);
}

TestSuite(addons_fsck, .init = setup, .fini = teardown, .timeout = 240);

/* The one add-on name of kind in s, kept. */
static char *addon_name(const char *s, const char *kind)
{
	const char *p = strstr(s, kind);
	cr_assert(p, "no add-on name in:\n%s", s);
	size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-");
	return gc(xstrndup(p, n));
}

/* <root>/addons/NAME/FILE, kept. */
static char *addon_file(const char *name, const char *file)
{
	return gc(th_path("%s/addons/%s/%s", sb.root, name, file));
}

/* The record's port line of name set to port. */
static void set_port(const char *name, int port)
{
	char *path = addon_file(name, "addon"), *text = gc(th_read(path, NULL));
	struct buf b = BUF_INIT;
	cr_assert(text);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (strncmp(line, "port ", 5))
			buf_addf(&b, "%s\n", line);
		else
			buf_addf(&b, "port %d\n", port);
	th_write(path, b.data, 0600);
	buf_release(&b);
}

/* The port of name's record. */
static int port_of(const char *name)
{
	char *text = gc(th_read(addon_file(name, "addon"), NULL)), *p = strstr(text, "\nport ");
	cr_assert(p, "%s", text);
	return atoi(p + 6);
}

/* fsck (args...) must find problems: exit 1, its lines on stdout (kept), the count on stderr. */
static char *problems(const char *const *args, int count)
{
	const char *argv[8] = { SLIPWAY_BIN, "fsck" };
	size_t k = 2;
	for (size_t i = 0; args[i] && k < 7; i++)
		argv[k++] = args[i];
	argv[k] = NULL;
	struct th_result r = th_run(sb.dir, sb.env, NULL, argv);
	cr_assert_eq(r.status, 1, "exit %d\n%s%s", r.status, r.out, r.err);
	char *want = th_path(" !    fsck found %d problem%s\n", count, count == 1 ? "" : "s");
	cr_assert_str_eq(r.err, want);
	cr_assert_eq(th_count(r.out, "problem: "), count, "%s", r.out);
	free(want);
	char *out = gc(xstrdup(r.out));
	th_result_free(&r);
	return out;
}

Test(addons_fsck, fsck_checks_add_ons_and_their_attachments)
{
	char *pg = addon_name(OK("addons:create", "postgresql", "-a", APP), "postgresql-");
	char *redis = addon_name(OK("addons:create", "redis", "-a", OTHER), "redis-");
	cr_assert_str_eq(OK("fsck"), "fsck: everything is consistent\n");

	/* history: v3 names an add-on destroyed since (v4 detached it) */
	char *gone = addon_name(OK("addons:create", "redis", "--as", "CACHE", "-a", APP), "redis-");
	OK("addons:destroy", gone, "--confirm", APP);
	cr_assert(strstr(OK("releases:info", "v3", "-a", APP), gone));
	cr_assert_str_eq(OK("fsck"), "fsck: everything is consistent\n");
	cr_assert_str_eq(OK("fsck", "-a", APP), "fsck: " APP " is consistent\n");

	/* credentials others may read */
	char *creds = addon_file(pg, "credentials");
	cr_assert_eq(chmod(creds, 0644), 0);
	char *out = problems((const char *[]){ NULL }, 1);
	cr_assert_str_eq(out, gc(th_path("problem: add-on %s: its credentials %s are mode 0644, not "
					 "0600 (chmod 600 them)\n", pg, creds)));
	cr_assert_str_eq(problems((const char *[]){ "-a", APP, NULL }, 1), out);
	cr_assert_str_eq(OK("fsck", "-a", OTHER), "fsck: " OTHER " is consistent\n");
	cr_assert_eq(chmod(creds, 0600), 0);

	/* two add-ons on one port; a port outside the range */
	int port = port_of(redis);
	set_port(redis, port_of(pg));
	out = problems((const char *[]){ NULL }, 1);
	cr_assert_str_eq(out, gc(th_path("problem: add-on %s: its port %d is also add-on %s's\n",
					 redis, port_of(pg), pg)));
	set_port(redis, 1);
	out = problems((const char *[]){ "-a", OTHER, NULL }, 1);
	cr_assert(strstr(out, gc(th_path("problem: add-on %s: its port 1 is outside "
					 "slipway.addonPortRange ", redis))), "%s", out);
	set_port(redis, port);
	cr_assert_str_eq(OK("fsck"), "fsck: everything is consistent\n");

	/* data of another major version: the refusal its service gives */
	char *version = addon_file(pg, "data/PG_VERSION");
	th_write(version, "14\n", 0600);
	out = problems((const char *[]){ NULL }, 1);
	cr_assert(strstr(out, gc(th_path("problem: add-on %s: add-on '%s' refuses to start: its "
					 "data is of PostgreSQL 14", pg, pg))), "%s", out);
	th_write(version, "15\n", 0600);

	/* a service removed by hand: server:start adds it again */
	OK("server:stop");
	char *service = gc(th_path("%s/services/addon.%s", sb.root, pg));
	free(app_sandbox_must(th_runv(NULL, NULL, "rm", "-rf", service, NULL), "rm"));
	out = problems((const char *[]){ NULL }, 1);
	cr_assert_str_eq(out, gc(th_path("problem: add-on %s: it has no service addon.%s "
					 "(server:start adds it)\n", pg, pg)));
	OK("server:start");
	cr_assert_str_eq(OK("fsck"), "fsck: everything is consistent\n");

	/* an attachment of the latest release whose add-on is gone (its files removed by hand) */
	OK("server:stop");
	free(app_sandbox_must(th_runv(NULL, NULL, "rm", "-rf",
				      gc(th_path("%s/addons/%s", sb.root, redis)), NULL), "rm"));
	out = problems((const char *[]){ NULL }, 1);
	cr_assert_str_eq(out, gc(th_path("problem: " OTHER ": v1 attaches add-on %s as REDIS, which "
					 "does not exist (detach it: slipway addons:detach REDIS "
					 "-a " OTHER ")\n", redis)));
	cr_assert_str_eq(OK("fsck", "-a", APP), "fsck: " APP " is consistent\n");
}

/* "content mtime" of path (kept), "" when it is missing. */
static char *stamp(const char *path)
{
	struct stat st;
	char *text = th_read(path, NULL);
	if (!text || stat(path, &st) < 0) {
		free(text);
		return "";
	}
	char *s = gc(th_path("%s %lld", text, (long long)st.st_mtime));
	free(text);
	return s;
}

Test(addons_fsck, gc_never_touches_add_ons_or_backups)
{
	char *pg = addon_name(OK("addons:create", "postgresql", "-a", APP), "postgresql-");
	/*
	 * files gc would take for leftovers anywhere it sweeps (temp-like
	 * names, old times), in the add-on's directory and the backups' (the
	 * backups' own files come and go as their schedule runs: only these
	 * are compared), and the add-on's own files
	 */
	const char *dirs[] = { gc(th_path("%s/addons/%s", sb.root, pg)),
			       gc(th_path("%s/backups/%s", sb.root, pg)),
			       gc(th_path("%s/backups", sb.root)) };
	const char *names[] = { "kept.dump", "kept.dump.tmp-99999", ".tmp-1", "slug-left" };
	struct strvec files = STRVEC_INIT;
	for (size_t d = 0; d < 3; d++) {
		free(app_sandbox_must(th_runv(NULL, NULL, "mkdir", "-p", dirs[d], NULL), "mkdir"));
		for (size_t i = 0; i < 4; i++) {
			char *f = th_path("%s/%s", dirs[d], names[i]);
			th_write(f, "PGDMP", 0600);
			free(app_sandbox_must(th_runv(NULL, NULL, "touch", "-d", "2020-01-01", f,
						      NULL), "touch"));
			strvec_push(&files, f);
			free(f);
		}
	}
	const char *own[] = { "addon", "credentials", "data/PG_VERSION", "data/postgresql.conf",
			      "data/slipway.conf" };
	for (size_t i = 0; i < 5; i++)
		strvec_push(&files, addon_file(pg, own[i]));
	strvec_pushf(&files, "%s/services/addon.%s/run", sb.root, pg);
	char **before = xcalloc(files.n, sizeof(*before));
	for (size_t i = 0; i < files.n; i++) {
		before[i] = stamp(files.v[i]);
		cr_assert(before[i][0], "%s", files.v[i]);
	}

	/* the control: where gc sweeps, such a leftover goes */
	char *store_tmp = gc(th_path("%s/store/tmp", sb.root));
	char *leftover = gc(th_path("%s/slug-left", store_tmp));
	free(app_sandbox_must(th_runv(NULL, NULL, "mkdir", "-p", store_tmp, NULL), "mkdir"));
	th_write(leftover, "PGDMP", 0600);
	free(app_sandbox_must(th_runv(NULL, NULL, "touch", "-d", "2020-01-01", leftover, NULL),
			      "touch"));

	OK("gc");
	OK("gc", "--keep", "1");

	cr_assert(access(leftover, F_OK) < 0, "gc left %s", leftover);

	for (size_t i = 0; i < files.n; i++)
		cr_assert_str_eq(stamp(files.v[i]), before[i], "%s", files.v[i]);
	free(before);
	strvec_clear(&files);
	/* and it still answers */
	struct th_result r = sw("pg:psql", "-a", APP, "-c", "SELECT 40 + 2");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "42"), "%s", r.out);
	th_result_free(&r);
}
