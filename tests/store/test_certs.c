/*
 * store/certs: a PEM bundle split into chain and key; the checks certs:add
 * makes (the key is the certificate's, valid now, covering one of the
 * app's host names with RFC 6125's wildcards, a chain the system's CAs
 * verify unless bypassed), each refused with its own line; the file kept
 * private, read back, put back and removed.  The certificates are made
 * here with libcrypto, self-signed, with the validity and names each test
 * wants.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include "store/certs.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define APP "myapp"

static char *root;

static void setup(void)
{
	root = th_sandbox();
}

static void teardown(void)
{
	th_sandbox_free(root);
}

TestSuite(certs, .init = setup, .fini = teardown, .timeout = 60);

/* A certificate's PEM and its key's. */
struct made {
	char *cert, *key;
};

static char *pem_of(int (*write)(BIO *, void *), void *what)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	cr_assert(write(bio, what));
	long n = BIO_get_mem_data(bio, &data);
	char *out = strndup(data, (size_t)n);
	BIO_free(bio);
	return out;
}

static int write_cert(BIO *b, void *x)
{
	return PEM_write_bio_X509(b, x);
}

static int write_key(BIO *b, void *k)
{
	return PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
}

/* A self-signed certificate for the DNS name, valid from..to seconds from now. */
static struct made make(const char *names, long from, long to)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	cr_assert(key && x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"test", -1, -1,
				   0);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, key);
	char *san = th_path("DNS:%s", names);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
	cr_assert(ext, "%s", san);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	cr_assert(X509_sign(x, key, EVP_sha256()));
	struct made m = { pem_of(write_cert, x), pem_of(write_key, key) };
	free(san);
	X509_free(x);
	EVP_PKEY_free(key);
	return m;
}

static void made_free(struct made *m)
{
	free(m->cert);
	free(m->key);
}

#define DAY 86400L

static struct strvec hosts_of(const char *a, const char *b)
{
	struct strvec v = STRVEC_INIT;
	strvec_push(&v, a);
	if (b)
		strvec_push(&v, b);
	return v;
}

/* certs_check with --bypass: 0, or the refusal's message into *why. */
static int check(const struct made *m, const char *key, const struct strvec *hosts, char **why)
{
	struct cert_info info = CERT_INFO_INIT;
	int err = certs_check(m->cert, key ? key : m->key, hosts, CERTS_BYPASS, &info);
	*why = strdup(err ? sw_error_last() : "");
	cert_info_release(&info);
	return err;
}

Test(certs, a_bundle_splits_into_its_chain_and_its_one_key_in_any_order)
{
	struct made a = make(APP ".localhost", 0, DAY), b = make("other.localhost", 0, DAY);
	char *text = th_path("junk\n%s%s\n%s", a.key, a.cert, b.cert);
	struct buf chain = BUF_INIT, key = BUF_INIT;
	cr_assert_eq(certs_pem_split(text, strlen(text), &chain, &key), 0, "%s", sw_error_last());
	char *want = th_path("%s%s", a.cert, b.cert);
	cr_assert_str_eq(chain.data, want, "the certificates in the order given");
	cr_assert_str_eq(key.data, a.key);
	buf_release(&chain);
	buf_release(&key);
	free(want);
	free(text);

	const char *bad[][2] = {
		{ a.cert, "no private key found" },
		{ a.key, "no certificate found" },
		{ "", "no certificate found" },
	};
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(certs_pem_split(bad[i][0], strlen(bad[i][0]), &chain, &key), SW_EINVALID);
		cr_assert(strstr(sw_error_last(), bad[i][1]), "%s", sw_error_last());
		buf_release(&chain);
		buf_release(&key);
	}
	text = th_path("%s%s%s", a.cert, a.key, b.key);
	cr_assert_eq(certs_pem_split(text, strlen(text), &chain, &key), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "more than one private key"), "%s", sw_error_last());
	buf_release(&chain);
	buf_release(&key);
	free(text);
	made_free(&a);
	made_free(&b);
}

Test(certs, each_check_refuses_with_its_own_line)
{
	struct strvec hosts = hosts_of(APP ".localhost", "www.example.com");
	struct made good = make("www.example.com", -DAY, DAY), other = make("x.localhost", 0, DAY);
	struct made expired = make("www.example.com", -2 * DAY, -DAY);
	struct made early = make("www.example.com", DAY, 2 * DAY);
	char *why = NULL;
	cr_assert_eq(check(&good, NULL, &hosts, &why), 0, "%s", why);
	free(why);
	cr_assert_eq(check(&good, other.key, &hosts, &why), SW_EINVALID);
	cr_assert_str_eq(why, "the private key does not match the certificate");
	free(why);
	cr_assert_eq(check(&expired, NULL, &hosts, &why), SW_EINVALID);
	cr_assert(!strncmp(why, "the certificate expired on 20", 29), "%s", why);
	free(why);
	cr_assert_eq(check(&early, NULL, &hosts, &why), SW_EINVALID);
	cr_assert(!strncmp(why, "the certificate is not valid before 20", 38), "%s", why);
	free(why);
	cr_assert_eq(check(&other, NULL, &hosts, &why), SW_EINVALID);
	cr_assert_str_eq(why, "the certificate is for x.localhost, none of the app's domains "
			      "(" APP ".localhost, www.example.com)");
	free(why);

	/* without --bypass: a chain the system's CAs do not verify (the control: with it, taken) */
	struct cert_info info = CERT_INFO_INIT;
	cr_assert_eq(certs_check(good.cert, good.key, &hosts, 0, &info), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "the certificate's chain does not verify: "),
		  "%s", sw_error_last());
	cr_assert(strstr(sw_error_last(), "(a private CA's certificate: add --bypass)"),
		  "%s", sw_error_last());
	cert_info_release(&info);
	made_free(&good);
	made_free(&other);
	made_free(&expired);
	made_free(&early);
	strvec_clear(&hosts);
}

Test(certs, a_wildcard_covers_one_whole_label)
{
	struct made wild = make("*.example.com", 0, DAY), partial = make("w*.example.com", 0, DAY);
	char *why = NULL;
	const struct { const char *host; int covered; } cases[] = {
		{ "www.example.com", 1 },
		{ "a.b.example.com", 0 },
		{ "example.com", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct strvec hosts = hosts_of(cases[i].host, NULL);
		int err = check(&wild, NULL, &hosts, &why);
		cr_assert_eq(err == 0, cases[i].covered, "%s: %s", cases[i].host, why);
		free(why);
		struct cert_info info = CERT_INFO_INIT;
		struct strvec covered = STRVEC_INIT;
		strvec_push(&info.names, "*.example.com");
		certs_covered(&info, &hosts, &covered);
		cr_assert_eq(covered.n, (size_t)cases[i].covered, "certs lists %s alike",
			     cases[i].host);
		strvec_clear(&covered);
		cert_info_release(&info);
		strvec_clear(&hosts);
	}
	/* a partial wildcard covers nothing */
	struct strvec hosts = hosts_of("www.example.com", NULL);
	cr_assert_eq(check(&partial, NULL, &hosts, &why), SW_EINVALID);
	free(why);
	strvec_clear(&hosts);
	made_free(&wild);
	made_free(&partial);
}

Test(certs, the_file_is_private_read_back_put_back_and_removed)
{
	struct made m = make(APP ".localhost", 0, DAY);
	char *pem = NULL;
	cr_assert_eq(certs_has(root, APP), 0);
	cr_assert_eq(certs_read(root, APP, &pem), SW_ENOTFOUND);
	cr_assert_eq(certs_remove(root, APP), SW_ENOTFOUND);
	cr_assert_eq(certs_install(root, APP, m.cert, m.key), 0, "%s", sw_error_last());
	cr_assert_eq(certs_has(root, APP), 1);
	char *file = paths_cert_file(root, APP), *dir = paths_certs_dir(root);
	struct stat st;
	cr_assert_eq(stat(file, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0700);
	cr_assert_eq(certs_read(root, APP, &pem), 0);
	char *want = th_path("%s%s", m.cert, m.key);
	cr_assert_str_eq(pem, want, "the chain, then the key");
	struct cert_info info = CERT_INFO_INIT;
	cr_assert_eq(certs_info(root, APP, &info), 0);
	cr_assert_eq(info.names.n, 1);
	cr_assert_str_eq(info.names.v[0], APP ".localhost");
	cr_assert_eq(info.self_signed, 1);
	cr_assert_eq(info.trusted, 0);
	cert_info_release(&info);

	cr_assert_eq(certs_restore(root, APP, NULL), 0);
	cr_assert_eq(certs_has(root, APP), 0, "put back as it was: none");
	cr_assert_eq(certs_restore(root, APP, pem), 0);
	cr_assert_eq(certs_has(root, APP), 1);
	cr_assert_eq(stat(file, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(certs_remove(root, APP), 0);
	cr_assert_eq(certs_has(root, APP), 0);
	free(want);
	free(pem);
	free(file);
	free(dir);
	made_free(&m);
}
