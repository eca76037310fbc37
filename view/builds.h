/*
 * builds.h - `builds`: the app's builds as a table and as JSON.
 *
 * Part of view/: may use every folder below hooks/; prints nothing.  Both
 * append to out; the caller prints it.
 */
#ifndef SW_VIEW_BUILDS_H
#define SW_VIEW_BUILDS_H

#include <stddef.h>
#include <stdint.h>

#include "store/builds.h"
#include "util/util.h"

/* "=== app Builds", then a line per build of v[0..n) (n > 0), When as view_when() with now. */
void view_builds(struct buf *out, const char *app, const struct build_record *v, size_t n,
		 int64_t now);

/* The JSON array of v[0..n), one build a line, and "\n". */
void view_builds_json(struct buf *out, const struct build_record *v, size_t n);

#endif
