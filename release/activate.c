#include "release/activate.h"

#include "runtime/logs.h"
#include "release/onrelease.h"
#include "release/release_phase.h"
#include "runtime/host.h"
#include "runtime/router.h"
#include "exec/sandbox.h"
#include "exec/sbcheck.h"
#include "runtime/services.h"
#include "runtime/standby.h"
#include "exec/unpack.h"
#include "release/warm.h"
#include "release/watcher.h"
#include "store/app.h"
#include "store/appctx.h"
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

/* Whether r, live after previous, is watched: an automatic rollback never is. */
static int watched(const struct release *r, int previous)
{
	return r->status == RELEASE_SUCCEEDED && previous && previous != r->version &&
	       (!r->user || strcmp(r->user, WATCH_USER));
}

/*
 * Starts the watch of version (runtime/watch.h); when it cannot start, out
 * (may be NULL) and the log say so.
 */
static void watch(struct app_ctx *ctx, FILE *out, int version, int previous)
{
	/* the watch service also retires the instances kept warm when their window ends */
	if (watch_spawn(ctx, version, previous, warm_until(ctx->root, ctx->app)) == 0)
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

/* The newest release, left pending by a killed writer, failed. */
static int fail_interrupted(const char *root, const char *app, struct ledger *l, FILE *out)
{
	struct release r = RELEASE_INIT;
	int v = 0, err = ledger_latest(l, &v);
	if (!err && v)
		err = ledger_read(l, v, 0, &r);
	if (!err && v && r.status == RELEASE_PENDING &&
	    !(err = ledger_finish(l, v, RELEASE_FAILED, RELEASE_INTERRUPTED,
				      ACTIVATE_INTERRUPTED "\n"))) {
		if (out)
			say(out, SAY_WARN, "v%d was interrupted before it went live: it failed", v);
		logs_event(root, app, "api", "Release v%d failed: %s", v, ACTIVATE_INTERRUPTED);
	}
	release_release(&r);
	return err;
}

int activate_recover(struct app_ctx *ctx, FILE *out)
{
	const char *root = ctx->root, *app = ctx->app;
	struct ledger *l = ctx->ledger;
	struct strvec strays = STRVEC_INIT;
	int current = 0, err;
	if ((err = fail_interrupted(root, app, l, out)) || (err = ledger_current(l, &current)))
		goto done;
	/* what was kept warm and outlived its window (its watch service was killed) goes */
	warm_expire(root, app, (long long)time(NULL));
	running_strays(root, app, current, &strays);
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
		watch(ctx, NULL, g->version, g->previous);
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
	if (latest && r.status == RELEASE_PENDING)
		strvec_pushf(problems, "%s: release v%d is pending, but nothing is making it: it was "
			     "interrupted (fsck --repair or the app's next deploy, config change, "
			     "rollback or ps:restart marks it failed)", app, latest);
	running_strays(root, app, current, &strays);
	for (size_t i = 0; i < strays.n; i++)
		strvec_pushf(problems, "%s: the process instance %s runs, which the current release "
			     "v%d does not (an interrupted switch left it; fsck --repair or the "
			     "app's next deploy, config change, rollback or ps:restart stops it)", app, strays.v[i], current);
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

int activate(const struct activate_opts *o, struct release *r)
{
	struct app_ctx *ctx = o->ctx;
	struct activate_report local, *rep = o->report ? o->report : &local;
	struct strvec hook = STRVEC_INIT;
	int hook_timeout = 0;
	struct sandbox sb = SANDBOX_INIT;
	struct strvec want = STRVEC_INIT, started = STRVEC_INIT, keep = STRVEC_INIT;
	struct buf output = BUF_INIT;
	struct guard guard = GUARD_INIT;
	int phase = release_phase_wanted(r), timeout = 0, previous = 0, err = 0, recorded = 0;
	int up = services_runtime_up(ctx->root);
	/* with the runtime up, the release goes live only once its processes passed the gate */
	int runtime = up && r->slug[0];

	memset(rep, 0, sizeof(*rep));
	/* a standby, or a control whose standby was promoted, records nothing */
	if ((err = standby_fence_check(ctx->root)))
		return err;
	/* a stopped tree must not bring this app's old release back when it starts */
	if (!up)
		services_forget(ctx->root, ctx->app);

	if ((err = activate_recover(ctx, o->out)) ||
	    (err = onrelease_load(ctx, &hook, &hook_timeout)) ||
	    (runtime && ((err = services_wanted(ctx->root, ctx->app, r, &want)) ||
			 (err = ledger_current(ctx->ledger, &previous)))) ||
	    (phase && (err = prepare(o, &sb, &timeout))))
		goto done;
	int gated = phase || want.n;
	r->status = gated ? RELEASE_PENDING : RELEASE_SUCCEEDED;
	r->release_command = phase;
	if ((err = ledger_append(ctx->ledger, r)) || !gated)
		goto retire;
	recorded = 1;
	guard_start(ctx, r->version, runtime ? previous : 0, &guard);

	int ok = 1, started_ok = 1;
	if (phase) {
		char *said = NULL;
		release_phase_run(ctx, &sb, r, timeout, o->out, &ok, &said);
		buf_adds(&output, said);
		free(said);
	}
	if (ok && want.n)
		ok = started_ok = start_or_take(o, r, &want, previous, &started, &output);
	/* the router's requests move to the new instances before the release is current */
	if (ok && runtime)
		ok = started_ok = switch_router(o, &started, previous, &output);
	r->status = ok ? RELEASE_SUCCEEDED : RELEASE_FAILED;
	r->failed_start = started_ok ? 0 : RELEASE_FAILED_START;
	if ((err = ledger_finish(ctx->ledger, r->version, r->status, r->failed_start, output.data)) ||
	    !ok)
		goto done;
retire:
	recorded = recorded || !err;
	/* nothing was gated: the router goes straight to what the release runs (nothing) */
	if (!err && runtime && !gated &&
	    router_switch(ctx->root, ctx->app, &started, NULL) < 0) {
		say(o->out, SAY_WARN, "%s", sw_error_last());
		fflush(o->out);
	}
	/*
	 * only now that the new release is current do the old instances get
	 * SIGTERM, but the previous release's web ones kept warm
	 */
	if (!err && runtime) {
		warm_keep_previous(ctx, r, previous, &started, &keep);
		for (size_t i = 0; i < started.n; i++)
			strvec_push(&keep, started.v[i]);
		host_retire(ctx->root, ctx->app, NULL, &keep);
	}
	if (!err)
		went_live(o, r, up, &started, &hook, hook_timeout, rep);
	/* the new release is watched for a while */
	if (!err && runtime && watched(r, previous))
		watch(ctx, o->out, r->version, previous);
done:
	guard_end(&guard);
	if (recorded)
		mirror(o, r);
	if (!err && r->status == RELEASE_SUCCEEDED)
		logs_event(ctx->root, ctx->app, "api", "Release v%d created by %s: %s", r->version,
			   r->user ? r->user : "unknown", r->description ? r->description : "");
	else if (!err && r->status == RELEASE_FAILED)
		logs_event(ctx->root, ctx->app, "api", "Release v%d failed: %.*s", r->version,
			   (int)strcspn(output.data, "\n"), output.data);
	sandbox_release(&sb);
	strvec_clear(&want);
	strvec_clear(&started);
	strvec_clear(&keep);
	strvec_clear(&hook);
	buf_release(&output);
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
