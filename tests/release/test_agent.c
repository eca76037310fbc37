/*
 * The node agent's requests without ssh (release/agent.h, release/apply.h):
 * `slipway node-agent` reads its request on the first line of stdin and
 * the request's body after it.  A desired state that is malformed, or
 * names a slug this host lacks, is refused with one line, exit status 2
 * (malformed) or 1, and nothing is made; a slug is stored only under its
 * own SHA-256.  The host running a document is test_hosts' (integration).
 */
#define _GNU_SOURCE
#include "tests/helpers.h"
#include "store/cas.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dir, *root;

static void setup(void)
{
	dir = th_sandbox();
	root = th_path("%s/root", dir);
}

static void teardown(void)
{
	free(root);
	th_sandbox_free(dir);
}

TestSuite(agent, .init = setup, .fini = teardown);

/* The agent's answer to input (request line, then body). */
static struct th_result agent(const char *input)
{
	const char *argv[] = { SLIPWAY_BIN, "--root", root, "node-agent", NULL };
	return th_run(dir, NULL, input, argv);
}

/* Asserts a refusal: status, one line holding want, nothing answered, no app made. */
static void refused_at(struct th_at at, const char *input, int status, const char *want)
{
	struct th_result r = agent(input);
	cr_assert_eq(r.status, status, "at %s:%d: exit %d: %s", at.file, at.line, r.status, r.err);
	const char *nl = strchr(r.err, '\n');
	cr_assert(nl && !nl[1], "at %s:%d: not one line: %s", at.file, at.line, r.err);
	cr_assert(strstr(r.err, want), "at %s:%d: no '%s' in: %s", at.file, at.line, want, r.err);
	cr_assert_str_eq(r.out, "", "at %s:%d", at.file, at.line);
	char *app = th_path("%s/apps/shop.git", root);
	cr_assert_neq(access(app, F_OK), 0, "at %s:%d: %s was made", at.file, at.line, app);
	free(app);
	th_result_free(&r);
}
#define REFUSED(...) refused_at(TH_AT, __VA_ARGS__)

#define SLUG "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

Test(agent, a_malformed_desired_state_is_refused_and_nothing_is_made)
{
	REFUSED("apply\n{\"app\":\"shop\"", 2, "the desired state is not a flat JSON object");
	REFUSED("apply\n{\"app\":\"shop\",\"config\":{\"A\":\"1\"}}", 2,
		"the desired state is not a flat JSON object");
	REFUSED("apply\n{\"app\":\"shop\",\"version\":1}", 2,
		"the desired state must name its app, version, slug and phase");
	REFUSED("apply\n{\"app\":\"shop\",\"version\":1,\"slug\":\"" SLUG "\",\"phase\":\"later\"}",
		2, "the desired state's phase 'later' is not one this host applies: prepare, switch or abort");
	REFUSED("apply\n{\"app\":\"shop\",\"owner\":\"x\"}", 2,
		"the document's \"owner\" is no member of a desired state");
	REFUSED("apply\n{\"app\":\"shop\",\"version\":1,\"slug\":\"abc\"}", 2,
		"the document's \"slug\" is not a SHA-256");
	REFUSED("apply\n{\"app\":\"shop\",\"instances.web\":\"-1\"}", 2,
		"the document's \"instances.web\" is not a process type's count of instances");
	REFUSED("apply\n{\"app\":\"shop\",\"config.1A\":\"x\"}", 2,
		"the document's \"config.1A\" does not name a config var");
	REFUSED("apply\n{\"app\":\"shop\",\"version\":1,\"slug\":\"" SLUG "\",\"phase\":\"switch\","
		"\"instances.web\":1}", 2, "the document's \"web\" has instances but no process type");
	REFUSED("apply\n{\"app\":\"../x\",\"version\":1}", 2, "../x");
	/* well formed, but this host has no such slug */
	REFUSED("apply\n{\"app\":\"shop\",\"version\":1,\"slug\":\"" SLUG "\",\"phase\":\"switch\","
		"\"process.web\":\"sleep 9\",\"instances.web\":1}", 1,
		"this host has no slug " SLUG ": send it first");
}

Test(agent, a_slug_is_stored_under_its_own_sha256_only)
{
	char hex[CAS_HEX_LEN + 1];
	cr_assert_eq(cas_hash_data("abc", 3, hex), 0);
	REFUSED("slug " SLUG "\nabc", 2, "the slug sent is corrupt: its bytes hash to ");
	char *p = th_path("%s/store/sha256/%.2s/%s.tar.zst", root, hex, hex + 2);
	cr_assert_neq(access(p, F_OK), 0);
	char *in = th_path("slug %s\nabc", hex);
	struct th_result r = agent(in);
	cr_assert_eq(r.status, 0, "%s", r.err);
	char *want = th_path("{\"slug\":\"%s\",\"stored\":true,\"size\":3}\n", hex);
	cr_assert_str_eq(r.out, want);
	th_result_free(&r);
	cr_assert_eq(access(p, F_OK), 0);
	REFUSED("slug abc\n", 2, "slug takes the slug's SHA-256");
	REFUSED("state ../x\n", 2, "../x");
	REFUSED("state shop healthy\n", 2, "state takes an app and, to run its health checks, health");
	REFUSED("state ../x health\n", 2, "../x");
	REFUSED("state shop health\n", 1, "shop");
	free(want);
	free(in);
	free(p);
}

#define STAMP1 "2026-12-07T01:02:03.000001+00:00"
#define STAMP2 "2026-12-07T01:02:04.000001+00:00"

Test(agent, logs_answers_the_newest_lines_of_an_app_here)
{
	REFUSED("logs shop\n", 2, "logs takes an app and a number of lines (1 to 1500)");
	REFUSED("logs shop 0\n", 2, "logs takes an app and a number of lines (1 to 1500)");
	REFUSED("logs shop 1501\n", 2, "logs takes an app and a number of lines (1 to 1500)");
	REFUSED("logs shop 5x\n", 2, "logs takes an app and a number of lines (1 to 1500)");
	REFUSED("logs shop 5 tail\n", 2, "logs takes ps=TYPE[.N], source=app|slipway and all");
	REFUSED("logs shop 5 ps=a;b\n", 2, "logs takes ps=TYPE[.N], source=app|slipway and all");
	REFUSED("logs ../x 5\n", 2, "../x");
	REFUSED("logs shop 5\n", 1, "shop");

	const char *argv[] = { SLIPWAY_BIN, "--root", root, "apps:create", "shop", NULL };
	struct th_result r = th_run(dir, NULL, NULL, argv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	char *events = th_path("%s/logs/shop/slipway", root), *cur = th_path("%s/current", events);
	char *logs = th_path("%s/logs/shop", root);
	mkdir(logs, 0700);
	mkdir(events, 0700);
	th_write(cur, STAMP1 " slipway[api]: first\n" STAMP2 " slipway[api]: second \x1b[2J\n",
		 0600);

	r = agent("logs shop 1\n");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "{\"app\":\"shop\",\"lines\":1}\n"
				STAMP2 " slipway[api]: second \\x1b[2J\n");
	th_result_free(&r);
	r = agent("logs shop 5 source=app\n");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "{\"app\":\"shop\",\"lines\":0}\n");
	th_result_free(&r);
	r = agent("logs shop 5 source=slipway ps=api all\n");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "{\"app\":\"shop\",\"lines\":2}\n" STAMP1 " slipway[api]: first\n"
				STAMP2 " slipway[api]: second \x1b[2J\n");
	th_result_free(&r);
	free(logs);
	free(cur);
	free(events);
}
