/*
 * store/backups: ids ("b001", parsed back, refused when not one), a
 * record written and read back (a completed one, a failed one with no app
 * and an error of several lines), the list oldest first, the next number,
 * removal (record and dump), retention (failed ones older than those kept
 * go too), the add-ons with backups.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include "store/backups.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ADDON "postgresql-amber-12"

static char *root;

static void setup(void)
{
	root = th_sandbox();
}

static void teardown(void)
{
	th_sandbox_free(root);
}

TestSuite(backups, .init = setup, .fini = teardown);

static void put(int number, const char *status)
{
	struct backup b = BACKUP_INIT;
	b.number = number;
	snprintf(b.app, sizeof(b.app), "shop");
	snprintf(b.status, sizeof(b.status), "%s", status);
	snprintf(b.restore, sizeof(b.restore), "%s", strcmp(status, "completed") ? "none" : "passed");
	b.created = 1000 + number;
	cr_assert_eq(backup_write(root, ADDON, &b), 0, "%s", sw_error_last());
	if (!strcmp(status, "completed")) {
		char *dump = backup_dump_path(root, ADDON, number);
		th_write(dump, "PGDMP", 0644);
		free(dump);
	}
}

/* The numbers listed, "1 2 3" (kept). */
static char *numbers(void)
{
	struct backup *v = NULL;
	size_t n = 0;
	struct buf out = BUF_INIT;
	cr_assert_eq(backups_list(root, ADDON, &v, &n), 0, "%s", sw_error_last());
	for (size_t i = 0; i < n; i++)
		buf_addf(&out, "%s%d", i ? " " : "", v[i].number);
	free(v);
	char *s = th_keep(xstrdup(out.data ? out.data : ""));
	buf_release(&out);
	return s;
}

Test(backups, ids)
{
	char id[16];
	int n = 0;
	backup_id(1, id);
	cr_assert_str_eq(id, "b001");
	backup_id(1234, id);
	cr_assert_str_eq(id, "b1234");
	cr_assert_eq(backup_id_parse("b001", &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(backup_id_parse("B12", &n), 0);
	cr_assert_eq(n, 12);
	cr_assert_eq(backup_id_parse("b0", &n), SW_EINVALID);
	cr_assert_eq(backup_id_parse("x1", &n), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "'x1' is no backup id: backups are named b001, b002, ... "
					  "(see: slipway pg:backups)");
	cr_assert_eq(backup_id_parse("b1x", &n), SW_EINVALID);
	cr_assert_eq(backup_id_parse("b", &n), SW_EINVALID);
}

Test(backups, written_and_read_back)
{
	struct backup b = BACKUP_INIT, r;
	b.number = 7;
	snprintf(b.app, sizeof(b.app), "shop");
	b.created = 1764601234;
	b.finished = 1764601236;
	snprintf(b.status, sizeof(b.status), "completed");
	b.size = 123456;
	memset(b.sha256, 'a', 64);
	snprintf(b.restore, sizeof(b.restore), "passed");
	b.tables = 3;
	cr_assert_eq(backup_write(root, ADDON, &b), 0, "%s", sw_error_last());
	cr_assert_eq(backup_read(root, ADDON, 7, &r), 0, "%s", sw_error_last());
	cr_assert_eq(memcmp(&b, &r, sizeof(b)), 0);
	cr_assert(backup_verified(&r));

	/* failed, of no app, its error of two lines kept as one */
	struct backup f = BACKUP_INIT;
	f.number = 8;
	snprintf(f.status, sizeof(f.status), "failed");
	snprintf(f.restore, sizeof(f.restore), "failed");
	snprintf(f.error, sizeof(f.error), "pg_restore failed:\nno space");
	cr_assert_eq(backup_write(root, ADDON, &f), 0, "%s", sw_error_last());
	cr_assert_eq(backup_read(root, ADDON, 8, &r), 0, "%s", sw_error_last());
	cr_assert_str_eq(r.app, "");
	cr_assert_str_eq(r.error, "pg_restore failed: no space");
	cr_assert(!backup_verified(&r));

	cr_assert_eq(backup_read(root, ADDON, 9, &r), SW_ENOTFOUND);
	cr_assert_str_eq(sw_error_last(), "backup b009 of " ADDON " does not exist (see: slipway "
					  "pg:backups)");
	cr_assert_eq(backup_write(root, "Bad Name", &b), SW_EINVALID);
}

Test(backups, listed_numbered_removed)
{
	int next = 0;
	cr_assert_str_eq(numbers(), "");
	cr_assert_eq(backup_next_number(root, ADDON, &next), 0);
	cr_assert_eq(next, 1);
	put(2, "completed");
	put(10, "failed");
	put(9, "completed");
	cr_assert_str_eq(numbers(), "2 9 10");
	cr_assert_eq(backup_next_number(root, ADDON, &next), 0);
	cr_assert_eq(next, 11);
	cr_assert_eq(backup_remove(root, ADDON, 9), 0);
	cr_assert_str_eq(numbers(), "2 10");
	char *dump = th_keep(backup_dump_path(root, ADDON, 9));
	cr_assert(access(dump, F_OK) < 0);
	cr_assert_eq(backup_remove(root, ADDON, 9), 0); /* a missing one is fine */

	struct strvec names = STRVEC_INIT;
	cr_assert_eq(backups_addons(root, &names), 0);
	cr_assert_eq(names.n, 1);
	cr_assert_str_eq(names.v[0], ADDON);
	strvec_clear(&names);
}

Test(backups, pruned_to_the_newest_completed)
{
	int removed = 0;
	put(1, "completed");
	put(2, "failed");
	put(3, "completed");
	put(4, "failed");
	put(5, "completed");
	put(6, "completed");
	put(7, "failed");
	cr_assert_eq(backups_prune(root, ADDON, 2, &removed), 0);
	/* the newest two completed stay, and the failed ones newer than the older of them */
	cr_assert_str_eq(numbers(), "5 6 7");
	cr_assert_eq(removed, 4);
	cr_assert_eq(backups_prune(root, ADDON, 5, &removed), 0);
	cr_assert_eq(removed, 0);
	cr_assert_str_eq(numbers(), "5 6 7");
}
