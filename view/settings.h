/*
 * settings.h - `settings`: every setting's effective value and where it
 * comes from, as a table and as JSON, a row of store/settings.h's table
 * each.
 *
 * Part of view/: may use every folder below hooks/; prints nothing.  Both
 * append to out; the caller prints it.
 */
#ifndef SW_VIEW_SETTINGS_H
#define SW_VIEW_SETTINGS_H

#include "store/settings.h"
#include "util/util.h"

/* One row's effective value (NULL: none; malloc'ed, the caller's) and its origin. */
struct setting_shown {
	char *value;
	enum setting_origin from;
};

/*
 * "=== app Settings" ("=== Server Settings" when app is NULL), then the
 * Name, Value and Origin of each of v[0..SETTINGS_COUNT).
 */
void view_settings(struct buf *out, const char *app, const struct setting_shown *v);

/* The JSON array of v[0..SETTINGS_COUNT): name, value, origin, scope, type, env; and "\n". */
void view_settings_json(struct buf *out, const struct setting_shown *v);

#endif
