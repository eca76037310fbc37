/*
 * domains.h - the host names an app answers at besides APP.slipway.domain
 * (domains:add): one per line of <root>/apps/APP.git/slipway-domains, a
 * list file (store/listfile.h).
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * A domain is a host name: 1 to 253 characters, dot-separated labels of
 * 1 to 63 lowercase letters, digits and dashes, no label starting or
 * ending with a dash.  No two apps share one; adding takes the root's
 * domains lock, so two apps racing for a name cannot both get it.  The
 * caller of domains_add() and domains_remove() holds the app's lock
 * (util/lock.h).
 */
#ifndef SW_DOMAINS_H
#define SW_DOMAINS_H

#include "util/util.h"

/* 1 when name is a host name as above (already lowercase). */
int domain_name_valid(const char *name);

/*
 * The dashboard's host into *out (malloc'ed): slipway.dashboardHost, else
 * dashboard.<slipway.domain>.  SW_EINVALID, saying where it was set, when
 * it is not a host name: it goes into the router's configuration and every
 * login link.
 */
int domains_dashboard_host(char **out);

/* The app's domains, in the order they were added. */
int domains_list(const char *root, const char *app, struct strvec *out);

/*
 * Adds name (lowercased) to the app's domains.  SW_EINVALID when it is not
 * a host name or is owned: by another app (the message names it), or
 * reserved (default_host, the host every app already has, e.g.
 * "myapp.localhost"); SW_EEXISTS when the app has it already.
 */
int domains_add(const char *root, const char *app, const char *name, const char *default_domain);

/* Removes name; SW_ENOTFOUND when the app does not have it. */
int domains_remove(const char *root, const char *app, const char *name);

#endif
