/*
 * settings.h - every knob of Slipway, read one way, described in one table.
 *
 * Part of store/: uses only util/; prints nothing (the reference and the
 * trace go to the FILE * they are given).
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
 * The settings themselves are the rows of settings_table[] (settings.c):
 * name, environment variable, type, scope, default, bounds and a line of
 * help each.  The typed getters check a value against its row;
 * `slipway settings` shows every row's effective value, and
 * docs/settings.md is settings_write_reference()'s output (regenerate it
 * with build/slipway-docgen settings > docs/settings.md).  Adding a
 * setting: its SETTING_ID_* below, its row in settings.c, the reference
 * regenerated.
 *
 *     struct settings *s;
 *     if (settings_open(&s, root, app) < 0) ...;
 *     int t;
 *     err = settings_seconds(s, &SETTING_COMPILE_TIMEOUT, &t);
 *     settings_free(s);
 *
 * One snapshot per process: settings_open() of the same app (or of the
 * server-wide settings) reads the git config once and hands out that
 * snapshot again, as long as the config files it was read from (the
 * repository's, the global, XDG and system ones) are the same files, the
 * same size and time; a changed file (git config writes a new one) is read
 * again.  An included file's change is not noticed.  With
 * SLIPWAY_TRACE_SETTINGS=1, the slipway command has each snapshot actually
 * read print one line to stderr (settings_trace()): a debugging aid, and
 * how the tests count them.
 */
#ifndef SW_SETTINGS_H
#define SW_SETTINGS_H

#include <stdint.h>
#include <stdio.h>

#include "util/util.h"

enum setting_type {
	SETTING_TYPE_DURATION,   /* "90", "90s", "15m", "1h" (util/units.h) */
	SETTING_TYPE_SIZE,       /* "4096", "512K", "500M", "2G" (util/units.h) */
	SETTING_TYPE_COUNT,      /* a whole number within the row's bounds */
	SETTING_TYPE_BOOL,       /* git's booleans */
	SETTING_TYPE_STRING,     /* free text, checked where it is used */
	SETTING_TYPE_PATH,       /* an absolute path */
	SETTING_TYPE_PROGRAM,    /* a program: a path, or a name looked up in PATH */
	SETTING_TYPE_LIST,       /* an argv, one word per value (settings_list) */
	SETTING_TYPE_PORT,       /* a TCP port, 1 to 65535 */
	SETTING_TYPE_PORT_RANGE, /* "FIRST-LAST" within 1024-65535 */
	SETTING_TYPE_ADDRESS,    /* an IPv4 address */
	SETTING_TYPE_HOST,       /* a host name */
	SETTING_TYPE_ENUM,       /* one of the row's values */
};

enum setting_scope {
	SETTING_SCOPE_APP,    /* per app: the app's repository, then the global config */
	SETTING_SCOPE_SERVER, /* server-wide: the global config only */
};

/* A row of settings_table[]. */
struct setting {
	const char *key;          /* git config name: "slipway.compileTimeout" */
	const char *env;          /* environment variable, or NULL: git config only */
	enum setting_type type;
	enum setting_scope scope;
	const char *def;          /* the default as it would be written, or NULL: unset */
	const char *def_doc;      /* a default decided elsewhere, in words; NULL: def */
	uint64_t min, max;        /* SETTING_TYPE_COUNT's bounds */
	const char *unit;         /* counts and enums: what it is, for the message */
	int zero_off;             /* durations, sizes, counts: "0" is accepted and means none */
	const char *values;       /* SETTING_TYPE_ENUM: the words, "own|system" */
	const char *help;         /* one line: what it decides */
};

/* The rows' indexes, in the order of the table (and of the reference). */
enum setting_id {
	SETTING_ID_COMPILE_TIMEOUT,
	SETTING_ID_MAX_SLUG_SIZE,
	SETTING_ID_MAX_SLUG_UNPACKED_SIZE,
	SETTING_ID_MAX_SLUG_FILES,
	SETTING_ID_MAX_BUILD_OUTPUT,
	SETTING_ID_TMP_SIZE,
	SETTING_ID_APP_OVERLAY,
	SETTING_ID_APP_WRITE_SIZE,
	SETTING_ID_BUILD_DIR,
	SETTING_ID_TMPFS,
	SETTING_ID_STACK,
	SETTING_ID_BUILD_NETWORK,
	SETTING_ID_APP_NETWORK,
	SETTING_ID_SANDBOX,
	SETTING_ID_BWRAP,
	SETTING_ID_TIMINGS,
	SETTING_ID_KEEP_BUILDS,
	SETTING_ID_BRANCH,
	SETTING_ID_REJECT_FAILED_BUILDS,
	SETTING_ID_FAILED_RELEASE_EXIT,
	SETTING_ID_RELEASE_TIMEOUT,
	SETTING_ID_ON_RELEASE,
	SETTING_ID_BOOT_TIMEOUT,
	SETTING_ID_STOP_TIMEOUT,
	SETTING_ID_WATCH,
	SETTING_ID_WARM_PREVIOUS,
	SETTING_ID_PORT_RANGE,
	SETTING_ID_ADDON_PORT_RANGE,
	SETTING_ID_ADDON_BACKUPS,
	SETTING_ID_MAX_INSTANCES,
	SETTING_ID_MEMORY,
	SETTING_ID_MAX_PROCESSES,
	SETTING_ID_BUILD_MEMORY,
	SETTING_ID_HTTP_PORT,
	SETTING_ID_HTTPS_PORT,
	SETTING_ID_ACME_DIRECTORY,
	SETTING_ID_ACME_CA_BUNDLE,
	SETTING_ID_ACME_EMAIL,
	SETTING_ID_ACME_RESOLVER,
	SETTING_ID_ACME_CAA_IDENTITY,
	SETTING_ID_ACME_HTTP_PORT,
	SETTING_ID_HTTP_ADDRESS,
	SETTING_ID_DOMAIN,
	SETTING_ID_DASHBOARD_HOST,
	SETTING_ID_MAINTENANCE_PAGE,
	SETTING_ID_ROUTER,
	SETTING_ID_NGINX,
	SETTING_ID_ROUTER_RELOAD,
	SETTING_ID_ROUTER_CONNECTIONS,
	SETTING_ID_ROUTER_CLIENT_CONNECTIONS,
	SETTING_ID_MAX_REQUEST_SIZE,
	SETTING_ID_LOCK_TIMEOUT,
	SETTING_ID_CLIENT_TIMEOUT,
	SETTING_ID_BUILDPACKS_DIR,
	SETTING_ID_AUTHORIZED_KEYS,
	SETTING_ID_GIT_URL,
	SETTING_ID_SSH_APPS_CREATE,
	SETTING_ID_SSH_APPS_CREATORS,
	SETTING_ID_REPO_URL,
	SETTING_ID_S3_ENDPOINT,
	SETTING_ID_S3_BUCKET,
	SETTING_ID_S3_REGION,
	SETTING_ID_S3_ACCESS_KEY_ID,
	SETTING_ID_S3_SECRET_FILE,
	SETTING_ID_STANDBY,
	SETTINGS_COUNT
};

extern const struct setting settings_table[SETTINGS_COUNT];

#define SETTING_COMPILE_TIMEOUT (settings_table[SETTING_ID_COMPILE_TIMEOUT])
#define SETTING_MAX_SLUG_SIZE (settings_table[SETTING_ID_MAX_SLUG_SIZE])
#define SETTING_MAX_SLUG_UNPACKED_SIZE (settings_table[SETTING_ID_MAX_SLUG_UNPACKED_SIZE])
#define SETTING_MAX_SLUG_FILES (settings_table[SETTING_ID_MAX_SLUG_FILES])
#define SETTING_MAX_BUILD_OUTPUT (settings_table[SETTING_ID_MAX_BUILD_OUTPUT])
#define SETTING_TMP_SIZE (settings_table[SETTING_ID_TMP_SIZE])
#define SETTING_APP_OVERLAY (settings_table[SETTING_ID_APP_OVERLAY])
#define SETTING_APP_WRITE_SIZE (settings_table[SETTING_ID_APP_WRITE_SIZE])
#define SETTING_BUILD_DIR (settings_table[SETTING_ID_BUILD_DIR])
#define SETTING_TMPFS (settings_table[SETTING_ID_TMPFS])
#define SETTING_STACK (settings_table[SETTING_ID_STACK])
#define SETTING_BUILD_NETWORK (settings_table[SETTING_ID_BUILD_NETWORK])
#define SETTING_APP_NETWORK (settings_table[SETTING_ID_APP_NETWORK])
#define SETTING_SANDBOX (settings_table[SETTING_ID_SANDBOX])
#define SETTING_BWRAP (settings_table[SETTING_ID_BWRAP])
#define SETTING_TIMINGS (settings_table[SETTING_ID_TIMINGS])
#define SETTING_KEEP_BUILDS (settings_table[SETTING_ID_KEEP_BUILDS])
#define SETTING_BRANCH (settings_table[SETTING_ID_BRANCH])
#define SETTING_REJECT_FAILED_BUILDS (settings_table[SETTING_ID_REJECT_FAILED_BUILDS])
#define SETTING_FAILED_RELEASE_EXIT (settings_table[SETTING_ID_FAILED_RELEASE_EXIT])
#define SETTING_RELEASE_TIMEOUT (settings_table[SETTING_ID_RELEASE_TIMEOUT])
#define SETTING_ON_RELEASE (settings_table[SETTING_ID_ON_RELEASE])
#define SETTING_BOOT_TIMEOUT (settings_table[SETTING_ID_BOOT_TIMEOUT])
#define SETTING_STOP_TIMEOUT (settings_table[SETTING_ID_STOP_TIMEOUT])
#define SETTING_WATCH (settings_table[SETTING_ID_WATCH])
#define SETTING_WARM_PREVIOUS (settings_table[SETTING_ID_WARM_PREVIOUS])
#define SETTING_PORT_RANGE (settings_table[SETTING_ID_PORT_RANGE])
#define SETTING_ADDON_PORT_RANGE (settings_table[SETTING_ID_ADDON_PORT_RANGE])
#define SETTING_ADDON_BACKUPS (settings_table[SETTING_ID_ADDON_BACKUPS])
#define SETTING_MAX_INSTANCES (settings_table[SETTING_ID_MAX_INSTANCES])
#define SETTING_MEMORY (settings_table[SETTING_ID_MEMORY])
#define SETTING_MAX_PROCESSES (settings_table[SETTING_ID_MAX_PROCESSES])
#define SETTING_BUILD_MEMORY (settings_table[SETTING_ID_BUILD_MEMORY])
#define SETTING_HTTP_PORT (settings_table[SETTING_ID_HTTP_PORT])
#define SETTING_HTTPS_PORT (settings_table[SETTING_ID_HTTPS_PORT])
#define SETTING_ACME_DIRECTORY (settings_table[SETTING_ID_ACME_DIRECTORY])
#define SETTING_ACME_CA_BUNDLE (settings_table[SETTING_ID_ACME_CA_BUNDLE])
#define SETTING_ACME_EMAIL (settings_table[SETTING_ID_ACME_EMAIL])
#define SETTING_ACME_RESOLVER (settings_table[SETTING_ID_ACME_RESOLVER])
#define SETTING_ACME_CAA_IDENTITY (settings_table[SETTING_ID_ACME_CAA_IDENTITY])
#define SETTING_ACME_HTTP_PORT (settings_table[SETTING_ID_ACME_HTTP_PORT])
#define SETTING_HTTP_ADDRESS (settings_table[SETTING_ID_HTTP_ADDRESS])
#define SETTING_DOMAIN (settings_table[SETTING_ID_DOMAIN])
#define SETTING_DASHBOARD_HOST (settings_table[SETTING_ID_DASHBOARD_HOST])
#define SETTING_MAINTENANCE_PAGE (settings_table[SETTING_ID_MAINTENANCE_PAGE])
#define SETTING_ROUTER (settings_table[SETTING_ID_ROUTER])
#define SETTING_NGINX (settings_table[SETTING_ID_NGINX])
#define SETTING_ROUTER_RELOAD (settings_table[SETTING_ID_ROUTER_RELOAD])
#define SETTING_ROUTER_CONNECTIONS (settings_table[SETTING_ID_ROUTER_CONNECTIONS])
#define SETTING_ROUTER_CLIENT_CONNECTIONS (settings_table[SETTING_ID_ROUTER_CLIENT_CONNECTIONS])
#define SETTING_MAX_REQUEST_SIZE (settings_table[SETTING_ID_MAX_REQUEST_SIZE])
#define SETTING_LOCK_TIMEOUT (settings_table[SETTING_ID_LOCK_TIMEOUT])
#define SETTING_CLIENT_TIMEOUT (settings_table[SETTING_ID_CLIENT_TIMEOUT])
#define SETTING_BUILDPACKS_DIR (settings_table[SETTING_ID_BUILDPACKS_DIR])
#define SETTING_AUTHORIZED_KEYS (settings_table[SETTING_ID_AUTHORIZED_KEYS])
#define SETTING_GIT_URL (settings_table[SETTING_ID_GIT_URL])
#define SETTING_SSH_APPS_CREATE (settings_table[SETTING_ID_SSH_APPS_CREATE])
#define SETTING_SSH_APPS_CREATORS (settings_table[SETTING_ID_SSH_APPS_CREATORS])
#define SETTING_REPO_URL (settings_table[SETTING_ID_REPO_URL])
#define SETTING_S3_ENDPOINT (settings_table[SETTING_ID_S3_ENDPOINT])
#define SETTING_S3_BUCKET (settings_table[SETTING_ID_S3_BUCKET])
#define SETTING_S3_REGION (settings_table[SETTING_ID_S3_REGION])
#define SETTING_S3_ACCESS_KEY_ID (settings_table[SETTING_ID_S3_ACCESS_KEY_ID])
#define SETTING_S3_SECRET_FILE (settings_table[SETTING_ID_S3_SECRET_FILE])
#define SETTING_STANDBY (settings_table[SETTING_ID_STANDBY])

/* The row named key ("slipway.watch"), or NULL. */
const struct setting *settings_find(const char *key);

/* How the reference and `slipway settings` name a type and a scope: "duration", "server". */
const char *settings_type_name(enum setting_type type);
const char *settings_scope_name(enum setting_scope scope);

struct settings;

/*
 * Opens the settings of one app (its repository's config, which includes
 * the global one) or, with app NULL, the server-wide ones.  The config is
 * read here, or was read by an earlier open of the same settings in this
 * process whose files have not changed since (above).
 */
int settings_open(struct settings **out, const char *root, const char *app);

/* The same for the app repository at git_dir (a hook's GIT_DIR). */
int settings_open_repo(struct settings **out, const char *git_dir);

/* Gives s back (NULL is fine); the snapshot stays for the next open. */
void settings_free(struct settings *s);

/*
 * With f non-NULL, each snapshot actually read from the git config writes
 * one line to f: "settings: read the git config of app '<path>'" (or "of
 * the server" for the server-wide settings), with the process id.  NULL
 * stops it.
 */
void settings_trace(FILE *f);

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

/* A duration in seconds (util/units.h); "0" is 0 where the row says zero_off. */
int settings_seconds(struct settings *s, const struct setting *def, int *out);

/* A size in bytes (util/units.h); "0" is 0 where the row says zero_off. */
int settings_size(struct settings *s, const struct setting *def, uint64_t *out);

/* A whole number within the row's min and max (default 1 to 1,000,000,000). */
int settings_count(struct settings *s, const struct setting *def, uint64_t *out);

/*
 * One of a SETTING_TYPE_ENUM row's values: *index is its place in the
 * row's values (0 for the first).  Anything else is SW_EINVALID ("invalid
 * <unit> 'x': use bwrap or none"), blamed on where it was set.
 */
int settings_enum(struct settings *s, const struct setting *def, int *index);

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

/* Where an effective value comes from, as `slipway settings` names it. */
enum setting_origin {
	SETTING_FROM_DEFAULT,
	SETTING_FROM_ENV,
	SETTING_FROM_APP,    /* the app repository's config */
	SETTING_FROM_GLOBAL, /* the server user's global (or XDG, or system) config */
};

const char *settings_origin_name(enum setting_origin from); /* "default", "environment", ... */

/*
 * def's effective value in s and where it comes from: *value malloc'ed,
 * NULL when set nowhere and without a default; a list's values joined by
 * spaces.  Not checked against the row (the typed getters do that).
 */
int settings_effective(struct settings *s, const struct setting *def, char **value,
		       enum setting_origin *from);

/*
 * Writes docs/settings.md, the settings reference, to f: one table row per
 * row of settings_table[].  Returns 0, or -1 when f has an error.
 */
int settings_write_reference(FILE *f);

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
 * Whether the remote user may run apps:create (slipway.sshAppsCreate):
 * "allowed" gives -1 (no limit), "denied" 0, a number N (0 to
 * SETTINGS_APPS_MAX) that many apps per user.  Anything else is
 * SW_EINVALID, blamed on where it was set.  A user named in
 * slipway.sshAppsCreators gets -1 whatever slipway.sshAppsCreate says
 * (once that is valid); user NULL: the setting alone.
 */
int settings_ssh_apps_create(const char *user, int *max);

/*
 * The git URL remote users push app to, from slipway.gitUrl: a format
 * with one %s for the app name ("git@deploy.example.com:%s.git").  *out
 * is malloc'ed, or NULL when the setting is unset.  A format without
 * exactly one %s, or with any other %, is SW_EINVALID, blamed on where it
 * was set.
 */
int settings_git_url(const char *app, char **out);

/*
 * slipway.repoUrl, the link of a commit (per app): a format starting with
 * http:// or https:// with exactly one %s for the commit's hash, no other
 * %, and no space, quote or control character
 * ("https://github.com/org/repo/commit/%s").  settings_repo_url_check() is
 * 0 for such a format, else SW_EINVALID with a message saying how to write
 * it.
 */
int settings_repo_url_check(const char *fmt);

/* The app's format, checked (blamed on where it was set), *out NULL when unset. */
int settings_repo_url(struct settings *s, char **out);

/*
 * Writes fmt (checked first: nothing is written when it is refused) as the
 * app's own slipway.repoUrl in its repository's config; NULL or "" unsets
 * it.
 */
int settings_set_repo_url(const char *root, const char *app, const char *fmt);

/*
 * The environment the settings are read with (HOME's git config and the
 * SLIPWAY_* variables), appended to env as "NAME=value" entries: s6 gives
 * the services it runs none of it, so a service that reads settings gets
 * them in its run script.  Never the user names a remote user's session
 * sets (SLIPWAY_USER, SLIPWAY_SHELL_USER): a service acts for no one.
 */
void settings_env(struct strvec *env);

#endif
