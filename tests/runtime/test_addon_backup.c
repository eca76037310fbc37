/*
 * runtime/addon_backup: backups of a real PostgreSQL add-on under the
 * root's real s6 tree, as the unprivileged test user.
 *
 * A capture is completed and its restore test passed (the table count of
 * the scratch cluster), its record's SHA-256 is the dump's; a table
 * dropped afterwards is back, with its row, after a restore; a dump
 * changed on disk is refused by the restore (checksum), and the database
 * is left as it was; retention (slipway.addonBackups 2) keeps the newest
 * two; a capture of a stopped server fails with one line, a "failed"
 * record and no dump or temporary file; a restore test that fails (a
 * tablespace the scratch cluster has not) says so, in the record too, and
 * keeps no dump; a new add-on's backup is due, one
 * with a fresh backup is not (a day later it is again); a capture
 * interrupted (what the schedule's SIGTERM does) before its dump or while
 * the dump streams into its restore test leaves no record, no file, and no
 * scratch server nor pg_dump running.
 */
#define _GNU_SOURCE
#include "tests/addon_helpers.h"

#include "runtime/addon_backup.h"
#include "store/backups.h"
#include "store/cas.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *sandbox, *root;

static void setup(void)
{
	root = ah_start(&sandbox);
}

static void teardown(void)
{
	ah_stop(root, sandbox);
}

TestSuite(addon_backup, .init = setup, .fini = teardown, .timeout = 240);

static struct backup capture(const struct addon *a)
{
	struct backup b;
	cr_assert_eq(addon_backup_capture(root, a, "myapp", 60, &b), 0, "%s", sw_error_last());
	return b;
}

/* The names in the add-on's backups directory, space-separated (kept). */
static char *backup_files(const struct addon *a)
{
	char *dir = paths_addon_backups(root, a->name);
	struct strvec names = STRVEC_INIT;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			strvec_push(&names, e->d_name);
	if (d)
		closedir(d);
	strvec_sort(&names);
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < names.n; i++)
		buf_addf(&b, "%s%s", i ? " " : "", names.v[i]);
	strvec_clear(&names);
	free(dir);
	char *out = th_keep(xstrdup(b.data ? b.data : ""));
	buf_release(&b);
	return out;
}

Test(addon_backup, capture_verify_drop_restore)
{
	struct addon a = ah_create(root, "postgresql");
	ah_select_one(root, &a, "CREATE TABLE t (x text); INSERT INTO t VALUES ('kept'); "
				"CREATE TABLE u (y int); SELECT 1");
	struct backup b = capture(&a);
	cr_assert_eq(b.number, 1);
	cr_assert_str_eq(b.status, "completed");
	cr_assert_str_eq(b.restore, "passed");
	cr_assert_eq(b.tables, 2);
	cr_assert(backup_verified(&b));

	/* the record, read back, holds the dump's own checksum and size */
	struct backup read;
	cr_assert_eq(backup_read(root, a.name, 1, &read), 0, "%s", sw_error_last());
	char hex[CAS_HEX_LEN + 1];
	uint64_t size = 0;
	char *dump = th_keep(backup_dump_path(root, a.name, 1));
	cr_assert_eq(cas_hash_file(dump, hex, &size), 0);
	cr_assert_str_eq(read.sha256, hex);
	cr_assert_eq(read.size, (int64_t)size);
	cr_assert_str_eq(backup_files(&a), "b001.backup b001.dump");

	/* dropped, then restored: the table and its row are back */
	ah_select_one(root, &a, "DROP TABLE t; SELECT 1");
	struct th_result r = ah_psql(root, &a, NULL, "SELECT x FROM t");
	cr_assert_neq(r.status, 0); /* the control: it is gone */
	th_result_free(&r);
	cr_assert_eq(addon_backup_restore(root, &a, a.name, &read), 0, "%s", sw_error_last());
	cr_assert_str_eq(ah_select_one(root, &a, "SELECT x FROM t"), "kept\n");
}

Test(addon_backup, corrupted_dump_is_refused)
{
	struct addon a = ah_create(root, "postgresql");
	ah_select_one(root, &a, "CREATE TABLE t (x text); INSERT INTO t VALUES ('one'); SELECT 1");
	struct backup b = capture(&a);
	ah_select_one(root, &a, "UPDATE t SET x = 'two'; SELECT 1");
	char *dump = th_keep(backup_dump_path(root, a.name, b.number));
	th_corrupt(dump);
	cr_assert_eq(addon_backup_restore(root, &a, a.name, &b), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), th_keep(th_path("backup b001 of %s is corrupted: its "
							  "checksum is not the one recorded when it "
							  "was taken", a.name)));
	/* nothing changed */
	cr_assert_str_eq(ah_select_one(root, &a, "SELECT x FROM t"), "two\n");
}

Test(addon_backup, retention_keeps_the_newest)
{
	setenv("SLIPWAY_ADDON_BACKUPS", "2", 1);
	struct addon a = ah_create(root, "postgresql");
	for (int i = 0; i < 3; i++)
		capture(&a);
	cr_assert_str_eq(backup_files(&a), "b002.backup b002.dump b003.backup b003.dump");
	struct backup b = capture(&a);
	cr_assert_eq(b.number, 4);
	cr_assert_str_eq(backup_files(&a), "b003.backup b003.dump b004.backup b004.dump");
	unsetenv("SLIPWAY_ADDON_BACKUPS");
}

Test(addon_backup, failed_dump_leaves_a_record_only)
{
	struct addon a = ah_create(root, "postgresql");
	char *service = th_keep(addon_service_name(a.name));
	cr_assert_eq(supervisor_service_down(root, service, 60), 0, "%s", sw_error_last());
	struct backup b;
	cr_assert_eq(addon_backup_capture(root, &a, "myapp", 60, &b), SW_ERROR);
	cr_assert(strstr(sw_error_last(), "the dump failed: pg_dump failed"), "%s", sw_error_last());
	cr_assert_eq(strchr(sw_error_last(), '\n'), NULL);
	cr_assert_str_eq(b.status, "failed");
	cr_assert_str_eq(backup_files(&a), "b001.backup");
	struct backup read;
	cr_assert_eq(backup_read(root, a.name, 1, &read), 0);
	cr_assert_str_eq(read.status, "failed");
	cr_assert(strstr(read.error, "pg_dump failed"), "%s", read.error);
	cr_assert_neq(addon_backup_check(root, a.name, &read), 0);
}

Test(addon_backup, a_new_addon_is_due)
{
	struct addon a = ah_create(root, "postgresql");
	struct strvec due = STRVEC_INIT;
	cr_assert_eq(addon_backup_due(root, (int64_t)time(NULL), &due), 0);
	cr_assert_eq(due.n, 1);
	cr_assert_str_eq(due.v[0], a.name);
	strvec_clear(&due);
	capture(&a);
	cr_assert_eq(addon_backup_due(root, (int64_t)time(NULL), &due), 0);
	cr_assert_eq(due.n, 0);
	/* a day later, it is due again */
	cr_assert_eq(addon_backup_due(root, (int64_t)time(NULL) + ADDON_BACKUP_EVERY + 1, &due), 0);
	cr_assert_eq(due.n, 1);
	strvec_clear(&due);
}

/* How many processes run in a scratch cluster of a (its server's): other tests run at once. */
static char scratch_needle[256];

static int scratch_servers(void)
{
	return th_processes_with(scratch_needle);
}

static void scratch_of(const struct addon *a)
{
	snprintf(scratch_needle, sizeof(scratch_needle), "/backups/%s/.restore-test-", a->name);
}

/* Interrupts the capture once its pg_dump runs, streamed into pg_restore in its scratch cluster. */
static void *interrupt_in_restore_test(void *ctx)
{
	while (!th_processes_with(ctx))
		ah_sleep_ms(5);
	addon_backup_interrupt();
	return NULL;
}

Test(addon_backup, interrupted_capture_leaves_nothing)
{
	struct addon a = ah_create(root, "postgresql");
	scratch_of(&a);
	/* what the schedule's SIGTERM handler calls: the capture's child is ended at once */
	addon_backup_interrupt();
	struct backup b;
	cr_assert_eq(addon_backup_capture(root, &a, "myapp", 60, &b), SW_ERROR);
	cr_assert_str_eq(sw_error_last(), th_keep(th_path("the backup of %s was interrupted",
							  a.name)));
	cr_assert_str_eq(backup_files(&a), "");
	cr_assert_eq(scratch_servers(), 0);
}

Test(addon_backup, interrupted_restore_test_stops_its_cluster)
{
	struct addon a = ah_create(root, "postgresql");
	scratch_of(&a);
	/* enough rows that the restore test runs a while after its server starts */
	ah_select_one(root, &a, "CREATE TABLE t AS SELECT g, md5(g::text) AS h FROM "
				"generate_series(1, 600000) g; SELECT 1");
	char *restoring = th_keep(th_path("pg_dump -Fc -h %s/addons/%s/run", root, a.name));
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, interrupt_in_restore_test, restoring), 0);
	struct backup b;
	int err = addon_backup_capture(root, &a, "myapp", 60, &b);
	pthread_join(th, NULL);
	cr_assert_eq(err, SW_ERROR, "%s", sw_error_last());
	cr_assert_str_eq(sw_error_last(), th_keep(th_path("the backup of %s was interrupted",
							  a.name)));
	/* no record, no dump, no scratch cluster: its server was stopped */
	cr_assert_str_eq(backup_files(&a), "");
	cr_assert_eq(scratch_servers(), 0);
	cr_assert_eq(th_processes_with(restoring), 0);
}

/* psql as the add-on's superuser in its app's database (it must succeed). */
static void as_superuser(const struct addon *a, const char *sql)
{
	struct addon_credentials c = ah_credentials(root, a);
	char *sock = th_keep(paths_addon_file(root, a->name, "run")), port[16];
	char *pw = th_keep(th_path("PGPASSWORD=%s", c.superpassword));
	snprintf(port, sizeof(port), "%d", a->port);
	const char *env[] = { pw, NULL };
	struct th_result r = th_runv(NULL, env, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h",
				     sock, "-p", port, "-U", c.superuser, "-d", c.database, "-c", sql,
				     NULL);
	cr_assert_eq(r.status, 0, "psql: %s", r.err);
	th_result_free(&r);
}

Test(addon_backup, failed_restore_test_keeps_no_dump)
{
	struct addon a = ah_create(root, "postgresql");
	scratch_of(&a);
	/* a table in a tablespace the scratch cluster has not: pg_restore refuses it there */
	char *ts = th_keep(th_path("%s/tablespace", sandbox));
	cr_assert_eq(mkdir(ts, 0700), 0);
	as_superuser(&a, th_keep(th_path("CREATE TABLESPACE elsewhere LOCATION '%s'", ts)));
	as_superuser(&a, "CREATE TABLE t (x int) TABLESPACE elsewhere");
	struct backup b;
	cr_assert_eq(addon_backup_capture(root, &a, "myapp", 60, &b), SW_ERROR);
	cr_assert(!strncmp(sw_error_last(), "the restore test failed: pg_restore failed (exit 1): ",
			   53), "%s", sw_error_last());
	cr_assert(strstr(sw_error_last(), "elsewhere"), "%s", sw_error_last());
	cr_assert_str_eq(b.status, "failed");
	cr_assert_str_eq(b.restore, "failed");
	cr_assert_str_eq(backup_files(&a), "b001.backup");
	cr_assert_eq(scratch_servers(), 0);
}
