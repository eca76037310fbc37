/*
 * settings.h - every knob of Slipway, read one way.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * A setting has a git config name and, for most, an environment variable.
 * Its value is the first of:
 *
 *   1. the environment variable (for tests, one-off runs and services),
 *   2. the app repository's git config (per app:
 *      git --git-dir=<root>/apps/APP.git config slipway.maxSlugSize 1G),
 *   3. the server user's global git config (every app:
 *      git config --global slipway.buildDir /srv/builds),
 *   4. the default.
 *
 * Server-wide settings skip step 2.  An empty environment variable counts
 * as unset.  A malformed value is refused with SW_EINVALID and a message
 * that says where it was set ("$SLIPWAY_COMPILE_TIMEOUT: invalid timeout
 * 'x': ..." or "git config slipway.compileTimeout: ...").
 *
 *   name                        environment                scope   default
 *   slipway.compileTimeout      SLIPWAY_COMPILE_TIMEOUT    app     15m
 *   slipway.maxSlugSize         SLIPWAY_MAX_SLUG_SIZE      app     500M
 *   slipway.buildDir            SLIPWAY_BUILD_DIR          app     (builder/buildarea.h)
 *   slipway.tmpfs               SLIPWAY_TMPFS              app     /dev/shm
 *   slipway.stack               SLIPWAY_STACK              app     heroku-22
 *   slipway.releaseTimeout      SLIPWAY_RELEASE_TIMEOUT    app     1h
 *   slipway.branch              -                          app     (main and master)
 *   slipway.rejectFailedBuilds  -                          app     true
 *   slipway.failedReleaseExit   SLIPWAY_FAILED_RELEASE_EXIT app    false
 *   slipway.timings             SLIPWAY_TIMINGS            app     false
 *   slipway.sandbox             SLIPWAY_SANDBOX            app     bwrap (or none)
 *   slipway.bwrap               SLIPWAY_BWRAP              app     bwrap (from PATH)
 *   slipway.buildNetwork        SLIPWAY_BUILD_NETWORK      app     shared (or none)
 *   slipway.maxSlugUnpackedSize SLIPWAY_MAX_SLUG_UNPACKED_SIZE app 2G
 *   slipway.maxSlugFiles        SLIPWAY_MAX_SLUG_FILES     app     1000000
 *   slipway.lockTimeout         SLIPWAY_LOCK_TIMEOUT       server  600 (seconds)
 *   slipway.clientTimeout       SLIPWAY_CLIENT_TIMEOUT     server  60 (seconds)
 *   slipway.bootTimeout         SLIPWAY_BOOT_TIMEOUT       app     60 (seconds)
 *   slipway.stopTimeout         SLIPWAY_STOP_TIMEOUT       app     30 (seconds)
 *   slipway.buildpacksDir       SLIPWAY_BUILDPACKS_DIR     server  where slipway is installed
 *   slipway.authorizedKeys      SLIPWAY_AUTHORIZED_KEYS    server  ~/.ssh/authorized_keys
 *   slipway.gitUrl              -                          server  (none: USER@HOST:APP.git)
 *   slipway.sshAppsCreate       -                          server  denied
 *   slipway.onRelease           -                          app     (none: an argv, settings_list)
 *   slipway.routerConnections   SLIPWAY_ROUTER_CONNECTIONS server  8192 (per router worker)
 *   slipway.routerClientConnections SLIPWAY_ROUTER_CLIENT_CONNECTIONS server 256 (per address)
 *   slipway.maxRequestSize      SLIPWAY_MAX_REQUEST_SIZE   server  100M (a request's body)
 *   slipway.keepBuilds          SLIPWAY_KEEP_BUILDS        app     100 (builds kept with their output)
 *
 * Durations are written "90", "90s", "15m", "1h"; sizes "4096", "512K",
 * "500M", "2G" (util/units.h).
 *
 *     struct settings *s;
 *     if (settings_open(&s, root, app) < 0) ...;
 *     int t;
 *     err = settings_seconds(s, &SETTING_COMPILE_TIMEOUT, &t);
 *     settings_free(s);
 */
#ifndef SW_SETTINGS_H
#define SW_SETTINGS_H

#include <stdint.h>

#include "util/util.h"

struct setting {
	const char *key;   /* git config name */
	const char *env;   /* environment variable, or NULL */
	const char *def;   /* the default as it would be written, or NULL: unset */
};

extern const struct setting SETTING_COMPILE_TIMEOUT, SETTING_MAX_SLUG_SIZE, SETTING_BUILD_DIR,
	SETTING_TMPFS, SETTING_STACK, SETTING_RELEASE_TIMEOUT, SETTING_BRANCH,
	SETTING_REJECT_FAILED_BUILDS, SETTING_LOCK_TIMEOUT, SETTING_BUILDPACKS_DIR,
	SETTING_AUTHORIZED_KEYS, SETTING_TIMINGS, SETTING_SANDBOX, SETTING_BUILD_NETWORK,
	SETTING_MAX_SLUG_UNPACKED_SIZE, SETTING_MAX_SLUG_FILES, SETTING_BWRAP,
	SETTING_CLIENT_TIMEOUT, SETTING_SSH_APPS_CREATE, SETTING_BOOT_TIMEOUT,
	SETTING_STOP_TIMEOUT, SETTING_PORT_RANGE, SETTING_MAX_INSTANCES, SETTING_ON_RELEASE,
	SETTING_HTTP_PORT, SETTING_HTTP_ADDRESS, SETTING_DOMAIN, SETTING_MAINTENANCE_PAGE,
	SETTING_NGINX, SETTING_WATCH, SETTING_ROUTER, SETTING_ROUTER_RELOAD, SETTING_KEEP_BUILDS,
	SETTING_FAILED_RELEASE_EXIT, SETTING_ROUTER_CONNECTIONS, SETTING_ROUTER_CLIENT_CONNECTIONS,
	SETTING_MAX_REQUEST_SIZE;
extern const struct setting SETTING_MAX_BUILD_OUTPUT;

struct settings;

/*
 * Opens the settings of one app (its repository's config, which includes
 * the global one) or, with app NULL, the server-wide ones.  The config is
 * read once, here: later changes are not seen.
 */
int settings_open(struct settings **out, const char *root, const char *app);

/* The same for the app repository at git_dir (a hook's GIT_DIR). */
int settings_open_repo(struct settings **out, const char *git_dir);

void settings_free(struct settings *s);

/*
 * The value as written (malloc'ed), the default when set nowhere, NULL when
 * there is neither.
 */
int settings_string(struct settings *s, const struct setting *def, char **out);

/*
 * A multi-valued setting (git config --add KEY VALUE, once per value), in
 * order, each value one item of out (cleared first).  The values are those
 * of the most specific config that has any - the app repository's replace
 * the global ones entirely; none set: out is empty.  No environment
 * variable, no default.
 */
int settings_list(struct settings *s, const struct setting *def, struct strvec *out);

/* A duration in seconds (util/units.h). */
int settings_seconds(struct settings *s, const struct setting *def, int *out);

/* A size in bytes (util/units.h). */
int settings_size(struct settings *s, const struct setting *def, uint64_t *out);

/* A whole number from 1 to 1,000,000,000. */
int settings_count(struct settings *s, const struct setting *def, uint64_t *out);

/* true/false, yes/no, on/off, 1/0 (git's booleans). */
int settings_bool(struct settings *s, const struct setting *def, int *out);

/*
 * A range of TCP ports "FIRST-LAST" (1024 to 65535, FIRST <= LAST), as
 * slipway.portRange is written.
 */
int settings_port_range(struct settings *s, const struct setting *def, int *first, int *last);

/*
 * Prefixes the last error with where def's current value was set, as the
 * typed getters do: for checks the caller makes itself.  Returns err.
 */
int settings_blame(struct settings *s, const struct setting *def, int err);

/*
 * A duration read on its own: the settings of app (NULL: server-wide)
 * opened, read and closed.
 */
int settings_read_seconds(const char *root, const char *app, const struct setting *def,
			  int *seconds);

/*
 * Server-wide shortcuts, each opening the settings once: how long to wait
 * for an app's lock (slipway.lockTimeout).
 */
int settings_lock_wait(int *seconds);

/* How long a writer waits for a client that stopped reading (slipway.clientTimeout). */
int settings_client_timeout(int *seconds);

#define SETTINGS_APPS_MAX 100000

/*
 * Whether remote users may run apps:create (slipway.sshAppsCreate):
 * "allowed" gives -1 (no limit), "denied" 0, a number N (0 to
 * SETTINGS_APPS_MAX) that many apps per user.  Anything else is
 * SW_EINVALID, blamed on where it was set.
 */
int settings_ssh_apps_create(int *max);

extern const struct setting SETTING_GIT_URL;

/*
 * The git URL remote users push app to, from slipway.gitUrl: a format
 * with one %s for the app name ("git@deploy.example.com:%s.git").  *out
 * is malloc'ed, or NULL when the setting is unset.  A format without
 * exactly one %s, or with any other %, is SW_EINVALID, blamed on where it
 * was set.
 */
int settings_git_url(const char *app, char **out);

#endif
