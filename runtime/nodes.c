#define _GNU_SOURCE
#include "runtime/nodes.h"

#include "store/apphosts.h"
#include "store/cas.h"
#include "store/domains.h"
#include "store/formation.h"
#include "store/hosts.h"
#include "store/ledger.h"
#include "store/paths.h"
#include "store/s3.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "util/run.h"
#include "util/say.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#ifndef SLIPWAY_VERSION
#define SLIPWAY_VERSION "unknown"
#endif

#define NODE_CALL_TIMEOUT_SEC 30
/* a slug's bytes at the slowest link worth using; a release started and gated there */
#define NODE_SLUG_TIMEOUT_SEC 1800
#define NODE_APPLY_TIMEOUT_SEC 1800
#define NODE_ANSWER_MAX (1 << 20)

void node_hello_release(struct node_hello *h)
{
	free(h->version);
	free(h->router);
	memset(h, 0, sizeof(*h));
}

static long long now_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/*
 * Keeps the last line a child wrote to stderr (ssh's reason, or the
 * agent's refusal), as a terminal may show it: it reaches the user and the
 * ledger, and a run host is not trusted to send only text.
 */
static void keep_last(const char *line, size_t len, void *ctx)
{
	struct buf *b = ctx;
	if (!len)
		return;
	buf_reset(b);
	buf_add_shown(b, line, len);
}

int node_key(const char *root, char **pub)
{
	char *dir = paths_hosts_dir(root), *key = paths_hosts_file(root, "id_ed25519");
	char *pubfile = xasprintf("%s.pub", key), *comment = NULL, *text = NULL;
	char host[256] = "control";
	struct buf why = BUF_INIT;
	int status = 0, err = fs_mkdir_p(dir, 0700);

	if (!err && !fs_exists(key)) {
		gethostname(host, sizeof(host) - 1);
		comment = xasprintf("slipway@%s", host);
		const char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment,
				       "-f", key, NULL };
		struct run_opts o = RUN_OPTS_INIT;
		o.argv = argv;
		o.on_line = keep_last;
		o.ctx = &why;
		o.timeout_sec = 60;
		if ((err = run_child(&o, &status)) == 0 && status)
			err = sw_error_set(SW_ERROR, "ssh-keygen could not make the control's key %s: %s",
					   key, why.data ? why.data : "it failed");
		if (err)
			unlink(key);
	}
	if (!err)
		err = fs_read_file(pubfile, 16384, &text, NULL);
	if (!err) {
		text[strcspn(text, "\r\n")] = '\0';
		*pub = text;
		text = NULL;
	}
	buf_release(&why);
	free(text);
	free(comment);
	free(pubfile);
	free(key);
	free(dir);
	return err;
}

/* The hosts:allow line that makes the host trust this control's key. */
static int allow_hint(const char *root, const struct host_url *url)
{
	char *pub = NULL;
	if (node_key(root, &pub) < 0)
		return SW_ERROR;
	int err = sw_error_set(SW_EDENIED,
		"%s@%s does not trust this server's key yet: run on it as its operator: "
		"slipway hosts:allow '%s'", url->user, url->address, pub);
	free(pub);
	return err;
}

/* node_call() with a time limit of its own. */
static int call(const char *root, const struct host_url *url, const char *request,
		const char *input, const char *known_hosts, int learn, int timeout_sec,
		struct buf *out)
{
	char *key = paths_hosts_file(root, "id_ed25519"), *pub = NULL;
	char *kh = xasprintf("UserKnownHostsFile=%s", known_hosts), port[16];
	struct buf why = BUF_INIT;
	int status = 0, err;

	if ((err = node_key(root, &pub)) < 0)
		goto done;
	snprintf(port, sizeof(port), "%d", url->port);
	const char *argv[] = {
		"ssh", "-F", "/dev/null", "-T", "-i", key, "-p", port, "-l", url->user,
		"-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", kh,
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", learn ? "StrictHostKeyChecking=accept-new" : "StrictHostKeyChecking=yes",
		"-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
		/* a host cut off mid-request is given up in ~15 s, not at the time limit */
		"-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3",
		"--", url->address, request, NULL,
	};
	struct run_opts o = RUN_OPTS_INIT;
	o.argv = argv;
	o.input_path = input;
	o.on_line = keep_last;
	o.ctx = &why;
	o.capture = out;
	o.capture_max = NODE_ANSWER_MAX;
	o.timeout_sec = timeout_sec;
	if ((err = run_child(&o, &status)) < 0) {
		sw_error_prefix(err, "cannot reach %s@%s: ", url->user, url->address);
		goto done;
	}
	const char *said = why.data ? why.data : "";
	/* the agent's refusal comes as the CLI says an error: its line without the prefix */
	const char *prefix = say_prefix(SAY_ERROR);
	if (!strncmp(said, prefix, strlen(prefix)))
		said += strlen(prefix);
	if (status == 255 && strstr(said, "Permission denied"))
		err = allow_hint(root, url);
	else if (status == 255)
		err = sw_error_set(SW_ERROR, "cannot reach %s@%s port %d: %s", url->user, url->address,
				   url->port, *said ? said : "ssh failed");
	else if (status)
		err = sw_error_set(SW_ERROR, "the node agent of %s@%s refused '%.*s': %s", url->user,
				   url->address, (int)strcspn(request, " "), request,
				   *said ? said : "it failed");
done:
	buf_release(&why);
	free(pub);
	free(kh);
	free(key);
	return err;
}

int node_call(const char *root, const struct host_url *url, const char *request,
	      const char *input, const char *known_hosts, int learn, struct buf *out)
{
	return call(root, url, request, input, known_hosts, learn, NODE_CALL_TIMEOUT_SEC, out);
}

/* 1 if v looks like a version: 1 to 64 of letters, digits and ".+~-". */
static int version_valid(const char *v)
{
	size_t n = strlen(v);
	return n && n <= 64 &&
	       !v[strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+~-")];
}

/*
 * Where the front reaches the router the agent's answer names: its
 * "ADDRESS:PORT", the URL's address when it listens on every address
 * (malloc'ed); NULL when it names none or not a port.
 */
static char *router_address(const struct host_url *url, const char *json)
{
	char *said = NULL, *out = NULL, *end = NULL;
	if (json_flat_get(json, "router", &said) < 0)
		return NULL;
	char *colon = strrchr(said, ':');
	long port = colon ? strtol(colon + 1, &end, 10) : 0;
	if (colon && end != colon + 1 && !*end && port >= 1 && port <= 65535) {
		*colon = '\0';
		const char *addr = *said && strcmp(said, "0.0.0.0") ? said : url->address;
		out = strchr(addr, ':') ? xasprintf("[%s]:%ld", addr, port)
					: xasprintf("%s:%ld", addr, port);
	}
	free(said);
	return out;
}

/*
 * Reads the agent's answer into *h; SW_ERROR when it is not one (nothing
 * of it is repeated: it comes from the other host).
 */
static int parse_hello(const struct host_url *url, const char *json, long long t0, long long t1,
		       struct node_hello *h)
{
	char *clock = NULL, *end = NULL;
	/*
	 * a line before the answer: the login shell's start-up files print it,
	 * and every answer would come with it (its first line is said, made
	 * plain text: it is the operator's own)
	 */
	const char *answer = *json != '{' ? strstr(json, "\n{") : NULL;
	char *agent = NULL;
	if (answer && json_flat_get(answer + 1, "slipway", &agent) == 0) {
		char line[61];
		free(agent);
		size_t n = strcspn(json, "\n");
		n = n < sizeof(line) - 1 ? n : sizeof(line) - 1;
		for (size_t i = 0; i < n; i++)
			line[i] = json[i] >= 0x20 && json[i] < 0x7f ? json[i] : '?';
		line[n] = '\0';
		return sw_error_set(SW_EINVALID,
			"%s@%s printed '%s' before the node agent's answer: the start-up files of "
			"%s's login shell there must print nothing (a .bashrc's echo, say)",
			url->user, url->address, line, url->user);
	}
	int ok = json_flat_get(json, "slipway", &h->version) == 0 && version_valid(h->version) &&
		 json_flat_get(json, "clock_ms", &clock) == 0;
	if (ok) {
		h->clock_ms = strtoll(clock, &end, 10);
		ok = end != clock && !*end;
	}
	free(clock);
	if (!ok) {
		free(h->version);
		h->version = NULL;
		return sw_error_set(SW_ERROR,
			"%s@%s did not answer as a node agent (its authorized_keys must force slipway node-agent)",
			url->user, url->address);
	}
	h->router = router_address(url, json);
	h->skew_ms = h->clock_ms < t0 ? t0 - h->clock_ms : h->clock_ms > t1 ? h->clock_ms - t1 : 0;
	return 0;
}

/* hello to url, its answer into *h. */
static int hello(const char *root, const struct host_url *url, const char *known_hosts,
		 int learn, struct node_hello *h)
{
	struct buf answer = BUF_INIT;
	long long t0 = now_ms();
	int err = node_call(root, url, "hello", NULL, known_hosts, learn, &answer);
	long long t1 = now_ms();
	if (!err)
		err = parse_hello(url, answer.data ? answer.data : "", t0, t1, h);
	buf_release(&answer);
	return err;
}

/* Refuses an answer of another version, or of a clock too far from ours. */
static int join_check(const char *name, const struct node_hello *h)
{
	if (strcmp(h->version, SLIPWAY_VERSION))
		return sw_error_set(SW_EINVALID,
			"host '%s' runs slipway %s, this server %s: install the same version on both",
			name, h->version, SLIPWAY_VERSION);
	if (h->skew_ms > NODE_CLOCK_SKEW_MAX_MS)
		return sw_error_set(SW_EINVALID,
			"host '%s' has a clock %.1f s %s this server's (at most %d s): synchronise both (NTP)",
			name, (double)h->skew_ms / 1000, h->clock_ms < now_ms() ? "behind" : "ahead of",
			NODE_CLOCK_SKEW_MAX_MS / 1000);
	return 0;
}

/* Copies known_hosts (if any) to copy, 0600. */
static int copy_known(const char *known_hosts, const char *copy)
{
	char *text = NULL;
	size_t len = 0;
	int err = fs_read_file(known_hosts, 16 << 20, &text, &len);
	if (err == SW_ENOTFOUND) {
		text = xstrdup("");
		err = 0;
	}
	if (!err)
		err = fs_write_atomic(copy, text, len, 0600);
	free(text);
	return err;
}

int node_join(const char *root, const char *name, const char *url, struct node_hello *out)
{
	struct host_url u = HOST_URL_INIT;
	struct host_rec found = { 0 };
	struct lock lk = LOCK_INIT;
	char *kh = paths_hosts_file(root, "known_hosts");
	char *copy = paths_hosts_file(root, "known_hosts.join");
	int err;

	if ((err = host_name_check(name)) < 0 || (err = host_url_parse(&u, url)) < 0 ||
	    (err = hosts_lock(root, &lk)) < 0)
		goto done;
	if ((err = hosts_find(root, name, &found)) == 0) {
		err = sw_error_set(SW_EEXISTS,
			"there is already a host '%s' (remove it first: slipway hosts:remove %s)", name,
			name);
		goto done;
	}
	char *pub = NULL;
	if (err == SW_ENOTFOUND && (err = node_key(root, &pub)) == 0)
		free(pub); /* and the directory is there */
	if (err < 0 || (err = copy_known(kh, copy)) < 0 ||
	    (err = hello(root, &u, copy, 1, out)) < 0 || (err = join_check(name, out)) < 0)
		goto done;
	struct host_rec rec = { (char *)name, (char *)url, out->version, out->router };
	if ((err = hosts_add(root, &rec)) < 0)
		goto done;
	/* the host key learnt: kept only now that the host is recorded */
	if (rename(copy, kh) < 0)
		err = sw_error_errno(SW_ERROR, "cannot keep the host key of '%s' in %s", name, kh);
	else
		err = fs_fsync_parent(kh);
done:
	if (fs_exists(copy))
		unlink(copy);
	lock_release(&lk);
	host_rec_release(&found);
	host_url_release(&u);
	free(copy);
	free(kh);
	return err;
}

int node_ping(const char *root, const struct host_rec *h, struct node_hello *out)
{
	struct host_url u = HOST_URL_INIT;
	char *kh = paths_hosts_file(root, "known_hosts");
	int err = host_url_parse(&u, h->url);
	if (!err)
		err = hello(root, &u, kh, 0, out);
	host_url_release(&u);
	free(kh);
	return err;
}

/* The name ssh's known_hosts gives url's host: "ADDRESS", or "[ADDRESS]:PORT" off port 22. */
static char *known_name(const struct host_url *u)
{
	return u->port == 22 ? xstrdup(u->address) : xasprintf("[%s]:%d", u->address, u->port);
}

/* Rewrites known_hosts without the lines of name (its first field, or one of its names). */
static int forget_key(const char *known_hosts, const char *name)
{
	char *text = NULL;
	size_t len = 0;
	struct buf out = BUF_INIT;
	int err = fs_read_file(known_hosts, 16 << 20, &text, &len);
	if (err == SW_ENOTFOUND)
		return 0;
	if (err < 0)
		return err;
	size_t n = strlen(name);
	for (const char *l = text; *l;) {
		const char *nl = strchr(l, '\n');
		size_t ll = nl ? (size_t)(nl - l + 1) : strlen(l), fl = strcspn(l, " \t\n");
		int match = 0;
		for (const char *f = l; f < l + fl && !match;) {
			size_t w = strcspn(f, ", \t\n");
			match = w == n && !strncmp(f, name, n);
			f += w + 1;
		}
		if (!match)
			buf_add(&out, l, ll);
		l += ll;
	}
	if (out.len != len)
		err = fs_write_atomic(known_hosts, out.data ? out.data : "", out.len, 0600);
	buf_release(&out);
	free(text);
	return err;
}

int node_remove(const char *root, const char *name)
{
	struct lock lk = LOCK_INIT;
	struct host_rec gone = { 0 }, *rest = NULL;
	struct host_url u = HOST_URL_INIT, other = HOST_URL_INIT;
	size_t n = 0;
	char *kh = paths_hosts_file(root, "known_hosts"), *known = NULL;
	int err, shared = 0;

	if ((err = host_name_check(name)) < 0 || (err = hosts_lock(root, &lk)) < 0 ||
	    (err = hosts_find(root, name, &gone)) < 0 || (err = hosts_remove(root, name)) < 0 ||
	    (err = hosts_read(root, &rest, &n)) < 0)
		goto done;
	if (host_url_parse(&u, gone.url) < 0)
		goto done; /* a line not written by hosts:add: no key of its own learnt */
	known = known_name(&u);
	for (size_t i = 0; i < n && !shared; i++) {
		if (host_url_parse(&other, rest[i].url) == 0)
			shared = !strcmp(other.address, u.address) && other.port == u.port;
		host_url_release(&other);
	}
	if (!shared)
		err = forget_key(kh, known);
done:
	lock_release(&lk);
	hosts_free(rest, n);
	host_rec_release(&gone);
	host_url_release(&u);
	free(known);
	free(kh);
	return err;
}

/*
 * The desired state of r, a release of app on the control, for host, into
 * b: each type's count the host's share of counts (NULL: of the
 * app's formation) over the app's hosts, the whole of it for a host not
 * among them.
 */
static int write_state(const char *root, const char *app, const char *host,
		       const struct release *r, const int *total, const char *phase,
		       const char *reason, struct buf *b)
{
	struct json j = JSON_INIT(b);
	struct strvec domains = STRVEC_INIT;
	int *counts = xcalloc(r->procs.n ? r->procs.n : 1, sizeof(int));
	size_t at = 0, n = 0;
	int err = total ? 0 : formation_counts(root, app, r, counts);
	if (!err)
		err = apphosts_share_of(root, app, host, &at, &n);
	if (!err)
		err = domains_list(root, app, &domains);
	if (err)
		goto done;
	if (at == n) /* a host named on its own, not among the app's: it runs the whole */
		at = 0, n = 1;
	for (size_t i = 0; i < r->procs.n; i++)
		counts[i] = formation_share(total ? total[i] : counts[i], at, n);
	json_object_begin(&j, NULL);
	json_string(&j, "app", app);
	json_int(&j, "version", r->version);
	json_string(&j, "description", r->description ? r->description : "");
	json_string(&j, "slug", r->slug);
	json_uint(&j, "slug_size", r->slug_size);
	json_string(&j, "phase", phase);
	if (reason)
		json_string(&j, "reason", reason);
	for (size_t i = 0; i < r->procs.n; i++) {
		char *key = xasprintf("process.%s", r->procs.items[i].name);
		json_string(&j, key, r->procs.items[i].command);
		free(key);
		key = xasprintf("instances.%s", r->procs.items[i].name);
		json_int(&j, key, counts[i]);
		free(key);
	}
	for (size_t i = 0; i < r->config.n; i++) {
		char *key = xasprintf("config.%s", r->config.items[i].key);
		json_string(&j, key, r->config.items[i].value);
		free(key);
	}
	for (size_t i = 0; i < domains.n; i++) {
		char *key = xasprintf("domain.%s", domains.v[i]);
		json_bool(&j, key, 1);
		free(key);
	}
	json_object_end(&j);
done:
	strvec_clear(&domains);
	free(counts);
	return err;
}

/*
 * A request's input that holds secrets (config vars, S3 keys): b's bytes
 * in a memory file, never on disk, named *path ("/proc/self/fd/N", which
 * ssh's stdin is opened from); b is wiped.  The caller closes *fd and
 * frees *path.
 */
static int secret_input(struct buf *b, int *fd, char **path)
{
	int err = 0;
	if ((*fd = memfd_create("slipway-input", MFD_CLOEXEC)) < 0)
		err = sw_error_errno(SW_ERROR, "cannot make a memory file for a request to a host");
	else if ((err = fs_write_all(*fd, b->data, b->len)) == 0)
		*path = xasprintf("/proc/self/fd/%d", *fd);
	if (b->data)
		explicit_bzero(b->data, b->len);
	return err;
}

/*
 * Slug hex to the host at u, answered in said: with S3 configured here the
 * host fetches it from the bucket itself (the agent's slug-s3), its
 * settings and secret on stdin from a memfd, never a file or an argument;
 * else its bytes go over ssh (slug).
 */
static int slug_to_host(const char *root, const struct host_url *u, const char *kh,
			const char *hex, struct buf *said)
{
	struct s3 s3 = S3_INIT;
	struct buf doc = BUF_INIT;
	char *req = NULL, *input = NULL;
	int fd = -1, err = s3_open(&s3, root);
	if (err == SW_ENOTFOUND) {
		input = cas_path(root, hex);
		req = xasprintf("slug %s", hex);
		err = call(root, u, req, input, kh, 0, NODE_SLUG_TIMEOUT_SEC, said);
		goto done;
	}
	if (err)
		goto done;
	s3_json_write(&s3, &doc);
	if ((err = secret_input(&doc, &fd, &input)) < 0)
		goto done;
	req = xasprintf("slug-s3 %s", hex);
	err = call(root, u, req, input, kh, 0, NODE_SLUG_TIMEOUT_SEC, said);
done:
	if (fd >= 0)
		close(fd);
	buf_release(&doc);
	s3_release(&s3);
	free(input);
	free(req);
	return err;
}

/*
 * node_apply() of r (NULL: the app's current release) with the formation
 * counts (NULL: the app's), an abort saying reason (may be NULL); the slug
 * is sent first when send_slug (a switch after its prepare, and an abort,
 * need none)
 */
static int apply_phase(const char *root, const char *host, const char *app,
		       const struct release *of, const int *counts, const char *phase,
		       const char *reason, int send_slug, struct buf *out)
{
	struct host_rec h = { 0 };
	struct host_url u = HOST_URL_INIT;
	struct release cur = RELEASE_INIT;
	const struct release *r = of ? of : &cur;
	struct buf said = BUF_INIT, state = BUF_INIT;
	char *kh = paths_hosts_file(root, "known_hosts"), *doc = NULL;
	int fd = -1, err;

	if ((err = hosts_find(root, host, &h)) || (err = host_url_parse(&u, h.url)) ||
	    (!of && (err = ledger_read_current(root, app, LEDGER_READ_PROCS | LEDGER_READ_CONFIG,
					      &cur))))
		goto done;
	if (!r->slug[0]) {
		err = sw_error_set(SW_EINVALID, "%s has no release with code to run yet (deploy it first)",
				   app);
		goto done;
	}
	/* the document holds the config vars: in memory only, never a file */
	if ((err = write_state(root, app, host, r, counts, phase, reason, &state)) ||
	    (err = secret_input(&state, &fd, &doc)))
		goto done;
	/* the slug first: the agent fetches or reads it only when its store lacks it */
	if (send_slug && (err = slug_to_host(root, &u, kh, r->slug, &said)))
		goto done;
	err = call(root, &u, "apply", doc, kh, 0, NODE_APPLY_TIMEOUT_SEC, out);
done:
	if (fd >= 0)
		close(fd);
	if (state.data)
		explicit_bzero(state.data, state.len);
	buf_release(&state);
	buf_release(&said);
	release_release(&cur);
	host_rec_release(&h);
	host_url_release(&u);
	free(doc);
	free(kh);
	return err;
}

int node_apply(const char *root, const char *host, const char *app, const char *phase,
	       struct buf *out)
{
	return apply_phase(root, host, app, NULL, NULL, phase, NULL, strcmp(phase, "abort") != 0,
			   out);
}

/* What each host's prepare (a child of its own, run_forked_each()) is given. */
struct prepare_each {
	const char *root, *app;
	const struct release *r;
	const int *counts;
	const struct strvec *hosts;
};

static int prepare_one(size_t i, void *ctx)
{
	const struct prepare_each *p = ctx;
	struct buf said = BUF_INIT;
	int err = apply_phase(p->root, p->hosts->v[i], p->app, p->r, p->counts, "prepare", NULL, 1,
			      &said);
	buf_release(&said);
	return err;
}

/*
 * The first n of hosts, switched to a release that then failed on
 * another, back on the control's current release (node_release()); when
 * one cannot be, *why (the failure) says so and how to mend it.
 */
static void switch_back(const char *root, const char *app, const struct release *r,
			const struct strvec *hosts, size_t n, char **why)
{
	struct strvec back = STRVEC_INIT;
	struct buf said = BUF_INIT, names = BUF_INIT;
	struct release cur = RELEASE_INIT;
	for (size_t i = 0; i < n; i++) {
		strvec_push(&back, hosts->v[i]);
		buf_addf(&names, "%s%s", i ? ", " : "", hosts->v[i]);
	}
	/* a first release has nothing before it: its instances there stop */
	int first = ledger_read_current(root, app, 0, &cur) < 0 || !cur.slug[0];
	if ((first ? node_release_none(root, app, r, &back, &said)
		   : node_release(root, app, &back, &said)) < 0) {
		char *more = first
			? xasprintf("%s; %s switched to it before and could not all stop it (%s): "
				    "'slipway hosts:apply -a %s' once it is live stops its old "
				    "instances there", *why, names.data, sw_error_last(), app)
			: xasprintf("%s; %s switched to it before and could not all be switched "
				    "back (%s): 'slipway hosts:apply -a %s' puts the live "
				    "release back on them", *why, names.data, sw_error_last(), app);
		free(*why);
		*why = more;
	}
	release_release(&cur);
	buf_release(&names);
	buf_release(&said);
	strvec_clear(&back);
}

int node_release_of(const char *root, const char *app, const struct release *r,
		    const int *counts, const struct strvec *hosts, struct buf *out)
{
	struct prepare_each each = { root, app, r, counts, hosts };
	struct buf said = BUF_INIT;
	size_t n = hosts->n, switched = 0;
	int *codes = xcalloc(n ? n : 1, sizeof(*codes));
	char **whys = xcalloc(n ? n : 1, sizeof(*whys)), *why = NULL;
	int err = 0;
	/*
	 * phase 1: every host starts the release beside the old one, through
	 * its gate, all at once (the time of the slowest, not the sum); the
	 * first host in the list that could not is the one named
	 */
	run_forked_each(n, prepare_one, &each, codes, whys);
	for (size_t i = 0; i < n; i++) {
		if (codes[i] && !err) {
			err = codes[i];
			why = xasprintf("%s: %s", hosts->v[i], whys[i]);
		}
		free(whys[i]);
	}
	free(whys);
	/* phase 2: every host switches, one after another */
	while (!err && switched < n) {
		size_t before = out->len;
		if ((err = apply_phase(root, hosts->v[switched], app, r, counts, "switch", NULL, 0,
				       out))) {
			buf_truncate(out, before);
			why = xasprintf("%s: %s", hosts->v[switched], sw_error_last());
			codes[switched] = err;
		} else {
			switched++;
		}
	}
	/*
	 * one host could not: what the others started and did not switch to
	 * stops; not on a host whose own call failed but for its time limit -
	 * it refused, and stopped what it started itself, or it cannot be
	 * reached, and waiting for it again helps no one (what it may hold
	 * waits out its hold, or the next release replaces it)
	 */
	for (size_t i = switched; err && i < n; i++) {
		if (codes[i] && codes[i] != SW_ETIMEOUT)
			continue;
		buf_truncate(&said, 0);
		(void)apply_phase(root, hosts->v[i], app, r, counts, "abort", why, 0, &said);
	}
	free(codes);
	/* and those that switched go back to the release before (not when that is r) */
	if (err && switched && r)
		switch_back(root, app, r, hosts, switched, &why);
	if (err)
		err = sw_error_set(err, "%s", why);
	free(why);
	buf_release(&said);
	return err;
}

int node_release(const char *root, const char *app, const struct strvec *hosts,
		 struct buf *out)
{
	return node_release_of(root, app, NULL, NULL, hosts, out);
}

int node_release_none(const char *root, const char *app, const struct release *r,
		      const struct strvec *hosts, struct buf *out)
{
	int *none = xcalloc(r->procs.n ? r->procs.n : 1, sizeof(*none));
	int err = node_release_of(root, app, r, none, hosts, out);
	free(none);
	return err;
}

int node_withdraw(const char *root, const char *app, const char *host, struct buf *out)
{
	struct release cur = RELEASE_INIT;
	struct strvec one = STRVEC_INIT;
	int err = ledger_read_current(root, app, LEDGER_READ_PROCS | LEDGER_READ_CONFIG, &cur);
	strvec_push(&one, host);
	if (!err)
		err = node_release_none(root, app, &cur, &one, out);
	if (!err)
		err = apphosts_unplaced(root, app, host);
	strvec_clear(&one);
	release_release(&cur);
	return err;
}

int node_run_hosts(const char *root, const char *app, struct strvec *out)
{
	struct strvec all = STRVEC_INIT;
	int err = apphosts_placement(root, app, &all);
	for (size_t i = 0; !err && i < all.n; i++)
		if (strcmp(all.v[i], HOST_LOCAL))
			strvec_push(out, all.v[i]);
	strvec_clear(&all);
	return err;
}

int node_state(const char *root, const char *host, const char *app, int health,
	       struct buf *out)
{
	struct host_rec h = { 0 };
	struct host_url u = HOST_URL_INIT;
	char *kh = paths_hosts_file(root, "known_hosts");
	char *req = xasprintf("state %s%s", app, health ? " health" : "");
	int err = hosts_find(root, host, &h);
	if (!err && !(err = host_url_parse(&u, h.url)))
		err = node_call(root, &u, req, NULL, kh, 0, out);
	host_rec_release(&h);
	host_url_release(&u);
	free(req);
	free(kh);
	return err;
}
