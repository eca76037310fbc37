/*
 * addon_redis.h - the Redis kind of add-on (runtime/addon_kind.h).
 *
 * Part of runtime/: uses util/, store/ and runtime/addon_kind.h; prints
 * nothing.
 *
 * One redis-server (Debian's redis-server package) per add-on, in the
 * foreground under s6, its files in <root>/addons/NAME/data: redis.conf
 * (listening on 127.0.0.1 at the add-on's port and on the unix socket
 * <root>/addons/NAME/run/redis.sock, mode 0770; appendonly yes, no RDB
 * snapshots; maxmemory 64mb with maxmemory-policy noeviction, so a full
 * one refuses writes instead of eating the server), users.acl (its ACL
 * users, passwords as SHA-256 only: "default" off, Slipway's superuser
 * with every command, key and channel, the app's user with every key and
 * channel and every command but the server's administration: no CONFIG,
 * SHUTDOWN, ACL SETUSER, DEBUG...), the
 * append-only files, and REDIS_VERSION, the major version of the newest
 * server that ran the data.  The credentials' database is Redis's logical
 * database 0, which the app's URL names (redis://USER:PASSWORD@127.0.0.1:PORT/0).
 *
 * s6 stops it with SIGTERM, Redis's own clean shutdown (the append-only
 * file flushed and fsynced, clients disconnected, not waited for); it is
 * ready when its superuser's PING over the socket answers PONG (not while
 * it loads its data).  Redis reads the files of older versions, not those
 * of newer ones: data that a newer major version ran is refused, one line
 * and the service stays down; older data is run, and REDIS_VERSION raised.
 */
#ifndef SW_ADDON_REDIS_H
#define SW_ADDON_REDIS_H

struct addon_kind;

/* The kind "redis". */
extern const struct addon_kind addon_kind_redis;

#endif
