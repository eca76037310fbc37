#define _GNU_SOURCE
#include "runtime/watch.h"

#include "runtime/change.h"
#include "runtime/healthcheck.h"
#include "runtime/logs.h"
#include "runtime/services.h"
#include "store/app.h"
#include "store/ledger.h"
#include "store/paths.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 500
#define CHECK_EVERY_MS 5000

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

int watch_spawn(const char *root, const char *app, int version, int previous)
{
	struct settings *s = NULL;
	int seconds = 60;
	int err = settings_open(&s, root, app);
	if (!err)
		err = watch_seconds(s, &seconds);
	settings_free(s);
	if (err || seconds <= 0 || previous <= 0)
		return err;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return sw_error_errno(SW_ERROR, "cannot find the slipway executable");
	self[n] = '\0';
	char v[16], p[16];
	snprintf(v, sizeof(v), "v%d", version);
	snprintf(p, sizeof(p), "v%d", previous);
	pid_t pid = fork();
	if (pid < 0)
		return sw_error_errno(SW_ERROR, "cannot start the watcher");
	if (pid == 0) {
		/* a session of its own, none of our files, and no parent to wait for it */
		setsid();
		if (fork() != 0)
			_exit(0);
		int null = open("/dev/null", O_RDWR);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(127);
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		execl(self, "slipway", "--root", root, "watch:run", v, "--previous", p, "-a", app,
		      (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return 0;
}

/* The app's current release, 0 when it cannot be read. */
static int current_of(const char *root, const char *app)
{
	struct ledger *l = NULL;
	char *repo = app_repo_path(root, app);
	int v = 0;
	if (ledger_open(&l, repo) < 0 || ledger_current(l, &v) < 0)
		v = 0;
	ledger_free(l);
	free(repo);
	return v;
}

static int crashes_of(const char *root, const char *name)
{
	char *scandir = paths_services_dir(root), *path = xasprintf("%s/%s/crashes", scandir, name);
	char *text = NULL;
	int n = fs_read_file(path, 64, &text, NULL) == 0 ? atoi(text) : 0;
	free(text);
	free(path);
	free(scandir);
	return n;
}

static int slug_of(const char *root, const char *app, int version, char hex[65])
{
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	char *repo = app_repo_path(root, app);
	int err = ledger_open(&l, repo);
	if (!err)
		err = ledger_read(l, version, 0, &r);
	if (!err)
		memcpy(hex, r.slug, 65);
	release_release(&r);
	ledger_free(l);
	free(repo);
	return err;
}

/* What is wrong with the release's web instances now (malloc'ed), or NULL. */
/* A web instance of the release crashed WATCH_STRIKES times: which (malloc'ed), or NULL. */
static char *crashed(const char *root, const char *app, int version)
{
	struct strvec names = STRVEC_INIT;
	char *why = NULL, type[64];
	int v, index;
	/* from the names and the crash counts alone: nothing to ask s6 twice a second */
	services_names(root, app, &names);
	for (size_t i = 0; i < names.n && !why; i++) {
		if (services_name_parse(names.v[i], app, &v, type, &index) < 0 || v != version ||
		    strcmp(type, "web"))
			continue;
		int crashes = crashes_of(root, names.v[i]);
		if (crashes >= WATCH_STRIKES)
			why = xasprintf("web.%d crashed %d times", index, crashes);
	}
	strvec_clear(&names);
	return why;
}

/* A web instance of the release that is up failed its checks WATCH_STRIKES times in a row. */
static char *unhealthy(const char *root, const char *app, int version,
		       const struct healthchecks *hc, const char *host, int fails[64])
{
	struct service_info *s = NULL;
	size_t n = 0;
	char *why = NULL;
	if (!hc->n || services_list(root, app, &s, &n) < 0)
		return NULL;
	for (size_t i = 0; i < n && !why; i++) {
		if (s[i].version != version || strcmp(s[i].type, "web") || s[i].index >= 64 ||
		    strcmp(s[i].state, "up"))
			continue;
		char inst[32], *said = NULL;
		snprintf(inst, sizeof(inst), "web.%d", s[i].index);
		if (healthchecks_run(hc, inst, s[i].port, host, &said) == 0)
			fails[s[i].index] = 0;
		else if (++fails[s[i].index] >= WATCH_STRIKES)
			why = xasprintf("web.%d failed its health check %d times in a row", s[i].index,
					fails[s[i].index]);
		free(said);
	}
	free(s);
	return why;
}

int watch_run(const char *root, const char *app, int version, int previous, int *rolled_back)
{
	struct healthchecks hc;
	char hex[65] = "", *domain = NULL, *host = NULL;
	int seconds = 60, fails[64] = { 0 }, err;
	struct settings *s = NULL;

	*rolled_back = 0;
	if ((err = settings_open(&s, root, app)) ||
	    (err = watch_seconds(s, &seconds)) ||
	    (err = settings_string(s, &SETTING_DOMAIN, &domain)))
		goto done;
	host = xasprintf("%s.%s", app, domain);
	if ((err = slug_of(root, app, version, hex)) || (err = healthchecks_load(root, hex, &hc)))
		goto done;
	/* in the watch, each check is tried once per round: three rounds in a row fail it */
	for (int i = 0; i < hc.n; i++) {
		hc.v[i].attempts = 1;
		hc.v[i].initial_delay = 0;
	}
	long long start = run_now_ms(), end = start + seconds * 1000LL, next_check = start;
	while (run_now_ms() < end) {
		nanosleep(&(struct timespec){ 0, POLL_MS * 1000000L }, NULL);
		if (!services_runtime_up(root) || current_of(root, app) != version)
			goto done; /* someone else's release, or nothing runs: not ours to watch */
		long long now = run_now_ms();
		char *why = crashed(root, app, version);
		if (!why && now >= next_check) {
			next_check = now + CHECK_EVERY_MS;
			why = unhealthy(root, app, version, &hc, host, fails);
		}
		if (!why)
			continue;
		char *full = xasprintf("%s after v%d went live", why, version);
		struct change_result res;
		/* the rollback's own output has no reader: the logs say what happened */
		FILE *null = fopen("/dev/null", "w");
		logs_event(root, app, "api", "Rolling back to v%d automatically: %s", previous, full);
		err = null ? change_rollback_auto(root, app, previous, version, full, null, &res)
			   : sw_error_errno(SW_ERROR, "cannot open /dev/null");
		if (null)
			fclose(null);
		if (err)
			logs_event(root, app, "api", "Automatic rollback to v%d refused: %s", previous,
				   sw_error_last());
		else
			*rolled_back = res.version;
		free(full);
		free(why);
		goto done;
	}
done:
	settings_free(s);
	free(domain);
	free(host);
	return err;
}
