/*
 * Slugs in S3 end to end (store/s3.h, docs/s3.md): a push uploads its slug
 * before the release is recorded, a store that does not answer refuses the
 * push with the old release still serving, gc sweeps the bucket.  The store
 * is Swift with s3api (tests/integration/swift.h).
 */
#define _GNU_SOURCE
#include "tests/integration/runtime_helpers.h"
#include "tests/integration/swift.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define APP "s3app"

static struct app_sandbox sb;
static struct th_swift swift;
static char *bucket;
static pid_t svscan = -1;

#define sw(...) SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__)
#define ok(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

TH_SWIFT_SHARE_PRE_ALL
TH_SWIFT_SHARE_POST_ALL

/* The app's server, configured for the store s and bucket b, and started. */
static void start(const struct th_swift *s, const char *b)
{
	char *secret = th_path("%s/s3-secret", s->dir);
	th_write(secret, TH_SWIFT_SECRET "\n", 0600);
	char *e1 = th_path("SLIPWAY_S3_ENDPOINT=%s", s->endpoint);
	char *e2 = th_path("SLIPWAY_S3_BUCKET=%s", b);
	char *e3 = th_path("SLIPWAY_S3_SECRET_FILE=%s", secret);
	rt_setup(&sb, APP, RT_ROUTER, rt_version_server_py,
		 (const char *const[]){ e1, e2, e3, "SLIPWAY_S3_ACCESS_KEY_ID=" TH_SWIFT_KEY_ID, NULL });
	svscan = rt_start(&sb);
	free(e1);
	free(e2);
	free(e3);
	free(secret);
}

static void teardown(void)
{
	rt_stop(&sb, &svscan);
	app_sandbox_release(&sb);
	th_swift_stop(&swift);
	free(bucket);
	bucket = NULL;
}

TestSuite(s3_slugs, .fini = teardown, .timeout = 240);

/* The keys under Slipway's prefix in the test's bucket, as curl lists them. */
static int slugs_in_bucket(const char *b, struct strvec *keys)
{
	char *path = th_path("/%s?list-type=2&prefix=slipway%%2Fslugs%%2F", b);
	char *xml = th_swift_get(&swift, path);
	int n = 0;
	for (const char *p = xml; (p = strstr(p, "<Key>")); n++) {
		p += 5;
		if (keys)
			strvec_pushf(keys, "%.*s", (int)(strstr(p, "</Key>") - p), p);
	}
	free(xml);
	free(path);
	return n;
}

static void commit(const char *version)
{
	app_sandbox_write(&sb, "version", version, 0644);
	free(ok("git", "add", "-A"));
	free(ok("git", "commit", "-qm", "next", "--allow-empty"));
}

Test(s3_slugs, push_uploads_once_before_recording_and_gc_sweeps_the_bucket)
{
	th_swift_shared(&swift, &bucket);
	start(&swift, bucket);
	cr_assert_eq(slugs_in_bucket(bucket, NULL), 0);

	char *out = app_sandbox_push(&sb, "main");
	char *stored = strstr(out, "Stored the slug in S3"), *released = strstr(out, "Released v1");
	cr_assert(stored && released && stored < released, "%s", out);
	free(out);
	cr_assert_eq(slugs_in_bucket(bucket, NULL), 1);

	commit("two\n");
	free(app_sandbox_push(&sb, "main"));
	struct strvec before = STRVEC_INIT;
	cr_assert_eq(slugs_in_bucket(bucket, &before), 2);

	/* the same tree again: the bucket has its slug, nothing is sent */
	commit("two\n");
	out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v3"), "%s", out);
	cr_assert_null(strstr(out, "Stored the slug in S3"), "%s", out);
	free(out);
	cr_assert_eq(slugs_in_bucket(bucket, NULL), 2);

	/* someone else's object in the bucket, and a key under the prefix that names no slug */
	char *file = th_path("%s/other", sb.dir);
	th_write(file, "x", 0644);
	const char *x_sha = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881";
	int status = 0;
	char *url = th_path("%s/%s/backups/db.dump", swift.endpoint, bucket);
	free(th_swift_curl(&swift, &status, x_sha, "-T", file, url, NULL));
	cr_assert_eq(status, 200);
	free(url);
	url = th_path("%s/%s/slipway/slugs/README", swift.endpoint, bucket);
	free(th_swift_curl(&swift, &status, x_sha, "-T", file, url, NULL));
	cr_assert_eq(status, 200);
	free(url);

	/* every slug is a release's: gc keeps them all */
	free(ok("sh", "-c", "touch -d '2 days ago' \"$0\"/store/sha256/*/*", sb.root));
	out = ok(SLIPWAY_BIN, "gc");
	cr_assert(strstr(out, "Removed 0 slugs from S3"), "%s", out);
	free(out);
	cr_assert_eq(slugs_in_bucket(bucket, NULL), 3);

	/* only v3's slug is kept: v1's goes, here and in the bucket */
	out = ok(SLIPWAY_BIN, "gc", "--keep", "1");
	cr_assert(strstr(out, "Removed 1 slug from S3"), "%s", out);
	free(out);
	struct strvec after = STRVEC_INIT;
	cr_assert_eq(slugs_in_bucket(bucket, &after), 2, "v3's slug and the README");
	char *listing = th_path("/%s?list-type=2", bucket);
	char *xml = th_swift_get(&swift, listing);
	cr_assert(strstr(xml, "<Key>backups/db.dump</Key>"), "%s", xml);
	cr_assert(strstr(xml, "<Key>slipway/slugs/README</Key>"), "%s", xml);
	free(xml);
	free(listing);
	/* the one left is one of the two there were */
	int kept = 0;
	for (size_t i = 0; i < after.n; i++)
		for (size_t j = 0; j < before.n; j++)
			kept += !strcmp(after.v[i], before.v[j]);
	cr_assert_eq(kept, 1);
	strvec_clear(&before);
	strvec_clear(&after);
	free(file);
}

Test(s3_slugs, a_store_that_does_not_answer_refuses_the_push_and_the_old_release_serves)
{
	char *dir = th_sandbox();
	th_swift_require();
	th_swift_start(&swift, dir);
	start(&swift, TH_SWIFT_BUCKET);
	free(app_sandbox_push(&sb, "main"));
	cr_assert_eq(app_sandbox_release_count(&sb), 1);

	th_swift_stop_proxy(&swift);
	commit("two\n");
	int status = 0;
	char *err = app_sandbox_push_status(&sb, "main", &status);
	cr_assert_neq(status, 0, "%s", err);
	char *line = th_path("remote:  !     S3 endpoint '%s' is unreachable: ", swift.endpoint);
	cr_assert_eq(th_count(err, line), 1, "%s", err);
	cr_assert(strstr(err, "Push rejected, no release was created."), "%s", err);
	cr_assert_null(strstr(err, "Released v2"), "%s", err);
	free(line);
	free(err);
	cr_assert_eq(app_sandbox_release_count(&sb), 1);
	char *body = rt_page(&sb, APP ".localhost");
	cr_assert(body && !strcmp(body, "one\n"), "%s", body ? body : "(no answer)");
	free(body);
	th_sandbox_free(dir);
}
