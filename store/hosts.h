/*
 * hosts.h - the run hosts a control uses: their names, how they are
 * reached, and the version of Slipway each answered when it joined.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * The list is <root>/hosts/hosts (store/paths.h), one host a line:
 *
 *   h1 ssh://slipway@10.0.0.2 0.1.0 10.0.0.2:80
 *   h2 ssh://slipway@run2.example.com:2222 0.1.0
 *
 * the last field the address of the host's router (its nginx, as the
 * front reaches it: runtime/router.h); a line without it (a host that
 * joined before hosts said where) reads as HOST_ROUTER_UNKNOWN.
 *
 * The control itself is the host "local", never written there (the name
 * is reserved).  Readers take no lock: the file is replaced whole
 * (fs_write_atomic(), 0600, in a 0700 directory), so they see the old
 * list or the new one.  Writers hold the hosts lock (hosts_lock()) around
 * their read, check and write, so two changes never lose one another:
 *
 *     struct lock lk = LOCK_INIT;
 *     if ((err = hosts_lock(root, &lk)) < 0) ...;
 *     err = hosts_add(root, &(struct host_rec){ "h1", "ssh://slipway@10.0.0.2", "0.1.0" });
 *     lock_release(&lk);
 */
#ifndef SW_HOSTS_H
#define SW_HOSTS_H

#include <stddef.h>

#include "util/lock.h"

#define HOST_NAME_MAX_LEN 30
#define HOST_LOCAL "local"
#define HOST_ROUTER_UNKNOWN "unknown"

/* A host's ssh URL, ssh://USER@ADDRESS[:PORT], taken apart. */
struct host_url {
	char *user;     /* malloc'ed, like address */
	char *address;  /* a host name, an IPv4 address, or an IPv6 one without its brackets */
	int port;       /* 22 when the URL names none */
};
#define HOST_URL_INIT { 0 }

/* One run host: each string malloc'ed, the record's own. */
struct host_rec {
	char *name;
	char *url;      /* as host_url_parse() accepted it */
	char *version;  /* the Slipway version it answered when it joined */
	char *router;   /* "ADDRESS:PORT" of its router, or HOST_ROUTER_UNKNOWN (NULL on add: unknown) */
};

/* 1 if name is 1 to 30 lowercase letters, digits and dashes starting with a letter, not "local". */
int host_name_valid(const char *name);
/* 0, or SW_EINVALID saying what a host name may be. */
int host_name_check(const char *name);

/*
 * Parses url.  SW_EINVALID, saying what is wanted, for anything but
 * ssh://USER@ADDRESS[:PORT] with a user of lowercase letters, digits, '_'
 * and '-' (not first), an address of letters, digits, '.' and '-' (not
 * first) or [IPv6], and a port 1-65535: nothing of it can be read by ssh
 * as an option.
 */
int host_url_parse(struct host_url *out, const char *url);
void host_url_release(struct host_url *u);

/* The hosts in file order (*out malloc'ed, free with hosts_free); none without a file. */
int hosts_read(const char *root, struct host_rec **out, size_t *n);
void hosts_free(struct host_rec *v, size_t n);

/* The host named name into *out (host_rec_release() it); SW_ENOTFOUND if none. */
int hosts_find(const char *root, const char *name, struct host_rec *out);
void host_rec_release(struct host_rec *r);

/* Takes the hosts lock (<root>/locks/hosts.lock), waiting as app_lock_wait() says. */
int hosts_lock(const char *root, struct lock *lk);

/*
 * Adds rec at the end of the list; the caller holds the hosts lock.
 * SW_EEXISTS when a host has its name, or its URL (one machine, two names).
 */
int hosts_add(const char *root, const struct host_rec *rec);

/* Removes the host named name; the caller holds the hosts lock.  SW_ENOTFOUND if none. */
int hosts_remove(const char *root, const char *name);

#endif
