#include "release/change.h"

#include "release/activate.h"
#include "runtime/services.h"
#include "release/watcher.h"
#include "store/settings.h"

#include "store/app.h"
#include "store/appctx.h"
#include "store/cas.h"
#include "util/error.h"
#include "store/ledger.h"
#include "util/lock.h"

#include <stdlib.h>
#include <string.h>

/* The ledger of ctx under its lock: taken here unless ctx holds it already. */
static int begin(struct app_ctx *ctx, struct ledger **l)
{
	int err = app_ctx_lock(ctx);
	*l = ctx->ledger;
	return err;
}

static void describe_config(struct buf *d, const struct config *set, const struct strvec *order,
			    const struct strvec *unset)
{
	if (set && set->n) {
		buf_adds(d, "Set ");
		/* in the order the user typed them, when it is known */
		size_t n = order && order->n ? order->n : set->n;
		for (size_t i = 0; i < n; i++)
			buf_addf(d, "%s%s", i ? ", " : "",
				 order && order->n ? order->v[i] : set->items[i].key);
	}
	if (unset && unset->n) {
		buf_adds(d, d->len ? " and remove " : "Remove ");
		for (size_t i = 0; i < unset->n; i++)
			buf_addf(d, "%s%s", i ? ", " : "", unset->v[i]);
	}
	buf_adds(d, " config vars");
}

/* Copies slug, commit and process types of `from` into r. */
static void take_code(struct release *r, const struct release *from)
{
	memcpy(r->slug, from->slug, sizeof(r->slug));
	memcpy(r->commit, from->commit, sizeof(r->commit));
	r->slug_size = from->slug_size;
	for (size_t i = 0; i < from->procs.n; i++)
		proc_list_set(&r->procs, from->procs.items[i].name, from->procs.items[i].command);
}

/*
 * A config change keeps the current release's slug: refused, like a
 * rollback to it, when that slug is missing or corrupt in the store.  A
 * release without a slug (config set before the first deploy) has nothing
 * to check.
 */
static int check_base(const struct app_ctx *ctx, const struct release *cur)
{
	if (!cur->slug[0])
		return 0;
	int err = cas_check(ctx->root, cur->slug);
	if (!err)
		return 0;
	return sw_error_set(err == SW_ENOTFOUND ? SW_ENOTFOUND : SW_EINVALID,
			    "cannot change config vars: the slug %.12s of the current release v%d is %s; "
			    "push again, or roll back to a release with an intact slug "
			    "(slipway rollback vN -a %s)",
			    cur->slug, cur->version,
			    err == SW_ENOTFOUND ? "missing from the store" : "corrupt in the store",
			    ctx->app);
}

/*
 * What a new release is made on: the newest release's config in latest and
 * the current release's process types in cur (each left as it is when there
 * is none); *lv the newest version, res->previous the current one.
 */
static int read_base(struct ledger *l, int *lv, struct release *latest, struct release *cur,
		     struct change_result *res)
{
	int cv, err;
	if ((err = ledger_latest(l, lv)) || (err = ledger_current(l, &cv)))
		return err;
	res->previous = cv;
	if (*lv && (err = ledger_read(l, *lv, LEDGER_READ_CONFIG, latest)))
		return err;
	return cv ? ledger_read(l, cv, LEDGER_READ_PROCS, cur) : 0;
}

/* Makes r the next release (release/activate.h). */
static int append(struct app_ctx *ctx, struct release *r, FILE *out, struct change_result *res)
{
	struct activate_report rep;
	struct activate_opts o = { .ctx = ctx, .out = out, .report = &rep };
	int err = activate(&o, r);
	if (r->version)
		res->version = r->version;
	res->failed = !err && r->status == RELEASE_FAILED;
	res->failed_start = res->failed && r->failed_start == RELEASE_FAILED_START;
	res->not_running = !err && rep.not_running;
	return err;
}

/*
 * An add-on's config vars are the add-on's: config:set and config:unset
 * leave them alone (SW_EDENIED, naming the first such key).
 */
static int check_unmanaged(const struct app_ctx *ctx, const struct attachments *addons,
			   const struct config *set, const struct strvec *unset)
{
	size_t ns = set ? set->n : 0, nu = unset ? unset->n : 0;
	for (size_t i = 0; i < ns + nu; i++) {
		const char *key = i < ns ? set->items[i].key : unset->v[i - ns];
		const struct attachment *at = attach_managing(addons, key);
		if (at)
			return sw_error_set(SW_EDENIED, "cannot %s %s: the add-on %s manages it "
					    "(attached as %s); to stop using it: slipway addons:detach %s "
					    "-a %s", i < ns ? "set" : "unset", key, at->addon, at->alias,
					    at->alias, ctx->app);
	}
	return 0;
}

/* What a change does to the new release (its config and attachments), or an error. */
typedef int (*change_fn)(const struct app_ctx *ctx, struct release *r, void *arg);

/*
 * A release made by a config or add-on change: the newest release's config
 * and attachments, changed by fn, on the current release's code, described
 * desc.  Nothing is recorded when nothing changes (the same values again,
 * or nothing set on an app without releases) - with again, unless the
 * newest release is not the current one (it failed): then the same
 * values are released again.
 */
static int change_newest(struct app_ctx *ctx, change_fn fn, void *arg, const char *desc, int again,
			 const char *user, FILE *out, struct change_result *res)
{
	struct ledger *l = NULL;
	struct release latest = RELEASE_INIT, cur = RELEASE_INIT, r = RELEASE_INIT;
	int lv, err;

	memset(res, 0, sizeof(*res));
	if ((err = begin(ctx, &l)))
		return err;
	if ((err = read_base(l, &lv, &latest, &cur, res)))
		goto done;
	config_copy(&r.config, &latest.config);
	attach_copy(&r.addons, &latest.addons);
	if ((err = fn(ctx, &r, arg)))
		goto done;
	/*
	 * nothing changes, unless (again) a change the newest release made but
	 * did not make live (it failed) is asked for
	 */
	if (config_equal(&r.config, &latest.config) && attach_equal(&r.addons, &latest.addons) &&
	    (!again || lv == res->previous))
		goto done;
	if ((err = check_base(ctx, &cur)))
		goto done;
	take_code(&r, &cur);
	r.description = xstrdup(desc);
	r.user = xstrdup(user);
	err = append(ctx, &r, out, res);
done:
	release_release(&latest);
	release_release(&cur);
	release_release(&r);
	return err;
}

struct config_arg {
	const struct config *set;
	const struct strvec *unset;
};

static int do_config(const struct app_ctx *ctx, struct release *r, void *arg)
{
	const struct config_arg *a = arg;
	int err = check_unmanaged(ctx, &r->addons, a->set, a->unset);
	for (size_t i = 0; !err && a->set && i < a->set->n; i++)
		config_set(&r->config, a->set->items[i].key, a->set->items[i].value);
	for (size_t i = 0; !err && a->unset && i < a->unset->n; i++)
		config_unset(&r->config, a->unset->v[i]);
	return err;
}

int change_config(struct app_ctx *ctx, const struct config *set,
		  const struct strvec *set_order, const struct strvec *unset, const char *user,
		  FILE *out, struct change_result *res)
{
	struct config_arg a = { set, unset };
	struct buf desc = BUF_INIT;
	describe_config(&desc, set, set_order, unset);
	int err = change_newest(ctx, do_config, &a, desc.data, 0, user, out, res);
	buf_release(&desc);
	return err;
}

struct attach_arg {
	const char *alias, *addon;
	const struct config *vars;
};

static int do_attach(const struct app_ctx *ctx, struct release *r, void *arg)
{
	const struct attach_arg *a = arg;
	struct strvec names = STRVEC_INIT;
	int err = 0;
	for (size_t i = 0; i < a->vars->n && !err; i++) {
		const char *key = a->vars->items[i].key;
		strvec_push(&names, key);
		if (config_get(&r->config, key) && !attach_managing(&r->addons, key))
			err = sw_error_set(SW_EEXISTS, "cannot attach %s as %s: %s is set on %s "
					   "already; unset it (slipway config:unset %s -a %s) or "
					   "attach under another name with --as", a->addon, a->alias,
					   key, ctx->app, key, ctx->app);
	}
	if (!err)
		err = attach_add(&r->addons, a->alias, a->addon, &names);
	for (size_t i = 0; i < a->vars->n && !err; i++)
		config_set(&r->config, a->vars->items[i].key, a->vars->items[i].value);
	strvec_clear(&names);
	return err;
}

int change_attach(struct app_ctx *ctx, const char *alias, const char *addon,
		  const struct config *vars, const char *user, FILE *out, struct change_result *res)
{
	struct attach_arg a = { alias, addon, vars };
	char *desc = xasprintf("Attach %s as %s", addon, alias);
	int err = change_newest(ctx, do_attach, &a, desc, 0, user, out, res);
	free(desc);
	return err;
}

/* The attachment alias of r, or SW_ENOTFOUND naming the app's. */
static int attached(const struct app_ctx *ctx, const struct release *r, const char *alias,
		    const struct attachment **at)
{
	*at = attach_find(&r->addons, alias);
	if (*at)
		return 0;
	return sw_error_set(SW_ENOTFOUND, "%s has no add-on attached as %s (see: slipway addons "
			    "-a %s)", ctx->app, alias, ctx->app);
}

static int do_detach(const struct app_ctx *ctx, struct release *r, void *arg)
{
	const struct attachment *at;
	int err = attached(ctx, r, arg, &at);
	if (err)
		return err;
	for (size_t i = 0; i < at->vars.n; i++)
		config_unset(&r->config, at->vars.v[i]);
	attach_remove(&r->addons, arg);
	return 0;
}

int change_detach(struct app_ctx *ctx, const char *alias, const char *addon, const char *user,
		  FILE *out, struct change_result *res)
{
	char *desc = xasprintf("Detach %s from %s", addon, alias);
	int err = change_newest(ctx, do_detach, (void *)alias, desc, 0, user, out, res);
	free(desc);
	return err;
}

struct rotate_arg {
	const char *alias;
	const struct config *vars;
};

static int do_rotate(const struct app_ctx *ctx, struct release *r, void *arg)
{
	const struct rotate_arg *a = arg;
	const struct attachment *at;
	int err = attached(ctx, r, a->alias, &at);
	for (size_t i = 0; !err && i < a->vars->n; i++)
		if (!strvec_has_sorted(&at->vars, a->vars->items[i].key))
			err = sw_error_set(SW_EINVALID, "%s does not manage %s", at->addon,
					   a->vars->items[i].key);
	for (size_t i = 0; !err && i < a->vars->n; i++)
		config_set(&r->config, a->vars->items[i].key, a->vars->items[i].value);
	return err;
}

int change_rotate(struct app_ctx *ctx, const char *alias, const char *addon,
		  const struct config *vars, const char *user, FILE *out, struct change_result *res)
{
	struct rotate_arg a = { alias, vars };
	char *desc = xasprintf("Rotate credentials of %s", addon);
	int err = change_newest(ctx, do_rotate, &a, desc, 1, user, out, res);
	free(desc);
	return err;
}

/*
 * A rollback's config: the target's own vars (not those its add-ons
 * managed), then the add-ons attached now with their vars' values now -
 * rolling back neither detaches an add-on nor brings back a revoked
 * password.
 */
static void rollback_config(struct release *r, const struct release *target,
			    const struct release *now)
{
	for (size_t i = 0; i < target->config.n; i++)
		if (!attach_managing(&target->addons, target->config.items[i].key))
			config_set(&r->config, target->config.items[i].key,
				   target->config.items[i].value);
	attach_copy(&r->addons, &now->addons);
	for (size_t i = 0; i < now->addons.n; i++)
		for (size_t k = 0; k < now->addons.v[i].vars.n; k++) {
			const char *key = now->addons.v[i].vars.v[k];
			const char *value = config_get(&now->config, key);
			if (value)
				config_set(&r->config, key, value);
			else
				config_unset(&r->config, key);
		}
}

/* 0 if the slug hex is intact in the store, else an SW_* code and "missing from the store"... */
static int slug_unfit(const char *root, const char *hex, const char **state)
{
	int err = cas_check(root, hex);
	*state = err == SW_ENOTFOUND ? "missing from the store" : "corrupt in the store";
	return err == SW_ENOTFOUND ? SW_ENOTFOUND : err ? SW_EINVALID : 0;
}

/* 0 if a rollback may go to t, else an SW_* code and why not in why. */
static int unfit(const char *root, const struct release *t, char *why, size_t n)
{
	if (t->status != RELEASE_SUCCEEDED) {
		snprintf(why, n, "that release %s",
			 t->status == RELEASE_FAILED ? "failed" : "is still pending");
		return SW_EINVALID;
	}
	if (!t->slug[0]) {
		snprintf(why, n, "it has no slug (nothing was deployed yet)");
		return SW_EINVALID;
	}
	const char *state;
	int err = slug_unfit(root, t->slug, &state);
	if (err)
		snprintf(why, n, "its slug %.12s is %s", t->slug, state);
	return err;
}

/* An automatic rollback (runtime/watch.h): "Rollback to vK (automatic: why)". */
static int automatic_rollback(const struct release *r)
{
	return r->status == RELEASE_SUCCEEDED && r->rollback_of && r->description &&
	       !strncmp(r->description, "Rollback to v", 13) && strstr(r->description, "(automatic:");
}

/* What previous_good() walks with. */
struct pick {
	const char *root;
	int current;
	int undone;         /* an automatic rollback was seen: the next succeeded release is
	                       the one it undid */
	int found;
	size_t nskipped;
	struct buf skipped; /* "v5: failed, v4: rolled back automatically" */
};

#define PICK_SKIPPED_SHOWN 5

static void pick_skip(struct pick *p, int version, const char *why)
{
	if (p->nskipped < PICK_SKIPPED_SHOWN)
		buf_addf(&p->skipped, "%sv%d: %s", p->nskipped ? ", " : "", version, why);
	p->nskipped++;
}

static int pick_one(const struct release *r, void *ctx)
{
	struct pick *p = ctx;
	int undone = p->undone && r->status == RELEASE_SUCCEEDED;
	if (undone)
		p->undone = 0;
	if (automatic_rollback(r))
		p->undone = 1;
	if (r->version >= p->current || !r->slug[0])
		return 0;
	char why[160];
	const char *state;
	if (undone)
		pick_skip(p, r->version, "rolled back automatically");
	else if (r->status != RELEASE_SUCCEEDED)
		pick_skip(p, r->version, r->status == RELEASE_FAILED ? "failed" : "pending");
	else if (slug_unfit(p->root, r->slug, &state)) {
		snprintf(why, sizeof(why), "slug %s", state);
		pick_skip(p, r->version, why);
	} else {
		p->found = r->version;
		return 1;
	}
	return 0;
}

/*
 * The newest release older than `current` a rollback may go to, skipping
 * those that failed, that an automatic rollback undid, or whose slug is
 * missing or corrupt; res->skipped says which were skipped.
 */
static int previous_good(const char *root, struct ledger *l, int current, int *out,
			 struct change_result *res)
{
	struct pick p = { .root = root, .current = current, .skipped = BUF_INIT };
	int err = ledger_walk(l, 0, 0, pick_one, &p);
	if (p.nskipped > PICK_SKIPPED_SHOWN)
		buf_addf(&p.skipped, " and %zu more", p.nskipped - PICK_SKIPPED_SHOWN);
	if (p.skipped.len)
		snprintf(res->skipped, sizeof(res->skipped), "%s", p.skipped.data);
	buf_release(&p.skipped);
	*out = p.found;
	if (err < 0)
		return err;
	if (p.found)
		return 0;
	return res->skipped[0] ? sw_error_set(SW_ENOTFOUND, "there is no earlier release to roll "
					      "back to (skipped %s)", res->skipped)
			       : sw_error_set(SW_ENOTFOUND, "there is no earlier release to roll back to");
}

int change_rollback_eligible(const char *root, const struct release *t, char *why, size_t n)
{
	return unfit(root, t, why, n) == 0;
}

static int check_target(const char *root, const struct release *t)
{
	char why[160];
	int err = unfit(root, t, why, sizeof(why));
	return err ? sw_error_set(err, "cannot roll back to v%d: %s", t->version, why) : 0;
}

static int rollback(struct app_ctx *ctx, int target, const char *user, int expect,
		    const char *why, FILE *out, struct change_result *res)
{
	const char *root = ctx->root, *app = ctx->app;
	struct ledger *l = NULL;
	struct release t = RELEASE_INIT, r = RELEASE_INIT, latest = RELEASE_INIT;
	int cv, lv, err;

	memset(res, 0, sizeof(*res));
	if ((err = begin(ctx, &l)))
		return err;
	if ((err = ledger_current(l, &cv)))
		goto done;
	res->previous = cv;
	if (expect && cv != expect) {
		err = sw_error_set(SW_ECONFLICT, "v%d is no longer the current release of %s (v%d is)",
				   expect, app, cv);
		goto done;
	}
	if (!target) {
		if (!cv) {
			err = sw_error_set(SW_ENOTFOUND, "%s has no releases to roll back to", app);
			goto done;
		}
		if ((err = previous_good(root, l, cv, &target, res)))
			goto done;
	}
	if ((err = ledger_read(l, target, LEDGER_READ_CONFIG | LEDGER_READ_PROCS, &t))) {
		if (err == SW_ENOTFOUND)
			err = sw_error_set(SW_ENOTFOUND, "cannot roll back to v%d: release v%d does not exist",
					   target, target);
		goto done;
	}
	if ((err = check_target(root, &t)) || (err = ledger_latest(l, &lv)) ||
	    (err = ledger_read(l, lv, LEDGER_READ_CONFIG, &latest)))
		goto done;
	take_code(&r, &t);
	rollback_config(&r, &t, &latest);
	r.rollback_of = target;
	r.description = why ? xasprintf("Rollback to v%d (automatic: %s)", target, why)
			    : xasprintf("Rollback to v%d", target);
	r.user = xstrdup(user);
	res->target = target;
	err = append(ctx, &r, out, res);
done:
	release_release(&t);
	release_release(&latest);
	release_release(&r);
	return err;
}

int change_rollback(struct app_ctx *ctx, int target, const char *user, FILE *out,
		    struct change_result *res)
{
	return rollback(ctx, target, user, 0, NULL, out, res);
}

int change_rollback_from(struct app_ctx *ctx, int target, int from, const char *user, FILE *out,
			 struct change_result *res)
{
	if (from <= 0)
		return sw_error_set(SW_EINVALID, "no current release to check against");
	return rollback(ctx, target, user, from, NULL, out, res);
}

int change_rollback_auto(struct app_ctx *ctx, int target, int from, const char *why, FILE *out,
			 struct change_result *res)
{
	return rollback(ctx, target, WATCH_USER, from, why, out, res);
}

/* How a release of code from elsewhere is named: "cannot VERB NAME: ...". */
struct code_use {
	const char *verb;  /* "promote" */
	const char *name;  /* "staging's v12" */
	const char *slug;  /* what names its slug: "its slug 3f2a9c1d2e4f" */
	const char *desc;  /* the new release's description */
};

/* Releases code's slug, commit and process types on app with app's own config. */
static int release_code(struct app_ctx *ctx, const struct release *code,
			const struct code_use *u, const char *user, FILE *out,
			struct change_result *res)
{
	const char *root = ctx->root, *app = ctx->app;
	struct ledger *l = NULL;
	struct release latest = RELEASE_INIT, cur = RELEASE_INIT, r = RELEASE_INIT;
	const char *state, *type;
	int lv, count, err;

	if ((err = slug_unfit(root, code->slug, &state)))
		return sw_error_set(err, "cannot %s %s: %s is %s", u->verb, u->name, u->slug, state);
	if ((err = begin(ctx, &l)))
		return err;
	if ((err = read_base(l, &lv, &latest, &cur, res)))
		goto done;
	take_code(&r, code);
	if (cur.version && (err = services_formation_missing(root, app, &cur, &r, &type, &count))) {
		if (err > 0)
			err = sw_error_set(SW_EINVALID, "cannot %s %s: %s runs %s=%d, which %s does "
					   "not define; scale it to 0 first: slipway ps:scale %s=0 -a %s",
					   u->verb, u->name, app, type, count, u->name, type, app);
		goto done;
	}
	config_copy(&r.config, &latest.config);
	attach_copy(&r.addons, &latest.addons);
	r.description = xstrdup(u->desc);
	r.user = xstrdup(user);
	err = append(ctx, &r, out, res);
done:
	release_release(&latest);
	release_release(&cur);
	release_release(&r);
	return err;
}

int change_promote(struct app_ctx *from_ctx, struct app_ctx *to_ctx, const char *user,
		   FILE *out, struct change_result *res)
{
	struct ledger *l = from_ctx->ledger;
	struct release src = RELEASE_INIT;
	const char *from = from_ctx->app, *to = to_ctx->app;
	char *name = NULL, *desc = NULL, *slug = NULL;
	int cv = 0, err;

	memset(res, 0, sizeof(*res));
	if (!strcmp(from, to))
		return sw_error_set(SW_EINVALID, "cannot promote %s to itself: name another app "
				    "with --to", from);
	if ((err = ledger_current(l, &cv)))
		goto done;
	if (!cv) {
		err = sw_error_set(SW_ENOTFOUND, "cannot promote %s: it has no release yet (push "
				   "to it first)", from);
		goto done;
	}
	if ((err = ledger_read(l, cv, LEDGER_READ_PROCS, &src)))
		goto done;
	if (!src.slug[0]) {
		err = sw_error_set(SW_EINVALID, "cannot promote %s: its current release v%d has "
				   "no slug (nothing was deployed yet)", from, cv);
		goto done;
	}
	name = xasprintf("%s's v%d", from, cv);
	desc = src.commit[0] ? xasprintf("Promote %s v%d (%.7s)", from, cv, src.commit)
			     : xasprintf("Promote %s v%d", from, cv);
	slug = xasprintf("its slug %.12s", src.slug);
	struct code_use u = { "promote", name, slug, desc };
	err = release_code(to_ctx, &src, &u, user, out, res);
done:
	free(slug);
	free(desc);
	free(name);
	release_release(&src);
	return err;
}

int change_deploy_slug(struct app_ctx *ctx, const struct release *source, const char *user,
		       FILE *out, struct change_result *res)
{
	memset(res, 0, sizeof(*res));
	char *name = xasprintf("slug %.12s", source->slug);
	char *desc = xasprintf("Deploy slug %.12s", source->slug);
	struct code_use u = { "deploy", name, "it", desc };
	int err = release_code(ctx, source, &u, user, out, res);
	free(desc);
	free(name);
	return err;
}
