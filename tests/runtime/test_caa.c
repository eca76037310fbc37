/*
 * runtime/caa: CAA records read from their wire form, and whether a
 * record set lets the CA issue a name a certificate (RFC 8659): the
 * refusal names where the records are, the CAs they allow and the record
 * to add.
 */
#include "runtime/caa.h"

#include "util/error.h"

#include <criterion/criterion.h>
#include <string.h>

static struct strvec ids = STRVEC_INIT;
static struct caa_set set = CAA_SET_INIT;

static void setup(void)
{
	strvec_push(&ids, "letsencrypt.org");
	set.domain = strdup("example.test");
}

static void teardown(void)
{
	strvec_clear(&ids);
	caa_set_release(&set);
}

TestSuite(caa, .init = setup, .fini = teardown);

Test(caa, a_record_is_read_from_its_wire_form)
{
	static const unsigned char rr[] = "\x80\x05issueletsencrypt.org; validationmethods=http-01";
	cr_assert_eq(caa_parse(rr, sizeof(rr) - 1, &set), 0);
	cr_assert_eq(set.n, 1);
	cr_assert_eq(set.v[0].flags, CAA_CRITICAL);
	cr_assert_str_eq(set.v[0].tag, "issue");
	cr_assert_str_eq(set.v[0].value, "letsencrypt.org; validationmethods=http-01");
	/* an empty tag, a tag longer than the data: not records */
	cr_assert_eq(caa_parse((const unsigned char *)"\0\0x", 3, &set), SW_EINVALID);
	cr_assert_eq(caa_parse((const unsigned char *)"\0\x09issue", 7, &set), SW_EINVALID);
	cr_assert_eq(caa_parse((const unsigned char *)"\0", 1, &set), SW_EINVALID);
	cr_assert_eq(set.n, 1);
}

Test(caa, no_records_or_no_issue_property_allow_every_ca)
{
	cr_assert_eq(caa_allows(&set, "www.example.test", &ids), 0);
	caa_set_add(&set, 0, "iodef", "mailto:security@example.test");
	cr_assert_eq(caa_allows(&set, "www.example.test", &ids), 0);
}

Test(caa, an_issue_property_naming_the_ca_allows_it)
{
	caa_set_add(&set, 0, "issue", "sectigo.com");
	caa_set_add(&set, 0, "ISSUE", "  LetsEncrypt.org ; accounturi=https://x/acct/1");
	cr_assert_eq(caa_allows(&set, "www.example.test", &ids), 0, "%s", sw_error_last());
}

Test(caa, only_other_cas_refuse_with_one_line_naming_them)
{
	caa_set_add(&set, 0, "issue", "sectigo.com");
	caa_set_add(&set, 0, "issue", "digicert.com; cansignhttpexchanges=yes");
	caa_set_add(&set, 0, "issue", "sectigo.com");
	cr_assert_eq(caa_allows(&set, "myapp.example.test", &ids), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "myapp.example.test: its CAA records (at example.test) "
					  "allow only other CAs (sectigo.com, digicert.com), not "
					  "letsencrypt.org: add `0 issue \"letsencrypt.org\"`");
}

Test(caa, an_empty_issuer_allows_no_ca)
{
	caa_set_add(&set, 0, "issue", ";");
	cr_assert_eq(caa_allows(&set, "myapp.example.test", &ids), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "myapp.example.test: its CAA records (at example.test) "
					  "allow no CA (`0 issue \";\"`), so not letsencrypt.org: add "
					  "`0 issue \"letsencrypt.org\"`");
}

Test(caa, validation_methods_without_http01_refuse)
{
	caa_set_add(&set, 0, "issue", "letsencrypt.org; validationmethods=dns-01,tls-alpn-01");
	cr_assert_eq(caa_allows(&set, "myapp.example.test", &ids), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "allow letsencrypt.org only with validation methods "
					  "other than http-01"), "%s", sw_error_last());
	caa_set_add(&set, 0, "issue", "letsencrypt.org; validationmethods = dns-01,http-01");
	cr_assert_eq(caa_allows(&set, "myapp.example.test", &ids), 0, "%s", sw_error_last());
}

Test(caa, issuewild_counts_for_wildcards_only)
{
	caa_set_add(&set, 0, "issue", "letsencrypt.org");
	caa_set_add(&set, 0, "issuewild", "sectigo.com");
	cr_assert_eq(caa_allows(&set, "www.example.test", &ids), 0, "%s", sw_error_last());
	cr_assert_eq(caa_allows(&set, "*.example.test", &ids), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "add `0 issuewild \"letsencrypt.org\"`"), "%s",
		  sw_error_last());
}

Test(caa, a_wildcard_without_issuewild_goes_by_issue)
{
	caa_set_add(&set, 0, "issue", "sectigo.com");
	cr_assert_eq(caa_allows(&set, "*.example.test", &ids), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "add `0 issue \"letsencrypt.org\"`"), "%s",
		  sw_error_last());
}

Test(caa, any_of_the_cas_identities_will_do)
{
	strvec_push(&ids, "pebble.letsencrypt.org");
	caa_set_add(&set, 0, "issue", "pebble.letsencrypt.org");
	cr_assert_eq(caa_allows(&set, "www.example.test", &ids), 0, "%s", sw_error_last());
}

Test(caa, an_unknown_critical_property_allows_no_ca)
{
	caa_set_add(&set, 0, "issue", "letsencrypt.org");
	caa_set_add(&set, 0, "tbs", "unknown");
	cr_assert_eq(caa_allows(&set, "www.example.test", &ids), 0, "%s", sw_error_last());
	caa_set_add(&set, CAA_CRITICAL, "tbs", "unknown");
	cr_assert_eq(caa_allows(&set, "www.example.test", &ids), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "critical property 'tbs'"), "%s", sw_error_last());
}
