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
		2, "the desired state's phase 'later' is not one this host applies: switch");
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
	REFUSED("slug " SLUG "\nabc", 2, "the slug's bytes have the SHA-256 ");
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
	free(want);
	free(in);
	free(p);
}
