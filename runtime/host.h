/*
 * host.h - where an app's process instances run, as one interface: start
 * them (each through its gate), retire them, list them, the address at
 * which one is reached, their logs, and one-off processes.
 *
 * Part of runtime/: uses util/, store/, exec/ and the runtime's modules
 * below it; writes only to the FILE * or callback it is given.
 *
 * A host is a table of functions (struct host_ops, as a libgit2 object
 * database backend is) and the root it serves.  The one host today is
 * this machine (host_local.c: s6 supervises each instance as a service,
 * runtime/services.h, reached through loopback); another host (instances
 * on other machines) would be a second table, chosen by host_of().  The
 * release path and the commands call the host_*() functions, which ask
 * host_of() which host runs the app; what a host returns - instance names,
 * "ADDRESS:PORT" addresses - is all they know of it.
 *
 *     char *why = NULL;
 *     if (host_start(root, app, &r, &instances, &started, &why) < 0) ...;  // why says which
 *     ...router points at them (runtime/router.h: host_web)...
 *     host_retire(root, app, &old, NULL);
 */
#ifndef SW_HOST_H
#define SW_HOST_H

#include <stdio.h>

#include "runtime/healthcheck.h"
#include "runtime/logs.h"
#include "runtime/oneoff.h"
#include "runtime/services.h"
#include "store/release.h"
#include "util/util.h"

/* "ADDRESS:PORT" of an instance, the NUL included. */
#define HOST_ADDRESS_MAX SERVICES_ADDRESS_MAX

struct host;

/*
 * What a host does.  Instance names are the host's own (unique among the
 * root's); each function returns as its host_*() caller below says.
 */
struct host_ops {
	const char *name;  /* "local" */
	int (*start)(const struct host *h, const char *app, const struct release *r,
		     const struct strvec *instances, struct strvec *started, char **why);
	int (*restart)(const struct host *h, const char *app, const struct release *r,
		       const char *which, struct strvec *started, struct strvec *old, char **why);
	void (*retire)(const struct host *h, const char *app, const struct strvec *names,
		       const struct strvec *keep);
	int (*list)(const struct host *h, const char *app, struct service_info **out, size_t *n);
	int (*web)(const struct host *h, const char *app, const struct strvec *names,
		   struct strvec *labels, struct strvec *addresses);
	int (*address)(const struct host *h, const char *app, const char *name,
		       char out[HOST_ADDRESS_MAX]);
	int (*serves)(const struct host *h, const char *app, const char *name);
	int (*logs)(const struct host *h, const char *app, const struct logs_filter *f, size_t n,
		    int follow, FILE *out, int (*stop)(void *), void *arg);
	int (*run)(const struct host *h, const struct oneoff_opts *o, int *status);
};

struct host {
	const struct host_ops *ops;
	const char *root;  /* the caller's */
};

/* This machine: s6 and the root's scan directory (host_local.c). */
extern const struct host_ops host_local_ops;

/* The host that runs app's instances (this machine, today); nothing to free. */
struct host host_of(const char *root, const char *app);

/*
 * Starts r's instances (names "TYPE.I", runtime/services.h:
 * services_wanted) and has each pass its gate: a web instance serves its
 * $PORT and the app's health checks (runtime/healthcheck.h), any other
 * stays up.  *started gets the new instances' names; when one fails,
 * every one started goes again, and *why (malloc'ed) says which and why.
 */
int host_start(const char *root, const char *app, const struct release *r,
	       const struct strvec *instances, struct strvec *started, char **why);

/*
 * ps:restart: new instances of r in place of the running ones that match
 * which ("web", "web.1", NULL: all), through the same gate; *old gets
 * those they replace, for the caller to retire.  SW_ENOTFOUND when none
 * matches; see services_restart().
 */
int host_restart(const char *root, const char *app, const struct release *r, const char *which,
		 struct strvec *started, struct strvec *old, char **why);

/*
 * Retires the app's instances named in names, or (names NULL) every one of
 * them but those in keep (may be NULL): SIGTERM now, SIGKILL after
 * slipway.stopTimeout; returns without waiting for them to exit.
 */
void host_retire(const char *root, const char *app, const struct strvec *names,
		 const struct strvec *keep);

/* The app's instances, as ps shows them: *out (malloc'ed) and *n; see services_list(). */
int host_list(const char *root, const char *app, struct service_info **out, size_t *n);

/*
 * The web instances among the app's instances named in names (NULL: all
 * of them now), sorted by index: their labels ("web.1") and addresses
 * ("ADDRESS:PORT"), one each - what the router sends requests to.
 */
int host_web(const char *root, const char *app, const struct strvec *names,
	     struct strvec *labels, struct strvec *addresses);

/* Where the app's instance name is reached: "ADDRESS:PORT".  SW_ENOTFOUND when it is none. */
int host_address(const char *root, const char *app, const char *name,
		 char out[HOST_ADDRESS_MAX]);

/*
 * 1 when the app's web instance name is up and the app itself serves its
 * port now - what its gate waited for, asked again (of an instance kept
 * warm: runtime/warm.h) - not merely something in front of it; 0
 * otherwise.  See services_serves().
 */
int host_serves(const char *root, const char *app, const char *name);

/*
 * The health gate of one running instance: the app's checks hc against
 * its address, with Host: host_header; label ("web.1") names it in *why.
 * 0 when they pass; otherwise as healthchecks_run(), or SW_ENOTFOUND when
 * the instance is gone.
 */
int host_check(const char *root, const char *app, const char *name, const char *label,
	       const struct healthchecks *hc, const char *host_header, char **why);

/* The app's log stream: logs_show() of runtime/logs.h. */
int host_logs(const char *root, const char *app, const struct logs_filter *f, size_t n,
	      int follow, FILE *out, int (*stop)(void *), void *arg);

/* A one-off process (o->root, o->app) in the foreground: oneoff_run() of runtime/oneoff.h. */
int host_run(const struct oneoff_opts *o, int *status);

#endif
