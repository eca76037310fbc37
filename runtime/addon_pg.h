/*
 * addon_pg.h - the PostgreSQL kind of add-on (runtime/addon_kind.h).
 *
 * Part of runtime/: uses util/, store/ and runtime/addon_kind.h; prints
 * nothing.
 *
 * One cluster per add-on, made by the installed server's initdb (Debian's
 * postgresql-N: /usr/lib/postgresql/N/bin, the highest N installed) with
 * scram-sha-256 logins, in <root>/addons/NAME/data.  Its configuration,
 * data/slipway.conf: listening on 127.0.0.1 at the add-on's port and on a
 * unix socket in <root>/addons/NAME/run, shared_buffers 16MB,
 * max_connections 20.  The superuser (the credentials' superuser) is
 * Slipway's; the apps get a database of their own, which no other role may
 * connect to, owned by a role no one logs in as (the credentials' owner),
 * and two logins that are its members and act as it (SET role), so that
 * either can be the apps' while the other's password changes
 * (release/rotate.h).  The server runs in the foreground under
 * s6 and is stopped with SIGINT (fast shutdown: clients are disconnected,
 * not waited for); it is ready when pg_isready says it accepts
 * connections on its socket.  A data directory of another major version
 * (data/PG_VERSION) is refused: one line, and the service stays down.
 */
#ifndef SW_ADDON_PG_H
#define SW_ADDON_PG_H

struct addon_kind;

/* The kind "postgresql". */
extern const struct addon_kind addon_kind_pg;

/* The directory of the programs of PostgreSQL major (malloc'ed): /usr/lib/postgresql/15/bin. */
char *addon_pg_bindir(int major);

#endif
