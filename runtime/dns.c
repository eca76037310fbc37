#define _GNU_SOURCE
#include "runtime/dns.h"

#include "util/error.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* how often a DNS server is asked, and how long each answer is waited for */
#define DNS_TRIES 2
#define DNS_TRY_MS 2500

/* The system's resolver, and server's address ("ADDRESS:PORT") when there is one. */
static int dns_open(struct __res_state *st, const char *server, struct sockaddr_in *sa_out)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	if (server && *server) {
		char host[64];
		const char *colon = strrchr(server, ':');
		int port = colon ? atoi(colon + 1) : 53;
		size_t hn = colon ? (size_t)(colon - server) : strlen(server);
		if (hn >= sizeof(host) || port < 1 || port > 65535)
			return sw_error_set(SW_EINVALID,
					    "slipway.acmeResolver: '%s' is not ADDRESS:PORT", server);
		memcpy(host, server, hn);
		host[hn] = '\0';
		sa.sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
			return sw_error_set(SW_EINVALID,
					    "slipway.acmeResolver: '%s' is not ADDRESS:PORT", server);
	}
	memset(st, 0, sizeof(*st));
	if (res_ninit(st) < 0)
		return sw_error_set(SW_ERROR, "cannot set up a DNS resolver");
	*sa_out = sa;
	return 0;
}

/* Why the system's resolver gave no answer to go by; 0 when the name has no such records. */
static int no_answer(const struct __res_state *st)
{
	switch (st->res_h_errno) {
	case HOST_NOT_FOUND: /* NXDOMAIN */
	case NO_DATA:        /* NOERROR, no such records */
		return 0;
	case TRY_AGAIN:
		return sw_error_set(SW_ERROR, "server failure or no answer in time");
	default:
		return sw_error_set(SW_ERROR, "refused");
	}
}

/*
 * The question q asked of sa over UDP (tried DNS_TRIES times): the
 * answer's length in *len, 0 when the name has no such records, else
 * SW_ERROR and why.  Asked here rather than by res_nsend(), which takes an
 * empty answer without the recursion-available flag (a test server's) for
 * a referral and goes on to the next server.
 */
static int ask(const struct sockaddr_in *sa, const unsigned char *q, int qlen,
	       unsigned char *ans, int cap, int *len)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), n = -1, err = 0;
	if (fd < 0)
		return sw_error_errno(SW_ERROR, "cannot ask the DNS");
	for (int i = 0; i < DNS_TRIES && n < 0 && !err; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (sendto(fd, q, (size_t)qlen, 0, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
			err = sw_error_errno(SW_ERROR, "cannot ask the DNS");
			break;
		}
		/* only the answer to this question (its id), from that server */
		while (n < 0 && poll(&p, 1, DNS_TRY_MS) > 0) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t got = recvfrom(fd, ans, (size_t)cap, 0, (struct sockaddr *)&from, &fl);
			if (got >= HFIXEDSZ && !memcmp(ans, q, 2) && (ans[2] & 0x80) &&
			    from.sin_port == sa->sin_port && from.sin_addr.s_addr == sa->sin_addr.s_addr)
				n = (int)got;
		}
	}
	close(fd);
	*len = 0;
	if (err)
		return err;
	if (n < 0)
		return sw_error_set(SW_ERROR, "no answer in time");
	switch (ans[3] & 0x0f) {
	case ns_r_noerror:
		*len = n;
		return 0;
	case ns_r_nxdomain:
		return 0;
	case ns_r_servfail:
		return sw_error_set(SW_ERROR, "server failure");
	default:
		return sw_error_set(SW_ERROR, "refused");
	}
}

/* The answer of server (NULL, "": the system's resolver) to name's records of type. */
static int query(const char *server, const char *name, int type, unsigned char *ans, int cap,
		 int *len)
{
	struct __res_state st;
	struct sockaddr_in sa;
	unsigned char q[NS_PACKETSZ];
	int err = dns_open(&st, server, &sa);
	*len = 0;
	if (err)
		return err;
	if (!server || !*server) {
		*len = res_nquery(&st, name, ns_c_in, type, ans, cap);
		if (*len < 0) {
			*len = 0;
			err = no_answer(&st);
		}
	} else {
		int qlen = res_nmkquery(&st, ns_o_query, name, ns_c_in, type, NULL, 0, NULL, q,
					sizeof(q));
		err = qlen < 0 ? sw_error_set(SW_EINVALID, "'%s' is not a domain name", name)
			       : ask(&sa, q, qlen, ans, cap, len);
	}
	res_nclose(&st);
	return err;
}

int dns_records(const char *server, const char *name, int type, dns_rdata_fn *each, void *ctx)
{
	unsigned char ans[8192];
	ns_msg msg;
	int len = 0, err = query(server, name, type, ans, sizeof(ans), &len);
	if (err || !len)
		return err;
	if (ns_initparse(ans, len, &msg) < 0)
		return sw_error_set(SW_ERROR, "an answer that cannot be read");
	for (int i = 0; !err && i < ns_msg_count(msg, ns_s_an); i++) {
		ns_rr rr;
		/* a CNAME the server followed comes first: only the records of type */
		if (ns_parserr(&msg, ns_s_an, i, &rr) == 0 && (int)ns_rr_type(rr) == type)
			err = each(ns_rr_rdata(rr), ns_rr_rdlen(rr), ctx);
	}
	return err;
}

struct addresses {
	int af;
	struct strvec *out;
};

static int add_address(const unsigned char *rdata, size_t len, void *ctx)
{
	struct addresses *a = ctx;
	char text[INET6_ADDRSTRLEN];
	if (len == (a->af == AF_INET ? 4u : 16u) && inet_ntop(a->af, rdata, text, sizeof(text)))
		strvec_push(a->out, text);
	return 0;
}

/* the addresses the system's resolver gives (/etc/hosts too) */
static void system_addresses(const char *name, struct strvec *addrs)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
	if (getaddrinfo(name, NULL, &hints, &res))
		return;
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		char text[INET6_ADDRSTRLEN];
		void *in = a->ai_family == AF_INET
				   ? (void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
				   : (void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
		if (inet_ntop(a->ai_family, in, text, sizeof(text)))
			strvec_push(addrs, text);
	}
	freeaddrinfo(res);
}

int dns_addresses(const char *server, const char *name, struct strvec *addrs)
{
	if (!server || !*server) {
		system_addresses(name, addrs);
		return 0;
	}
	struct addresses a4 = { AF_INET, addrs }, a6 = { AF_INET6, addrs };
	int err = dns_records(server, name, ns_t_a, add_address, &a4);
	/* a name whose addresses cannot be had does not resolve */
	if (err == SW_ERROR)
		err = 0;
	int err6 = err ? err : dns_records(server, name, ns_t_aaaa, add_address, &a6);
	return err6 == SW_ERROR ? 0 : err6;
}
