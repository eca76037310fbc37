#include "builder/buildpacks.h"
#include "util/error.h"
#include "builder/limits.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <string.h>

Test(limits, parse_seconds)
{
	int s;
	cr_assert_eq(limits_parse_seconds("90", &s), 0);
	cr_assert_eq(s, 90);
	cr_assert_eq(limits_parse_seconds("15m", &s), 0);
	cr_assert_eq(s, 900);
	cr_assert_eq(limits_parse_seconds("1H", &s), 0);
	cr_assert_eq(s, 3600);
	const char *bad[] = { "", "0", "-1", "1d", "5 m", "m", "99999999999999999999", "169h", NULL };
	for (size_t i = 0; bad[i]; i++) {
		s = -7;
		cr_assert_eq(limits_parse_seconds(bad[i], &s), SW_EINVALID, "%s", bad[i]);
		cr_assert_eq(s, -7);
	}
}

Test(limits, parse_and_format_sizes)
{
	uint64_t b;
	cr_assert_eq(limits_parse_size("500M", &b), 0);
	cr_assert_eq(b, (uint64_t)500 << 20);
	cr_assert_eq(limits_parse_size("4k", &b), 0);
	cr_assert_eq(b, 4096);
	cr_assert_eq(limits_parse_size("1G", &b), 0);
	cr_assert_eq(b, (uint64_t)1 << 30);
	cr_assert_eq(limits_parse_size("12", &b), 0);
	cr_assert_eq(b, 12);
	cr_assert_eq(limits_parse_size("1T", &b), SW_EINVALID);
	cr_assert_eq(limits_parse_size("0", &b), SW_EINVALID);
	cr_assert_eq(limits_parse_size("M", &b), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "invalid size 'M'"));

	char buf[32];
	limits_format_size((uint64_t)500 << 20, buf, sizeof(buf));
	cr_assert_str_eq(buf, "500M");
	limits_format_size((uint64_t)(502.5 * 1024 * 1024), buf, sizeof(buf));
	cr_assert_str_eq(buf, "502.5M");
	limits_format_size(4096, buf, sizeof(buf));
	cr_assert_str_eq(buf, "4K");
	limits_format_size(1000, buf, sizeof(buf));
	cr_assert_str_eq(buf, "1000B");
}

Test(limits, buildpack_list_files_parse)
{
	struct strvec l = STRVEC_INIT;
	const char *text = "# first\n  /srv/a  \r\n\nhttps://x/y.git#v1\n\tnode\n";
	cr_assert_eq(buildpacks_parse(text, strlen(text), &l), 0);
	cr_assert_eq(l.n, 3);
	cr_assert_str_eq(l.v[0], "/srv/a");
	cr_assert_str_eq(l.v[1], "https://x/y.git#v1");
	cr_assert_str_eq(l.v[2], "node");
	strvec_clear(&l);

	const char *bad = "/ok\n/has space\n";
	cr_assert_eq(buildpacks_parse(bad, strlen(bad), &l), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "line 2: "), "%s", sw_error_last());
	strvec_clear(&l);
}
