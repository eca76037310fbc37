#include "util/error.h"
#include "util/units.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

Test(units, parse_seconds)
{
	int s;
	cr_assert_eq(units_parse_seconds("90", &s), 0);
	cr_assert_eq(s, 90);
	cr_assert_eq(units_parse_seconds("15m", &s), 0);
	cr_assert_eq(s, 900);
	cr_assert_eq(units_parse_seconds("1H", &s), 0);
	cr_assert_eq(s, 3600);
	const char *bad[] = { "", "0", "-1", "1d", "5 m", "m", "99999999999999999999", "169h", NULL };
	for (size_t i = 0; bad[i]; i++) {
		s = -7;
		cr_assert_eq(units_parse_seconds(bad[i], &s), SW_EINVALID, "%s", bad[i]);
		cr_assert_eq(s, -7);
	}
}

Test(units, parse_and_format_sizes)
{
	uint64_t b;
	cr_assert_eq(units_parse_size("500M", &b), 0);
	cr_assert_eq(b, (uint64_t)500 << 20);
	cr_assert_eq(units_parse_size("4k", &b), 0);
	cr_assert_eq(b, 4096);
	cr_assert_eq(units_parse_size("1G", &b), 0);
	cr_assert_eq(b, (uint64_t)1 << 30);
	cr_assert_eq(units_parse_size("12", &b), 0);
	cr_assert_eq(b, 12);
	cr_assert_eq(units_parse_size("1T", &b), SW_EINVALID);
	cr_assert_eq(units_parse_size("0", &b), SW_EINVALID);
	cr_assert_eq(units_parse_size("M", &b), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "invalid size 'M'"));

	char buf[32];
	units_format_size((uint64_t)500 << 20, buf, sizeof(buf));
	cr_assert_str_eq(buf, "500M");
	units_format_size((uint64_t)(502.5 * 1024 * 1024), buf, sizeof(buf));
	cr_assert_str_eq(buf, "502.5M");
	units_format_size(4096, buf, sizeof(buf));
	cr_assert_str_eq(buf, "4K");
	units_format_size(1000, buf, sizeof(buf));
	cr_assert_str_eq(buf, "1000B");
}
