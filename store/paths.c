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

char *paths_repo_file(const char *root, const char *app, const char *name)
{
	return xasprintf("%s/apps/%s.git/%s", root, app, name);
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

char *paths_runs_dir(const char *root)
{
	return xasprintf("%s/runs", root);
}

char *paths_services_dir(const char *root)
{
	return xasprintf("%s/services", root);
}

char *paths_logs_dir(const char *root)
{
	return xasprintf("%s/logs", root);
}

char *paths_buildpacks_cache(const char *root)
{
	return xasprintf("%s/buildpacks-cache", root);
}
