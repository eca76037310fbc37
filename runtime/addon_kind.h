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
	const char *alias;        /* its attachment's alias unless one is given: "DATABASE" */

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
	 * The URL an app attached as alias connects with (its ALIAS_URL),
	 * malloc'ed: postgres://USER:PASSWORD@localhost:PORT/DB?host=...
	 */
	char *(*url)(const struct addon *a, const struct addon_credentials *c, const char *alias);
};

#endif
