/*
 * certs_helpers.h - what the certificate suites share: their certificates
 * made by the openssl command under a private CA, curl over HTTPS to the
 * router on 127.0.0.1, an app that answers "ok", and the files a refusal
 * must leave as they were.
 *
 *	pki = certs_make_pki(&sb, "ca 'Slipway Test CA'\n"
 *				  "leaf good " HOST " 30\n");   // pki/good.pem, good.key
 *	r = certs_https(HOST, https_port, pki_ca, NULL, "/");
 *
 * Strings returned are malloc'ed and the caller's; helpers assert
 * (Criterion).
 */
#ifndef SW_TEST_CERTS_HELPERS_H
#define SW_TEST_CERTS_HELPERS_H

#include "tests/integration/app_sandbox.h"
#include "util/util.h"

/* An app's server.py that answers every GET with "ok\n" (HTTP/1.1, kept alive). */
extern const char certs_ok_server_py[];

/*
 * Makes sb's dir/pki and runs script there with sh -e, after these are
 * defined: $ec, the options of a new P-256 key without a passphrase;
 * `ca CN`, a CA for 30 days (ca.key, ca.pem); `leaf NAME CN DAYS [SAN]`,
 * NAME.key and NAME.pem that ca.pem signed for DAYS (negative: expired),
 * for SAN (default DNS:CN).  The directory's path.
 */
char *certs_make_pki(struct app_sandbox *sb, const char *script);

/*
 * curl -sS --max-time 10, then opts (NULL-terminated, at most 16; may be
 * NULL), then url: its result, which the caller checks and frees.
 */
struct th_result certs_curl(const char *const *opts, const char *url);

/*
 * certs_curl() of https://host:port then path, host resolved to
 * 127.0.0.1 and its certificate checked against the file cacert; opts
 * (at most 12; may be NULL) as certs_curl()'s.
 */
struct th_result certs_https(const char *host, int port, const char *cacert,
			     const char *const *opts, const char *path);

/*
 * "== FILE\n" then the text of each file below root (files NULL-terminated;
 * "(none)\n" for one that is not there), appended to b.
 */
void certs_add_files(struct buf *b, const char *root, const char *const *files);

/*
 * What a refusal of certs:auto* must leave as it was for app: its router
 * file and certificate, then what certs:auto and certs say.
 */
char *certs_auto_state(struct app_sandbox *sb, const char *app);

/*
 * r is a refusal in one line that starts with start: exit 1, nothing on
 * stdout, one line on stderr.  r stays the caller's, to check the rest of
 * the line (app_sandbox_refused_line() checks a whole one).
 */
#define certs_refused(r, start) certs_refused_at(TH_AT, (r), (start))
void certs_refused_at(struct th_at at, const struct th_result *r, const char *start);

#endif
