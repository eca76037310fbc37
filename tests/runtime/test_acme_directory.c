/*
 * runtime/acme_directory: the names a CA goes by in CAA records, as its
 * ACME directory lists them (Let's Encrypt's, and pebble's, which lists
 * none).
 */
#include "runtime/acme_directory.h"

#include "util/error.h"

#include <criterion/criterion.h>
#include <string.h>

Test(acme_directory, lets_encrypts_directory_names_letsencrypt_org)
{
	static const char text[] =
		"{\n"
		"  \"keyChange\": \"https://acme-v02.api.letsencrypt.org/acme/key-change\",\n"
		"  \"meta\": {\n"
		"    \"caaIdentities\": [\n"
		"      \"letsencrypt.org\"\n"
		"    ],\n"
		"    \"termsOfService\": \"https://letsencrypt.org/documents/LE-SA-v1.4.pdf\",\n"
		"    \"website\": \"https://letsencrypt.org\"\n"
		"  },\n"
		"  \"newAccount\": \"https://acme-v02.api.letsencrypt.org/acme/new-acct\"\n"
		"}\n";
	struct strvec ids = STRVEC_INIT;
	cr_assert_eq(acme_directory_parse_caa(text, strlen(text), &ids), 0, "%s", sw_error_last());
	cr_assert_eq(ids.n, 1);
	cr_assert_str_eq(ids.v[0], "letsencrypt.org");
	strvec_clear(&ids);
}

Test(acme_directory, compact_json_with_two_identities)
{
	static const char text[] = "{\"meta\":{\"caaIdentities\":[\"a.example\",\"b.example\"]},"
				   "\"newNonce\":\"https://ca.example/nonce\"}";
	struct strvec ids = STRVEC_INIT;
	cr_assert_eq(acme_directory_parse_caa(text, strlen(text), &ids), 0, "%s", sw_error_last());
	cr_assert_eq(ids.n, 2);
	cr_assert_str_eq(ids.v[1], "b.example");
	strvec_clear(&ids);
}

Test(acme_directory, a_directory_without_identities_lists_none)
{
	static const char text[] =
		"{\n   \"keyChange\": \"https://127.0.0.1:14000/rollover-account-key\",\n"
		"   \"meta\": {\n      \"externalAccountRequired\": false,\n"
		"      \"termsOfService\": \"data:text/plain,Do%20what%20thou%20wilt\"\n   },\n"
		"   \"newAccount\": \"https://127.0.0.1:14000/sign-me-up\"\n}";
	struct strvec ids = STRVEC_INIT;
	cr_assert_eq(acme_directory_parse_caa(text, strlen(text), &ids), 0, "%s", sw_error_last());
	cr_assert_eq(ids.n, 0);
	cr_assert_eq(acme_directory_parse_caa("<html>", 6, &ids), SW_EINVALID);
	cr_assert_eq(acme_directory_parse_caa("{\"a\": [", 7, &ids), SW_EINVALID);
	strvec_clear(&ids);
}
