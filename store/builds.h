/*
 * builds.h - every build of an app, kept with its output.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * A build is numbered from 1 per app and kept in the app's repository as
 * two files under slipway-builds/: N.info, "key value" lines -
 *
 *     status succeeded          (pending, succeeded or failed)
 *     commit de63889a7b...      (40 hex)
 *     user alice@example.com
 *     created 1763764267
 *     source main               (the branch pushed, or "retry")
 *     release 7                 (the release it made, once made)
 *
 * - and N.log, its whole output as the pusher saw it.  N.info is replaced
 * atomically at each change; the log is appended to as the build goes.
 * Writers hold the app's lock.  builds_begin() keeps at most `keep` builds,
 * removing the oldest, and marks the newest build as failed if it is still
 * pending (killed: a build holds the lock until its record says how it ended).
 *
 *     struct build_record r = BUILD_RECORD_INIT;
 *     FILE *log;
 *     builds_begin(root, app, &r, 100, &log);   // r.commit, user, source set
 *     ... write the output to log ...
 *     r.status = BUILD_SUCCEEDED;
 *     builds_update(root, app, &r);
 */
#ifndef SW_BUILDS_H
#define SW_BUILDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum build_status {
	BUILD_PENDING = 0,
	BUILD_SUCCEEDED,
	BUILD_FAILED,
};

struct build_record {
	int id;
	enum build_status status;
	char commit[41];
	char *user;      /* malloc'ed, the record's own */
	char *source;    /* malloc'ed */
	int64_t created;
	int release;     /* the release it made, 0 if none */
};
#define BUILD_RECORD_INIT { 0 }

#define BUILDS_KEEP_DEFAULT 100

void build_record_release(struct build_record *r);

const char *build_status_name(enum build_status s);

/*
 * Numbers a new build (r->id), writes its record (status pending, created
 * now) and opens its log for writing (*log, line-buffered).  Then removes
 * the oldest builds beyond keep.
 */
int builds_begin(const char *root, const char *app, struct build_record *r, int keep, FILE **log);

/* Opens the log of build id to append to (a build released in a second step). */
int builds_log_append(const char *root, const char *app, int id, FILE **log);

/* Replaces the record of r->id with r. */
int builds_update(const char *root, const char *app, const struct build_record *r);

/* Reads build id; SW_ENOTFOUND ("build N does not exist") if there is none. */
int builds_read(const char *root, const char *app, int id, struct build_record *r);

/* The newest build's id, 0 if there is none. */
int builds_latest(const char *root, const char *app, int *id);

/*
 * The builds, newest first, at most max (0: all): *out (free each with
 * build_record_release(), then the array) and *n.
 */
int builds_list(const char *root, const char *app, size_t max, struct build_record **out,
		size_t *n);

/* The whole log of build id (malloc'ed, NUL-terminated). */
int builds_output(const char *root, const char *app, int id, char **text, size_t *len);

/* Removes the oldest builds beyond keep; *removed (may be NULL) counts them. */
int builds_prune(const char *root, const char *app, int keep, int *removed);

#endif
