/*
 * dbinfo.h - `pg:info` and `redis:info`: an attached add-on's server as
 * Heroku shows a database, as text and as JSON.
 *
 * Part of view/: may use every folder below hooks/; prints nothing.  Every
 * function appends to out; the caller asks the server (runtime/addon_client.h).
 */
#ifndef SW_VIEW_DBINFO_H
#define SW_VIEW_DBINFO_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/addon_client.h"
#include "store/addons.h"

/* One attached add-on as shown. */
struct dbinfo {
	struct addon a;
	char vars[256];          /* the config vars that name it: "DATABASE_URL, OTHER_URL" */
	int available;           /* its server answered: the stats are its */
	char reason[512];        /* when not: why ("" unknown) */
	struct addon_pg_stats pg;       /* a PostgreSQL's */
	struct addon_redis_stats redis; /* a Redis's */
};

/*
 * pg:info's section: "=== VARS", Plan, Status (Available, or Unavailable
 * and why), Data Size, Tables, PG Version, Connections (n/max), Created,
 * Add-on.  The server's figures only when it is available.
 */
void view_pg_info(struct buf *out, const struct dbinfo *d);

/*
 * redis:info's section: "=== NAME (VARS)", Plan, Status (available, or
 * unavailable and why), Created, Version, Maxmemory (and its policy),
 * Memory used, Clients.
 */
void view_redis_info(struct buf *out, const struct dbinfo *d);

/*
 * The JSON array of v[0..n), one object a line, and "\n": name, kind,
 * config_vars, plan, status ("available" / "unavailable"), reason (null
 * when available), created_at, and the server's figures (null when
 * unavailable): PostgreSQL's version, connections, max_connections,
 * data_size, tables; Redis's version, maxmemory, maxmemory_policy,
 * used_memory, clients.
 */
void view_dbinfo_json(struct buf *out, const struct dbinfo *v, size_t n);

#endif
