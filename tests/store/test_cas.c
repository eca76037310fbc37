#define _GNU_SOURCE
#include "store/cas.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/syncer.h"
#include "util/util.h"
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *root;

static void setup(void)
{
	root = th_sandbox();
}

static void teardown(void)
{
	th_sandbox_free(root);
	root = NULL;
}

TestSuite(cas, .init = setup, .fini = teardown);

/* Publishes len bytes through the temp-file protocol; returns the temp path. */
static char *publish(const void *data, size_t len, char hex[CAS_HEX_LEN + 1], uint64_t *size)
{
	int fd;
	char *tmp;

	cr_assert_eq(cas_tmpfile(root, &fd, &tmp), 0, "%s", sw_error_last());
	cr_assert_eq(fs_write_all(fd, data, len), 0);
	cr_assert_eq(cas_hash_file(tmp, hex, size), 0, "%s", sw_error_last());
	cr_assert_eq(cas_publish_hashed(root, fd, tmp, hex), 0, "%s", sw_error_last());
	return tmp;
}

static void publish_str(const char *s, char hex[CAS_HEX_LEN + 1])
{
	free(publish(s, strlen(s), hex, NULL));
}

/* Entries in the directory named by fmt, "." and ".." excluded. */
__attribute__((format(printf, 1, 2)))
static int dir_entries(const char *fmt, ...)
{
	struct dirent *de;
	char *path;
	va_list ap;
	int n = 0;
	DIR *d;

	va_start(ap, fmt);
	cr_assert(vasprintf(&path, fmt, ap) >= 0);
	va_end(ap);
	d = opendir(path);
	cr_assert(d, "cannot open %s", path);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	free(path);
	return n;
}

/* Writes a one-byte file at the path named by fmt. */
__attribute__((format(printf, 1, 2)))
static void junk(const char *fmt, ...)
{
	char *path;
	va_list ap;

	va_start(ap, fmt);
	cr_assert(vasprintf(&path, fmt, ap) >= 0);
	va_end(ap);
	th_write(path, "x", 0644);
	free(path);
}

static char *pseudo_random(size_t len)
{
	char *p = xmalloc(len);
	uint32_t x = 2463534242u;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (char)(x & 0xff);
	}
	return p;
}

Test(cas, publish_then_lookup_verify_path)
{
	const char *abc_hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	char hex[CAS_HEX_LEN + 1];
	uint64_t size = 0, looked = 0;
	struct stat st;
	char *tmp = publish("abc", 3, hex, &size);
	char *path = cas_path(root, hex);
	char *want = th_path("%s/store/sha256/ba/%s.tar.zst", root, abc_hex + 2);
	size_t len;
	char *bytes;

	cr_assert_str_eq(hex, abc_hex);
	cr_assert_eq(size, 3);
	cr_assert_not(fs_exists(tmp), "temp file %s left behind", tmp);
	cr_assert_str_eq(path, want);
	cr_assert_eq(cas_lookup(root, hex, &looked), 0);
	cr_assert_eq(looked, 3);
	cr_assert_eq(cas_lookup(root, hex, NULL), 0);
	cr_assert_eq(cas_verify(root, hex), 0, "%s", sw_error_last());
	bytes = th_read(path, &len);
	cr_assert_eq(len, 3);
	cr_assert_eq(memcmp(bytes, "abc", 3), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0444);
	cr_assert_eq(dir_entries("%s/store/tmp", root), 0);
	free(bytes);
	free(want);
	free(path);
	free(tmp);
}

Test(cas, empty_object)
{
	char hex[CAS_HEX_LEN + 1];
	uint64_t size = 99;

	free(publish("", 0, hex, &size));
	cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	cr_assert_eq(size, 0);
	cr_assert_eq(cas_verify(root, hex), 0);
}

Test(cas, same_bytes_twice_is_one_object)
{
	char a[CAS_HEX_LEN + 1], b[CAS_HEX_LEN + 1];
	struct stat before, after;
	char *path;
	char *tmp;

	publish_str("same slug bytes", a);
	path = cas_path(root, a);
	cr_assert_eq(stat(path, &before), 0);
	tmp = publish("same slug bytes", 15, b, NULL);
	cr_assert_str_eq(a, b);
	cr_assert_not(fs_exists(tmp));
	cr_assert_eq(dir_entries("%s/store/tmp", root), 0);
	cr_assert_eq(dir_entries("%s/store/sha256", root), 1);
	cr_assert_eq(dir_entries("%s/store/sha256/%.2s", root, a), 1);
	cr_assert_eq(stat(path, &after), 0);
	cr_assert_eq(before.st_ino, after.st_ino, "the existing object was replaced");
	cr_assert_eq(cas_verify(root, a), 0);
	free(tmp);
	free(path);
}

Test(cas, corrupt_object_fails_verify)
{
	char hex[CAS_HEX_LEN + 1];
	char *path;
	int fd;

	publish_str("pristine bytes", hex);
	path = cas_path(root, hex);
	cr_assert_eq(chmod(path, 0644), 0);
	fd = open(path, O_WRONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(pwrite(fd, "P", 1, 0), 1);
	close(fd);
	cr_assert_eq(cas_lookup(root, hex, NULL), 0);
	cr_assert_eq(cas_verify(root, hex), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), hex), "message: %s", sw_error_last());
	cr_assert(strstr(sw_error_last(), "corrupt"), "message: %s", sw_error_last());
	free(path);
}

Test(cas, deleted_object_is_not_found)
{
	char hex[CAS_HEX_LEN + 1];
	char *path;

	publish_str("soon gone", hex);
	path = cas_path(root, hex);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(cas_lookup(root, hex, NULL), SW_ENOTFOUND);
	cr_assert(strstr(sw_error_last(), hex), "message: %s", sw_error_last());
	cr_assert_eq(cas_verify(root, hex), SW_ENOTFOUND);
	cr_assert_eq(cas_remove(root, hex), SW_ENOTFOUND);
	free(path);
}

Test(cas, never_published_is_not_found)
{
	const char *hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

	cr_assert_eq(cas_lookup(root, hex, NULL), SW_ENOTFOUND);
	cr_assert_eq(cas_verify(root, hex), SW_ENOTFOUND);
}

Test(cas, invalid_names_are_refused)
{
	const char *bad[] = {
		"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
		"ba7816bf",
		"../..",
		"",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ag",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0",
		"../../../../../../../../../../../../../../../../../../../../etc/x",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cr_assert_not(cas_valid_hex(bad[i]), "'%s' accepted", bad[i]);
		cr_assert_null(cas_path(root, bad[i]), "'%s' got a path", bad[i]);
		cr_assert_eq(cas_lookup(root, bad[i], NULL), SW_EINVALID, "'%s'", bad[i]);
		cr_assert(strstr(sw_error_last(), "not a valid object name"), "%s", sw_error_last());
		cr_assert_eq(cas_verify(root, bad[i]), SW_EINVALID, "'%s'", bad[i]);
		cr_assert_eq(cas_remove(root, bad[i]), SW_EINVALID, "'%s'", bad[i]);
	}
	cr_assert_not(cas_valid_hex(NULL));
	cr_assert_null(cas_path(root, NULL));
	cr_assert(cas_valid_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

static void assert_sha256sum(const char *path, const char *hex)
{
	struct th_result r = th_runv(NULL, NULL, "sha256sum", path, NULL);

	cr_assert_eq(r.status, 0, "sha256sum failed: %s", r.err);
	cr_assert(strlen(r.out) > CAS_HEX_LEN);
	cr_assert_eq(strncmp(r.out, hex, CAS_HEX_LEN), 0, "sha256sum says %s, we say %s", r.out, hex);
	th_result_free(&r);
}

Test(cas, hash_matches_sha256sum)
{
	size_t len = 3 * 128 * 1024 + 12345; /* crosses read chunks */
	char *data = pseudo_random(len);
	char *file = th_path("%s/blob", root);
	char hex[CAS_HEX_LEN + 1], again[CAS_HEX_LEN + 1];
	uint64_t size = 0, fsize = 0;
	char *path;
	int fd;

	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0);
	cr_assert_eq(fs_write_all(fd, data, len), 0);
	close(fd);
	cr_assert_eq(cas_hash_file(file, again, &fsize), 0);
	cr_assert_eq(fsize, len);
	assert_sha256sum(file, again);

	free(publish(data, len, hex, &size));
	cr_assert_eq(size, len);
	cr_assert_str_eq(hex, again);
	path = cas_path(root, hex);
	assert_sha256sum(path, hex);
	cr_assert_eq(cas_verify(root, hex), 0);
	free(path);
	free(file);
	free(data);
}

Test(cas, hash_file_missing_is_not_found)
{
	char hex[CAS_HEX_LEN + 1];
	char *file = th_path("%s/nothing-here", root);

	cr_assert_eq(cas_hash_file(file, hex, NULL), SW_ENOTFOUND);
	cr_assert(strstr(sw_error_last(), "nothing-here"), "%s", sw_error_last());
	free(file);
}

struct seen {
	char hex[16][CAS_HEX_LEN + 1];
	uint64_t size[16];
	int n;
	int stop_after;
};

static int collect(const char *hex, uint64_t size, void *ctx)
{
	struct seen *s = ctx;

	cr_assert(s->n < 16);
	strcpy(s->hex[s->n], hex);
	s->size[s->n] = size;
	s->n++;
	return s->stop_after && s->n == s->stop_after ? 7 : 0;
}

static int hex_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

Test(cas, foreach_lists_exactly_the_objects)
{
	const char *blobs[] = { "one", "two", "three", "four", "five!" };
	char want[5][CAS_HEX_LEN + 1];
	struct seen s = { .n = 0 };
	char *tmp, *dirname;
	int fd;

	for (int i = 0; i < 5; i++)
		publish_str(blobs[i], want[i]);
	/* things that are not objects */
	cr_assert_eq(cas_tmpfile(root, &fd, &tmp), 0);
	close(fd);
	junk("%s/store/sha256/README", root);
	junk("%s/store/sha256/zz/%062d.tar.zst", root, 0);
	junk("%s/store/sha256/%.2s/notanobject", root, want[0]);
	junk("%s/store/sha256/%.2s/%062d.tar", root, want[0], 0);
	junk("%s/store/sha256/%.2s/%061d.tar.zst", root, want[0], 0);
	junk("%s/store/sha256/ab/%062dA.tar.zst", root, 0);
	dirname = th_path("%s/store/sha256/cd/%062d.tar.zst", root, 0);
	cr_assert_eq(fs_mkdir_p(dirname, 0755), 0);

	cr_assert_eq(cas_foreach(root, collect, &s), 0, "%s", sw_error_last());
	cr_assert_eq(s.n, 5);
	qsort(want, 5, sizeof(want[0]), hex_cmp);
	for (int i = 0; i < 5; i++) {
		uint64_t size;
		cr_assert_str_eq(s.hex[i], want[i], "entry %d", i);
		cr_assert_eq(cas_lookup(root, s.hex[i], &size), 0);
		cr_assert_eq(s.size[i], size);
	}
	free(dirname);
	free(tmp);
}

Test(cas, foreach_stops_on_nonzero)
{
	struct seen s = { .n = 0, .stop_after = 2 };
	char hex[CAS_HEX_LEN + 1];

	publish_str("a", hex);
	publish_str("b", hex);
	publish_str("c", hex);
	cr_assert_eq(cas_foreach(root, collect, &s), 7);
	cr_assert_eq(s.n, 2);
}

Test(cas, foreach_on_empty_store)
{
	struct seen s = { .n = 0 };

	cr_assert_eq(cas_foreach(root, collect, &s), 0);
	cr_assert_eq(s.n, 0);
}

Test(cas, remove_deletes_only_that_object)
{
	char a[CAS_HEX_LEN + 1], b[CAS_HEX_LEN + 1];
	struct seen s = { .n = 0 };
	char *path;

	publish_str("keep me", a);
	publish_str("drop me", b);
	path = cas_path(root, b);
	cr_assert_eq(cas_remove(root, b), 0, "%s", sw_error_last());
	cr_assert_not(fs_exists(path));
	cr_assert_eq(cas_lookup(root, b, NULL), SW_ENOTFOUND);
	cr_assert_eq(cas_remove(root, b), SW_ENOTFOUND);
	cr_assert_eq(cas_verify(root, a), 0);
	cr_assert_eq(cas_foreach(root, collect, &s), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.hex[0], a);
	free(path);
}

Test(cas, failed_publish_removes_temp_file)
{
	char hex[CAS_HEX_LEN + 1];
	int fd;
	char *tmp;

	cr_assert_eq(cas_tmpfile(root, &fd, &tmp), 0);
	cr_assert_eq(fs_write_all(fd, "x", 1), 0);
	close(fd);
	memset(hex, 'a', CAS_HEX_LEN);
	hex[CAS_HEX_LEN] = '\0';
	cr_assert_lt(cas_publish_hashed(root, -1, tmp, hex), 0);
	cr_assert_not(fs_exists(tmp), "temp file %s left behind", tmp);
	cr_assert_eq(dir_entries("%s/store/tmp", root), 0);
	free(tmp);
}

Test(cas, republish_after_remove)
{
	char a[CAS_HEX_LEN + 1], b[CAS_HEX_LEN + 1];

	publish_str("phoenix", a);
	cr_assert_eq(cas_remove(root, a), 0);
	publish_str("phoenix", b);
	cr_assert_str_eq(a, b);
	cr_assert_eq(cas_verify(root, b), 0);
}

Test(cas, check_trusts_an_unchanged_object_and_rehashes_a_changed_one)
{
	char hex[CAS_HEX_LEN + 1];
	publish_str("checked bytes", hex);
	char *stamp = th_path("%s/store/verified/%s", root, hex);
	struct stat st;
	cr_assert_eq(stat(stamp, &st), 0, "publishing stamps the new object");
	cr_assert_eq(cas_check(root, hex), 0);

	/* any write changes the ctime, so a flipped byte is found */
	char *path = cas_path(root, hex);
	cr_assert_eq(chmod(path, 0644), 0);
	int fd = open(path, O_WRONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(pwrite(fd, "X", 1, 3), 1);
	close(fd);
	cr_assert_eq(cas_check(root, hex), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "corrupt"), "message: %s", sw_error_last());
	cr_assert_eq(cas_check(root, hex), SW_EINVALID, "a failed check stamps nothing");

	/* removing the object removes its stamp */
	cr_assert_eq(cas_remove(root, hex), 0);
	cr_assert_neq(stat(stamp, &st), 0);
	cr_assert_eq(cas_check(root, hex), SW_ENOTFOUND);
	free(path);
	free(stamp);
}

Test(cas, publishing_again_keeps_a_valid_stamp_and_never_revives_a_void_one)
{
	char hex[CAS_HEX_LEN + 1];
	publish_str("published twice", hex);
	char *path = cas_path(root, hex);
	char *stamp = th_path("%s/store/verified/%s", root, hex);
	struct stat before, after;
	cr_assert_eq(stat(path, &before), 0);
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	nanosleep(&pause, NULL);

	/* the object is touched (gc keeps it young) and its stamp follows the touch */
	publish_str("published twice", hex);
	cr_assert_eq(stat(path, &after), 0);
	cr_assert(after.st_mtim.tv_sec > before.st_mtim.tv_sec ||
		  after.st_mtim.tv_nsec > before.st_mtim.tv_nsec, "not touched");
	char *line = th_read(stamp, NULL), want[64];
	cr_assert(line);
	snprintf(want, sizeof(want), " %lld.%09ld\n", (long long)after.st_ctim.tv_sec,
		 after.st_ctim.tv_nsec);
	cr_assert(strstr(line, want), "stamp '%s' lacks the new ctime '%s'", line, want);
	free(line);

	/* damaged on disk, then published again: the damage is still found */
	cr_assert_eq(chmod(path, 0644), 0);
	int fd = open(path, O_WRONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(pwrite(fd, "X", 1, 2), 1);
	close(fd);
	publish_str("published twice", hex);
	cr_assert_eq(cas_check(root, hex), SW_EINVALID, "a void stamp was carried over");
	free(stamp);
	free(path);
}

Test(cas, publish_hashed_trusts_the_writers_name)
{
	char want[CAS_HEX_LEN + 1];
	int fd;
	char *tmp;

	publish_str("probe", want);
	cr_assert_eq(cas_remove(root, want), 0, "%s", sw_error_last());
	cr_assert_eq(cas_tmpfile(root, &fd, &tmp), 0);
	cr_assert_eq(fs_write_all(fd, "probe", 5), 0);
	cr_assert_eq(cas_publish_hashed(root, fd, tmp, want), 0, "%s", sw_error_last());
	free(tmp);
	cr_assert_eq(cas_verify(root, want), 0, "%s", sw_error_last());
	cr_assert_eq(dir_entries("%s/store/tmp", root), 0);

	/* a malformed name is refused and the temp file removed */
	cr_assert_eq(cas_tmpfile(root, &fd, &tmp), 0);
	cr_assert_eq(fs_write_all(fd, "x", 1), 0);
	cr_assert_eq(cas_publish_hashed(root, fd, tmp, "../../etc"), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "invalid object name"), "%s", sw_error_last());
	cr_assert_not(fs_exists(tmp), "temp file %s left behind", tmp);
	cr_assert_eq(dir_entries("%s/store/tmp", root), 0);
	free(tmp);
}

/* cas_store_stream() of the bytes s, at most max of them, as hex, from a FILE. */
static int store_stream(const char *s, const char *hex, uint64_t max, struct cas_stream *out)
{
	FILE *in = fmemopen((void *)s, strlen(s), "r");
	cr_assert_not_null(in);
	*out = (struct cas_stream)CAS_STREAM_INIT;
	out->what = "the slug sent";
	out->max = max;
	out->source = cas_source_file;
	out->ctx = in;
	int err = cas_store_stream(root, hex, out);
	fclose(in);
	return err;
}

static int count_objects(const char *hex, uint64_t size, void *ctx)
{
	(void)hex;
	(void)size;
	(*(int *)ctx)++;
	return 0;
}

/* Nothing in the store: no object, no temp file left behind. */
static void assert_store_empty(const char *hex)
{
	int n = 0;
	cr_assert_eq(cas_lookup(root, hex, NULL), SW_ENOTFOUND, "nothing stored");
	cr_assert_eq(cas_foreach(root, count_objects, &n), 0);
	cr_assert_eq(n, 0, "no object in the store");
	char *tmp = th_path("%s/store/tmp", root);
	cr_assert_eq(th_entries(tmp), 0, "no temp file left in %s", tmp);
	free(tmp);
}

Test(cas, store_stream_stores_bytes_that_hash_to_their_name)
{
	char hex[CAS_HEX_LEN + 1];
	struct cas_stream s;
	cas_hash_data("slug bytes", 10, hex);
	cr_assert_eq(store_stream("slug bytes", hex, 10, &s), 0, "%s", sw_error_last());
	cr_assert_eq(s.stored, 1);
	cr_assert_eq(s.size, 10);
	cr_assert_eq(cas_verify(root, hex), 0, "%s", sw_error_last());
	char *tmp = th_path("%s/store/tmp", root);
	cr_assert_eq(th_entries(tmp), 0, "no temp file left");
	free(tmp);
}

/* More bytes than a step of the syncer (util/syncer.h): synced as they come. */
static char *big_text(size_t n, char first)
{
	char *s = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)(first + (char)(i % 23));
	s[n] = '\0';
	return s;
}

Test(cas, store_stream_stores_bytes_of_several_sync_steps)
{
	size_t n = 3 * (size_t)SYNCER_STEP + 12345;
	char hex[CAS_HEX_LEN + 1], *big = big_text(n, 'a');
	struct cas_stream s;
	cas_hash_data(big, n, hex);
	cr_assert_eq(store_stream(big, hex, n, &s), 0, "%s", sw_error_last());
	cr_assert_eq(s.stored, 1);
	cr_assert_eq(s.size, n);
	cr_assert_eq(cas_verify(root, hex), 0, "%s", sw_error_last());
	char *tmp = th_path("%s/store/tmp", root);
	cr_assert_eq(th_entries(tmp), 0, "no temp file left");
	free(tmp);
	free(big);
}

Test(cas, store_stream_refuses_bytes_of_several_sync_steps_of_another_name)
{
	size_t n = 3 * (size_t)SYNCER_STEP + 12345;
	char hex[CAS_HEX_LEN + 1], other[CAS_HEX_LEN + 1];
	char *big = big_text(n, 'a'), *evil = big_text(n, 'b');
	struct cas_stream s;
	cas_hash_data(big, n, hex);
	cas_hash_data(evil, n, other);
	cr_assert_eq(store_stream(evil, hex, n, &s), SW_EINVALID);
	char *want = th_path("the slug sent is corrupt: its bytes hash to %.12s... "
			     "(nothing was stored)", other);
	cr_assert_str_eq(sw_error_last(), want);
	assert_store_empty(hex);
	free(want);
	free(big);
	free(evil);
}

Test(cas, store_stream_leaves_an_object_the_store_has)
{
	char hex[CAS_HEX_LEN + 1];
	struct cas_stream s;
	publish_str("slug bytes", hex);
	char *path = cas_path(root, hex);
	struct stat before, after;
	cr_assert_eq(stat(path, &before), 0);
	/* the source is not read: other bytes under the name change nothing */
	cr_assert_eq(store_stream("other bytes", hex, 100, &s), 0, "%s", sw_error_last());
	cr_assert_eq(s.stored, 0);
	cr_assert_eq(s.size, 10);
	cr_assert_eq(stat(path, &after), 0);
	cr_assert_eq(before.st_ino, after.st_ino, "the object is the same file");
	cr_assert_eq(cas_verify(root, hex), 0, "%s", sw_error_last());
	free(path);
}

Test(cas, store_stream_replaces_a_corrupt_object)
{
	char hex[CAS_HEX_LEN + 1];
	struct cas_stream s;
	publish_str("slug bytes", hex);
	char *path = cas_path(root, hex);
	chmod(path, 0644);
	th_write(path, "rotten", 0644);
	cr_assert_eq(store_stream("slug bytes", hex, 100, &s), 0, "%s", sw_error_last());
	cr_assert_eq(s.stored, 1);
	cr_assert_eq(cas_verify(root, hex), 0, "%s", sw_error_last());
	free(path);
}

Test(cas, store_stream_refuses_bytes_of_another_name)
{
	char hex[CAS_HEX_LEN + 1], other[CAS_HEX_LEN + 1];
	struct cas_stream s;
	cas_hash_data("slug bytes", 10, hex);
	cas_hash_data("evil bytes", 10, other);
	cr_assert_eq(store_stream("evil bytes", hex, 100, &s), SW_EINVALID);
	char *want = th_path("the slug sent is corrupt: its bytes hash to %.12s... "
			     "(nothing was stored)", other);
	cr_assert_str_eq(sw_error_last(), want);
	cr_assert_eq(s.stored, 0);
	assert_store_empty(hex);
	free(want);
}

Test(cas, store_stream_refuses_more_bytes_than_the_limit)
{
	char hex[CAS_HEX_LEN + 1];
	struct cas_stream s;
	cas_hash_data("slug bytes", 10, hex);
	cr_assert_eq(store_stream("slug bytes", hex, 9, &s), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "the slug sent is larger than slipway.maxSlugSize "
					  "(9 bytes): nothing was stored");
	assert_store_empty(hex);
}

Test(cas, store_stream_takes_the_roots_max_slug_size_by_default)
{
	char hex[CAS_HEX_LEN + 1];
	struct cas_stream s;
	cas_hash_data("slug bytes", 10, hex);
	setenv("SLIPWAY_MAX_SLUG_SIZE", "9", 1);
	int err = store_stream("slug bytes", hex, 0, &s);
	unsetenv("SLIPWAY_MAX_SLUG_SIZE");
	cr_assert_eq(err, SW_EINVALID, "%s", sw_error_last());
	assert_store_empty(hex);
}

Test(cas, store_stream_refuses_a_name_that_is_not_one)
{
	struct cas_stream s;
	cr_assert_eq(store_stream("x", "../../etc/passwd", 100, &s), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "is not a valid object name"), "%s", sw_error_last());
	char *store = th_path("%s/store", root);
	cr_assert_eq(access(store, F_OK), -1, "nothing made");
	free(store);
}
