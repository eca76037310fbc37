/*
 * release.h - one release: what it is, how it is written down, how it reads.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * A release holds everything needed to run one version of an app: the slug,
 * the full config snapshot, the process types, the commit, who made it and
 * when, its status and its change description.  The ledger (ledger.h)
 * stores the scalar fields as a small text record, one "key value" line
 * each (values have no newlines), which release_format()/release_parse()
 * write and read:
 *
 *     version 7
 *     status succeeded
 *     description Deploy de63889
 *     user alice@example.com
 *     created 1763764267
 *     commit de63889a7b... (40 hex, or absent)
 *     slug 9f86d081... (64 hex, or absent)
 *     slug_size 1234567
 *     rollback_of 5 (only on rollbacks)
 *     failed_at start (only when its processes failed to start)
 *     release_command yes (only when it has one: its release phase runs)
 */
#ifndef SW_RELEASE_H
#define SW_RELEASE_H

#include <stddef.h>
#include <stdint.h>

#include "store/attach.h"
#include "store/procs.h"
#include "store/config.h"
#include "util/util.h"

#define RELEASE_VERSION_MAX 999999999

enum release_status {
	RELEASE_SUCCEEDED = 0,
	RELEASE_PENDING,
	RELEASE_FAILED,
};

struct release {
	int version;
	enum release_status status;
	char *description;      /* description, user and output are malloc'ed,
	                           the release's own, like procs and config:
	                           release_release() frees them */
	char *user;
	int64_t created;        /* seconds since the epoch, UTC */
	char commit[41];        /* "" when the release has no code change */
	char slug[65];          /* sha256 hex; "" before the first deploy */
	uint64_t slug_size;
	int rollback_of;        /* version rolled back to, or 0 */
	int failed_start;       /* why it failed, when not its release command:
	                           RELEASE_FAILED_START or RELEASE_INTERRUPTED */
	int release_command;    /* 1: a release command runs before it goes live
	                           (so a pending release is running it) */
	struct proc_list procs;
	struct config config;   /* every var, the add-ons' included */
	struct attachments addons; /* which of them the add-ons manage (store/attach.h) */
	char *output;           /* release phase output, or NULL */
};
#define RELEASE_INIT { .procs = PROC_LIST_INIT, .config = CONFIG_INIT, .addons = ATTACHMENTS_INIT }

/*
 * Who made the releases Slipway makes itself: an automatic rollback
 * (release/watch.h), and on a run host a release its control applied
 * (release/apply.h).  No ssh user is given these names (access/access.h
 * access_user_new_check()): their releases would be taken for Slipway's.
 */
#define RELEASE_USER_AUTOMATIC "slipway"
#define RELEASE_USER_CONTROL "control"

/* A release's failed_start ("failed_at" in its record): */
#define RELEASE_FAILED_START 1 /* its processes did not start ("start") */
#define RELEASE_INTERRUPTED 2  /* the writer making it was killed ("interrupted") */

void release_release(struct release *r);

/* Deep copy of the fields, procs, config and output (dst must be released). */
void release_copy(struct release *dst, const struct release *src);

const char *release_status_name(enum release_status s);

/* Appends the text record of r's scalar fields to out. */
void release_format(const struct release *r, struct buf *out);

/* Parses a text record into r's scalar fields; SW_EINVALID if malformed. */
int release_parse(struct release *r, const char *data, size_t len);

/*
 * Parses "v24" or "24" into 24.  Refuses 0, negatives, garbage and anything
 * above RELEASE_VERSION_MAX with SW_EINVALID and a message quoting the input.
 */
int release_parse_version(const char *s, int *out);

#endif
