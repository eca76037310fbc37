/*
 * limits.h - an app's build limits.
 *
 * Each limit is read from the environment first (for tests and one-off
 * runs), then from the app repository's git config, else its default:
 *
 *   compile timeout  $SLIPWAY_COMPILE_TIMEOUT, slipway.compileTimeout,
 *                    900 seconds (15 minutes); "90", "90s", "15m", "1h"
 *   max slug size    $SLIPWAY_MAX_SLUG_SIZE, slipway.maxSlugSize,
 *                    500M; bytes, or with a K, M or G suffix (powers of 1024)
 *
 * and so are the two settings of where builds run (store/buildarea.h):
 *
 *   build directory  $SLIPWAY_BUILD_DIR, slipway.buildDir: an absolute path
 *   tmpfs            $SLIPWAY_TMPFS, slipway.tmpfs: an absolute path or "none"
 *
 *     git --git-dir=<root>/apps/myapp.git config slipway.maxSlugSize 1G
 *
 * The repository's config includes the server user's global git config, so
 * `git config --global slipway.buildDir /srv/builds` sets it for every app.
 */
#ifndef SW_LIMITS_H
#define SW_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#define LIMITS_COMPILE_TIMEOUT_DEFAULT (15 * 60)
#define LIMITS_MAX_SLUG_SIZE_DEFAULT ((uint64_t)500 << 20)

struct build_limits {
	int compile_timeout_sec;
	uint64_t max_slug_size;  /* compressed bytes */
	char *build_dir;         /* malloc'ed; NULL when not set */
	char *tmpfs;             /* malloc'ed; NULL when not set */
};
#define BUILD_LIMITS_INIT { LIMITS_COMPILE_TIMEOUT_DEFAULT, LIMITS_MAX_SLUG_SIZE_DEFAULT, NULL, NULL }

/*
 * Reads the app's limits; a malformed value is SW_EINVALID naming where it
 * is set.  Release with limits_release() (also after a failure).
 */
int limits_load(const char *root, const char *app, struct build_limits *out);

void limits_release(struct build_limits *l);

/* "90", "90s", "15m", "2h" -> seconds (1 to 7 days); SW_EINVALID otherwise. */
int limits_parse_seconds(const char *s, int *out);

/* "1048576", "512K", "500M", "2G" -> bytes (at least 1); SW_EINVALID otherwise. */
int limits_parse_size(const char *s, uint64_t *out);

/* A size as people write it: "500M" when exact, else one decimal ("502.5M"). */
void limits_format_size(uint64_t bytes, char *buf, size_t len);

#endif
