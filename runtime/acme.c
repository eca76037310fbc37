#define _GNU_SOURCE
#include "runtime/acme.h"

#include "runtime/acme_directory.h"
#include "runtime/caa.h"
#include "runtime/dns.h"
#include "runtime/router.h"
#include "runtime/supervisor.h"
#include "store/acme.h"
#include "store/addons.h"
#include "store/app.h"
#include "store/certs.h"
#include "store/paths.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/lock.h"
#include "util/run.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* how long a probe may take to connect, and to answer */
#define PROBE_MS 5000
/* how long uacme may take, for an account or a certificate */
#define UACME_SEC 300
#define PEM_MAX (1 << 20)
/* where libcurl (GnuTLS), which uacme uses, reads the CAs it trusts */
#define SYSTEM_CAS "/etc/ssl/certs/ca-certificates.crt"

void acme_names(const struct strvec *hosts, struct strvec *out)
{
	for (size_t i = 0; i < hosts->n; i++) {
		const char *h = hosts->v[i];
		size_t n = strlen(h);
		if (!strcmp(h, "localhost") || (n > 10 && !strcmp(h + n - 10, ".localhost")))
			continue;
		strvec_push(out, h);
	}
}

/* waits until fd is ready for events, up to PROBE_MS; 0, or why not in why */
static int wait_fd(int fd, short events, const char **why)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;
	while ((n = poll(&p, 1, PROBE_MS)) < 0 && errno == EINTR)
		;
	if (n == 0)
		*why = "no answer in time";
	return n > 0 ? 0 : -1;
}

/*
 * GET path from addr:port with Host name: the response, or NULL and why
 * (a static string) when none came.
 */
static char *http_get(const char *addr, int port, const char *name, const char *path,
		      const char **why)
{
	char service[16];
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM },
			*res = NULL;
	struct buf in = BUF_INIT;
	snprintf(service, sizeof(service), "%d", port);
	*why = "no connection";
	if (getaddrinfo(addr, service, &hints, &res))
		return NULL;
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	if (connect(fd, res->ai_addr, res->ai_addrlen) < 0 && errno != EINPROGRESS) {
		*why = strerror(errno);
		goto fail;
	}
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (wait_fd(fd, POLLOUT, why) < 0)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
		*why = strerror(soerr ? soerr : errno);
		goto fail;
	}
	char *req = xasprintf("GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: slipway\r\n\r\n", path,
			      name);
	ssize_t w = send(fd, req, strlen(req), MSG_NOSIGNAL);
	free(req);
	if (w < 0) {
		*why = strerror(errno);
		goto fail;
	}
	for (;;) {
		char chunk[4096];
		if (wait_fd(fd, POLLIN, why) < 0)
			goto fail;
		ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0 || in.len > 65536)
			break;
		buf_add(&in, chunk, (size_t)n);
	}
	close(fd);
	freeaddrinfo(res);
	return buf_detach(&in);
fail:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	buf_release(&in);
	return NULL;
}

/* What the checks before an order go by. */
struct preflight {
	char *server;          /* slipway.acmeResolver, or NULL: the system's resolver */
	int port;              /* slipway.acmeHttpPort: where the CA asks for challenges */
	int router_port;       /* slipway.httpPort */
	char token[48], want[33]; /* the probe challenge put in the webroot */
};

/* The end of a refusal of the probe: what to look at. */
static char *probe_hint(const struct preflight *p)
{
	if (p->port == p->router_port)
		return xstrdup("is it this server?");
	return xasprintf("the CA checks port %d, and this router serves HTTP on %d "
			 "(slipway.httpPort): forward port %d to %d, or serve HTTP on %d", p->port,
			 p->router_port, p->port, p->router_port, p->port);
}

/* Whether addr serves the probe token on the CA's port for name; else SW_EINVALID. */
static int probe(const struct preflight *p, const char *addr, const char *name)
{
	const char *why = NULL;
	char *path = xasprintf("/.well-known/acme-challenge/%s", p->token);
	char *got = http_get(addr, p->port, name, path, &why), *hint = probe_hint(p);
	int err = 0, code = 0;
	char *body = got ? strstr(got, "\r\n\r\n") : NULL;
	free(path);
	if (!got)
		err = sw_error_set(SW_EINVALID, "%s resolves to %s, where port %d gives no answer "
				   "(%s): %s", name, addr, p->port, why, hint);
	else if (sscanf(got, "HTTP/%*s %d", &code) != 1 || code != 200 || !body ||
		 strcmp(body + 4, p->want))
		err = sw_error_set(SW_EINVALID, "%s resolves to %s, which does not serve this "
				   "server's challenges on port %d (HTTP %d for "
				   "/.well-known/acme-challenge/): %s", name, addr, p->port, code,
				   hint);
	free(got);
	free(hint);
	return err;
}

static int preflight_name(const struct preflight *p, const char *name)
{
	struct strvec addrs = STRVEC_INIT;
	int err = dns_addresses(p->server, name, &addrs);
	if (!err && !addrs.n)
		err = sw_error_set(SW_EINVALID, "%s does not resolve: point its DNS (an A record) to "
				   "this server", name);
	for (size_t i = 0; !err && i < addrs.n; i++)
		err = probe(p, addrs.v[i], name);
	strvec_clear(&addrs);
	return err;
}

/*
 * The names the CA goes by in CAA records: slipway.acmeCaaIdentity, else
 * its directory's meta.caaIdentities; none when neither says.
 */
static int caa_identities(struct settings *s, struct strvec *ids)
{
	char *id = NULL, *url = NULL, *bundle = NULL;
	int err = settings_string(s, &SETTING_ACME_CAA_IDENTITY, &id);
	if (!err && id && *id) {
		strvec_push(ids, id);
		goto done;
	}
	if (!err)
		err = settings_string(s, &SETTING_ACME_DIRECTORY, &url);
	if (!err)
		err = settings_string(s, &SETTING_ACME_CA_BUNDLE, &bundle);
	if (!err)
		err = acme_directory_caa(url, bundle, ids);
done:
	free(id);
	free(url);
	free(bundle);
	return err;
}

/* Each name's CAA records let the CA issue it a certificate. */
static int preflight_caa(struct settings *s, const char *server, const struct strvec *names)
{
	struct strvec ids = STRVEC_INIT;
	struct caa_set set = CAA_SET_INIT;
	int err = caa_identities(s, &ids);
	/* a CA that names itself nowhere: there is nothing to look for */
	for (size_t i = 0; !err && ids.n && i < names->n; i++) {
		err = caa_find(server, names->v[i], &set);
		if (!err)
			err = caa_allows(&set, names->v[i], &ids);
	}
	caa_set_release(&set);
	strvec_clear(&ids);
	return err;
}

int acme_preflight(const char *root, const struct strvec *names)
{
	struct settings *s = NULL;
	struct router_listen l;
	struct preflight p = { .token = "slipway-probe-" };
	uint64_t port = 0;
	int err = addon_random_hex(p.token + strlen(p.token), 16);
	if (!err)
		err = addon_random_hex(p.want, 16);
	if (!err)
		err = router_listen_read(root, &l);
	if (!err)
		err = settings_open(&s, root, NULL);
	if (!err)
		err = settings_string(s, &SETTING_ACME_RESOLVER, &p.server);
	if (!err)
		err = settings_count(s, &SETTING_ACME_HTTP_PORT, &port);
	p.port = (int)port;
	p.router_port = l.port;
	if (!err)
		err = acme_challenge_put(root, p.token, p.want);
	for (size_t i = 0; !err && i < names->n; i++)
		err = preflight_name(&p, names->v[i]);
	acme_challenge_remove(root, p.token);
	if (!err)
		err = preflight_caa(s, p.server, names);
	settings_free(s);
	free(p.server);
	return err;
}

/* What uacme said: its last line is the reason it failed. */
struct said {
	const struct acme_opts *o;
	char last[512];
};

static void on_uacme(const char *line, size_t len, void *ctx)
{
	struct said *s = ctx;
	if (len)
		snprintf(s->last, sizeof(s->last), "%s", line);
	if (s->o->on_line)
		s->o->on_line(line, len, s->o->ctx);
}

/* Runs uacme with argv (after the program); *status its exit status. */
static int uacme(const char *root, const struct strvec *prefix, const struct strvec *args,
		 const struct acme_opts *o, int *status, char last[512])
{
	extern char **environ;
	struct strvec argv = STRVEC_INIT, env = STRVEC_INIT;
	struct said said = { .o = o };
	for (size_t i = 0; i < prefix->n; i++)
		strvec_push(&argv, prefix->v[i]);
	strvec_push(&argv, "uacme");
	for (size_t i = 0; i < args->n; i++)
		strvec_push(&argv, args->v[i]);
	/* the hook (slipway) finds the root here */
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "SLIPWAY_ROOT=", 13))
			strvec_push(&env, *e);
	strvec_pushf(&env, "SLIPWAY_ROOT=%s", root);
	struct run_opts r = RUN_OPTS_INIT;
	r.argv = (const char *const *)argv.v;
	r.env = (const char *const *)env.v;
	r.timeout_sec = UACME_SEC;
	r.on_line = on_uacme;
	r.ctx = &said;
	int err = run_child(&r, status);
	snprintf(last, 512, "%s", said.last);
	strvec_clear(&argv);
	strvec_clear(&env);
	return err;
}

struct acme_run {
	char *directory, *bundle, *email, *bwrap;
	struct strvec prefix; /* bwrap's words before uacme, when it trusts a bundle */
};

static void acme_run_release(struct acme_run *a)
{
	free(a->directory);
	free(a->bundle);
	free(a->email);
	free(a->bwrap);
	strvec_clear(&a->prefix);
}

/*
 * uacme's libcurl trusts SYSTEM_CAS only: with slipway.acmeCaBundle, it
 * runs where that file is the system's CAs and the bundle's together.
 */
static int trust_bundle(const char *root, struct acme_run *a)
{
	struct buf b = BUF_INIT;
	int err = acme_trusted_cas(a->bundle, &b);
	char *path = paths_acme_file(root, "ca-bundle.pem");
	if (!err)
		err = fs_write_atomic(path, b.data, b.len, 0644);
	buf_release(&b);
	if (!err) {
		const char *words[] = { a->bwrap ? a->bwrap : "bwrap", "--dev-bind", "/", "/", "--ro-bind", path,
					SYSTEM_CAS, "--", NULL };
		for (size_t i = 0; words[i]; i++)
			strvec_push(&a->prefix, words[i]);
	}
	free(path);
	return err;
}

static int acme_run_open(const char *root, struct acme_run *a)
{
	struct settings *s = NULL;
	int err = settings_open(&s, root, NULL);
	if (!err)
		err = settings_string(s, &SETTING_ACME_DIRECTORY, &a->directory);
	if (!err)
		err = settings_string(s, &SETTING_ACME_CA_BUNDLE, &a->bundle);
	if (!err)
		err = settings_string(s, &SETTING_ACME_EMAIL, &a->email);
	if (!err)
		err = settings_string(s, &SETTING_BWRAP, &a->bwrap);
	settings_free(s);
	if (!err && a->bundle && *a->bundle)
		err = trust_bundle(root, a);
	return err;
}

/* path is a link to target, made anew (atomically) */
static int link_to(const char *target, const char *path)
{
	char *tmp = xasprintf("%s.tmp", path);
	unlink(tmp);
	int err = symlink(target, tmp) < 0 || rename(tmp, path) < 0
			  ? sw_error_errno(SW_ERROR, "cannot link '%s' to '%s'", path, target)
			  : 0;
	free(tmp);
	return err;
}

/* The server's account, made on first use: its key is account/private/key.pem. */
static int account(const char *root, struct acme_run *a, const struct acme_opts *o, char **key)
{
	char *dir = paths_acme_account(root), last[512] = "";
	struct strvec args = STRVEC_INIT;
	int status = 0, err = 0;
	struct lock lk = LOCK_INIT;
	*key = xasprintf("%s/private/key.pem", dir);
	/* one account, made once, though two apps are enabled at once */
	char *locked = xasprintf("%s/", dir);
	err = lock_acquire(&lk, locked, UACME_SEC, NULL, NULL);
	free(locked);
	if (!err && !fs_exists(*key)) {
		const char *w[] = { "-c", dir, "-a", a->directory, "-t", "EC", "-y", "new", NULL };
		for (size_t i = 0; w[i]; i++)
			strvec_push(&args, w[i]);
		if (a->email && *a->email)
			strvec_push(&args, a->email);
		err = uacme(root, &a->prefix, &args, o, &status, last);
		if (!err && status)
			err = sw_error_set(SW_ERROR, "the ACME account could not be made at %s: %s",
					   a->directory, *last ? last : "uacme failed");
	}
	lock_release(&lk);
	strvec_clear(&args);
	free(dir);
	return err;
}

/* The app's directory, where uacme finds the account's key as its own. */
static int app_dir(const char *root, const char *app, const char *account_key, char **dir)
{
	*dir = paths_acme_app(root, app);
	char *priv = xasprintf("%s/private", *dir), *link = xasprintf("%s/key.pem", priv);
	int err = fs_mkdir_p(priv, 0700);
	if (!err)
		err = link_to(account_key, link);
	free(priv);
	free(link);
	return err;
}

/* The certificate uacme keeps for name in dir: its chain, and its key. */
static int read_result(const char *dir, const char *name, struct buf *chain, struct buf *key)
{
	char *crt = xasprintf("%s/%s/cert.pem", dir, name);
	char *kp = xasprintf("%s/private/%s/key.pem", dir, name);
	char *c = NULL, *k = NULL;
	size_t cn = 0, kn = 0;
	int err = fs_read_file(crt, PEM_MAX, &c, &cn);
	if (!err)
		err = fs_read_file(kp, PEM_MAX, &k, &kn);
	if (!err) {
		buf_add(chain, c, cn);
		buf_add(key, k, kn);
	}
	if (k)
		explicit_bzero(k, kn);
	free(c);
	free(k);
	free(crt);
	free(kp);
	return err;
}

int acme_issue(const char *root, const char *app, const char *self, const struct strvec *names,
	       const struct acme_opts *o, int *issued, struct buf *chain, struct buf *key)
{
	struct acme_run a = { 0 };
	struct strvec args = STRVEC_INIT;
	char *akey = NULL, *dir = NULL, *hook = paths_acme_file(root, ACME_HOOK_NAME);
	char last[512] = "";
	int status = 0;
	*issued = 0;
	int err = acme_dirs_make(root, app);
	if (!err)
		err = acme_run_open(root, &a);
	if (!err)
		err = link_to(self, hook);
	if (!err)
		err = account(root, &a, o, &akey);
	if (!err)
		err = app_dir(root, app, akey, &dir);
	if (!err) {
		const char *w[] = { "-c", dir, "-a", a.directory, "-h", hook, "-t", "EC", NULL };
		for (size_t i = 0; w[i]; i++)
			strvec_push(&args, w[i]);
		if (o->force)
			strvec_push(&args, "-f");
		strvec_push(&args, "issue");
		for (size_t i = 0; i < names->n; i++)
			strvec_push(&args, names->v[i]);
		err = uacme(root, &a.prefix, &args, o, &status, last);
	}
	/* 1: the certificate there is not due for renewal */
	if (!err && status > 1)
		err = sw_error_set(SW_ERROR, "the CA gave no certificate: %s",
				   *last ? last : "uacme failed");
	if (!err) {
		*issued = status == 0;
		err = read_result(dir, names->v[0], chain, key);
	}
	acme_run_release(&a);
	strvec_clear(&args);
	free(akey);
	free(dir);
	free(hook);
	return err;
}

int acme_due(time_t starts, time_t expires, time_t now)
{
	return now >= expires - (expires - starts) / 3;
}

/* 1 when an app, or the dashboard, has certs:auto on. */
static int any_enabled(const char *root)
{
	struct strvec apps = STRVEC_INIT;
	int found = acme_enabled(root, CERTS_DASHBOARD);
	app_list(root, &apps);
	for (size_t i = 0; !found && i < apps.n; i++)
		found = acme_enabled(root, apps.v[i]);
	strvec_clear(&apps);
	return found;
}

int acme_schedule_ensure(const char *root)
{
	if (!any_enabled(root))
		return 0;
	return supervisor_schedule_ensure(root, ACME_SERVICE, "the renewal of automatic certificates",
					  "certs:auto:schedule");
}
