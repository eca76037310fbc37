#include "hooks/receive.h"

#include "builder/build.h"
#include "store/app.h"
#include "store/appctx.h"
#include "store/gitlocks.h"
#include "store/ledger.h"
#include "store/settings.h"
#include "store/standby.h"
#include "util/error.h"
#include "util/gitutil.h"
#include "util/lock.h"
#include "util/say.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_zero(const char *sha)
{
	return strspn(sha, "0") == strlen(sha);
}

static int is_sha(const char *s)
{
	return strlen(s) == 40 && strspn(s, "0123456789abcdef") == 40;
}

static int branch_exists(const char *git_dir, const char *branch)
{
	git_repository *repo;
	git_oid oid;
	if (sw_git_open(&repo, git_dir))
		return 0;
	char *ref = xasprintf("refs/heads/%s", branch);
	int ok = git_reference_name_to_id(&oid, repo, ref) == 0;
	free(ref);
	git_repository_free(repo);
	return ok;
}

struct update {
	char old[41], new[41];
	char ref[512];
};

struct updates {
	struct update *v;
	size_t n;
};

/* Reads git's "<old> <new> <ref>" lines; malformed lines are skipped. */
static void read_updates(FILE *in, struct updates *u)
{
	char line[1024];
	size_t cap = 0;
	while (fgets(line, sizeof(line), in)) {
		char old[64], new[64], ref[512];
		if (sscanf(line, "%63s %63s %511s", old, new, ref) != 3 || !is_sha(old) ||
		    !is_sha(new))
			continue;
		if (u->n == cap) {
			cap = cap ? cap * 2 : 8;
			u->v = xrealloc(u->v, cap * sizeof(*u->v));
		}
		struct update *up = &u->v[u->n++];
		memcpy(up->old, old, 41);
		memcpy(up->new, new, 41);
		snprintf(up->ref, sizeof(up->ref), "%s", ref);
	}
}

/* 1 if branch exists once u is applied. */
static int stays(const char *git_dir, const struct updates *u, const char *branch)
{
	for (size_t i = 0; i < u->n; i++)
		if (!strncmp(u->v[i].ref, "refs/heads/", 11) && !strcmp(u->v[i].ref + 11, branch))
			return !is_zero(u->v[i].new);
	return branch_exists(git_dir, branch);
}

/*
 * The branches a push deploys from: the app's pinned one (slipway.branch),
 * else main and master.  Nothing else ever deploys, so the deploy branch
 * never changes unless the app's setting does.
 */
static int is_deploy_branch(const char *pinned, const char *name)
{
	return pinned ? !strcmp(name, pinned) : !strcmp(name, "main") || !strcmp(name, "master");
}

static const char *branch_of(const struct update *up)
{
	return strncmp(up->ref, "refs/heads/", 11) ? NULL : up->ref + 11;
}

static const char *tag_of(const struct update *up)
{
	return strncmp(up->ref, "refs/tags/", 10) ? NULL : up->ref + 10;
}

/* 1 if a push may update ref: a branch or a tag (tags are kept, never built). */
static int pushable(const char *ref)
{
	return (!strncmp(ref, "refs/heads/", 11) && ref[11]) ||
	       (!strncmp(ref, "refs/tags/", 10) && ref[10]);
}

/* The update that deploys: the first to a deploy branch, main before master. */
static const struct update *deploying(const struct updates *u, const char *pinned)
{
	const struct update *pick = NULL;
	for (size_t i = 0; i < u->n; i++) {
		const char *name = branch_of(&u->v[i]);
		if (!name || is_zero(u->v[i].new) || !is_deploy_branch(pinned, name))
			continue;
		if (!pick || !strcmp(name, "main"))
			pick = &u->v[i];
	}
	return pick;
}

/*
 * Where the push's release happens.  By default pre-receive builds (a
 * failed build rejects the push) and post-receive releases; git has sent
 * the pusher its verdict by then, so a failed release cannot fail the
 * push.  With slipway.failedReleaseExit pre-receive builds and releases,
 * before git moves the branch, and any failure rejects the push.
 */
enum step {
	STEP_PRE_BUILD,      /* pre-receive: build only */
	STEP_PRE_RELEASE,    /* pre-receive: build and release (failedReleaseExit) */
	STEP_POST,           /* post-receive: release what was built, else build and release */
	STEP_POST_RELEASED,  /* post-receive after STEP_PRE_RELEASE: never builds (a build
				that pre-receive only built, the setting turned on between
				the hooks, is still released) */
};

/* *on: slipway.failedReleaseExit of the app at git_dir; a malformed value is an error. */
static int failed_release_exit(const char *git_dir, int *on)
{
	struct settings *s = NULL;
	int err = settings_open_repo(&s, git_dir);
	*on = 0;
	if (!err)
		err = settings_bool(s, &SETTING_FAILED_RELEASE_EXIT, on);
	settings_free(s);
	return err;
}

/* The app's newest release number (0: none), or -1 when it cannot be read. */
static int latest_release(struct app_ctx *ctx)
{
	int v = -1;
	if (ledger_latest(ctx->ledger, &v) < 0)
		v = -1;
	return v;
}

static int build_one(const struct build_opts *base, enum build_stage stage)
{
	struct build_opts o = *base;
	o.stage = stage;
	return build_deploy(&o, NULL, NULL);
}

/*
 * Builds the update that deploys, as step says, and (post-receive) notes
 * the others.  1 if a build or release failed.
 */
static int build_updates(const char *git_dir, const struct updates *u, FILE *out, enum step step)
{
	char *root = NULL, *app = NULL, *pinned = NULL;
	int failed = 0;

	if (app_from_repo(git_dir, &root, &app) < 0 || app_deploy_branch(root, app, &pinned) < 0) {
		say(out, SAY_WARN, "%s", sw_error_last());
		free(root);
		free(app);
		return 1;
	}
	const struct update *dep = deploying(u, pinned);
	char *user = app_actor();
	for (size_t i = 0; i < u->n; i++) {
		const struct update *up = &u->v[i];
		const char *name = branch_of(up);
		if (up == dep)
			continue;
		if (step == STEP_PRE_BUILD || step == STEP_PRE_RELEASE) /* post-receive says it */
			;
		else if (tag_of(up))
			say(out, SAY_STEP, "%s tag %s; tags are kept, not built",
			    is_zero(up->new) ? "Deleted" : "Pushed", tag_of(up));
		else if (!name)
			say(out, SAY_STEP, "Ignoring %s: only branches are built", up->ref);
		else if (is_zero(up->new))
			say(out, SAY_STEP, "Deleted branch %s; nothing to build", name);
		else if (is_deploy_branch(pinned, name))
			say(out, SAY_STEP, "Pushed to %s too; only %s is built", name, branch_of(dep));
		else if (pinned)
			say(out, SAY_STEP, "Pushed to branch %s, which is not the deploy branch (%s); not building",
			    name, pinned);
		else
			say(out, SAY_STEP, "Pushed to branch %s; only main or master deploy, not building",
			    name);
	}
	if (dep) {
		/* one context for the builds of this push: the lock is taken once, by the first */
		struct app_ctx ctx = APP_CTX_INIT;
		struct build_opts o = BUILD_OPTS_INIT;
		o.ctx = &ctx;
		o.rev = dep->new;
		o.branch = branch_of(dep);
		o.user = user;
		o.remote_user = getenv("SLIPWAY_SHELL_USER");
		o.out = out;
		/* post-receive: git has moved the branch, whatever happens now */
		o.accepted = step == STEP_POST || step == STEP_POST_RELEASED;
		if (app_ctx_open(&ctx, root, app, APP_CTX_READ) < 0) {
			say(out, SAY_WARN, "%s", sw_error_last());
			failed = 1;
		} else if (step == STEP_PRE_BUILD) {
			failed = build_one(&o, BUILD_ONLY) < 0;
		} else if (step == STEP_PRE_RELEASE) {
			failed = build_one(&o, BUILD_AND_RELEASE) < 0;
		} else {
			int before = latest_release(&ctx);
			int err = build_one(&o, BUILD_RELEASE_BUILT);
			if (err == SW_ENOTFOUND)
				err = step == STEP_POST ? build_one(&o, BUILD_AND_RELEASE) : 0;
			failed = err < 0;
			/* recorded, but not live: git has told the pusher the push succeeded */
			if (failed && before >= 0 && latest_release(&ctx) > before)
				say(out, SAY_WARN, "The push was accepted, but nothing new is live "
						   "(slipway.failedReleaseExit true makes such a push fail)");
		}
		app_ctx_release(&ctx);
	}
	fflush(out);
	free(root);
	free(app);
	free(pinned);
	free(user);
	return failed;
}

int receive_post(FILE *in, FILE *out, const char *git_dir)
{
	struct updates u = { NULL, 0 };
	int rc = 0, released_in_pre = 0;
	read_updates(in, &u);
	if (failed_release_exit(git_dir, &released_in_pre) < 0)
		released_in_pre = 0; /* pre-receive refused the push on it */
	rc = build_updates(git_dir, &u, out, released_in_pre ? STEP_POST_RELEASED : STEP_POST);
	free(u.v);
	return rc;
}

struct waiting {
	FILE *out;
	const char *app;
};

static void say_waiting(void *ctx)
{
	struct waiting *w = ctx;
	say(w->out, SAY_STEP, "Waiting for the build of %s already in progress", w->app);
	fflush(w->out);
}

/*
 * Removes the lock files an interrupted git left (store/gitlocks.h), which
 * would make git wait for them and fail this push: under the app's lock,
 * taken only when there are some, before git locks the refs it updates.
 */
static void remove_stale_git_locks(const char *git_dir, FILE *out)
{
	struct strvec found = STRVEC_INIT, removed = STRVEC_INIT;
	struct app_ctx ctx = APP_CTX_INIT;
	char *root = NULL, *app = NULL;
	int err;

	if (gitlocks_find_stale(git_dir, &found) < 0 || !found.n)
		goto done; /* a failed look: git says what it finds */
	if (!(err = app_from_repo(git_dir, &root, &app))) {
		struct waiting w = { out, app };
		ctx.on_wait = say_waiting;
		ctx.on_wait_data = &w;
		err = app_ctx_open(&ctx, root, app, APP_CTX_WRITE);
	}
	if (!err)
		err = gitlocks_remove_stale(git_dir, &removed);
	app_ctx_release(&ctx);
	for (size_t i = 0; i < removed.n; i++)
		say(out, SAY_STEP, "Removed stale git lock %s, left behind by an interrupted git process",
		    removed.v[i]);
	if (err)
		say(out, SAY_WARN, "Stale git locks were not removed: %s", sw_error_last());
done:
	strvec_clear(&found);
	strvec_clear(&removed);
	free(root);
	free(app);
}

/*
 * Production deploys from the deploy branch: deleting it is refused - the
 * pinned one, or the last of main and master.
 */
static int refuse_deleting_deploy_branch(const char *git_dir, const struct updates *u, FILE *out)
{
	char *root = NULL, *app = NULL, *pinned = NULL;
	int refused = 0, deletes = 0;

	for (size_t i = 0; i < u->n; i++)
		deletes |= is_zero(u->v[i].new);
	if (deletes && (app_from_repo(git_dir, &root, &app) < 0 ||
			app_deploy_branch(root, app, &pinned) < 0)) {
		say(out, SAY_WARN, "%s", sw_error_last());
		refused = 1;
	}
	for (size_t i = 0; i < u->n && deletes && !refused; i++) {
		const char *name = branch_of(&u->v[i]);
		if (!name || !is_zero(u->v[i].new) || !is_deploy_branch(pinned, name))
			continue;
		const char *other = pinned ? NULL : strcmp(name, "main") ? "main" : "master";
		if (other && stays(git_dir, u, other))
			continue;
		say(out, SAY_WARN, "Push to %s refused: %s is the branch %s deploys from, it cannot be deleted",
		    u->v[i].ref, name, app);
		refused = 1;
	}
	free(root);
	free(app);
	free(pinned);
	return refused;
}

/* 1 (said) when this server is a standby, or fenced: it makes no release. */
static int refuse_on_standby(const char *git_dir, FILE *out)
{
	char *root = NULL, *app = NULL;
	int refused = 0;
	if (app_from_repo(git_dir, &root, &app) == 0 && standby_writer_check(root) < 0) {
		say(out, SAY_WARN, "Push refused: %s", sw_error_last());
		refused = 1;
	}
	free(root);
	free(app);
	return refused;
}

int receive_pre(FILE *in, FILE *out, const char *git_dir)
{
	struct updates u = { NULL, 0 };
	int refused = 0;

	read_updates(in, &u);
	for (size_t i = 0; i < u.n; i++) {
		const char *ref = u.v[i].ref;
		if (!pushable(ref)) { /* the ledger's refs/releases/ and refs/slipway/ among them */
			say(out, SAY_WARN, "Push to %s refused: only branches (refs/heads/*) and tags "
					   "(refs/tags/*) can be pushed", ref);
			refused = 1;
		}
	}
	if (!refused)
		refused = refuse_on_standby(git_dir, out);
	if (!refused)
		refused = refuse_deleting_deploy_branch(git_dir, &u, out);
	if (!refused)
		remove_stale_git_locks(git_dir, out);
	int release_here = 0; /* slipway.failedReleaseExit: release before git moves the branch */
	if (!refused && failed_release_exit(git_dir, &release_here) < 0) {
		say(out, SAY_WARN, "%s", sw_error_last());
		refused = 1;
	}
	if (!refused && release_here)
		refused = build_updates(git_dir, &u, out, STEP_PRE_RELEASE);
	else if (!refused && app_rejects_failed_builds(git_dir))
		refused = build_updates(git_dir, &u, out, STEP_PRE_BUILD);
	fflush(out);
	free(u.v);
	return refused;
}
