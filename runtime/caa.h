/*
 * caa.h - whether a domain's CAA records (RFC 8659) let the CA issue it a
 * certificate, for certs:auto's checks before an order (runtime/acme.h).
 *
 * Part of runtime/: prints nothing.
 *
 * The relevant record set of a name is the first non-empty set of CAA
 * records found at the name, then at each of its parents up to the
 * top-level domain ("*." taken off a wildcard first).  A CNAME is followed
 * by the DNS server, as for any question, and the climb goes on from the
 * name's own parent (RFC 8659, section 3).  No set anywhere: any CA may
 * issue.
 *
 *     struct caa_set set = CAA_SET_INIT;
 *     err = caa_find(server, "www.example.com", &set);    // the DNS (runtime/dns.h)
 *     if (!err)
 *             err = caa_allows(&set, "www.example.com", &identities);
 *     caa_set_release(&set);
 */
#ifndef SW_RUNTIME_CAA_H
#define SW_RUNTIME_CAA_H

#include <stddef.h>

#include "util/util.h"

/* the flag of a property a CA must understand to issue (the issuer critical flag) */
#define CAA_CRITICAL 0x80

struct caa_record {
	unsigned flags;
	char *tag;   /* "issue", "issuewild", "iodef", ... as the record has it */
	char *value; /* "letsencrypt.org; validationmethods=http-01", ";", ... */
};

struct caa_set {
	char *domain; /* where the records were found: the name or a parent of it */
	struct caa_record *v;
	size_t n;
};
#define CAA_SET_INIT { 0 }

/* Appends a record (copies of tag and value) to set. */
void caa_set_add(struct caa_set *set, unsigned flags, const char *tag, const char *value);
void caa_set_release(struct caa_set *set);

/*
 * A CAA record's data (flags, tag length, tag, value) appended to set; 0,
 * or SW_EINVALID when it is not one.
 */
int caa_parse(const unsigned char *rdata, size_t len, struct caa_set *set);

/*
 * The relevant record set of name, asked of server (runtime/dns.h):
 * set->n is 0 when there is none.  SW_EINVALID with one line naming the
 * domain when the DNS gave no answer to go by (a CA does not issue then
 * either).
 */
int caa_find(const char *server, const char *name, struct caa_set *set);

/*
 * 0 when set lets a CA known by any of identities (its issuer domain
 * names, such as "letsencrypt.org") issue name a certificate validated by
 * HTTP-01; else SW_EINVALID with one line naming name, where the records
 * are, the CAs they allow and the record to add.  Only "issue" properties
 * count, or "issuewild" ones for a wildcard name when the set has any; a
 * set without them allows every CA.  A critical property other than
 * issue, issuewild and iodef allows none.  identities must not be empty.
 */
int caa_allows(const struct caa_set *set, const char *name, const struct strvec *identities);

#endif
