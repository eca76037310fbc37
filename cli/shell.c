#define _GNU_SOURCE
#include "cli/shell.h"

#include "access/access.h"
#include "store/app.h"
#include "store/settings.h"
#include "util/error.h"
#include "access/sshcmd.h"
#include "util/say.h"
#include "util/util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

/* Removes GIT_* and SLIPWAY_* from the environment, then sets ours. */
static void prepare_env(const char *user)
{
	struct strvec drop = STRVEC_INIT;
	for (char **e = environ; e && *e; e++)
		if (!strncmp(*e, "GIT_", 4) || !strncmp(*e, "SLIPWAY_", 8))
			strvec_push(&drop, *e);
	for (size_t i = 0; i < drop.n; i++) {
		char *eq = strchr(drop.v[i], '=');
		if (eq)
			*eq = '\0';
		unsetenv(drop.v[i]);
	}
	strvec_clear(&drop);
	setenv("SLIPWAY_USER", user, 1);
	setenv("SLIPWAY_SHELL_USER", user, 1);
}

/* The slipway executable the app's hooks link to: o->exe, else this process's. */
static char *hook_exe(const struct shell_opts *o)
{
	if (o->exe)
		return xstrdup(o->exe);
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0) {
		sw_error_errno(SW_ERROR, "cannot find the slipway executable");
		return NULL;
	}
	buf[n] = '\0';
	return xstrdup(buf);
}

/*
 * A push to an app that does not exist creates it, as apps:create over ssh
 * does (the same setting, limit and lock), and says so; a user who may
 * not create apps gets the refusal of a push to a missing app.  0 when
 * the app exists (made now, or by a push racing this one).
 */
static int create_on_push(const struct shell_opts *o, const char *app)
{
	struct app_create_opts co = APP_CREATE_OPTS_INIT;
	char *exe = NULL;
	int max, err = app_check_exists(o->root, app);
	if (err != SW_ENOTFOUND)
		return err;
	if ((err = settings_ssh_apps_create(o->user, &max)) < 0)
		return err;
	if (max == 0)
		return app_check_exists(o->root, app);
	if (!(exe = hook_exe(o)))
		return SW_ERROR;
	co.hook_exe = exe;
	err = access_create_app(o->root, app, &co, o->user, max);
	free(exe);
	if (err == SW_EEXISTS)
		return 0; /* another push made it first: access decides */
	if (!err) {
		say(stderr, SAY_STEP, "Creating %s... done", app);
		fflush(stderr);
	}
	return err;
}

static int exec_git(const struct shell_opts *o, const struct sshcmd *c)
{
	int err = c->kind == SSHCMD_RECEIVE_PACK ? create_on_push(o, c->app) : 0;
	if (!err)
		err = access_check(o->root, c->app, o->user);
	if (err < 0)
		return err;
	char *repo = app_repo_path(o->root, c->app);
	const char *argv[] = {
		"git", c->kind == SSHCMD_RECEIVE_PACK ? "receive-pack" : "upload-pack", repo, NULL
	};
	prepare_env(o->user);
	execvp(argv[0], (char *const *)argv);
	err = sw_error_errno(SW_ERROR, "cannot run git %s", argv[1]);
	free(repo);
	return err;
}

static int exec_slipway(const struct shell_opts *o, const struct sshcmd *c)
{
	struct strvec argv = STRVEC_INIT;
	const char *exe = o->exe ? o->exe : "/proc/self/exe";
	strvec_push(&argv, "slipway");
	strvec_push(&argv, "--root");
	strvec_push(&argv, o->root);
	for (size_t i = 0; i < c->words.n; i++)
		strvec_push(&argv, c->words.v[i]);
	prepare_env(o->user);
	execv(exe, argv.v);
	int err = sw_error_errno(SW_ERROR, "cannot run '%s'", exe);
	strvec_clear(&argv);
	return err;
}

/* 1 if the command is a console, which a terminal is allowed for. */
static int takes_terminal(const char *cmd)
{
	return !strcmp(cmd, "run") || !strcmp(cmd, "pg:psql") || !strcmp(cmd, "redis:cli");
}

int shell_run(const struct shell_opts *o)
{
	struct sshcmd c = SSHCMD_INIT;
	int err;

	if ((err = access_user_check(o->user)) < 0)
		return err;
	if (!o->root || o->root[0] != '/')
		return sw_error_set(SW_EINVALID, "the shell needs an absolute --root");
	if ((err = sshcmd_parse(&c, o->line, o->allowed)) < 0)
		goto done;
	/*
	 * OpenSSH's key options allow a pty for every command or none: the key
	 * allows it (access/keys.h) and this refuses it but for the commands
	 * that are consoles: `run`, `pg:psql` and `redis:cli`.  A
	 * terminal turns line ends into \r\n and eats control bytes: the git
	 * protocol and whatever a command writes to stdout (backups, JSON)
	 * would arrive changed.
	 */
	if (isatty(0) && (c.kind != SSHCMD_SLIPWAY || !takes_terminal(c.words.v[0]))) {
		err = sw_error_set(SW_EINVALID, "refused: only 'run', 'pg:psql' and 'redis:cli' take "
				   "a terminal (connect without one: ssh -T)");
		goto done;
	}
	if (c.kind == SSHCMD_SLIPWAY)
		err = exec_slipway(o, &c);
	else
		err = exec_git(o, &c);
done:
	sshcmd_release(&c);
	return err;
}
