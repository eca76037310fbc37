#define _GNU_SOURCE
#include "store/paths.h"

#include "util/util.h"

char *paths_apps_dir(const char *root)
{
	return xasprintf("%s/apps", root);
}

char *app_repo_path(const char *root, const char *app)
{
	return xasprintf("%s/apps/%s.git", root, app);
}

/* <root>/apps/<app>.git/<name>: a file of Slipway's inside the app's repository. */
static char *repo_file(const char *root, const char *app, const char *name)
{
	return xasprintf("%s/apps/%s.git/%s", root, app, name);
}

char *paths_access_file(const char *root, const char *app)
{
	return repo_file(root, app, "slipway-access");
}

char *paths_buildpacks_file(const char *root, const char *app)
{
	return repo_file(root, app, "slipway-buildpacks");
}

char *paths_domains_file(const char *root, const char *app)
{
	return repo_file(root, app, "slipway-domains");
}

char *paths_apphosts_file(const char *root, const char *app)
{
	return repo_file(root, app, "slipway-hosts");
}

char *paths_apphosts_placed_file(const char *root, const char *app)
{
	return repo_file(root, app, "slipway-placed");
}

char *paths_formation_file(const char *root, const char *app)
{
	return repo_file(root, app, "slipway-formation");
}

char *paths_applied_file(const char *root, const char *app)
{
	return repo_file(root, app, "slipway-applied");
}

char *paths_prepared_file(const char *root, const char *app)
{
	return repo_file(root, app, "slipway-prepared");
}

char *paths_sizes_file(const char *root, const char *app)
{
	return repo_file(root, app, "slipway-sizes");
}

char *paths_maintenance_file(const char *root, const char *app)
{
	return repo_file(root, app, "slipway-maintenance");
}

char *paths_builds_records(const char *root, const char *app)
{
	return repo_file(root, app, "slipway-builds");
}

char *paths_build_record(const char *root, const char *app, int id, const char *ext)
{
	return xasprintf("%s/apps/%s.git/slipway-builds/%d.%s", root, app, id, ext);
}

char *paths_builds_last(const char *root, const char *app)
{
	return repo_file(root, app, "slipway-builds/last");
}

char *paths_built(const char *root, const char *app, const char *rev)
{
	return xasprintf("%s/apps/%s.git/" PATHS_BUILT_PREFIX "%s", root, app, rev);
}

char *app_cache_path(const char *root, const char *app)
{
	return xasprintf("%s/cache/%s", root, app);
}

char *app_lock_path(const char *root, const char *app)
{
	return xasprintf("%s/locks/%s.lock", root, app);
}

char *paths_app_file_lock(const char *root, const char *app, const char *what)
{
	return xasprintf("%s/locks/%s.%s.lock", root, app, what);
}

char *paths_domains_lock(const char *root)
{
	return paths_app_file_lock(root, "all_apps", "domains");
}

char *paths_apps_create_lock(const char *root)
{
	return xasprintf("%s/locks/apps_create.lock", root);
}

char *paths_builds(const char *root, const char *app)
{
	return xasprintf("%s/builds/%s", root, app);
}

char *paths_store_objects(const char *root)
{
	return xasprintf("%s/store/sha256", root);
}

char *paths_store_fan(const char *root, const char *hex)
{
	return xasprintf("%s/store/sha256/%.2s", root, hex);
}

char *paths_store_object(const char *root, const char *hex, const char *suffix)
{
	return xasprintf("%s/store/sha256/%.2s/%s%s", root, hex, hex + 2, suffix);
}

char *paths_store_tmp(const char *root)
{
	return xasprintf("%s/store/tmp", root);
}

char *paths_store_stamps(const char *root)
{
	return xasprintf("%s/store/verified", root);
}

char *paths_store_stamp(const char *root, const char *hex)
{
	return xasprintf("%s/store/verified/%s", root, hex);
}

char *paths_unpacked_dir(const char *root)
{
	return xasprintf("%s/unpacked", root);
}

char *paths_trees_dir(const char *root)
{
	return xasprintf("%s/unpacked/trees", root);
}

char *paths_tree(const char *root, const char *hex)
{
	return xasprintf("%s/unpacked/trees/%s", root, hex);
}

char *paths_tree_lock(const char *root, const char *hex)
{
	return xasprintf("%s/unpacked/trees/%s.lock", root, hex);
}

char *paths_runs_dir(const char *root)
{
	return xasprintf("%s/runs", root);
}

char *paths_services_dir(const char *root)
{
	return xasprintf("%s/services", root);
}

char *paths_service_dir(const char *root, const char *service)
{
	return xasprintf("%s/services/%s", root, service);
}

char *paths_logs_dir(const char *root)
{
	return xasprintf("%s/logs", root);
}

char *paths_supervisor_log(const char *root)
{
	return xasprintf("%s/logs/supervisor.log", root);
}

char *paths_app_logs(const char *root, const char *app)
{
	return xasprintf("%s/logs/%s", root, app);
}

char *paths_router_dir(const char *root)
{
	return xasprintf("%s/router", root);
}

char *paths_router_file(const char *root, const char *name)
{
	return xasprintf("%s/router/%s", root, name);
}

char *paths_router_app(const char *root, const char *app)
{
	return xasprintf("%s/router/apps/%s.conf", root, app);
}

char *paths_certs_dir(const char *root)
{
	return xasprintf("%s/certs", root);
}

char *paths_cert_file(const char *root, const char *app)
{
	return xasprintf("%s/certs/%s.pem", root, app);
}

char *paths_cert_from_router(const char *app)
{
	return xasprintf("../certs/%s.pem", app);
}

char *paths_hsts_file(const char *root, const char *app)
{
	return xasprintf("%s/certs/%s.hsts", root, app);
}

char *paths_acme_dir(const char *root)
{
	return xasprintf("%s/acme", root);
}

char *paths_hosts_dir(const char *root)
{
	return xasprintf("%s/hosts", root);
}

char *paths_hosts_file(const char *root, const char *file)
{
	return xasprintf("%s/hosts/%s", root, file);
}

char *paths_standby_file(const char *root)
{
	return paths_hosts_file(root, "standby");
}

char *paths_hosts_lock(const char *root)
{
	return xasprintf("%s/locks/hosts.lock", root);
}

char *paths_acme_file(const char *root, const char *file)
{
	return xasprintf("%s/acme/%s", root, file);
}

/* The ACME answers' directory below the root, as the router's files name it too. */
#define ACME_WEBROOT "acme/webroot/.well-known/acme-challenge"

char *paths_acme_webroot(const char *root)
{
	return xasprintf("%s/" ACME_WEBROOT, root);
}

char *paths_acme_challenge(const char *root, const char *token)
{
	return xasprintf("%s/" ACME_WEBROOT "/%s", root, token);
}

char *paths_acme_webroot_from_router(void)
{
	return xstrdup("../" ACME_WEBROOT);
}

char *paths_acme_account(const char *root)
{
	return paths_acme_file(root, "account");
}

char *paths_acme_app(const char *root, const char *app)
{
	return xasprintf("%s/acme/apps/%s", root, app);
}

char *paths_buildpacks_cache(const char *root)
{
	return xasprintf("%s/buildpacks-cache", root);
}

char *paths_buildpack_cached(const char *root, const char *hex)
{
	return xasprintf("%s/buildpacks-cache/%s", root, hex);
}

char *paths_sandbox_checked(const char *root, const char *hex)
{
	return xasprintf("%s/sandbox-checked/%s", root, hex);
}

char *paths_addons_dir(const char *root)
{
	return xasprintf("%s/addons", root);
}

char *paths_addon_dir(const char *root, const char *name)
{
	return xasprintf("%s/addons/%s", root, name);
}

char *paths_addon_file(const char *root, const char *name, const char *file)
{
	return xasprintf("%s/addons/%s/%s", root, name, file);
}

char *paths_addons_lock(const char *root)
{
	return xasprintf("%s/locks/addons.lock", root);
}

char *paths_addon_logs(const char *root, const char *name)
{
	return xasprintf("%s/logs/addon.%s", root, name);
}

char *paths_backups_dir(const char *root)
{
	return xasprintf("%s/backups", root);
}

char *paths_backups_template(const char *root, int major)
{
	return xasprintf("%s/backups/.template-%d", root, major);
}

char *paths_addon_backups(const char *root, const char *name)
{
	return xasprintf("%s/backups/%s", root, name);
}

char *paths_addon_backup_file(const char *root, const char *name, const char *file)
{
	return xasprintf("%s/backups/%s/%s", root, name, file);
}

char *paths_dashboard_dir(const char *root)
{
	return xasprintf("%s/dashboard", root);
}

char *paths_dashboard_socket(const char *root)
{
	return xasprintf("%s/dashboard/dashboard.sock", root);
}

char *paths_dashboard_kind(const char *root, const char *kind)
{
	return xasprintf("%s/dashboard/%s", root, kind);
}

char *paths_dashboard_entry(const char *root, const char *kind, const char *hex)
{
	return xasprintf("%s/dashboard/%s/%s", root, kind, hex);
}
