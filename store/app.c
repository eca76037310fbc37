#define _GNU_SOURCE
#include "store/app.h"

#include "store/paths.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/gitutil.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int app_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > APP_NAME_MAX || !(name[0] >= 'a' && name[0] <= 'z'))
		return 0;
	for (size_t i = 1; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return 1;
}

int app_name_check(const char *name)
{
	if (app_name_valid(name))
		return 0;
	return sw_error_set(SW_EINVALID,
		"invalid app name '%s': use 1 to %d lowercase letters, digits and dashes, starting with a letter",
		name, APP_NAME_MAX);
}

int root_resolve(const char *flag, char **out)
{
	const char *env = getenv("SLIPWAY_ROOT");
	char *root;

	if (flag && *flag)
		root = xstrdup(flag);
	else if (env && *env)
		root = xstrdup(env);
	else if (getenv("XDG_DATA_HOME") && *getenv("XDG_DATA_HOME"))
		root = xasprintf("%s/slipway", getenv("XDG_DATA_HOME"));
	else {
		const char *home = getenv("HOME");
		struct passwd *pw = NULL;
		if (!home || !*home) {
			pw = getpwuid(getuid());
			home = pw ? pw->pw_dir : NULL;
		}
		if (!home)
			return sw_error_set(SW_ERROR, "cannot find a root directory: set SLIPWAY_ROOT or use --root");
		root = xasprintf("%s/.local/share/slipway", home);
	}
	if (root[0] != '/') {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd))) {
			free(root);
			return sw_error_errno(SW_ERROR, "cannot find the current directory");
		}
		char *abs = xasprintf("%s/%s", cwd, root);
		free(root);
		root = abs;
	}
	size_t n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		root[--n] = '\0';
	*out = root;
	return 0;
}

int app_branch_check(const char *branch)
{
	int valid = 0;
	sw_git_init();
	if (git_branch_name_is_valid(&valid, branch) < 0 || !valid)
		return sw_error_set(SW_EINVALID,
			"invalid branch name '%s': it is not a name git accepts for a branch (for example main or production)",
			branch);
	return 0;
}

int app_check_exists(const char *root, const char *app)
{
	int err = app_name_check(app);
	if (err)
		return err;
	char *path = app_repo_path(root, app);
	int ok = fs_is_dir(path);
	free(path);
	if (!ok)
		return sw_error_set(SW_ENOTFOUND,
			"app '%s' does not exist (create it with: slipway apps:create %s)", app, app);
	return 0;
}

static int configure_repo(git_repository *repo, const char *root, const char *app,
			  const struct app_create_opts *opts)
{
	git_config *cfg = NULL;
	int err = 0;

	if (git_repository_config(&cfg, repo) < 0)
		return sw_git_error(SW_ERROR, "cannot open repository config");
	if (git_config_set_string(cfg, "slipway.root", root) < 0 ||
	    git_config_set_string(cfg, "slipway.app", app) < 0 ||
	    (opts->branch && git_config_set_string(cfg, "slipway.branch", opts->branch) < 0) ||
	    (opts->creator && git_config_set_string(cfg, "slipway.createdBy", opts->creator) < 0) ||
	    (opts->accept_failed_builds &&
	     git_config_set_bool(cfg, "slipway.rejectFailedBuilds", 0) < 0) ||
	    /* the ledger is not for clients: hide it and check what is pushed */
	    git_config_set_multivar(cfg, "transfer.hideRefs", "^$", "refs/releases") < 0 ||
	    git_config_set_multivar(cfg, "transfer.hideRefs", "^$", "refs/slipway") < 0 ||
	    git_config_set_bool(cfg, "receive.fsckObjects", 1) < 0 ||
	    git_config_set_bool(cfg, "receive.denyNonFastForwards", 0) < 0 ||
	    git_config_set_string(cfg, "receive.denyDeleteCurrent", "ignore") < 0 ||
	    /* a ref another push has locked is waited for (git holds it only while
	       writing the ref), so racing pushes of one branch end on git's
	       compare-and-swap ("is at X but expected Y"), not on the lock */
	    git_config_set_int32(cfg, "core.filesRefLockTimeout", 60000) < 0 ||
	    git_config_set_string(cfg, "core.fsync", "committed") < 0)
		err = sw_git_error(SW_ERROR, "cannot configure repository");
	git_config_free(cfg);
	return err;
}

static int install_hooks(const char *repo_path, const char *exe)
{
	static const char *const hooks[] = { "pre-receive", "post-receive", NULL };
	char *dir = xasprintf("%s/hooks", repo_path);
	int err = fs_mkdir_p(dir, 0755);
	for (size_t i = 0; hooks[i] && !err; i++) {
		char *hook = xasprintf("%s/%s", dir, hooks[i]);
		if (symlink(exe, hook) < 0)
			err = sw_error_errno(SW_ERROR, "cannot install hook '%s'", hook);
		free(hook);
	}
	free(dir);
	return err;
}

int app_create(const char *root, const char *app, const struct app_create_opts *opts)
{
	struct app_create_opts defaults = APP_CREATE_OPTS_INIT;
	git_repository *repo = NULL;
	char *path = NULL, *tmp = NULL, *apps = NULL;
	int err;

	if (!opts)
		opts = &defaults;
	if ((err = app_name_check(app)) || (opts->branch && (err = app_branch_check(opts->branch))))
		return err;
	if (!opts->hook_exe || opts->hook_exe[0] != '/')
		return sw_error_set(SW_EINVALID, "the hook needs the absolute path of slipway");
	sw_git_init();
	path = app_repo_path(root, app);
	apps = paths_apps_dir(root);
	if (fs_exists(path)) {
		err = sw_error_set(SW_EEXISTS, "app '%s' already exists", app);
		goto done;
	}
	if ((err = fs_mkdir_p(apps, 0755)))
		goto done;
	/* build it under a temporary name, then rename: never half-created */
	if ((err = fs_mkdtemp(apps, ".new-", &tmp)))
		goto done;
	git_repository_init_options io;
	git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	io.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_NO_REINIT |
		   GIT_REPOSITORY_INIT_MKPATH;
	io.initial_head = "main";
	if (git_repository_init_ext(&repo, tmp, &io) < 0) {
		err = sw_git_error(SW_ERROR, "cannot create repository");
		goto done;
	}
	if ((err = configure_repo(repo, root, app, opts)) ||
	    (err = install_hooks(tmp, opts->hook_exe)))
		goto done;
	if (rename(tmp, path) < 0) {
		err = sw_error_errno(errno == ENOTEMPTY || errno == EEXIST ? SW_EEXISTS : SW_ERROR,
				     "cannot create app '%s'", app);
		goto done;
	}
	err = fs_fsync_dir(apps);
done:
	git_repository_free(repo);
	if (err && tmp) {
		struct sw_error_state first;
		sw_error_save(&first, err);
		fs_rm_rf(tmp); /* the caller hears why creating failed, not why cleaning up did */
		sw_error_restore(&first);
	}
	free(tmp);
	free(apps);
	free(path);
	return err;
}

int app_destroy(const char *root, const char *app)
{
	int err = app_check_exists(root, app);
	if (err)
		return err;
	char *path = app_repo_path(root, app);
	char *apps = paths_apps_dir(root);
	char *trash = NULL;
	/* rename away first so the app vanishes at once, then delete */
	if (!(err = fs_mkdtemp(apps, ".trash-", &trash))) {
		char *dst = xasprintf("%s/%s.git", trash, app);
		if (rename(path, dst) < 0)
			err = sw_error_errno(SW_ERROR, "cannot remove app '%s'", app);
		free(dst);
	}
	if (!err) {
		fs_fsync_dir(apps);
		err = fs_rm_rf(trash);
	}
	if (!err) {
		char *cache = app_cache_path(root, app);
		char *lock = app_lock_path(root, app);
		err = fs_rm_rf(cache);
		unlink(lock);
		free(cache);
		free(lock);
	}
	free(trash);
	free(apps);
	free(path);
	return err;
}

int app_list(const char *root, struct strvec *out)
{
	char *apps = paths_apps_dir(root);
	DIR *d = opendir(apps);
	free(apps);
	if (!d)
		return errno == ENOENT ? 0 : sw_error_errno(SW_ERROR, "cannot list apps");
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".git"))
			continue;
		char *name = xstrndup(de->d_name, n - 4);
		if (app_name_valid(name))
			strvec_push(out, name);
		free(name);
	}
	closedir(d);
	strvec_sort(out);
	return 0;
}

static int config_string(git_config *cfg, const char *key, char **out)
{
	git_buf b = { 0 };
	if (git_config_get_string_buf(&b, cfg, key) < 0)
		return SW_ENOTFOUND;
	*out = xstrdup(b.ptr);
	git_buf_dispose(&b);
	return 0;
}

int app_from_repo(const char *git_dir, char **root, char **app)
{
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	int err;

	*root = *app = NULL;
	if ((err = sw_git_open(&repo, git_dir)))
		return err;
	if (git_repository_config_snapshot(&cfg, repo) < 0) {
		err = sw_git_error(SW_ERROR, "cannot read repository config");
		goto done;
	}
	if (config_string(cfg, "slipway.root", root) || config_string(cfg, "slipway.app", app)) {
		free(*root);
		*root = NULL;
		err = sw_error_set(SW_ENOTFOUND, "'%s' is not a slipway app repository", git_dir);
	}
done:
	git_config_free(cfg);
	git_repository_free(repo);
	return err;
}

int app_creator(const char *root, const char *app, char **out)
{
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	char *path = app_repo_path(root, app);
	int err;

	*out = NULL;
	if (!(err = sw_git_open(&repo, path))) {
		if (git_repository_config_snapshot(&cfg, repo) < 0)
			err = sw_git_error(SW_ERROR, "cannot read repository config");
		else if (config_string(cfg, "slipway.createdBy", out) == SW_ENOTFOUND)
			*out = NULL;
	}
	git_config_free(cfg);
	git_repository_free(repo);
	free(path);
	return err;
}

int app_rejects_failed_builds(const char *git_dir)
{
	struct settings *s = NULL;
	int v = 1;
	/* unreadable or malformed: a failed build rejects the push, as by default */
	if (settings_open_repo(&s, git_dir) == 0 &&
	    settings_bool(s, &SETTING_REJECT_FAILED_BUILDS, &v) < 0)
		v = 1;
	settings_free(s);
	return v;
}

int app_deploy_branch(const char *root, const char *app, char **out)
{
	struct settings *s = NULL;
	int err;

	*out = NULL;
	if (!(err = settings_open(&s, root, app)))
		err = settings_string(s, &SETTING_BRANCH, out);
	settings_free(s);
	return err;
}

/* The app a URL's path names: its last component without ".git", or NULL. */
static char *path_app(const char *path)
{
	size_t n = strlen(path);
	while (n && path[n - 1] == '/')
		n--;
	size_t start = n;
	while (start && path[start - 1] != '/' && path[start - 1] != ':')
		start--;
	if (n - start > 4 && !strncmp(path + n - 4, ".git", 4))
		n -= 4;
	char *name = xstrndup(path + start, n - start);
	if (app_name_valid(name))
		return name;
	free(name);
	return NULL;
}

/* "[::1]" -> "::1"; anything else as it is.  Malloc'ed. */
static char *unbracket(const char *host, size_t n)
{
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']')
		return xstrndup(host + 1, n - 2);
	return xstrndup(host, n);
}

/*
 * [user@]host[:port] of an ssh URL, n bytes at s (port only when
 * with_port: the scp-like form has none).
 */
static int parse_login(struct app_remote *out, const char *s, size_t n, int with_port)
{
	const char *at = memchr(s, '@', n);
	const char *host = at ? at + 1 : s;
	size_t hn = n - (size_t)(host - s);
	const char *colon = NULL;
	if (with_port) {
		const char *close = host[0] == '[' ? memchr(host, ']', hn) : NULL;
		const char *from = close ? close : host;
		colon = memchr(from, ':', hn - (size_t)(from - host));
	}
	if (colon) {
		size_t pn = hn - (size_t)(colon + 1 - host);
		if (!pn || strspn(colon + 1, "0123456789") < pn)
			return sw_error_set(SW_EINVALID, "invalid port '%.*s' in the remote's URL",
					    (int)pn, colon + 1);
		out->port = xstrndup(colon + 1, pn);
		hn = (size_t)(colon - host);
	}
	char *h = unbracket(host, hn);
	int bad = !*h || h[0] == '-' || (at && s[0] == '-');
	if (!bad)
		out->login = at ? xasprintf("%.*s@%s", (int)(at - s), s, h) : xstrdup(h);
	free(h);
	if (bad)
		return sw_error_set(SW_EINVALID, "the remote's URL '%.*s' names no usable ssh host",
				    (int)n, s);
	return 0;
}

int app_remote_parse(struct app_remote *out, const char *url)
{
	const char *scheme_end = strstr(url, "://");
	int err = 0;

	*out = (struct app_remote)APP_REMOTE_INIT;
	if (scheme_end) {
		size_t sn = (size_t)(scheme_end - url);
		const char *rest = scheme_end + 3;
		if (sn == 4 && !strncmp(url, "file", 4)) {
			out->kind = APP_REMOTE_LOCAL;
		} else if ((sn == 3 && !strncmp(url, "ssh", 3)) ||
			   (sn == 7 && (!strncmp(url, "git+ssh", 7) || !strncmp(url, "ssh+git", 7)))) {
			out->kind = APP_REMOTE_SSH;
			err = parse_login(out, rest, strcspn(rest, "/"), 1);
		}
		out->app = path_app(rest + strcspn(rest, "/"));
		return err;
	}
	/* scp-like when a ':' comes before any '/' (outside a [host]) */
	const char *bracket = strchr(url, '[');
	const char *host_end = bracket && (bracket == url || bracket[-1] == '@')
		? strchr(bracket, ']') : url;
	const char *colon = host_end ? strchr(host_end, ':') : NULL;
	const char *slash = strchr(url, '/');
	if (colon && (!slash || slash > colon)) {
		out->kind = APP_REMOTE_SSH;
		err = parse_login(out, url, (size_t)(colon - url), 0);
		out->app = path_app(colon + 1);
		return err;
	}
	out->kind = APP_REMOTE_LOCAL;
	out->app = path_app(url);
	return 0;
}

void app_remote_release(struct app_remote *r)
{
	free(r->login);
	free(r->port);
	free(r->app);
	free(r->ssh_command);
	*r = (struct app_remote)APP_REMOTE_INIT;
}

int app_remote_lookup(struct app_remote *out, const char *name)
{
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	git_config *cfg = NULL;
	int err;

	*out = (struct app_remote)APP_REMOTE_INIT;
	sw_git_init();
	if (git_repository_open_ext(&repo, ".", 0, NULL) < 0 ||
	    git_remote_lookup(&remote, repo, name) < 0 || !git_remote_url(remote)) {
		err = sw_error_set(SW_ENOTFOUND, "no git remote '%s' here", name);
		goto done;
	}
	if ((err = app_remote_parse(out, git_remote_url(remote))) < 0)
		goto done;
	if (git_repository_config_snapshot(&cfg, repo) == 0 &&
	    config_string(cfg, "core.sshCommand", &out->ssh_command) < 0)
		out->ssh_command = NULL;
done:
	if (err)
		app_remote_release(out);
	git_config_free(cfg);
	git_remote_free(remote);
	git_repository_free(repo);
	return err;
}

char *app_actor(void)
{
	const char *u = getenv("SLIPWAY_USER");
	if (u && *u)
		return xstrdup(u);
	struct passwd *pw = getpwuid(geteuid());
	char host[256] = "localhost";
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	return xasprintf("%s@%s", pw ? pw->pw_name : "unknown", host);
}
