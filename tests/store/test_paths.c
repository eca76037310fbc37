/*
 * store/paths: where everything lives under a root, as store/paths.h
 * draws it - the places other modules used to build themselves.
 */
#include "store/paths.h"

#include <criterion/criterion.h>
#include <stdlib.h>

static void is(char *got, const char *want)
{
	cr_assert_str_eq(got, want);
	free(got);
}

Test(paths, the_files_of_the_app_repository)
{
	is(paths_access_file("/r", "app"), "/r/apps/app.git/slipway-access");
	is(paths_buildpacks_file("/r", "app"), "/r/apps/app.git/slipway-buildpacks");
	is(paths_domains_file("/r", "app"), "/r/apps/app.git/slipway-domains");
	is(paths_formation_file("/r", "app"), "/r/apps/app.git/slipway-formation");
	is(paths_maintenance_file("/r", "app"), "/r/apps/app.git/slipway-maintenance");
	is(paths_builds_records("/r", "app"), "/r/apps/app.git/slipway-builds");
	is(paths_build_record("/r", "app", 12, "log"), "/r/apps/app.git/slipway-builds/12.log");
	is(paths_builds_last("/r", "app"), "/r/apps/app.git/slipway-builds/last");
	is(paths_built("/r", "app", "abc123"), "/r/apps/app.git/" PATHS_BUILT_PREFIX "abc123");
}

Test(paths, the_router_logs_store_and_locks)
{
	is(paths_router_dir("/r"), "/r/router");
	is(paths_router_file("/r", "nginx.conf"), "/r/router/nginx.conf");
	is(paths_router_file("/r", ""), "/r/router/");
	is(paths_router_app("/r", "app"), "/r/router/apps/app.conf");
	is(paths_app_logs("/r", "app"), "/r/logs/app");
	is(paths_supervisor_log("/r"), "/r/logs/supervisor.log");
	is(paths_service_dir("/r", "router"), "/r/services/router");
	is(paths_store_fan("/r", "abcdef"), "/r/store/sha256/ab");
	is(paths_store_object("/r", "abcdef", ".tar.zst"), "/r/store/sha256/ab/cdef.tar.zst");
	is(paths_buildpack_cached("/r", "0f0f"), "/r/buildpacks-cache/0f0f");
	is(paths_domains_lock("/r"), "/r/locks/all_apps.domains.lock");
	is(paths_app_file_lock("/r", "app", "access"), "/r/locks/app.access.lock");
}

Test(paths, the_hosts_and_acme_files)
{
	is(paths_hosts_file("/r", "known_hosts"), "/r/hosts/known_hosts");
	is(paths_standby_file("/r"), "/r/hosts/standby");
	is(paths_acme_file("/r", "ca-bundle.pem"), "/r/acme/ca-bundle.pem");
	is(paths_acme_account("/r"), "/r/acme/account");
	is(paths_acme_webroot("/r"), "/r/acme/webroot/.well-known/acme-challenge");
	is(paths_acme_challenge("/r", "tok"), "/r/acme/webroot/.well-known/acme-challenge/tok");
	is(paths_acme_webroot_from_router(), "../acme/webroot/.well-known/acme-challenge");
}
