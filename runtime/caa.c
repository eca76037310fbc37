#define _GNU_SOURCE
#include "runtime/caa.h"

#include "runtime/dns.h"
#include "util/error.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* the DNS type of CAA records */
#define CAA_TYPE 257

void caa_set_add(struct caa_set *set, unsigned flags, const char *tag, const char *value)
{
	set->v = xrealloc(set->v, (set->n + 1) * sizeof(*set->v));
	set->v[set->n++] = (struct caa_record){ .flags = flags, .tag = xstrdup(tag),
						 .value = xstrdup(value) };
}

void caa_set_release(struct caa_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->v[i].tag);
		free(set->v[i].value);
	}
	free(set->v);
	free(set->domain);
	memset(set, 0, sizeof(*set));
}

int caa_parse(const unsigned char *rdata, size_t len, struct caa_set *set)
{
	/* flags (1 byte), tag length (1 byte, 1 to 15), tag, value (the rest) */
	if (len < 2 || rdata[1] < 1 || rdata[1] > 15 || (size_t)rdata[1] + 2 > len)
		return sw_error_set(SW_EINVALID, "not a CAA record");
	char *tag = xstrndup((const char *)rdata + 2, rdata[1]);
	char *value = xstrndup((const char *)rdata + 2 + rdata[1], len - 2 - rdata[1]);
	caa_set_add(set, rdata[0], tag, value);
	free(tag);
	free(value);
	return 0;
}

static int add_record(const unsigned char *rdata, size_t len, void *ctx)
{
	/* a record that cannot be read is one a CA cannot read either: it is kept out */
	caa_parse(rdata, len, ctx);
	return 0;
}

int caa_find(const char *server, const char *name, struct caa_set *set)
{
	const char *at = !strncmp(name, "*.", 2) ? name + 2 : name;
	int err = 0;
	caa_set_release(set);
	/* the name, then each parent up to the top-level domain: the first set wins */
	while (!err && !set->n && *at) {
		err = dns_records(server, at, CAA_TYPE, add_record, set);
		if (err == SW_ERROR) {
			char *why = xstrdup(sw_error_last());
			err = sw_error_set(SW_EINVALID, "%s: the DNS gave no answer for the CAA records "
					   "of %s (%s), and a CA does not issue without one", name, at,
					   why);
			free(why);
		}
		if (!err && set->n)
			set->domain = xstrdup(at);
		const char *dot = strchr(at, '.');
		at = dot ? dot + 1 : "";
	}
	return err;
}

/* s without the blanks around it, at most cap - 1 bytes, into out */
static void trimmed(const char *s, size_t n, char *out, size_t cap)
{
	while (n && isblank((unsigned char)*s))
		s++, n--;
	while (n && isblank((unsigned char)s[n - 1]))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

/*
 * Whether an issue value's parameters ("k=v; k=v") let the CA validate by
 * HTTP-01: no validationmethods, or one that lists http-01 (RFC 8657).
 */
static int http01_allowed(const char *params)
{
	for (const char *p = params; p && *p;) {
		const char *end = strchrnul(p, ';'), *eq = memchr(p, '=', (size_t)(end - p));
		char key[64], val[256];
		if (eq) {
			trimmed(p, (size_t)(eq - p), key, sizeof(key));
			trimmed(eq + 1, (size_t)(end - eq - 1), val, sizeof(val));
			if (!strcasecmp(key, "validationmethods")) {
				char *save = NULL, method[64];
				for (char *m = strtok_r(val, ",", &save); m;
				     m = strtok_r(NULL, ",", &save)) {
					trimmed(m, strlen(m), method, sizeof(method));
					if (!strcmp(method, "http-01"))
						return 1;
				}
				return 0;
			}
		}
		p = *end ? end + 1 : end;
	}
	return 1;
}

/* What the issue properties of a set say of the CA. */
struct verdict {
	int properties;         /* how many there are */
	int allowed;            /* one names the CA, HTTP-01 allowed */
	int methods;            /* one names the CA, but not with HTTP-01 */
	struct strvec others;   /* the other CAs they name */
};

static void weigh(const char *value, const struct strvec *ids, struct verdict *v)
{
	const char *semi = strchr(value, ';');
	char issuer[256];
	trimmed(value, semi ? (size_t)(semi - value) : strlen(value), issuer, sizeof(issuer));
	v->properties++;
	if (!*issuer) /* ";": no CA */
		return;
	for (size_t i = 0; i < ids->n; i++)
		if (!strcasecmp(issuer, ids->v[i])) {
			if (http01_allowed(semi ? semi + 1 : NULL))
				v->allowed = 1;
			else
				v->methods = 1;
			return;
		}
	for (size_t i = 0; i < v->others.n; i++)
		if (!strcasecmp(v->others.v[i], issuer))
			return;
	strvec_push(&v->others, issuer);
}

int caa_allows(const struct caa_set *set, const char *name, const struct strvec *identities)
{
	const char *tag = "issue", *ca = identities->v[0];
	struct verdict v = { .others = STRVEC_INIT };
	int err = 0;
	for (size_t i = 0; i < set->n; i++) {
		const char *t = set->v[i].tag;
		if ((set->v[i].flags & CAA_CRITICAL) && strcasecmp(t, "issue") &&
		    strcasecmp(t, "issuewild") && strcasecmp(t, "iodef"))
			return sw_error_set(SW_EINVALID, "%s: its CAA records (at %s) have a critical "
					    "property '%s' that CAs do not know, so none issues: remove "
					    "it", name, set->domain, t);
		if (!strncmp(name, "*.", 2) && !strcasecmp(t, "issuewild"))
			tag = "issuewild";
	}
	for (size_t i = 0; i < set->n; i++)
		if (!strcasecmp(set->v[i].tag, tag))
			weigh(set->v[i].value, identities, &v);
	if (!v.properties || v.allowed) {
		err = 0;
	} else if (v.methods) {
		err = sw_error_set(SW_EINVALID, "%s: its CAA records (at %s) allow %s only with "
				   "validation methods other than http-01, which this server answers: "
				   "add http-01 to their validationmethods", name, set->domain, ca);
	} else {
		struct buf list = BUF_INIT;
		for (size_t i = 0; i < v.others.n; i++)
			buf_addf(&list, "%s%s", i ? ", " : "", v.others.v[i]);
		if (v.others.n)
			err = sw_error_set(SW_EINVALID, "%s: its CAA records (at %s) allow only other "
					   "CAs (%s), not %s: add `0 %s \"%s\"`", name, set->domain,
					   list.data, ca, tag, ca);
		else
			err = sw_error_set(SW_EINVALID, "%s: its CAA records (at %s) allow no CA "
					   "(`0 %s \";\"`), so not %s: add `0 %s \"%s\"`", name,
					   set->domain, tag, ca, tag, ca);
		buf_release(&list);
	}
	strvec_clear(&v.others);
	return err;
}
