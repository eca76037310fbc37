/*
 * backups.h - `pg:backups` and `pg:backups:info`: an add-on's backups as a
 * table, one in full, and as JSON.
 *
 * Part of view/: may use every folder below hooks/; prints nothing.  Every
 * function appends to out.
 */
#ifndef SW_VIEW_BACKUPS_H
#define SW_VIEW_BACKUPS_H

#include <stddef.h>
#include <stdint.h>

#include "store/backups.h"
#include "util/util.h"

/* One backup as shown: its record and the add-on it is of. */
struct backup_shown {
	struct backup b;
	const char *addon;
};

/*
 * "=== Backups" and the table: ID, Created at, Status, Size, Database,
 * Checksum (its first 12 hex digits) and Restore test, newest first.
 */
void view_backups_table(struct buf *out, const struct backup_shown *v, size_t n);

/* Everything about one backup, "=== Backup b001" first. */
void view_backup_info(struct buf *out, const struct backup_shown *s);

/*
 * The JSON array of v[0..n), newest first, one a line: id, addon, app,
 * created_at, finished_at, status, size, sha256, restore_test ("passed",
 * "failed", "none"), tables, error (null when none).
 */
void view_backups_json(struct buf *out, const struct backup_shown *v, size_t n);

#endif
