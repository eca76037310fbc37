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
 * Where a git remote's URL points, read as git reads it:
 *   ssh://[user@]host[:port]/path (also git+ssh://, ssh+git://), or the
 *   scp-like [user@]host:path (no '/' before the first ':')   APP_REMOTE_SSH
 *   a path, or file://path                                    APP_REMOTE_LOCAL
 *   anything else (http://...)                                APP_REMOTE_OTHER
 * A host may be written [::1].  The app is the URL's last path component
 * with ".git" removed, like the Heroku CLI's: "git@host:myapp.git",
 * "ssh://host/~/myapp.git" and "/srv/apps/myapp.git" all name myapp.
 */
enum app_remote_kind { APP_REMOTE_OTHER = 0, APP_REMOTE_LOCAL, APP_REMOTE_SSH };

struct app_remote {
	enum app_remote_kind kind;
	char *login;       /* APP_REMOTE_SSH: "user@host" or "host", as ssh takes it */
	char *port;        /* APP_REMOTE_SSH: the ssh:// URL's port, or NULL */
	char *app;         /* the app the URL names, or NULL when it names no valid app */
	char *ssh_command; /* app_remote_lookup(): the checkout's core.sshCommand, or NULL */
};
#define APP_REMOTE_INIT { 0 }

/*
 * Parses url into out (all its strings malloc'ed).  SW_EINVALID when an
 * ssh URL has no host, a host or user starting with '-' (it would reach
 * ssh as an option) or a port that is not a number.
 */
int app_remote_parse(struct app_remote *out, const char *url);

/*
 * The remote called name of the git checkout around cwd, parsed, with the
 * checkout's core.sshCommand.  SW_ENOTFOUND (with a message naming the
 * remote) when there is no checkout or no such remote.
 */
int app_remote_lookup(struct app_remote *out, const char *name);

void app_remote_release(struct app_remote *r);

/* Who acts: $SLIPWAY_USER if set, else user@host of this process. */
char *app_actor(void);

#endif
