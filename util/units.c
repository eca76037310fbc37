#include "util/units.h"

#include "util/error.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SECONDS (7 * 24 * 3600)

/* Digits then an optional one-letter suffix from `suffixes` (case-insensitive). */
static int parse_num(const char *s, const char *suffixes, uint64_t *num, char *suffix)
{
	char *end;
	if (!s || !*s || !strchr("0123456789", *s))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	*suffix = 0;
	if (*end) {
		char c = (char)(*end | 0x20);
		if (end[1] || !strchr(suffixes, c))
			return -1;
		*suffix = c;
	}
	*num = v;
	return 0;
}

int units_parse_seconds(const char *s, int *out)
{
	uint64_t v;
	char suffix;
	if (parse_num(s, "smh", &v, &suffix) == 0) {
		uint64_t mul = suffix == 'm' ? 60 : suffix == 'h' ? 3600 : 1;
		if (v >= 1 && v <= MAX_SECONDS / mul) {
			*out = (int)(v * mul);
			return 0;
		}
	}
	return sw_error_set(SW_EINVALID, "invalid timeout '%s': use seconds, or a number with s, m or h (1s to 7 days)",
			    s ? s : "");
}

int units_parse_size(const char *s, uint64_t *out)
{
	uint64_t v;
	char suffix;
	if (parse_num(s, "kmg", &v, &suffix) == 0) {
		int shift = suffix == 'k' ? 10 : suffix == 'm' ? 20 : suffix == 'g' ? 30 : 0;
		if (v >= 1 && v <= (UINT64_MAX >> 34)) {
			*out = v << shift;
			return 0;
		}
	}
	return sw_error_set(SW_EINVALID, "invalid size '%s': use bytes, or a number with K, M or G",
			    s ? s : "");
}

void units_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64 "B", bytes);
		return;
	}
	int u = 0;
	uint64_t div = 1024;
	while (u < 3 && bytes / div >= 1024) {
		div *= 1024;
		u++;
	}
	if (bytes % div == 0)
		snprintf(buf, len, "%" PRIu64 "%c", bytes / div, units[u]);
	else
		snprintf(buf, len, "%.1f%c", (double)bytes / (double)div, units[u]);
}
