/*
 * ledger.h - the append-only release ledger inside an app's git repository.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * Each release is a commit whose parent is the previous release.  Its tree:
 *     release          the text record (release.h)
 *     config/<KEY>     one blob per config var, the value's exact bytes
 *     processes/<TYPE> one blob per process type, its command
 *     output           release phase output (when there was one)
 * Refs:
 *     refs/releases/vN      each release, for O(1) lookup
 *     refs/slipway/ledger   the newest release (the chain's head)
 *     refs/slipway/current  the release that is live now
 *
 * ledger_append() first creates refs/releases/vN without force: that
 * exclusive create is the commit point, so two writers can never both
 * record vN.  Then (for a succeeded release) the current ref and the head
 * move with compare-and-swap updates, current first: a head that names
 * the newest release means a current ref that is up to date.  A writer
 * killed between the steps leaves a complete release whose moves are
 * finished by the next writer and followed by every reader
 * (ledger_latest() follows refs/releases/v(N+1) whose parent is the head;
 * the newest release, when it succeeded, is the current one whatever the
 * current ref says).  Writers hold the app lock (lock.h) around
 * read-modify-append, which is also what lets ledger_append() remove ref
 * lock files a killed writer left in refs/releases/ and refs/slipway/.
 */
#ifndef SW_LEDGER_H
#define SW_LEDGER_H

#include "store/release.h"

struct ledger;

enum {
	LEDGER_READ_PROCS = 1,
	LEDGER_READ_CONFIG = 2,
	LEDGER_READ_OUTPUT = 4,
	LEDGER_READ_ALL = 7,
};

#define LEDGER_HEAD_REF "refs/slipway/ledger"
#define LEDGER_CURRENT_REF "refs/slipway/current"
#define LEDGER_RELEASE_REF_PREFIX "refs/releases/v"

int ledger_open(struct ledger **out, const char *repo_path);
void ledger_free(struct ledger *l);

/* The newest version (0 when there are no releases). */
int ledger_latest(struct ledger *l, int *version);

/*
 * The version that is live now (0 when none): the newest release when it
 * succeeded, else the one refs/slipway/current names.
 */
int ledger_current(struct ledger *l, int *version);

/*
 * Reads release `version` into out (which must be RELEASE_INIT); `what`
 * selects the parts beyond the record.  SW_ENOTFOUND with a message naming
 * the version when there is no such release.
 */
int ledger_read(struct ledger *l, int version, unsigned what, struct release *out);

/*
 * Reads app's newest release (the one the next change starts from; what:
 * as ledger_read()) into out (RELEASE_INIT); an app without releases
 * leaves out as it is.
 */
int ledger_read_newest(const char *root, const char *app, unsigned what, struct release *out);

/* The same for the app's current release (the one live, or to be). */
int ledger_read_current(const char *root, const char *app, unsigned what, struct release *out);

/*
 * Appends r as the next release: sets r->version (and r->created when 0),
 * moves the head, and moves the current ref when r is succeeded.
 * SW_ECONFLICT if another writer won the race.
 */
int ledger_append(struct ledger *l, struct release *r);

/*
 * Finishes the newest release, which must be pending (its release phase
 * ran): records its status, why it failed when not by its release command
 * (failed_start: RELEASE_FAILED_START, RELEASE_INTERRUPTED, or 0), and its
 * output, and makes it current
 * when it succeeded.  The release keeps its number; its commit is replaced
 * with compare-and-swap updates, the release ref first (the commit point).
 * ledger_append() marks a release left pending by a killed writer failed.
 */
int ledger_finish(struct ledger *l, int version, enum release_status status,
		  int failed_start, const char *output);

/*
 * Calls fn on releases from `from` (0 = newest) down to v1, newest first,
 * reading `what` parts; stops when fn returns non-zero (that value is
 * returned).
 */
int ledger_walk(struct ledger *l, int from, unsigned what,
		int (*fn)(const struct release *r, void *ctx), void *ctx);

/*
 * Checks the ledger: the chain from the head down to v1 has no gap or
 * duplicate, every refs/releases/vN names its chain entry and none is off
 * the chain, and the current ref names a succeeded release on it.  Each
 * problem found is appended to problems as one line; the return value is
 * only for failures to read.
 */
int ledger_check(struct ledger *l, struct strvec *problems);

#endif
