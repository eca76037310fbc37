/*
 * test_diff.c - releases:diff end to end: histories made with real
 * `git push` deploys, config changes and rollbacks, then what the command
 * prints (text and JSON), locally and over ssh, and what it refuses.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define APP "shop"

static struct app_sandbox sb;

static void setup(void)
{
	app_sandbox_init(&sb, APP, APP_SANDBOX_CREATE);
	app_sandbox_setenv(&sb, "SLIPWAY_USER=alice@example.com");
	app_sandbox_checkout(&sb, NULL, "main", NULL);
	app_sandbox_write(&sb, "Procfile", "web: ./run\n", 0644);
	app_sandbox_write(&sb, "run", "#!/bin/sh\n", 0644);
}

static void teardown(void)
{
	app_sandbox_release(&sb);
}

TestSuite(diff, .init = setup, .fini = teardown);

#define git(...) SANDBOX_OK(&sb, NULL, "git", __VA_ARGS__)

/* slipway ARGS in the sandbox (no checkout: -a is needed). */
#define sw(...) SANDBOX_RUN(&sb, sb.dir, SLIPWAY_BIN, __VA_ARGS__)

/* stdout of `slipway releases:diff ARGS -a APP`, which must succeed. */
#define diff(...) \
	app_sandbox_must(sw("releases:diff", __VA_ARGS__, "-a", APP), "releases:diff " #__VA_ARGS__)

/* Commits everything with message msg; the short sha (malloc'ed). */
static char *commit(const char *msg)
{
	free(git("add", "-A"));
	free(git("commit", "-q", "--allow-empty", "-m", msg));
	char *sha = app_sandbox_head(&sb, NULL);
	sha[7] = 0;
	return sha;
}

static void push(void)
{
	free(app_sandbox_push(&sb, "main"));
}

static void ok(struct th_result r)
{
	free(app_sandbox_must(r, "slipway"));
}

/* The line of out that starts with prefix, up to its newline (malloc'ed), or NULL. */
static char *line_of(const char *out, const char *prefix)
{
	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, prefix, strlen(prefix)))
			return strndup(p, strcspn(p, "\n"));
	return NULL;
}

/* Asserts out has the lines of section (from its first line to the next section). */
static void assert_section(const char *out, const char *section)
{
	const char *at = strstr(out, section);
	cr_assert(at && (at == out || at[-1] == '\n'), "expected:\n%s\nin:\n%s", section, out);
	const char *end = at + strlen(section);
	cr_assert(!*end || (*end != ' '), "more lines after:\n%s\nin:\n%s", section, out);
}

Test(diff, three_commits_newest_first_and_the_release_before)
{
	char *base = commit("first");
	push();
	app_sandbox_write(&sb, "a.txt", "a\n", 0644);
	char *c1 = commit("add a");
	app_sandbox_write(&sb, "b.txt", "b\n", 0644);
	char *c2 = commit("add b");
	app_sandbox_write(&sb, "a.txt", "aa\n", 0644);
	char *c3 = commit("change a");
	push();

	char *out = diff("v1", "v2");
	char *expect = th_path("=== " APP " v1 -> v2\n"
			       "Code: 3 commits (%s..%s)\n"
			       "  %s change a\n"
			       "  %s add b\n"
			       "  %s add a\n"
			       "Config: no changes\n"
			       "Slug: 0 files changed, 2 added, 0 removed (+5 B)\n"
			       "  A app/a.txt (3 bytes)\n"
			       "  A app/b.txt (2 bytes)\n"
			       "Process types: no changes\n",
			       base, c3, c3, c2, c1);
	cr_assert_str_eq(out, expect);
	/* vB alone: against the release before it; nothing: the latest */
	char *one = diff("v2"), *none = app_sandbox_must(sw("releases:diff", "-a", APP), "diff");
	cr_assert_str_eq(one, expect);
	cr_assert_str_eq(none, expect);
	free(one);
	free(none);
	free(out);
	free(expect);

	/* the same commit, slug and config: nothing differs */
	out = diff("v2", "2");
	expect = th_path("=== " APP " v2 -> v2\nCode: same commit (%s)\nConfig: no changes\n", c3);
	cr_assert(!strncmp(out, expect, strlen(expect)), "%s", out);
	free(expect);
	cr_assert(strstr(out, "\nSlug: same slug (SHA256:"), "%s", out);
	cr_assert(strstr(out, "\nProcess types: no changes\n"), "%s", out);
	free(out);
	free(base);
	free(c1);
	free(c2);
	free(c3);
}

Test(diff, config_values_masked_unless_asked)
{
	free(commit("first"));
	push();
	ok(sw("config:set", "OLD_KEY=1", "DATABASE_URL=postgres://a", "KEEP=x", "-a", APP));
	ok(sw("config:set", "NEW_KEY=2", "DATABASE_URL=postgres://b", "-a", APP));
	ok(sw("config:unset", "OLD_KEY", "-a", APP));

	char *out = diff("v2", "v4");
	const char *masked = "Config: 1 added, 1 removed, 1 changed\n"
			     "  ~ DATABASE_URL: changed\n"
			     "  + NEW_KEY\n"
			     "  - OLD_KEY\n"
			     "Slug: same slug";
	cr_assert(strstr(out, masked), "%s", out);
	cr_assert_null(strstr(out, "postgres"), "%s", out);
	cr_assert_null(strstr(out, "KEEP"), "%s", out);
	free(out);

	out = diff("v2", "v4", "--values");
	cr_assert(strstr(out, "Config: 1 added, 1 removed, 1 changed\n"
			      "  ~ DATABASE_URL: postgres://a -> postgres://b\n"
			      "  + NEW_KEY: 2\n"
			      "  - OLD_KEY: 1\n"),
		  "%s", out);
	free(out);

	/* JSON: names only, values with --values */
	out = diff("v2", "v4", "--json");
	cr_assert(strstr(out, ",\"config\":{\"added\":[\"NEW_KEY\"],\"removed\":[\"OLD_KEY\"],"
			      "\"changed\":[\"DATABASE_URL\"]},"),
		  "%s", out);
	cr_assert_null(strstr(out, "postgres"), "%s", out);
	free(out);
	out = diff("v2", "v4", "--json", "--values");
	cr_assert(strstr(out, "\"changed\":[\"DATABASE_URL\"],\"values\":{"
			      "\"DATABASE_URL\":{\"from\":\"postgres://a\",\"to\":\"postgres://b\"},"
			      "\"NEW_KEY\":{\"from\":null,\"to\":\"2\"},"
			      "\"OLD_KEY\":{\"from\":\"1\",\"to\":null}}}"),
		  "%s", out);
	free(out);
}

Test(diff, slug_lists_exactly_the_files_that_differ)
{
	app_sandbox_write(&sb, "same.txt", "same\n", 0644);
	app_sandbox_write(&sb, "lib/x.js", "one", 0644);
	app_sandbox_write(&sb, "lib/gone.js", "bye", 0644);
	app_sandbox_write(&sb, "grow.txt", "12", 0644);
	free(commit("first"));
	push();
	app_sandbox_write(&sb, "lib/x.js", "two", 0644); /* same size, other bytes */
	free(git("rm", "-q", "lib/gone.js"));
	app_sandbox_write(&sb, "lib/new.js", "new!", 0644);
	app_sandbox_write(&sb, "grow.txt", "1234", 0644);
	app_sandbox_write(&sb, "run", "#!/bin/sh\n", 0755); /* mode only */
	app_sandbox_write(&sb, "Procfile", "web: ./run web\nworker: ./run w\n", 0644);
	free(commit("second"));
	push();

	char *out = diff("v2");
	assert_section(out, "Slug: 4 files changed, 1 added, 1 removed (+23 B)\n"
			    "  M app/Procfile (11 -> 31 bytes)\n"
			    "  M app/grow.txt (2 -> 4 bytes)\n"
			    "  D app/lib/gone.js (3 bytes)\n"
			    "  A app/lib/new.js (4 bytes)\n"
			    "  M app/lib/x.js (content, 3 bytes)\n"
			    "  M app/run (mode 0644 -> 0755)\n"
			    "Process types: web changed (./run -> ./run web), worker added\n");
	free(out);

	out = diff("v2", "--json");
	cr_assert(strstr(out, "\"slug\":{\"status\":\"changed\",\"added\":1,\"removed\":1,"
			      "\"changed\":4,"),
		  "%s", out);
	cr_assert(strstr(out, "{\"status\":\"D\",\"path\":\"app/lib/gone.js\",\"from\":{\"type\":"
			      "\"file\",\"mode\":\"0644\",\"size\":3},\"to\":null}"),
		  "%s", out);
	cr_assert(strstr(out, "\"process_types\":{\"added\":[\"worker\"],\"removed\":[],"
			      "\"changed\":[\"web\"],\"commands\":{\"web\":{\"from\":\"./run\","
			      "\"to\":\"./run web\"},\"worker\":{\"from\":null,\"to\":\"./run w\"}}},"
			      "\"addons\":{\"added\":[],\"removed\":[],\"changed\":[],\"names\":{}}}\n"),
		  "%s", out);
	free(out);
}

Test(diff, a_rollback_diffs_like_any_other_release)
{
	char *c1 = commit("first");
	push();
	app_sandbox_write(&sb, "new.txt", "new\n", 0644);
	char *c2 = commit("add new");
	char *c3 = commit("empty");
	push();
	ok(sw("rollback", "v1", "-a", APP));

	/* v3 is v1 again: the rollback undid v2's commits and files */
	char *out = diff("v3");
	char *code = th_path("=== " APP " v2 -> v3\n"
			     "Code: 2 commits undone (v3 is behind v2: %s is an ancestor of %s)\n"
			     "  - %s empty\n"
			     "  - %s add new\n"
			     "Config: no changes\n"
			     "Slug: 0 files changed, 0 added, 1 removed (-4 B)\n"
			     "  D app/new.txt (4 bytes)\n",
			     c1, c3, c3, c2);
	cr_assert(!strncmp(out, code, strlen(code)), "expected:\n%s\ngot:\n%s", code, out);
	free(out);
	out = diff("v1", "v3");
	cr_assert(strstr(out, "Code: same commit ("), "%s", out);
	cr_assert(strstr(out, "Slug: same slug ("), "%s", out);
	free(out);

	/* a force push: both sides have commits of their own */
	free(git("reset", "-q", "--hard", c1));
	char *c4 = commit("other side");
	free(SANDBOX_OK(&sb, NULL, "git", "push", "-q", "-f", "heroku", "main"));
	out = diff("v2", "v4");
	char *line = line_of(out, "Code:");
	char *expect = th_path("Code: diverged (%s...%s): 1 commit only in v4, 2 only in v2", c3,
			       c4);
	cr_assert_str_eq(line, expect);
	char *lines = th_path("  + %s other side\n  - %s empty\n  - %s add new\n", c4, c3, c2);
	cr_assert(strstr(out, lines), "%s", out);
	free(lines);
	free(out);
	out = diff("v2", "v4", "--json");
	cr_assert(strstr(out, "\"code\":{\"status\":\"diverged\",\"ahead\":1,"), "%s", out);
	free(out);
	free(line);
	free(expect);
	free(code);
	free(c1);
	free(c2);
	free(c3);
	free(c4);
}

Test(diff, releases_without_code_and_the_json_shape)
{
	ok(sw("config:set", "A=1", "-a", APP));
	char *c = commit("first");
	push();
	char *out = diff("v2");
	char *expect = th_path("=== " APP " v1 -> v2\nCode: v1 has no code, v2 has %s\n"
			       "Config: no changes\nSlug: v1 has none\nProcess types: web added\n",
			       c);
	cr_assert_str_eq(out, expect);
	free(out);
	free(expect);

	out = diff("v2", "--json");
	char *full = app_sandbox_head(&sb, NULL);
	expect = th_path("{\"app\":\"" APP "\",\"from\":{\"version\":1,\"commit\":null,\"slug\":null},"
			 "\"to\":{\"version\":2,\"commit\":\"%s\",\"slug\":\"SHA256:",
			 full);
	cr_assert(!strncmp(out, expect, strlen(expect)), "%s", out);
	cr_assert(strstr(out, "\"},\"code\":{\"status\":\"one_side\"},\"config\":{\"added\":[],"
			      "\"removed\":[],\"changed\":[]},\"slug\":{\"status\":\"none\"},"
			      "\"process_types\":{\"added\":[\"web\"],\"removed\":[],\"changed\":[],"
			      "\"commands\":{\"web\":{\"from\":null,\"to\":\"./run\"}}},"
			      "\"addons\":{\"added\":[],\"removed\":[],\"changed\":[],\"names\":{}}}\n"),
		  "%s", out);
	free(out);
	free(expect);
	free(full);
	free(c);
}

Test(diff, a_slug_missing_from_the_store_is_said_not_refused)
{
	free(commit("first"));
	push();
	app_sandbox_write(&sb, "new.txt", "new\n", 0644);
	free(commit("second"));
	push();
	char *info = app_sandbox_must(sw("releases:info", "v1", "--json", "-a", APP), "info");
	const char *hex = strstr(info, "\"SHA256:") + strlen("\"SHA256:");
	char *file = th_path("%s/store/sha256/%.2s/%.62s.tar.zst", sb.root, hex, hex + 2);
	cr_assert_eq(unlink(file), 0, "%s", file);
	char *out = diff("v2");
	char *line = line_of(out, "Slug:");
	char *expect = th_path("Slug: %.12s -> ", hex);
	cr_assert(!strncmp(line, expect, strlen(expect)), "%s", out);
	char *why = th_path(", not compared: slug %.12s is not in the store", hex);
	cr_assert(strstr(line, why), "%s", out);
	cr_assert(strstr(out, "Code: 1 commit ("), "%s", out);
	free(why);
	free(expect);
	free(line);
	free(out);
	free(file);
	free(info);
}

Test(diff, over_ssh)
{
	free(commit("first"));
	push();
	ok(sw("config:set", "A=1", "-a", APP));
	ok(sw("access:add", "bob", "-a", APP));
	app_sandbox_setenv(&sb, "SSH_ORIGINAL_COMMAND=releases:diff v2 -a " APP);
	struct th_result r = sw("shell", "bob");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "=== " APP " v1 -> v2\nCode: same commit ("), "%s", r.out);
	cr_assert(strstr(r.out, "Config: 1 added, 0 removed, 0 changed\n  + A\n"), "%s", r.out);
	th_result_free(&r);
}

#define assert_refused app_sandbox_refused

Test(diff, refusals)
{
	assert_refused(sw("releases:diff", "-a", APP), 1, " !    " APP " has no releases.\n");
	assert_refused(sw("releases:diff", "v1", "-a", APP), 1, " !    release v1 does not exist\n");
	free(commit("first"));
	push();
	ok(sw("config:set", "A=1", "-a", APP));
	char *head = app_sandbox_ref(&sb, "refs/slipway/ledger");

	assert_refused(sw("releases:diff", "v99", "-a", APP), 1, " !    release v99 does not exist\n");
	assert_refused(sw("releases:diff", "v1", "v99", "-a", APP), 1,
		       " !    release v99 does not exist\n");
	assert_refused(sw("releases:diff", "v99", "v2", "-a", APP), 1,
		       " !    release v99 does not exist\n");
	assert_refused(sw("releases:diff", "v1", "-a", APP), 1,
		       " !    v1 is the first release of " APP
		       ": there is no release before it to compare with.\n");
	assert_refused(sw("releases:diff", "vx", "v2", "-a", APP), 1,
		       " !    invalid release version 'vx': use vN or N with N a release number "
		       "(e.g. v3)\n");
	assert_refused(sw("releases:diff", "v0", "-a", APP), 1,
		       " !    invalid release version 'v0': use vN or N with N a release number "
		       "(e.g. v3)\n");
	assert_refused(sw("releases:diff", "v1", "v2", "v3", "-a", APP), 2,
		       "error: too many arguments for releases:diff\n"
		       "Usage: slipway releases:diff [[vA] vB] -a APP [--json] [--values]\n"
		       "Run 'slipway help' for the list of commands.\n");
	assert_refused(sw("releases:diff", "v2", "-a", "nope"), 1,
		       " !    app 'nope' does not exist (create it with: slipway apps:create nope)\n");
	/* nothing changed */
	char *after = app_sandbox_ref(&sb, "refs/slipway/ledger");
	cr_assert_str_eq(after, head);
	cr_assert_eq(app_sandbox_release_count(&sb), 2);
	free(head);
	free(after);
}
