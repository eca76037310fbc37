#include "builder/buildpacks.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <string.h>

Test(buildpacks, list_files_parse)
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
