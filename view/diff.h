/*
 * diff.h - `releases:diff`: what store/diff.h found between two releases,
 * for people (text) and programs (JSON).
 *
 * Part of view/: may use every folder below hooks/; prints nothing.  Both
 * append to out; the caller prints it.
 */
#ifndef SW_VIEW_DIFF_H
#define SW_VIEW_DIFF_H

#include "store/diff.h"
#include "util/util.h"

/* "=== app vA -> vB", then the code, config, slug and process types; values shows config values. */
void view_diff_text(struct buf *out, const char *app, const struct release_diff *d, int values);

/* The same as one JSON object and "\n"; values adds "values" to "config". */
void view_diff_json(struct buf *out, const char *app, const struct release_diff *d, int values);

#endif
