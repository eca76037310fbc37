/*
 * fsck.h - check a root's integrity; sweep what nothing needs any more.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * fsck_run() finds problems, it never changes anything: every slug's bytes
 * hash to its name, every release's slug is in the store, each app's
 * ledger passes ledger_check() and its repository holds no stale git lock
 * file (store/gitlocks.h).  gc_run() deletes slugs no release needs
 * and temp files whose writer is gone (build directories are the builder's:
 * builder/buildarea.h).
 */
#ifndef SW_FSCK_H
#define SW_FSCK_H

#include <stdint.h>

#include "util/util.h"

/*
 * Checks one app (app != NULL: its ledger and the slugs it uses) or the
 * whole root (every app and every object in the store).  Each problem is
 * one line appended to problems.  Returns non-zero only when checking
 * itself failed.
 */
int fsck_run(const char *root, const char *app, struct strvec *problems);

struct gc_result {
	uint64_t slugs, slug_bytes;   /* slugs deleted */
	uint64_t temps, temp_bytes;   /* temp files deleted */
	int s3;                       /* S3 is configured: its bucket was swept too */
	uint64_t s3_slugs, s3_bytes;  /* slugs deleted from S3 */
};

/*
 * keep == 0: deletes slugs used by no release.  keep > 0: also those used
 * only by releases older than each app's newest `keep` (never the current
 * release's slug).  Slugs written or re-published in the last 10 minutes are
 * kept whatever their use: a running build may be about to record one.
 * With S3 configured (store/s3.h), the same goes for the bucket's objects
 * under S3_SLUG_PREFIX (and only those): a slug no kept release uses is
 * deleted from S3 unless the local store's copy is that young (builds
 * publish it there before they upload it and record its release).
 */
int gc_run(const char *root, int keep, struct gc_result *out);

#endif
