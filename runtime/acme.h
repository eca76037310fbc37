/*
 * acme.h - certificates from an ACME CA (Let's Encrypt by default,
 * slipway.acmeDirectory), for certs:auto.  The client is uacme, run as the
 * server user; it answers HTTP-01 challenges through its hook, which is
 * slipway itself (ACME_HOOK_NAME, a link to the slipway program that runs
 * certs:auto:hook), writing the answers where the router serves them
 * (store/acme.h).
 *
 * Part of runtime/: prints nothing; what uacme says goes to the caller's
 * on_line.
 *
 *     err = acme_preflight(root, &names);               // before the CA is asked
 *     err = acme_issue(root, app, self, &names, &o, &chain, &key);
 *     // then https_cert_put() (runtime/https.h), as certs:add
 */
#ifndef SW_RUNTIME_ACME_H
#define SW_RUNTIME_ACME_H

#include <time.h>

#include "util/run.h"
#include "util/util.h"

/* The name the hook link has: slipway run under this name is certs:auto:hook. */
#define ACME_HOOK_NAME "slipway-acme-hook"

/*
 * The names of hosts a CA may issue a certificate for: hosts without
 * "localhost" and its subdomains (RFC 6761), in the same order.
 */
void acme_names(const struct strvec *hosts, struct strvec *out);

/*
 * Checks, before anything is ordered of the CA, that each name resolves
 * (slipway.acmeResolver's DNS server, else the system's resolver), that
 * every address it resolves to serves this router's answer to a probe
 * challenge on the port the CA asks (slipway.acmeHttpPort: a file put in
 * the webroot, fetched with the name as Host), and that its CAA records
 * let the CA issue (runtime/caa.h; the CA's name is
 * slipway.acmeCaaIdentity, else its directory's meta.caaIdentities, and
 * CAA is not checked when neither has one).  0, or SW_EINVALID with one
 * line naming the domain and the reason.
 */
int acme_preflight(const char *root, const struct strvec *names);

struct acme_opts {
	run_line_fn on_line; /* what uacme says, line by line; NULL: nothing */
	void *ctx;
	int force;           /* a new certificate even when the one there is not due */
};
#define ACME_OPTS_INIT { 0 }

/*
 * Gets a certificate for names (the first is its common name) into the
 * app's directory: the server's account is made on first use (uacme new,
 * with slipway.acmeEmail), then uacme issue, with self (the slipway
 * program) as its hook.  *issued is 1 when a new one came, 0 when the one
 * there is not yet due for renewal; either way chain and key are the
 * app's current certificate.  SW_ERROR with uacme's last complaint when it
 * fails.
 */
int acme_issue(const char *root, const char *app, const char *self, const struct strvec *names,
	       const struct acme_opts *o, int *issued, struct buf *chain, struct buf *key);

/*
 * Renewal is the runtime's service ACME_SERVICE (runtime/supervisor.h),
 * running `slipway certs:auto:schedule` as the server user: every
 * ACME_CHECK_SEC, and when woken (SIGALRM), it renews the certificate of
 * each app with certs:auto on, and the dashboard's (its state kept as an
 * app's, under CERTS_DASHBOARD, store/certs.h), once a third of its
 * lifetime is left (acme_due()), and swaps it in through the router's
 * switch.
 */
#define ACME_SERVICE "acme-renew"
#define ACME_CHECK_SEC 300

/* 1 when a certificate valid from starts to expires is due for renewal at now, else 0. */
int acme_due(time_t starts, time_t expires, time_t now);

/*
 * The service there, once the runtime runs and an app (or the dashboard)
 * has certs:auto on;
 * woken when it was there already.
 */
int acme_schedule_ensure(const char *root);

#endif
