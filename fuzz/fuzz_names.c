/*
 * fuzz_names.c - the name and version checks on arbitrary strings:
 * release_parse_version, app_name_valid/app_name_check, config_key_valid,
 * proc_name_valid, cas_valid_hex.  What they accept must match what their
 * headers promise.
 */
#include "builder/procfile.h"
#include "store/app.h"
#include "store/cas.h"
#include "store/config.h"
#include "store/release.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int all_in(const char *s, const char *set)
{
	return strspn(s, set) == strlen(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';

	int v = 0;
	if (release_parse_version(s, &v) == 0 && (v < 1 || v > RELEASE_VERSION_MAX))
		abort();

	int ok = app_name_valid(s);
	if (ok != (app_name_check(s) == 0))
		abort();
	if (ok && (strlen(s) < 1 || strlen(s) > APP_NAME_MAX || s[0] < 'a' || s[0] > 'z' ||
		   !all_in(s, "abcdefghijklmnopqrstuvwxyz0123456789-")))
		abort();

	if (config_key_valid(s) &&
	    (!*s || strlen(s) > CONFIG_KEY_MAX || (s[0] >= '0' && s[0] <= '9') ||
	     !all_in(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")))
		abort();

	if (proc_name_valid(s) &&
	    (!*s || strlen(s) > 63 ||
	     !all_in(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")))
		abort();

	if (cas_valid_hex(s) && (strlen(s) != CAS_HEX_LEN || !all_in(s, "0123456789abcdef")))
		abort();
	free(s);
	return 0;
}
