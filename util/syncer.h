/*
 * syncer.h - makes a file durable while it is still being written.
 *
 * Part of util/: includes nothing outside util/; prints nothing.
 *
 * A file written fast and fsynced once at its end waits for all of it
 * at that fsync (tens of ms for a slug of tens of MB, most of it the
 * disk's cache flush).  A syncer runs fdatasync() on the file from a
 * thread of its own each time a step more bytes have been written, while
 * the writer goes on, so the fsync at the end waits for the last step
 * only.  The writer calls syncer_wrote() after each write; the thread
 * starts at the first full step (small files never start one).
 * syncer_finish() stops it and says whether a sync failed; the caller's
 * own fsync() before publishing the file stays: a syncer only moves work
 * earlier.
 */
#ifndef SW_SYNCER_H
#define SW_SYNCER_H

#include <pthread.h>
#include <stdint.h>

struct syncer {
	int fd;
	uint64_t step;        /* bytes between syncs */
	uint64_t written;     /* bytes written so far (the writer's) */
	uint64_t synced;      /* bytes made durable by the thread */
	unsigned syncs;       /* fdatasync() calls made by the thread */
	int started, stop, err;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* A syncer of fd every step bytes (0: SYNCER_STEP). */
#define SYNCER_STEP ((uint64_t)4 << 20)
void syncer_init(struct syncer *s, int fd, uint64_t step);

/* The file now holds total bytes (written by this thread, in order). */
void syncer_wrote(struct syncer *s, uint64_t total);

/* The fdatasync() calls the thread has made so far. */
unsigned syncer_syncs(struct syncer *s);

/*
 * Stops the thread and waits for it: 0, or the negative errno of the
 * first fdatasync() that failed (the caller's fsync() may no longer
 * report it).  Safe on a syncer that never started, and twice.
 */
int syncer_finish(struct syncer *s);

#endif
