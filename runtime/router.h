/*
 * router.h - the HTTP router in front of the apps' web instances: nginx.
 *
 * Part of runtime/: uses util/, store/ and exec/ (and runtime/host.h for the
 * instances' addresses, runtime/supervisor.h for its service); writes only
 * to the FILE * or callback it is given.
 *
 * Slipway runs its own nginx, supervised like the instances (the service
 * "router" of the tree), with <root>/router/ as its prefix:
 *
 *     nginx.conf          listen slipway.httpAddress:slipway.httpPort, the
 *                         router's headers, a 404 for unknown hosts, the
 *                         limits (Heroku's 30 s and 55 s timeouts, bodies
 *                         streamed and never spooled, at most
 *                         slipway.maxRequestSize, slipway.routerConnections
 *                         per worker, slipway.routerClientConnections per
 *                         client address), and
 *     apps/APP.conf       one per app: its upstream (its web instances),
 *                         its host names (APP.slipway.domain and the app's
 *                         domains) and its access log; for an app with a
 *                         certificate (store/certs.h) a second server on
 *                         slipway.httpsPort (TLS, HTTP/2) that serves it,
 *                         while its HTTP server redirects there (301 for
 *                         GET and HEAD, 308 for the rest); every app's
 *                         HTTP server answers /.well-known/acme-challenge/
 *                         from <root>/acme/webroot first (runtime/acme.h),
 *                         before maintenance, redirects and instances
 *     http-dashboard.conf the dashboard's server (slipway.dashboardHost), on
 *                         the HTTPS port too once it has a certificate
 *     tls.conf            while an app (or the dashboard) has a
 *                         certificate: the HTTPS port's
 *                         default server, which refuses the handshake of
 *                         a host name without one; else nothing listens
 *                         there (Slipway's nginx only)
 *     port, https-port    the default ports, kept once chosen
 *     pages/              the error and maintenance pages
 *     generation.conf     what nginx answers this machine at a location of
 *                         its own: the digest of the files it loaded
 *                         (router_health)
 *     logs/error.log, tmp/
 *
 * The service's finish program ends what is left of nginx's process group
 * when the master died without stopping its workers (kill -9, the OOM
 * killer), so the next master can listen.
 *
 * Every path in the configuration is relative to the prefix.  Each app's
 * access log is written to <root>/logs/APP/router/ and shown by `logs` in
 * Heroku's router format (runtime/logs.h).
 *
 * An app's upstream is its web instances' "ADDRESS:PORT"s, as their host
 * gives them (runtime/host.h: loopback for this machine's), when this
 * machine ("local") serves it, then the front's part: the routers of the
 * run hosts that serve it (store/apphosts.h, store/hosts.h), each left out
 * for 10 s after a request it failed (nginx's max_fails=1), with
 * idempotent requests that one could not answer (no connection, a
 * timeout, a 502 or 503) tried on the next; a request reaches a host's
 * router with its Host header, and the ACME path and maintenance are
 * answered here.  The file is written again when the app's hosts change
 * and when a host joins or goes.
 *
 * A switch (router_switch) points an app at a new set of instances (or at
 * its certificate as it is now): the file (and tls.conf) is written aside
 * and renamed into place, `nginx -t` checks the whole
 * configuration (on failure the old file is put back and the message is
 * nginx's), then nginx reloads gracefully and this returns once no
 * worker of the old configuration takes new connections (they have closed
 * their listening sockets): every request from then on reaches the new
 * instances.  Those workers may still carry requests to the old instances
 * (a long download, a WebSocket; nginx ends them after 10 s):
 * router_drain() waits for them to finish before old instances stop, so a
 * rollback to instances kept warm need not wait for them.
 */
#ifndef SW_ROUTER_H
#define SW_ROUTER_H

#include "util/util.h"

/* What the router serves on, from the settings. */
struct router_listen {
	int port;            /* slipway.httpPort: default 80 when it can be bound, else 5000 */
	int https_port;      /* slipway.httpsPort: default 443 when it can be bound, else 5443 */
	char address[64];    /* slipway.httpAddress: "" for every address */
	char domain[256];    /* slipway.domain: apps answer at APP.DOMAIN */
};

int router_listen_read(const char *root, struct router_listen *l);

/* 1 when nginx (slipway.nginx) can be run. */
int router_installed(const char *root);

/* 1 when the router service (Slipway's own nginx) runs in the root's tree. */
int router_running(const char *root);

/*
 * Waits up to seconds for nginx to write its pid (after it binds its port
 * and sets up its signals): s6 starts the router service a moment after
 * the tree learns of it.  1 once it runs.
 */
int router_wait_running(const char *root, int seconds);

/* What server:status says of Slipway's nginx. */
enum router_health {
	ROUTER_STOPPED,   /* it does not run */
	ROUTER_CURRENT,   /* it serves the configuration there is now */
	ROUTER_STALE,     /* it serves an older one: a reload failed or never happened */
	ROUTER_SILENT     /* it runs but does not answer on its port */
};

/*
 * Whether Slipway's nginx serves the configuration there is now: it is
 * asked, from this machine on its own port, for the digest of the files it
 * loaded (a location only this machine may ask), which is compared with
 * the files' now.  A switch between writing its file and the reload gets
 * about 2 s to finish.
 */
int router_health(const char *root);

/*
 * slipway.router: "own" (default) - Slipway runs its nginx as above - or
 * "system": an nginx of the operator's includes <root>/router/http.conf
 * and <root>/router/apps/ *.conf in its http block, and Slipway runs the
 * argv slipway.routerReload (one word per value) after writing an app's
 * file; server:start then starts no nginx.  1 for system.
 */
int router_system(void);


/*
 * What would keep the router from starting: SW_ERROR when nginx is not
 * installed or the port (or the HTTPS port, while a certificate is live)
 * is used by something else (while it does not run).
 */
int router_check(const char *root);

/*
 * For server:start: the router's files (main configuration, pages, every
 * app's file for its services now) and its service directory in the scan
 * directory, which the caller's rescan starts.  SW_ERROR when nginx is not
 * installed, when the port is used by something else, or when nginx -t
 * rejects the configuration (its message).
 */
int router_prepare(const char *root);

/*
 * Points app at its web instances among the services named in names
 * (NULL: all its services now, but those in except, which may be NULL),
 * or at its maintenance page when maintenance is on (store/maintenance.h),
 * or at the "Application error" page when it has no web instance.  With
 * Slipway's nginx running, it is checked and reloaded and this waits until
 * its old workers take no new connections; with slipway.router system, the reload command runs;
 * with neither, only the file is written (the next server:start loads it).
 * SW_ERROR with nginx's message when the configuration is refused (the
 * old one is kept), or when the app's certificate would open the HTTPS
 * port and something else holds it (nothing is changed).
 */
int router_switch(const char *root, const char *app, const struct strvec *names,
		  const struct strvec *except);

/*
 * router_switch() of all the app's services now, with its upstream
 * without the run host named host: hosts:remove --drain, before the host
 * goes from the list.
 */
int router_switch_without(const char *root, const char *app, const char *host);

/*
 * Points the router at the app's maintenance page (on=1) or back at its
 * instances, the flag (store/maintenance.h) set first; when the switch
 * fails, the flag is put back to was, what it was before the change, so
 * `maintenance` always says what the router serves.  The caller holds the
 * app's lock.  router_switch()'s error when it failed.
 */
int router_maintenance(const char *root, const char *app, int on, int was);

/*
 * Waits until no worker of an earlier configuration of Slipway's nginx is
 * left: the requests they carried are over (nginx gives them at most 10 s).
 * 0 at once when none is left, with slipway.router system, or when it
 * cannot be told; SW_ETIMEOUT when they outlived nginx's own limit.
 */
int router_drain(const char *root);

/*
 * server:stop: stops the router and waits (up to wait_sec) until nginx has
 * exited and its port is free.
 */
int router_stop(const char *root, int wait_sec);

/*
 * gc: rotates each app's router log that is full (an app whose router file
 * is not rewritten by a switch would otherwise grow it for good), then has
 * the router reopen its logs: SIGUSR1 to Slipway's nginx, or
 * slipway.routerReload for the operator's.  *rotated counts the apps.
 */
int router_logs_rotate(const char *root, int *rotated);

/* apps:destroy: the app's file goes, and a running router forgets it. */
int router_forget(const char *root, const char *app);

/*
 * Points the router at the dashboard's certificate as it is now (store/certs.h,
 * CERTS_DASHBOARD): http-dashboard.conf gets a server on the HTTPS port for
 * slipway.dashboardHost and its HTTP server redirects there; without one,
 * plain HTTP again.  Its HSTS (store/hsts.h, CERTS_DASHBOARD) takes a step
 * that is due, and is sent on its HTTPS answers, as an app's.  Checked,
 * reloaded and put back on failure as router_switch() does.
 */
int router_dashboard_switch(const char *root);

/* The dashboard's origin: http://HOST[:PORT], https://HOST[:PORT] once it has a certificate (malloc'ed; NULL with the error set). */
char *router_dashboard_url(const char *root);

/* The app's URL: http://APP.DOMAIN[:PORT]/, https://... once it has a certificate (malloc'ed). */
char *router_url(const char *root, const char *app);

#endif
