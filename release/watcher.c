#define _GNU_SOURCE
#include "release/watcher.h"

#include "runtime/services.h"
#include "runtime/supervisor.h"
#include "store/appctx.h"
#include "store/paths.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* slipway.watch: a duration, or 0 for none. */
static int watch_seconds(struct settings *s, int *seconds)
{
	char *v = NULL;
	int err = settings_string(s, &SETTING_WATCH, &v);
	if (!err && v && !strcmp(v, "0"))
		*seconds = 0;
	else if (!err)
		err = settings_seconds(s, &SETTING_WATCH, seconds);
	free(v);
	return err;
}

char *watch_service_dir(const char *root, const char *app)
{
	char *scandir = paths_services_dir(root), *dir = xasprintf("%s/watch-%s", scandir, app);
	free(scandir);
	return dir;
}

int watch_service_read(const char *dir, int *version, int *previous, long long *end)
{
	char *path = xasprintf("%s/watch", dir), *text = NULL;
	int ok = fs_read_file(path, 128, &text, NULL) == 0 &&
		 sscanf(text, "v%d v%d %lld", version, previous, end) == 3;
	free(text);
	free(path);
	return ok ? 0 : -1;
}

extern char **environ;

/*
 * The environment the settings were read with (store/settings.h: HOME's
 * git config, SLIPWAY_* variables), as export lines: s6 gives its services
 * none of it.  Never the user names a remote user's session sets, which
 * would make the watcher refuse to run as a remote user's command.
 */
static void add_settings_env(struct buf *run)
{
	static const char *const keep[] = { "HOME=", "XDG_CONFIG_HOME=", "GIT_CONFIG_NOSYSTEM=",
					    "GIT_CONFIG_GLOBAL=", "SLIPWAY_", NULL };
	for (char **e = environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		int kept = 0;
		for (size_t i = 0; keep[i] && !kept; i++)
			kept = !strncmp(*e, keep[i], strlen(keep[i]));
		if (!kept || !eq || !strncmp(*e, "SLIPWAY_SHELL_USER=", 19) ||
		    !strncmp(*e, "SLIPWAY_USER=", 13) || strspn(*e, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789_") != (size_t)(eq - *e))
			continue;
		buf_addf(run, "export %.*s=", (int)(eq - *e), *e);
		buf_add_shell_quoted(run, eq + 1);
		buf_adds(run, "\n");
	}
}

static int put(const char *dir, const char *name, const struct buf *b, mode_t mode)
{
	char *path = xasprintf("%s/%s", dir, name);
	int err = fs_write_replace(path, b->data, b->len, mode);
	free(path);
	return err;
}

/*
 * Writes the service under a dot-name and renames it in: run is the
 * watcher (without a remote user's name, which would make it refuse to
 * run); finish keeps it down once it ended by itself (exit 125), so s6
 * starts it again only when a signal ended it.
 */
static int write_service(const char *root, const char *app, const char *dir, int version,
			 int previous, long long end)
{
	char self[PATH_MAX], *scandir = paths_services_dir(root), *tmp = NULL;
	struct buf run = BUF_INIT, finish = BUF_INIT, watch = BUF_INIT;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int err = 0;
	if (n <= 0) {
		err = sw_error_errno(SW_ERROR, "cannot find the slipway executable");
		goto done;
	}
	self[n] = '\0';
	if ((err = fs_mkdtemp(scandir, ".new-", &tmp)))
		goto done;
	buf_addf(&run, "#!/bin/sh\n# written by slipway: the automatic rollback watch of %s v%d\n",
		 app, version);
	add_settings_env(&run);
	/* a killed supervisor takes its watcher along: the next one starts the only watcher */
	buf_adds(&run, "exec /usr/bin/setpriv --pdeathsig TERM ");
	buf_add_shell_quoted(&run, self);
	buf_adds(&run, " --root ");
	buf_add_shell_quoted(&run, root);
	buf_addf(&run, " watch:run v%d --previous v%d -a %s 2>&1\n", version, previous, app);
	buf_adds(&finish, "#!/bin/sh\n# ended by itself (not by a signal): the watch is over\n"
			  "[ \"$1\" = 256 ] || exit 125\n");
	buf_addf(&watch, "v%d v%d %lld\n", version, previous, end);
	if (!(err = put(tmp, "watch", &watch, 0644)) && !(err = put(tmp, "finish", &finish, 0755)) &&
	    !(err = put(tmp, "run", &run, 0755)) && rename(tmp, dir) < 0)
		err = sw_error_errno(SW_ERROR, "cannot add the service '%s'", dir);
	if (err)
		fs_rm_rf(tmp);
done:
	buf_release(&run);
	buf_release(&finish);
	buf_release(&watch);
	free(tmp);
	free(scandir);
	return err;
}

int watch_spawn(const struct app_ctx *ctx, int version, int previous)
{
	const char *root = ctx->root, *app = ctx->app;
	int seconds = 60;
	int err = watch_seconds(ctx->settings, &seconds);
	if (err || seconds <= 0 || previous <= 0)
		return err;
	char *dir = watch_service_dir(root, app);
	/* the watch of an earlier release is over: this one takes its place */
	watch_stop(root, app);
	if (!(err = write_service(root, app, dir, version, previous,
				  (long long)time(NULL) + seconds)))
		err = supervisor_rescan(root);
	if (err)
		err = sw_error_set(SW_ERROR, "cannot start the watcher: %s", sw_error_last());
	free(dir);
	return err;
}

void watch_stop(const char *root, const char *app)
{
	char *dir = watch_service_dir(root, app);
	if (fs_exists(dir)) {
		struct strvec names = STRVEC_INIT;
		strvec_push(&names, strrchr(dir, '/') + 1);
		services_retire_names(root, &names);
		strvec_clear(&names);
	}
	free(dir);
}

