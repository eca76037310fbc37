/*
 * backups.h - the records of an add-on's backups: which dumps there are,
 * how big, their checksum and whether their restore test passed.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * The backups of add-on NAME live in <root>/backups/NAME/ (store/paths.h),
 * apart from the add-on's own directory, so they outlive it: the final
 * backup addons:destroy takes stays.  Each backup is numbered per add-on,
 * Heroku's way ("b001", "b002", ... never reused while a newer one is
 * kept), and is two files:
 *
 *     b001.backup    its record, "key value" lines:
 *                        app shop             (the app it was taken for)
 *                        created 1764601234
 *                        finished 1764601236
 *                        status completed     (or failed)
 *                        size 123456          (bytes of the dump)
 *                        sha256 64 hex        (of the dump's bytes)
 *                        restore passed       (its restore test: passed, failed or none)
 *                        tables 3             (tables the test found restored)
 *                        error why            (a failed one's one line)
 *     b001.dump      the pg_dump -Fc archive (a completed backup only)
 *
 * The dump is complete, fsynced and renamed into place before its record
 * is written (temp + fsync + rename); a backup exists exactly when its
 * record does, and removing one removes the record first.
 *
 *     struct backup b = BACKUP_INIT;
 *     backup_next_number(root, "postgresql-amber-12", &b.number);
 *     ...
 *     backup_write(root, "postgresql-amber-12", &b);
 */
#ifndef SW_BACKUPS_H
#define SW_BACKUPS_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* The highest backup number: "b999999". */
#define BACKUP_NUMBER_MAX 999999

struct backup {
	int number;           /* 1: "b001" */
	char app[64];
	int64_t created;      /* seconds since the epoch: when the dump started */
	int64_t finished;     /* when it and its restore test ended */
	char status[16];      /* "completed" or "failed" */
	int64_t size;         /* bytes of the dump; 0 for a failed one */
	char sha256[65];      /* hex; "" for a failed one */
	char restore[16];     /* the restore test: "passed", "failed" or "none" */
	int tables;           /* tables the restore test found */
	char error[512];      /* a failed one's reason, one line */
};
#define BACKUP_INIT { .number = 0 }

/* "b001" for 1 (at least three digits), into out. */
void backup_id(int number, char out[16]);

/* The number of id "b001" (or "b1"); SW_EINVALID with a message when it is no backup id. */
int backup_id_parse(const char *id, int *number);

/* 1 for a completed backup whose restore test passed. */
int backup_verified(const struct backup *b);

/* Writes the record of b (the add-on's backups directory is created). */
int backup_write(const char *root, const char *addon, const struct backup *b);

/* Reads the record of backup number: SW_ENOTFOUND with a message when there is none. */
int backup_read(const char *root, const char *addon, int number, struct backup *b);

/* The add-on's backups, oldest first, into *v (malloc'ed, *n of them; free(*v)). */
int backups_list(const char *root, const char *addon, struct backup **v, size_t *n);

/* The number the add-on's next backup gets: one more than its newest one's. */
int backup_next_number(const char *root, const char *addon, int *number);

/* The path of backup number's dump (malloc'ed). */
char *backup_dump_path(const char *root, const char *addon, int number);

/* Removes backup number: its record first, then its dump.  A missing one is fine. */
int backup_remove(const char *root, const char *addon, int number);

/*
 * Removes the oldest completed backups beyond keep, and the failed ones
 * older than the oldest completed one kept; *removed gets how many went.
 */
int backups_prune(const char *root, const char *addon, int keep, int *removed);

/* The names of the add-ons that have a backups directory (destroyed ones too), sorted. */
int backups_addons(const char *root, struct strvec *out);

#endif
