/* buildpacks/node/lib/semver.sh: the engines.node matcher of the node buildpack, run by /bin/sh. */
#include "tests/helpers.h"

#include <criterion/criterion.h>

static const char script[] = ". \"$0\"; semver_satisfies \"$1\" \"$2\"";

static int satisfies(const char *version, const char *range)
{
	struct th_result r = th_runv(NULL, NULL, "/bin/sh", "-c", script,
				     SOURCE_DIR "/buildpacks/node/lib/semver.sh", version, range,
				     NULL);
	int status = r.status;
	cr_assert(status == 0 || status == 1, "%s '%s': exit %d: %s", version, range, status, r.err);
	th_result_free(&r);
	return status == 0;
}

static const struct {
	const char *version, *range;
	int want;
} cases[] = {
	{ "20.20.2", "", 1 },           { "20.20.2", "x", 1 },
	{ "20.20.2", "*", 1 },          { "20.20.2", "latest", 1 },
	{ "20.20.2", "20", 1 },         { "20.20.2", "18", 0 },
	{ "20.20.2", "20.x", 1 },       { "20.20.2", "18.x", 0 },
	{ "20.20.2", "20.20.x", 1 },    { "20.20.2", "20.20.2", 1 },
	{ "20.20.2", "v20.20.2", 1 },   { "20.20.2", "=20.20.1", 0 },
	{ "20.20.2", ">=16", 1 },       { "20.20.2", ">= 16", 1 },
	{ "20.20.2", ">=21", 0 },       { "20.20.2", ">20", 0 },
	{ "20.20.2", ">20.19", 1 },     { "20.20.2", ">20.20.1", 1 },
	{ "20.20.2", "<20", 0 },        { "20.20.2", "<=20", 1 },
	{ "20.20.2", "<=20.19", 0 },    { "20.20.2", ">=18 <21", 1 },
	{ "20.20.2", ">=18 <20", 0 },   { "20.20.2", "^18.2.0", 0 },
	{ "20.20.2", "^20.1.0", 1 },    { "20.20.2", "^20.21.0", 0 },
	{ "20.20.2", "~20.20", 1 },     { "20.20.2", "~20.19", 0 },
	{ "20.20.2", "~18.2", 0 },      { "20.20.2", "18.x || 20.x", 1 },
	{ "20.20.2", "16 || 18", 0 },   { "0.2.5", "^0.2.3", 1 },
	{ "0.3.0", "^0.2.3", 0 },       { "0.0.3", "^0.0.3", 1 },
	{ "0.0.4", "^0.0.3", 0 },       { "20.20.2", "1.2 - 2.3", 0 },
	{ "20.20.2", "lts/*", 0 },
};

Test(semver, ranges)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(satisfies(cases[i].version, cases[i].range), cases[i].want,
			     "%s '%s': want %s", cases[i].version, cases[i].range,
			     cases[i].want ? "satisfied" : "not satisfied");
}
