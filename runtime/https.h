/*
 * https.h - what is served over HTTPS: an app, or the dashboard (its host,
 * slipway.dashboardHost), whose certificate and HSTS are kept as an app's
 * are, under the name CERTS_DASHBOARD (store/certs.h); and the one way a
 * certificate is put in place or taken away (certs:add, certs:remove,
 * dashboard:certs:add, dashboard:certs:remove, certs:auto): checked,
 * installed, the router switched to it, and the certificate before put
 * back when the router refuses.
 *
 * Part of runtime/: uses store/ and runtime/router.h, runtime/logs.h;
 * prints nothing but the progress line it is given a FILE for.
 *
 *     struct https_target t = https_target_of(app);   // or CERTS_DASHBOARD
 *     struct strvec hosts = STRVEC_INIT;
 *     err = https_target_hosts(root, &t, &hosts);
 *     replaced = https_cert_put(root, &t, &hosts, chain, key, flags, stdout, &info);
 *
 * The caller holds the target's lock: an app's (store/appctx.h); for the
 * dashboard, whatever its command takes.
 */
#ifndef SW_HTTPS_H
#define SW_HTTPS_H

#include "store/certs.h"
#include "util/util.h"

#include <stdio.h>

/* Whose HTTPS: an app's, or the dashboard's. */
struct https_target {
	const char *name; /* the app, or CERTS_DASHBOARD (not copied) */
	int dashboard;    /* 1 for the dashboard */
};

/* The target named name: the dashboard for CERTS_DASHBOARD, else the app name. */
struct https_target https_target_of(const char *name);

/* What the user reads of it: "myapp", "the dashboard". */
const char *https_target_label(const struct https_target *t);

/*
 * The host names it answers at, appended to hosts: an app's default host
 * (APP.<slipway.domain>) then its domains (domains:add); the dashboard's
 * host.  The router's or the domains' error otherwise.
 */
int https_target_hosts(const char *root, const struct https_target *t, struct strvec *hosts);

/* The router pointed at the target's certificate and HSTS as they are now. */
int https_target_switch(const char *root, const struct https_target *t);

/* An event of the target's (runtime/logs.h): in the app's log, the server's for the dashboard. */
void https_target_event(const char *root, const struct https_target *t, const char *who,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Makes chain and key the target's certificate: checked for hosts (the
 * target's, https_target_hosts()) by certs_check() with flags (and
 * CERTS_FOR_DASHBOARD for the dashboard), info filled in; then installed,
 * and the router switched to it.  When the install or the switch fails, the
 * certificate before (or none) is put back, and the failure is returned.
 * With out, "Adding SSL certificate to LABEL... " is said there once the
 * check passed, and "done" or "failed" after it, as certs:add says them.
 * 1 when it replaced a certificate, 0 when the target had none; a refusal
 * of the check or a failure as a negative code, with the message set.
 */
int https_cert_put(const char *root, const struct https_target *t, const struct strvec *hosts,
		   const char *chain, const char *key, unsigned flags, FILE *out,
		   struct cert_info *info);

/*
 * Takes the target's certificate away and switches the router to plain
 * HTTP, the certificate put back when that fails; with out, "Removing SSL
 * certificate from LABEL... done" (or "failed") there.  SW_ENOTFOUND when
 * it has none (nothing said).
 */
int https_cert_remove(const char *root, const struct https_target *t, FILE *out);

#endif
