/*
 * A run host's side of a desired state (release/apply.h): the document
 * read, made a release of this host's ledger through activate(), and the
 * app's instances here told.
 */
#define _GNU_SOURCE
#include "release/apply.h"

#include "release/activate.h"
#include "runtime/healthcheck.h"
#include "runtime/host.h"
#include "runtime/router.h"
#include "runtime/services.h"
#include "runtime/warm.h"
#include "runtime/supervisor.h"
#include "store/app.h"
#include "store/appctx.h"
#include "store/cas.h"
#include "store/domains.h"
#include "store/formation.h"
#include "store/ledger.h"
#include "store/paths.h"
#include "store/release.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long a prepared release waits for its switch, unless the document says (hold_s). */
#define APPLY_HOLD_S 600
#define APPLY_HOLD_MAX_S 86400

/* A document, read. */
struct apply_doc {
	char *app, *description, *phase, *reason;
	int version, hold_s;
	char slug[CAS_HEX_LEN + 1];
	uint64_t slug_size;
	struct proc_list procs;
	struct config config;
	struct strvec types;    /* "instances.TYPE" members: their types */
	struct strvec counts;   /* and their counts, as written */
	struct strvec domains;
};
#define APPLY_DOC_INIT { .procs = PROC_LIST_INIT, .config = CONFIG_INIT, \
			 .types = STRVEC_INIT, .counts = STRVEC_INIT, .domains = STRVEC_INIT }

static void apply_doc_release(struct apply_doc *d)
{
	free(d->app);
	free(d->description);
	free(d->phase);
	free(d->reason);
	proc_list_release(&d->procs);
	config_release(&d->config);
	strvec_clear(&d->types);
	strvec_clear(&d->counts);
	strvec_clear(&d->domains);
}

static int bad_member(const char *key, const char *why)
{
	return sw_error_set(SW_EINVALID, "the document's \"%.64s\" %s", key, why);
}

/* A count: 0 to FORMATION_COUNT_MAX, digits only. */
static int count_valid(const char *v)
{
	char *end = NULL;
	long n = strtol(v, &end, 10);
	return *v && !*end && v[strspn(v, "0123456789")] == '\0' && n >= 0 &&
	       n <= FORMATION_COUNT_MAX;
}

/* One member of the document into d (json_flat_each). */
static int doc_member(const char *key, const char *value, void *ctx)
{
	struct apply_doc *d = ctx;
	const char *dot = strchr(key, '.'), *sub = dot ? dot + 1 : "";
	size_t klen = dot ? (size_t)(dot - key) : strlen(key);
	char *end = NULL;

	if (!strcmp(key, "app")) {
		if (app_name_check(value) < 0)
			return SW_EINVALID;
		free(d->app);
		d->app = xstrdup(value);
	} else if (!strcmp(key, "version")) {
		if (release_parse_version(value, &d->version) < 0)
			return bad_member(key, "is not a release's version");
	} else if (!strcmp(key, "description")) {
		free(d->description);
		d->description = xstrdup(value);
	} else if (!strcmp(key, "slug")) {
		if (!cas_valid_hex(value))
			return bad_member(key, "is not a SHA-256 (64 lowercase hex digits)");
		memcpy(d->slug, value, sizeof(d->slug));
	} else if (!strcmp(key, "slug_size")) {
		errno = 0;
		d->slug_size = strtoull(value, &end, 10);
		if (!*value || *end || errno || *value == '-')
			return bad_member(key, "is not a size in bytes");
	} else if (!strcmp(key, "phase")) {
		free(d->phase);
		d->phase = xstrdup(value);
	} else if (!strcmp(key, "reason")) {
		free(d->reason);
		d->reason = xstrdup(value);
	} else if (!strcmp(key, "hold_s")) {
		long n = strtol(value, &end, 10);
		if (!*value || *end || n < 1 || n > APPLY_HOLD_MAX_S)
			return bad_member(key, "is not a number of seconds (1 to 86400)");
		d->hold_s = (int)n;
	} else if (klen == 7 && !strncmp(key, "process", 7)) {
		if (!proc_name_valid(sub))
			return bad_member(key, "does not name a process type");
		proc_list_set(&d->procs, sub, value);
	} else if (klen == 9 && !strncmp(key, "instances", 9)) {
		if (!proc_name_valid(sub) || !count_valid(value))
			return bad_member(key, "is not a process type's count of instances");
		strvec_push(&d->types, sub);
		strvec_push(&d->counts, value);
	} else if (klen == 6 && !strncmp(key, "config", 6)) {
		if (!config_key_valid(sub))
			return bad_member(key, "does not name a config var");
		config_set(&d->config, sub, value);
	} else if (klen == 6 && !strncmp(key, "domain", 6)) {
		if (!domain_name_valid(sub) || strcmp(value, "true"))
			return bad_member(key, "is not a domain's name");
		strvec_push(&d->domains, sub);
	} else {
		return bad_member(key, "is no member of a desired state");
	}
	return 0;
}

static int doc_parse(struct apply_doc *d, const char *text)
{
	int err = json_flat_each(text, doc_member, d);
	if (err == SW_EINVALID && !strcmp(sw_error_last(), "not a flat JSON object"))
		return sw_error_set(SW_EINVALID, "the desired state is not a flat JSON object");
	if (err)
		return err;
	if (!d->app || !d->version || !d->slug[0] || !d->phase)
		return sw_error_set(SW_EINVALID,
			"the desired state must name its app, version, slug and phase");
	if (strcmp(d->phase, "prepare") && strcmp(d->phase, "switch") && strcmp(d->phase, "abort"))
		return sw_error_set(SW_EINVALID,
			"the desired state's phase '%.32s' is not one this host applies: prepare, "
			"switch or abort", d->phase);
	for (size_t i = 0; i < d->types.n; i++) {
		int known = 0;
		for (size_t k = 0; k < d->procs.n && !known; k++)
			known = !strcmp(d->procs.items[k].name, d->types.v[i]);
		if (!known)
			return bad_member(d->types.v[i], "has instances but no process type");
	}
	return 0;
}

/*
 * The digest of what d asks for, whatever its phase: its members in a
 * fixed form; without counts, all but its instances per type.
 */
static void doc_digest(const struct apply_doc *d, int counts, char hex[CAS_HEX_LEN + 1])
{
	struct buf b = BUF_INIT;
	struct json j = JSON_INIT(&b);
	json_object_begin(&j, NULL);
	json_string(&j, "app", d->app);
	json_int(&j, "version", d->version);
	json_string(&j, "description", d->description);
	json_string(&j, "slug", d->slug);
	json_uint(&j, "slug_size", d->slug_size);
	for (size_t i = 0; i < d->procs.n; i++)
		json_string(&j, d->procs.items[i].name, d->procs.items[i].command);
	for (size_t i = 0; counts && i < d->types.n; i++)
		json_string(&j, d->types.v[i], d->counts.v[i]);
	for (size_t i = 0; i < d->config.n; i++)
		json_string(&j, d->config.items[i].key, d->config.items[i].value);
	for (size_t i = 0; i < d->domains.n; i++)
		json_string(&j, d->domains.v[i], NULL);
	json_object_end(&j);
	cas_hash_data(b.data, b.len, hex);
	buf_release(&b);
}

/*
 * What slipway-applied says: the digest, the control's version, the local
 * release and the digest without counts ("" in a file written before it
 * was kept).
 */
struct applied {
	char digest[CAS_HEX_LEN + 1];
	int version, release;
	char base[CAS_HEX_LEN + 1];
};

static void applied_read(const char *root, const char *app, struct applied *a)
{
	char *path = paths_applied_file(root, app), *text = NULL;
	memset(a, 0, sizeof(*a));
	if (fs_read_file(path, 4096, &text, NULL) == 0 &&
	    sscanf(text, "%64s %d %d %64s", a->digest, &a->version, &a->release, a->base) < 3)
		memset(a, 0, sizeof(*a));
	free(text);
	free(path);
}

static int applied_write(const char *root, const char *app, const struct applied *a)
{
	char *path = paths_applied_file(root, app);
	char *text = xasprintf("%s %d %d %s\n", a->digest, a->version, a->release, a->base);
	int err = fs_write_atomic(path, text, strlen(text), 0600);
	free(text);
	free(path);
	return err;
}

/* The app made here the first time, as apps:create makes it. */
static int app_here(const char *root, const char *self, const char *app)
{
	if (app_check_exists(root, app) == 0)
		return 0;
	struct app_create_opts o = APP_CREATE_OPTS_INIT;
	o.hook_exe = self;
	int err = app_create(root, app, &o);
	return err == SW_EEXISTS ? 0 : err;
}

static int has(const struct strvec *v, const char *s)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], s))
			return 1;
	return 0;
}

/* The app's custom domains here made those of d. */
static int domains_sync(const char *root, const struct apply_doc *d)
{
	struct router_listen l;
	struct strvec now = STRVEC_INIT;
	int err = router_listen_read(root, &l);
	if (!err)
		err = domains_list(root, d->app, &now);
	for (size_t i = 0; !err && i < now.n; i++)
		if (!has(&d->domains, now.v[i]))
			err = domains_remove(root, d->app, now.v[i]);
	for (size_t i = 0; !err && i < d->domains.n; i++)
		if (!has(&now, d->domains.v[i]))
			err = domains_add(root, d->app, d->domains.v[i], l.domain);
	strvec_clear(&now);
	return err;
}

/* The formation here: d's counts of its process types. */
static int formation_of(const char *root, const struct apply_doc *d, const struct release *r)
{
	int *counts = xcalloc(r->procs.n ? r->procs.n : 1, sizeof(int));
	for (size_t i = 0; i < r->procs.n; i++)
		for (size_t k = 0; k < d->types.n; k++)
			if (!strcmp(d->types.v[k], r->procs.items[i].name))
				counts[i] = atoi(d->counts.v[k]);
	int err = formation_write(root, d->app, r, counts);
	free(counts);
	return err;
}

/* r made the release d asks for: its formation and domains written here first. */
static int release_of(const char *root, const struct apply_doc *d, struct release *r)
{
	memcpy(r->slug, d->slug, sizeof(r->slug));
	r->slug_size = d->slug_size;
	r->description = xasprintf("v%d of the control: %s", d->version,
				   d->description ? d->description : "");
	r->user = xstrdup(ACTIVATE_CONTROL_USER);
	for (size_t i = 0; i < d->procs.n; i++)
		proc_list_set(&r->procs, d->procs.items[i].name, d->procs.items[i].command);
	config_copy(&r->config, &d->config);
	int err = formation_of(root, d, r);
	return err ? err : domains_sync(root, d);
}

/* The first line of what the path said, past its marks. */
static const char *first_said(const char *said)
{
	return said ? said + strspn(said, " !-") : "";
}

/* What a step of the release path does: activate(), activate_prepare(), activate_finish(). */
enum step { STEP_ACTIVATE, STEP_PREPARE, STEP_FINISH };

/*
 * Runs step on r (p: the prepared release of STEP_PREPARE and
 * STEP_FINISH; hold_s and tag: STEP_PREPARE's) with what it says into
 * *said (malloc'ed, the caller's to free).
 */
static int run_step(struct app_ctx *ctx, enum step step, struct release *r,
		    struct activate_prep *p, int hold_s, const char *tag, char **said)
{
	struct activate_report rep;
	size_t len = 0;
	FILE *out = open_memstream(said, &len);
	if (!out)
		return sw_error_errno(SW_ERROR, "cannot make a buffer");
	struct activate_opts o = { .ctx = ctx, .out = out, .report = &rep };
	int err = step == STEP_ACTIVATE ? activate(&o, r)
		  : step == STEP_PREPARE ? activate_prepare(&o, r, hold_s, tag, p)
					 : activate_finish(&o, r, p);
	fclose(out);
	return err;
}

/* 0 when r went live; else the error saying so, with the first line said. */
static int went_live(const struct apply_doc *d, const struct release *r, const char *said)
{
	if (r->status == RELEASE_SUCCEEDED)
		return 0;
	return sw_error_set(SW_ERROR, "v%d of %s did not go live on this host: %.*s", d->version,
			    d->app, (int)strcspn(first_said(said), "\n"), first_said(said));
}

/*
 * d made a release here through activate() (tag NULL) or, in phase
 * prepare, prepared and held for its switch under tag; *local gets its
 * version.
 */
static int release_here(struct app_ctx *ctx, const struct apply_doc *d, const char *tag,
			int *local)
{
	struct release r = RELEASE_INIT;
	struct activate_prep p = ACTIVATE_PREP_INIT;
	char *said = NULL;
	int err;

	if ((err = release_of(ctx->root, d, &r)))
		goto done;
	err = run_step(ctx, tag ? STEP_PREPARE : STEP_ACTIVATE, &r, &p,
		       d->hold_s ? d->hold_s : APPLY_HOLD_S, tag, &said);
	/* a host that cannot prepare says why in the words of its gate */
	if (!err && tag && !p.ready)
		err = sw_error_set(SW_ERROR, "%.*s",
				   (int)strcspn(p.output.data ? p.output.data : "", "\n"),
				   p.output.data ? p.output.data : "");
	else if (!err && !tag)
		err = went_live(d, &r, said);
	*local = r.version;
done:
	free(said);
	activate_prep_release(&p);
	release_release(&r);
	return err;
}

/*
 * The release prepared here under tag switched (phase switch) or aborted
 * (abort); *local gets its version.  SW_ENOTFOUND when none is prepared.
 */
static int prepared_here(struct app_ctx *ctx, const struct apply_doc *d, const char *tag,
			 int *local)
{
	struct release r = RELEASE_INIT;
	struct activate_prep p = ACTIVATE_PREP_INIT;
	char *said = NULL;
	int err = activate_prepared(ctx, tag, &r, &p);
	if (err)
		goto done;
	*local = r.version;
	if (!strcmp(d->phase, "abort")) {
		err = activate_abort(ctx, &p, d->reason ? d->reason :
				     "the control aborted the release on every host");
		goto done;
	}
	err = run_step(ctx, STEP_FINISH, &r, &p, 0, tag, &said);
	if (!err)
		err = went_live(d, &r, said);
done:
	free(said);
	activate_prep_release(&p);
	release_release(&r);
	return err;
}

/*
 * The control's version of this host's release v: the applied one's, else
 * what its description says ("vN of the control: ..."); 0 when unknown.
 */
static int control_version(struct ledger *l, const struct applied *a, int v)
{
	struct release r = RELEASE_INIT;
	int cv = 0;
	if (v == a->release)
		return a->version;
	if (l && ledger_read(l, v, 0, &r) == 0 && r.description &&
	    sscanf(r.description, "v%d of the control:", &cv) != 1)
		cv = 0;
	release_release(&r);
	return cv;
}

/*
 * "NAME.health" of the instance s (of the applied release, web, up): how
 * checks went against it now (hc loaded: hc->n checks, Host host).
 */
static void health_member(const char *root, const char *app, const struct service_info *s,
			  const struct healthchecks *hc, const char *host, struct json *j)
{
	char key[192], label[32], *why = NULL;
	snprintf(key, sizeof(key), "%s.health", s->name);
	snprintf(label, sizeof(label), "web.%d", s->index);
	if (host_check(root, app, s->name, label, hc, host, &why) == 0)
		json_string(j, key, "passed");
	else
		json_string(j, key, why ? why : sw_error_last());
	free(why);
}

/* The checks of the applied release, as health_member() runs them; hc->n 0 when none. */
static void applied_checks(const char *root, const char *app, struct ledger *l,
			   const struct applied *a, struct healthchecks *hc, char **host)
{
	struct release r = RELEASE_INIT;
	hc->n = 0;
	*host = NULL;
	if (!l || !a->release || ledger_read(l, a->release, 0, &r) < 0 || !r.slug[0] ||
	    healthchecks_load_once(root, app, r.slug, hc, host) < 0)
		hc->n = 0;
	release_release(&r);
}

/* The state of app's instances (with health: health_member()), into the open object of j. */
static int state_members(const char *root, const char *app, const struct applied *a,
			 int health, struct json *j)
{
	struct healthchecks hc = { .n = 0 };
	char *host = NULL;
	struct service_info *s = NULL;
	struct ledger *l = NULL;
	char *repo = app_repo_path(root, app);
	size_t n = 0;
	struct buf names = BUF_INIT;
	int err = host_list(root, app, &s, &n);
	if (!err && n && ledger_open(&l, repo) < 0)
		l = NULL; /* the versions are then those of the applied release only */
	if (!err && health)
		applied_checks(root, app, l, a, &hc, &host);
	for (size_t i = 0; !err && i < n; i++)
		buf_addf(&names, "%s%s", i ? " " : "", s[i].name);
	if (!err)
		json_string(j, "instances", names.data ? names.data : "");
	for (size_t i = 0; !err && i < n; i++) {
		char key[192], address[HOST_ADDRESS_MAX];
		int up = s[i].up && !strcmp(s[i].type, "web") ? host_serves(root, app, s[i].name)
							      : s[i].up;
		snprintf(key, sizeof(key), "%s.type", s[i].name);
		json_string(j, key, s[i].type);
		snprintf(key, sizeof(key), "%s.state", s[i].name);
		json_string(j, key, s[i].state);
		snprintf(key, sizeof(key), "%s.address", s[i].name);
		json_string(j, key, host_address(root, app, s[i].name, address) ? NULL : address);
		snprintf(key, sizeof(key), "%s.pid", s[i].name);
		json_int(j, key, s[i].pid);
		snprintf(key, sizeof(key), "%s.gate", s[i].name);
		json_string(j, key, up ? "passed" : "failing");
		/* what ps on the control shows of it */
		snprintf(key, sizeof(key), "%s.index", s[i].name);
		json_int(j, key, s[i].index);
		snprintf(key, sizeof(key), "%s.port", s[i].name);
		json_int(j, key, s[i].port);
		snprintf(key, sizeof(key), "%s.since", s[i].name);
		json_int(j, key, s[i].since);
		snprintf(key, sizeof(key), "%s.version", s[i].name);
		json_int(j, key, control_version(l, a, s[i].version));
		if (s[i].warm_until) {
			snprintf(key, sizeof(key), "%s.warm_until", s[i].name);
			json_int(j, key, s[i].warm_until);
			snprintf(key, sizeof(key), "%s.rss", s[i].name);
			json_int(j, key, warm_tree_rss((pid_t)s[i].pid));
		}
		/* how often it crashed since it started: the control's watch counts them */
		char *crashes = NULL;
		snprintf(key, sizeof(key), "%s.crashes", s[i].name);
		json_int(j, key, supervisor_service_read(root, s[i].name, "crashes", 64, &crashes) == 0
				 ? atoi(crashes) : 0);
		free(crashes);
		if (hc.n && s[i].version == a->release && !strcmp(s[i].type, "web") &&
		    !strcmp(s[i].state, "up"))
			health_member(root, app, &s[i], &hc, host, j);
	}
	free(host);
	ledger_free(l);
	free(repo);
	buf_release(&names);
	free(s);
	return err;
}

/*
 * The answer: the app's state (with health: its checks' results), and
 * whether this request changed it (changed < 0: not said).
 */
static int answer(const char *root, const char *app, int changed, int health, struct buf *out)
{
	struct applied a;
	struct buf b = BUF_INIT;
	struct json j = JSON_INIT(&b);
	applied_read(root, app, &a);
	json_object_begin(&j, NULL);
	json_string(&j, "app", app);
	json_int(&j, "version", a.version);
	json_int(&j, "release", a.release);
	json_string(&j, "status", a.version ? "succeeded" : "none");
	if (changed >= 0)
		json_bool(&j, "changed", changed);
	int err = state_members(root, app, &a, health, &j);
	json_object_end(&j);
	if (!err)
		buf_add(out, b.data, b.len);
	buf_release(&b);
	return err;
}

int apply_state(const char *root, const char *app, int health, struct buf *out)
{
	int err = app_check_exists(root, app);
	return err ? err : answer(root, app, -1, health, out);
}

/*
 * d's phase, here: prepare holds the release started beside the old one
 * (once), switch makes it live (what was prepared, else all in one go),
 * abort stops what was prepared (if anything).  *changed says whether
 * anything was done.
 */
static int phase_here(struct app_ctx *ctx, const struct apply_doc *d, struct applied *now,
		      int *changed)
{
	const char *tag = now->digest;
	struct release r = RELEASE_INIT;
	struct activate_prep p = ACTIVATE_PREP_INIT;
	int prepared = activate_prepared(ctx, tag, &r, &p) == 0, err = 0;
	activate_prep_release(&p);
	release_release(&r);
	if (!strcmp(d->phase, "prepare")) {
		if (!prepared && (*changed = 1))
			err = release_here(ctx, d, tag, &now->release);
		return err;
	}
	if (!strcmp(d->phase, "abort")) {
		if (prepared && (*changed = 1))
			err = prepared_here(ctx, d, tag, &now->release);
		return err;
	}
	*changed = 1;
	err = prepared ? prepared_here(ctx, d, tag, &now->release)
		       : release_here(ctx, d, NULL, &now->release);
	return err ? err : applied_write(ctx->root, d->app, now);
}

/*
 * d differs from what runs here (now: as applied, d's digests) in its
 * counts alone: in phase switch the formation changes in place, as
 * ps:scale does on a single server - instances added or stopped, none
 * started again, no release; the other phases change nothing.
 */
static int scale_here(struct app_ctx *ctx, const struct apply_doc *d, const struct applied *now,
		      int *changed)
{
	const char *root = ctx->root, *app = d->app;
	struct release r = RELEASE_INIT;
	int added = 0, err;
	if (strcmp(d->phase, "switch"))
		return 0;
	*changed = 1;
	if ((err = ledger_read(ctx->ledger, now->release, LEDGER_READ_PROCS, &r)) ||
	    (err = formation_of(root, d, &r)))
		goto done;
	if (services_runtime_up(root) &&
	    ((err = services_ensure(root, app, &r, &added)) || (err = supervisor_rescan(root)) ||
	     (err = router_switch(root, app, NULL, NULL))))
		goto done;
	err = applied_write(root, app, now);
done:
	release_release(&r);
	return err;
}

int apply_document(const char *root, const char *self, const char *text, struct buf *out)
{
	struct apply_doc d = APPLY_DOC_INIT;
	struct app_ctx ctx = APP_CTX_INIT;
	struct applied was, now = { .release = 0 };
	int current = 0, changed = 0, err;

	if ((err = doc_parse(&d, text)))
		goto done;
	if ((err = cas_check(root, d.slug)) == SW_ENOTFOUND) {
		err = sw_error_set(SW_ENOTFOUND,
			"this host has no slug %s: send it first (the node agent's slug request)",
			d.slug);
		goto done;
	}
	if (err || (err = app_here(root, self, d.app)) ||
	    (err = app_ctx_open(&ctx, root, d.app, APP_CTX_WRITE)) ||
	    (err = ledger_current(ctx.ledger, &current)))
		goto done;
	doc_digest(&d, 1, now.digest);
	doc_digest(&d, 0, now.base);
	now.version = d.version;
	applied_read(root, d.app, &was);
	/* the same document, its release still current here: nothing to do */
	if (!strcmp(was.digest, now.digest) && was.release == current && current)
		goto done;
	if (was.base[0] && !strcmp(was.base, now.base) && was.release == current && current) {
		now.release = current;
		err = scale_here(&ctx, &d, &now, &changed);
	} else {
		err = phase_here(&ctx, &d, &now, &changed);
	}
done:
	app_ctx_release(&ctx);
	if (!err)
		err = answer(root, d.app, changed, 0, out);
	apply_doc_release(&d);
	return err;
}
