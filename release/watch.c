#define _GNU_SOURCE
#include "release/watch.h"
#include "release/warm.h"
#include "release/watcher.h"

#include "release/change.h"
#include "runtime/healthcheck.h"
#include "runtime/host.h"
#include "runtime/logs.h"
#include "runtime/nodes.h"
#include "runtime/services.h"
#include "runtime/supervisor.h"
#include "runtime/warm.h"
#include "store/app.h"
#include "store/appctx.h"
#include "store/ledger.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/json.h"
#include "util/lock.h"
#include "util/run.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 500
#define CHECK_EVERY_MS 5000
/* Web instances of a host watched for failed checks: web.0 to web.63. */
#define WATCH_INDEX_MAX 64

/*
 * The watch is over: its service goes, under the app lock, so that a
 * writer starting the next release's watch never loses it (such a writer
 * ends this process while it waits).  finish keeps it down meanwhile;
 * s6-svscan lets its supervisor go, which may end this process with
 * SIGTERM - there is nothing left to do by then.
 */
static void retire_self(struct app_ctx *ctx, int version, int previous, long long warm_until)
{
	const char *root = ctx->root, *app = ctx->app;
	char *name = watch_service_name(app);
	int v, p;
	long long end;
	/* held already after a rollback; else taken here */
	if (app_ctx_lock(ctx) == 0 &&
	    watch_service_read(root, app, &v, &p, &end) == 0 && v == version && p == previous) {
		/* the instances kept warm with this release's switch go with its watch */
		if (warm_until)
			warm_expire(root, app, warm_until);
		if (supervisor_service_move_aside(root, name) == 0)
			supervisor_rescan(root);
	}
	free(name);
}

/*
 * The window of the instances kept warm ends before the watch does: they
 * go now, under the app lock (let go again at once).  Instances kept warm
 * by a later switch have a later window and stay.
 */
static void expire_warm(struct app_ctx *ctx, long long by)
{
	if (app_ctx_lock(ctx) < 0)
		return; /* the next switch, or the end of the watch, retires them */
	warm_expire(ctx->root, ctx->app, by);
	lock_release(&ctx->lock);
}

/*
 * Whether the app's watch service is still this watch (*until: when its
 * window ends).  It is not when s6 started this watcher again in a service
 * moved out of the tree - killed as its watch ended, or as a newer
 * release's took its place: then s6 is told to let it go, nothing watches.
 */
static int watch_is_on(const char *root, const char *app, int version, int previous,
		       long long *until)
{
	int v, p, on = watch_service_read(root, app, &v, &p, until) == 0 && v == version &&
		       p == previous;
	if (!on)
		supervisor_rescan(root);
	return on;
}

/* The app's current release, 0 when it cannot be read. */
static int current_of(struct app_ctx *ctx)
{
	int v = 0;
	if (ledger_current(ctx->ledger, &v) < 0)
		v = 0;
	return v;
}

static int crashes_of(const char *root, const char *name)
{
	char *text = NULL;
	int n = supervisor_service_read(root, name, "crashes", 64, &text) == 0 ? atoi(text) : 0;
	free(text);
	return n;
}

static int slug_of(struct app_ctx *ctx, int version, char hex[65])
{
	struct release r = RELEASE_INIT;
	int err = ledger_read(ctx->ledger, version, 0, &r);
	if (!err)
		memcpy(hex, r.slug, 65);
	release_release(&r);
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
		if (services_name_parse(names.v[i], app, &v, type, &index) < 0 ||
		    warm_release_of(root, names.v[i], v) != version || strcmp(type, "web"))
			continue;
		int crashes = crashes_of(root, names.v[i]);
		if (crashes >= WATCH_STRIKES)
			why = xasprintf("web.%d crashed %d times", index, crashes);
	}
	strvec_clear(&names);
	return why;
}

/*
 * A web instance of the release on one of the run hosts crashed
 * WATCH_STRIKES times, or failed the app's health checks as many times in
 * a row (fails: WATCH_INDEX_MAX counts a host, hosts' order): which and
 * where (malloc'ed), or NULL.  The hosts are asked with their agent's
 * state request, which runs the checks there once when the release has
 * some (checks); one that does not answer, or runs another release, tells
 * nothing.
 */
static char *failing_on_hosts(const char *root, const char *app, int version,
			      const struct strvec *hosts, int checks, int *fails)
{
	char *why = NULL;
	for (size_t h = 0; h < hosts->n && !why; h++) {
		struct buf answer = BUF_INIT;
		char *v = NULL, *local = NULL, *names = NULL;
		if (node_state(root, hosts->v[h], app, checks, &answer) < 0 || !answer.data ||
		    json_flat_get(answer.data, "version", &v) < 0 || atoi(v) != version ||
		    json_flat_get(answer.data, "release", &local) < 0 ||
		    json_flat_get(answer.data, "instances", &names) < 0)
			goto next;
		for (char *p = names, *name; !why && (name = strsep(&p, " ")) != NULL;) {
			char type[64], *key = NULL, *crashes = NULL, *health = NULL;
			int rv, index;
			if (!*name || services_name_parse(name, app, &rv, type, &index) < 0 ||
			    rv != atoi(local) || strcmp(type, "web") || index < 0 ||
			    index >= WATCH_INDEX_MAX)
				continue;
			key = xasprintf("%s.crashes", name);
			if (json_flat_get(answer.data, key, &crashes) == 0 &&
			    atoi(crashes) >= WATCH_STRIKES)
				why = xasprintf("web.%d on %s crashed %d times", index, hosts->v[h],
						atoi(crashes));
			free(key);
			/* no member: no checks, or not up (a crash is counted as one) */
			key = xasprintf("%s.health", name);
			int *n = &fails[h * WATCH_INDEX_MAX + index];
			if (!why && json_flat_get(answer.data, key, &health) == 0) {
				if (!strcmp(health, "passed"))
					*n = 0;
				else if (++*n >= WATCH_STRIKES)
					why = xasprintf("web.%d on %s failed its health check %d times "
							"in a row", index, hosts->v[h], *n);
			}
			free(health);
			free(crashes);
			free(key);
		}
next:
		free(v);
		free(local);
		free(names);
		buf_release(&answer);
	}
	return why;
}

/* A web instance of the release that is up failed its checks WATCH_STRIKES times in a row. */
static char *unhealthy(const char *root, const char *app, int version,
		       const struct healthchecks *hc, const char *host, int fails[WATCH_INDEX_MAX])
{
	struct service_info *s = NULL;
	size_t n = 0;
	char *why = NULL;
	if (!hc->n || host_list(root, app, &s, &n) < 0)
		return NULL;
	for (size_t i = 0; i < n && !why; i++) {
		if (s[i].version != version || strcmp(s[i].type, "web") ||
		    s[i].index >= WATCH_INDEX_MAX ||
		    strcmp(s[i].state, "up"))
			continue;
		char inst[32], *said = NULL;
		snprintf(inst, sizeof(inst), "web.%d", s[i].index);
		if (host_check(root, app, s[i].name, inst, hc, host, &said) == 0)
			fails[s[i].index] = 0;
		else if (++fails[s[i].index] >= WATCH_STRIKES)
			why = xasprintf("web.%d failed its health check %d times in a row", s[i].index,
					fails[s[i].index]);
		free(said);
	}
	free(s);
	return why;
}

int watch_run(struct app_ctx *ctx, int version, int previous, int *rolled_back)
{
	const char *root = ctx->root, *app = ctx->app;
	struct healthchecks hc;
	char hex[65] = "", *host = NULL;
	struct strvec hosts = STRVEC_INIT; /* the run hosts, watched too */
	int fails[WATCH_INDEX_MAX] = { 0 }, *host_fails = NULL, said = 0, stopped = 0, err;
	long long until, warm_until = 0;

	*rolled_back = 0;
	if (!watch_is_on(root, app, version, previous, &until))
		return 0;
	watch_service_warm(root, app, &warm_until);
	/* in the watch, each check is tried once per round: three rounds in a row fail it */
	if ((err = slug_of(ctx, version, hex)) ||
	    (err = healthchecks_load_once(root, app, hex, &hc, &host)) ||
	    (err = node_run_hosts(root, app, &hosts)))
		goto done;
	host_fails = xcalloc(hosts.n ? hosts.n * WATCH_INDEX_MAX : 1, sizeof(*host_fails));
	/* the window is the one the release went live with, whatever was killed */
	long long start = run_now_ms(), end = start + (until - (long long)time(NULL)) * 1000LL;
	/* the service lives on until the instances kept warm retire */
	long long last_s = warm_until > until ? warm_until : until;
	long long last = start + (last_s - (long long)time(NULL)) * 1000LL;
	long long warm_end = start + (warm_until - (long long)time(NULL)) * 1000LL;
	long long next_check = start;
	while (run_now_ms() < last) {
		nanosleep(&(struct timespec){ 0, POLL_MS * 1000000L }, NULL);
		if (!services_runtime_up(root)) {
			stopped = 1; /* the service stays: the next start of the tree resumes the watch */
			goto done;
		}
		if (current_of(ctx) != version)
			goto done; /* someone else's release: not ours to watch */
		long long now = run_now_ms();
		if (warm_until && now >= warm_end && now < end) {
			expire_warm(ctx, warm_until);
			warm_until = 0;
		}
		if (now >= end)
			continue; /* the watch is over; the warm window is not */
		char *why = crashed(root, app, version);
		if (!why && now >= next_check) {
			next_check = now + CHECK_EVERY_MS;
			why = unhealthy(root, app, version, &hc, host, fails);
			if (!why && hosts.n)
				why = failing_on_hosts(root, app, version, &hosts, hc.n > 0,
							host_fails);
		}
		if (!why)
			continue;
		char *full = xasprintf("%s after v%d went live", why, version);
		struct change_result res;
		/* the rollback's own output has no reader: the logs say what happened */
		FILE *null = fopen("/dev/null", "w");
		logs_event(root, app, "api", "Rolling back to v%d automatically: %s", previous, full);
		err = null ? change_rollback_auto(ctx, previous, version, full, null, &res)
			   : sw_error_errno(SW_ERROR, "cannot open /dev/null");
		if (null)
			fclose(null);
		if (err)
			logs_event(root, app, "api", "Automatic rollback to v%d refused: %s", previous,
				   sw_error_last());
		else
			*rolled_back = res.version;
		said = 1;
		free(full);
		free(why);
		goto done;
	}
done:
	if (err && !said)
		logs_event(root, app, "api", "Automatic rollback of v%d is off: %s", version,
			   sw_error_last());
	free(host_fails);
	free(host);
	strvec_clear(&hosts);
	if (!stopped)
		retire_self(ctx, version, previous, warm_until);
	return err;
}
