/*
 * logs.h - an app's log stream: its processes' output and Slipway's own
 * events, in Heroku's line format.
 *
 * Part of runtime/: uses util/, store/ and exec/; writes only to the FILE * or
 * callback it is given.
 *
 * Every line is stored as it is shown:
 *
 *     2026-12-01T13:27:22.123456+00:00 app[web.1]: listening on 20001
 *     2026-12-01T13:27:22.130000+00:00 slipway[web.1]: State changed from starting to up
 *     2026-12-01T13:27:20.004512+00:00 slipway[api]: Release v8 created by alice@example.com
 *
 * (UTC, fixed width, so lines of several sources merge by comparing their
 * first LOGS_STAMP_LEN bytes).  Under <root>/logs/APP/, each process
 * instance has a directory of its own, named after its service
 * (vN-G.TYPE.I, runtime/services.h), written by its s6-log: "current" and
 * the rotated "@….s" files, each instance's bounded by size.  The app's
 * events (api, and later the router) go to the directory "slipway",
 * appended and rotated here.
 */
#ifndef SW_LOGS_H
#define SW_LOGS_H

#include <stdio.h>

#include "util/util.h"

#define LOGS_STAMP_LEN 32              /* 2026-12-01T13:27:22.123456+00:00 */
#define LOGS_LINE_MAX 8192             /* longer output is split into lines of this size */
#define LOGS_FILE_SIZE 1000000         /* each log file is rotated at this size */
#define LOGS_FILES_KEPT 5              /* rotated files kept per instance */
#define LOGS_DEFAULT_LINES 100         /* logs without -n (Heroku's) */
#define LOGS_MAX_LINES 1500            /* -n at most (Heroku's) */

/* The time now as LOGS_STAMP_LEN characters and a NUL. */
void logs_stamp(char stamp[LOGS_STAMP_LEN + 1]);

/* <root>/logs/APP, created when missing. */
char *logs_app_dir(const char *root, const char *app);

/*
 * Appends "STAMP slipway[who]: text" to the app's event stream.  A log that
 * cannot be written must not fail what it reports: errors are returned
 * for tests but callers may ignore them.
 */
int logs_event(const char *root, const char *app, const char *who, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Appends the same line to the server's own log, <root>/logs/supervisor.log
 * (where the supervision tree and the dashboard's service write), for
 * what belongs to no app: the dashboard's certificate.  Errors as
 * logs_event().
 */
int logs_server_event(const char *root, const char *who, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * The next generation number of the app's instances: each batch of
 * instances started gets a new one, so two instances of the same release,
 * type and index (a restart) never share a service or log directory.
 */
int logs_next_generation(const char *root, const char *app, int *gen);

/* Which lines to show (NULL fields match everything), and how. */
struct logs_filter {
	const char *ps;      /* "web" (every web.N) or "web.1" */
	const char *source;  /* "app" or "slipway" */
	int raw;             /* 1: every byte as stored, control characters too (--all) */
};

/* 1 when the line (as stored) passes the filter. */
int logs_match(const struct logs_filter *f, const char *line, size_t len);

/*
 * Writes the app's last n lines that pass f to out, oldest first, with
 * control characters but tab, and bytes that are not UTF-8, as \xHH (what
 * a process prints cannot rewrite a line or the terminal), unless f->raw
 * asks for the bytes as they are.  With
 * follow, goes on writing new lines as they come, across rotations,
 * restarts and new instances, until stop(arg) returns non-zero (checked
 * about every 100 ms and after each batch) or out cannot be written.
 */
int logs_show(const char *root, const char *app, const struct logs_filter *f, size_t n,
	      int follow, FILE *out, int (*stop)(void *), void *arg);

/*
 * The last n lines of one instance's log (its directory name, "vN-G.TYPE.I"),
 * into out, shown as logs_show() shows them.
 */
void logs_instance_tail(const char *root, const char *app, const char *logdir, size_t n,
			struct buf *out);

/*
 * Rotates the log directory's "current" once it is LOGS_FILE_SIZE or more
 * (its writer must reopen it), keeping LOGS_FILES_KEPT old files.  1 if
 * it rotated, else 0.
 */
int logs_rotate(const char *dir);

/* Removes the app's whole log (apps:destroy). */
int logs_remove(const char *root, const char *app);

/*
 * Removes the log directories of the app's instances that no service named
 * in live uses (sorted, "vN-G.TYPE.I"), except the newest keep of them.
 */
void logs_prune(const char *root, const char *app, const struct strvec *live, size_t keep);

#endif
