#define _GNU_SOURCE
#include "runtime/router.h"

#include "runtime/logs.h"
#include "runtime/host.h"
#include "runtime/services.h"
#include "runtime/supervisor.h"
#include "store/app.h"
#include "store/apphosts.h"
#include "store/certs.h"
#include "store/domains.h"
#include "store/formation.h"
#include "store/hosts.h"
#include "store/hsts.h"
#include "store/ledger.h"
#include "store/maintenance.h"
#include "store/paths.h"
#include "store/settings.h"
#include "util/caps.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/net.h"
#include "util/proc.h"
#include "util/run.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define SERVICE "router"
#define PAGE_URI "/.slipway-router-page"
#define UPGRADE_LOCATION "@slipway_upgrade"
#define DRAIN_MAX_MS 15000
#define STARTING_MAX_MS 10000 /* from s6 starting nginx until it wrote its pid */
#define GENERATION_URI "/.slipway-router-generation"
#define GENERATION_FILE "generation.conf"
#define TLS_FILE "tls.conf"           /* the HTTPS port's default server, while a certificate is live */
#define HTTPS_PORT_FILE "https-port" /* the HTTPS port, kept once listened on */
/* the dashboard's server block, an http-level file (an operator's nginx includes http*.conf) */
#define DASHBOARD_FILE "http-dashboard.conf"

static char *router_dir(const char *root)
{
	return paths_router_dir(root);
}

static char *router_path(const char *root, const char *name)
{
	return paths_router_file(root, name);
}

/* slipway.nginx, as an absolute path when it is found in the sbin and bin directories. */
static int nginx_prog(const char *root, char **prog)
{
	struct settings *s = NULL;
	(void)root;
	int err = settings_open(&s, NULL, NULL);
	if (!err)
		err = settings_string(s, &SETTING_NGINX, prog);
	settings_free(s);
	if (!err && !strchr(*prog, '/')) {
		static const char *const dirs[] = { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
						    "/usr/bin", "/sbin", "/bin", NULL };
		for (size_t i = 0; dirs[i]; i++) {
			char *p = xasprintf("%s/%s", dirs[i], *prog);
			if (access(p, X_OK) == 0) {
				free(*prog);
				*prog = p;
				break;
			}
			free(p);
		}
	}
	return err;
}

/* "1.2.3.4" or "" */
static int address_valid(const char *a)
{
	size_t n = strlen(a);
	return n < 64 && strspn(a, "0123456789.") == n;
}

/* slipway.router: 1 for the operator's own nginx ("system"), 0 for Slipway's ("own"). */
static int router_mode(int *system)
{
	struct settings *s = NULL;
	char *v = NULL;
	int err = settings_open(&s, NULL, NULL);
	if (!err)
		err = settings_string(s, &SETTING_ROUTER, &v);
	if (!err && strcmp(v, "own") && strcmp(v, "system"))
		err = settings_blame(s, &SETTING_ROUTER, sw_error_set(SW_EINVALID,
			"invalid value '%s': use own (Slipway runs nginx) or system (an nginx of yours)", v));
	*system = !err && !strcmp(v, "system");
	free(v);
	settings_free(s);
	return err;
}

int router_system(void)
{
	int system = 0;
	return router_mode(&system) == 0 && system;
}

/* The root as the operator's nginx may read it in its configuration: plain path characters. */
static int root_plain(const char *root)
{
	size_t n = strlen(root);
	if (root[0] != '/' || strspn(root, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "0123456789/._-") != n)
		return sw_error_set(SW_EINVALID, "slipway.router system needs a root whose path has "
				    "only letters, digits and / . _ - (not '%s')", root);
	return 0;
}

/*
 * A port setting of the router: its value, else the one kept in the
 * router's file kept (chosen when it was first listened on), else
 * preferred when it can be bound, else fallback.
 */
static int listen_port(const char *root, struct settings *s, const struct setting *def,
		       const char *kept, const char *addr, int preferred, int fallback, int *out)
{
	char *port = NULL;
	int err = settings_string(s, def, &port);
	*out = 0;
	if (!err && port) {
		char *end = NULL;
		long p = strtol(port, &end, 10);
		if (!*port || *end || p < 1 || p > 65535)
			err = settings_blame(s, def, sw_error_set(SW_EINVALID,
				"invalid value '%s': use a TCP port, 1 to 65535", port));
		else
			*out = (int)p;
	} else if (!err) {
		/* the default is chosen once, when the router first listens on it, and kept */
		char *path = router_path(root, kept), *text = NULL;
		if (fs_read_file(path, 32, &text, NULL) == 0)
			*out = atoi(text);
		free(text);
		free(path);
		if (*out < 1 || *out > 65535)
			*out = net_port_listenable(addr ? addr : "", preferred) ? preferred : fallback;
	}
	free(port);
	return err;
}

int router_listen_read(const char *root, struct router_listen *l)
{
	struct settings *s = NULL;
	char *addr = NULL, *domain = NULL;
	int err = settings_open(&s, NULL, NULL);

	memset(l, 0, sizeof(*l));
	if (!err)
		err = settings_string(s, &SETTING_HTTP_ADDRESS, &addr);
	if (!err)
		err = settings_string(s, &SETTING_DOMAIN, &domain);
	if (!err)
		err = listen_port(root, s, &SETTING_HTTP_PORT, "port", addr, 80, 5000, &l->port);
	if (!err)
		err = listen_port(root, s, &SETTING_HTTPS_PORT, HTTPS_PORT_FILE, addr, 443, 5443,
				  &l->https_port);
	if (err)
		goto done;
	if (addr && !address_valid(addr)) {
		err = settings_blame(s, &SETTING_HTTP_ADDRESS, sw_error_set(SW_EINVALID,
			"invalid value '%s': use an IPv4 address such as 127.0.0.1, or nothing for every address",
			addr));
		goto done;
	}
	snprintf(l->address, sizeof(l->address), "%s", addr ? addr : "");
	if (!domain_name_valid(domain)) {
		err = settings_blame(s, &SETTING_DOMAIN, sw_error_set(SW_EINVALID,
			"invalid value '%s': use a host name such as example.com", domain));
		goto done;
	}
	snprintf(l->domain, sizeof(l->domain), "%s", domain);
done:
	free(addr);
	free(domain);
	settings_free(s);
	return err;
}

int router_installed(const char *root)
{
	char *prog = NULL;
	int ok = 0;
	if (nginx_prog(root, &prog) == 0) {
		const char *argv[] = { prog, "-v", NULL };
		struct run_opts o = RUN_OPTS_INIT;
		int status = -1;
		o.argv = argv;
		o.timeout_sec = 10;
		ok = run_child(&o, &status) == 0 && status == 0;
	}
	free(prog);
	return ok;
}

/*
 * The pid nginx wrote to nginx.pid, while that process runs in the
 * service's directory; 0 otherwise.  nginx writes it once its signal
 * handlers are in place: before that a SIGHUP would end it, not reload it.
 */
static pid_t pidfile_pid(const char *root)
{
	char *pidfile = router_path(root, "nginx.pid"), *text = NULL;
	long pid = 0;
	if (fs_read_file(pidfile, 32, &text, NULL) == 0 && sscanf(text, "%ld", &pid) == 1)
		pid = supervisor_service_own_pid(root, SERVICE, pid);
	free(text);
	free(pidfile);
	return pid > 0 ? (pid_t)pid : 0;
}

/*
 * The nginx master's pid, 0 when the router does not run: the one in
 * nginx.pid, else what s6 says (nginx starting, or gone without removing
 * the file).
 */
static pid_t master_pid(const char *root)
{
	struct service_state st;
	pid_t pid = pidfile_pid(root);
	if (pid)
		return pid;
	if (supervisor_service_state(root, SERVICE, &st) < 0 || !st.up)
		return 0;
	return (pid_t)st.pid;
}

int router_running(const char *root)
{
	return master_pid(root) > 0;
}

int router_wait_running(const char *root, int seconds)
{
	/* running here means nginx has written its pid: it listens and takes signals */
	for (int i = 0; i < seconds * 20; i++) {
		if (pidfile_pid(root))
			return 1;
		nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	return pidfile_pid(root) > 0;
}



/* app names are [a-z0-9-]; nginx names take [a-z0-9_] */
static void nginx_name(char *out, size_t size, const char *app)
{
	snprintf(out, size, "%s", app);
	for (char *p = out; *p; p++)
		if (*p == '-')
			*p = '_';
}

static void add_listen_on(struct buf *b, const struct router_listen *l, int port,
			  const char *extra)
{
	if (l->address[0])
		buf_addf(b, "\tlisten %s:%d%s;\n", l->address, port, extra);
	else
		buf_addf(b, "\tlisten %d%s;\n", port, extra);
}

static void add_listen(struct buf *b, const struct router_listen *l, const char *extra)
{
	add_listen_on(b, l, l->port, extra);
}

/* Every listen on the HTTPS port says the same: TLS, and HTTP/2 offered. */
#define HTTPS_LISTEN " ssl http2"

/* What one client and the whole router may hold: the router's slipway.* limits. */
struct router_limits {
	uint64_t connections;        /* each worker's, clients' and apps' together */
	uint64_t client_connections; /* one client address's requests at once */
	uint64_t max_body;           /* a request's body, in bytes */
};

static int limits_read(struct router_limits *lim)
{
	struct settings *s = NULL;
	int err = settings_open(&s, NULL, NULL);
	/* their bounds are the rows' (store/settings.c) */
	if (!err)
		err = settings_count(s, &SETTING_ROUTER_CONNECTIONS, &lim->connections);
	if (!err)
		err = settings_count(s, &SETTING_ROUTER_CLIENT_CONNECTIONS, &lim->client_connections);
	if (!err)
		err = settings_size(s, &SETTING_MAX_REQUEST_SIZE, &lim->max_body);
	settings_free(s);
	return err;
}

/*
 * The router's own limits, Heroku's router's where it has them: a request's
 * headers must arrive within its 30 s request timeout, and a connection
 * that sends or takes nothing for 55 s (its idle timeout) is closed.
 * Bodies are streamed to the app as they arrive, as Heroku does, and
 * responses wait in memory for a slow client: nothing a client sends or
 * is slow to take is written to the root's disk.  One client address
 * holds at most client_connections requests at once (429 beyond), so it
 * cannot take every connection of the router from the others.
 */
static void limits_conf(const struct router_limits *lim, struct buf *b)
{
	buf_addf(b, "\tlimit_conn_zone $binary_remote_addr zone=slipway_clients:10m;\n"
		    "\tlimit_conn slipway_clients %llu;\n"
		    "\tlimit_conn_status 429;\n"
		    "\tlimit_conn_log_level warn;\n"
		    "\tclient_header_timeout 30s;\n"
		    "\tclient_body_timeout 55s;\n"
		    "\tsend_timeout 55s;\n"
		    "\tkeepalive_timeout 55s;\n"
		    "\tclient_max_body_size %llu;\n"
		    "\tclient_body_buffer_size 16k;\n"
		    "\tproxy_request_buffering off;\n"
		    "\tproxy_max_temp_file_size 0;\n",
		 (unsigned long long)lim->client_connections, (unsigned long long)lim->max_body);
}

static void https_redirect(struct buf *b, const struct router_listen *l);
static void acme_location(struct buf *b, const char *root_abs);

/*
 * The dashboard's server block, router/http-dashboard.conf: its host passed
 * to its socket over SCGI (dashboard/server.h), with only what it reads.
 * Slipway's nginx includes it; an operator's includes it with http.conf
 * (slipway.router system).  A root whose path nginx could misread gets none.
 * With its certificate (cert: its file as nginx reads it), it is served on
 * the HTTPS port, and HTTP is redirected there as an app's is.  Its HTTP
 * server answers the ACME challenges first, as an app's does (root_abs:
 * the root for an operator's nginx, NULL for Slipway's).  hsts: the
 * max-age of its HTTPS answers' Strict-Transport-Security (0: none).
 */
static void dashboard_conf(const char *root, const char *root_abs, const struct router_listen *l,
			   const char *host, const char *cert, long hsts, struct buf *b)
{
	buf_adds(b, "# written by slipway: the dashboard\n");
	if (!host || root_plain(root) < 0) {
		buf_adds(b, "# none: its host or the root's path cannot be written here\n");
		return;
	}
	if (cert) {
		buf_addf(b, "server {\n");
		add_listen(b, l, "");
		buf_addf(b, "\tserver_name %s;\n", host);
		acme_location(b, root_abs);
		https_redirect(b, l);
		buf_adds(b, "}\n");
	}
	char *sock = paths_dashboard_socket(root), *assets = paths_dashboard_kind(root, "static");
	buf_adds(b, "server {\n");
	if (cert) {
		add_listen_on(b, l, l->https_port, HTTPS_LISTEN);
		buf_addf(b, "\tssl_certificate %s;\n\tssl_certificate_key %s;\n", cert, cert);
		if (hsts)
			buf_addf(b, "\tadd_header Strict-Transport-Security \"max-age=%ld\" always;\n",
				 hsts);
	} else {
		add_listen(b, l, "");
		acme_location(b, root_abs);
	}
	/* the scripts, named by their content (dashboard/assets.h): kept for good */
	buf_addf(b, "	server_name %s;\n"
		    "	client_max_body_size 64k;\n"
		    "	location /static/ {\n"
		    "		alias %s/;\n"
		    "		types { text/javascript js; text/css css; }\n"
		    "		default_type application/octet-stream;\n"
		    "		expires max;\n"
		    "		add_header X-Content-Type-Options nosniff always;\n"
		    "	}\n"
		    "	location / {\n"
		    "		scgi_param REQUEST_METHOD $request_method;\n"
		    "		scgi_param REQUEST_URI $request_uri;\n"
		    "		scgi_param DOCUMENT_URI $document_uri;\n"
		    "		scgi_param QUERY_STRING $query_string;\n"
		    "		scgi_param CONTENT_TYPE $content_type;\n"
		    "		scgi_param SCGI 1;\n"
		    "		scgi_param REQUEST_SCHEME $scheme;\n"
		    "		scgi_param HTTPS $https if_not_empty;\n"
		    "		scgi_param REMOTE_ADDR $remote_addr;\n"
		    "		scgi_param SERVER_PORT $server_port;\n"
		    "		scgi_pass unix:%s;\n"
		    "	}\n"
		    "}\n", host, assets, sock);
	free(assets);
	free(sock);
}

/* http-dashboard.conf as it is to be now: its host, its certificate when it has one. */
static int dashboard_text(const char *root, const struct router_listen *l, int system,
			  struct buf *b)
{
	char *host = NULL, *cert = NULL;
	struct hsts hsts = HSTS_INIT;
	int err = domains_dashboard_host(&host);
	if (!err && certs_has(root, CERTS_DASHBOARD))
		cert = system ? paths_cert_file(root, CERTS_DASHBOARD)
			      : paths_cert_from_router(CERTS_DASHBOARD);
	if (!err)
		err = hsts_read(root, CERTS_DASHBOARD, &hsts);
	if (!err)
		dashboard_conf(root, system ? root : NULL, l, host, cert,
			       hsts.on ? hsts_max_age(hsts.step) : 0, b);
	free(cert);
	free(host);
	return err;
}

static void main_conf(const struct router_listen *l, const struct router_limits *lim,
		      struct buf *b)
{
	buf_adds(b, "# written by slipway: the router (every path is relative to this directory)\n"
		    "worker_processes auto;\n"
		    "pid nginx.pid;\n"
		    "error_log logs/error.log warn;\n");
	if (geteuid() == 0) {
		/* the workers run as the server user, never as another one */
		struct passwd *pw = getpwuid(geteuid());
		struct group *gr = getgrgid(getegid());
		if (pw && gr)
			buf_addf(b, "user %s %s;\n", pw->pw_name, gr->gr_name);
	}
	/* a proxied request holds two connections, each a file; logs and temp files take more */
	buf_addf(b, "worker_shutdown_timeout 10s;\n"
		    "worker_rlimit_nofile %llu;\n"
		    "events { worker_connections %llu; }\n"
		    "http {\n",
		 (unsigned long long)lim->connections * 2, (unsigned long long)lim->connections);
	limits_conf(lim, b);
	buf_adds(b, "\taccess_log off;\n"
		    "\tserver_tokens off;\n"
		    "\tclient_body_temp_path tmp/body;\n"
		    "\tproxy_temp_path tmp/proxy;\n"
		    "\tfastcgi_temp_path tmp/fastcgi;\n"
		    "\tuwsgi_temp_path tmp/uwsgi;\n"
		    "\tscgi_temp_path tmp/scgi;\n"
		    "\tserver_names_hash_bucket_size 128;\n"
		    "\ttypes { text/html html; }\n"
		    "\tdefault_type application/octet-stream;\n"
		    "\tinclude http.conf;\n"
		    "\tserver {\n");
	add_listen(b, l, " default_server");
	/* the digest of what it loaded, for server:status; asked from this machine only */
	buf_adds(b, "\t\tlocation = " GENERATION_URI " { allow " NET_LOOPBACK "; ");
	if (l->address[0])
		buf_addf(b, "allow %s; ", l->address);
	buf_adds(b, "deny all; default_type text/plain; include " GENERATION_FILE "; }\n");
	buf_adds(b, "\t\tlocation / { return 404; }\n"
		    "\t\terror_page 404 " PAGE_URI ";\n"
		    "\t\tlocation = " PAGE_URI " { internal; alias pages/no-such-app.html; }\n"
		    "\t}\n"
		    "\tinclude apps/*.conf;\n"
		    "\tinclude " TLS_FILE ";\n"
		    "\tinclude " DASHBOARD_FILE ";\n"
		    "}\n");
}

/*
 * What every app's file relies on, at the http level: the request id and
 * Heroku's router headers.  Slipway's own nginx includes it; an operator's
 * nginx includes it once in its http block (slipway.router system).
 */
static void http_conf(struct buf *b)
{
	buf_adds(b, "# written by slipway: Heroku's router headers; a valid X-Request-Id of the "
		    "client's is kept\n"
		    "map $http_x_request_id $slipway_request_id {\n"
		    "\t\"~^[A-Za-z0-9+/=_.-]{20,200}$\" $http_x_request_id;\n"
		    "\tdefault $request_id;\n"
		    "}\n"
		    "# a WebSocket (or other upgrade) goes through; other connections to apps are kept alive\n"
		    "map $http_upgrade $slipway_connection {\n"
		    "\tdefault upgrade;\n"
		    "\t\"\" \"\";\n"
		    "}\n"
		    "proxy_http_version 1.1;\n"
		    "proxy_set_header Upgrade $http_upgrade;\n"
		    "proxy_set_header Connection $slipway_connection;\n"
		    "proxy_set_header Host $http_host;\n"
		    "proxy_set_header X-Request-Id $slipway_request_id;\n"
		    "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
		    "proxy_set_header X-Forwarded-Proto $scheme;\n"
		    "proxy_set_header X-Forwarded-Port $server_port;\n"
		    "# the client's address as the router saw it; a client's own Forwarded never reaches the app\n"
		    "proxy_set_header X-Real-IP $remote_addr;\n"
		    "proxy_set_header Forwarded \"\";\n"
		    "proxy_connect_timeout 5s;\n"
		    "proxy_read_timeout 30s;\n"
		    "proxy_next_upstream error timeout;\n");
}

/*
 * An app served by run hosts too: a request a host's router could not
 * answer (no connection, a timeout, a 502 or 503 of its own: its instances
 * gone) goes to the next host.  nginx never sends a non-idempotent request
 * (POST, PATCH, LOCK) again once it reached a host: without the
 * "non_idempotent" flag, which is not given, only GET, HEAD, PUT, DELETE
 * and OPTIONS are retried.
 */
#define FRONT_RETRY "\t\tproxy_next_upstream error timeout http_502 http_503;\n"
/* A run host's router is left out for that long after a failed request. */
#define FRONT_FAIL_TIMEOUT "10s"

/* What the router does with an app's requests. */
enum app_state { APP_RUNNING, APP_NO_WEB, APP_MAINTENANCE };

/* How an app's server answers: its instances, or one of its pages. */
static void app_locations(struct buf *b, const char *name, enum app_state state, const char *pages,
			  int front)
{
	/* an upgraded connection (a WebSocket) is closed after 55 s idle, as Heroku's router does */
	if (state == APP_RUNNING)
		buf_addf(b, "\tlocation / {\n"
			    "\t\tif ($http_upgrade) { return 418; }\n"
			    "\t\tproxy_pass http://slipway_%s;\n"
			    "%s"
			    "\t}\n"
			    "\tlocation " UPGRADE_LOCATION " {\n"
			    "\t\tproxy_pass http://slipway_%s;\n"
			    "\t\tproxy_read_timeout 55s;\n"
			    "\t\tproxy_send_timeout 55s;\n"
			    "\t}\n"
			    "\terror_page 418 = " UPGRADE_LOCATION ";\n"
			    "\terror_page 502 503 504 =503 " PAGE_URI ";\n"
			    "\tlocation = " PAGE_URI " { internal; alias %s/app-error.html; }\n",
			 name, front ? FRONT_RETRY : "", name, pages);
	else
		buf_addf(b, "\tlocation / { return 503; }\n"
			    "\terror_page 503 " PAGE_URI ";\n"
			    "\tlocation = " PAGE_URI " { internal; alias %s/%s.html; }\n",
			 pages, state == APP_MAINTENANCE ? "maintenance" : "app-error");
}

/*
 * An app with a certificate: its HTTP requests are sent to HTTPS (301 for
 * GET and HEAD, 308 for the rest, which keeps the method and body), but
 * for the ACME challenges' path, which stays on HTTP (acme_location()).
 */
static void https_redirect(struct buf *b, const struct router_listen *l)
{
	char port[16] = "";
	if (l->https_port != 443)
		snprintf(port, sizeof(port), ":%d", l->https_port);
	buf_addf(b, "\tlocation / {\n"
		    "\t\tif ($request_method ~ ^(GET|HEAD)$) { return 301 https://$host%s$request_uri; }\n"
		    "\t\treturn 308 https://$host%s$request_uri;\n"
		    "\t}\n", port, port);
}

/*
 * The ACME HTTP-01 answers (runtime/acme.h), from their directory, before
 * anything else the app's HTTP server does: maintenance, redirects, its
 * instances.  No file: 404.
 */
static void acme_location(struct buf *b, const char *root_abs)
{
	char *dir = root_abs ? paths_acme_webroot(root_abs) : paths_acme_webroot_from_router();
	buf_addf(b, "\tlocation ^~ /.well-known/acme-challenge/ {\n"
		    "\t\talias %s/;\n"
		    "\t\tdefault_type text/plain;\n"
		    "\t}\n", dir);
	free(dir);
}

/* The first lines of one of the app's servers: its host names and its access log. */
static void server_head(struct buf *b, const char *app, const char *name,
			const struct router_listen *l, const struct strvec *domains, const char *logs)
{
	buf_addf(b, "\tserver_name %s.%s", app, l->domain);
	for (size_t i = 0; domains && i < domains->n; i++)
		buf_addf(b, " %s", domains->v[i]);
	buf_adds(b, ";\n");
	/* lines are written in batches, at the latest a second after the request */
	buf_addf(b, "\taccess_log %s/%s/router/current slipway_%s buffer=32k flush=1s;\n", logs,
		 app, name);
}

/*
 * The app's file.  cert is the file of its certificate as nginx reads it
 * (NULL: it has none): then it is served on the HTTPS port too, and its
 * HTTP requests are redirected there.  hsts is the max-age of its
 * Strict-Transport-Security header (store/hsts.h), sent on every HTTPS
 * answer (0: none).
 */
static void app_conf(const char *app, const struct router_listen *l, enum app_state state,
		     const struct strvec *labels, const struct strvec *addresses, size_t nlocal,
		     const struct strvec *domains, const char *root_abs, const char *cert,
		     long hsts, struct buf *b)
{
	int front = labels->n > nlocal;
	/* relative to the prefix of Slipway's nginx, or absolute for an operator's */
	char *pages = root_abs ? paths_router_file(root_abs, "pages") : xstrdup("pages");
	char *logs = root_abs ? paths_logs_dir(root_abs) : xstrdup("../logs");
	char name[64];
	nginx_name(name, sizeof(name), app);
	buf_addf(b, "# written by slipway: the app %s\n", app);
	if (state == APP_RUNNING) {
		buf_addf(b, "upstream slipway_%s {\n", name);
		/* this machine's instances, then the routers of run hosts (passive failure detection) */
		for (size_t i = 0; i < labels->n; i++)
			if (i < nlocal)
				buf_addf(b, "\tserver %s max_fails=0;\n", addresses->v[i]);
			else
				buf_addf(b, "\tserver %s max_fails=1 fail_timeout=" FRONT_FAIL_TIMEOUT
					    ";  # host %s\n", addresses->v[i], labels->v[i]);
		buf_adds(b, "\tkeepalive 16;\n}\n");
		buf_addf(b, "map $upstream_addr $slipway_dyno_%s {\n", name);
		for (size_t i = 0; i < labels->n; i++)
			buf_addf(b, "\t\"%s\" %s;\n", addresses->v[i], labels->v[i]);
		buf_adds(b, "\tdefault \"-\";\n}\n");
	}
	buf_addf(b, "map $status $slipway_at_%s {\n", name);
	/* with a certificate, HTTP's redirects (and the ACME path's 404) are no app's error */
	if (cert && state != APP_RUNNING)
		buf_adds(b, "\t301 at=info;\n\t308 at=info;\n\t404 at=info;\n");
	/* an ACME answer is none either */
	if (state != APP_RUNNING)
		buf_adds(b, "\t200 at=info;\n");
	if (state == APP_MAINTENANCE)
		buf_adds(b, "\tdefault 'at=error code=H80 desc=\"Maintenance mode\"';\n");
	else if (state == APP_NO_WEB)
		buf_adds(b, "\tdefault 'at=error code=H14 desc=\"No web processes running\"';\n");
	else
		buf_adds(b, "\t502 'at=error code=H13 desc=\"Connection closed without response\"';\n"
			    "\t503 'at=error code=H10 desc=\"App not answering\"';\n"
			    "\t504 'at=error code=H12 desc=\"Request timeout\"';\n"
			    "\tdefault at=info;\n");
	buf_adds(b, "}\n");
	char dyno[80];
	snprintf(dyno, sizeof(dyno), state == APP_RUNNING ? "$slipway_dyno_%s" : "-", name);
	buf_addf(b, "log_format slipway_%s '$msec $slipway_at_%s method=$request_method "
		    "path=\"$request_uri\" host=$host request_id=$slipway_request_id "
		    "fwd=\"$remote_addr\" dyno=%s connect=$upstream_connect_time "
		    "service=$upstream_response_time status=$status bytes=$bytes_sent "
		    "protocol=$scheme';\n", name, name, dyno);
	buf_adds(b, "server {\n");
	add_listen(b, l, "");
	server_head(b, app, name, l, domains, logs);
	acme_location(b, root_abs);
	if (cert)
		https_redirect(b, l);
	else
		app_locations(b, name, state, pages, front);
	buf_adds(b, "}\n");
	if (cert) {
		buf_adds(b, "server {\n");
		add_listen_on(b, l, l->https_port, HTTPS_LISTEN);
		server_head(b, app, name, l, domains, logs);
		/* one file holds the chain and the key (store/certs.h) */
		buf_addf(b, "\tssl_certificate %s;\n\tssl_certificate_key %s;\n", cert, cert);
		/* HTTPS answers only: a browser takes it from nowhere else (RFC 6797) */
		if (hsts)
			buf_addf(b, "\tadd_header Strict-Transport-Security \"max-age=%ld\" always;\n",
				 hsts);
		app_locations(b, name, state, pages, front);
		buf_adds(b, "}\n");
	}
	free(pages);
	free(logs);
}

/* `nginx -t` of the whole configuration; *msg (malloc'ed) is nginx's complaint. */
static void collect(const char *line, size_t len, void *ctx)
{
	struct buf *b = ctx;
	buf_add(b, line, len);
	buf_adds(b, "\n");
}

/* run_opts.before_exec: nginx gets the capabilities slipway cleared at start (util/caps.h). */
static void nginx_caps(void *ctx)
{
	(void)ctx;
	caps_restore_inherited();
}

/* unshare (util-linux): a user and a network namespace, where nginx -t may bind any port */
#define OWN_NET "/usr/bin/unshare", "--user", "--map-current-user", "--keep-caps", "--net", "--"

/*
 * nginx WHAT on the root's configuration; *msg is its last complaint when
 * it fails.  own_net: in a network namespace of its own (OWN_NET).
 */
static int nginx_run(const char *root, const char *what, int own_net, char **msg)
{
	char *prog = NULL, *prefix = NULL;
	struct buf said = BUF_INIT;
	int status = -1, err = nginx_prog(root, &prog);
	*msg = NULL;
	if (err)
		return err;
	prefix = router_path(root, "");
	const char *argv[] = { OWN_NET, prog, what, "-q", "-p", prefix, "-c", "nginx.conf",
			       "-e", "logs/error.log", NULL };
	const size_t skip = own_net ? 0 : sizeof((const char *[]){ OWN_NET }) / sizeof(char *);
	struct run_opts o = RUN_OPTS_INIT;
	o.argv = argv + skip;
	o.timeout_sec = 30;
	o.on_line = collect;
	o.ctx = &said;
	o.before_exec = nginx_caps; /* nginx -t binds the ports it checks */
	err = run_child(&o, &status);
	if (err == SW_ENOTFOUND && own_net)
		err = sw_error_set(SW_ERROR, "unshare is not installed: install the util-linux package");
	else if (err == SW_ENOTFOUND)
		err = sw_error_set(SW_ERROR, "nginx is not installed: install the nginx-light package "
				   "(or set slipway.nginx)");
	else if (!err && status) {
		/* its last "nginx: [emerg] ..." line says what is wrong */
		char *text = buf_detach(&said), *last = NULL;
		for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n"))
			if (strstr(l, "[emerg]") || strstr(l, "[alert]") || !last)
				last = l;
		*msg = xstrdup(last ? last : "nginx -t failed");
		free(text);
		err = sw_error_set(SW_ERROR, "%s", *msg);
	}
	buf_release(&said);
	free(prefix);
	free(prog);
	return err;
}

/* The master's children now that still hold none of its listening sockets: they are shutting down. */
static size_t shutting_down(pid_t master, const unsigned long *socks, int nsocks, pid_t *out,
			    size_t max)
{
	pid_t now[64];
	size_t m = proc_children(master, now, 64), n = 0;
	for (size_t i = 0; i < m && i < 64; i++)
		if (net_holds_socket(now[i], socks, nsocks) == 0 && n < max)
			out[n++] = now[i];
	return n;
}

/*
 * Reloads the running router and waits until the workers of the old
 * configuration take no new connection: they have closed their listening
 * sockets (nginx tells them 100 ms after it started the new ones), or are
 * gone.  When the sockets cannot be told, until they are gone.
 */
static int reload_and_drain(const char *root)
{
	pid_t master = pidfile_pid(root);
	pid_t old[64];
	unsigned long socks[16];
	/* an nginx still starting is waited for: it may have read the configuration before it changed */
	for (int i = 0; !master && i < STARTING_MAX_MS / 10 && master_pid(root); i++) {
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
		master = pidfile_pid(root);
	}
	if (!master)
		return 0;
	int nsocks = net_listeners_held(master, socks, 16);
	size_t n = proc_children(master, old, 64);
	if (n > 64)
		n = 64;
	/* master is the process s6 runs for the router: signalled directly, without an s6-svc */
	if (kill(master, SIGHUP) < 0)
		return sw_error_errno(SW_ERROR, "cannot reload the router");
	int err;
	long long end = run_now_ms() + DRAIN_MAX_MS;
	/* nginx starts the new workers, waits 100 ms, then lets the old ones go: no need to look sooner */
	nanosleep(&(struct timespec){ 0, 95 * 1000 * 1000 }, NULL);
	for (;;) {
		size_t left = 0;
		pid_t now[64];
		size_t m = proc_children(master, now, 64);
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < m && k < 64; k++)
				left += old[i] == now[k] &&
					(nsocks <= 0 || net_holds_socket(old[i], socks, nsocks) != 0);
		if (!left)
			return 0;
		if (run_now_ms() > end) {
			char *log = router_path(root, "logs/error.log");
			err = sw_error_set(SW_ETIMEOUT, "the router did not reload within %d s (see %s)",
					   DRAIN_MAX_MS / 1000, log);
			free(log);
			return err;
		}
		nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
	}
}

int router_drain(const char *root)
{
	int system = 0;
	pid_t master = router_mode(&system) == 0 && !system ? pidfile_pid(root) : 0;
	unsigned long socks[16];
	int nsocks = master ? net_listeners_held(master, socks, 16) : 0;
	pid_t left[64];
	if (nsocks <= 0)
		return 0;
	long long end = run_now_ms() + DRAIN_MAX_MS;
	while (shutting_down(master, socks, nsocks, left, 64)) {
		if (run_now_ms() > end)
			return sw_error_set(SW_ETIMEOUT, "the router's old workers still run after %d s",
					    DRAIN_MAX_MS / 1000);
		nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
	}
	return 0;
}

static int system_reload(const char *root);

int router_logs_rotate(const char *root, int *rotated)
{
	struct strvec apps = STRVEC_INIT;
	int system = 0, err = app_list(root, &apps);
	*rotated = 0;
	for (size_t i = 0; !err && i < apps.n; i++) {
		char *logs = logs_app_dir(root, apps.v[i]), *dir = xasprintf("%s/router", logs);
		*rotated += logs_rotate(dir);
		free(dir);
		free(logs);
	}
	strvec_clear(&apps);
	if (err || !*rotated || (err = router_mode(&system)))
		return err;
	if (system)
		return system_reload(root);
	if (!router_running(root))
		return 0; /* it opens the new files when it starts */
	/* SIGUSR1: nginx reopens its logs */
	if ((err = supervisor_service_signal(root, SERVICE, SIGUSR1)))
		err = sw_error_prefix(err, "cannot make the router reopen its logs: ");
	return err;
}

/* How many web instances the app's formation runs over all its hosts; -1 when unknown. */
static int web_total(const char *root, const char *app)
{
	struct release cur = RELEASE_INIT;
	int total = -1;
	if (ledger_read_current(root, app, LEDGER_READ_PROCS, &cur) == 0 && cur.procs.n) {
		int *counts = xcalloc(cur.procs.n, sizeof(*counts));
		total = 0; /* a release without web runs none */
		if (formation_counts(root, app, &cur, counts) < 0)
			total = -1;
		for (size_t i = 0; total >= 0 && i < cur.procs.n; i++)
			if (!strcmp(cur.procs.items[i].name, "web"))
				total = counts[i];
		free(counts);
	}
	release_release(&cur);
	return total;
}

/*
 * The run hosts of serve whose share of the formation has no web instance
 * (store/formation.h formation_share()) go: a request sent there would
 * find none.  Kept when the formation cannot be read.
 */
static void drop_no_web(const char *root, const char *app, const struct host_rec *v, size_t n,
			struct strvec *serve)
{
	struct strvec order = STRVEC_INIT, keep = STRVEC_INIT;
	int total = web_total(root, app);
	if (total < 0 || apphosts_placement_of(root, app, v, n, &order) < 0 || !order.n) {
		strvec_clear(&order);
		return;
	}
	for (size_t i = 0; i < serve->n; i++) {
		size_t at = 0;
		while (at < order.n && strcmp(order.v[at], serve->v[i]))
			at++;
		if (!strcmp(serve->v[i], HOST_LOCAL) || at == order.n ||
		    formation_share(total, at, order.n) > 0)
			strvec_push(&keep, serve->v[i]);
	}
	strvec_clear(serve);
	*serve = keep;
	strvec_clear(&order);
}

/*
 * The front: keeps the local instances in labels and addresses only when
 * "local" serves the app (store/apphosts.h), and adds after them the
 * routers of the run hosts that serve it and run some of its web
 * instances (their names as labels), but without's (NULL: none) and those
 * whose router is unknown.  *nlocal gets how many are this machine's
 * instances.
 */
static int front_hosts(const char *root, const char *app, const char *without,
		       struct strvec *labels, struct strvec *addresses, size_t *nlocal)
{
	struct strvec serve = STRVEC_INIT;
	struct host_rec *v = NULL;
	size_t n = 0;
	int all = 0, err = hosts_read(root, &v, &n);
	if (!err)
		err = apphosts_select(root, app, v, n, &serve, &all);
	if (err < 0)
		goto done;
	if (n)
		drop_no_web(root, app, v, n, &serve);
	if (!strvec_has(&serve, HOST_LOCAL)) {
		strvec_clear(labels);
		strvec_clear(addresses);
	}
	*nlocal = labels->n;
	for (size_t i = 0; i < n; i++)
		if (strvec_has(&serve, v[i].name) && (!without || strcmp(v[i].name, without)) &&
		    strcmp(v[i].router, HOST_ROUTER_UNKNOWN)) {
			strvec_push(labels, v[i].name);
			strvec_push(addresses, v[i].router);
		}
done:
	hosts_free(v, n);
	strvec_clear(&serve);
	return err;
}

/* Writes the app's file for its web instances; *old gets what it held (NULL: none). */
/*
 * The router's files are written with fs_write_replace(): never
 * half-written, not fsynced - they are rebuilt from the ledger and the
 * services when the runtime starts.
 */
static int write_app(const char *root, const char *app, const struct strvec *names,
		     const struct strvec *except, const char *without, int system, char **old)
{
	size_t nlocal = 0;
	struct router_listen l;
	struct strvec labels = STRVEC_INIT, domains = STRVEC_INIT, keep = STRVEC_INIT;
	struct strvec addresses = STRVEC_INIT;
	struct buf conf = BUF_INIT;
	int err;
	char *path = NULL;

	*old = NULL;
	if ((err = router_listen_read(root, &l)))
		return err;
	if (except) {
		/* the app's services now, but those going */
		struct strvec all = STRVEC_INIT, gone = STRVEC_INIT;
		services_names(root, app, &all);
		for (size_t i = 0; i < except->n; i++)
			strvec_push(&gone, except->v[i]);
		strvec_sort(&gone);
		for (size_t i = 0; i < all.n; i++)
			if (!strvec_has_sorted(&gone, all.v[i]))
				strvec_push(&keep, all.v[i]);
		strvec_clear(&all);
		strvec_clear(&gone);
		names = &keep;
	}
	if ((err = host_web(root, app, names, &labels, &addresses)) ||
	    (err = front_hosts(root, app, without, &labels, &addresses, &nlocal)))
		goto done;
	if ((err = domains_list(root, app, &domains)))
		goto done;
	enum app_state state = maintenance_on(root, app) ? APP_MAINTENANCE
			       : labels.n ? APP_RUNNING : APP_NO_WEB;
	if (system && (err = root_plain(root)))
		goto done;
	char *cert = !certs_has(root, app) ? NULL
		     : system ? paths_cert_file(root, app) : paths_cert_from_router(app);
	struct hsts hsts = HSTS_INIT;
	if ((err = hsts_read(root, app, &hsts))) {
		free(cert);
		goto done;
	}
	app_conf(app, &l, state, &labels, &addresses, nlocal, &domains, system ? root : NULL, cert,
		 hsts.on ? hsts_max_age(hsts.step) : 0, &conf);
	free(cert);
	char *logs = logs_app_dir(root, app), *logdir = xasprintf("%s/router", logs);
	if (mkdir(logdir, 0750) < 0 && errno != EEXIST)
		err = sw_error_errno(SW_ERROR, "cannot create '%s'", logdir);
	logs_rotate(logdir);
	free(logdir);
	free(logs);
	char *apps = router_path(root, "apps");
	path = paths_router_app(root, app);
	if (!err && (err = fs_mkdir_p(apps, 0755)) == 0) {
		if (fs_read_file(path, 1 << 20, old, NULL) < 0)
			*old = NULL;
		err = fs_write_replace(path, conf.data, conf.len, 0644);
	}
	free(apps);
done:
	free(path);
	strvec_clear(&addresses);
	strvec_clear(&labels);
	strvec_clear(&domains);
	strvec_clear(&keep);
	buf_release(&conf);
	return err;
}

/* h with len bytes of data added (64-bit FNV-1a). */
static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

/*
 * What the router's configuration is now: a digest (64-bit FNV-1a, as 16
 * hex digits) of nginx.conf, http.conf and every apps/ file, names and
 * contents, in name order.
 */
static void config_digest(const char *root, char out[17])
{
	struct strvec names = STRVEC_INIT;
	uint64_t h = 14695981039346656037ULL;
	char *apps = router_path(root, "apps");
	DIR *d = opendir(apps);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			strvec_pushf(&names, "apps/%s", e->d_name);
	if (d)
		closedir(d);
	strvec_sort(&names);
	strvec_push(&names, "http.conf");
	strvec_push(&names, DASHBOARD_FILE);
	strvec_push(&names, "nginx.conf");
	strvec_push(&names, TLS_FILE);
	for (size_t i = 0; i < names.n; i++) {
		char *path = router_path(root, names.v[i]), *text = NULL;
		size_t len = 0;
		if (fs_read_file(path, 1 << 20, &text, &len) < 0)
			len = 0;
		/* the name and its NUL, then the contents and a NUL */
		h = fnv1a(h, names.v[i], strlen(names.v[i]) + 1);
		h = fnv1a(h, text, len);
		h = fnv1a(h, "", 1);
		free(text);
		free(path);
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
	strvec_clear(&names);
	free(apps);
}

/*
 * generation.conf: what the router answers at GENERATION_URI - the digest
 * of the files it loaded.  Written whenever a file of the configuration
 * changes, before nginx checks or loads it, so a router that answers
 * another digest than the files' now did not load them (a reload that
 * failed, a master that never came back).
 */
static int write_generation(const char *root)
{
	char digest[17], *path = router_path(root, GENERATION_FILE);
	config_digest(root, digest);
	char *text = xasprintf("# written by slipway: the digest of the router's configuration\n"
			       "return 200 \"%s\\n\";\n", digest);
	int err = fs_write_replace(path, text, strlen(text), 0644);
	free(text);
	free(path);
	return err;
}

/*
 * Asks the router on l (from this machine) for the digest it loaded: 0 and
 * digest filled in when it answered, -1 when it did not.
 */
static int ask_generation(const struct router_listen *l, char digest[17])
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)l->port) };
	struct timeval tv = { 2, 0 };
	char resp[1024];
	size_t got = 0;
	int ok = 0;
	if (inet_pton(AF_INET, l->address[0] ? l->address : NET_LOOPBACK, &a.sin_addr) != 1)
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0 &&
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
		static const char req[] = "GET " GENERATION_URI " HTTP/1.0\r\n"
					  "Host: slipway-router-status\r\n\r\n";
		if (fs_write_all(fd, req, sizeof(req) - 1) == 0) {
			ssize_t n;
			while (got < sizeof(resp) - 1 &&
			       (n = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0)
				got += (size_t)n;
			resp[got] = '\0';
			const char *body = strstr(resp, "\r\n\r\n");
			ok = !strncmp(resp, "HTTP/1.1 200 ", 13) && body &&
			     strspn(body + 4, "0123456789abcdef") == 16;
			if (ok)
				snprintf(digest, 17, "%.16s", body + 4);
		}
	}
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

int router_health(const char *root)
{
	struct router_listen l;
	if (!router_running(root) || router_listen_read(root, &l) < 0)
		return ROUTER_STOPPED;
	int health = ROUTER_SILENT;
	/* a switch may be between writing its file and the reload: a moment for it */
	for (int i = 0; i < 10; i++) {
		char want[17], served[17];
		config_digest(root, want);
		if (ask_generation(&l, served) == 0)
			health = strcmp(want, served) ? ROUTER_STALE : ROUTER_CURRENT;
		if (health == ROUTER_CURRENT)
			break;
		nanosleep(&(struct timespec){ 0, 200 * 1000 * 1000 }, NULL);
	}
	return health;
}

/* 1 when an app or the dashboard has a certificate: the router listens on the HTTPS port. */
static int any_cert(const char *root)
{
	struct strvec apps = STRVEC_INIT;
	int any = certs_has(root, CERTS_DASHBOARD);
	if (!any && app_list(root, &apps) == 0)
		for (size_t i = 0; !any && i < apps.n; i++)
			any = certs_has(root, apps.v[i]);
	strvec_clear(&apps);
	return any;
}

/*
 * tls.conf, which nginx.conf includes: while an app (or the dashboard) has
 * a certificate, the HTTPS port's default server, which refuses the TLS
 * handshake of a host name without one (no certificate of another host is
 * shown); else nothing listens there.
 */
static void tls_conf(const struct router_listen *l, int listening, struct buf *b)
{
	if (!listening) {
		buf_adds(b, "# written by slipway: no app has a certificate: nothing listens for "
			    "HTTPS\n");
		return;
	}
	buf_adds(b, "# written by slipway: a host name without a certificate gets no TLS "
		    "handshake\nserver {\n");
	add_listen_on(b, l, l->https_port, HTTPS_LISTEN " default_server");
	buf_adds(b, "\tssl_reject_handshake on;\n}\n");
}

static int https_port_used(const struct router_listen *l)
{
	return sw_error_set(SW_ERROR, "the router cannot listen on port %d for HTTPS: it is in use "
			    "(set another with: git config --global slipway.httpsPort PORT)",
			    l->https_port);
}

/*
 * Writes tls.conf for the certificates there are now (and keeps the HTTPS
 * port once it is listened on): *old gets what it held (NULL: none), *opens
 * is 1 when it listens now and did not before.
 */
static int write_tls(const char *root, const struct router_listen *l, char **old, int *opens)
{
	struct buf conf = BUF_INIT;
	char *path = router_path(root, TLS_FILE);
	int listening = any_cert(root), err = 0;
	if (fs_read_file(path, 1 << 20, old, NULL) < 0)
		*old = NULL;
	*opens = listening && (!*old || !strstr(*old, "ssl_reject_handshake"));
	tls_conf(l, listening, &conf);
	if (listening) {
		char *kept = router_path(root, HTTPS_PORT_FILE), text[16];
		int n = snprintf(text, sizeof(text), "%d\n", l->https_port);
		err = fs_write_replace(kept, text, (size_t)n, 0644);
		free(kept);
	}
	if (!err)
		err = fs_write_replace(path, conf.data, conf.len, 0644);
	buf_release(&conf);
	free(path);
	return err;
}

/* Puts tls.conf back as it was (none: removed). */
static void put_back_tls(const char *root, const char *old)
{
	char *path = router_path(root, TLS_FILE);
	if (old)
		fs_write_replace(path, old, strlen(old), 0644);
	else
		unlink(path);
	free(path);
}

/* Puts the app's file back as it was (none: removed). */
static void put_back(const char *root, const char *app, const char *old)
{
	char *path = paths_router_app(root, app);
	if (old)
		fs_write_replace(path, old, strlen(old), 0644);
	else
		unlink(path);
	free(path);
}

/*
 * slipway.routerReload, the operator's reload command (an argv): 0 when it
 * succeeded; SW_ERROR with the last line it printed otherwise.
 */
static int system_reload(const char *root)
{
	struct settings *s = NULL;
	struct strvec argv = STRVEC_INIT;
	struct buf said = BUF_INIT;
	(void)root;
	int status = -1, err = settings_open(&s, NULL, NULL);
	if (!err)
		err = settings_list(s, &SETTING_ROUTER_RELOAD, &argv);
	settings_free(s);
	if (!err && !argv.n)
		err = sw_error_set(SW_EINVALID, "slipway.router system needs slipway.routerReload: "
				   "the command that reloads your nginx, one word per value");
	if (!err) {
		struct run_opts o = RUN_OPTS_INIT;
		o.argv = (const char *const *)argv.v;
		o.timeout_sec = 60;
		o.on_line = collect;
		o.ctx = &said;
		err = run_child(&o, &status);
		if (!err && status) {
			size_t n = said.len;
			while (n && said.data[n - 1] == '\n')
				n--;
			size_t start = n;
			while (start && said.data[start - 1] != '\n')
				start--;
			err = sw_error_set(SW_ERROR, "the router's reload (%s) failed: %.*s", argv.v[0],
					   (int)(n - start), said.data + start);
		}
	}
	buf_release(&said);
	strvec_clear(&argv);
	/* its old workers cannot be seen: give the requests they serve a moment */
	if (!err)
		nanosleep(&(struct timespec){ 1, 0 }, NULL);
	return err;
}

/*
 * nginx -t of a change to the running router.  nginx -t binds the ports it
 * checks, and the running nginx holds them already: a writer that may not
 * bind the router's ports (a push over ssh, whose session has none of the
 * capabilities the server was started with: util/caps.h) checks the
 * configuration in a network namespace of its own, where it may.
 */
static int nginx_test_change(const char *root, char **msg)
{
	struct router_listen l;
	int own_net = router_listen_read(root, &l) == 0 &&
		      (!caps_may_bind(l.port) || !caps_may_bind(l.https_port));
	return nginx_run(root, "-t", own_net, msg);
}

/* 1 when the app's certificate is there and valid now: its HTTPS answers. */
static int https_live(const char *root, const char *app)
{
	struct cert_info info = CERT_INFO_INIT;
	time_t now = time(NULL);
	int live = certs_info(root, app, &info) == 0 && info.starts <= now && now < info.expires;
	cert_info_release(&info);
	return live;
}

/*
 * The app's HSTS moved on to now (store/hsts.h): its next step once HTTPS
 * has been live for the current one, its clock started again while it is
 * not.  *was gets the state before, *moved whether it changed.
 */
static int hsts_move(const char *root, const char *app, struct hsts *was, int *moved)
{
	int err = hsts_read(root, app, was);
	struct hsts h = *was;
	/* off (most apps): no certificate to read */
	*moved = !err && h.on && hsts_advance(&h, time(NULL), https_live(root, app));
	if (*moved && (err = hsts_write(root, app, &h)))
		*moved = 0;
	return err;
}

/*
 * The rest of a switch, once one file of the router was written: tls.conf
 * for what has a certificate now, then Slipway's nginx checked and
 * reloaded, or the operator's reload.  *taken is 1 when what was written
 * stays (nginx loaded it, or no nginx runs to load it); else the caller
 * puts its file back and calls undo_rest().  *old_tls: tls.conf as it was.
 */
static int switch_rest(const char *root, const struct router_listen *l, int system,
		       char **old_tls, int *taken)
{
	char *msg = NULL;
	int opens = 0, err = 0;
	*taken = 0;
	/* the operator's nginx has its own default server: tls.conf is Slipway's nginx's */
	if (!system)
		err = write_tls(root, l, old_tls, &opens);
	if (!err && opens && !system && router_running(root) &&
	    !net_port_listenable(l->address, l->https_port))
		err = https_port_used(l);
	if (!err && !system)
		err = write_generation(root);
	if (!err && system) {
		*taken = (err = system_reload(root)) == 0;
	} else if (!err && router_running(root)) {
		if ((err = nginx_test_change(root, &msg)) && msg)
			err = sw_error_set(SW_ERROR, "the router refused the new configuration: %s", msg);
		else if (!err)
			*taken = 1, err = reload_and_drain(root);
	} else if (!err) {
		*taken = 1;
	}
	free(msg);
	return err;
}

/* After the caller put its file back: tls.conf as it was, and the router told. */
static void undo_rest(const char *root, int system, const char *old_tls)
{
	if (system) {
		system_reload(root);
	} else {
		put_back_tls(root, old_tls);
		write_generation(root);
	}
}

static int app_switch(const char *root, const char *app, const struct strvec *names,
		      const struct strvec *except, const char *without)
{
	struct router_listen l;
	struct hsts hsts_was = HSTS_INIT;
	char *old = NULL, *old_tls = NULL;
	int system = 0, wrote = 0, taken = 0, hsts_moved = 0;
	int err = router_mode(&system);
	if (!err)
		err = router_listen_read(root, &l);
	if (!err)
		err = hsts_move(root, app, &hsts_was, &hsts_moved);
	if (!err)
		wrote = !(err = write_app(root, app, names, except, without, system, &old));
	if (wrote)
		err = switch_rest(root, &l, system, &old_tls, &taken);
	if (err && wrote && !taken) {
		/* what was refused before nginx loaded it is put back as it was */
		put_back(root, app, old);
		undo_rest(root, system, old_tls);
	}
	/* a step nginx never served has not begun */
	if (err && hsts_moved && !taken)
		hsts_write(root, app, &hsts_was);
	free(old);
	free(old_tls);
	return err;
}

int router_switch(const char *root, const char *app, const struct strvec *names,
		  const struct strvec *except)
{
	return app_switch(root, app, names, except, NULL);
}

int router_switch_without(const char *root, const char *app, const char *host)
{
	return app_switch(root, app, NULL, NULL, host);
}

int router_dashboard_switch(const char *root)
{
	struct router_listen l;
	struct buf conf = BUF_INIT;
	char *path = router_path(root, DASHBOARD_FILE), *old = NULL, *old_tls = NULL;
	struct hsts hsts_was = HSTS_INIT;
	int system = 0, wrote = 0, taken = 0, hsts_moved = 0;
	int err = router_mode(&system);
	if (!err)
		err = router_listen_read(root, &l);
	/* its HSTS moves on as an app's does */
	if (!err)
		err = hsts_move(root, CERTS_DASHBOARD, &hsts_was, &hsts_moved);
	if (!err)
		err = dashboard_text(root, &l, system, &conf);
	if (!err && fs_read_file(path, 1 << 20, &old, NULL) < 0)
		old = NULL;
	if (!err)
		wrote = !(err = fs_write_replace(path, conf.data, conf.len, 0644));
	if (wrote)
		err = switch_rest(root, &l, system, &old_tls, &taken);
	if (err && wrote && !taken) {
		/* what was refused is put back as it was */
		if (old)
			fs_write_replace(path, old, strlen(old), 0644);
		else
			unlink(path);
		undo_rest(root, system, old_tls);
	}
	if (err && hsts_moved && !taken)
		hsts_write(root, CERTS_DASHBOARD, &hsts_was);
	buf_release(&conf);
	free(old);
	free(old_tls);
	free(path);
	return err;
}

char *router_dashboard_url(const char *root)
{
	struct router_listen l;
	char *host = NULL, *url = NULL;
	if (domains_dashboard_host(&host) < 0 || router_listen_read(root, &l) < 0)
		goto done;
	if (certs_has(root, CERTS_DASHBOARD))
		url = l.https_port == 443 ? xasprintf("https://%s", host)
					  : xasprintf("https://%s:%d", host, l.https_port);
	else
		url = l.port == 80 ? xasprintf("http://%s", host)
				   : xasprintf("http://%s:%d", host, l.port);
done:
	free(host);
	return url;
}

int router_maintenance(const char *root, const char *app, int on, int was)
{
	int err = maintenance_set(root, app, on);
	if (!err && (err = router_switch(root, app, NULL, NULL)) < 0) {
		struct sw_error_state first;
		sw_error_save(&first, err);
		maintenance_set(root, app, was);
		err = sw_error_restore(&first);
	}
	return err;
}

int router_stop(const char *root, int wait_sec)
{
	int err = 0;
	if (router_running(root) && (err = supervisor_service_down(root, SERVICE, wait_sec)) ==
				    SW_ETIMEOUT)
		err = sw_error_set(SW_ETIMEOUT, "the router did not stop within %d s", wait_sec);
	return err;
}

int router_forget(const char *root, const char *app)
{
	struct router_listen l;
	char *path = paths_router_app(root, app), *msg = NULL, *old_tls = NULL;
	int err = 0, opens = 0;
	int removed = unlink(path) == 0;
	if (removed && router_system())
		err = system_reload(root);
	/* the app's certificate went before: the HTTPS port may be the last one's */
	else if (removed && router_running(root) && !(err = router_listen_read(root, &l)) &&
		 !(err = write_tls(root, &l, &old_tls, &opens)) && !(err = write_generation(root)) &&
		 !(err = nginx_test_change(root, &msg)))
		err = reload_and_drain(root);
	free(old_tls);
	free(msg);
	free(path);
	return err;
}

char *router_url(const char *root, const char *app)
{
	struct router_listen l;
	if (router_listen_read(root, &l) < 0)
		return NULL;
	if (certs_has(root, app))
		return l.https_port == 443 ? xasprintf("https://%s.%s/", app, l.domain)
					   : xasprintf("https://%s.%s:%d/", app, l.domain, l.https_port);
	if (l.port == 80)
		return xasprintf("http://%s.%s/", app, l.domain);
	return xasprintf("http://%s.%s:%d/", app, l.domain, l.port);
}

static const char app_error_page[] =
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Application Error</title></head>\n"
	"<body><h1>Application error</h1>\n"
	"<p>An error occurred in the application and your page could not be served. If you are "
	"the application owner, check your logs for details: <code>slipway logs --tail</code></p>\n"
	"</body></html>\n";

static const char maintenance_page[] =
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Offline for Maintenance</title></head>\n"
	"<body><h1>Offline for maintenance</h1>\n"
	"<p>This app is undergoing maintenance right now. Please check back later.</p>\n"
	"</body></html>\n";

static const char no_such_app_page[] =
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>No such app</title></head>\n"
	"<body><h1>No such app</h1>\n"
	"<p>There is no app configured at that host name.</p>\n</body></html>\n";

static int write_pages(const char *root)
{
	char *dir = router_path(root, "pages"), *custom = NULL, *text = NULL;
	struct settings *s = NULL;
	size_t len = 0;
	int err = fs_mkdir_p(dir, 0755);
	if (!err && !(err = settings_open(&s, NULL, NULL)))
		err = settings_string(s, &SETTING_MAINTENANCE_PAGE, &custom);
	if (!err && custom && (err = fs_read_file(custom, 1 << 20, &text, &len)) < 0)
		err = settings_blame(s, &SETTING_MAINTENANCE_PAGE, err);
	struct { const char *name, *data; size_t len; } pages[] = {
		{ "app-error.html", app_error_page, sizeof(app_error_page) - 1 },
		{ "maintenance.html", text ? text : maintenance_page,
		  text ? len : sizeof(maintenance_page) - 1 },
		{ "no-such-app.html", no_such_app_page, sizeof(no_such_app_page) - 1 },
	};
	for (size_t i = 0; !err && i < sizeof(pages) / sizeof(*pages); i++) {
		char *path = xasprintf("%s/%s", dir, pages[i].name);
		err = fs_write_replace(path, pages[i].data, pages[i].len, 0644);
		free(path);
	}
	settings_free(s);
	free(text);
	free(custom);
	free(dir);
	return err;
}

/*
 * The router's finish program, which s6 runs each time nginx has exited.
 * s6 starts the run program in a session of its own, so the master leads
 * a process group that holds its workers.  A master killed outright (kill
 * -9, the OOM killer) leaves them running: they would keep the port, so no
 * new master could listen, and serve the old configuration for good.  Its
 * pid is still in nginx.pid then (nginx removes the file only when it
 * exits by itself): the rest of its group goes before s6 starts nginx
 * again.
 */
static void finish_program(const char *root, struct buf *b)
{
	char *pidfile = router_path(root, "nginx.pid");
	buf_adds(b, "#!/bin/sh\n# written by slipway: what is left of nginx's process group "
		    "goes with its master\npid=$(cat ");
	buf_add_shell_quoted(b, pidfile);
	buf_adds(b, " 2>/dev/null)\n"
		    "case $pid in ''|*[!0-9]*) exit 0 ;; esac\n"
		    "kill -KILL \"-$pid\" 2>/dev/null\n"
		    /* that master is gone: a later finish must not take its pid for a live one */
		    "rm -f ");
	buf_add_shell_quoted(b, pidfile);
	buf_adds(b, "\nexit 0\n");
	free(pidfile);
}

/*
 * The router's service (runtime/supervisor.h): its run program is nginx in
 * the foreground.  One that exists is kept, nginx running on, but its
 * finish program is written again, so a service made before it has it too.
 */
static int write_service(const char *root)
{
	char *prog = NULL, *prefix = router_path(root, "");
	struct buf run = BUF_INIT, finish = BUF_INIT;
	int err = nginx_prog(root, &prog);
	if (err)
		goto done;
	/* nginx stops with its supervisor (setpriv, util-linux): none runs that nobody supervises */
	buf_adds(&run, "exec /usr/bin/setpriv --pdeathsig TERM ");
	buf_add_shell_quoted(&run, prog);
	buf_adds(&run, " -p ");
	buf_add_shell_quoted(&run, prefix);
	buf_adds(&run, " -c nginx.conf -e logs/error.log -g 'daemon off;' 2>&1\n");
	finish_program(root, &finish);
	/* nginx alone keeps the capabilities the tree got: ports 80 and 443 without root */
	struct service_desc d = { .name = SERVICE, .about = "the router", .run = run.data,
				  .finish = finish.data, .keep_caps = 1 };
	err = supervisor_service_write(root, &d);
	if (err == SW_EEXISTS) {
		struct service_file f = { "finish", finish.data, finish.len, 0755 };
		err = supervisor_service_put(root, SERVICE, &f);
	}
done:
	buf_release(&run);
	buf_release(&finish);
	free(prefix);
	free(prog);
	return err;
}

/* Removes the files of apps that are gone (apps must be sorted). */
static void remove_stale(const char *root, struct strvec *apps)
{
	char *dir = router_path(root, "apps");
	DIR *d = opendir(dir);
	struct dirent *e;
	strvec_sort(apps);
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n <= 5 || strcmp(e->d_name + n - 5, ".conf"))
			continue;
		char *app = xstrndup(e->d_name, n - 5);
		if (!strvec_has_sorted(apps, app)) {
			char *p = xasprintf("%s/%s", dir, e->d_name);
			unlink(p);
			free(p);
		}
		free(app);
	}
	if (d)
		closedir(d);
	free(dir);
}

int router_check(const char *root)
{
	struct router_listen l;
	struct router_limits lim;
	int system = 0;
	int err = router_listen_read(root, &l);
	if (!err)
		err = router_mode(&system);
	if (err || system)
		return err ? err : root_plain(root);
	if ((err = limits_read(&lim)))
		return err;
	if (!router_installed(root))
		return sw_error_set(SW_ERROR, "nginx is not installed: install the nginx-light package "
				    "(or set slipway.nginx)");
	if (!router_running(root) && !net_port_listenable(l.address, l.port))
		return sw_error_set(SW_ERROR, "the router cannot listen on port %d: it is in use "
				    "(set another with: git config --global slipway.httpPort PORT)",
				    l.port);
	if (!router_running(root) && any_cert(root) && !net_port_listenable(l.address, l.https_port))
		return https_port_used(&l);
	return 0;
}

int router_prepare(const char *root)
{
	struct router_listen l;
	struct strvec apps = STRVEC_INIT;
	struct buf conf = BUF_INIT;
	char *dir = router_dir(root), *msg = NULL;
	int err;

	int system = 0;
	if ((err = router_check(root)) || (err = router_listen_read(root, &l)) ||
	    (err = router_mode(&system)))
		goto done;
	const char *subdirs[] = { "apps", "logs", "tmp", "pages", NULL };
	for (size_t i = 0; !err && subdirs[i]; i++) {
		char *p = router_path(root, subdirs[i]);
		err = fs_mkdir_p(p, 0755);
		free(p);
	}
	if (err || (err = write_pages(root)))
		goto done;
	char ptext[16];
	int pn = snprintf(ptext, sizeof(ptext), "%d\n", l.port);
	char *kept = router_path(root, "port"), *conf_path = router_path(root, "nginx.conf");
	char *http_path = router_path(root, "http.conf");
	char *dashboard_path = router_path(root, DASHBOARD_FILE);
	struct buf http = BUF_INIT, dashboard = BUF_INIT;
	struct router_limits lim;
	http_conf(&http);
	err = limits_read(&lim);
	if (!err && !(err = dashboard_text(root, &l, system, &dashboard)))
		main_conf(&l, &lim, &conf);
	if (!err)
		err = fs_write_replace(kept, ptext, (size_t)pn, 0644);
	if (!err)
		err = fs_write_replace(http_path, http.data, http.len, 0644);
	if (!err)
		err = fs_write_replace(dashboard_path, dashboard.data, dashboard.len, 0644);
	if (!err && !system)
		err = fs_write_replace(conf_path, conf.data, conf.len, 0644);
	if (!err && !system) {
		char *old_tls = NULL;
		int opens = 0;
		err = write_tls(root, &l, &old_tls, &opens);
		free(old_tls);
	}
	buf_release(&http);
	buf_release(&dashboard);
	free(dashboard_path);
	free(http_path);
	free(kept);
	free(conf_path);
	if (!err)
		err = app_list(root, &apps);
	for (size_t i = 0; !err && i < apps.n; i++) {
		char *old = NULL;
		err = write_app(root, apps.v[i], NULL, NULL, NULL, system, &old);
		free(old);
	}
	if (!err)
		remove_stale(root, &apps);
	if (!err && system) {
		/* the operator's nginx includes http.conf and apps/ *.conf: it only reloads */
		err = system_reload(root);
		goto done;
	}
	if (!err)
		err = write_generation(root);
	if (!err && (err = nginx_run(root, "-t", 0, &msg)) && msg)
		err = sw_error_set(SW_ERROR, "the router's configuration is refused: %s", msg);
	if (!err)
		err = write_service(root);
	if (!err && router_running(root))
		err = reload_and_drain(root);
done:
	strvec_clear(&apps);
	buf_release(&conf);
	free(msg);
	free(dir);
	return err;
}
