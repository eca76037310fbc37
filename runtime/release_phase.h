/*
 * release_phase.h - the Procfile's `release` process, run for every new release.
 *
 * As on Heroku: when a release's process types include `release`, the
 * release is recorded pending, its command runs with the slug's files as
 * its working directory and the release's config vars as its environment,
 * and only when it succeeds does the release become current.  Output
 * streams to `out` ("Running release command..." … "Waiting for
 * release.... done.") and is saved with the release (releases:output).
 *
 * Each slug is unpacked once, into <root>/unpacked/<sha256>/, and reused.
 * The command runs through /bin/sh -c, like any Procfile command: it is
 * the app's own code, from its own Procfile.
 */
#ifndef SW_RELEASE_PHASE_H
#define SW_RELEASE_PHASE_H

#include <stdio.h>

#include "store/ledger.h"

/* Seconds the release command may run: $SLIPWAY_RELEASE_TIMEOUT, default 3600. */
int release_phase_timeout(void);

/* 1 if r has a release process and a slug to run it in. */
int release_phase_wanted(const struct release *r);

/*
 * Runs the release command of r, which the caller (holding the app lock)
 * has just appended as pending, and finishes it on the ledger: succeeded
 * (and current) or failed.  *ok is set to 1 when it succeeded.  The return
 * value reports only failures to run or record (the release is then left
 * pending, and marked failed by the next writer).
 */
int release_phase_run(const char *root, struct ledger *l, const struct release *r,
		      FILE *out, int *ok);

#endif
