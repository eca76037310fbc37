/*
 * appctx.h - one app, opened once: its root and name, its settings, its
 * ledger and, for a writer, its lock.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * Whatever works on one app takes a struct app_ctx instead of (root, app):
 * the app is checked to exist once, its settings are read once (one
 * snapshot, store/settings.h: later changes to its git config are not
 * seen), and a writer holds the app lock (util/lock.h) for as long as the
 * context is open for writing.  Every wait for an app lock is the one
 * policy: up to slipway.lockTimeout seconds (app_lock_wait()).
 *
 *     struct app_ctx ctx = APP_CTX_INIT;
 *     if ((err = app_ctx_open(&ctx, root, app, APP_CTX_WRITE)) < 0)
 *             goto done;              // "app 'x' does not exist (...)", or busy
 *     ... ledger_append(ctx.ledger, &r) ...
 * done:
 *     app_ctx_release(&ctx);          // ledger, settings, lock: in reverse order
 *
 * A process that already holds the lock (a command that made the context
 * for writing) hands the same context down: nothing below it takes the
 * lock again.  A reader may take the lock later with app_ctx_lock() (a
 * push says which build it is before it waits for its turn).
 */
#ifndef SW_APPCTX_H
#define SW_APPCTX_H

#include "util/lock.h"

struct settings;
struct ledger;

struct app_ctx {
	char *root;                 /* ours (malloc'ed) while open */
	char *app;                  /* ours (malloc'ed) while open */
	struct settings *settings;  /* the app's, read once at open */
	struct ledger *ledger;      /* the app's ledger, open */
	struct lock lock;           /* held while writing (app_ctx_locked()) */
	/*
	 * Said once when the lock is busy, before waiting for it (may be
	 * NULL); set by the caller before the lock is taken, the caller's.
	 */
	void (*on_wait)(void *data);
	void *on_wait_data;
};
#define APP_CTX_INIT { .lock = LOCK_INIT }

enum app_ctx_mode {
	APP_CTX_READ,      /* settings and ledger, no lock: readers never take it */
	APP_CTX_WRITE,     /* the lock too, waiting up to slipway.lockTimeout */
	/*
	 * the lock only if it is free now (else SW_ELOCKED): for sweeps that
	 * leave an app whose writer is at work alone
	 */
	APP_CTX_TRY_WRITE,
};

/*
 * Opens app of root: checks that it exists (SW_ENOTFOUND, "app 'x' does
 * not exist (create it with: ...)", and nothing is created), takes its lock
 * when mode asks for it (SW_ELOCKED when it stayed busy), reads its
 * settings and opens its ledger.  On failure ctx is left as APP_CTX_INIT
 * (releasing it does nothing).
 */
int app_ctx_open(struct app_ctx *ctx, const char *root, const char *app,
		 enum app_ctx_mode mode);

/*
 * Takes the lock of an open context, waiting up to slipway.lockTimeout
 * (on_wait said when it is busy); nothing when it holds it already.
 * SW_ELOCKED when it stayed busy.
 */
int app_ctx_lock(struct app_ctx *ctx);

/* 1 if ctx holds the app lock. */
int app_ctx_locked(const struct app_ctx *ctx);

/*
 * Closes the ledger, frees the settings, lets the lock go and frees the
 * names: the reverse order of app_ctx_open(); ctx is APP_CTX_INIT again (on_wait
 * kept).  Nothing on a context that is not open.
 */
void app_ctx_release(struct app_ctx *ctx);

/*
 * The one wait policy for a lock a writer takes (the app lock, and the
 * server-wide locks of domains, keys and access lists): how many seconds
 * to wait, slipway.lockTimeout (server-wide).
 */
int app_lock_wait(int *seconds);

#endif
