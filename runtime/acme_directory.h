/*
 * acme_directory.h - what an ACME CA's directory (RFC 8555, section 7.1.1)
 * says of it before anything is ordered: the domain names it knows itself
 * by in CAA records (meta.caaIdentities; Let's Encrypt's is
 * "letsencrypt.org"), for certs:auto's checks (runtime/acme.h).
 *
 * Part of runtime/: prints nothing.  The directory is fetched with
 * libcurl, trusting the system's CAs and, when given, a bundle of others
 * (slipway.acmeCaBundle), as the ACME client does.
 *
 *     err = acme_directory_caa(url, bundle, &identities);   // none: not listed
 */
#ifndef SW_RUNTIME_ACME_DIRECTORY_H
#define SW_RUNTIME_ACME_DIRECTORY_H

#include <stddef.h>

#include "util/util.h"

/*
 * The directory at url's meta.caaIdentities appended to ids (none when it
 * lists none).  bundle: a PEM file of CAs trusted besides the system's,
 * or NULL.  SW_EINVALID with one line naming url when it cannot be read.
 */
int acme_directory_caa(const char *url, const char *bundle, struct strvec *ids);

/* The same from a directory's text (JSON); SW_EINVALID when it is not a JSON object. */
int acme_directory_parse_caa(const char *text, size_t len, struct strvec *ids);

/*
 * The system's CAs (none when it has no bundle of them), a newline, then
 * bundle's: one PEM text appended to cas, which an HTTPS client of the CA
 * trusts.  An error from reading bundle.
 */
int acme_trusted_cas(const char *bundle, struct buf *cas);

#endif
