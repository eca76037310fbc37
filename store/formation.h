/*
 * formation.h - how many instances of each process type an app runs.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * The formation is the app's, not a release's: deploys and rollbacks keep
 * it.  It is a list file (store/listfile.h) in the app's repository,
 * <root>/apps/APP.git/slipway-formation, of "TYPE=N" lines.  An app
 * without one runs one web instance when the release has a web type
 * (Heroku's default).  The release type never runs as an instance: its
 * command runs once per release.  Whoever changes the formation holds the
 * app's lock (util/lock.h).
 *
 *     int *counts = xcalloc(r.procs.n, sizeof(*counts));
 *     formation_counts(root, "myapp", &r, counts);  // counts[i]: r.procs.items[i]
 *     formation_change(&r, counts, "web+1", 20);
 *     formation_write(root, "myapp", &r, counts);
 */
#ifndef SW_FORMATION_H
#define SW_FORMATION_H

#include "store/release.h"

#include <stdint.h>

/* The most instances of one type a formation file is read as asking for. */
#define FORMATION_COUNT_MAX 100

/*
 * How many instances of each of r's process types the formation runs:
 * counts[i] for r->procs.items[i], 0 to FORMATION_COUNT_MAX (0 for the
 * release type, and for types the file does not name).
 */
int formation_counts(const char *root, const char *app, const struct release *r, int *counts);

/*
 * Applies one change - "web=2", "worker+1", "web-1" - to counts (as from
 * formation_counts()).  SW_EINVALID for a malformed change, a type r does
 * not have (the message lists r's types) or a count outside 0 to max;
 * counts is unchanged then.
 */
int formation_change(const struct release *r, int *counts, const char *change, int max);

/*
 * Host i's share of total instances spread over n hosts (the app's hosts,
 * store/apphosts.h: local first, then the run hosts in list order): total/n,
 * and one more for each of the first total%n hosts.  0 when i is not below n.
 */
int formation_share(int total, size_t i, size_t n);

/* Makes counts, of r's process types, the app's formation.  The caller holds the app's lock. */
int formation_write(const char *root, const char *app, const struct release *r,
		    const int *counts);

/*
 * Sizes, as Heroku's dynos: each process type's instances get the memory
 * quota of its size (exec/limits.h) - standard-1x 512M, standard-2x 1G,
 * performance-m 2.5G, performance-l 14G.  A type never resized has none:
 * slipway.memory decides.  The sizes are a list file beside the
 * formation, <root>/apps/APP.git/slipway-sizes, of "TYPE=SIZE" lines.
 */
struct formation_size {
	const char *name;   /* "standard-2x" */
	uint64_t memory;    /* its quota in bytes */
};
extern const struct formation_size formation_sizes[];  /* ends with a NULL name */

/* The size named name (in any case: "Standard-2X"), or NULL. */
const struct formation_size *formation_size_find(const char *name);

/*
 * The size named name into *out; SW_EINVALID, the message listing the
 * sizes ("invalid size 'huge': use standard-1x, ..."), when there is none.
 */
int formation_size_parse(const char *name, const struct formation_size **out);

/* The size of the app's type, or NULL when it has none (an unknown name in the file: none). */
const struct formation_size *formation_size_of(const char *root, const char *app,
					       const char *type);

/*
 * Applies the changes "TYPE=SIZE" to the app's sizes, all or none:
 * SW_EINVALID for a malformed change, a type r does not have or an
 * unknown size (the message lists them), nothing written then.  types gets
 * the types changed.  The caller holds the app's lock.
 */
int formation_resize(const char *root, const char *app, const struct release *r,
		     char *const *changes, size_t n, struct strvec *types);

#endif
