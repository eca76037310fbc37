/*
 * addon_helpers.h - a root whose runtime runs, as the unprivileged test
 * user, for the tests of add-on servers (runtime/addon.h): PostgreSQL
 * refuses root, so when the tests run as root each test becomes
 * SLIPWAY_TEST_USER ("nobody") first, as a real server user.
 *
 *	static char *sandbox, *root;
 *	static void setup(void)    { root = ah_start(&sandbox); }
 *	static void teardown(void) { ah_stop(root, sandbox); }
 *
 *	struct addon a = ah_create(root, "postgresql");
 *	cr_assert_str_eq(ah_select_one(root, &a, "SELECT 1"), "1\n");
 *
 * Helpers assert (Criterion); what they return as "kept" lives until
 * th_keep_free(), which ah_stop() calls.
 */
#ifndef SW_TEST_ADDON_HELPERS_H
#define SW_TEST_ADDON_HELPERS_H

#include "runtime/addon.h"
#include "runtime/supervisor.h"
#include "tests/helpers.h"

/*
 * Becomes the test user, makes a sandbox (*sandbox) with a root and a
 * HOME with a git identity, takes a free add-on port range
 * (SLIPWAY_ADDON_PORT_RANGE) and starts the root's supervision tree; the
 * root (malloc'ed).
 */
char *ah_start(char **sandbox);

/*
 * The same, but first, while still the user running the tests, calls
 * make_root(root), which makes the root's directory (its own way: a small
 * disk mounted there) for the test user.
 */
char *ah_start_with(char **sandbox, void (*make_root)(const char *root));

/* Stops the tree (and so every add-on server), frees what was kept, root and sandbox. */
void ah_stop(char *root, char *sandbox);

/* A ready add-on of kind owned by the app "myapp". */
struct addon ah_create(const char *root, const char *kind);

/* Its credentials (they must be readable). */
struct addon_credentials ah_credentials(const char *root, const struct addon *a);

/* Its service's state now. */
struct service_state ah_state(const char *root, const struct addon *a);

/* Waits until s6 runs a server other than pid (one that was killed), and it is ready. */
void ah_wait_restarted(const char *root, const struct addon *a, long pid);

/* The add-on's log (kept), once it has needle or after a generous while. */
char *ah_log_with(const char *root, const struct addon *a, const char *needle);

/*
 * psql on a PostgreSQL add-on's socket as its app's user, with password
 * (NULL: the right one), running sql (-X -q -t -A, ON_ERROR_STOP).
 */
struct th_result ah_psql(const char *root, const struct addon *a, const char *password,
			 const char *sql);

/* What sql prints (kept), as the app's user: the query must succeed. */
char *ah_select_one(const char *root, const struct addon *a, const char *sql);

/*
 * redis-cli on a Redis add-on's socket running argv (NULL-terminated), as
 * user with password (NULL: the app's), or without logging in (user NULL).
 */
struct th_result ah_redis_cli(const char *root, const struct addon *a, const char *user,
			      const char *password, const char *const *argv);

void ah_sleep_ms(long ms);

#endif
