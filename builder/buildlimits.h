/*
 * buildlimits.h - the settings of one app's builds.
 *
 * Part of builder/: uses util/, store/, exec/ and release/, never hooks/; writes only
 * to the FILE * or callback it is given.
 *
 * Read through store/settings.h (the environment, else the app's git
 * config, else the server user's global git config, else the default):
 *
 *   compile timeout  $SLIPWAY_COMPILE_TIMEOUT, slipway.compileTimeout,
 *                    900 seconds (15 minutes); "90", "90s", "15m", "1h"
 *   max slug size    $SLIPWAY_MAX_SLUG_SIZE, slipway.maxSlugSize,
 *                    500M; bytes, or with a K, M or G suffix (powers of 1024)
 *   build directory  $SLIPWAY_BUILD_DIR, slipway.buildDir: an absolute path
 *   tmpfs            $SLIPWAY_TMPFS, slipway.tmpfs: an absolute path or "none"
 *                    (the last two: where builds run, builder/buildarea.h)
 *   stack            $SLIPWAY_STACK, slipway.stack, heroku-22: the STACK
 *                    buildpacks see
 *   timings          $SLIPWAY_TIMINGS, slipway.timings, false: a line with
 *                    each stage's time after "Released"
 *   unpacked size    $SLIPWAY_MAX_SLUG_UNPACKED_SIZE, slipway.maxSlugUnpackedSize,
 *                    2G: the slug's files, uncompressed; no file a buildpack
 *                    writes may be larger either (RLIMIT_FSIZE)
 *   file count       $SLIPWAY_MAX_SLUG_FILES, slipway.maxSlugFiles, 1000000:
 *                    files, symlinks and directories in the slug
 *   build output     $SLIPWAY_MAX_BUILD_OUTPUT, slipway.maxBuildOutput, 4M:
 *                    what a build's output keeps and shows, its first and
 *                    last halves (builder/outcap.h); 0 keeps it all
 *
 *     git --git-dir=<root>/apps/myapp.git config slipway.maxSlugSize 1G
 *     git config --global slipway.buildDir /srv/builds     # every app
 */
#ifndef SW_BUILDLIMITS_H
#define SW_BUILDLIMITS_H

#include <stdint.h>

#define BUILD_LIMITS_COMPILE_TIMEOUT_DEFAULT (15 * 60)
#define BUILD_LIMITS_MAX_SLUG_SIZE_DEFAULT ((uint64_t)500 << 20)

struct build_limits {
	int compile_timeout_sec;
	uint64_t max_slug_size;  /* compressed bytes */
	char *build_dir;         /* owned; NULL when not set */
	char *tmpfs;             /* owned; NULL when not set */
	char *stack;             /* owned; NULL until loaded */
	int timings;             /* print each stage's time after "Released" */
	uint64_t max_unpacked;   /* bytes of files in the slug, uncompressed */
	uint64_t max_files;      /* files, symlinks and directories in the slug */
	uint64_t max_output;     /* bytes of build output kept, head and tail; 0 = all */
};
#define BUILD_LIMITS_INIT { .compile_timeout_sec = BUILD_LIMITS_COMPILE_TIMEOUT_DEFAULT, \
			    .max_slug_size = BUILD_LIMITS_MAX_SLUG_SIZE_DEFAULT }

/*
 * Reads the app's limits; a malformed value is SW_EINVALID naming where it
 * is set.  Release with build_limits_release() (also after a failure).
 */
int build_limits_load(const char *root, const char *app, struct build_limits *out);

void build_limits_release(struct build_limits *l);

#endif
