#define _GNU_SOURCE
#include "store/hosts.h"

#include "store/appctx.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

#define HOSTS_FILE_MAX (1 << 20)
#define URL_RULE "give ssh://USER@ADDRESS or ssh://USER@ADDRESS:PORT, for example ssh://slipway@10.0.0.2"

int host_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > HOST_NAME_MAX_LEN || !(name[0] >= 'a' && name[0] <= 'z') ||
	    !strcmp(name, HOST_LOCAL))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '-'))
			return 0;
	return 1;
}

int host_name_check(const char *name)
{
	if (!strcmp(name, HOST_LOCAL))
		return sw_error_set(SW_EINVALID,
			"the host name 'local' is this server's own: give the run host another name");
	if (host_name_valid(name))
		return 0;
	return sw_error_set(SW_EINVALID,
		"invalid host name '%s': use 1 to %d lowercase letters, digits and dashes, starting with a letter",
		name, HOST_NAME_MAX_LEN);
}

void host_url_release(struct host_url *u)
{
	free(u->user);
	free(u->address);
	memset(u, 0, sizeof(*u));
}

/* 1 if s[0..n) is made only of the characters in set, and does not start with '-'. */
static int only(const char *s, size_t n, const char *set)
{
	if (!n || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr(set, s[i]))
			return 0;
	return 1;
}

int host_url_parse(struct host_url *out, const char *url)
{
	static const char pre[] = "ssh://";
	const char *p = url, *at, *end;
	memset(out, 0, sizeof(*out));
	if (strncmp(p, pre, sizeof(pre) - 1) || !(at = strchr(p + sizeof(pre) - 1, '@')))
		goto bad;
	p += sizeof(pre) - 1;
	if (!only(p, (size_t)(at - p), "abcdefghijklmnopqrstuvwxyz0123456789_-"))
		goto bad;
	out->user = xstrndup(p, (size_t)(at - p));
	p = at + 1;
	if (*p == '[') {
		if (!(end = strchr(p, ']')) || !only(p + 1, (size_t)(end - p - 1), "0123456789abcdefABCDEF:"))
			goto bad;
		out->address = xstrndup(p + 1, (size_t)(end - p - 1));
		p = end + 1;
	} else {
		size_t n = strcspn(p, ":/");
		if (!only(p, n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"))
			goto bad;
		out->address = xstrndup(p, n);
		p += n;
	}
	out->port = 22;
	if (*p == ':') {
		char *e = NULL;
		long port = strtol(p + 1, &e, 10);
		if (e == p + 1 || port < 1 || port > 65535 || p[1] == '+' || p[1] == '-')
			goto bad;
		out->port = (int)port;
		p = e;
	}
	if (*p == '/')
		p++; /* a trailing slash, nothing after it */
	if (*p)
		goto bad;
	return 0;
bad:
	host_url_release(out);
	return sw_error_set(SW_EINVALID, "invalid host URL '%s': " URL_RULE, url);
}

void host_rec_release(struct host_rec *r)
{
	free(r->name);
	free(r->url);
	free(r->version);
	free(r->router);
	memset(r, 0, sizeof(*r));
}

void hosts_free(struct host_rec *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		host_rec_release(&v[i]);
	free(v);
}

/* 1 if s looks like ADDRESS:PORT (or [IPv6]:PORT) of a router. */
static int router_valid(const char *s)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || !colon[1] || colon[strspn(colon + 1, "0123456789") + 1] ||
	    strlen(colon + 1) > 5)
		return 0;
	return only(s, (size_t)(colon - s),
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-[]:");
}

/* One line "NAME URL VERSION [ROUTER]" into *r; SW_EINVALID if it is not one. */
static int parse_line(const char *s, size_t n, struct host_rec *r)
{
	char *line = xstrndup(s, n), *save = NULL;
	char *name = strtok_r(line, " \t", &save), *url = strtok_r(NULL, " \t", &save);
	char *version = strtok_r(NULL, " \t", &save), *router = strtok_r(NULL, " \t", &save);
	int err = 0;
	if (!name || !url || !version || strtok_r(NULL, " \t", &save) || !host_name_valid(name) ||
	    (router && strcmp(router, HOST_ROUTER_UNKNOWN) && !router_valid(router)))
		err = sw_error_set(SW_EINVALID, "not a host: '%s'", line);
	else
		*r = (struct host_rec){ xstrdup(name), xstrdup(url), xstrdup(version),
					xstrdup(router ? router : HOST_ROUTER_UNKNOWN) };
	free(line);
	return err;
}

int hosts_read(const char *root, struct host_rec **out, size_t *n)
{
	char *path = paths_hosts_file(root, "hosts"), *text = NULL;
	size_t len = 0, cap = 0;
	int err = fs_read_file(path, HOSTS_FILE_MAX, &text, &len);
	*out = NULL;
	*n = 0;
	if (err == SW_ENOTFOUND) {
		err = 0;
		goto done;
	}
	if (err < 0)
		goto done;
	struct text_lines it = TEXT_LINES_INIT(text, len);
	const char *s;
	size_t sn;
	while (!err && text_lines_next(&it, &s, &sn)) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		if ((err = parse_line(s, sn, &(*out)[*n])) == 0)
			(*n)++;
		else
			sw_error_prefix(err, "%s line %d: ", path, it.lineno);
	}
	if (err) {
		hosts_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
done:
	free(text);
	free(path);
	return err;
}

int hosts_find(const char *root, const char *name, struct host_rec *out)
{
	struct host_rec *v = NULL;
	size_t n = 0;
	int err = hosts_read(root, &v, &n);
	if (err < 0)
		return err;
	err = SW_ENOTFOUND;
	for (size_t i = 0; i < n && err; i++)
		if (!strcmp(v[i].name, name)) {
			*out = v[i];
			memset(&v[i], 0, sizeof(v[i]));
			err = 0;
		}
	hosts_free(v, n);
	if (err)
		return sw_error_set(SW_ENOTFOUND, "there is no host '%s' (see: slipway hosts)", name);
	return 0;
}

int hosts_lock(const char *root, struct lock *lk)
{
	char *path = paths_hosts_lock(root);
	int wait, err = app_lock_wait(&wait);
	if (!err)
		err = lock_acquire(lk, path, wait, NULL, NULL);
	if (err == SW_ELOCKED)
		sw_error_set(SW_ELOCKED, "the list of hosts is being changed: try again");
	free(path);
	return err;
}

/* One host's line: its router last, when it is known. */
static void add_line(struct buf *b, const struct host_rec *r)
{
	buf_addf(b, "%s %s %s", r->name, r->url, r->version);
	if (r->router && strcmp(r->router, HOST_ROUTER_UNKNOWN))
		buf_addf(b, " %s", r->router);
	buf_adds(b, "\n");
}

/* Writes v (all but the one at skip, when skip < n) as the list. */
static int write_list(const char *root, const struct host_rec *v, size_t n, size_t skip,
		      const struct host_rec *more)
{
	struct buf b = BUF_INIT;
	char *dir = paths_hosts_dir(root), *path = paths_hosts_file(root, "hosts");
	for (size_t i = 0; i < n; i++)
		if (i != skip)
			add_line(&b, &v[i]);
	if (more)
		add_line(&b, more);
	int err = fs_mkdir_p(dir, 0700);
	if (!err)
		err = fs_write_atomic(path, b.data ? b.data : "", b.len, 0600);
	buf_release(&b);
	free(path);
	free(dir);
	return err;
}

int hosts_add(const char *root, const struct host_rec *rec)
{
	struct host_rec *v = NULL;
	size_t n = 0;
	int err = hosts_read(root, &v, &n);
	if (!err && rec->router && strcmp(rec->router, HOST_ROUTER_UNKNOWN) &&
	    !router_valid(rec->router))
		err = sw_error_set(SW_EINVALID, "invalid router address '%.64s' of host '%s'",
				   rec->router, rec->name);
	for (size_t i = 0; !err && i < n; i++) {
		if (!strcmp(v[i].name, rec->name))
			err = sw_error_set(SW_EEXISTS,
				"there is already a host '%s' (remove it first: slipway hosts:remove %s)",
				rec->name, rec->name);
		else if (!strcmp(v[i].url, rec->url))
			err = sw_error_set(SW_EEXISTS, "%s is already the host '%s'", rec->url,
					   v[i].name);
	}
	if (!err)
		err = write_list(root, v, n, n, rec);
	hosts_free(v, n);
	return err;
}

int hosts_remove(const char *root, const char *name)
{
	struct host_rec *v = NULL;
	size_t n = 0, at;
	int err = hosts_read(root, &v, &n);
	if (err < 0)
		return err;
	for (at = 0; at < n && strcmp(v[at].name, name); at++)
		;
	if (at == n)
		err = sw_error_set(SW_ENOTFOUND, "there is no host '%s' (see: slipway hosts)", name);
	else
		err = write_list(root, v, n, at, NULL);
	hosts_free(v, n);
	return err;
}
