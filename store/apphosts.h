/*
 * apphosts.h - which hosts serve an app (apps:hosts:set): "local" (this
 * server) and run hosts of store/hosts.h, one per line of
 * <root>/apps/APP.git/slipway-hosts, a list file (store/listfile.h).
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * No file (or an empty one) is the default: every host that runs the app,
 * "local" and each run host its release was applied to (apphosts_placed(),
 * <root>/apps/APP.git/slipway-placed), so that joining a host never sends
 * it an app it does not run.  A list names only hosts recorded when
 * it was set; a host removed since is left out when it is read.  The
 * caller of apphosts_set() holds the app's lock (util/lock.h) and then
 * points the router at the app's hosts (runtime/router.h).
 */
#ifndef SW_APPHOSTS_H
#define SW_APPHOSTS_H

#include "util/util.h"

/*
 * The app's hosts into out (appended): "local" first when it is among
 * them, then the run hosts in the order of the hosts list.  *all is 1 for
 * the default (every host).
 */
int apphosts_list(const char *root, const char *app, struct strvec *out, int *all);

struct host_rec;

/*
 * apphosts_list() of the run hosts v[0..n) (hosts_read(), store/hosts.h),
 * for a caller that reads the hosts list for more than the names: the list
 * read once, the names and the records of one version of it.
 */
int apphosts_select(const char *root, const char *app, const struct host_rec *v, size_t n,
		    struct strvec *out, int *all);

/*
 * Records that the app's release runs on the run host host now (its node
 * agent applied it); under the default, the host serves the app from now
 * on.  The caller holds the app's lock.
 */
int apphosts_placed(const char *root, const char *app, const char *host);

/*
 * The hosts that run the app's instances, into out (appended): those
 * apps:hosts:set names, else (the default) "local" and every run host
 * recorded; "local" first, then the run hosts in the order of the hosts
 * list.  Without run hosts, "local" only (unless set without it).
 * The app's formation is spread over them (formation_share()).
 */
int apphosts_placement(const char *root, const char *app, struct strvec *out);

/* apphosts_placement() with the run hosts recorded already read (v, n: store/hosts.h). */
int apphosts_placement_of(const char *root, const char *app, const struct host_rec *v,
			  size_t n, struct strvec *out);

/*
 * Where host (a run host's name, or "local") stands among the app's
 * placement: *i its index, *n how many there are; *i == *n when it is not
 * among them.
 */
int apphosts_share_of(const char *root, const char *app, const char *host, size_t *i,
		      size_t *n);

/* Forgets that the app runs on the run host host (its instances there stopped). */
int apphosts_unplaced(const char *root, const char *app, const char *host);

/*
 * The run hosts the app's release went live on that are no longer among
 * its hosts (apps:hosts:set left them out), into out (appended), in the
 * order of the hosts list: their instances still run, and get no request.
 */
int apphosts_strays(const char *root, const char *app, struct strvec *out);

/* 1 when host (a run host's name, or "local") serves the app now. */
int apphosts_has(const char *root, const char *app, const char *host);

/*
 * Sets the app's hosts to those named in spec: "h1,h2" (commas, no
 * blanks), or "all" for the default.  SW_EINVALID naming the first host
 * that is not "local" nor a run host recorded (nothing is changed).
 */
int apphosts_set(const char *root, const char *app, const char *spec);

#endif
