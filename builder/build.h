/*
 * build.h - one deploy: pushed commit -> buildpacks -> slug -> store -> release.
 *
 * Part of builder/: uses util/, store/, exec/ and release/, never hooks/; writes only
 * to the FILE * or callback it is given.
 *
 *   checkout   the commit's tree into a fresh build directory
 *   detect     the first shipped buildpack whose bin/detect accepts the tree
 *   compile    bin/compile BUILD_DIR CACHE_DIR ENV_DIR, output streamed
 *   release    bin/release YAML, then the Procfile's process types on top
 *              (a Procfile that declares no type fails the build; with
 *              no process types at all the release is made with a warning)
 *   pack       the build directory into a reproducible tar.zst slug
 *   publish    the slug into the content-addressed store
 *   record     a new release on the ledger, which becomes current
 *
 * Everything the pusher should see is written to `out` a line at a time
 * and flushed at once.  A failed build prints " !     " lines saying why
 * and records nothing: "Push rejected, ..." as on Heroku when the failure
 * rejects the push (neither accepted nor retry), else what failed and
 * that no release was created.  The app lock is held from checkout to record
 * (waiting up to slipway.lockTimeout for a running build).
 */
#ifndef SW_BUILD_H
#define SW_BUILD_H

#include <stdint.h>
#include <stdio.h>

/*
 * How far a build goes.  A push whose failed build must reject it is built
 * in pre-receive (BUILD_ONLY: the slug is stored and what the release needs
 * is kept beside the app, nothing is recorded) and released in post-receive,
 * once git has updated the branch (BUILD_RELEASE_BUILT).
 */
enum build_stage {
	BUILD_AND_RELEASE = 0, /* build, record the release and make it live */
	BUILD_ONLY,            /* stop once the slug is in the store */
	BUILD_RELEASE_BUILT,   /* release what BUILD_ONLY built of rev; SW_ENOTFOUND,
				  printing nothing, when it built nothing of it */
};

struct app_ctx;

struct build_opts {
	enum build_stage stage;
	/*
	 * the app, open (store/appctx.h): build_deploy() takes its lock (saying
	 * so when it waits) and leaves it held, for the caller to release
	 */
	struct app_ctx *ctx;
	const char *rev;        /* 40-hex commit sha */
	const char *branch;     /* for the banner */
	const char *user;       /* who pushed (release "By") */
	const char *remote_user; /* the ssh user who pushed (access/), NULL for the server's own */
	int retry;              /* releases:retry: "Deploy SHA (retry)", no branch pushed */
	int accepted;           /* git accepted the push already (post-receive): a failure
	                           does not reject it, and is not said to */
	FILE *out;              /* the pusher's terminal */
};
#define BUILD_OPTS_INIT { 0 }

/* Timings of a build's stages, in seconds. */
struct build_timings {
	double checkout, compile, pack, publish, record;
};

/* Builds and releases; *version (may be NULL) gets the new release number. */
int build_deploy(const struct build_opts *o, int *version, struct build_timings *t);

/*
 * gc: removes each app's builds beyond its slipway.keepBuilds (store/builds.h)
 * and what a build released nowhere left for its release (a push git
 * refused after its build), once a day old.  *removed counts the builds.
 */
int build_sweep(const char *root, uint64_t *removed);

/* Directory holding the shipped buildpacks. */
const char *build_buildpacks_dir(void);

/* Names of the shipped buildpacks, in detection order (NULL-terminated). */
const char *const *build_shipped_buildpacks(void);

#endif
