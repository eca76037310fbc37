/*
 * app.h - the root directory and the apps in it.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * Where everything lives under a root: store/paths.h.
 *
 * Each app repository remembers its root and name in its git config
 * (slipway.root, slipway.app), so the hook finds them whatever its
 * environment.  App names match [a-z][a-z0-9-]{0,29}.
 */
#ifndef SW_APP_H
#define SW_APP_H

#include "store/paths.h"
#include "util/util.h"

#define APP_NAME_MAX 30

/* 1 if name is a valid app name. */
int app_name_valid(const char *name);

/* Checks name, SW_EINVALID with a message that says what is allowed. */
int app_name_check(const char *name);

/*
 * Checks a deploy branch name by git's rules for branch names
 * (refs/heads/<name> is a valid ref, not HEAD, not starting with '-');
 * SW_EINVALID with a message that says so.
 */
int app_branch_check(const char *branch);

/*
 * The root: flag (from --root) if set, else $SLIPWAY_ROOT, else
 * $XDG_DATA_HOME/slipway, else $HOME/.local/share/slipway.  Made absolute.
 */
int root_resolve(const char *flag, char **out);

/* 0 if the app exists, SW_ENOTFOUND with a helpful message if not. */
int app_check_exists(const char *root, const char *app);

struct app_create_opts {
	const char *hook_exe;   /* absolute path of the slipway executable */
	const char *branch;     /* the only branch that deploys (app_branch_check); NULL: main and master */
	int accept_failed_builds; /* build in post-receive: a failed build leaves the branch pushed */
	const char *creator;    /* the remote user creating it (recorded: app_creator), or NULL */
};
#define APP_CREATE_OPTS_INIT { 0 }

/*
 * Creates the bare repository with the hooks installed (hooks/pre-receive,
 * which refuses pushes outside refs/heads/, and hooks/post-receive, which
 * builds: symlinks to the slipway executable, which dispatches on argv[0]).
 * SW_EEXISTS if the app exists, SW_EINVALID if the name or the branch is
 * invalid.  Nothing is left behind on failure.
 */
int app_create(const char *root, const char *app, const struct app_create_opts *opts);

/* Removes the app's repository, cache and lock.  SW_ENOTFOUND if missing. */
int app_destroy(const char *root, const char *app);

/* Names of all apps, sorted. */
int app_list(const char *root, struct strvec *out);

/*
 * Reads slipway.root and slipway.app from the repository at git_dir.
 * SW_ENOTFOUND if the repository is not a slipway app.
 */
int app_from_repo(const char *git_dir, char **root, char **app);

/* 1 if the app builds in pre-receive (slipway.rejectFailedBuilds, by default), else 0. */
int app_rejects_failed_builds(const char *git_dir);

/*
 * The remote user who created the app (slipway.createdBy), NULL if the
 * operator did (malloc'ed).
 */
int app_creator(const char *root, const char *app, char **out);

/* The app's deploy branch setting (slipway.branch), or NULL if unset (malloc'ed). */
int app_deploy_branch(const char *root, const char *app, char **out);

/*
 * Infers the app name from the git repository around cwd, like the Heroku
 * CLI: the url of the remote named "heroku"; its last path component with
 * ".git" removed.  SW_ENOTFOUND if there is none.
 */
int app_infer_from_cwd(char **out);

/* Who acts: $SLIPWAY_USER if set, else user@host of this process. */
char *app_actor(void);

#endif
