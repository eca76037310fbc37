/*
 * services.h - an app's process instances as services of the supervision
 * tree, and the switch from one release's instances to the next.
 *
 * Part of runtime/: uses util/, store/ and exec/; writes only to the FILE * or
 * callback it is given.
 *
 * Each instance is one service directory <root>/services/APP.vN-G.TYPE.I
 * whose run program is `slipway instance:run TYPE.I --port P --release vN
 * --supervised -a APP` (runtime/instance.h), so two releases' instances -
 * or two generations G of one release's, in a restart - can run side by
 * side while traffic moves.  Its port is kept beside it (the file "port"),
 * its state too ("state", written by the instance), and its logger is
 * log/run, an s6-log into <root>/logs/APP/vN-G.TYPE.I (runtime/logs.h).
 * s6 keeps each one running; Slipway writes them, gates on them and
 * removes them.
 *
 * The formation - how many instances of each type - is the app's, not a
 * release's (store/formation.h).  An app without one runs web=1 when the
 * release has a web type (Heroku's default).
 */
#ifndef SW_SERVICES_H
#define SW_SERVICES_H

#include <stdio.h>

#include "store/release.h"
#include "util/net.h"
#include "util/util.h"

/* 1 when the root's supervision tree runs (runtime/supervisor.h). */
int services_runtime_up(const char *root);

/*
 * The instances the formation asks of release r on this host, as "TYPE.I"
 * names (none: it has no process types the formation runs, or this host
 * is not among the app's hosts): this host's share of each type
 * (formation_share(), store/apphosts.h apphosts_share_of() of "local").
 */
int services_wanted(const char *root, const char *app, const struct release *r,
		    struct strvec *instances);

/* The same over every host of the app: the whole formation (ps:scale, apps:info). */
int services_wanted_all(const char *root, const char *app, const struct release *r,
			struct strvec *instances);

/*
 * Starts r's instances (names from services_wanted()) and waits until each
 * is up: a web instance accepts connections on its $PORT within
 * slipway.bootTimeout (default 60 s), any other one is still running after
 * 3 s.  On success *started holds the
 * service names; when one fails, everything started is stopped again and
 * *why (malloc'ed) says which instance and why, for the release's output.
 */
int services_start(const char *root, const char *app, const struct release *r,
		   const struct strvec *instances, struct strvec *started, char **why);

/*
 * Picks n distinct ports of first..last for a batch of new instances, into
 * ports: none that something listens on now, none that a service of the
 * root already holds (its "port" file).  SW_ERROR when the range has too
 * few.  services_start() and services_ensure() pick theirs this way.
 */
int services_pick_ports(const char *root, int first, int last, size_t n, int *ports);

/* Every service of app but those in keep (may be NULL), appended to out: what a retire takes. */
void services_of_app_but(const char *root, const char *app, const struct strvec *keep,
			 struct strvec *out);

/* 1 when one of names (APP.vN-G.TYPE.I) is a web instance of app: the router sends it requests. */
int services_any_web(const char *app, const struct strvec *names);

/*
 * Makes the app's services those of release r (current), without a gate:
 * what server:start does for every app, so a tree started after a crash,
 * a reboot or releases made while it was stopped runs the current
 * releases.  Services of other releases are moved aside; missing ones are
 * written (the caller tells the tree to rescan).  *added gets how many
 * were written.
 */
int services_ensure(const char *root, const char *app, const struct release *r, int *added);

/*
 * services_ensure() for the current release of every app of the root, then
 * (rescan) a rescan of the running tree; *added gets how many instances
 * had to be written.
 */
int services_restore_all(const char *root, int rescan, int *added);

/*
 * Whether release next can take over from cur, the app's current release,
 * without dropping processes: 1 when the formation runs a type of cur
 * (count > 0) that next does not define, with its name (cur's, valid while
 * cur is) in *type and its count in *count; 0 when next defines them all.
 */
int services_formation_missing(const char *root, const char *app, const struct release *cur,
			       const struct release *next, const char **type, int *count);

/* slipway.maxInstances (default 20) may be at most this */
#define SERVICES_MAX 1000

/*
 * ps:scale: applies changes ("web=2", "worker+1", "web-1") to the app's
 * formation for its current release r, and, with the tree running, starts
 * and stops this host's share of them (services_wanted()) to match (no new
 * release).  The caller holds the app
 * lock.  SW_EINVALID for a malformed change, a type r does not have (the
 * message lists r's types) or a count outside 0 to slipway.maxInstances
 * (default 20, for each type and for all of them together); nothing
 * changes then.  *summary (malloc'ed): "web at 2, worker at 1".
 */
int services_scale(const char *root, const char *app, const struct release *r,
		   char *const *changes, size_t n, char **summary);

/*
 * What services_scale() would make the formation, checked as it checks,
 * into counts (one per type of r), nothing written: for the app's run
 * hosts, told their share first (runtime/nodes.h node_release_of()).
 */
int services_scale_counts(const char *root, const char *app, const struct release *r,
			  char *const *changes, size_t n, int *counts);

/*
 * Retires the named services of an app: SIGTERM now, SIGKILL after
 * slipway.stopTimeout (instance.h); returns without waiting for them to exit.
 */
void services_retire_names(const char *root, const struct strvec *names);

/*
 * ps:restart: replaces the app's running instances that match which
 * ("web": every web.N, "web.1": that one, NULL: all; never a warm one)
 * with new ones of release r (its current one), the way a release switches: the new ones
 * start beside the old and pass the gate; *started gets their names and
 * *old those of the ones they replace, which the caller retires
 * (services_retire_names) once the router points at the new ones.  The caller holds the app lock.
 * SW_ENOTFOUND when none matches, SW_ERROR when the runtime does not run;
 * when the gate fails, *why (malloc'ed) says why and the old instances run
 * on untouched (*old is empty).
 */
int services_restart(const char *root, const char *app, const struct release *r,
		     const char *which, struct strvec *started, struct strvec *old, char **why);

/*
 * What a killed switch left behind, for a caller holding the app lock (no
 * switch runs then): the app's services that are not of release current
 * (but warm ones before their window's end, runtime/warm.h),
 * and of two services running one instance of it, the one not kept - the
 * one s6 runs, else the older generation, is kept.  Names into strays.
 */
void services_strays(const char *root, const char *app, int current, struct strvec *strays);

/* The names of the app's services now (APP.vN-G.TYPE.I), into out. */
void services_names(const char *root, const char *app, struct strvec *out);

/* "APP.vN-G.TYPE.I" of app: N, TYPE and I; -1 when name is no service of app. */
int services_name_parse(const char *name, const char *app, int *version, char type[64],
			int *index);

/*
 * Where this machine's instances are reached: they listen on $PORT, and
 * Slipway (the router, the health checks) connects through loopback.
 */
#define SERVICES_HOST NET_LOOPBACK

/* "ADDRESS:PORT", as long as it may be, the NUL included. */
#define SERVICES_ADDRESS_MAX 64

/* SERVICES_HOST:port into out. */
void services_address_of(int port, char out[SERVICES_ADDRESS_MAX]);

/*
 * 1 when the app's web instance name is up and its app itself - the
 * process tree its sandbox started, not the forwarder of its own network
 * (exec/appnet.h), which listens on the host for it - serves its port now:
 * what made it "up" (runtime/instance.h), asked again, as of an instance
 * kept warm.  0 otherwise, also when it cannot be told.
 */
int services_serves(const char *root, const char *app, const char *name);

/*
 * The address of the app's service name (APP.vN-G.TYPE.I): SERVICES_HOST
 * and the port it holds.  SW_ENOTFOUND when it is none of the app's.
 */
int services_address(const char *root, const char *app, const char *name,
		     char out[SERVICES_ADDRESS_MAX]);

/*
 * The web instances among the app's services named in names (NULL: all its
 * services now but the warm ones, runtime/warm.h): their labels ("web.1", into labels) and ports (*ports,
 * malloc'ed, as many), sorted by index - what the router sends requests
 * to.
 */
int services_web_ports(const char *root, const char *app, const struct strvec *names,
		       struct strvec *labels, int **ports);

/*
 * One running (or stopped) instance of an app, as ps shows it.  version is
 * the release it serves (runtime/warm.h: a release equivalent to the one
 * in its name may have taken it over); state "warm" is the previous
 * release's kept out of the router.
 */
struct service_info {
	char name[128];     /* APP.vN-G.TYPE.I */
	char type[64];
	int index, version, port;
	int up;             /* s6 says the process runs */
	char state[16];     /* "starting", "up", "crashed" (waiting to start again), "warm"
	                       or "down" */
	long pid;
	long long since;    /* seconds since the epoch when it went up (or down, or warm) */
	const char *size;   /* its type's size (store/formation.h), or NULL: none set */
	const char *host;   /* the host it runs on, set by the caller when the app has run
	                       hosts (runtime/hostview.h); NULL: this server, not shown */
	long long warm_until; /* state "warm" (runtime/warm.h): when it retires; else 0 */
	long long rss;      /* bytes of memory its process tree holds, when the caller
	                       asked (warm_tree_rss() of runtime/warm.h); else 0 */
};

/*
 * The app's services, sorted by type, then warm last, then index; *out (malloc'ed, free it)
 * and *n.  Nothing when the tree does not run.
 */
int services_list(const char *root, const char *app, struct service_info **out, size_t *n);

/* Logs of instances that ran before, kept per app (the newest; runtime/logs.h). */
#define SERVICES_LOGS_KEPT 20

/*
 * For gc: removes what retired services left (once their supervisors are
 * gone) and the logs of every app's old instances but the newest
 * SERVICES_LOGS_KEPT.
 */
int services_sweep(const char *root);

/*
 * With the tree stopped: moves every service of app aside, so the next
 * server:start does not bring back a release that is no longer current.
 */
int services_forget(const char *root, const char *app);

#endif
