/*
 * addons.h - `addons` and `addons:info`: add-ons as a table, in full, and
 * as JSON.
 *
 * Part of view/: may use every folder below hooks/; prints nothing.  Every
 * function appends to out; the caller gathers what it shows (the records,
 * who attaches each, its state) and prints it.
 */
#ifndef SW_VIEW_ADDONS_H
#define SW_VIEW_ADDONS_H

#include <stdint.h>

#include "store/addons.h"
#include "util/util.h"

/* One add-on as shown: its record and what the caller found out about it. */
struct addon_shown {
	struct addon a;
	/* "APP::ALIAS" for each attachment shown, sorted */
	struct strvec attachments;
	/* "ready", "starting", "down", or "down: why" */
	char state[256];
	int64_t data_size; /* bytes of its data directory; -1: unknown */
};

/*
 * The table: Add-on, Kind and State (with an Owning App column first
 * when app is NULL), each add-on followed by a " └─ as ALIAS" line per
 * attachment ("... on OTHERAPP" for one to another app than app, or
 * without app than the owner).
 */
void view_addons_table(struct buf *out, const struct addon_shown *v, size_t n, const char *app);

/* Everything about one add-on: kind, owning app, attachments, port, created, state, data size. */
void view_addon_info(struct buf *out, const struct addon_shown *s, int64_t now);

/*
 * One add-on as a JSON document and "\n": name, kind, major, app (the owning
 * one, null for none), attachments [{app, name}], port, created_at, state,
 * data_size (null: unknown).
 */
void view_addon_json(struct buf *out, const struct addon_shown *s);

/* The JSON array of v[0..n), one add-on a line, and "\n". */
void view_addons_json(struct buf *out, const struct addon_shown *v, size_t n);

#endif
