/*
 * paths.h - where everything lives under a root.  Every <root>/... path is
 * built here and nowhere else.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 *   <root>/apps/<app>.git            bare git repository: code + release ledger
 *   <root>/apps/<app>.git/slipway-access      the app's collaborators (access/access.h)
 *   <root>/apps/<app>.git/slipway-buildpacks  the app's buildpack list (builder/buildpacks.h)
 *   <root>/apps/<app>.git/slipway-domains     the app's own host names (store/domains.h)
 *   <root>/apps/<app>.git/slipway-formation   how many of each process type run (store/formation.h)
 *   <root>/apps/<app>.git/slipway-sizes       each process type's size (store/formation.h)
 *   <root>/apps/<app>.git/slipway-maintenance there while maintenance is on (store/maintenance.h)
 *   <root>/apps/<app>.git/slipway-builds/     each build's record and log (store/builds.h)
 *   <root>/apps/<app>.git/slipway-built-<rev> a built slug waiting to be released (builder/build.h)
 *   <root>/store/sha256/<xx>/<hex>.tar.zst    content-addressed slugs (cas.h)
 *   <root>/store/tmp/                slugs being written
 *   <root>/store/verified/<hex>      a slug's verification stamp
 *   <root>/runs/<app>-XXXXXX/app/    a slug's files, copied for one run of its code
 *   <root>/runs/<app>.<TYPE.N>-XXXXXX/app/  an instance's /app: its overlay's mount point (or copy)
 *   <root>/unpacked/trees/<hex>/     a slug's files, extracted once, shared read-only (exec/slugtree.h)
 *   <root>/unpacked/trees/<hex>.lock held while that tree is extracted
 *   <root>/unpacked/                 besides trees/: shared slug trees of older versions (gc removes them)
 *   <root>/cache/<app>/              buildpack cache (CACHE_DIR), kept between builds
 *   <root>/builds/<app>/             build directories, when not on a tmpfs
 *   <root>/buildpacks-cache/<hex>/   buildpacks fetched from git URLs
 *   <root>/sandbox-checked/<hex>     the sandbox started with these settings (exec/sbcheck.h)
 *   <root>/services/                 the supervision tree's scan directory (s6)
 *   <root>/services/<service>/       one service: an instance, the router, a watch
 *   <root>/logs/                     the runtime's own logs
 *   <root>/logs/<app>/               an app's logs (runtime/logs.h)
 *   <root>/router/                   the router's prefix: nginx.conf, apps/<app>.conf, pages/ (runtime/router.h)
 *   <root>/certs/                    the apps' certificates (0700, store/certs.h)
 *   <root>/certs/<app>.pem           an app's certificate chain and private key (0600)
 *   <root>/certs/<app>.hsts          its HSTS state (store/hsts.h)
 *   <root>/acme/                     automatic certificates (runtime/acme.h)
 *   <root>/acme/webroot/.well-known/acme-challenge/<token>  an ACME HTTP-01 answer the router serves
 *   <root>/acme/account/             the server's ACME account and its key (0700)
 *   <root>/acme/apps/<app>/          the app's ACME state (0700): there while certs:auto is on
 *   <root>/acme/<file>               the hook uacme runs, the CA bundle it trusts
 *   <root>/hosts/                    the run hosts this control uses (0700, store/hosts.h)
 *   <root>/hosts/hosts               their list, one "NAME URL VERSION" a line
 *   <root>/hosts/id_ed25519[.pub]    the control's own ssh key for them (0600, runtime/nodes.h)
 *   <root>/hosts/known_hosts         their ssh host keys, learnt when each joined
 *   <root>/locks/<app>.lock          per-app writer lock (util/lock.h)
 *   <root>/locks/<app>.access.lock   lock of the app's collaborator list
 *   <root>/locks/all_apps.domains.lock  held while a domain is given to an app
 *   <root>/locks/apps_create.lock    held while a remote user's apps are counted and one created
 *   <root>/locks/addons.lock         held while an add-on is named, given a port and created
 *   <root>/addons/<name>/            one add-on (store/addons.h): its record, credentials, data
 *   <root>/logs/addon.<name>/        an add-on server's log (s6-log; no app name has a dot)
 *   <root>/backups/<name>/           an add-on's backups (store/backups.h): kept when it is destroyed
 *   <root>/backups/.template-<major>/  a fresh cluster that restore tests copy (runtime/addon_backup.h)
 *   <root>/dashboard/                the dashboard's private directory (0700, dashboard/session.h)
 *   <root>/dashboard/dashboard.sock  the socket nginx passes the dashboard's requests to (SCGI)
 *   <root>/dashboard/tokens/<hex>    a one-time login token, named by its secret's SHA-256
 *   <root>/dashboard/sessions/<hex>  a session, named by its cookie secret's SHA-256
 *   <root>/dashboard/static/         the dashboard's scripts nginx serves (dashboard/assets.h)
 *
 * Each function returns a malloc'ed path; none checks that it exists.
 * scripts/check-layers refuses a path formatted from a root anywhere else.
 * Callers have checked `app` (store/app.h app_name_check) and `hex`
 * (store/cas.h cas_valid_hex).
 */
#ifndef SW_PATHS_H
#define SW_PATHS_H

/* <root>/apps */
char *paths_apps_dir(const char *root);

/* <root>/apps/<app>.git */
char *app_repo_path(const char *root, const char *app);

/* <root>/apps/<app>.git/slipway-access */
char *paths_access_file(const char *root, const char *app);

/* <root>/apps/<app>.git/slipway-buildpacks */
char *paths_buildpacks_file(const char *root, const char *app);

/* <root>/apps/<app>.git/slipway-domains */
char *paths_domains_file(const char *root, const char *app);

/* <root>/apps/<app>.git/slipway-hosts */
char *paths_apphosts_file(const char *root, const char *app);
/* the run hosts the app's release was applied to (store/apphosts.h) */
char *paths_apphosts_placed_file(const char *root, const char *app);

/* <root>/apps/<app>.git/slipway-formation */
char *paths_formation_file(const char *root, const char *app);

/* <root>/apps/<app>.git/slipway-applied: on a run host, the desired state it runs (release/apply.h) */
char *paths_applied_file(const char *root, const char *app);
/* <root>/apps/<app>.git/slipway-prepared: a release prepared and waiting for its switch (release/activate.h) */
char *paths_prepared_file(const char *root, const char *app);

/* <root>/apps/<app>.git/slipway-sizes */
char *paths_sizes_file(const char *root, const char *app);

/* <root>/apps/<app>.git/slipway-maintenance */
char *paths_maintenance_file(const char *root, const char *app);

/* <root>/apps/<app>.git/slipway-builds */
char *paths_builds_records(const char *root, const char *app);

/* <root>/apps/<app>.git/slipway-builds/<id>.<ext> */
char *paths_build_record(const char *root, const char *app, int id, const char *ext);

/* <root>/apps/<app>.git/slipway-builds/last: the newest build's number, ever */
char *paths_builds_last(const char *root, const char *app);

/* The names of the built-slug files in the app's repository start with this. */
#define PATHS_BUILT_PREFIX "slipway-built-"

/* <root>/apps/<app>.git/slipway-built-<rev> */
char *paths_built(const char *root, const char *app, const char *rev);

/* <root>/cache/<app> */
char *app_cache_path(const char *root, const char *app);

/* <root>/locks/<app>.lock */
char *app_lock_path(const char *root, const char *app);

/* <root>/locks/<app>.<what>.lock: a lock of one of the app's files. */
char *paths_app_file_lock(const char *root, const char *app, const char *what);

/* <root>/locks/all_apps.domains.lock ('_': no app's lock either) */
char *paths_domains_lock(const char *root);

/* <root>/locks/apps_create.lock ('_' is in no app name, so no app's lock is this one) */
char *paths_apps_create_lock(const char *root);

/* <root>/builds/<app> */
char *paths_builds(const char *root, const char *app);

/* <root>/store/sha256, the top of the slug store's fan-out. */
char *paths_store_objects(const char *root);

/* <root>/store/sha256/<xx>, where the objects whose hex starts with xx are */
char *paths_store_fan(const char *root, const char *hex);

/* <root>/store/sha256/<xx>/<hex><suffix> */
char *paths_store_object(const char *root, const char *hex, const char *suffix);

/* <root>/store/tmp */
char *paths_store_tmp(const char *root);

/* <root>/store/verified */
char *paths_store_stamps(const char *root);

/* <root>/store/verified/<hex> */
char *paths_store_stamp(const char *root, const char *hex);

/* <root>/sandbox-checked/<hex>: a stamp of a sandbox check that passed (exec/sbcheck.h) */
char *paths_sandbox_checked(const char *root, const char *hex);

/* <root>/unpacked */
char *paths_unpacked_dir(const char *root);

/* <root>/unpacked/trees: the slugs' shared trees (exec/slugtree.h) */
char *paths_trees_dir(const char *root);

/* <root>/unpacked/trees/<hex>: slug hex's files, read-only, shared by its instances (exec/slugtree.h) */
char *paths_tree(const char *root, const char *hex);

/* <root>/unpacked/trees/<hex>.lock: held while the tree is extracted */
char *paths_tree_lock(const char *root, const char *hex);

/* <root>/runs */
char *paths_runs_dir(const char *root);

/* <root>/services */
char *paths_services_dir(const char *root);

/* <root>/services/<service>: one service of the supervision tree (runtime/supervisor.h) */
char *paths_service_dir(const char *root, const char *service);

/* <root>/logs */
char *paths_logs_dir(const char *root);

/* <root>/logs/supervisor.log: what the supervision tree itself says */
char *paths_supervisor_log(const char *root);

/* <root>/logs/<app> */
char *paths_app_logs(const char *root, const char *app);

/* <root>/router */
char *paths_router_dir(const char *root);

/* <root>/router/<name> */
char *paths_router_file(const char *root, const char *name);

/* <root>/router/apps/<app>.conf */
char *paths_router_app(const char *root, const char *app);

/* <root>/certs: the apps' certificates (0700) */
char *paths_certs_dir(const char *root);

/* <root>/certs/<app>.pem: the app's certificate chain and private key (0600) */
char *paths_cert_file(const char *root, const char *app);

/* ../certs/<app>.pem: the same file relative to the router's prefix, as its nginx reads it */
char *paths_cert_from_router(const char *app);

/* <root>/certs/<app>.hsts: the app's HSTS state (store/hsts.h) */
char *paths_hsts_file(const char *root, const char *app);
/* <root>/acme */
char *paths_acme_dir(const char *root);

/* <root>/hosts: the run hosts this control uses (0700) */
char *paths_hosts_dir(const char *root);

/* <root>/hosts/<file>: "hosts" (the list), "id_ed25519" (the key), "known_hosts" */
char *paths_hosts_file(const char *root, const char *file);

/* <root>/locks/hosts.lock: held while the list of hosts changes */
char *paths_hosts_lock(const char *root);

/* <root>/hosts/standby: this server's part in ledger mirroring (store/standby.h) */
char *paths_standby_file(const char *root);

/* <root>/acme/<file>: the hook ("slipway-acme-hook"), the CA bundle ("ca-bundle.pem") */
char *paths_acme_file(const char *root, const char *file);

/* <root>/acme/webroot/.well-known/acme-challenge: the ACME HTTP-01 answers */
char *paths_acme_webroot(const char *root);

/* <root>/acme/webroot/.well-known/acme-challenge/<token>: one answer (token checked) */
char *paths_acme_challenge(const char *root, const char *token);

/* ../acme/webroot/.well-known/acme-challenge: the same directory as the router's nginx reads it */
char *paths_acme_webroot_from_router(void);

/* <root>/acme/account: the server's ACME account (uacme's config directory, 0700) */
char *paths_acme_account(const char *root);

/* <root>/acme/apps/<app>: the app's ACME state (uacme's config directory, 0700) */
char *paths_acme_app(const char *root, const char *app);

/* <root>/addons */
char *paths_addons_dir(const char *root);

/* <root>/addons/<name>: one add-on (store/addons.h) */
char *paths_addon_dir(const char *root, const char *name);

/* <root>/addons/<name>/<file>: a file or directory of the add-on's */
char *paths_addon_file(const char *root, const char *name, const char *file);

/* <root>/locks/addons.lock: held while an add-on is named, given a port and created */
char *paths_addons_lock(const char *root);

/* <root>/logs/addon.<name>: its server's log directory (s6-log) */
char *paths_addon_logs(const char *root, const char *name);

/* <root>/backups */
char *paths_backups_dir(const char *root);

/* <root>/backups/.template-<major>: a pristine cluster the restore tests' scratch clusters copy */
char *paths_backups_template(const char *root, int major);

/* <root>/backups/<name>: the backups of add-on name (store/backups.h), which outlive it */
char *paths_addon_backups(const char *root, const char *name);

/* <root>/backups/<name>/<file>: a backup's record or dump */
char *paths_addon_backup_file(const char *root, const char *name, const char *file);

/* <root>/buildpacks-cache */
char *paths_buildpacks_cache(const char *root);

/* <root>/buildpacks-cache/<hex>: a buildpack fetched from a git URL */
char *paths_buildpack_cached(const char *root, const char *hex);

/* <root>/dashboard: the dashboard's private directory (0700) */
char *paths_dashboard_dir(const char *root);

/* <root>/dashboard/dashboard.sock: the dashboard's SCGI socket */
char *paths_dashboard_socket(const char *root);

/* <root>/dashboard/<kind>: "tokens" or "sessions" (dashboard/session.h), "static" (assets.h) */
char *paths_dashboard_kind(const char *root, const char *kind);

/* <root>/dashboard/<kind>/<hex>: one token or session, named by its secret's SHA-256 */
char *paths_dashboard_entry(const char *root, const char *kind, const char *hex);

#endif
