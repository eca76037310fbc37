/*
 * acme.h - what automatic certificates (certs:auto) keep under the root:
 * the ACME HTTP-01 answers the router serves, the server's ACME account
 * and each app's state (store/paths.h has where).
 *
 * Part of store/: uses only util/; prints nothing.
 *
 *     err = acme_dirs_make(root, app);          // the webroot, the account's and app's dirs
 *     err = acme_challenge_put(root, token, keyauth);   // what uacme's hook does
 *     err = acme_challenge_remove(root, token);
 *
 * An app's certificates renew themselves while its directory is there
 * (acme_enabled()).  The account's and the apps' directories are 0700:
 * they hold private keys.  The webroot is readable by all (an operator's
 * nginx serves it too).
 */
#ifndef SW_STORE_ACME_H
#define SW_STORE_ACME_H

/* Makes the webroot, the account's directory and, app non-NULL, the app's. */
int acme_dirs_make(const char *root, const char *app);

/* 1 when a token is one an ACME server sends (base64url, 1 to 128 characters), else 0. */
int acme_token_valid(const char *token);

/* Writes keyauth as the answer to token (atomically); SW_EINVALID for a token that is none. */
int acme_challenge_put(const char *root, const char *token, const char *keyauth);

/* Removes the answer to token; none is fine. */
int acme_challenge_remove(const char *root, const char *token);

/* 1 when certs:auto is on for the app (its directory is there), else 0. */
int acme_enabled(const char *root, const char *app);

/* Turns certs:auto off: the app's directory goes (its certificate stays installed). */
int acme_disable(const char *root, const char *app);

#endif
