/*
 * addon_kind.h - what one kind of add-on server (PostgreSQL, ...) tells the
 * generic add-on runtime (runtime/addon.h).
 *
 * Part of runtime/: uses util/ and store/; prints nothing.
 *
 * A kind is one struct addon_kind defined in a file of its own
 * (runtime/addon_pg.c: addon_kind_pg) and listed in addon.c's table.
 */
#ifndef SW_ADDON_KIND_H
#define SW_ADDON_KIND_H

#include "store/addons.h"
#include "util/util.h"

/* The run program's exit status when it refuses to start the server: s6 keeps it down. */
#define ADDON_EXIT_REFUSED 100

/* One kind of add-on: what its server needs. */
struct addon_kind {
	const char *kind;         /* "postgresql": the record's kind, the names' prefix */
	const char *down_signal;  /* what s6 stops it with: "SIGINT" */
	/* the alias an app attaches it as by default ("DATABASE"); NULL: the kind in capitals */
	const char *alias;

	/*
	 * The installed server's major version into *major; SW_ENOTFOUND with a
	 * message naming the package to install when there is none.
	 */
	int (*installed)(int *major);

	/*
	 * Makes the server's files in the add-on's directory (its data, its
	 * configuration, its app's login), a->port and a->major set; fills c.
	 * Runs as the server user, before the service exists.
	 */
	int (*prepare)(const char *root, const struct addon *a, struct addon_credentials *c);

	/*
	 * The service's run lines (after run's header: exec the server in the
	 * foreground, output on stdout) and the program s6-notifyoncheck polls
	 * until it exits 0 (the server accepts connections).
	 */
	void (*service)(const char *root, const struct addon *a, struct buf *run,
			struct buf *check);

	/*
	 * 0 when the installed server can run the add-on's data; SW_EINVALID
	 * with the line its service logs when it refuses to start.
	 */
	int (*check)(const char *root, const struct addon *a);

	/*
	 * The URL an app attached as alias finds in ALIAS_URL, malloc'ed: the
	 * login c, the socket directory as the app's sandbox sees it
	 * (/run/addons/<alias in lower case>) or the add-on's port on
	 * 127.0.0.1 (PostgreSQL:
	 * postgres://USER:PASSWORD@localhost:PORT/DB?host=/run/addons/database).
	 */
	char *(*url)(const struct addon *a, const struct addon_credentials *c, const char *alias);

	/*
	 * The apps' second login (release/rotate.h), on the running server, as
	 * its superuser c->superuser: set_password() gives the login role the
	 * password (making it, with the same rights as c->user, when it does
	 * not exist: PostgreSQL, a member of the role that owns the database,
	 * c->owner or else c->user, acting as it, so that what either login
	 * makes stays the other's too); doing it again is harmless.  revoke()
	 * removes role's password and ends its sessions: it can no longer log
	 * in.  SW_ERROR with the server's words when it refuses.
	 */
	int (*set_password)(const char *root, const struct addon *a,
			    const struct addon_credentials *c, const char *role,
			    const char *password);
	int (*revoke)(const char *root, const struct addon *a, const struct addon_credentials *c,
		      const char *role);
};

#endif
