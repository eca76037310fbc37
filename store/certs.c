#define _GNU_SOURCE
#include "store/certs.h"

#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define PEM_MAX (1 << 20)

void cert_info_release(struct cert_info *info)
{
	free(info->subject);
	free(info->issuer);
	strvec_clear(&info->names);
	memset(info, 0, sizeof(*info));
}

/* The next "-----BEGIN X-----" ... "-----END X-----" block at or after p: its start and end. */
static int pem_block(const char *p, const char *end, const char **start, const char **stop,
		     char *label, size_t size)
{
	static const char begin[] = "-----BEGIN ";
	const char *b = memmem(p, (size_t)(end - p), begin, sizeof(begin) - 1);
	if (!b)
		return 0;
	const char *l = b + sizeof(begin) - 1, *le = memmem(l, (size_t)(end - l), "-----", 5);
	if (!le || (size_t)(le - l) >= size || memchr(l, '\n', (size_t)(le - l)))
		return 0;
	snprintf(label, size, "%.*s", (int)(le - l), l);
	char *want = xasprintf("-----END %s-----", label);
	const char *e = memmem(le, (size_t)(end - le), want, strlen(want));
	size_t wl = strlen(want);
	free(want);
	if (!e)
		return 0;
	*start = b;
	*stop = e + wl;
	return 1;
}

int certs_pem_split(const char *text, size_t len, struct buf *chain, struct buf *key)
{
	const char *p = text, *end = text + len, *s, *e;
	char label[64];
	int certs = 0, keys = 0;
	while (pem_block(p, end, &s, &e, label, sizeof(label))) {
		size_t n = strlen(label);
		if (!strcmp(label, "CERTIFICATE") || !strcmp(label, "TRUSTED CERTIFICATE")) {
			buf_add(chain, s, (size_t)(e - s));
			buf_adds(chain, "\n");
			certs++;
		} else if (n >= 11 && !strcmp(label + n - 11, "PRIVATE KEY")) {
			buf_add(key, s, (size_t)(e - s));
			buf_adds(key, "\n");
			keys++;
		}
		p = e;
	}
	if (!certs)
		return sw_error_set(SW_EINVALID, "no certificate found: give the certificate chain "
				    "in PEM format (-----BEGIN CERTIFICATE-----)");
	if (!keys)
		return sw_error_set(SW_EINVALID, "no private key found: give the certificate's key "
				    "in PEM format (-----BEGIN PRIVATE KEY-----)");
	if (keys > 1)
		return sw_error_set(SW_EINVALID, "more than one private key found: give only the "
				    "certificate's own key");
	return 0;
}

/* The certificates of a PEM chain, in order; SW_EINVALID when one does not parse. */
static int chain_parse(const char *pem, STACK_OF(X509) **out)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	STACK_OF(X509) *sk = sk_X509_new_null();
	X509 *x;
	while (bio && sk && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
		sk_X509_push(sk, x);
	unsigned long e = ERR_peek_last_error();
	int clean = ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
	ERR_clear_error();
	BIO_free(bio);
	if (!sk || !sk_X509_num(sk) || !clean) {
		sk_X509_pop_free(sk, X509_free);
		return sw_error_set(SW_EINVALID, "the certificate is not a valid PEM certificate");
	}
	*out = sk;
	return 0;
}

static int key_parse(const char *pem, EVP_PKEY **out)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	/* no passphrase: an encrypted key is refused, not asked for */
	*out = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"") : NULL;
	ERR_clear_error();
	BIO_free(bio);
	if (!*out)
		return sw_error_set(SW_EINVALID, "the private key is not a valid PEM key (an "
				    "encrypted key must be decrypted first: openssl pkey -in KEY)");
	return 0;
}

static char *name_text(const X509_NAME *name)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *out = NULL;
	if (bio && X509_NAME_print_ex(bio, name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		char *data = NULL;
		long n = BIO_get_mem_data(bio, &data);
		out = xstrndup(data, (size_t)n);
	}
	BIO_free(bio);
	return out ? out : xstrdup("");
}

static time_t asn1_time(const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

/* Its DNS names, else its common name. */
static void leaf_names(X509 *x, struct strvec *out)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		if (g->type == GEN_DNS)
			strvec_pushf(out, "%.*s", ASN1_STRING_length(g->d.dNSName),
				     (const char *)ASN1_STRING_get0_data(g->d.dNSName));
	}
	GENERAL_NAMES_free(gens);
	if (out->n)
		return;
	char cn[256];
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn)) > 0)
		strvec_push(out, cn);
}

/* 0 when chain[0] verifies against the system's CAs with the rest as intermediates. */
static int chain_verify(STACK_OF(X509) *chain, const char **why)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *rest = sk_X509_new_null();
	int ok = 0;
	for (int i = 1; rest && i < sk_X509_num(chain); i++)
		sk_X509_push(rest, sk_X509_value(chain, i));
	*why = "cannot verify it";
	if (store && ctx && rest && X509_STORE_set_default_paths(store) &&
	    X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), rest)) {
		X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
		ok = X509_verify_cert(ctx) == 1;
		if (!ok)
			*why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
	}
	ERR_clear_error();
	sk_X509_free(rest);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok ? 0 : -1;
}

static void describe(STACK_OF(X509) *chain, struct cert_info *info)
{
	X509 *leaf = sk_X509_value(chain, 0);
	const char *why;
	info->subject = name_text(X509_get_subject_name(leaf));
	info->issuer = name_text(X509_get_issuer_name(leaf));
	info->starts = asn1_time(X509_get0_notBefore(leaf));
	info->expires = asn1_time(X509_get0_notAfter(leaf));
	info->self_signed = X509_check_issued(leaf, leaf) == X509_V_OK;
	info->trusted = chain_verify(chain, &why) == 0;
	leaf_names(leaf, &info->names);
}

static void utc(time_t t, char out[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M UTC", &tm);
}

/* Whether the leaf covers one of hosts (RFC 6125: a wildcard is one whole left-most label). */
static int covers(X509 *leaf, const struct strvec *hosts)
{
	for (size_t i = 0; i < hosts->n; i++)
		if (X509_check_host(leaf, hosts->v[i], 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
				    NULL) == 1)
			return 1;
	return 0;
}

static int refuse_names(const struct cert_info *info, const struct strvec *hosts, unsigned flags)
{
	struct buf is = BUF_INIT, has = BUF_INIT;
	for (size_t i = 0; i < info->names.n; i++)
		buf_addf(&is, "%s%s", i ? ", " : "", info->names.v[i]);
	for (size_t i = 0; i < hosts->n; i++)
		buf_addf(&has, "%s%s", i ? ", " : "", hosts->v[i]);
	int err = sw_error_set(SW_EINVALID, "the certificate is for %s, %s (%s)",
			       info->names.n ? is.data : "no host name",
			       flags & CERTS_FOR_DASHBOARD ? "not the dashboard's host"
							   : "none of the app's domains",
			       has.data);
	buf_release(&is);
	buf_release(&has);
	return err;
}

static int check_chain(STACK_OF(X509) *chain, EVP_PKEY *key, const struct strvec *hosts,
		       unsigned flags, struct cert_info *info)
{
	X509 *leaf = sk_X509_value(chain, 0);
	char when[32];
	const char *why;
	time_t now = time(NULL);
	describe(chain, info);
	if (X509_check_private_key(leaf, key) != 1) {
		ERR_clear_error();
		return sw_error_set(SW_EINVALID, "the private key does not match the certificate");
	}
	if (info->expires <= now) {
		utc(info->expires, when);
		return sw_error_set(SW_EINVALID, "the certificate expired on %s", when);
	}
	if (info->starts > now) {
		utc(info->starts, when);
		return sw_error_set(SW_EINVALID, "the certificate is not valid before %s", when);
	}
	if (!covers(leaf, hosts))
		return refuse_names(info, hosts, flags);
	if (!(flags & CERTS_BYPASS) && chain_verify(chain, &why) < 0)
		return sw_error_set(SW_EINVALID, "the certificate's chain does not verify: %s (a "
				    "private CA's certificate: add --bypass)", why);
	return 0;
}

int certs_check(const char *chain, const char *key, const struct strvec *hosts, unsigned flags,
		struct cert_info *info)
{
	STACK_OF(X509) *sk = NULL;
	EVP_PKEY *pkey = NULL;
	int err = chain_parse(chain, &sk);
	if (!err)
		err = key_parse(key, &pkey);
	if (!err)
		err = check_chain(sk, pkey, hosts, flags, info);
	EVP_PKEY_free(pkey);
	sk_X509_pop_free(sk, X509_free);
	return err;
}

int certs_read(const char *root, const char *app, char **pem)
{
	char *path = paths_cert_file(root, app);
	int err = fs_read_file(path, PEM_MAX, pem, NULL);
	if (err == SW_ENOTFOUND)
		err = sw_error_set(SW_ENOTFOUND, "%s has no SSL certificate", app);
	free(path);
	return err;
}

int certs_has(const char *root, const char *app)
{
	char *path = paths_cert_file(root, app);
	int has = fs_exists(path);
	free(path);
	return has;
}

int certs_info(const char *root, const char *app, struct cert_info *info)
{
	char *pem = NULL;
	STACK_OF(X509) *sk = NULL;
	int err = certs_read(root, app, &pem);
	if (!err)
		err = chain_parse(pem, &sk);
	if (!err)
		describe(sk, info);
	sk_X509_pop_free(sk, X509_free);
	free(pem);
	return err;
}

/* <root>/certs, private to the server user. */
static int certs_dir(const char *root)
{
	char *dir = paths_certs_dir(root);
	int err = fs_mkdir_p(dir, 0700);
	if (!err && chmod(dir, 0700) < 0)
		err = sw_error_errno(SW_ERROR, "cannot make '%s' private", dir);
	free(dir);
	return err;
}

int certs_install(const char *root, const char *app, const char *chain, const char *key)
{
	char *path = paths_cert_file(root, app), *text = xasprintf("%s%s", chain, key);
	int err = certs_dir(root);
	if (!err)
		err = fs_write_atomic(path, text, strlen(text), 0600);
	free(text);
	free(path);
	return err;
}

int certs_remove(const char *root, const char *app)
{
	char *path = paths_cert_file(root, app);
	int err = 0;
	if (unlink(path) < 0)
		err = errno == ENOENT ? sw_error_set(SW_ENOTFOUND, "%s has no SSL certificate", app)
				      : sw_error_errno(SW_ERROR, "cannot remove '%s'", path);
	else
		err = fs_fsync_parent(path);
	free(path);
	return err;
}

int certs_restore(const char *root, const char *app, const char *pem)
{
	char *path = paths_cert_file(root, app);
	int err = 0;
	if (pem)
		err = fs_write_atomic(path, pem, strlen(pem), 0600);
	else if (unlink(path) < 0 && errno != ENOENT)
		err = sw_error_errno(SW_ERROR, "cannot remove '%s'", path);
	free(path);
	return err;
}

/* name (lowercase) matches host as a certificate name: equal, or *.REST for one label + REST. */
static int name_matches(const char *name, const char *host)
{
	if (!strncmp(name, "*.", 2)) {
		const char *dot = strchr(host, '.');
		return dot && dot != host && !strcasecmp(dot + 1, name + 2);
	}
	return !strcasecmp(name, host);
}

void certs_covered(const struct cert_info *info, const struct strvec *hosts, struct strvec *out)
{
	for (size_t i = 0; i < hosts->n; i++)
		for (size_t k = 0; k < info->names.n; k++)
			if (name_matches(info->names.v[k], hosts->v[i])) {
				strvec_push(out, hosts->v[i]);
				break;
			}
}
