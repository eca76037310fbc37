#define _GNU_SOURCE
#include "release/warm.h"

#include "release/watcher.h"
#include "runtime/healthcheck.h"
#include "runtime/host.h"
#include "runtime/logs.h"
#include "runtime/services.h"
#include "runtime/warm.h"
#include "store/appctx.h"
#include "store/ledger.h"
#include "store/settings.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void warm_keep_previous(struct app_ctx *ctx, const struct release *r, int previous,
			const struct strvec *live, struct strvec *kept)
{
	struct strvec names = STRVEC_INIT;
	int seconds = 0;
	/* an automatic rollback leaves a release that crashed: nothing to go back to */
	if (!previous || previous == r->version || (r->user && !strcmp(r->user, WATCH_USER)) ||
	    settings_seconds(ctx->settings, &SETTING_WARM_PREVIOUS, &seconds) < 0 || seconds <= 0)
		return;
	services_names(ctx->root, ctx->app, &names);
	for (size_t i = 0; i < names.n; i++) {
		char type[64];
		int v, index;
		if (services_name_parse(names.v[i], ctx->app, &v, type, &index) == 0 &&
		    !strcmp(type, "web") && warm_release_of(ctx->root, names.v[i], v) == previous &&
		    !strvec_has(live, names.v[i]))
			strvec_push(kept, names.v[i]);
	}
	if (kept->n && warm_keep(ctx->root, kept, (long long)time(NULL) + seconds) < 0)
		strvec_clear(kept); /* they retire as they did before */
	strvec_clear(&names);
}

static int procs_equal(const struct proc_list *a, const struct proc_list *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const char *cmd = proc_list_get(b, a->items[i].name);
		if (!cmd || strcmp(cmd, a->items[i].command))
			return 0;
	}
	return 1;
}

/*
 * Whether release version of the ledger runs as r would: same slug, config
 * vars, add-ons (the sandbox's view) and types.
 */
static int equivalent(struct app_ctx *ctx, int version, const struct release *r)
{
	struct release w = RELEASE_INIT;
	int same = ledger_read(ctx->ledger, version, LEDGER_READ_CONFIG | LEDGER_READ_PROCS, &w) == 0 &&
		   w.slug[0] && !strcmp(w.slug, r->slug) && config_equal(&w.config, &r->config) &&
		   attach_equal(&w.addons, &r->addons) && procs_equal(&w.procs, &r->procs);
	release_release(&w);
	return same;
}

/* The warm web instance of index among s (of release version), answering; NULL if none. */
static const struct service_info *answering(struct app_ctx *ctx, const struct service_info *s,
					    size_t n, int version, int index,
					    const struct healthchecks *hc, const char *host)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(s[i].state, "warm") || strcmp(s[i].type, "web") ||
		    s[i].version != version || s[i].index != index)
			continue;
		char label[32], *why = NULL;
		snprintf(label, sizeof(label), "web.%d", index);
		/* the app itself, not its network's forwarder, which listens for it all along */
		int ok = host_serves(ctx->root, ctx->app, s[i].name) &&
			 (!hc->n || host_check(ctx->root, ctx->app, s[i].name, label, hc, host,
					       &why) == 0);
		free(why);
		return ok ? &s[i] : NULL;
	}
	return NULL;
}

/* One warm instance of the app, as its files say (no process asked). */
struct warm_one {
	char *name;         /* its service */
	int version;        /* the release it serves */
	long long until;    /* when it retires */
};

/* The app's warm instances: one walk of its services for all that asks about them. */
struct warm_list {
	struct warm_one *v;
	size_t n;
};

static void warm_list_read(const char *root, const char *app, struct warm_list *out)
{
	struct strvec names = STRVEC_INIT;
	out->v = NULL;
	out->n = 0;
	services_names(root, app, &names);
	for (size_t i = 0; i < names.n; i++) {
		char type[64];
		int v, index;
		long long until;
		if (services_name_parse(names.v[i], app, &v, type, &index) < 0 ||
		    !warm_is(root, names.v[i], NULL, &until))
			continue;
		out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
		out->v[out->n++] = (struct warm_one){ .name = xstrdup(names.v[i]),
			.version = warm_release_of(root, names.v[i], v), .until = until };
	}
	strvec_clear(&names);
}

static void warm_list_release(struct warm_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* The release the app's warm instances are of, or 0. */
static int warm_version(const char *root, const char *app)
{
	struct warm_list w;
	warm_list_read(root, app, &w);
	int version = w.n ? w.v[0].version : 0;
	warm_list_release(&w);
	return version;
}

int warm_find(struct app_ctx *ctx, const struct release *r, const struct strvec *want,
	      struct strvec *taken, struct strvec *rest)
{
	struct service_info *s = NULL;
	struct healthchecks hc = { .n = 0 };
	char *host = NULL;
	size_t n = 0;
	int version = 0, ok = 1, seconds = 0;
	/* slipway.warmPrevious 0: nothing warm is taken either, every switch is cold */
	if (settings_seconds(ctx->settings, &SETTING_WARM_PREVIOUS, &seconds) < 0 || seconds <= 0)
		goto fail;
	/* most releases are not the warm one's equal: found out before s6 is asked anything */
	if (!(version = warm_version(ctx->root, ctx->app)) || !equivalent(ctx, version, r) ||
	    host_list(ctx->root, ctx->app, &s, &n) < 0 ||
	    healthchecks_load_once(ctx->root, ctx->app, r->slug, &hc, &host) < 0)
		goto fail;
	for (size_t i = 0; i < want->n && ok; i++) {
		int index = 0;
		const struct service_info *w = NULL;
		if (sscanf(want->v[i], "web.%d", &index) != 1) {
			strvec_push(rest, want->v[i]);
			continue;
		}
		if ((ok = (w = answering(ctx, s, n, version, index, &hc, host)) != NULL))
			strvec_push(taken, w->name);
	}
	if (!ok || !taken->n)
		goto fail;
	free(s);
	free(host);
	return 1;
fail:
	strvec_clear(taken);
	strvec_clear(rest);
	free(s);
	free(host);
	return 0;
}

int warm_take(struct app_ctx *ctx, const struct release *r, const struct strvec *taken)
{
	return warm_adopt(ctx->root, taken, r->version);
}

size_t warm_expire(const char *root, const char *app, long long by)
{
	struct strvec gone = STRVEC_INIT;
	struct warm_list w;
	int version = 0;
	warm_list_read(root, app, &w);
	for (size_t i = 0; i < w.n; i++) {
		if (w.v[i].until > by)
			continue;
		strvec_push(&gone, w.v[i].name);
		version = w.v[i].version;
	}
	if (gone.n) {
		host_retire(root, app, &gone, NULL);
		logs_event(root, app, "api", "Stopped %zu warm process instance%s of v%d: "
			   "slipway.warmPrevious is over", gone.n, gone.n == 1 ? "" : "s", version);
	}
	size_t n = gone.n;
	warm_list_release(&w);
	strvec_clear(&gone);
	return n;
}

long long warm_until(const char *root, const char *app)
{
	struct warm_list w;
	long long latest = 0;
	warm_list_read(root, app, &w);
	for (size_t i = 0; i < w.n; i++)
		if (w.v[i].until > latest)
			latest = w.v[i].until;
	warm_list_release(&w);
	return latest;
}
