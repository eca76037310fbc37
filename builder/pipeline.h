/*
 * pipeline.h - the buildpacks of one build, from choosing them to bin/release.
 *
 * Part of builder/: uses util/, store/, exec/ and release/, never hooks/; writes only
 * to the FILE * or callback it is given.
 *
 *   choose   the app's list (store/buildpacks.h), else the pushed tree's
 *            .buildpacks, else automatic detection: the first shipped
 *            buildpack, in the fixed order given, whose bin/detect applies
 *   fetch    each spec to a directory (bpsource.h), copied into the build's
 *            private work_dir, so nothing a buildpack writes leaks out; the
 *            copies together stay within max_bytes and max_entries
 *   detect   every buildpack, for its name ("-----> <Name> app detected");
 *            in an explicit list a buildpack that does not apply is an error
 *   compile  in order; the environment of each is the previous one's plus
 *            what the `export` file in its root sourced (see below)
 *   release  every bin/release after the last compile: config_vars merge
 *            (later buildpacks win), default_process_types come from the
 *            last buildpack only
 *
 * An export file is sourced by a fixed command, the file's path passed as
 * an argument and never spliced into the script:
 *     /bin/sh -c 'set -a; . "$1"; exec /usr/bin/env -0' sh <export>
 * and the NUL-separated environment it prints becomes the next buildpacks'
 * environment (PWD, OLDPWD, SHLVL and _ are left out).
 */
#ifndef SW_PIPELINE_H
#define SW_PIPELINE_H

#include "builder/procfile.h"
#include "exec/sandbox.h"
#include "util/run.h"
#include "store/config.h"
#include "util/util.h"

#include <stdint.h>

struct app_ctx;

/* Everything here is the caller's and only read, during pipeline_run(). */
struct pipeline_opts {
	const char *root;              /* for the cache of git buildpacks */
	const struct sandbox *sandbox; /* where every buildpack program runs; mounts
	                                  work_dir, app_dir, cache_dir and env_dir */
	const char *work_dir;          /* private; buildpack copies go under it */
	const char *app_dir;           /* BUILD_DIR */
	const char *cache_dir;         /* CACHE_DIR */
	const char *env_dir;           /* ENV_DIR */
	const char *const *env;        /* environment of detect, compile and release */
	const struct strvec *specs;    /* explicit list; NULL or empty = detect */
	const char *shipped_dir;       /* where the shipped buildpacks are */
	const char *const *shipped;    /* their names, in detection order */
	int timeout_sec;               /* per bin/compile; 0 = none */
	uint64_t max_bytes;            /* what the copies of all buildpacks may hold */
	uint64_t max_entries;          /* together: bytes of files, and entries; 0 = no bound */
	run_line_fn on_line;           /* everything for the pusher */
	void *ctx;
	int accepted;                  /* the push is not rejected by a failure (it was
	                                  accepted already, or there is no push) */
};
#define PIPELINE_OPTS_INIT { 0 }

/* procs and vars are the result's own: pipeline_result_release() frees them. */
struct pipeline_result {
	int compile_failed;            /* a bin/compile failed or timed out */
	struct proc_list procs;        /* the last buildpack's default_process_types */
	struct config vars;            /* all buildpacks' config_vars, later ones win */
};
#define PIPELINE_RESULT_INIT { .procs = PROC_LIST_INIT, .vars = CONFIG_INIT }

/*
 * Runs the buildpacks.  Failures set a message meant for the pusher:
 * "Push rejected, failed to compile <Name> app." (compile_failed set),
 * "Push rejected, compile of <Name> app timed out after N seconds."
 * (compile_failed set, SW_ETIMEOUT), each without "Push rejected, " (and
 * capitalized) when o->accepted, "No default language could be
 * detected for this app." (SW_ENOTFOUND; lines saying what each shipped
 * buildpack looks for, from buildpacks_shipped_find(), come first), or what went wrong fetching,
 * detecting, sourcing or releasing.
 */
int pipeline_run(const struct pipeline_opts *o, struct pipeline_result *r);

void pipeline_result_release(struct pipeline_result *r);

/*
 * The explicit list for a build of app (open, store/appctx.h): the app's
 * (*from = "app") else the tree's
 * .buildpacks (*from = ".buildpacks"; must be a regular file) else empty
 * (*from = NULL).  A tree pushed by user (a remote user; NULL for the
 * server's own account) may name only what bpsource_allowed() lets them:
 * SW_EDENIED otherwise.  The app's list is the operator's or was checked
 * when it was set.
 */
int pipeline_specs(const struct app_ctx *app, const char *app_dir, const char *user,
		   struct strvec *out, const char **from);

/* Sources export_path on top of env (see above); *out gets the new environment. */
int pipeline_source_export(const struct sandbox *sb, const char *export_path,
			   const char *const *env,
			   run_line_fn on_line, void *ctx, struct strvec *out);

#endif
