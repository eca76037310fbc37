/*
 * test_promote.c - releases without a build: `releases:promote -a staging
 * --to prod` (and Heroku's `pipelines:promote`) and `deploy --slug`.
 * Real pushes to two apps of one server; each refusal is checked through
 * its message, its exit status, and that nothing changed: the releases of
 * both apps, the current release and the slug store.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOT_RUNNING " (not running: start the runtime with 'slipway server:start')"

static struct app_sandbox sb;

/* Keeps p until the end of the test; returns it. */
#define gc th_keep

static void setup(void)
{
	app_sandbox_init(&sb, "staging", 0);
	app_sandbox_setenv(&sb, "SLIPWAY_USER=alice@example.com");
}

static void teardown(void)
{
	th_keep_free();
	app_sandbox_release(&sb);
}

TestSuite(promote, .init = setup, .fini = teardown, .timeout = 120);

#define sw(...) SANDBOX_RUN(&sb, sb.dir, SLIPWAY_BIN, __VA_ARGS__, (const char *)NULL)
#define git(...) SANDBOX_RUN(&sb, sb.src, "git", __VA_ARGS__, (const char *)NULL)
#define OK(r) gc(app_sandbox_must((r), #r))

/* ---- the apps ---- */

/* Commits the checkout with a Procfile and index.txt = content and pushes it to app. */
static char *push_to(const char *app, const char *procfile, const char *content)
{
	app_sandbox_write(&sb, "Procfile", procfile, 0644);
	app_sandbox_write(&sb, "index.txt", content, 0644);
	OK(git("add", "-A"));
	OK(git("commit", "-q", "--allow-empty", "-m", content));
	OK(git("push", "-q", gc(th_path("%s/apps/%s.git", sb.root, app)), "HEAD:main"));
	return gc(app_sandbox_head(&sb, NULL));
}

/* staging and prod, staging with one deploy of a web-only Procfile; its sha. */
static char *two_apps(void)
{
	OK(sw("apps:create", "staging"));
	OK(sw("apps:create", "prod"));
	app_sandbox_checkout(&sb, NULL, "main", NULL);
	return push_to("staging", "web: ./run\n", "one\n");
}

/* The value of "key" in a flat JSON object (a string keeps its quotes); kept. */
static char *json_get(const char *obj, const char *key)
{
	char *needle = gc(th_path("\"%s\":", key));
	const char *p = strstr(obj, needle);
	cr_assert(p, "no %s in %s", key, obj);
	p += strlen(needle);
	size_t n = 0;
	int depth = 0, in_str = 0;
	for (; p[n]; n++) {
		char ch = p[n];
		if (in_str) {
			if (ch == '\\')
				n++;
			else if (ch == '"')
				in_str = 0;
		} else if (ch == '"') {
			in_str = 1;
		} else if (ch == '{' || ch == '[') {
			depth++;
		} else if (ch == '}' || ch == ']') {
			if (!depth)
				break;
			depth--;
		} else if (ch == ',' && !depth) {
			break;
		}
	}
	return gc(strndup(p, n));
}

static char *info(const char *app, int v)
{
	return OK(sw("releases:info", gc(th_path("v%d", v)), "--json", "-a", app));
}

/* The 64 hex digits of release v's slug. */
static char *slug_hex(const char *app, int v)
{
	char *sum = json_get(json_get(info(app, v), "slug"), "checksum");
	return gc(strndup(sum + strlen("\"SHA256:"), 64));
}

static char *slug_file(const char *hex)
{
	return gc(th_path("%s/store/sha256/%.2s/%.62s.tar.zst", sb.root, hex, hex + 2));
}

static long long store_bytes;
static long store_files;

static int add_file(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (type == FTW_F) {
		store_bytes += st->st_size;
		store_files++;
	}
	return 0;
}

/* "N files, B bytes" under <root>/store: the slugs. */
static char *store_size(void)
{
	store_bytes = 0;
	store_files = 0;
	char *dir = gc(th_path("%s/store", sb.root));
	struct stat st;
	if (stat(dir, &st) == 0) /* none before the first build */
		cr_assert_eq(nftw(dir, add_file, 16, FTW_PHYS), 0);
	return gc(th_path("%ld files, %lld bytes", store_files, store_bytes));
}

/* Everything a refusal must leave alone. */
static char *state(void)
{
	char *all = gc(th_path("%s", store_size()));
	static const char *const apps[] = { "staging", "prod" };
	for (size_t i = 0; i < 2; i++) {
		struct th_result r = sw("releases", "--json", "-a", apps[i]);
		all = gc(th_path("%s\n%s: %d %s", all, apps[i], r.status, r.out));
		th_result_free(&r);
	}
	return all;
}

/* A refused command: exit 1, exactly err on stderr, nothing on stdout, nothing changed. */
static void refused_since(const char *before, struct th_result r, const char *err)
{
	cr_assert_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_assert_str_eq(r.err, err);
	cr_assert_str_eq(r.out, "");
	th_result_free(&r);
	cr_assert_str_eq(state(), before);
}

/* refused(ERR, slipway ARGS...): the state is taken before the command runs */
#define refused(err, ...)                                     \
	do {                                                  \
		char *before_ = state();                      \
		refused_since(before_, sw(__VA_ARGS__), err); \
	} while (0)

/* ---- promotion ---- */

Test(promote, releases_stagings_slug_on_prod_with_prods_config_and_no_copy)
{
	char *sha = two_apps();
	char *sha2 = push_to("staging", "web: ./run\nworker: ./work\n", "two\n");
	OK(sw("config:set", "WHERE=staging", "-a", "staging"));
	OK(sw("config:set", "WHERE=prod", "DB=prod-db", "-a", "prod"));
	cr_assert_str_neq(sha, sha2);
	char *before = store_size();

	struct th_result r = sw("releases:promote", "-a", "staging", "--to", "prod");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Promoting staging to prod... done, v2" NOT_RUNNING "\n");
	cr_assert_str_eq(r.err, "To undo, run: slipway rollback v1 -a prod\n");
	th_result_free(&r);

	char *v2 = info("prod", 2);
	cr_assert_str_eq(json_get(v2, "description"),
			 gc(th_path("\"Promote staging v3 (%.7s)\"", sha2)));
	cr_assert_str_eq(json_get(v2, "commit"), gc(th_path("\"%s\"", sha2)));
	cr_assert_str_eq(json_get(v2, "current"), "true");
	cr_assert_str_eq(json_get(v2, "config_vars"), "{\"DB\":\"prod-db\",\"WHERE\":\"prod\"}");
	cr_assert_str_eq(json_get(v2, "process_types"), "{\"web\":\"./run\",\"worker\":\"./work\"}");
	cr_assert_str_eq(json_get(v2, "user"), "{\"email\":\"alice@example.com\"}");
	cr_assert_str_eq(slug_hex("prod", 2), slug_hex("staging", 3));
	/* the store holds the slug once: nothing was copied */
	cr_assert_str_eq(store_size(), before);
	/* staging is untouched */
	cr_assert_str_eq(json_get(info("staging", 3), "current"), "true");
	r = sw("releases:info", "v4", "-a", "staging");
	cr_assert_eq(r.status, 1);
	th_result_free(&r);

	/* Heroku's name, and --json: the new release object alone on stdout */
	r = sw("pipelines:promote", "-a", "staging", "--to", "prod", "--json");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(r.out[0], '{', "%s", r.out);
	cr_assert_str_eq(json_get(r.out, "version"), "3");
	cr_assert_str_eq(json_get(r.out, "current"), "true");
	cr_assert_str_eq(json_get(r.out, "description"),
			 gc(th_path("\"Promote staging v3 (%.7s)\"", sha2)));
	cr_assert_str_eq(json_get(r.out, "config_vars"), "{\"DB\":\"prod-db\",\"WHERE\":\"prod\"}");
	cr_assert_str_eq(r.err, "To undo, run: slipway rollback v2 -a prod\n");
	th_result_free(&r);
	cr_assert_str_eq(store_size(), before);

	/* a rollback on prod brings prod's own earlier release back */
	r = sw("rollback", "v2", "-a", "prod");
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	cr_assert_str_eq(slug_hex("prod", 4), slug_hex("staging", 3));
}

Test(promote, goes_through_prods_release_phase_with_prods_config)
{
	two_apps();
	push_to("staging", "web: ./run\nrelease: echo \"migrating $DB\"; test \"$DB\" != bad\n",
		"two\n");
	OK(sw("config:set", "DB=bad", "-a", "prod"));
	char *before = store_size();

	struct th_result r = sw("releases:promote", "-a", "staging", "--to", "prod");
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.out, "migrating bad"), "%s", r.out);
	cr_assert(strstr(r.out, "Promoting staging to prod... failed, v2 is recorded but not live\n"),
		  "%s", r.out);
	cr_assert_str_eq(r.err, " !    The release command of v2 failed; the current release is "
				"unchanged.\n !    See its output with: slipway releases:output v2 "
				"-a prod\n");
	th_result_free(&r);
	cr_assert_str_eq(json_get(info("prod", 2), "status"), "\"failed\"");
	cr_assert_str_eq(json_get(info("prod", 1), "current"), "true");
	cr_assert_str_eq(store_size(), before);

	OK(sw("config:set", "DB=good", "-a", "prod"));
	r = sw("releases:promote", "-a", "staging", "--to", "prod");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "migrating good"), "%s", r.out);
	cr_assert(strstr(r.out, "Promoting staging to prod... done, v4" NOT_RUNNING "\n"), "%s",
		  r.out);
	th_result_free(&r);
	cr_assert_str_eq(json_get(info("prod", 4), "current"), "true");
}

Test(promote, refusals_change_nothing)
{
	OK(sw("apps:create", "staging"));
	OK(sw("apps:create", "prod"));
	refused(" !    cannot promote staging: it has no release yet (push to it first)\n",
		"releases:promote", "-a", "staging", "--to", "prod");
	OK(sw("config:set", "X=1", "-a", "staging"));
	refused(" !    cannot promote staging: its current release v1 has no slug (nothing was "
		"deployed yet)\n",
		"releases:promote", "-a", "staging", "--to", "prod");
	app_sandbox_checkout(&sb, NULL, "main", NULL);
	push_to("staging", "web: ./run\n", "one\n");
	refused(" !    app 'nope' does not exist (create it with: slipway apps:create nope)\n",
		"releases:promote", "-a", "staging", "--to", "nope");
	refused(" !    app 'nope' does not exist (create it with: slipway apps:create nope)\n",
		"releases:promote", "-a", "nope", "--to", "prod");
	refused(" !    cannot promote staging to itself: name another app with --to\n",
		"releases:promote", "-a", "staging", "--to", "staging");

	/* without --to: a usage error */
	struct th_result r = sw("releases:promote", "-a", "staging");
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "missing --to APP"), "%s", r.err);
	cr_assert_str_eq(r.out, "");
	th_result_free(&r);

	/* a slug damaged in the store is never released */
	th_corrupt(slug_file(slug_hex("staging", 2)));
	refused(gc(th_path(" !    cannot promote staging's v2: its slug %.12s is corrupt in the store\n",
			   slug_hex("staging", 2))),
		"releases:promote", "-a", "staging", "--to", "prod");
	char *file = slug_file(slug_hex("staging", 2));
	chmod(gc(strndup(file, (size_t)(strrchr(file, '/') - file))), 0755);
	cr_assert_eq(unlink(file), 0);
	refused(gc(th_path(" !    cannot promote staging's v2: its slug %.12s is missing from the "
			   "store\n", slug_hex("staging", 2))),
		"releases:promote", "-a", "staging", "--to", "prod");
}

Test(promote, refused_when_prods_formation_runs_a_type_the_slug_lacks)
{
	two_apps();
	push_to("prod", "web: ./run\nworker: ./work\n", "prod\n");
	/* ps:scale alone shows the formation, as Heroku's does */
	cr_assert_str_eq(OK(sw("ps:scale", "-a", "prod")), "web=1 worker=0\n");
	OK(sw("ps:scale", "worker=2", "-a", "prod"));
	cr_assert_str_eq(OK(sw("ps:scale", "-a", "prod")), "web=1 worker=2\n");
	refused(" !    cannot promote staging's v1: prod runs worker=2, which staging's v1 does not "
		"define; scale it to 0 first: slipway ps:scale worker=0 -a prod\n",
		"releases:promote", "-a", "staging", "--to", "prod");
	refused(gc(th_path(" !    cannot deploy slug %.12s: prod runs worker=2, which slug %.12s does "
			   "not define; scale it to 0 first: slipway ps:scale worker=0 -a prod\n",
			   slug_hex("staging", 1), slug_hex("staging", 1))),
		"deploy", "--slug", gc(th_path("SHA256:%s", slug_hex("staging", 1))), "-a",
		   "prod");
	OK(sw("ps:scale", "worker=0", "-a", "prod"));
	struct th_result r = sw("releases:promote", "-a", "staging", "--to", "prod");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Promoting staging to prod... done, v2" NOT_RUNNING "\n");
	th_result_free(&r);
}

/* ---- deploy --slug ---- */

Test(promote, deploy_slug_releases_a_slug_some_release_uses)
{
	char *sha = two_apps();
	OK(sw("config:set", "DB=prod-db", "-a", "prod"));
	char *hex = slug_hex("staging", 1);
	char *before = store_size();

	struct th_result r = sw("deploy", "--slug", gc(th_path("SHA256:%s", hex)), "-a", "prod");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, gc(th_path("Deploying slug %.12s to prod... done, v2" NOT_RUNNING
					   "\n", hex)));
	cr_assert_str_eq(r.err, "To undo, run: slipway rollback v1 -a prod\n");
	th_result_free(&r);
	char *v2 = info("prod", 2);
	cr_assert_str_eq(json_get(v2, "description"), gc(th_path("\"Deploy slug %.12s\"", hex)));
	cr_assert_str_eq(json_get(v2, "commit"), gc(th_path("\"%s\"", sha)));
	cr_assert_str_eq(json_get(v2, "config_vars"), "{\"DB\":\"prod-db\"}");
	cr_assert_str_eq(json_get(v2, "process_types"), "{\"web\":\"./run\"}");
	cr_assert_str_eq(slug_hex("prod", 2), hex);
	cr_assert_str_eq(store_size(), before);

	/* the bare hex works too, and --json prints the release */
	r = sw("deploy", "--slug", hex, "-a", "prod", "--json");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(json_get(r.out, "version"), "3");
	cr_assert_str_eq(json_get(r.out, "current"), "true");
	th_result_free(&r);

	/* refusals */
	refused(" !    'SHA256:0123' is not a slug checksum: use SHA256: and 64 lowercase hex digits, "
		"as releases:info shows\n",
		"deploy", "--slug", "SHA256:0123", "-a", "prod");
	refused(" !    no release of any app uses slug 0123456789ab\n",
		"deploy", "--slug",
		   "SHA256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "-a",
		   "prod");
	refused(" !    app 'nope' does not exist (create it with: slipway apps:create nope)\n",
		"deploy", "--slug", hex, "-a", "nope");
	r = sw("deploy", "-a", "prod");
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "missing --slug"), "%s", r.err);
	th_result_free(&r);
	th_corrupt(slug_file(hex));
	refused(gc(th_path(" !    cannot deploy slug %.12s: it is corrupt in the store\n", hex)),
		"deploy", "--slug", hex, "-a", "prod");
}
