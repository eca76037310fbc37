/*
 * hsts.h - Strict-Transport-Security for an app's HTTPS (certs:hsts): off
 * by default; turned on, its max-age ramps up one step at a time, so a
 * mistake (a certificate that lapses, a host that cannot serve HTTPS)
 * locks browsers out for minutes, not a year:
 *
 *     step 0: max-age=300 (5 minutes)   step 2: max-age=604800 (1 week)
 *     step 1: max-age=86400 (1 day)     step 3: max-age=31536000 (1 year)
 *
 * A step is taken only once the app's HTTPS has been live for the whole of
 * the current step's max-age: the time a step began is kept, and a switch
 * of the router (runtime/router.h) that finds the app without a live
 * certificate starts the step's clock again.  The state is one line of
 * <root>/certs/APP.hsts, "STEP SINCE" (SINCE in seconds since the epoch);
 * no file: off.
 *
 * Part of store/: uses only util/; prints nothing.  The caller holds the
 * app's lock (util/lock.h) and then points the router at the new state.
 *
 *     struct hsts h = HSTS_INIT;
 *     err = hsts_read(root, app, &h);
 *     if (hsts_advance(&h, time(NULL), live))
 *             err = hsts_write(root, app, &h);
 *     printf("max-age=%ld", hsts_max_age(h.step));
 */
#ifndef SW_HSTS_H
#define SW_HSTS_H

#include <time.h>

#define HSTS_STEPS 4

struct hsts {
	int on;       /* certs:hsts on */
	int step;     /* 0 to HSTS_STEPS - 1: which max-age is sent */
	time_t since; /* when the step began (or its clock started again) */
};
#define HSTS_INIT { 0 }

/* The max-age of step, in seconds. */
long hsts_max_age(int step);

/* The app's state: h->on is 0 when it has none.  SW_ERROR when its file cannot be read. */
int hsts_read(const char *root, const char *app, struct hsts *h);

/* Keeps h (h->on 0: removes the file), atomically and durably. */
int hsts_write(const char *root, const char *app, const struct hsts *h);

/*
 * Moves h on at now: with live 0 (the app's HTTPS is not served), the
 * step's clock starts again; with live 1, the next step begins once the
 * current one has lasted its max-age (one step per call: the next one
 * waits its own max-age).  1 when h changed, 0 otherwise (and when off).
 */
int hsts_advance(struct hsts *h, time_t now, int live);

/* When h's next step is due (0: h is off or at its last step). */
time_t hsts_next(const struct hsts *h);

#endif
