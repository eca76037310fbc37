/*
 * dns.h - questions to the DNS for certs:auto's checks before an order
 * (runtime/acme.h): where a name points, and its records of a type (CAA).
 *
 * Part of runtime/: prints nothing.
 *
 * server is the DNS server to ask, "ADDRESS:PORT" (slipway.acmeResolver,
 * such as the one a test CA asks), or NULL or "" for the system's resolver
 * (/etc/resolv.conf; dns_addresses() reads /etc/hosts too, as
 * getaddrinfo() does).  A CNAME is followed by the server, as for any
 * question.
 *
 *     err = dns_addresses(server, "www.example.com", &addrs);
 *     err = dns_records(server, "example.com", 257, each_caa, &ctx);
 */
#ifndef SW_RUNTIME_DNS_H
#define SW_RUNTIME_DNS_H

#include <stddef.h>

#include "util/util.h"

/*
 * name's IPv4 and IPv6 addresses, as text, appended to addrs: none when it
 * does not resolve.  SW_EINVALID when server is not ADDRESS:PORT.
 */
int dns_addresses(const char *server, const char *name, struct strvec *addrs);

/* Called with the data of each record found; non-zero stops and is returned. */
typedef int dns_rdata_fn(const unsigned char *rdata, size_t len, void *ctx);

/*
 * Calls each for every record of type (ns_t_caa: 257) that name has: not
 * at all when it has none or does not exist.  SW_ERROR, with the reason
 * as the message ("server failure", "no answer in time", "refused"), when
 * the server gave no answer to go by; SW_EINVALID when server is not
 * ADDRESS:PORT.
 */
int dns_records(const char *server, const char *name, int type, dns_rdata_fn *each, void *ctx);

#endif
