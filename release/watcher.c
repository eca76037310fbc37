#define _GNU_SOURCE
#include "release/watcher.h"

#include "runtime/supervisor.h"
#include "store/appctx.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <limits.h>
#include <stdio.h>
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

char *watch_service_name(const char *app)
{
	return xasprintf("watch-%s", app);
}

int watch_service_read(const char *root, const char *app, int *version, int *previous,
		       long long *end)
{
	char *name = watch_service_name(app), *text = NULL;
	int ok = supervisor_service_read(root, name, "watch", 128, &text) == 0 &&
		 sscanf(text, "v%d v%d %lld", version, previous, end) == 3;
	free(text);
	free(name);
	return ok ? 0 : -1;
}

int watch_service_warm(const char *root, const char *app, long long *until)
{
	char *name = watch_service_name(app), *text = NULL;
	*until = 0;
	if (supervisor_service_read(root, name, "warm", 64, &text) == 0 &&
	    sscanf(text, "%lld", until) != 1)
		*until = 0;
	free(text);
	free(name);
	return 0;
}

/*
 * Writes the service (runtime/supervisor.h): run is the watcher (without
 * a remote user's name, which would make it refuse to run); finish keeps
 * it down once it ended by itself (exit 125), so s6 starts it again only
 * when a signal ended it.  The service of an earlier release's watch is
 * given the new files and restarted in place (its watcher, ended by
 * SIGTERM, is started again reading them); only when that fails does it
 * go and a new one come.
 */
static int write_service(const char *root, const char *app, const char *name, int version,
			 int previous, long long end, long long warm_until)
{
	char self[PATH_MAX], *about = NULL;
	struct buf run = BUF_INIT, watch = BUF_INIT, warm = BUF_INIT;
	struct strvec env = STRVEC_INIT;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int err = 0;
	if (n <= 0) {
		err = sw_error_errno(SW_ERROR, "cannot find the slipway executable");
		goto done;
	}
	self[n] = '\0';
	about = xasprintf("the automatic rollback watch of %s v%d", app, version);
	settings_env(&env);
	/* a killed supervisor takes its watcher along: the next one starts the only watcher */
	buf_adds(&run, "exec /usr/bin/setpriv --pdeathsig TERM ");
	buf_add_shell_quoted(&run, self);
	buf_adds(&run, " --root ");
	buf_add_shell_quoted(&run, root);
	buf_addf(&run, " watch:run v%d --previous v%d -a %s 2>&1\n", version, previous, app);
	buf_addf(&watch, "v%d v%d %lld\n", version, previous, end);
	buf_addf(&warm, "%lld\n", warm_until);
	const struct service_file files[] = { { "watch", watch.data, watch.len, 0644 },
					      { "warm", warm.data, warm.len, 0644 } };
	struct service_desc d = {
		.name = name, .about = about, .env = (const char *const *)env.v, .run = run.data,
		.finish = "#!/bin/sh\n# ended by itself (not by a signal): the watch is over\n"
			  "[ \"$1\" = 256 ] || exit 125\n",
		.files = files, .nfiles = 2,
	};
	if (supervisor_service_exists(root, name) && supervisor_service_update(root, &d) == 0)
		goto done;
	watch_stop(root, app);
	if (!(err = supervisor_service_write(root, &d)))
		err = supervisor_rescan(root);
done:
	buf_release(&run);
	buf_release(&watch);
	buf_release(&warm);
	strvec_clear(&env);
	free(about);
	return err;
}

/* watch_spawn(); with watching 0, only for the instances kept warm */
static int spawn(const struct app_ctx *ctx, int version, int previous, int watching,
		 long long warm_until)
{
	const char *root = ctx->root, *app = ctx->app;
	int seconds = 60;
	int err = watching ? watch_seconds(ctx->settings, &seconds) : (seconds = 0);
	if (err || previous <= 0 || (seconds <= 0 && warm_until <= 0))
		return err;
	char *name = watch_service_name(app);
	/* the watch of an earlier release is over: this one takes its place */
	err = write_service(root, app, name, version, previous,
			    (long long)time(NULL) + (seconds > 0 ? seconds : 0), warm_until);
	if (err)
		err = sw_error_prefix(SW_ERROR, "cannot start the watcher: ");
	free(name);
	return err;
}

int watch_spawn(const struct app_ctx *ctx, int version, int previous, long long warm_until)
{
	return spawn(ctx, version, previous, 1, warm_until);
}

int watch_spawn_warm(const struct app_ctx *ctx, int version, int previous, long long warm_until)
{
	return spawn(ctx, version, previous, 0, warm_until);
}

void watch_stop(const char *root, const char *app)
{
	struct strvec names = STRVEC_INIT;
	char *name = watch_service_name(app);
	if (supervisor_service_exists(root, name)) {
		strvec_push(&names, name);
		supervisor_service_remove(root, &names);
	}
	strvec_clear(&names);
	free(name);
}

