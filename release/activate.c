#include "release/activate.h"

#include "runtime/logs.h"
#include "release/onrelease.h"
#include "release/release_phase.h"
#include "runtime/host.h"
#include "runtime/nodes.h"
#include "runtime/router.h"
#include "exec/sandbox.h"
#include "exec/sbcheck.h"
#include "runtime/services.h"
#include "runtime/standby.h"
#include "exec/unpack.h"
#include "release/warm.h"
#include "release/watcher.h"
#include "store/app.h"
#include "store/apphosts.h"
#include "store/appctx.h"
#include "store/paths.h"
#include "util/fsutil.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/say.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * Reads what the steps before going live need, and checks that the sandbox
 * starts, before anything is recorded.
 */
static int prepare(const struct activate_opts *o, struct sandbox *sb, int *seconds)
{
	int err = settings_seconds(o->ctx->settings, &SETTING_RELEASE_TIMEOUT, seconds);
	if (!err)
		err = sandbox_init(sb, o->ctx->root, o->ctx->app, SANDBOX_RUN);
	if (!err)
		err = sandbox_check_once(sb, o->ctx->root);
	/* we hold the app lock: any run directory of the app is a killed run's */
	if (!err)
		err = unpack_clear(o->ctx->root, o->ctx->app, NULL);
	return err;
}

/*
 * Says why the release did not go live - why is one line, then maybe the
 * instance's last log lines - and adds it to the release's output.
 */
static void not_live(const struct activate_opts *o, const char *why, int previous,
		     struct buf *output)
{
	size_t first = strcspn(why, "\n");
	if (previous)
		say(o->out, SAY_WARN, "%.*s; v%d is still live", (int)first, why, previous);
	else
		say(o->out, SAY_WARN, "%.*s; nothing is live", (int)first, why);
	say_lines(o->out, SAY_DETAIL, why + first);
	buf_addf(output, "%s\n", why);
}

/* Starts r's instances in the running supervision tree and gates on them (runtime/services.h). */
static int start_instances(const struct activate_opts *o, const struct release *r,
			   const struct strvec *want, int previous, struct strvec *started,
			   struct buf *output)
{
	char *why = NULL;
	if (host_start(o->ctx->root, o->ctx->app, r, want, started, &why) == 0)
		return 1;
	not_live(o, why, previous, output);
	free(why);
	return 0;
}

/*
 * Starts r's instances - or, when the previous release kept warm is
 * equivalent to r, takes its web instances (release/warm.h) and starts
 * only the rest.
 */
static int start_or_take(const struct activate_opts *o, const struct release *r,
			 const struct strvec *want, int previous, struct strvec *started,
			 struct buf *output)
{
	struct strvec taken = STRVEC_INIT, rest = STRVEC_INIT;
	if (!warm_find(o->ctx, r, want, &taken, &rest))
		return start_instances(o, r, want, previous, started, output);
	int ok = !rest.n || start_instances(o, r, &rest, previous, started, output);
	if (ok && warm_take(o->ctx, r, &taken) < 0) {
		not_live(o, sw_error_last(), previous, output);
		host_retire(o->ctx->root, o->ctx->app, started, NULL);
		strvec_clear(started);
		ok = 0;
	}
	for (size_t i = 0; ok && i < taken.n; i++)
		strvec_push(started, taken.v[i]);
	strvec_clear(&taken);
	strvec_clear(&rest);
	return ok;
}

/*
 * Points the router at the instances just started; when nginx refuses,
 * they are stopped again and the old release keeps serving.
 */
static int switch_router(const struct activate_opts *o, struct strvec *started, int previous,
			 struct buf *output)
{
	if (router_switch(o->ctx->root, o->ctx->app, started, NULL) == 0)
		return 1;
	not_live(o, sw_error_last(), previous, output);
	host_retire(o->ctx->root, o->ctx->app, started, NULL);
	strvec_clear(started);
	return 0;
}

/*
 * r has just become current: whether anything runs it, and the operator's
 * slipway.onRelease.
 */
static void went_live(const struct activate_opts *o, const struct release *r, int up,
		      const struct strvec *started, const struct strvec *hook, int hook_timeout,
		      struct activate_report *rep)
{
	rep->started = up && started->n;
	if (!up && r->slug[0] && !hook->n) {
		struct strvec want = STRVEC_INIT;
		/* a formation that cannot be read may well ask for instances */
		rep->not_running = services_wanted(o->ctx->root, o->ctx->app, r, &want) || want.n;
		strvec_clear(&want);
	}
	if (hook->n) {
		onrelease_run(o->ctx, hook, hook_timeout, r, o->out);
		rep->on_release = 1;
	}
}

/*
 * Whether r, live after previous, is watched: an automatic rollback never
 * is, nor on a run host a release its control applied (the control watches).
 */
static int control_applied(const struct release *r)
{
	return r->user && !strcmp(r->user, ACTIVATE_CONTROL_USER);
}

static int watched(const struct release *r, int previous)
{
	return r->status == RELEASE_SUCCEEDED && previous && previous != r->version &&
	       (!r->user || strcmp(r->user, WATCH_USER)) && !control_applied(r);
}

/*
 * Starts the watch of version (runtime/watch.h); when it cannot start, out
 * (may be NULL) and the log say so.
 */
static void watch(struct app_ctx *ctx, FILE *out, int version, int previous, int watching)
{
	/* the watch service also retires the instances kept warm when their window ends */
	long long until = warm_until(ctx->root, ctx->app);
	if ((watching ? watch_spawn(ctx, version, previous, until)
		      : watch_spawn_warm(ctx, version, previous, until)) == 0)
		return;
	char *why = xstrdup(sw_error_last());
	if (out) {
		say(out, SAY_WARN, "No automatic rollback for v%d: %s", version, why);
		fflush(out);
	}
	logs_event(ctx->root, ctx->app, "api", "No automatic rollback for v%d: %s", version, why);
	free(why);
}

/*
 * The instances a killed switch left that run (services_strays), into
 * strays: the scan directory first, as asking s6 whether the tree runs
 * costs a process.
 */
static void running_strays(const char *root, const char *app, int current,
			   struct strvec *strays)
{
	services_strays(root, app, current, strays);
	if (strays->n && !services_runtime_up(root))
		strvec_clear(strays); /* nothing runs them */
}

static void prep_guard_end(struct activate_prep *p);

/* A prepared release kept for a switch from another process (activate.h: hold_seconds). */
struct held {
	int version;
	long long deadline;
	char tag[128];
	struct strvec started;
};
#define HELD_INIT { .started = STRVEC_INIT }

/* What the app keeps prepared; SW_ENOTFOUND when nothing (or nothing readable). */
static int held_read(const char *root, const char *app, struct held *h)
{
	char *path = paths_prepared_file(root, app), *text = NULL;
	int err = fs_read_file(path, 1 << 20, &text, NULL);
	if (err == 0 && sscanf(text, "%d %lld %127s", &h->version, &h->deadline, h->tag) == 3 &&
	    h->version > 0) {
		char *line = strchr(text, '\n');
		while (line && *++line) {
			size_t n = strcspn(line, "\n");
			if (n)
				strvec_pushf(&h->started, "%.*s", (int)n, line);
			line = strchr(line, '\n');
		}
	} else if (err == 0) {
		err = SW_ENOTFOUND; /* half a record is no record */
	}
	free(text);
	free(path);
	return err;
}

static int prepared_write(struct app_ctx *ctx, const struct activate_prep *p, long long deadline,
			  const char *tag)
{
	char *path = paths_prepared_file(ctx->root, ctx->app);
	struct buf b = BUF_INIT;
	buf_addf(&b, "%d %lld %s\n", p->version, deadline, tag && *tag ? tag : "-");
	for (size_t i = 0; i < p->started.n; i++)
		buf_addf(&b, "%s\n", p->started.v[i]);
	int err = fs_write_atomic(path, b.data, b.len, 0600);
	buf_release(&b);
	free(path);
	return err;
}

/* The prepared release version (0: any) is kept no more. */
static int prepared_forget(struct app_ctx *ctx, int version)
{
	struct held h = HELD_INIT;
	int err = 0;
	if (held_read(ctx->root, ctx->app, &h) == 0 && (!version || h.version == version)) {
		char *path = paths_prepared_file(ctx->root, ctx->app);
		if (unlink(path) < 0 && errno != ENOENT)
			err = sw_error_errno(SW_ERROR, "cannot remove %s", path);
		free(path);
	}
	strvec_clear(&h.started);
	return err;
}

/* Release version, still pending, failed with why; its instances (started) stopped. */
static int fail_prepared(struct app_ctx *ctx, int version, struct strvec *started,
			 unsigned failed_start, const char *why)
{
	struct release r = RELEASE_INIT;
	int err = prepared_forget(ctx, version);
	host_retire(ctx->root, ctx->app, started, NULL);
	strvec_clear(started);
	if (!err && (err = ledger_read(ctx->ledger, version, 0, &r)) == 0 &&
	    r.status == RELEASE_PENDING) {
		char *output = xasprintf("%s\n", why);
		if ((err = ledger_finish(ctx->ledger, version, RELEASE_FAILED, failed_start,
					 output)) == 0)
			logs_event(ctx->root, ctx->app, "api", "Release v%d failed: %.*s", version,
				   (int)strcspn(why, "\n"), why);
		free(output);
	}
	release_release(&r);
	return err;
}

int activate_abort(struct app_ctx *ctx, struct activate_prep *p, const char *why)
{
	p->ready = 0;
	int err = fail_prepared(ctx, p->version, &p->started, 0, why);
	prep_guard_end(p);
	return err;
}

int activate_prepared(struct app_ctx *ctx, const char *tag, struct release *r,
		      struct activate_prep *p)
{
	struct held h = HELD_INIT;
	int err = held_read(ctx->root, ctx->app, &h);
	if (!err && tag && strcmp(h.tag, tag))
		err = SW_ENOTFOUND;
	if (!err && (err = ledger_read(ctx->ledger, h.version, 0, r)) == 0 &&
	    r->status != RELEASE_PENDING)
		err = SW_ENOTFOUND;
	if (err == SW_ENOTFOUND)
		err = sw_error_set(SW_ENOTFOUND, "%s has no release prepared for a switch", ctx->app);
	if (!err) {
		p->version = h.version;
		p->up = services_runtime_up(ctx->root);
		p->runtime = p->up && r->slug[0];
		p->gated = 1;
		strvec_clear(&p->started);
		for (size_t i = 0; i < h.started.n; i++)
			strvec_push(&p->started, h.started.v[i]);
		if ((err = ledger_current(ctx->ledger, &p->previous)) == 0)
			err = onrelease_load(ctx, &p->hook, &p->hook_timeout);
		p->ready = !err;
	}
	strvec_clear(&h.started);
	return err;
}

/* A release prepared earlier and not switched gives way to a newer one. */
static int supersede(struct app_ctx *ctx, FILE *out)
{
	struct held h = HELD_INIT;
	int err = 0;
	if (held_read(ctx->root, ctx->app, &h) == 0) {
		if (out)
			say(out, SAY_WARN, "v%d was prepared but not switched: a newer release "
			    "replaces it", h.version);
		err = fail_prepared(ctx, h.version, &h.started, 0,
				    "a newer release was prepared before this one was switched");
	}
	strvec_clear(&h.started);
	return err;
}

/*
 * The newest release v, pending: kept prepared for a switch whose deadline
 * has not passed (its instances into spared), or abandoned (failed, its
 * instances stopped).  Returns 1 when it was kept or abandoned, else 0.
 */
static int held_pending(struct app_ctx *ctx, int v, FILE *out, struct strvec *spared, int *err)
{
	struct held h = HELD_INIT;
	int handled = 0;
	if (held_read(ctx->root, ctx->app, &h) == 0 && h.version == v) {
		handled = 1;
		if (h.deadline > (long long)time(NULL)) {
			for (size_t i = 0; i < h.started.n; i++)
				strvec_push(spared, h.started.v[i]);
		} else {
			if (out)
				say(out, SAY_WARN, "v%d was prepared but never switched: it failed", v);
			*err = fail_prepared(ctx, v, &h.started, RELEASE_INTERRUPTED,
					     ACTIVATE_ABANDONED);
		}
	}
	strvec_clear(&h.started);
	return handled;
}

/*
 * The app's run hosts back on its current release, which may not be the
 * one they run: v, a release they switched to, did not go live here (this
 * host's own switch failed, or its writer was killed).  Before the app's
 * first release with code went live there is nothing to go back to: they
 * keep v and run none of it.  A host that cannot be is warned of, with
 * the command that mends it; the error being reported, if any, is kept.
 */
static void hosts_realign(struct app_ctx *ctx, int v, FILE *out)
{
	struct strvec hosts = STRVEC_INIT;
	struct release cur = RELEASE_INIT, failed = RELEASE_INIT;
	struct buf said = BUF_INIT;
	struct sw_error_state kept;
	int live = 0, err;
	sw_error_save(&kept, SW_ERROR);
	if (node_run_hosts(ctx->root, ctx->app, &hosts) || !hosts.n ||
	    ledger_current(ctx->ledger, &live))
		goto done;
	if (live && !ledger_read(ctx->ledger, live, 0, &cur) && cur.slug[0])
		err = node_release(ctx->root, ctx->app, &hosts, &said);
	else if (!(err = ledger_read(ctx->ledger, v, LEDGER_READ_PROCS | LEDGER_READ_CONFIG,
				     &failed)))
		err = node_release_none(ctx->root, ctx->app, &failed, &hosts, &said);
	if (err < 0) {
		char *why = cur.slug[0]
			? xasprintf("the run hosts could not all be put back on v%d, the live "
				    "release (%s): 'slipway hosts:apply -a %s' does it", live,
				    sw_error_last(), ctx->app)
			: xasprintf("the run hosts could not all stop v%d, which did not go live "
				    "(%s): 'slipway hosts:apply -a %s' does it once a release "
				    "is live", v, sw_error_last(), ctx->app);
		if (out)
			say(out, SAY_WARN, "%s", why);
		logs_event(ctx->root, ctx->app, "api", "%s", why);
		free(why);
	}
done:
	sw_error_restore(&kept);
	buf_release(&said);
	release_release(&cur);
	release_release(&failed);
	strvec_clear(&hosts);
}

/* The newest release, left pending by a killed writer, failed. */
static int fail_interrupted(struct app_ctx *ctx, FILE *out, struct strvec *spared)
{
	const char *root = ctx->root, *app = ctx->app;
	struct ledger *l = ctx->ledger;
	struct release r = RELEASE_INIT;
	int v = 0, err = ledger_latest(l, &v);
	if (!err && v)
		err = ledger_read(l, v, 0, &r);
	if (!err && v && r.status == RELEASE_PENDING && !held_pending(ctx, v, out, spared, &err) &&
	    !(err = ledger_finish(l, v, RELEASE_FAILED, RELEASE_INTERRUPTED,
				      ACTIVATE_INTERRUPTED "\n"))) {
		if (out)
			say(out, SAY_WARN, "v%d was interrupted before it went live: it failed", v);
		logs_event(root, app, "api", "Release v%d failed: %s", v, ACTIVATE_INTERRUPTED);
		/* the run hosts may have switched to it before the writer was killed */
		if (r.slug[0])
			hosts_realign(ctx, v, out);
	}
	release_release(&r);
	return err;
}

int activate_recover(struct app_ctx *ctx, FILE *out)
{
	const char *root = ctx->root, *app = ctx->app;
	struct ledger *l = ctx->ledger;
	struct strvec strays = STRVEC_INIT, spared = STRVEC_INIT;
	int current = 0, err;
	if ((err = fail_interrupted(ctx, out, &spared)) || (err = ledger_current(l, &current)))
		goto done;
	/* what was kept warm and outlived its window (its watch service was killed) goes */
	warm_expire(root, app, (long long)time(NULL));
	running_strays(root, app, current, &strays);
	/* a release prepared for a switch to come keeps its instances */
	strvec_sort(&spared);
	for (size_t i = strays.n; i-- > 0;)
		if (strvec_has_sorted(&spared, strays.v[i])) {
			free(strays.v[i]);
			strays.v[i] = strays.v[--strays.n];
			strays.v[strays.n] = NULL;
		}
	if (!strays.n)
		goto done;
	/* requests go to the current release's instances first, then the others stop */
	if (router_switch(root, app, NULL, &strays) < 0) {
		char *why = xstrdup(sw_error_last());
		if (out)
			say(out, SAY_WARN, "%s", why);
		logs_event(root, app, "api", "An interrupted switch could not be undone: %s", why);
		free(why);
		goto done;
	}
	host_retire(root, app, &strays, NULL);
	char *said = xasprintf("Stopped %zu process instance%s an interrupted switch left running",
			       strays.n, strays.n == 1 ? "" : "s");
	if (out)
		say(out, SAY_WARN, "%s", said);
	logs_event(root, app, "api", "%s", said);
	free(said);
done:
	if (out)
		fflush(out);
	strvec_clear(&strays);
	strvec_clear(&spared);
	return err;
}

int activate_recover_app(const char *root, const char *app, FILE *out)
{
	struct app_ctx ctx = APP_CTX_INIT;
	int err = app_ctx_open(&ctx, root, app, APP_CTX_TRY_WRITE);
	/* an app whose lock is held has a writer at work: it is not interrupted */
	if (err == SW_ELOCKED)
		err = 0;
	else if (!err)
		err = activate_recover(&ctx, out);
	app_ctx_release(&ctx);
	return err;
}

int activate_recover_all(const char *root, FILE *out)
{
	struct strvec apps = STRVEC_INIT;
	int err = app_list(root, &apps);
	for (size_t i = 0; !err && i < apps.n; i++) {
		/* one app's ledger keeps no other app from being put right */
		if (activate_recover_app(root, apps.v[i], out) < 0 && out)
			say(out, SAY_WARN, "%s: %s", apps.v[i], sw_error_last());
	}
	strvec_clear(&apps);
	return err;
}

/*
 * A switch's guard: a child of the writer that waits for the writer's
 * word that the switch is over.  It shares the writer's app lock (an
 * flock belongs to the open file, which a child inherits), so when the
 * writer dies first - kill -9, the OOM killer - the guard undoes what the
 * switch left at once, still under the lock, and no other writer comes
 * between: the router never goes on serving a release the ledger does not
 * call current, and a release that went live is watched.  A guard that cannot start, or dies with its writer (the
 * whole process group killed, a power cut), leaves the undoing to the
 * app's next writer, as before.
 */
struct guard {
	pid_t pid;
	int fd;
	int version, previous; /* the release the switch makes live, and the one before */
};
#define GUARD_INIT { .pid = -1, .fd = -1 }

/*
 * The writer died once its release went live, maybe before it started the
 * release's watch: the guard starts it (again: a watch the writer started
 * begins its window anew).
 */
static void guard_watch(struct app_ctx *ctx, const struct guard *g)
{
	struct ledger *l = ctx->ledger;
	struct release r = RELEASE_INIT;
	int current = 0;
	if (g->version && g->previous && ledger_current(l, &current) == 0 && current == g->version &&
	    ledger_read(l, g->version, 0, &r) == 0 && watched(&r, g->previous))
		watch(ctx, NULL, g->version, g->previous, 1);
	release_release(&r);
}

static __attribute__((noreturn)) void guard_run(const struct app_ctx *ctx,
						const struct guard *g, int fd)
{
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		/* the writer's client must not wait for the guard's end of its pipes */
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	/* a Ctrl-C or a hang-up that ends the writer is what the guard is for */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	char c;
	ssize_t n;
	while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
		;
	if (n == 1)
		_exit(0); /* the switch is over */
	/* the writer's context, with a ledger of our own that reads what the writer left */
	struct app_ctx mine = *ctx;
	char *repo = app_repo_path(ctx->root, ctx->app);
	if (ledger_open(&mine.ledger, repo) == 0 && activate_recover(&mine, NULL) == 0)
		guard_watch(&mine, g);
	_exit(0);
}

static void guard_start(const struct app_ctx *ctx, int version, int previous, struct guard *g)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return;
	fflush(NULL); /* nothing buffered is written twice */
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		g->version = version;
		g->previous = previous;
		guard_run(ctx, g, sv[1]);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return;
	}
	g->pid = pid;
	g->fd = sv[0];
}

/* The switch is over: the guard ends, and lets go of the lock with it. */
static void guard_end(struct guard *g)
{
	if (g->pid <= 0)
		return;
	(void)send(g->fd, "", 1, MSG_NOSIGNAL);
	close(g->fd);
	while (waitpid(g->pid, NULL, 0) < 0 && errno == EINTR)
		;
	g->pid = -1;
	g->fd = -1;
}

void activate_check(const char *root, const char *app, struct strvec *problems)
{
	struct app_ctx ctx = APP_CTX_INIT;
	struct release r = RELEASE_INIT;
	struct strvec strays = STRVEC_INIT;
	int latest = 0, current = 0;
	/*
	 * busy: a writer is at work; a ledger that cannot be read is the
	 * ledger's check's to name (store/fsck.h)
	 */
	if (app_ctx_open(&ctx, root, app, APP_CTX_TRY_WRITE) < 0 ||
	    ledger_latest(ctx.ledger, &latest) < 0 || ledger_current(ctx.ledger, &current) < 0 ||
	    (latest && ledger_read(ctx.ledger, latest, 0, &r) < 0))
		goto done;
	struct held h = HELD_INIT;
	/* a release prepared for a switch to come, and its instances, are no problem yet */
	int held = held_read(root, app, &h) == 0 && h.version == latest &&
		   h.deadline > (long long)time(NULL);
	if (latest && r.status == RELEASE_PENDING && !held)
		strvec_pushf(problems, "%s: release v%d is pending, but nothing is making it: it was "
			     "interrupted (fsck --repair or the app's next deploy, config change, "
			     "rollback or ps:restart marks it failed)", app, latest);
	running_strays(root, app, current, &strays);
	strvec_sort(&h.started);
	for (size_t i = 0; i < strays.n; i++)
		if (!held || !strvec_has_sorted(&h.started, strays.v[i]))
			strvec_pushf(problems, "%s: the process instance %s runs, which the current release "
				     "v%d does not (an interrupted switch left it; fsck --repair or the "
				     "app's next deploy, config change, rollback or ps:restart stops it)", app, strays.v[i], current);
	strvec_clear(&h.started);
done:
	strvec_clear(&strays);
	release_release(&r);
	app_ctx_release(&ctx);
}

/* Sends the ledger to the standby control; a failure is the pusher's warning, not the release's. */
static void mirror(const struct activate_opts *o, const struct release *r)
{
	if (standby_mirror(o->ctx->root, o->ctx->app) == 0)
		return;
	say(o->out, SAY_WARN, "the standby did not take v%d: %s (the next release sends it again)",
	    r->version, sw_error_last());
	fflush(o->out);
	logs_event(o->ctx->root, o->ctx->app, "api", "Release v%d not mirrored: %s", r->version,
		   sw_error_last());
}

/* The guard of p (it holds the guard between the halves). */
static void prep_guard_start(struct app_ctx *ctx, struct activate_prep *p)
{
	struct guard g = GUARD_INIT;
	guard_start(ctx, p->version, p->runtime ? p->previous : 0, &g);
	p->guard_pid = g.pid;
	p->guard_fd = g.fd;
}

static void prep_guard_end(struct activate_prep *p)
{
	struct guard g = { .pid = p->guard_pid, .fd = p->guard_fd };
	guard_end(&g);
	p->guard_pid = -1;
	p->guard_fd = -1;
}

/* p's release failed before it went live: said in the log. */
static void log_failed(struct app_ctx *ctx, const struct activate_prep *p)
{
	const char *why = p->output.data ? p->output.data : "";
	logs_event(ctx->root, ctx->app, "api", "Release v%d failed: %.*s", p->version,
		   (int)strcspn(why, "\n"), why);
}

void activate_prep_release(struct activate_prep *p)
{
	prep_guard_end(p);
	strvec_clear(&p->started);
	strvec_clear(&p->hook);
	buf_release(&p->output);
}

/* activate_prepare(); with gate, r is pending until its finish even when nothing runs it here. */
static int prepare_release(const struct activate_opts *o, struct release *r, int hold_seconds,
			   const char *tag, int gate, struct activate_prep *p)
{
	struct app_ctx *ctx = o->ctx;
	struct sandbox sb = SANDBOX_INIT;
	struct strvec want = STRVEC_INIT;
	int phase = release_phase_wanted(r), timeout = 0, err = 0;

	if (o->report)
		memset(o->report, 0, sizeof(*o->report));
	p->ready = 0;
	/* a standby, or a control whose standby was promoted, records nothing */
	if ((err = standby_fence_check(ctx->root)))
		return err;
	p->up = services_runtime_up(ctx->root);
	/* with the runtime up, the release goes live only once its processes passed the gate */
	p->runtime = p->up && r->slug[0];
	/* a stopped tree must not bring this app's old release back when it starts */
	if (!p->up)
		services_forget(ctx->root, ctx->app);

	/* a release prepared before this one, and not switched, gives way to it */
	if ((err = supersede(ctx, o->out)))
		goto done;
	if ((err = activate_recover(ctx, o->out)) ||
	    (err = onrelease_load(ctx, &p->hook, &p->hook_timeout)) ||
	    (p->runtime && ((err = services_wanted(ctx->root, ctx->app, r, &want)) ||
			    (err = ledger_current(ctx->ledger, &p->previous)))) ||
	    (phase && (err = prepare(o, &sb, &timeout))))
		goto done;
	/* a release held for a switch is never current before its switch */
	p->gated = phase || want.n || hold_seconds > 0 || gate;
	r->status = p->gated ? RELEASE_PENDING : RELEASE_SUCCEEDED;
	r->release_command = phase;
	if ((err = ledger_append(ctx->ledger, r)))
		goto done;
	p->version = r->version;
	if (!p->gated) {
		p->ready = 1;
		goto done;
	}
	prep_guard_start(ctx, p);

	int ok = 1, started_ok = 1;
	if (phase) {
		char *said = NULL;
		release_phase_run(ctx, &sb, r, timeout, o->out, &ok, &said);
		buf_adds(&p->output, said);
		free(said);
	}
	if (ok && want.n)
		ok = started_ok = start_or_take(o, r, &want, p->previous, &p->started, &p->output);
	if (ok && hold_seconds > 0 &&
	    (err = prepared_write(ctx, p, (long long)time(NULL) + hold_seconds, tag))) {
		not_live(o, sw_error_last(), p->previous, &p->output);
		host_retire(ctx->root, ctx->app, &p->started, NULL);
		strvec_clear(&p->started);
		ok = started_ok = 0;
	}
	if (!ok) {
		r->status = RELEASE_FAILED;
		r->failed_start = started_ok ? 0 : RELEASE_FAILED_START;
		if ((err = ledger_finish(ctx->ledger, r->version, r->status, r->failed_start,
					 p->output.data)) == 0)
			log_failed(ctx, p);
		prep_guard_end(p);
		mirror(o, r);
		goto done;
	}
	p->ready = 1;
	/* the switch comes from another process: the deadline guards it now */
	if (hold_seconds > 0)
		prep_guard_end(p);
done:
	sandbox_release(&sb);
	strvec_clear(&want);
	return err;
}

int activate_prepare(const struct activate_opts *o, struct release *r, int hold_seconds,
		     const char *tag, struct activate_prep *p)
{
	return prepare_release(o, r, hold_seconds, tag, 0, p);
}

int activate_finish(const struct activate_opts *o, struct release *r, struct activate_prep *p)
{
	struct app_ctx *ctx = o->ctx;
	struct activate_report local, *rep = o->report ? o->report : &local;
	struct strvec keep = STRVEC_INIT;
	int err = 0;

	memset(rep, 0, sizeof(*rep));
	if (!p->ready)
		return sw_error_set(SW_EINVALID, "v%d is not prepared: nothing to switch", p->version);
	if (!p->gated)
		goto retire;
	/*
	 * no longer spared by recovery: a finish killed from here on is
	 * undone by the guard, or the next writer, as any interrupted switch
	 */
	if ((err = prepared_forget(ctx, p->version)))
		goto done;
	if (p->guard_pid < 0)
		prep_guard_start(ctx, p);
	int ok = 1;
	/* the router's requests move to the new instances before the release is current */
	if (p->runtime)
		ok = switch_router(o, &p->started, p->previous, &p->output);
	r->status = ok ? RELEASE_SUCCEEDED : RELEASE_FAILED;
	r->failed_start = ok ? 0 : RELEASE_FAILED_START;
	if ((err = ledger_finish(ctx->ledger, r->version, r->status, r->failed_start,
				 p->output.data)) || !ok)
		goto done;
retire:
	/* nothing was gated: the router goes straight to what the release runs (nothing) */
	if (p->runtime && !p->gated &&
	    router_switch(ctx->root, ctx->app, &p->started, NULL) < 0) {
		say(o->out, SAY_WARN, "%s", sw_error_last());
		fflush(o->out);
	}
	/*
	 * only now that the new release is current do the old instances get
	 * SIGTERM, but the previous release's web ones kept warm
	 */
	if (p->runtime) {
		warm_keep_previous(ctx, r, p->previous, &p->started, &keep);
		for (size_t i = 0; i < p->started.n; i++)
			strvec_push(&keep, p->started.v[i]);
		host_retire(ctx->root, ctx->app, NULL, &keep);
	}
	went_live(o, r, p->up, &p->started, &p->hook, p->hook_timeout, rep);
	/* the new release is watched for a while */
	if (p->runtime && watched(r, p->previous))
		watch(ctx, o->out, r->version, p->previous, 1);
	/* on a run host, the control watches: the service only retires what was kept warm */
	else if (p->runtime && control_applied(r) && p->previous && p->previous != r->version)
		watch(ctx, o->out, r->version, p->previous, 0);
done:
	prep_guard_end(p);
	p->ready = 0;
	/* the release was recorded: the standby gets it, live or failed */
	if (p->version)
		mirror(o, r);
	if (!err && r->status == RELEASE_SUCCEEDED)
		logs_event(ctx->root, ctx->app, "api", "Release v%d created by %s: %s", r->version,
			   r->user ? r->user : "unknown", r->description ? r->description : "");
	else if (!err && r->status == RELEASE_FAILED)
		log_failed(ctx, p);
	strvec_clear(&keep);
	return err;
}

/* The hosts of the app, "local, h1, h2", as the pusher sees them. */
static char *hosts_said(const char *root, const char *app)
{
	struct strvec all = STRVEC_INIT;
	struct buf b = BUF_INIT;
	apphosts_placement(root, app, &all);
	for (size_t i = 0; i < all.n; i++)
		buf_addf(&b, "%s%s", i ? ", " : "", all.v[i]);
	strvec_clear(&all);
	return buf_detach(&b);
}

/*
 * activate() for an app placed on run hosts too: r prepared here (pending
 * even when this host runs none of it), then on every run host, which
 * then all switch (runtime/nodes.h node_release_of()) before it is
 * finished here.  When a host cannot, every host aborts, so does this
 * one, and r fails with that host's line; the release before it serves on
 * everywhere.
 */
static int activate_across(const struct activate_opts *o, struct release *r,
			   const struct strvec *hosts)
{
	struct app_ctx *ctx = o->ctx;
	struct activate_prep p = ACTIVATE_PREP_INIT;
	struct buf answers = BUF_INIT;
	char *said = NULL;
	int err = prepare_release(o, r, 0, NULL, 1, &p), current = 0;
	if (err || !p.ready)
		goto done;
	said = hosts_said(ctx->root, ctx->app);
	fprintf(o->out, "%sReleasing v%d to %s... ", say_prefix(SAY_STEP), r->version, said);
	fflush(o->out);
	if (node_release_of(ctx->root, ctx->app, r, NULL, hosts, &answers) < 0) {
		char *why = xstrdup(sw_error_last());
		fprintf(o->out, "failed\n");
		if ((err = activate_abort(ctx, &p, why)) == 0 &&
		    (err = ledger_current(ctx->ledger, &current)) == 0) {
			struct buf output = BUF_INIT;
			r->status = RELEASE_FAILED;
			not_live(o, why, current, &output);
			buf_release(&output);
			fflush(o->out);
			mirror(o, r);
		}
		free(why);
		goto done;
	}
	fprintf(o->out, "done\n");
	fflush(o->out);
	/* the front sends requests to the run hosts that run it now */
	for (size_t i = 0; !err && i < hosts->n; i++)
		err = apphosts_placed(ctx->root, ctx->app, hosts->v[i]);
	if (!err) {
		err = activate_finish(o, r, &p);
		/* the run hosts switched to r: when it did not go live here, they go back */
		if (err || r->status != RELEASE_SUCCEEDED)
			hosts_realign(ctx, r->version, o->out);
	}
done:
	activate_prep_release(&p);
	buf_release(&answers);
	free(said);
	return err;
}

int activate(const struct activate_opts *o, struct release *r)
{
	struct activate_prep p = ACTIVATE_PREP_INIT;
	struct strvec hosts = STRVEC_INIT;
	/* a release with code goes to the app's run hosts too, when it has some */
	int err = r->slug[0] ? node_run_hosts(o->ctx->root, o->ctx->app, &hosts) : 0;
	if (!err && hosts.n)
		err = activate_across(o, r, &hosts);
	else if (!err && !(err = activate_prepare(o, r, 0, NULL, &p)) && p.ready)
		err = activate_finish(o, r, &p);
	activate_prep_release(&p);
	strvec_clear(&hosts);
	return err;
}

int activate_restart(struct app_ctx *ctx, const struct release *r, const char *which, char **why)
{
	const char *root = ctx->root, *app = ctx->app;
	struct strvec started = STRVEC_INIT, old = STRVEC_INIT;
	struct guard guard = GUARD_INIT;
	guard_start(ctx, 0, 0, &guard);
	int err = host_restart(root, app, r, which, &started, &old, why);
	/* requests move to the new instances; only then do the old ones get SIGTERM */
	if (!err && (err = router_switch(root, app, NULL, &old))) {
		host_retire(root, app, &started, NULL);
		strvec_clear(&old);
	}
	host_retire(root, app, &old, NULL);
	guard_end(&guard);
	strvec_clear(&started);
	strvec_clear(&old);
	return err;
}
