/*
 * addon.h - add-on servers: one supervised server per add-on.
 *
 * Part of runtime/: uses util/, store/ and runtime/supervisor.h; prints
 * nothing.
 *
 * An add-on (store/addons.h) is one server of its own - a PostgreSQL or a
 * Redis - run by the root's supervision tree as the service "addon.NAME"
 * (runtime/supervisor.h): its output goes through s6-log to
 * <root>/logs/addon.NAME/current, s6 restarts it when it dies, stops it
 * with the kind's own signal (PostgreSQL: SIGINT, its fast shutdown;
 * Redis: SIGTERM, its own clean shutdown), and
 * knows it is ready through s6-notifyoncheck polling the kind's check
 * program (PostgreSQL: pg_isready; Redis: redis-cli's PING), so nothing waits on a server that does
 * not yet accept connections.  A server whose data it cannot run (another
 * major version) says so in one line of its log and stays down: its run
 * program exits ADDON_EXIT_REFUSED, which finish turns into s6's 125 (no
 * restart), never a crash loop.
 *
 * The servers run as the server user; PostgreSQL refuses to run as root,
 * and so add-ons are refused when Slipway runs as root.
 *
 * What is particular to a kind is one struct addon_kind
 * (runtime/addon_kind.h), in a file of its own (runtime/addon_pg.c,
 * runtime/addon_redis.c);
 * addon.c's table lists the kinds.
 *
 *     struct addon_create_opts o = ADDON_CREATE_OPTS_INIT;
 *     o.kind = "postgresql"; o.app = "myapp";
 *     struct addon a;
 *     if (addon_create(root, &o, &a) < 0) ...;   // ready: accepts connections
 *     ...
 *     addon_destroy(root, a.name);
 */
#ifndef SW_ADDON_H
#define SW_ADDON_H

#include "runtime/addon_kind.h"
#include "store/addons.h"
#include "util/util.h"

/* The kind named kind ("postgresql"), or NULL. */
const struct addon_kind *addon_kind_find(const char *kind);

/* The same, or SW_EINVALID with a message listing the kinds there are. */
int addon_kind_get(const char *kind, const struct addon_kind **out);

/* The alias an add-on of kind k is attached as by default: "DATABASE" (malloc'ed). */
char *addon_default_alias(const struct addon_kind *k);

/*
 * The URL an app that attaches a as alias gets in ALIAS_URL (the kind's
 * url(), with a's credentials), malloc'ed into *out.  SW_ENOTFOUND /
 * SW_ERROR when its credentials cannot be read.
 */
int addon_url(const char *root, const struct addon *a, const char *alias, char **out);

/*
 * Which add-on "pg:psql [DATABASE] -a APP" means, by the attachments of
 * app's newest release (those the next change starts from).  arg NULL:
 * app's one add-on of kind ("postgresql", "redis"; NULL: any kind), or,
 * when it has several, the one attached under the kind's default alias
 * (DATABASE, REDIS).  Otherwise arg is an alias ("DATABASE", or its var
 * "DATABASE_URL") or the name of an add-on attached to app.  Fills *out
 * with the add-on's record and, when alias is not NULL, *alias
 * (malloc'ed) with the alias it is attached as.  SW_ENOTFOUND: app has
 * no such add-on; SW_EINVALID: arg names an add-on of another kind, or
 * app has several of kind and none under the default alias; each with a
 * one-line message.
 */
int addon_resolve(const char *root, const char *app, const char *kind, const char *arg,
		  struct addon *out, char **alias);

/* "addon.NAME": the add-on's service (malloc'ed). */
char *addon_service_name(const char *name);

struct addon_create_opts {
	const char *kind;  /* required: "postgresql" */
	const char *name;  /* NULL: a fresh "postgresql-<adjective>-<number>" */
	const char *app;   /* the app that owns it, or NULL */
	int wait_sec;      /* how long the server has to become ready */
};
#define ADDON_CREATE_OPTS_INIT { .wait_sec = 60 }

/*
 * Creates an add-on and starts its server: under the add-ons' lock, names
 * it, gives it the first free port of slipway.addonPortRange, has the kind
 * prepare its files, writes its credentials, adds its service and waits
 * until s6 says it is ready; its record is written last (*out).  On any
 * failure nothing of it is left.  SW_EDENIED when Slipway runs as root;
 * SW_EINVALID for an unknown kind, a bad name, or a port range that
 * overlaps slipway.portRange; SW_EEXISTS for a name taken; SW_ERROR when
 * the runtime is not running, no port is free or the server does not
 * come up; SW_ETIMEOUT when it is not ready within wait_sec.
 */
int addon_create(const char *root, const struct addon_create_opts *o, struct addon *out);

/*
 * (Re)writes the add-on's service from its record, replacing one of that
 * name, and tells the tree.
 */
int addon_service_write(const char *root, const struct addon *a);

/*
 * After a restart: adds the service of every add-on that has none (and
 * rescans when the tree runs).  What a create killed half-way left -
 * services "addon.NAME" and directories without a record - is removed,
 * unless a create holds the add-ons' lock now.  *added gets how many
 * services were added.
 */
int addon_restore_all(const char *root, int *added);

/* 0 when the installed server can run the add-on's data; SW_EINVALID with the reason. */
int addon_check(const char *root, const struct addon *a);

/*
 * Waits up to wait_sec until the add-on's server is up and ready: 0, or
 * SW_ETIMEOUT / SW_ERROR (its check's reason when it refuses to start).
 */
int addon_wait_ready(const char *root, const struct addon *a, int wait_sec);

/*
 * Stops the add-on's server, removes its service, its record, its data
 * and its log.  SW_ENOTFOUND when there is no such add-on.
 */
int addon_destroy(const char *root, const char *name);

#endif
