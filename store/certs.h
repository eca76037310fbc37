/*
 * certs.h - the certificate an app's HTTPS is served with (certs:add): its
 * chain and private key, checked with OpenSSL and kept in one file,
 * <root>/certs/APP.pem (0600, in a 0700 directory): the chain in order (the
 * app's own certificate first), then the key.  nginx reads both from it
 * (runtime/router.h).
 *
 * Part of store/: uses only util/ (and libcrypto); prints nothing.
 *
 *     struct buf chain = BUF_INIT, key = BUF_INIT;
 *     struct cert_info info = CERT_INFO_INIT;
 *     err = certs_pem_split(text, len, &chain, &key);
 *     err = certs_check(chain.data, key.data, &hosts, 0, &info);
 *     err = certs_install(root, app, chain.data, key.data);   // then router_switch()
 *
 * Whoever installs or removes one holds the app's lock (util/lock.h) and
 * then points the router at it (runtime/https.h does both, and puts the
 * file before back when the router refuses).  A certificate is live while
 * its file is there.
 */
#ifndef SW_CERTS_H
#define SW_CERTS_H

#include "util/util.h"

#include <time.h>

/*
 * The dashboard's certificate (slipway.dashboardHost) is kept as an app's
 * is, under this name, which no app can have: <root>/certs/_dashboard.pem.
 */
#define CERTS_DASHBOARD "_dashboard"

/* What a certificate says of itself, for certs and certs:info. */
struct cert_info {
	char *subject;       /* the app's certificate's subject, "CN=www.example.com, O=..." */
	char *issuer;        /* its issuer's */
	struct strvec names; /* the host names it is for: its DNS names, else its common name */
	time_t starts;       /* not before */
	time_t expires;      /* not after */
	int self_signed;     /* issued by itself */
	int trusted;         /* the chain verifies against the system's CAs */
};
#define CERT_INFO_INIT { 0 }
void cert_info_release(struct cert_info *info);

/*
 * Splits PEM text into its certificates (chain, in the order given) and its
 * one private key (key); both are appended to.  SW_EINVALID when it holds
 * no certificate, no key or more than one key.
 */
int certs_pem_split(const char *text, size_t len, struct buf *chain, struct buf *key);

enum {
	CERTS_BYPASS = 1 << 0, /* --bypass: a chain the system's CAs do not verify is taken */
	CERTS_FOR_DASHBOARD = 1 << 1, /* hosts is the dashboard's host: a refusal says so */
};

/*
 * Checks what certs:add is given: the key is the certificate's, it is valid
 * now (neither expired nor not yet valid), it covers at least one of hosts
 * (the app's host names; wildcards as RFC 6125 has them: one whole label),
 * and the chain verifies against the system's CAs ($SSL_CERT_FILE,
 * $SSL_CERT_DIR), unless flags has CERTS_BYPASS.  0 and info filled in;
 * SW_EINVALID with a one-line reason otherwise.
 */
int certs_check(const char *chain, const char *key, const struct strvec *hosts, unsigned flags,
		struct cert_info *info);

/* What the app's installed certificate says (certs, certs:info); SW_ENOTFOUND when none. */
int certs_info(const char *root, const char *app, struct cert_info *info);

/* 1 when the app has a certificate (its HTTPS is live), else 0. */
int certs_has(const char *root, const char *app);

/* The app's file as it is (*pem malloc'ed); SW_ENOTFOUND when it has none. */
int certs_read(const char *root, const char *app, char **pem);

/* Replaces the app's file with chain and key, atomically and durably. */
int certs_install(const char *root, const char *app, const char *chain, const char *key);

/* Puts back what certs_read() gave (NULL: none): for a switch the router refused. */
int certs_restore(const char *root, const char *app, const char *pem);

/* Removes the app's certificate; SW_ENOTFOUND when it has none. */
int certs_remove(const char *root, const char *app);

/* The names in info that are among hosts (info->names matched as certs_check() does). */
void certs_covered(const struct cert_info *info, const struct strvec *hosts, struct strvec *out);

#endif
