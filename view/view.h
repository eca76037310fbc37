/*
 * view.h - how releases, config and slugs are shown to people and programs.
 *
 * Part of view/: may use every folder below hooks/; prints nothing.  The
 * command line shows what these render, and anything else that shows
 * Slipway's state to people (a dashboard) can too.
 *
 * Every function appends to a buf; the caller prints it.  Wording follows
 * the Heroku CLI so its users feel at home.  JSON goes through util/json.h;
 * a *_json function that renders a whole document ends it with "\n".
 */
#ifndef SW_VIEW_H
#define SW_VIEW_H

#include <stdint.h>

#include "store/config.h"
#include "store/release.h"
#include "util/util.h"

/* "2026/11/21 22:31:07 +0000", plus " (~ 5m ago)" when under a day old (local time). */
void view_when(struct buf *out, int64_t created, int64_t now);

/* ISO 8601 UTC: "2026-11-21T22:31:07Z". */
void view_iso8601(struct buf *out, int64_t t);

/* The change as listed: description plus "(release command failed)" etc. */
void view_change(struct buf *out, const struct release *r);

/* The `releases` table for rels[0..n) (newest first). */
void view_releases(struct buf *out, const char *app, int current,
		   const struct release *rels, size_t n, int64_t now);

/*
 * One release as a JSON object; with details, its process types, config
 * vars and whether it can be rolled back to (unfit: why not, NULL if it can).
 */
void view_release_json(struct buf *out, const struct release *r, int current,
		       int with_details, const char *unfit);

/* The `releases --json` array of rels[0..n), one release a line. */
void view_releases_json(struct buf *out, const struct release *rels, size_t n, int current);

/*
 * `releases:info`: everything about one release (unfit as above); hosts,
 * when not NULL (an app with run hosts), are those that run it, shown as
 * "Hosts:" ("none" when empty).
 */
void view_release_info(struct buf *out, const struct release *r, int current, const char *unfit,
		       const struct strvec *hosts, int64_t now);

/*
 * What a rollback from the release live before it (was) to t means for
 * the release command: the release phase runs t's, and what was's did (a
 * migration) stays done.  The sentence, malloc'ed, or NULL when nothing
 * needs saying.  done: the rollback has happened ("ran"); before it (a
 * preview), the same command is also named ("will run").
 */
char *view_rollback_release_command(const struct release *was, const struct release *t, int done);

/* A JSON array of the strings and "\n" (`apps --json`). */
void view_names_json(struct buf *out, const struct strvec *names);

/* "KEY='value'" lines, shell-quoted. */
void view_config_shell(struct buf *out, const struct config *c);

/* A JSON object of the vars. */
void view_config_json(struct buf *out, const struct config *c);

/* "KEY: value" lines with the values aligned. */
void view_config_table(struct buf *out, const struct config *c);

#endif
