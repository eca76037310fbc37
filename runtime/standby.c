#define _GNU_SOURCE
#include "runtime/standby.h"

#include "runtime/nodes.h"
#include "store/cas.h"
#include "store/hosts.h"
#include "store/ledger.h"
#include "store/paths.h"
#include "store/settings.h"
#include "store/standby.h"
#include "util/error.h"
#include "util/run.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIRROR_TIMEOUT_SEC 600
#define MIRROR_HAS_BATCH 64

extern char **environ;

/* The standby reached: its URL, parsed, with the control's key and epoch. */
struct target {
	char *url;
	struct host_url u;
	char *key, *known_hosts;
	long long epoch;
};

static void target_release(struct target *t)
{
	free(t->url);
	host_url_release(&t->u);
	free(t->key);
	free(t->known_hosts);
}

/* The standby set, into *t: SW_ENOTFOUND when none is. */
static int target_open(const char *root, struct target *t)
{
	struct settings *st = NULL;
	struct standby_state s = STANDBY_STATE_INIT;
	char *pub = NULL;
	int err = settings_open(&st, root, NULL);
	if (!err)
		err = settings_string(st, &SETTING_STANDBY, &t->url);
	settings_free(st);
	if (!err && (!t->url || !*t->url))
		err = SW_ENOTFOUND;
	if (!err && (err = host_url_parse(&t->u, t->url)) < 0)
		sw_error_prefix(err, "slipway.standby: ");
	if (!err && (err = node_key(root, &pub)) == 0 && (err = standby_read(root, &s)) == 0) {
		t->key = paths_hosts_file(root, "id_ed25519");
		t->known_hosts = paths_hosts_file(root, "known_hosts");
		t->epoch = s.epoch;
	}
	standby_state_release(&s);
	free(pub);
	return err;
}

/* What the standby said: its "fenced:" line, else its last line. */
struct said {
	struct buf last, fenced;
};

static void keep_said(const char *line, size_t len, void *ctx)
{
	struct said *s = ctx;
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (!len)
		return;
	/* the gate's refusal, as its error line says it, or as git relays it */
	struct buf *b = strstr(line, " fenced: ") ? &s->fenced : &s->last;
	buf_reset(b);
	buf_add(b, line, len);
}

/* Records this server fenced by the writer t names; SW_EDENIED saying so. */
static int fenced(const char *root, const struct target *t)
{
	struct standby_state s = STANDBY_STATE_INIT;
	int err = standby_read(root, &s);
	if (!err) {
		free(s.name);
		s.name = xstrdup(t->url);
		s.role = STANDBY_FENCED;
		err = standby_write(root, &s);
	}
	standby_state_release(&s);
	if (err)
		return err;
	return standby_writer_check(root);
}

/* The outcome of a child talking to the standby, as standby_mirror() returns. */
static int outcome(const char *root, const struct target *t, int err, int status,
		   struct said *s, const char *what)
{
	if (err < 0)
		return sw_error_prefix(err, "cannot reach the standby %s: ", t->url);
	if (s->fenced.len)
		return fenced(root, t);
	if (status == 255) /* ssh's own failure */
		return sw_error_set(SW_ERROR, "cannot reach the standby %s: %s", t->url,
				    s->last.data ? s->last.data : "ssh failed");
	if (status)
		return sw_error_set(SW_ERROR, "the standby %s refused %s: %s", t->url, what,
				    s->last.data ? s->last.data : "it failed");
	return 0;
}

/* ssh to the standby with request (stdin from the file input, or none), its stdout into out. */
static int call(const char *root, const struct target *t, const char *request,
		const char *input, struct buf *out, const char *what)
{
	char *kh = xasprintf("UserKnownHostsFile=%s", t->known_hosts), port[16];
	struct said s = { BUF_INIT, BUF_INIT };
	int status = 0;
	snprintf(port, sizeof(port), "%d", t->u.port);
	const char *argv[] = {
		"ssh", "-F", "/dev/null", "-T", "-i", t->key, "-p", port, "-l", t->u.user,
		"-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", kh,
		"-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=accept-new",
		"-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
		"--", t->u.address, request, NULL,
	};
	struct run_opts o = RUN_OPTS_INIT;
	o.argv = argv;
	o.on_line = keep_said;
	o.ctx = &s;
	o.capture = out;
	o.timeout_sec = MIRROR_TIMEOUT_SEC;
	o.input_path = input;
	int err = run_child(&o, &status);
	err = outcome(root, t, err, status, &s, what);
	buf_release(&s.last);
	buf_release(&s.fenced);
	free(kh);
	return err;
}

int standby_fence_check(const char *root)
{
	struct target t = { 0 };
	struct buf out = BUF_INIT;
	int err = standby_writer_check(root);
	if (!err && (err = target_open(root, &t)) == SW_ENOTFOUND)
		err = 0;
	else if (!err) {
		char *request = xasprintf("slipway-mirror %lld", t.epoch);
		err = call(root, &t, request, NULL, &out, "the check");
		if (err != SW_EDENIED)
			err = 0; /* not reached: the releases go on, the mirror catches up */
		free(request);
	}
	buf_release(&out);
	target_release(&t);
	return err;
}

static int add_slug(const struct release *r, void *ctx)
{
	if (r->slug[0])
		strvec_push(ctx, r->slug);
	return 0;
}

/* Sends the slug hex (in this server's store) to the standby. */
static int send_slug(const char *root, const struct target *t, const char *hex)
{
	char *path = cas_path(root, hex), *request = NULL;
	struct buf out = BUF_INIT;
	int err;
	/* the slug's own refusal, before ssh is started (which opens it again) */
	if (!path || access(path, R_OK) < 0) {
		err = sw_error_errno(SW_ERROR, "cannot read slug %s", hex);
		goto done;
	}
	request = xasprintf("slipway-mirror %lld slug %s", t->epoch, hex);
	err = call(root, t, request, path, &out, "a slug");
done:
	buf_release(&out);
	free(request);
	free(path);
	return err;
}

/* Sends the slugs of app's releases the standby does not have yet. */
static int send_slugs(const char *root, const struct target *t, const char *app)
{
	struct strvec slugs = STRVEC_INIT;
	struct ledger *l = NULL;
	char *repo = app_repo_path(root, app);
	int err = ledger_open(&l, repo);
	if (!err && (err = ledger_walk(l, 0, 0, add_slug, &slugs)) == SW_ENOTFOUND)
		err = 0;
	/* each once, newest first: a long ledger has many releases of one slug */
	strvec_uniq(&slugs);
	for (size_t i = 0; i < slugs.n && !err; i += MIRROR_HAS_BATCH) {
		struct buf req = BUF_INIT, missing = BUF_INIT;
		buf_addf(&req, "slipway-mirror %lld has", t->epoch);
		for (size_t k = i; k < slugs.n && k < i + MIRROR_HAS_BATCH; k++)
			buf_addf(&req, " %s", slugs.v[k]);
		err = call(root, t, req.data, NULL, &missing, "the list of slugs");
		for (char *p = missing.data; !err && p && *p;) {
			size_t n = strcspn(p, "\n");
			char hex[CAS_HEX_LEN + 1] = "";
			if (n == CAS_HEX_LEN) {
				memcpy(hex, p, n);
				if (cas_valid_hex(hex))
					err = send_slug(root, t, hex);
			}
			p += n + (p[n] == '\n');
		}
		buf_release(&missing);
		buf_release(&req);
	}
	ledger_free(l);
	free(repo);
	strvec_clear(&slugs);
	return err;
}

/* `git push --atomic` of app's branches and ledger refs to the standby. */
static int push_refs(const char *root, const struct target *t, const char *app)
{
	struct strvec env = STRVEC_INIT;
	struct said s = { BUF_INIT, BUF_INIT };
	char *repo = app_repo_path(root, app);
	char *rp = xasprintf("--receive-pack=slipway-mirror %lld", t->epoch);
	char *dest = xasprintf("ssh://%s@%s:%d/%s", t->u.user, t->u.address, t->u.port, app);
	int status = 0;

	/* the repository's own git, not the one of a hook around this (quarantine) */
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "GIT_", 4))
			strvec_push(&env, *e);
	strvec_pushf(&env, "GIT_SSH_COMMAND=ssh -F /dev/null -T -i '%s' -o IdentitiesOnly=yes "
		     "-o BatchMode=yes -o 'UserKnownHostsFile=%s' -o GlobalKnownHostsFile=/dev/null "
		     "-o StrictHostKeyChecking=accept-new -o ConnectTimeout=10 -o LogLevel=ERROR",
		     t->key, t->known_hosts);
	const char *argv[] = {
		"git", "-C", repo, "push", "--atomic", "--quiet", "--no-verify", rp, dest,
		"+refs/heads/*:refs/heads/*", "+refs/releases/*:refs/releases/*",
		"+refs/slipway/*:refs/slipway/*", NULL,
	};
	struct run_opts o = RUN_OPTS_INIT;
	o.argv = argv;
	o.env = (const char *const *)env.v;
	o.on_line = keep_said;
	o.ctx = &s;
	o.timeout_sec = MIRROR_TIMEOUT_SEC;
	int err = run_child(&o, &status);
	err = outcome(root, t, err, status, &s, "the ledger");
	buf_release(&s.last);
	buf_release(&s.fenced);
	strvec_clear(&env);
	free(dest);
	free(rp);
	free(repo);
	return err;
}

int standby_mirror(const char *root, const char *app)
{
	struct target t = { 0 };
	int err = target_open(root, &t);
	if (err == SW_ENOTFOUND) {
		target_release(&t);
		return 0;
	}
	if (!err)
		err = send_slugs(root, &t, app);
	if (!err)
		err = push_refs(root, &t, app);
	target_release(&t);
	return err;
}
