/*
 * test_releases.c - the release workflow end to end: real `git push`
 * deploys, then the `slipway` commands a user runs on the server
 * (releases, releases:info, rollback, config:*, slugs:*), checked through
 * what they print, their exit status, and the refs in the app's repository.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define APP "shop"
#define PROCFILE "web: ./run\n"
/* no test here starts the runtime: its web instances wait for it */
#define NOT_RUNNING " (not running: start the runtime with 'slipway server:start')"

/* ------------------------------------------------------------------ */
/* The sandbox: ROOT, HOME and the app's checkout, one per test.       */

static struct app_sandbox sb;

/* Keeps p until the end of the test; returns it. */
#define gc th_keep

static void setup(void)
{
	app_sandbox_init(&sb, APP, 0);
	app_sandbox_setenv(&sb, "SLIPWAY_USER=alice@example.com");
	app_sandbox_setenv(&sb, "TZ=UTC");
}

static void teardown(void)
{
	th_keep_free();
	app_sandbox_release(&sb);
}

TestSuite(releases, .init = setup, .fini = teardown);

/* slipway ARGS... NULL in dir (NULL: the sandbox, which is no git checkout). */
#define sw(in, ...) SANDBOX_RUN(&sb, (in) ? (in) : sb.dir, SLIPWAY_BIN, __VA_ARGS__)
#define git(in, ...) SANDBOX_RUN(&sb, (in) ? (in) : sb.dir, "git", __VA_ARGS__)

/* stdout of a command that must succeed; kept until the end of the test. */
#define OK(r) gc(app_sandbox_must((r), #r))

static void create_app(const char *app)
{
	char *out = OK(sw(NULL, "apps:create", app, NULL));
	cr_assert(strstr(out, "Creating"), "%s", out);
}

/* A checkout at sb.src with a Procfile, its remote "heroku" the app. */
static void init_checkout(void)
{
	app_sandbox_checkout(&sb, NULL, "main", NULL);
	app_sandbox_write(&sb, "Procfile", PROCFILE, 0644);
}

/*
 * Writes index.txt = content, commits and pushes; asserts the pusher sees
 * "Released vN: Deploy <sha7>".  Returns the full sha of the pushed commit
 * (kept until the end of the test).
 */
static char *deploy(int version, const char *content)
{
	app_sandbox_write(&sb, "index.txt", content, 0644);
	OK(git(sb.src, "add", "-A", NULL));
	OK(git(sb.src, "commit", "-q", "-m", content, NULL));
	char *sha = gc(app_sandbox_head(&sb, NULL));
	cr_assert_eq(strlen(sha), 40);

	char *err = app_sandbox_push(&sb, "main");
	char *line = th_path("remote: -----> Released v%d: Deploy %.7s" NOT_RUNNING, version, sha);
	cr_assert_eq(th_count(err, line), 1, "expected '%s' in:\n%s", line, err);
	free(line);
	free(err);
	return sha;
}

/* Number of releases recorded in the app's repository (refs/releases/v*). */
static int release_count_of(const char *app)
{
	char *gitdir = gc(th_path("--git-dir=%s/apps/%s.git", sb.root, app));
	char *out = OK(git(NULL, gitdir, "for-each-ref", "--format=%(refname)",
			   "refs/releases/", NULL));
	return th_count(out, "refs/releases/v");
}

static int release_count(void)
{
	return release_count_of(APP);
}

/* `git rev-parse REF` in the app's repository. */
static char *repo_rev(const char *ref)
{
	return gc(app_sandbox_ref(&sb, ref));
}

static int starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static int matches(const char *s, const char *re)
{
	regex_t rx;
	cr_assert_eq(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB | REG_NEWLINE), 0, "bad regex %s", re);
	int ok = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	return ok;
}

/* ------------------------------------------------------------------ */
/* A small JSON reader: enough to take the CLI's output apart.         */

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

/* Length of the JSON value at p: a string, object, array or literal. */
static size_t json_len(const char *p)
{
	const char *q = p;
	int depth = 0;
	do {
		if (*q == '"') {
			for (q++; *q && *q != '"'; q++)
				if (*q == '\\' && q[1])
					q++;
			cr_assert_eq(*q, '"', "unterminated JSON string in %s", p);
			q++;
		} else if (*q == '{' || *q == '[') {
			depth++;
			q++;
		} else if (*q == '}' || *q == ']') {
			depth--;
			q++;
		} else if (depth == 0) {
			while (*q && !strchr(",}] \n", *q))
				q++;
		} else {
			q++;
		}
	} while (depth > 0 && *q);
	cr_assert_eq(depth, 0, "unbalanced JSON: %s", p);
	cr_assert(q > p, "no JSON value at: %s", p);
	return (size_t)(q - p);
}

/* The raw text of member `key` of the object at obj; NULL when absent. */
static char *json_get(const char *obj, const char *key)
{
	cr_assert_not_null(obj, "no object to take '%s' from", key);
	const char *p = json_ws(obj);
	cr_assert_eq(*p, '{', "not a JSON object: %s", obj);
	p = json_ws(p + 1);
	while (*p && *p != '}') {
		cr_assert_eq(*p, '"', "bad JSON key at: %s", p);
		size_t kl = json_len(p);
		int hit = kl == strlen(key) + 2 && !strncmp(p + 1, key, strlen(key));
		p = json_ws(p + kl);
		cr_assert_eq(*p, ':', "missing ':' at: %s", p);
		p = json_ws(p + 1);
		size_t vl = json_len(p);
		if (hit)
			return gc(strndup(p, vl));
		p = json_ws(p + vl);
		if (*p == ',')
			p = json_ws(p + 1);
	}
	cr_assert_eq(*p, '}', "unterminated JSON object: %s", obj);
	return NULL;
}

/* The elements of the array at arr (at most max); returns how many. */
static size_t json_items(const char *arr, char **items, size_t max)
{
	const char *p = json_ws(arr);
	size_t n = 0;
	cr_assert_eq(*p, '[', "not a JSON array: %s", arr);
	p = json_ws(p + 1);
	while (*p && *p != ']') {
		size_t l = json_len(p);
		cr_assert(n < max, "too many JSON items");
		items[n++] = gc(strndup(p, l));
		p = json_ws(p + l);
		if (*p == ',')
			p = json_ws(p + 1);
	}
	cr_assert_eq(*p, ']', "unterminated JSON array: %s", arr);
	cr_assert_str_eq(json_ws(p + 1), "", "trailing text after the array");
	return n;
}

/* `releases:info vN --json`, one object. */
static char *info_json(int v)
{
	char *ver = gc(th_path("v%d", v));
	return OK(sw(NULL, "releases:info", ver, "--json", "-a", APP, NULL));
}

/* The slug checksum of release vN, "SHA256:<hex>" with its quotes; "null" if none. */
static char *slug_of(int v)
{
	char *slug = json_get(info_json(v), "slug");
	cr_assert_not_null(slug);
	return strcmp(slug, "null") ? json_get(slug, "checksum") : slug;
}

/* The store file of a slug checksum "SHA256:<hex>" (quoted). */
static char *slug_file(const char *checksum)
{
	const char *hex = checksum + strlen("\"SHA256:");
	return gc(th_path("%s/store/sha256/%.2s/%.62s.tar.zst", sb.root, hex, hex + 2));
}

/* The version the CLI says is current, from `releases --json`. */
static int cli_current(void)
{
	char *items[64];
	size_t n = json_items(OK(sw(NULL, "releases", "--json", "-a", APP, NULL)), items, 64);
	int current = 0, seen = 0;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(json_get(items[i], "current"), "true")) {
			current = atoi(json_get(items[i], "version"));
			seen++;
		}
	cr_assert_eq(seen, 1, "expected exactly one current release, saw %d", seen);
	return current;
}

/* The ref refs/slipway/current is the release the CLI says is current. */
static void assert_current_ref(int expect)
{
	cr_assert_eq(cli_current(), expect);
	char *info = info_json(expect);
	cr_assert_str_eq(json_get(info, "current"), "true");
	/* releases:info without a version shows the latest release, as on Heroku */
	char *dflt = OK(sw(NULL, "releases:info", "--json", "-a", APP, NULL));
	cr_assert_eq(atoi(json_get(dflt, "version")), release_count());
	char *ref = gc(th_path("refs/releases/v%d", expect));
	cr_assert_str_eq(repo_rev("refs/slipway/current"), repo_rev(ref));
}

/*
 * The history most tests start from:
 *   v1 Deploy sha1, v2 Deploy sha2 (other content), v3 Set FOO config vars,
 *   v4 Rollback to v2, v5 Rollback to v3.
 */
static void history(char **sha1, char **sha2)
{
	create_app(APP);
	init_checkout();
	*sha1 = deploy(1, "one\n");
	*sha2 = deploy(2, "two\n");
	OK(sw(NULL, "config:set", "FOO=bar", "-a", APP, NULL));
	OK(sw(NULL, "rollback", "-a", APP, NULL));
	OK(sw(NULL, "rollback", "v3", "-a", APP, NULL));
	cr_assert_eq(release_count(), 5);
}

/* Asserts a refused command: exit status, exact stderr, nothing on stdout. */
#define assert_refused app_sandbox_refused

/* ------------------------------------------------------------------ */
/* The workflow                                                        */

Test(releases, deploy_config_rollback_flow)
{
	create_app(APP);
	init_checkout();
	char *sha1 = deploy(1, "one\n");
	char *sha2 = deploy(2, "two\n");
	char *slug1 = slug_of(1), *slug2 = slug_of(2);
	cr_assert(matches(slug1, "^\"SHA256:[0-9a-f]{64}\"$"), "%s", slug1);
	cr_assert_str_neq(slug1, slug2, "different content must give a different slug");
	cr_assert_str_eq(json_get(info_json(2), "commit"), gc(th_path("\"%s\"", sha2)));

	/* config:set -> v3, same slug, new config */
	struct th_result r = sw(NULL, "config:set", "FOO=bar", "-a", APP, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Setting FOO on " APP "... done, v3" NOT_RUNNING "\nFOO: bar\n");
	th_result_free(&r);
	char *v3 = info_json(3);
	cr_assert_str_eq(json_get(v3, "description"), "\"Set FOO config vars\"");
	cr_assert_str_eq(json_get(v3, "config_vars"), "{\"FOO\":\"bar\"}");
	cr_assert_str_eq(slug_of(3), slug2);
	cr_assert_str_eq(OK(sw(NULL, "config:get", "FOO", "-a", APP, NULL)), "bar\n");
	assert_current_ref(3);

	/* rollback with no version -> v4 = v2's slug and v2's config */
	r = sw(NULL, "rollback", "-a", APP, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Rolling back " APP " to v2... done, v4" NOT_RUNNING "\n");
	cr_assert_str_eq(r.err, " !     Warning: rollback affects code and config vars; it doesn't add or remove addons.\n"
			 "To undo, run: slipway rollback v3 -a " APP "\n");
	th_result_free(&r);
	char *v4 = info_json(4);
	cr_assert_str_eq(json_get(v4, "description"), "\"Rollback to v2\"");
	cr_assert_str_eq(json_get(v4, "status"), "\"succeeded\"");
	cr_assert_str_eq(json_get(v4, "commit"), gc(th_path("\"%s\"", sha2)));
	cr_assert_str_eq(slug_of(4), slug2);
	cr_assert_str_eq(json_get(v4, "config_vars"), "{}", "v2 had no FOO, so v4 has none");
	cr_assert_str_eq(OK(sw(NULL, "config:get", "FOO", "-a", APP, NULL)), "\n");
	cr_assert_str_eq(OK(sw(NULL, "releases:info", "v4", "--shell", "-a", APP, NULL)), "");
	cr_assert_str_eq(OK(sw(NULL, "config", "--json", "-a", APP, NULL)), "{}\n");
	assert_current_ref(4);

	/* rollback v3 -> v5 with FOO back and v3's slug */
	r = sw(NULL, "rollback", "v3", "-a", APP, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Rolling back " APP " to v3... done, v5" NOT_RUNNING "\n");
	cr_assert_str_eq(r.err, " !     Warning: rollback affects code and config vars; it doesn't add or remove addons.\n"
			 "To undo, run: slipway rollback v4 -a " APP "\n");
	th_result_free(&r);
	char *v5 = info_json(5);
	cr_assert_str_eq(json_get(v5, "description"), "\"Rollback to v3\"");
	cr_assert_str_eq(json_get(v5, "config_vars"), "{\"FOO\":\"bar\"}");
	cr_assert_str_eq(slug_of(5), slug_of(3));
	cr_assert_str_eq(OK(sw(NULL, "config:get", "FOO", "-a", APP, NULL)), "bar\n");
	cr_assert_str_eq(OK(sw(NULL, "releases:info", "v5", "--shell", "-a", APP, NULL)),
			 "FOO='bar'\n");
	assert_current_ref(5);

	/* a bare number is a version too, and rolling back to v1 brings v1's slug */
	r = sw(NULL, "rollback", "1", "-a", APP, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Rolling back " APP " to v1... done, v6" NOT_RUNNING "\n");
	cr_assert_str_eq(r.err, " !     Warning: rollback affects code and config vars; it doesn't add or remove addons.\n"
			 "To undo, run: slipway rollback v5 -a " APP "\n");
	th_result_free(&r);
	cr_assert_str_eq(slug_of(6), slug1);
	cr_assert_str_eq(json_get(info_json(6), "commit"), gc(th_path("\"%s\"", sha1)));
	cr_assert_str_eq(json_get(info_json(6), "config_vars"), "{}");
	char *by_number = OK(sw(NULL, "releases:info", "3", "--json", "-a", APP, NULL));
	cr_assert_eq(atoi(json_get(by_number, "version")), 3);
	cr_assert_str_eq(json_get(by_number, "description"), json_get(v3, "description"));
	cr_assert_str_eq(json_get(by_number, "config_vars"), json_get(v3, "config_vars"));
	assert_current_ref(6);
	cr_assert_eq(release_count(), 6);
}

Test(releases, json_field_by_field)
{
	char *sha1, *sha2;
	history(&sha1, &sha2);
	time_t now = time(NULL);

	char *items[16];
	size_t n = json_items(OK(sw(NULL, "releases", "--json", "-a", APP, NULL)), items, 16);
	cr_assert_eq(n, 5);
	const char *desc[] = {
		"\"Rollback to v3\"", "\"Rollback to v2\"", "\"Set FOO config vars\"",
		gc(th_path("\"Deploy %.7s\"", sha2)), gc(th_path("\"Deploy %.7s\"", sha1)),
	};
	/* the commit each release runs: its slug's */
	const char *commit[] = { sha2, sha2, sha2, sha2, sha1 };
	int ncurrent = 0;
	for (size_t i = 0; i < n; i++) {
		const char *o = items[i];
		cr_assert_str_eq(json_get(o, "version"), gc(th_path("%zu", 5 - i)), "newest first");
		cr_assert_str_eq(json_get(o, "description"), desc[i]);
		cr_assert_str_eq(json_get(json_get(o, "user"), "email"), "\"alice@example.com\"");
		char *at = json_get(o, "created_at");
		cr_assert(matches(at, "^\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\"$"),
			  "created_at %s", at);
		struct tm tm = { 0 };
		cr_assert_not_null(strptime(at + 1, "%Y-%m-%dT%H:%M:%SZ", &tm));
		time_t t = timegm(&tm);
		cr_assert(t <= now + 5 && t >= now - 600, "created_at %s is not now", at);
		cr_assert_str_eq(json_get(o, "status"), "\"succeeded\"");
		char *cur = json_get(o, "current");
		cr_assert(!strcmp(cur, "true") || !strcmp(cur, "false"), "current %s", cur);
		if (!strcmp(cur, "true")) {
			ncurrent++;
			cr_assert_eq(i, 0, "the current release is the newest");
		}
		cr_assert_str_eq(json_get(o, "commit"), gc(th_path("\"%s\"", commit[i])));
		char *sum = json_get(json_get(o, "slug"), "checksum");
		cr_assert(matches(sum, "^\"SHA256:[0-9a-f]{64}\"$"), "checksum %s", sum);
	}
	cr_assert_eq(ncurrent, 1);
	/* the slug checksums follow the rollbacks */
	char *s[5];
	for (int i = 0; i < 5; i++)
		s[i] = json_get(json_get(items[i], "slug"), "checksum");
	cr_assert_str_eq(s[0], s[3]);
	cr_assert_str_eq(s[1], s[3]);
	cr_assert_str_eq(s[2], s[3]);
	cr_assert_str_neq(s[3], s[4]);

	/* -n limits the JSON list too */
	n = json_items(OK(sw(NULL, "releases", "--json", "-n", "2", "-a", APP, NULL)), items, 16);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(json_get(items[1], "version"), "4");

	/* the checksum is the sha256 of the stored slug's bytes */
	char *v1sum = json_get(json_get(items[0], "slug"), "checksum");
	char *sums = OK(SANDBOX_RUN(&sb, sb.dir, "sha256sum", slug_file(v1sum)));
	cr_assert(!strncmp(sums, v1sum + 8, 64), "sha256sum %s vs %s", sums, v1sum);
}

Test(releases, text_listing)
{
	char *sha1, *sha2;
	history(&sha1, &sha2);
	char *out = OK(sw(NULL, "releases", "-a", APP, NULL));
	const char *lines[] = {
		"=== " APP " Releases - Current: v5", "",
		"^v5  Rollback to v3 +alice@example.com  ",
		"^v4  Rollback to v2 +alice@example.com  ",
		"^v3  Set FOO config vars  alice@example.com  ",
		gc(th_path("^v2  Deploy %.7s +alice@example.com  ", sha2)),
		gc(th_path("^v1  Deploy %.7s +alice@example.com  ", sha1)),
	};
	const char *when = "[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} \\+0000 "
			   "\\(~ [0-9]+[smh] ago\\)$";
	char *save, *line = strtok_r(out, "\n", &save);
	/* strtok skips the empty line: check it separately */
	cr_assert(strstr(OK(sw(NULL, "releases", "-a", APP, NULL)),
			  "=== " APP " Releases - Current: v5\n\nv5  "));
	cr_assert_str_eq(line, lines[0]);
	for (size_t i = 2; i < sizeof(lines) / sizeof(lines[0]); i++) {
		line = strtok_r(NULL, "\n", &save);
		cr_assert_not_null(line, "missing row %zu", i);
		char *re = gc(th_path("%s%s", lines[i], when));
		cr_assert(matches(line, re), "row '%s' does not match %s", line, re);
	}
	cr_assert_null(strtok_r(NULL, "\n", &save), "more than 5 rows");

	/* -n 2: the two newest */
	out = OK(sw(NULL, "releases", "-n", "2", "-a", APP, NULL));
	cr_assert_eq(th_count(out, "alice@example.com"), 2, "%s", out);
	cr_assert(strstr(out, "=== " APP " Releases - Current: v5\n\nv5  Rollback to v3"), "%s", out);
	cr_assert(strstr(out, "\nv4  Rollback to v2"), "%s", out);
	cr_assert_null(strstr(out, "\nv3 "), "%s", out);

	/* an app without releases */
	create_app("empty");
	cr_assert_str_eq(OK(sw(NULL, "releases", "-a", "empty", NULL)), "empty has no releases.\n");
	cr_assert_str_eq(OK(sw(NULL, "releases", "--json", "-a", "empty", NULL)), "[]\n");
}

Test(releases, current_ref_follows_the_cli)
{
	create_app(APP);
	init_checkout();
	cr_assert_eq(release_count(), 0);
	deploy(1, "one\n");
	assert_current_ref(1);
	deploy(2, "two\n");
	assert_current_ref(2);
	OK(sw(NULL, "config:set", "FOO=bar", "-a", APP, NULL));
	assert_current_ref(3);
	OK(sw(NULL, "rollback", "v1", "-a", APP, NULL));
	assert_current_ref(4);
	cr_assert(strstr(OK(sw(NULL, "releases", "-a", APP, NULL)), "Current: v4\n"));
	/* the ledger head is the newest release */
	cr_assert_str_eq(repo_rev("refs/slipway/ledger"), repo_rev("refs/releases/v4"));
}

/* ------------------------------------------------------------------ */
/* Config vars                                                         */

Test(releases, config_set_several_unset_and_no_op)
{
	create_app(APP);
	init_checkout();
	deploy(1, "one\n");
	char *slug1 = slug_of(1);

	struct th_result r = sw(NULL, "config:set", "A=1", "B=2", "-a", APP, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Setting A, B on " APP "... done, v2" NOT_RUNNING "\nA: 1\nB: 2\n");
	th_result_free(&r);
	cr_assert_eq(release_count(), 2, "one release for both vars");
	cr_assert_str_eq(json_get(info_json(2), "description"), "\"Set A, B config vars\"");
	cr_assert_str_eq(slug_of(2), slug1, "a config change keeps the slug");

	/* setting vars to their current values: no release */
	r = sw(NULL, "config:set", "A=1", "-a", APP, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Setting A on " APP "... done, no change (still v2)\nA: 1\n");
	th_result_free(&r);
	OK(sw(NULL, "config:set", "B=2", "A=1", "-a", APP, NULL));
	cr_assert_eq(release_count(), 2);

	/* three names, in the order they were typed */
	r = sw(NULL, "config:set", "Z=3", "X=1", "Y=2", "-a", APP, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(starts(r.out, "Setting Z, X, Y on " APP "... done, v3" NOT_RUNNING "\n"), "%s", r.out);
	th_result_free(&r);
	cr_assert_str_eq(json_get(info_json(3), "description"), "\"Set Z, X, Y config vars\"");

	/* unset */
	r = sw(NULL, "config:unset", "A", "-a", APP, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Unsetting A on " APP "... done, v4" NOT_RUNNING "\n");
	th_result_free(&r);
	char *v4 = info_json(4);
	cr_assert_str_eq(json_get(v4, "description"), "\"Remove A config vars\"");
	cr_assert_str_eq(json_get(v4, "config_vars"), "{\"B\":\"2\",\"X\":\"1\",\"Y\":\"2\",\"Z\":\"3\"}");
	cr_assert_str_eq(slug_of(4), slug1);
	cr_assert_str_eq(OK(sw(NULL, "config:get", "A", "-a", APP, NULL)), "\n");
	cr_assert_str_eq(OK(sw(NULL, "config:get", "B", "-a", APP, NULL)), "2\n");

	/* unsetting what is not set: no release */
	r = sw(NULL, "config:unset", "A", "-a", APP, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Unsetting A on " APP "... done, no change (still v4)\n");
	th_result_free(&r);

	/* two at once: one release */
	r = sw(NULL, "config:unset", "X", "Y", "-a", APP, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Unsetting X, Y on " APP "... done, v5" NOT_RUNNING "\n");
	th_result_free(&r);
	cr_assert_str_eq(json_get(info_json(5), "description"), "\"Remove X, Y config vars\"");
	cr_assert_eq(release_count(), 5);
	cr_assert_str_eq(OK(sw(NULL, "config", "-a", APP, NULL)),
			 "=== " APP " Config Vars\nB: 2\nZ: 3\n");
	assert_current_ref(5);
}

/* eval's the --shell output in sh and prints $key: the bytes sh sees. */
static char *sh_value(const char *shell_out, const char *key)
{
	char *file = gc(th_path("%s/vars.sh", sb.dir));
	th_write(file, shell_out, 0644);
	char *script = gc(th_path("eval \"$(cat '%s')\"; printf %%s \"$%s\"", file, key));
	return OK(SANDBOX_RUN(&sb, sb.dir, "sh", "-c", script));
}

Test(releases, config_values_round_trip)
{
	const char *weird = "line one\nline 'two' \"three\" a=b==c h\xc3\xa9llo \xe2\x9c\x93 "
			    "$HOME `id` $(id) \\ end";
	const char *weird_json = "\"line one\\nline 'two' \\\"three\\\" a=b==c h\xc3\xa9llo "
				 "\xe2\x9c\x93 $HOME `id` $(id) \\\\ end\"";
	const char *trail = "  spaced\n\n";
	create_app(APP);
	init_checkout();
	deploy(1, "one\n");

	char *a1 = gc(th_path("WEIRD=%s", weird));
	char *a2 = gc(th_path("TRAIL=%s", trail));
	OK(sw(NULL, "config:set", a1, a2, "EQ==x=", "EMPTY=", "-a", APP, NULL));
	cr_assert_eq(release_count(), 2);

	/* config:get prints the value and a newline */
	cr_assert_str_eq(OK(sw(NULL, "config:get", "WEIRD", "-a", APP, NULL)),
			 gc(th_path("%s\n", weird)));
	cr_assert_str_eq(OK(sw(NULL, "config:get", "TRAIL", "-a", APP, NULL)),
			 gc(th_path("%s\n", trail)));
	cr_assert_str_eq(OK(sw(NULL, "config:get", "EQ", "-a", APP, NULL)), "=x=\n");
	cr_assert_str_eq(OK(sw(NULL, "config:get", "EMPTY", "-a", APP, NULL)), "\n");

	/* --shell output evaluated by sh gives back the exact bytes */
	char *shell = OK(sw(NULL, "releases:info", "v2", "--shell", "-a", APP, NULL));
	cr_assert_str_eq(sh_value(shell, "WEIRD"), weird);
	cr_assert_str_eq(sh_value(shell, "TRAIL"), trail);
	cr_assert_str_eq(sh_value(shell, "EQ"), "=x=");
	cr_assert_str_eq(sh_value(shell, "EMPTY"), "");
	cr_assert_str_eq(OK(sw(NULL, "config", "--shell", "-a", APP, NULL)), shell);
	char *one = OK(sw(NULL, "config:get", "WEIRD", "--shell", "-a", APP, NULL));
	cr_assert_str_eq(sh_value(one, "WEIRD"), weird);

	/* JSON escapes the value */
	char *json = OK(sw(NULL, "config", "--json", "-a", APP, NULL));
	cr_assert_str_eq(json_get(json, "WEIRD"), weird_json, "%s", json);
	cr_assert_str_eq(json_get(json, "TRAIL"), "\"  spaced\\n\\n\"");
	cr_assert_str_eq(json_get(json, "EQ"), "\"=x=\"");
	cr_assert_str_eq(json_get(json, "EMPTY"), "\"\"");
	cr_assert_str_eq(json_get(info_json(2), "config_vars"), gc(strndup(json, strlen(json) - 1)));

	/* the values survive a deploy and a rollback byte for byte */
	deploy(3, "two\n");
	OK(sw(NULL, "config:unset", "WEIRD", "-a", APP, NULL));
	OK(sw(NULL, "rollback", "v3", "-a", APP, NULL));
	shell = OK(sw(NULL, "releases:info", "--shell", "-a", APP, NULL));
	cr_assert_str_eq(sh_value(shell, "WEIRD"), weird);
	cr_assert_str_eq(sh_value(shell, "TRAIL"), trail);
}

Test(releases, config_before_first_deploy_is_versioned)
{
	create_app(APP);
	struct th_result r = sw(NULL, "config:set", "X=1", "-a", APP, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Setting X and restarting " APP "... done, v1\nX: 1\n");
	th_result_free(&r);

	char *items[4];
	cr_assert_eq(json_items(OK(sw(NULL, "releases", "--json", "-a", APP, NULL)), items, 4), 1);
	cr_assert_str_eq(json_get(items[0], "version"), "1");
	cr_assert_str_eq(json_get(items[0], "description"), "\"Set X config vars\"");
	cr_assert_str_eq(json_get(items[0], "slug"), "null");
	cr_assert_str_eq(json_get(items[0], "commit"), "null");
	cr_assert_str_eq(json_get(items[0], "current"), "true");
	assert_current_ref(1);

	init_checkout();
	char *sha = deploy(2, "one\n");
	char *v2 = info_json(2);
	cr_assert_str_eq(json_get(v2, "description"), gc(th_path("\"Deploy %.7s\"", sha)));
	cr_assert_str_eq(json_get(v2, "config_vars"), "{\"X\":\"1\"}", "the deploy keeps the config");
	cr_assert(matches(slug_of(2), "^\"SHA256:[0-9a-f]{64}\"$"));
	cr_assert_str_eq(OK(sw(NULL, "config:get", "X", "-a", APP, NULL)), "1\n");
	cr_assert_str_eq(OK(sw(NULL, "releases:info", "v2", "--shell", "-a", APP, NULL)), "X='1'\n");
	assert_current_ref(2);
}

/* ------------------------------------------------------------------ */
/* Refusals: exit status, message, and no new release                  */

Test(releases, rollback_to_missing_version)
{
	create_app(APP);
	init_checkout();
	deploy(1, "one\n");
	assert_refused(sw(NULL, "rollback", "v99", "-a", APP, NULL), 1,
		       " !    cannot roll back to v99: release v99 does not exist\n");
	assert_refused(sw(NULL, "rollback", "2", "-a", APP, NULL), 1,
		       " !    cannot roll back to v2: release v2 does not exist\n");
	cr_assert_eq(release_count(), 1);
	assert_current_ref(1);
}

Test(releases, rollback_invalid_version)
{
	create_app(APP);
	init_checkout();
	deploy(1, "one\n");
	const char *bad[] = { "v0", "v-1", "vx", "v99999999999999999999", "0", "3x", "v", "", "v 1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *msg = th_path(" !    invalid release version '%s': use vN or N with N a release "
				    "number (e.g. v3)\n", bad[i]);
		assert_refused(sw(NULL, "rollback", bad[i], "-a", APP, NULL), 1, msg);
		free(msg);
	}
	/* "-1" reads as an option: a usage error */
	struct th_result r = sw(NULL, "rollback", "-1", "-a", APP, NULL);
	cr_assert_eq(r.status, 2);
	cr_assert(starts(r.err, "error: unknown option '-1' for rollback\n"), "%s", r.err);
	th_result_free(&r);
	cr_assert_eq(release_count(), 1);
}

Test(releases, rollback_to_release_without_slug)
{
	create_app(APP);
	/* nothing deployed yet: nothing to roll back to */
	assert_refused(sw(NULL, "rollback", "-a", APP, NULL), 1,
		       " !    " APP " has no releases to roll back to\n");
	OK(sw(NULL, "config:set", "X=1", "-a", APP, NULL));
	assert_refused(sw(NULL, "rollback", "v1", "-a", APP, NULL), 1,
		       " !    cannot roll back to v1: it has no slug (nothing was deployed yet)\n");
	init_checkout();
	deploy(2, "one\n");
	assert_refused(sw(NULL, "rollback", "v1", "-a", APP, NULL), 1,
		       " !    cannot roll back to v1: it has no slug (nothing was deployed yet)\n");
	assert_refused(sw(NULL, "slugs:info", "v1", "-a", APP, NULL), 1,
		       " !    release v1 of " APP " has no slug\n");
	/* the default target skips releases without a slug */
	assert_refused(sw(NULL, "rollback", "-a", APP, NULL), 1,
		       " !    there is no earlier release to roll back to\n");
	cr_assert_eq(release_count(), 2);
	assert_current_ref(2);
}

/* Deploys v1 and v2 (different slugs); returns v1's slug file. */
static char *two_deploys(void)
{
	create_app(APP);
	init_checkout();
	deploy(1, "one\n");
	deploy(2, "two\n");
	cr_assert_str_neq(slug_of(1), slug_of(2));
	char *file = slug_file(slug_of(1));
	struct stat st;
	cr_assert_eq(stat(file, &st), 0, "no slug file %s", file);
	return file;
}

Test(releases, rollback_when_slug_missing_from_store)
{
	char *file = two_deploys();
	char *dir = gc(strndup(file, (size_t)(strrchr(file, '/') - file)));
	chmod(dir, 0755);
	chmod(file, 0644);
	cr_assert_eq(unlink(file), 0);
	char *msg = gc(th_path(" !    cannot roll back to v1: its slug %.12s is missing from the store\n",
			       slug_of(1) + 8));
	assert_refused(sw(NULL, "rollback", "v1", "-a", APP, NULL), 1, msg);
	/* without a version, a release whose slug is gone is skipped, and said so */
	assert_refused(sw(NULL, "rollback", "-a", APP, NULL), 1,
		       " !    there is no earlier release to roll back to (skipped v1: slug missing "
		       "from the store)\n");
	cr_assert_eq(release_count(), 2);
	assert_current_ref(2);
	char *why = gc(th_path("\nEligible for Rollback?: No (its slug %.12s is missing from the "
			       "store)\n", slug_of(1) + 8));
	char *info = OK(sw(NULL, "releases:info", "v1", "-a", APP, NULL));
	cr_assert(strstr(info, why), "%s", info);
	struct th_result r = sw(NULL, "slugs:contents", "v1", "-a", APP, NULL);
	cr_assert_eq(r.status, 1);
	th_result_free(&r);
}

#define corrupt th_corrupt

Test(releases, rollback_when_slug_corrupt_in_store)
{
	corrupt(two_deploys());
	char *msg = gc(th_path(" !    cannot roll back to v1: its slug %.12s is corrupt in the store\n",
			       slug_of(1) + 8));
	assert_refused(sw(NULL, "rollback", "v1", "-a", APP, NULL), 1, msg);
	assert_refused(sw(NULL, "rollback", "-a", APP, NULL), 1,
		       " !    there is no earlier release to roll back to (skipped v1: slug corrupt "
		       "in the store)\n");
	cr_assert_eq(release_count(), 2);
	assert_current_ref(2);
	char *why = gc(th_path("\nEligible for Rollback?: No (its slug %.12s is corrupt in the "
			       "store)\n", slug_of(1) + 8));
	char *info = OK(sw(NULL, "releases:info", "v1", "-a", APP, NULL));
	cr_assert(strstr(info, why), "%s", info);
	/* slug inspection refuses the corrupt slug too */
	struct th_result r = sw(NULL, "slugs:contents", "v1", "-a", APP, NULL);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "is corrupt"), "%s", r.err);
	cr_assert_str_eq(r.out, "");
	th_result_free(&r);
}

Test(releases, config_set_invalid_key)
{
	create_app(APP);
	init_checkout();
	deploy(1, "one\n");
	const char *bad[][2] = {
		{ "1BAD=x", "1BAD" }, { "A-B=x", "A-B" }, { "=x", "" }, { "A B=x", "A B" },
		{ "\xc3\xa9=x", "\xc3\xa9" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *msg = th_path(" !    invalid config var name '%s': use letters, digits and '_', "
				    "not starting with a digit\n", bad[i][1]);
		assert_refused(sw(NULL, "config:set", bad[i][0], "-a", APP, NULL), 1, msg);
		free(msg);
	}
	/* one bad name refuses the whole command */
	assert_refused(sw(NULL, "config:set", "GOOD=1", "1BAD=x", "-a", APP, NULL), 1,
		       " !    invalid config var name '1BAD': use letters, digits and '_', "
		       "not starting with a digit\n");
	assert_refused(sw(NULL, "config:unset", "A-B", "-a", APP, NULL), 1,
		       " !    invalid config var name 'A-B': use letters, digits and '_', "
		       "not starting with a digit\n");
	cr_assert_str_eq(OK(sw(NULL, "config", "--json", "-a", APP, NULL)), "{}\n");
	cr_assert_eq(release_count(), 1);
	/* the good ones: letters, digits, '_' */
	OK(sw(NULL, "config:set", "_a9=1", "Z_Z=2", "-a", APP, NULL));
	cr_assert_eq(release_count(), 2);
}

Test(releases, config_set_without_equals_is_usage_error)
{
	create_app(APP);
	init_checkout();
	deploy(1, "one\n");
	struct th_result r = sw(NULL, "config:set", "NOEQ", "-a", APP, NULL);
	cr_assert_eq(r.status, 2);
	cr_assert_str_eq(r.err, "error: 'NOEQ' is not KEY=value\n"
				"Usage: slipway config:set KEY=value [KEY2=value2 ...] -a APP\n"
				"Run 'slipway help' for the list of commands.\n");
	cr_assert_str_eq(r.out, "");
	th_result_free(&r);
	r = sw(NULL, "config:set", "-a", APP, NULL);
	cr_assert_eq(r.status, 2);
	cr_assert(starts(r.err, "error: missing argument for config:set\n"), "%s", r.err);
	th_result_free(&r);
	cr_assert_eq(release_count(), 1);
}

/*
 * Values are capped at CONFIG_VALUE_MAX (64 KiB).  A 1 MB value cannot be
 * tested through argv at all: Linux refuses any single argument over
 * MAX_ARG_STRLEN (128 KiB) with E2BIG before slipway runs, so the test
 * uses a value just over the cap, and checks the cap itself is accepted.
 */
Test(releases, config_value_too_long)
{
	create_app(APP);
	init_checkout();
	deploy(1, "one\n");
	size_t max = 64 * 1024;
	char *arg = malloc(max + 1 + 5);
	memcpy(arg, "BIG=", 4);
	memset(arg + 4, 'a', max + 1);
	arg[4 + max + 1] = '\0';
	assert_refused(sw(NULL, "config:set", arg, "-a", APP, NULL), 1,
		       " !    the value of 'BIG' is too long (max 65536 bytes)\n");
	cr_assert_eq(release_count(), 1);

	arg[4 + max] = '\0';
	OK(sw(NULL, "config:set", arg, "-a", APP, NULL));
	cr_assert_eq(release_count(), 2);
	char *got = OK(sw(NULL, "config:get", "BIG", "-a", APP, NULL));
	cr_assert_eq(strlen(got), max + 1);
	cr_assert_eq(memcmp(got, arg + 4, max), 0);
	free(arg);
}

Test(releases, unknown_app)
{
	create_app(APP);
	const char *cmds[][3] = {
		{ "releases", NULL }, { "releases:info", NULL }, { "releases:output", NULL },
		{ "rollback", NULL }, { "rollback", "v1" }, { "config", NULL },
		{ "config:get", "A" }, { "config:set", "A=1" }, { "config:unset", "A" },
		{ "slugs:info", "v1" }, { "slugs:contents", "v1" },
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct th_result r = cmds[i][1]
			? sw(NULL, cmds[i][0], cmds[i][1], "-a", "nope", NULL)
			: sw(NULL, cmds[i][0], "-a", "nope", NULL);
		cr_assert_eq(r.status, 1, "%s: exit %d", cmds[i][0], r.status);
		cr_assert_str_eq(r.err, " !    app 'nope' does not exist "
					"(create it with: slipway apps:create nope)\n", "%s", cmds[i][0]);
		cr_assert_str_eq(r.out, "");
		th_result_free(&r);
	}
	char *gone = gc(th_path("%s/apps/nope.git", sb.root));
	struct stat st;
	cr_assert_neq(stat(gone, &st), 0, "a refused command created the app");
	cr_assert_eq(release_count(), 0);
}

Test(releases, missing_app_outside_a_checkout)
{
	create_app(APP);
	const char *msg = "error: no app specified: use -a APP\n";
	const char *cmds[][2] = {
		{ "releases", NULL }, { "rollback", NULL }, { "config:set", "A=1" }, { "config", NULL },
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct th_result r = sw(sb.dir, cmds[i][0], cmds[i][1], NULL);
		cr_assert_eq(r.status, 2, "%s: exit %d: %s", cmds[i][0], r.status, r.err);
		cr_assert(starts(r.err, msg), "%s", r.err);
		cr_assert_str_eq(r.out, "");
		th_result_free(&r);
	}
	/* a checkout whose remotes do not include "heroku" is no help either */
	char *other = gc(th_path("%s/other", sb.dir));
	OK(git(NULL, "init", "-q", other, NULL));
	OK(git(other, "remote", "add", "origin", sb.repo, NULL));
	struct th_result r = sw(other, "releases", NULL);
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert(starts(r.err, msg), "%s", r.err);
	th_result_free(&r);
	cr_assert_eq(release_count(), 0);
}

/* ------------------------------------------------------------------ */
/* App inference, release output, slugs                                */

Test(releases, app_inferred_from_heroku_remote)
{
	create_app(APP);
	init_checkout();
	deploy(1, "one\n");
	char *out = OK(sw(sb.src, "releases", NULL));
	cr_assert(starts(out, "=== " APP " Releases - Current: v1\n"), "%s", out);

	/* from a subdirectory of the checkout too */
	char *sub = gc(th_path("%s/deep/er", sb.src));
	char *keep = gc(th_path("%s/keep", sub));
	th_write(keep, "", 0644);
	struct th_result r = sw(sub, "config:set", "FOO=bar", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(starts(r.out, "Setting FOO on " APP "... done, v2" NOT_RUNNING "\n"), "%s", r.out);
	th_result_free(&r);
	cr_assert_str_eq(OK(sw(sub, "config:get", "FOO", NULL)), "bar\n");
	r = sw(sb.src, "rollback", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Rolling back " APP " to v1... done, v3" NOT_RUNNING "\n");
	th_result_free(&r);
	cr_assert_eq(release_count(), 3);
	/* -a wins over the remote */
	create_app("other");
	cr_assert_str_eq(OK(sw(sb.src, "releases", "-a", "other", NULL)), "other has no releases.\n");
}

Test(releases, release_output_when_none)
{
	create_app(APP);
	init_checkout();
	deploy(1, "one\n");
	struct th_result r = sw(NULL, "releases:output", "v1", "-a", APP, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Release v1 has no release phase output "
				"(its Procfile has no release process).\n");
	cr_assert_str_eq(r.err, "");
	th_result_free(&r);
	/* without a version: the current release */
	cr_assert_str_eq(OK(sw(NULL, "releases:output", "-a", APP, NULL)),
			 "Release v1 has no release phase output "
			 "(its Procfile has no release process).\n");
	assert_refused(sw(NULL, "releases:output", "v7", "-a", APP, NULL), 1,
		       " !    release v7 does not exist\n");
}

Test(releases, slugs_info_contents_extract)
{
	create_app(APP);
	init_checkout();
	char *sha = deploy(1, "one\n");
	char *sum = slug_of(1);
	const char *hex = sum + 8;

	char *info = OK(sw(NULL, "slugs:info", "v1", "-a", APP, NULL));
	cr_assert(starts(info, gc(th_path("=== Slug SHA256:%.64s\n", hex))), "%s", info);
	struct stat st;
	cr_assert_eq(stat(slug_file(sum), &st), 0);
	cr_assert(strstr(info, gc(th_path("\nSize:       %lld bytes compressed, %d bytes uncompressed\n",
					   (long long)st.st_size, 11 + 4))), "%s", info);
	cr_assert(strstr(info, "\nFiles:      2\n"), "%s", info);
	cr_assert(strstr(info, gc(th_path("\nCommit:     %s\n", sha))), "%s", info);
	cr_assert(strstr(info, "\n  web: ./run\n"), "%s", info);
	cr_assert(strstr(info, "\nReleases:   v1\n"), "%s", info);

	/* the same slug by checksum; after a rollback two releases use it */
	deploy(2, "two\n");
	OK(sw(NULL, "rollback", "v1", "-a", APP, NULL));
	char *by_sum = gc(th_path("SHA256:%.64s", hex));
	info = OK(sw(NULL, "slugs:info", by_sum, "-a", APP, NULL));
	cr_assert(strstr(info, "\nReleases:   v3, v1\n"), "%s", info);

	char *list = OK(sw(NULL, "slugs:contents", "v1", "-a", APP, NULL));
	cr_assert(matches(list, "^-rw-r--r-- +11 \\./app/Procfile$"), "%s", list);
	cr_assert(matches(list, "^-rw-r--r-- +4 \\./app/index\\.txt$"), "%s", list);
	cr_assert(matches(list, "^drwx.* \\./app/$"), "%s", list);
	cr_assert_eq(th_count(list, " ./"), 3, "%s", list);

	char *dir = gc(th_path("%s/extracted", sb.dir));
	struct th_result r = sw(NULL, "slugs:extract", "v1", dir, "-a", APP, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, gc(th_path("Extracted v1 into %s\n", dir)));
	th_result_free(&r);
	char *procfile = gc(th_read(gc(th_path("%s/Procfile", dir)), NULL));
	cr_assert_str_eq(procfile, PROCFILE);
	cr_assert_str_eq(gc(th_read(gc(th_path("%s/index.txt", dir)), NULL)), "one\n");

	/* v2's slug has v2's content */
	char *dir2 = gc(th_path("%s/extracted2", sb.dir));
	OK(sw(NULL, "slugs:extract", "2", dir2, "-a", APP, NULL));
	cr_assert_str_eq(gc(th_read(gc(th_path("%s/index.txt", dir2)), NULL)), "two\n");

	/* refuses to extract over existing files */
	r = sw(NULL, "slugs:extract", "v1", dir, "-a", APP, NULL);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, gc(th_path(" !    directory '%s' is not empty\n", dir)));
	th_result_free(&r);
}

/* A slug named by its checksum must be one of the app's own releases' slugs. */
Test(releases, slugs_by_checksum_only_of_the_apps_own_releases)
{
	create_app("alpha");
	init_checkout();
	app_sandbox_write(&sb, "index.txt", "alpha\n", 0644);
	OK(git(sb.src, "add", "-A", NULL));
	OK(git(sb.src, "commit", "-q", "-m", "alpha", NULL));
	OK(git(sb.src, "push", "-q", gc(th_path("%s/apps/alpha.git", sb.root)), "main", NULL));
	char *alpha = json_get(json_get(OK(sw(NULL, "releases:info", "v1", "--json", "-a", "alpha",
					      NULL)), "slug"), "checksum");
	create_app(APP);
	deploy(1, "beta\n");
	char *beta = slug_of(1);
	cr_assert_str_neq(alpha, beta);
	char *beta_sum = gc(th_path("SHA256:%.64s", beta + 8));
	char *beta_hex = gc(th_path("%.64s", beta + 8));
	char *msg = gc(th_path(" !    slug %.12s is not used by any release of alpha\n", beta + 8));
	char *dir = gc(th_path("%s/extracted", sb.dir));
	assert_refused(sw(NULL, "slugs:info", beta_sum, "-a", "alpha", NULL), 1, msg);
	assert_refused(sw(NULL, "slugs:info", beta_hex, "-a", "alpha", NULL), 1, msg);
	assert_refused(sw(NULL, "slugs:contents", beta_sum, "-a", "alpha", NULL), 1, msg);
	assert_refused(sw(NULL, "slugs:extract", beta_sum, dir, "-a", "alpha", NULL), 1, msg);
	struct stat st;
	cr_assert_neq(stat(dir, &st), 0, "a refused slugs:extract made %s", dir);
	/* a checksum nothing has: the same answer */
	const char *none = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	assert_refused(sw(NULL, "slugs:contents", none, "-a", "alpha", NULL), 1,
		       " !    slug 0123456789ab is not used by any release of alpha\n");

	/* alpha's own slug, by checksum and by version */
	char *alpha_sum = gc(th_path("SHA256:%.64s", alpha + 8));
	char *info = OK(sw(NULL, "slugs:info", alpha_sum, "-a", "alpha", NULL));
	cr_assert(starts(info, gc(th_path("=== Slug %s\n", alpha_sum))), "%s", info);
	cr_assert(strstr(info, "\nReleases:   v1\n"), "%s", info);
	cr_assert(strstr(OK(sw(NULL, "slugs:contents", alpha_sum, "-a", "alpha", NULL)),
			 " ./app/index.txt\n"));
	cr_assert(strstr(OK(sw(NULL, "slugs:contents", "v1", "-a", "alpha", NULL)),
			 " ./app/index.txt\n"));
	OK(sw(NULL, "slugs:extract", alpha_sum, dir, "-a", "alpha", NULL));
	cr_assert_str_eq(gc(th_read(gc(th_path("%s/index.txt", dir)), NULL)), "alpha\n");
	/* and beta's from beta */
	info = OK(sw(NULL, "slugs:info", beta_sum, "-a", APP, NULL));
	cr_assert(strstr(info, "\nReleases:   v1\n"), "%s", info);
}

/*
 * v1 and v2 deployed, v3 sets FOO on v2's slug, which is then made `how`:
 * config:set and config:unset refuse to record a release on it, as a
 * rollback to it would be refused.
 */
static void assert_config_refused(void (*damage)(const char *file), const char *how)
{
	two_deploys();
	OK(sw(NULL, "config:set", "FOO=bar", "-a", APP, NULL));
	damage(slug_file(slug_of(3)));
	char *before = OK(sw(NULL, "releases", "--json", "-a", APP, NULL));
	char *msg = gc(th_path(" !    cannot change config vars: the slug %.12s of the current release "
			       "v3 is %s; push again, or roll back to a release with an intact slug "
			       "(slipway rollback vN -a " APP ")\n",
			       slug_of(3) + 8, how));
	assert_refused(sw(NULL, "config:set", "X=1", "-a", APP, NULL), 1, msg);
	assert_refused(sw(NULL, "config:set", "FOO=baz", "X=1", "-a", APP, NULL), 1, msg);
	assert_refused(sw(NULL, "config:unset", "FOO", "-a", APP, NULL), 1, msg);
	cr_assert_str_eq(OK(sw(NULL, "releases", "--json", "-a", APP, NULL)), before);
	cr_assert_eq(release_count(), 3);
	assert_current_ref(3);
	/* a rollback to v1, whose slug is intact, is the way out */
	OK(sw(NULL, "rollback", "v1", "-a", APP, NULL));
	OK(sw(NULL, "config:set", "X=1", "-a", APP, NULL));
	cr_assert_eq(release_count(), 5);
	assert_current_ref(5);
}

static void remove_file(const char *file)
{
	char *dir = gc(strndup(file, (size_t)(strrchr(file, '/') - file)));
	chmod(dir, 0755);
	cr_assert_eq(unlink(file), 0);
}

Test(releases, config_change_when_the_current_slug_is_corrupt)
{
	assert_config_refused(corrupt, "corrupt in the store");
}

Test(releases, config_change_when_the_current_slug_is_missing)
{
	assert_config_refused(remove_file, "missing from the store");
}

Test(releases, herokus_names_config_add_config_remove_and_releases_rollback)
{
	create_app(APP);
	init_checkout();
	deploy(1, "one\n");
	struct th_result r = sw(NULL, "config:add", "A=1", "-a", APP, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "Setting A "), "%s", r.out);
	th_result_free(&r);
	cr_assert_str_eq(OK(sw(NULL, "config:get", "A", "-a", APP, NULL)), "1\n");
	r = sw(NULL, "config:remove", "A", "-a", APP, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "Unsetting A "), "%s", r.out);
	th_result_free(&r);
	r = sw(NULL, "releases:rollback", "v2", "-a", APP, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "Rolling back " APP " to v2... done, v4"), "%s", r.out);
	th_result_free(&r);
	cr_assert_str_eq(OK(sw(NULL, "config:get", "A", "-a", APP, NULL)), "1\n");
}

/* Without a version, rollback passes over a release whose slug is damaged to an intact one. */
Test(releases, rollback_without_a_version_skips_a_damaged_slug)
{
	two_deploys();
	deploy(3, "three\n");
	corrupt(slug_file(slug_of(2)));
	struct th_result r = sw(NULL, "rollback", "-a", APP, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Rolling back " APP " to v1 (skipped v2: slug corrupt in the store)"
				"... done, v4" NOT_RUNNING "\n");
	cr_assert_str_eq(r.err, " !     Warning: rollback affects code and config vars; it doesn't add or remove addons.\n"
			 "To undo, run: slipway rollback v3 -a " APP "\n");
	th_result_free(&r);
	cr_assert_str_eq(slug_of(4), slug_of(1));
	assert_current_ref(4);
}
