/* store/s3.h against a real S3 store: Swift with s3api (tests/integration/swift.h). */
#define _GNU_SOURCE
#include "store/cas.h"
#include "store/s3.h"
#include "util/error.h"
#include "util/util.h"
#include "tests/helpers.h"
#include "tests/integration/swift.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dir, *root, *bucket;
static struct th_swift swift;

/* one store for the suite, a bucket for each test (swift.h) */
TH_SWIFT_SHARE_PRE_ALL
TH_SWIFT_SHARE_POST_ALL

/* The server's S3 settings, as the environment gives them (store/settings.h). */
static void configure(const char *endpoint, const char *bucket, const char *secret)
{
	char *file = th_path("%s/s3-secret", dir);
	th_write(file, secret, 0600);
	chmod(file, 0600);
	setenv("SLIPWAY_S3_ENDPOINT", endpoint, 1);
	setenv("SLIPWAY_S3_BUCKET", bucket, 1);
	setenv("SLIPWAY_S3_ACCESS_KEY_ID", TH_SWIFT_KEY_ID, 1);
	setenv("SLIPWAY_S3_SECRET_FILE", file, 1);
	free(file);
}

static void setup(void)
{
	dir = th_sandbox();
	root = th_path("%s/root", dir);
	th_git_home(dir);
	th_swift_shared(&swift, &bucket);
	configure(swift.endpoint, bucket, TH_SWIFT_SECRET "\n");
}

static void teardown(void)
{
	th_swift_stop(&swift);
	free(bucket);
	free(root);
	th_sandbox_free(dir);
}

TestSuite(s3, .init = setup, .fini = teardown, .timeout = 120);

static void open_s3(struct s3 *s3)
{
	cr_assert_eq(s3_open(s3, root), 0, "%s", sw_error_last());
}

/* Puts bytes into the local store of r; hex_out is their name. */
static void store_slug(const char *r, const char *bytes, char hex[CAS_HEX_LEN + 1])
{
	int fd;
	char *tmp;
	cr_assert_eq(cas_tmpfile(r, &fd, &tmp), 0, "%s", sw_error_last());
	cr_assert_eq(write(fd, bytes, strlen(bytes)), (ssize_t)strlen(bytes));
	cr_assert_eq(cas_hash_data(bytes, strlen(bytes), hex), 0);
	cr_assert_eq(cas_publish_hashed(r, fd, tmp, hex), 0, "%s", sw_error_last());
	free(tmp);
}

static int add_to_buf(void *ctx, const void *data, size_t len)
{
	buf_add(ctx, data, len);
	return 0;
}

static int count_key(const char *key, uint64_t size, time_t mtime, void *ctx)
{
	(void)size;
	cr_assert_gt(mtime, 0, "%s has no time", key);
	(*(int *)ctx)++;
	return 0;
}

Test(s3, put_head_get_list_delete)
{
	struct s3 s3 = S3_INIT;
	char hex[CAS_HEX_LEN + 1];
	store_slug(root, "a slug's bytes", hex);
	open_s3(&s3);
	char *key = s3_slug_key(hex), *path = cas_path(root, hex);
	cr_assert_eq(s3_put_file(&s3, key, path, hex), 0, "%s", sw_error_last());
	uint64_t size = 0;
	cr_assert_eq(s3_head(&s3, key, &size), 0, "%s", sw_error_last());
	cr_assert_eq(size, strlen("a slug's bytes"));

	/* curl sees it under Slipway's prefix */
	char *lpath = th_path("/%s?list-type=2", bucket);
	char *list = th_swift_get(&swift, lpath);
	free(lpath);
	cr_assert(strstr(list, key), "%s", list);
	free(list);
	int n = 0;
	cr_assert_eq(s3_list(&s3, S3_SLUG_PREFIX, count_key, &n), 0, "%s", sw_error_last());
	cr_assert_eq(n, 1);

	struct buf text = BUF_INIT;
	cr_assert_eq(s3_get(&s3, key, add_to_buf, &text), 0, "%s", sw_error_last());
	cr_assert_eq(text.len, strlen("a slug's bytes"));
	cr_assert_eq(memcmp(text.data, "a slug's bytes", text.len), 0);

	cr_assert_eq(s3_delete(&s3, key), 0, "%s", sw_error_last());
	cr_assert_eq(s3_head(&s3, key, NULL), SW_ENOTFOUND);
	cr_assert_eq(s3_delete(&s3, key), 0, "deleting twice: %s", sw_error_last());
	buf_release(&text);
	free(key);
	free(path);
	s3_release(&s3);
}

Test(s3, listing_pages_and_keeps_to_the_prefix)
{
	struct s3 s3 = S3_INIT;
	open_s3(&s3);
	char *file = th_path("%s/f", dir);
	th_write(file, "x", 0644);
	char hex[CAS_HEX_LEN + 1];
	cas_hash_data("x", 1, hex);
	/* an object of someone else's beside Slipway's */
	cr_assert_eq(s3_put_file(&s3, "backups/db.dump", file, hex), 0, "%s", sw_error_last());
	for (int i = 0; i < 3; i++) {
		char *key = xasprintf(S3_SLUG_PREFIX "%d.tar.zst", i);
		cr_assert_eq(s3_put_file(&s3, key, file, hex), 0, "%s", sw_error_last());
		free(key);
	}
	int n = 0;
	cr_assert_eq(s3_list(&s3, S3_SLUG_PREFIX, count_key, &n), 0, "%s", sw_error_last());
	cr_assert_eq(n, 3);
	free(file);
	s3_release(&s3);
}

Test(s3, push_sends_once_and_fetch_verifies_into_another_store)
{
	struct s3 s3 = S3_INIT;
	char hex[CAS_HEX_LEN + 1];
	int sent = -1;
	store_slug(root, "slug v1", hex);
	open_s3(&s3);
	cr_assert_eq(s3_slug_push(&s3, root, hex, &sent), 0, "%s", sw_error_last());
	cr_assert_eq(sent, 1);
	cr_assert_eq(s3_slug_push(&s3, root, hex, &sent), 0, "%s", sw_error_last());
	cr_assert_eq(sent, 0, "a slug already in the bucket is not sent again");

	char *other = th_path("%s/run-host", dir);
	cr_assert_eq(cas_lookup(other, hex, NULL), SW_ENOTFOUND);
	int fetched = -1;
	cr_assert_eq(s3_slug_fetch(&s3, other, hex, &fetched), 0, "%s", sw_error_last());
	cr_assert_eq(fetched, 1);
	cr_assert_eq(cas_verify(other, hex), 0, "%s", sw_error_last());
	cr_assert_eq(s3_slug_fetch(&s3, other, hex, &fetched), 0, "%s", sw_error_last());
	cr_assert_eq(fetched, 0, "a slug the store has is not fetched again");
	free(other);
	s3_release(&s3);
}

Test(s3, fetch_refuses_a_slug_over_the_hosts_max_size_and_stores_nothing)
{
	struct s3 s3 = S3_INIT;
	char hex[CAS_HEX_LEN + 1];
	store_slug(root, "a slug of 25 bytes, long.", hex);
	open_s3(&s3);
	cr_assert_eq(s3_slug_push(&s3, root, hex, NULL), 0, "%s", sw_error_last());
	char *other = th_path("%s/run-host", dir);
	setenv("SLIPWAY_MAX_SLUG_SIZE", "24", 1);
	int err = s3_slug_fetch(&s3, other, hex, NULL);
	int absent = cas_lookup(other, hex, NULL);
	setenv("SLIPWAY_MAX_SLUG_SIZE", "25", 1);
	int control = s3_slug_fetch(&s3, other, hex, NULL);
	unsetenv("SLIPWAY_MAX_SLUG_SIZE");
	cr_assert_eq(err, SW_EINVALID);
	cr_assert_eq(absent, SW_ENOTFOUND, "nothing stored");
	cr_assert_eq(control, 0, "exactly the limit is taken");
	free(other);
	s3_release(&s3);
}

Test(s3, settings_travel_as_a_flat_document)
{
	struct s3 s3 = S3_INIT, back = S3_INIT;
	struct buf doc = BUF_INIT;
	open_s3(&s3);
	s3_json_write(&s3, &doc);
	cr_assert_eq(s3_json_read(&back, doc.data), 0, "%s", sw_error_last());
	cr_assert_str_eq(back.endpoint, s3.endpoint);
	cr_assert_str_eq(back.bucket, s3.bucket);
	cr_assert_str_eq(back.region, s3.region);
	cr_assert_str_eq(back.key_id, s3.key_id);
	cr_assert_str_eq(back.secret, s3.secret);
	s3_release(&back);
	cr_assert_eq(s3_json_read(&back, "{\"endpoint\":\"ftp://x\",\"bucket\":\"b\","
				  "\"region\":\"r\",\"key_id\":\"k\",\"secret\":\"s\"}"), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "invalid S3 endpoint 'ftp://x'"), "%s", sw_error_last());
	cr_assert_null(back.secret, "nothing kept from a refused document");
	cr_assert_eq(s3_json_read(&back, "{\"endpoint\":\"http://x\"}"), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "have no 'bucket'"), "%s", sw_error_last());
	cr_assert_eq(s3_json_read(&back, "not json"), SW_EINVALID);
	buf_release(&doc);
	s3_release(&s3);
}

Test(s3, store_refuses_an_upload_whose_bytes_are_not_its_hash)
{
	struct s3 s3 = S3_INIT;
	char hex[CAS_HEX_LEN + 1], other[CAS_HEX_LEN + 1];
	store_slug(root, "the real bytes", hex);
	cas_hash_data("other bytes", 11, other);
	open_s3(&s3);
	char *key = s3_slug_key(other), *path = cas_path(root, hex);
	/* control: the same file under its own hash is taken */
	cr_assert_eq(s3_put_file(&s3, "control", path, hex), 0, "%s", sw_error_last());
	int err = s3_put_file(&s3, key, path, other);
	cr_assert_eq(err, SW_ERROR);
	cr_assert(strstr(sw_error_last(), "400 BadDigest"), "%s", sw_error_last());
	cr_assert_eq(s3_head(&s3, key, NULL), SW_ENOTFOUND, "nothing stored");
	free(key);
	free(path);
	s3_release(&s3);
}

Test(s3, fetch_refuses_a_corrupt_object_and_stores_nothing)
{
	struct s3 s3 = S3_INIT;
	char hex[CAS_HEX_LEN + 1], bad[CAS_HEX_LEN + 1];
	store_slug(root, "good slug", hex);
	open_s3(&s3);
	cr_assert_eq(s3_slug_push(&s3, root, hex, NULL), 0, "%s", sw_error_last());
	/* someone with write access to the bucket replaces the bytes under the slug's name */
	char *file = th_path("%s/evil", dir), *key = s3_slug_key(hex);
	th_write(file, "evil slug", 0644);
	cas_hash_data("evil slug", 9, bad);
	char *url = th_path("%s/%s/%s", swift.endpoint, bucket, key);
	int status = 0;
	free(th_swift_curl(&swift, &status, bad, "-T", file, url, NULL));
	cr_assert_eq(status, 200);

	char *other = th_path("%s/run-host", dir);
	int err = s3_slug_fetch(&s3, other, hex, NULL);
	cr_assert_eq(err, SW_EINVALID, "%s", sw_error_last());
	cr_assert(strstr(sw_error_last(), "is corrupt"), "%s", sw_error_last());
	cr_assert_eq(cas_lookup(other, hex, NULL), SW_ENOTFOUND, "nothing published");
	char *tmpdir = th_path("%s/store/tmp", other);
	cr_assert_eq(th_entries(tmpdir), 0, "no temp file left");
	free(tmpdir);
	free(other);
	free(url);
	free(key);
	free(file);
	s3_release(&s3);
}

Test(s3, errors_are_one_line_and_say_what_is_wrong)
{
	struct s3 s3 = S3_INIT;
	char hex[CAS_HEX_LEN + 1];
	store_slug(root, "slug", hex);
	char *key = s3_slug_key(hex);

	configure(swift.endpoint, bucket, "wrong");
	open_s3(&s3);
	cr_assert_eq(s3_head(&s3, key, NULL), SW_ERROR);
	cr_assert_eq(s3_slug_push(&s3, root, hex, NULL), SW_ERROR);
	cr_assert(strstr(sw_error_last(), "403 SignatureDoesNotMatch"), "%s", sw_error_last());
	cr_assert_null(strchr(sw_error_last(), '\n'), "%s", sw_error_last());
	s3_release(&s3);

	configure(swift.endpoint, "nobucket", TH_SWIFT_SECRET);
	open_s3(&s3);
	cr_assert_eq(s3_slug_push(&s3, root, hex, NULL), SW_ERROR);
	cr_assert(strstr(sw_error_last(), "S3 bucket 'nobucket' does not exist"), "%s", sw_error_last());
	s3_release(&s3);

	/* nothing listens there */
	char *nowhere = th_path("http://127.0.0.1:%d", th_free_port());
	configure(nowhere, bucket, TH_SWIFT_SECRET);
	open_s3(&s3);
	cr_assert_eq(s3_slug_push(&s3, root, hex, NULL), SW_ERROR);
	char *want = th_path("S3 endpoint '%s' is unreachable", nowhere);
	free(nowhere);
	cr_assert(strstr(sw_error_last(), want), "%s", sw_error_last());
	free(want);
	s3_release(&s3);
	free(key);
}

Test(s3, settings_unset_or_unsafe)
{
	struct s3 s3 = S3_INIT;
	unsetenv("SLIPWAY_S3_ENDPOINT");
	cr_assert_eq(s3_open(&s3, root), SW_ENOTFOUND, "not configured: S3 is not used");
	configure(swift.endpoint, bucket, TH_SWIFT_SECRET);
	char *file = th_path("%s/s3-secret", dir);
	chmod(file, 0644);
	cr_assert_eq(s3_open(&s3, root), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "is readable by others"), "%s", sw_error_last());
	unsetenv("SLIPWAY_S3_BUCKET");
	chmod(file, 0600);
	cr_assert_eq(s3_open(&s3, root), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "slipway.s3Bucket"), "%s", sw_error_last());
	free(file);
}
