/*
 * paths.h - where everything lives under a root.  Every <root>/... path is
 * built here and nowhere else.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 *   <root>/apps/<app>.git            bare git repository: code + release ledger
 *   <root>/apps/<app>.git/slipway-access      the app's collaborators
 *   <root>/apps/<app>.git/slipway-buildpacks  the app's buildpack list
 *   <root>/store/sha256/<xx>/<hex>.tar.zst    content-addressed slugs (cas.h)
 *   <root>/store/tmp/                slugs being written
 *   <root>/store/verified/<hex>      a slug's verification stamp
 *   <root>/runs/<app>-XXXXXX/app/    a slug's files, copied for one run of its code
 *   <root>/unpacked/                 shared slug trees of older versions (gc removes it)
 *   <root>/cache/<app>/              buildpack cache (CACHE_DIR), kept between builds
 *   <root>/builds/<app>/             build directories, when not on a tmpfs
 *   <root>/buildpacks-cache/<hex>/   buildpacks fetched from git URLs
 *   <root>/services/                 the supervision tree's scan directory (s6)
 *   <root>/logs/                     the runtime's own logs
 *   <root>/locks/<app>.lock          per-app writer lock (util/lock.h)
 *   <root>/locks/<app>.access.lock   lock of the app's collaborator list
 *   <root>/locks/apps_create.lock    held while a remote user's apps are counted and one created
 *
 * Each function returns a malloc'ed path; none checks that it exists.
 * Callers have checked `app` (store/app.h app_name_check) and `hex`
 * (store/cas.h cas_valid_hex).
 */
#ifndef SW_PATHS_H
#define SW_PATHS_H

/* <root>/apps */
char *paths_apps_dir(const char *root);

/* <root>/apps/<app>.git */
char *app_repo_path(const char *root, const char *app);

/* <root>/apps/<app>.git/<name>: a file of Slipway's inside the app's repository. */
char *paths_repo_file(const char *root, const char *app, const char *name);

/* <root>/cache/<app> */
char *app_cache_path(const char *root, const char *app);

/* <root>/locks/<app>.lock */
char *app_lock_path(const char *root, const char *app);

/* <root>/locks/<app>.<what>.lock: a lock of one of the app's files. */
char *paths_app_file_lock(const char *root, const char *app, const char *what);

/* <root>/locks/apps_create.lock ('_' is in no app name, so no app's lock is this one) */
char *paths_apps_create_lock(const char *root);

/* <root>/builds/<app> */
char *paths_builds(const char *root, const char *app);

/* <root>/store/sha256, the top of the slug store's fan-out. */
char *paths_store_objects(const char *root);

/* <root>/store/sha256/<xx>/<hex><suffix> */
char *paths_store_object(const char *root, const char *hex, const char *suffix);

/* <root>/store/tmp */
char *paths_store_tmp(const char *root);

/* <root>/store/verified */
char *paths_store_stamps(const char *root);

/* <root>/store/verified/<hex> */
char *paths_store_stamp(const char *root, const char *hex);

/* <root>/unpacked */
char *paths_unpacked_dir(const char *root);

/* <root>/runs */
char *paths_runs_dir(const char *root);

/* <root>/services */
char *paths_services_dir(const char *root);

/* <root>/logs */
char *paths_logs_dir(const char *root);

/* <root>/buildpacks-cache */
char *paths_buildpacks_cache(const char *root);

#endif
