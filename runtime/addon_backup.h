/*
 * addon_backup.h - backups of PostgreSQL add-ons, each one restore-tested,
 * and the schedule that takes one a day.
 *
 * Part of runtime/: uses util/, store/ and runtime/addon*.h; prints nothing.
 *
 * A capture dumps the app's database of the add-on (pg_dump -Fc, as the
 * add-on's superuser over its unix socket) into a temporary file of
 * <root>/backups/NAME/ (store/backups.h), hashing it (SHA-256) as it comes,
 * and streams the same bytes into its restore test: pg_restore into a
 * scratch cluster of the same PostgreSQL (a copy of a template cluster
 * initdb made once, <root>/backups/.template-MAJOR, started meanwhile on a
 * private unix socket only, no TCP, fsync off).  The tables restored must
 * be as many as the dump lists (pg_restore -l); the scratch cluster is
 * stopped and removed.  Only then is the dump, fsynced, renamed into place
 * and its record written "completed", restore "passed".  A failed dump or
 * restore test leaves no dump, only a record "failed" with the one-line
 * reason.  Then the oldest completed backups beyond slipway.addonBackups
 * are removed.  One capture of an add-on at a time: its backups directory is locked.
 *
 * The schedule is the runtime's service "pg-backups" (runtime/supervisor.h),
 * running `slipway pg:backups:schedule` as the server user: every minute,
 * and when woken (SIGALRM: a PostgreSQL add-on was just created), it
 * captures a backup of each ready PostgreSQL add-on whose newest completed
 * backup is a day old or that has none (a failed attempt waits an hour).
 *
 *     struct backup b;
 *     if (addon_backup_capture(root, &a, "shop", 600, &b) < 0) ...;  // b.number: the new one
 *     addon_backup_restore(root, &a, a.name, &b);
 */
#ifndef SW_ADDON_BACKUP_H
#define SW_ADDON_BACKUP_H

#include <stdint.h>

#include "store/addons.h"
#include "store/backups.h"

/* The schedule's service. */
#define ADDON_BACKUP_SERVICE "pg-backups"

/* A completed backup older than this is due; a failed attempt is retried after the second. */
#define ADDON_BACKUP_EVERY (24 * 3600)
#define ADDON_BACKUP_RETRY 3600

/*
 * SW_EINVALID with a message unless a is a PostgreSQL add-on (Redis add-ons
 * have no backups).
 */
int addon_backup_supported(const struct addon *a);

/*
 * Captures a backup of a taken for app (recorded in it), waiting up to
 * wait_sec for a capture of a that runs (SW_ELOCKED after).  *out: its
 * record, completed or failed.  0 when it completed and its restore test
 * passed; SW_ERROR with the reason when the dump or the test failed (the
 * record says so too).
 */
int addon_backup_capture(const char *root, const struct addon *a, const char *app, int wait_sec,
			 struct backup *out);

/*
 * Ends the capture that runs in this process soon (its child is killed,
 * its scratch cluster stopped and removed, no record written): for a
 * SIGTERM handler (async-signal-safe).  Every later capture fails too.
 */
void addon_backup_interrupt(void);

/*
 * 0 when the dump of b (of add-on addon) still has the SHA-256 its record
 * holds; SW_EINVALID when it was changed, SW_ENOTFOUND when it is gone or
 * b is no completed backup.
 */
int addon_backup_check(const char *root, const char *addon, const struct backup *b);

/*
 * Restores backup b (of any add-on) into the app's database of add-on a:
 * its checksum first (addon_backup_check), then pg_restore --clean
 * --if-exists in one transaction, so a failed restore changes nothing;
 * what it makes is owned by the app's role (--no-owner --role), and the
 * grants of another add-on's backup are left out (--no-acl).
 */
int addon_backup_restore(const char *root, const struct addon *a, const char *addon,
			 const struct backup *b);

/*
 * The names of the ready PostgreSQL add-ons whose backup is due at now
 * (see above), into out.
 */
int addon_backup_due(const char *root, int64_t now, struct strvec *out);

/*
 * Gives the runtime the schedule's service when there is a PostgreSQL
 * add-on and it has none, and otherwise wakes it (it looks for due
 * backups now).  Nothing when the runtime is not running.
 */
int addon_backup_schedule_ensure(const char *root);

#endif
