/*
 * addon_client.h - an add-on's own client program (psql, redis-cli),
 * connected to its server: the consoles (`pg:psql`, `redis:cli`) and the
 * figures `pg:info` and `redis:info` show.
 *
 * Part of runtime/: uses util/, store/, exec/sandbox.h and
 * runtime/addon*.h; prints nothing.
 *
 * The client runs as the server user (this process's) and reaches the
 * server through its unix socket in <root>/addons/NAME/run, logged in as
 * the app's user (what the app's URL names) or as Slipway's superuser;
 * or, for a one-off in the app's sandbox, through the socket directory
 * mounted there (addon_client_sandboxed()).  The password is in the
 * client's environment (PGPASSWORD, REDISCLI_AUTH), never in its argv,
 * which ps shows to every user.
 *
 *     struct addon_client cl = ADDON_CLIENT_INIT;
 *     if (addon_client_prepare(root, &a, ADDON_CLIENT_APP, &cl) < 0) ...;
 *     strvec_push(&cl.argv, "-c"); ...
 *     execve(cl.argv.v[0], cl.argv.v, cl.env.v);
 *     addon_client_release(&cl);
 */
#ifndef SW_ADDON_CLIENT_H
#define SW_ADDON_CLIENT_H

#include <stdint.h>

#include "store/addons.h"
#include "store/config.h"
#include "util/util.h"

enum addon_login {
	ADDON_CLIENT_APP,       /* the app's user, on its database */
	ADDON_CLIENT_SUPERUSER, /* Slipway's own, on the app's database */
};

struct addon_client {
	struct strvec argv; /* the client and its connection's options; more may be pushed */
	struct strvec env;  /* its whole environment: ours without PG* and REDISCLI_*, and the password */
};
#define ADDON_CLIENT_INIT { STRVEC_INIT, STRVEC_INIT }

/*
 * Fills cl for a's kind (a PostgreSQL: psql; a Redis: redis-cli) logged in
 * as who.  SW_ENOTFOUND when its credentials are missing, SW_EINVALID for
 * a kind without a client.
 */
int addon_client_prepare(const char *root, const struct addon *a, enum addon_login who,
			 struct addon_client *cl);

void addon_client_release(struct addon_client *cl);

/*
 * The same client as a one-off in the app's sandbox runs it (runtime/oneoff.h:
 * the add-on's socket directory at /run/addons/<alias in lower case>,
 * exec/sandbox.h): the command's words into words (argv form, the client
 * found on the sandbox's PATH) and, into vars, the config vars that log it
 * in as the app (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD;
 * REDISCLI_AUTH), to add to the release's.  SW_ENOTFOUND when the
 * credentials are missing, SW_EINVALID for a kind without a client.
 */
int addon_client_sandboxed(const char *root, const struct addon *a, const char *alias,
			   struct strvec *words, struct config *vars);

/* What `pg:info` shows of a running PostgreSQL. */
struct addon_pg_stats {
	char version[32];     /* "15.10" */
	int connections;      /* the clients connected now, this one not counted */
	int max_connections;
	int64_t data_size;    /* bytes of the app's database */
	int tables;           /* the app's tables (not the catalog's) */
};

/* Asks a's server (a PostgreSQL) for them: SW_ERROR with psql's reason when it cannot. */
int addon_pg_stats(const char *root, const struct addon *a, struct addon_pg_stats *out);

/* What `redis:info` shows of a running Redis. */
struct addon_redis_stats {
	char version[32];     /* "7.0.15" */
	int64_t maxmemory;    /* bytes; 0: none */
	char policy[32];      /* maxmemory-policy: "noeviction" */
	int64_t used_memory;  /* bytes */
	int clients;          /* connected now, this one not counted */
};

/* Asks a's server (a Redis) for them: SW_ERROR with redis-cli's reason when it cannot. */
int addon_redis_stats(const char *root, const struct addon *a, struct addon_redis_stats *out);

#endif
