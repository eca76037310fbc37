#define _GNU_SOURCE
#include "util/blobstream.h"
#include "util/error.h"
#include "util/gitutil.h"
#include "util/util.h"
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BIG_SIZE (3 * 1024 * 1024)
#define PAIR_SIZE (BIG_SIZE + 5)   /* the low 4 bits of the size are 5 */

static char *root;
static char *repo;
static const char *git_env[] = {
	"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
	"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com",
	"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
	"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=gc.auto", "GIT_CONFIG_VALUE_0=0",
	NULL,
};

/* Runs git with the arguments in ap (NULL-terminated) in dir; asserts success; returns stdout. */
static char *git_va(const char *dir, va_list ap)
{
	const char *argv[64] = { "git" };
	struct th_result r;
	size_t n = 1;

	while (n < 63 && (argv[n] = va_arg(ap, const char *)))
		n++;
	argv[n] = NULL;
	r = th_run(dir, git_env, NULL, argv);
	cr_assert_eq(r.status, 0, "git %s failed: %s", argv[1], r.err);
	free(r.err);
	return r.out;
}

/* Runs git (argv after dir, NULL-terminated) in dir; asserts success; returns stdout. */
static char *git(const char *dir, ...)
{
	va_list ap;
	va_start(ap, dir);
	char *out = git_va(dir, ap);
	va_end(ap);
	return out;
}

/* git's output up to the first newline, which must name an object. */
static char *git_sha(const char *dir, ...)
{
	va_list ap;
	va_start(ap, dir);
	char *out = git_va(dir, ap);
	va_end(ap);
	out[strcspn(out, "\n")] = '\0';
	cr_assert_eq(strlen(out), 40, "'%s' is no object name", out);
	return out;
}

static void setup(void)
{
	root = th_sandbox();
	repo = th_path("%s/repo", root);
	sw_git_init();
	free(git(root, "init", "-q", repo, NULL));
}

static void teardown(void)
{
	free(repo);
	repo = NULL;
	th_sandbox_free(root);
	root = NULL;
}

TestSuite(blobstream, .init = setup, .fini = teardown, .timeout = 300);

static char *pseudo_random(size_t len, uint32_t seed)
{
	char *p = xmalloc(len);
	uint32_t x = seed;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (char)(x & 0xff);
	}
	return p;
}

/* Numbered text lines, about len bytes; lines divisible by `every` say `word`. */
static char *text(size_t len, int every, const char *word, size_t *out_len)
{
	struct buf b = BUF_INIT;

	for (int i = 0; b.len < len; i++)
		buf_addf(&b, "line %d of a long and repetitive text file: %s\n", i,
			 every && i % every == 0 ? word : "the quick brown fox");
	*out_len = b.len;
	return buf_detach(&b);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	cr_assert(fd >= 0, "cannot create %s", path);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void repo_file(const char *name, const void *data, size_t len)
{
	char *p = th_path("%s/%s", repo, name);
	write_bytes(p, data, len);
	free(p);
}

static void commit_all(void)
{
	free(git(repo, "add", "-A", NULL));
	free(git(repo, "commit", "-q", "-m", "files", NULL));
}

static git_oid oid(const char *hex)
{
	git_oid id;

	cr_assert_eq(git_oid_fromstr(&id, hex), 0, "bad oid %s", hex);
	return id;
}

static struct blobstream *open_bs(void)
{
	git_repository *r;
	struct blobstream *bs;

	cr_assert_eq(sw_git_open(&r, repo), 0, "%s", sw_error_last());
	cr_assert_eq(blobstream_open(&bs, r), 0, "%s", sw_error_last());
	git_repository_free(r);
	return bs;
}

/* Streams hex into a fresh file at path; returns blobstream_write's result. */
static int stream_to(struct blobstream *bs, const char *hex, uint64_t min_size, const char *path,
		     uint64_t *size)
{
	git_oid id = oid(hex);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int r;

	cr_assert(fd >= 0);
	r = blobstream_write(bs, &id, min_size, fd, size);
	close(fd);
	return r;
}

static off_t file_size(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "no %s", path);
	return st.st_size;
}

/* Asserts the file at path holds exactly len bytes of data. */
static void assert_file(const char *path, const void *data, size_t len)
{
	size_t got;
	char *bytes = th_read(path, &got);

	cr_assert(bytes, "cannot read %s", path);
	cr_assert_eq(got, len, "%s has %zu bytes, want %zu", path, got, len);
	cr_assert(memcmp(bytes, data, len) == 0, "%s differs", path);
	free(bytes);
}

/* Asserts the file at path holds what `git cat-file blob hex` prints. */
static void assert_like_git(const char *path, const char *hex)
{
	char *want = th_path("%s/want-%s", root, hex);
	struct th_result r = th_runv(repo, git_env, "sh", "-c", "git cat-file blob \"$0\" > \"$1\"",
				     hex, want, NULL);
	size_t len;
	char *bytes;

	cr_assert_eq(r.status, 0, "cat-file: %s", r.err);
	th_result_free(&r);
	bytes = th_read(want, &len);
	cr_assert(bytes);
	assert_file(path, bytes, len);
	free(bytes);
	unlink(want);
	free(want);
}

/* The single file of objects/pack ending in suffix. */
static char *pack_path(const char *suffix)
{
	char *dir = th_path("%s/.git/objects/pack", repo);
	char *found = NULL;
	struct dirent *de;
	DIR *d = opendir(dir);

	cr_assert(d, "no %s", dir);
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n > strlen(suffix) && !strcmp(de->d_name + n - strlen(suffix), suffix)) {
			cr_assert_null(found, "two packs in %s", dir);
			found = th_path("%s/%s", dir, de->d_name);
		}
	}
	closedir(d);
	free(dir);
	cr_assert(found, "no *%s in the repository", suffix);
	return found;
}

static char *loose_path(const char *dir, const char *hex)
{
	return th_path("%s/%.2s/%s", dir, hex, hex + 2);
}

/* Offset and size of hex's entry in the pack, from git verify-pack -v. */
static void pack_entry(const char *hex, unsigned long long *off, unsigned long long *len)
{
	char *idx = pack_path(".idx");
	char *out = git(repo, "verify-pack", "-v", idx, NULL);
	char *line = strstr(out, hex);
	char type[16];
	unsigned long long size;

	cr_assert(line, "%s is not in verify-pack's output", hex);
	cr_assert_eq(sscanf(line + 40, "%15s %llu %llu %llu", type, &size, len, off), 4);
	free(out);
	free(idx);
}

/* Overwrites len bytes at off of the read-only file at path. */
static void patch(const char *path, unsigned long long off, const void *data, size_t len)
{
	int fd;

	cr_assert_eq(chmod(path, 0644), 0);
	fd = open(path, O_WRONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(pwrite(fd, data, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void flip(const char *path, unsigned long long off)
{
	unsigned char c;
	int fd = open(path, O_RDONLY);

	cr_assert(fd >= 0);
	cr_assert_eq(pread(fd, &c, 1, (off_t)off), 1);
	close(fd);
	c ^= 0x5a;
	patch(path, off, &c, 1);
}

/* Position of hex among the pack index's names. */
static uint32_t idx_position(const char *idx, const char *hex, uint32_t *nr)
{
	size_t len;
	char *bytes = th_read(idx, &len);
	git_oid id = oid(hex);
	const unsigned char *p = (const unsigned char *)bytes;
	char *hit;
	uint32_t pos;

	cr_assert(bytes && len > 8 + 1024);
	*nr = (uint32_t)p[8 + 1020] << 24 | (uint32_t)p[8 + 1021] << 16 |
	      (uint32_t)p[8 + 1022] << 8 | p[8 + 1023];
	hit = memmem(bytes + 8 + 1024, (size_t)*nr * 20, id.id, 20);
	cr_assert(hit);
	pos = (uint32_t)((hit - (bytes + 8 + 1024)) / 20);
	free(bytes);
	return pos;
}

Test(blobstream, packed_blobs_stream_byte_identical)
{
	char *big = pseudo_random(BIG_SIZE, 2463534242u);
	size_t tlen;
	char *txt = text(2 << 20, 0, NULL, &tlen);
	char *out = th_path("%s/out", root);
	struct blobstream *bs;
	uint64_t size = 0;
	char *loose;

	repo_file("big.bin", big, BIG_SIZE);
	repo_file("text.txt", txt, tlen);
	repo_file("empty", "", 0);
	commit_all();
	free(git(repo, "repack", "-adfq", NULL));

	char *big_hex = git_sha(repo, "rev-parse", "HEAD:big.bin", NULL);
	char *txt_hex = git_sha(repo, "rev-parse", "HEAD:text.txt", NULL);
	char *empty_hex = git_sha(repo, "rev-parse", "HEAD:empty", NULL);
	char *objdir = th_path("%s/.git/objects", repo);

	loose = loose_path(objdir, big_hex);
	cr_assert_not(access(loose, F_OK) == 0, "%s is still loose", big_hex);
	bs = open_bs();

	cr_assert_eq(stream_to(bs, big_hex, 1 << 20, out, &size), 1, "%s", sw_error_last());
	cr_assert_eq(size, BIG_SIZE);
	assert_file(out, big, BIG_SIZE);
	assert_like_git(out, big_hex);

	cr_assert_eq(stream_to(bs, txt_hex, 0, out, &size), 1, "%s", sw_error_last());
	cr_assert_eq(size, tlen);
	assert_file(out, txt, tlen);
	{
		char *pack = pack_path(".pack");

		cr_assert_lt(file_size(pack), BIG_SIZE + (off_t)tlen / 4, "the text was not compressed");
		free(pack);
	}

	/* min_size is inclusive */
	cr_assert_eq(stream_to(bs, big_hex, BIG_SIZE, out, &size), 1);
	cr_assert_eq(size, BIG_SIZE);

	cr_assert_eq(stream_to(bs, empty_hex, 0, out, &size), 1, "%s", sw_error_last());
	cr_assert_eq(size, 0);
	cr_assert_eq(file_size(out), 0);

	/* writes go to the current offset */
	{
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		git_oid id = oid(txt_hex);
		char *both = xmalloc(tlen + 3);

		cr_assert_eq(write(fd, "abc", 3), 3);
		cr_assert_eq(blobstream_write(bs, &id, 0, fd, NULL), 1);
		close(fd);
		memcpy(both, "abc", 3);
		memcpy(both + 3, txt, tlen);
		assert_file(out, both, tlen + 3);
		free(both);
	}

	blobstream_free(bs);
	free(loose);
	free(objdir);
	free(big_hex);
	free(txt_hex);
	free(empty_hex);
	free(out);
	free(txt);
	free(big);
}

Test(blobstream, large_offset_table)
{
	char *big = pseudo_random(BIG_SIZE, 7);
	char *out = th_path("%s/out", root);
	struct blobstream *bs;
	uint64_t size = 0;
	uint32_t nr;

	char *other = pseudo_random(BIG_SIZE / 2, 8);

	repo_file("a.bin", big, BIG_SIZE);
	repo_file("b.bin", other, BIG_SIZE / 2);
	commit_all();
	free(git(repo, "repack", "-adfq", NULL));
	char *hex = git_sha(repo, "rev-parse", "HEAD:a.bin", NULL);
	char *hex_b = git_sha(repo, "rev-parse", "HEAD:b.bin", NULL);
	char *pack = pack_path(".pack");
	char *idx = pack_path(".idx");
	char *tmp = th_path("%s/large.idx", root);

	/* every object past offset 16 goes through the 64-bit table */
	free(git(repo, "index-pack", "--index-version=2,16", "-o", tmp, pack, NULL));
	cr_assert_eq(chmod(idx, 0644), 0);
	cr_assert_eq(rename(tmp, idx), 0);
	idx_position(idx, hex, &nr);
	cr_assert_gt(file_size(idx), 8 + 1024 + nr * 28 + 40 + 8, "no 64-bit offsets in the index");

	bs = open_bs();
	cr_assert_eq(stream_to(bs, hex, 0, out, &size), 1, "%s", sw_error_last());
	cr_assert_eq(size, BIG_SIZE);
	assert_file(out, big, BIG_SIZE);
	cr_assert_eq(stream_to(bs, hex_b, 0, out, &size), 1, "%s", sw_error_last());
	assert_file(out, other, BIG_SIZE / 2);
	blobstream_free(bs);
	free(other);
	free(tmp);
	free(idx);
	free(pack);
	free(hex);
	free(hex_b);
	free(out);
	free(big);
}

Test(blobstream, index_v1_is_skipped)
{
	char *big = pseudo_random(BIG_SIZE / 4, 9);
	char *out = th_path("%s/out", root);
	struct blobstream *bs;
	uint64_t size = 7;

	repo_file("a.bin", big, BIG_SIZE / 4);
	commit_all();
	free(git(repo, "repack", "-adfq", NULL));
	char *hex = git_sha(repo, "rev-parse", "HEAD:a.bin", NULL);
	char *pack = pack_path(".pack");
	char *idx = pack_path(".idx");
	char *tmp = th_path("%s/v1.idx", root);

	free(git(repo, "index-pack", "--index-version=1", "-o", tmp, pack, NULL));
	cr_assert_eq(chmod(idx, 0644), 0);
	cr_assert_eq(rename(tmp, idx), 0);

	bs = open_bs();
	cr_assert_eq(stream_to(bs, hex, 0, out, &size), 0);
	cr_assert_eq(size, 0);
	cr_assert_eq(file_size(out), 0);
	/* libgit2 still reads it: the caller's fallback works */
	{
		git_repository *r;
		git_blob *blob;
		git_oid id = oid(hex);

		cr_assert_eq(sw_git_open(&r, repo), 0);
		cr_assert_eq(git_blob_lookup(&blob, r, &id), 0);
		cr_assert_eq(git_blob_rawsize(blob), BIG_SIZE / 4);
		git_blob_free(blob);
		git_repository_free(r);
	}
	blobstream_free(bs);
	free(tmp);
	free(idx);
	free(pack);
	free(hex);
	free(out);
	free(big);
}

Test(blobstream, delta_returns_zero_and_writes_nothing)
{
	size_t alen, blen;
	char *a = text(400 << 10, 1000, "version one", &alen);
	char *b = text(400 << 10, 1000, "version two", &blen);
	char *out = th_path("%s/out", root);
	const char *delta = NULL, *whole = NULL, *whole_bytes = NULL;
	size_t whole_len = 0;
	struct blobstream *bs;
	uint64_t size = 7;
	char input[128];

	repo_file("a.txt", a, alen);
	repo_file("b.txt", b, blen);
	commit_all();
	free(git(repo, "repack", "-adfq", "--window=10", "--depth=10", NULL));
	char *ha = git_sha(repo, "rev-parse", "HEAD:a.txt", NULL);
	char *hb = git_sha(repo, "rev-parse", "HEAD:b.txt", NULL);

	snprintf(input, sizeof(input), "%s\n%s\n", ha, hb);
	const char *argv[] = { "git", "cat-file", "--batch-check=%(objectname) %(deltabase)", NULL };
	struct th_result r = th_run(repo, git_env, input, argv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	for (char *line = r.out; *line; line = strchr(line, '\n') + 1) {
		int is_delta = strncmp(line + 41, "0000000000000000000000000000000000000000", 40) != 0;
		const char *h = !strncmp(line, ha, 40) ? ha : hb;

		if (is_delta)
			delta = h;
		else
			whole = h;
	}
	cr_assert(delta, "git stored neither blob as a delta:\n%s", r.out);
	cr_assert(whole, "git stored both blobs as deltas:\n%s", r.out);
	whole_bytes = whole == ha ? a : b;
	whole_len = whole == ha ? alen : blen;
	th_result_free(&r);

	bs = open_bs();
	cr_assert_eq(stream_to(bs, delta, 0, out, &size), 0, "%s", sw_error_last());
	cr_assert_eq(size, 0);
	cr_assert_eq(file_size(out), 0);
	cr_assert_eq(stream_to(bs, whole, 0, out, &size), 1, "%s", sw_error_last());
	cr_assert_eq(size, whole_len);
	assert_file(out, whole_bytes, whole_len);
	assert_like_git(out, whole);
	blobstream_free(bs);
	free(ha);
	free(hb);
	free(out);
	free(a);
	free(b);
}

Test(blobstream, loose_blobs_stream_byte_identical)
{
	char *big = pseudo_random(1 << 20, 42);
	size_t tlen;
	char *txt = text(300 << 10, 0, NULL, &tlen);
	char *src = th_path("%s/src.bin", root);
	char *tsrc = th_path("%s/src.txt", root);
	char *esrc = th_path("%s/empty", root);
	char *out = th_path("%s/out", root);
	char *objdir = th_path("%s/.git/objects", repo);
	struct blobstream *bs;
	uint64_t size = 0;

	write_bytes(src, big, 1 << 20);
	write_bytes(tsrc, txt, tlen);
	write_bytes(esrc, "", 0);
	char *hex = git_sha(repo, "hash-object", "-w", src, NULL);
	char *thex = git_sha(repo, "hash-object", "-w", tsrc, NULL);
	char *ehex = git_sha(repo, "hash-object", "-w", esrc, NULL);
	char *loose = loose_path(objdir, hex);
	cr_assert_eq(access(loose, F_OK), 0, "%s is not loose", hex);

	bs = open_bs();
	cr_assert_eq(stream_to(bs, hex, 1000, out, &size), 1, "%s", sw_error_last());
	cr_assert_eq(size, 1 << 20);
	assert_file(out, big, 1 << 20);
	assert_like_git(out, hex);
	cr_assert_eq(stream_to(bs, thex, 0, out, &size), 1, "%s", sw_error_last());
	cr_assert_eq(size, tlen);
	assert_file(out, txt, tlen);
	cr_assert_eq(stream_to(bs, ehex, 0, out, &size), 1, "%s", sw_error_last());
	cr_assert_eq(size, 0);
	cr_assert_eq(file_size(out), 0);

	/* too small: nothing written */
	cr_assert_eq(stream_to(bs, hex, (1 << 20) + 1, out, &size), 0);
	cr_assert_eq(size, 0);
	cr_assert_eq(file_size(out), 0);
	blobstream_free(bs);
	free(loose);
	free(hex);
	free(thex);
	free(ehex);
	free(objdir);
	free(out);
	free(esrc);
	free(tsrc);
	free(src);
	free(txt);
	free(big);
}

Test(blobstream, unknown_small_and_non_blobs_return_zero)
{
	char *big = pseudo_random(100000, 5);
	char *out = th_path("%s/out", root);
	struct blobstream *bs;
	uint64_t size = 7;

	repo_file("a.bin", big, 100000);
	commit_all();
	char *loose_commit = git_sha(repo, "rev-parse", "HEAD", NULL);
	char *loose_tree = git_sha(repo, "rev-parse", "HEAD^{tree}", NULL);
	bs = open_bs();
	cr_assert_eq(stream_to(bs, loose_commit, 0, out, &size), 0);
	cr_assert_eq(stream_to(bs, loose_tree, 0, out, &size), 0);
	cr_assert_eq(file_size(out), 0);
	blobstream_free(bs);

	free(git(repo, "repack", "-adfq", NULL));
	char *hex = git_sha(repo, "rev-parse", "HEAD:a.bin", NULL);
	char *commit = git_sha(repo, "rev-parse", "HEAD", NULL);
	char *tree = git_sha(repo, "rev-parse", "HEAD^{tree}", NULL);
	bs = open_bs();

	cr_assert_eq(stream_to(bs, "0123456789abcdef0123456789abcdef01234567", 0, out, &size), 0);
	cr_assert_eq(stream_to(bs, "0000000000000000000000000000000000000000", 0, out, &size), 0);
	cr_assert_eq(stream_to(bs, "ffffffffffffffffffffffffffffffffffffffff", 0, out, &size), 0);
	cr_assert_eq(size, 0);
	cr_assert_eq(file_size(out), 0);

	cr_assert_eq(stream_to(bs, hex, 100001, out, &size), 0);
	cr_assert_eq(size, 0);
	cr_assert_eq(file_size(out), 0);
	cr_assert_eq(stream_to(bs, hex, UINT64_MAX, out, &size), 0);
	cr_assert_eq(file_size(out), 0);

	cr_assert_eq(stream_to(bs, commit, 0, out, &size), 0);
	cr_assert_eq(stream_to(bs, tree, 0, out, &size), 0);
	cr_assert_eq(file_size(out), 0);
	blobstream_free(bs);
	free(loose_commit);
	free(loose_tree);
	free(commit);
	free(tree);
	free(hex);
	free(out);
	free(big);
}

Test(blobstream, empty_repository)
{
	char *out = th_path("%s/out", root);
	struct blobstream *bs = open_bs();

	cr_assert_eq(stream_to(bs, "0123456789abcdef0123456789abcdef01234567", 0, out, NULL), 0);
	blobstream_free(bs);
	blobstream_free(NULL);
	free(out);
}

/* A packed 3 MB random blob and a packed text blob; returns their names. */
static void packed_pair(char **big_hex, char **txt_hex, char **big, char **txt, size_t *tlen)
{
	*big = pseudo_random(PAIR_SIZE, 11);
	*txt = text(1 << 20, 0, NULL, tlen);
	repo_file("big.bin", *big, PAIR_SIZE);
	repo_file("text.txt", *txt, *tlen);
	commit_all();
	free(git(repo, "repack", "-adfq", NULL));
	*big_hex = git_sha(repo, "rev-parse", "HEAD:big.bin", NULL);
	*txt_hex = git_sha(repo, "rev-parse", "HEAD:text.txt", NULL);
}

Test(blobstream, corrupt_pack_data_is_an_error)
{
	char *big_hex, *txt_hex, *big, *txt;
	size_t tlen;
	unsigned long long off, len, toff, tlen2;
	char *out = th_path("%s/out", root);
	struct blobstream *bs;
	uint64_t size = 7;

	packed_pair(&big_hex, &txt_hex, &big, &txt, &tlen);
	char *pack = pack_path(".pack");

	pack_entry(big_hex, &off, &len);
	pack_entry(txt_hex, &toff, &tlen2);
	/* random data is stored: a flipped byte shows in zlib's checksum */
	flip(pack, off + len / 2);
	/* compressed text: a flipped byte breaks the deflate stream */
	flip(pack, toff + tlen2 / 3);
	flip(pack, toff + tlen2 / 3 + 1);

	bs = open_bs();
	cr_assert_lt(stream_to(bs, big_hex, 0, out, &size), 0);
	cr_assert(strstr(sw_error_last(), "corrupt object"), "message: %s", sw_error_last());
	cr_assert(strstr(sw_error_last(), big_hex), "message: %s", sw_error_last());
	cr_assert_eq(size, 0);
	cr_assert_lt(stream_to(bs, txt_hex, 0, out, &size), 0);
	cr_assert(strstr(sw_error_last(), "corrupt object"), "message: %s", sw_error_last());
	cr_assert(strstr(sw_error_last(), "zlib"), "message: %s", sw_error_last());
	blobstream_free(bs);
	free(pack);
	free(out);
	free(big_hex);
	free(txt_hex);
	free(big);
	free(txt);
}

Test(blobstream, wrong_header_size_is_an_error)
{
	char *big_hex, *txt_hex, *big, *txt;
	size_t tlen;
	unsigned long long off, len, toff, tlen2;
	char *out = th_path("%s/out", root);
	struct blobstream *bs;
	unsigned char c;
	int fd;

	packed_pair(&big_hex, &txt_hex, &big, &txt, &tlen);
	char *pack = pack_path(".pack");

	pack_entry(big_hex, &off, &len);
	pack_entry(txt_hex, &toff, &tlen2);
	/* the low 4 bits of the first header byte are the low bits of the size */
	fd = open(pack, O_RDONLY);
	cr_assert_eq(pread(fd, &c, 1, (off_t)off), 1);
	close(fd);
	cr_assert_eq(c & 0x0f, PAIR_SIZE & 0x0f);
	c = (unsigned char)(c - 1);   /* size - 1 */
	patch(pack, off, &c, 1);

	fd = open(pack, O_RDONLY);
	cr_assert_eq(pread(fd, &c, 1, (off_t)toff), 1);
	close(fd);
	c ^= 0x08;                    /* size + 8 or - 8 */
	patch(pack, toff, &c, 1);

	bs = open_bs();
	cr_assert_lt(stream_to(bs, big_hex, 0, out, NULL), 0);
	cr_assert(strstr(sw_error_last(), "more bytes"), "message: %s", sw_error_last());
	cr_assert_leq(file_size(out), PAIR_SIZE - 1, "wrote more than the header's size");
	cr_assert_lt(stream_to(bs, txt_hex, 0, out, NULL), 0);
	cr_assert(strstr(sw_error_last(), "bytes than its header says"), "message: %s", sw_error_last());
	blobstream_free(bs);
	free(pack);
	free(out);
	free(big_hex);
	free(txt_hex);
	free(big);
	free(txt);
}

Test(blobstream, corrupt_index_is_an_error)
{
	char *big_hex, *txt_hex, *big, *txt;
	size_t tlen;
	char *out = th_path("%s/out", root);
	struct blobstream *bs;
	uint32_t nr, pos;

	packed_pair(&big_hex, &txt_hex, &big, &txt, &tlen);
	char *idx = pack_path(".idx");

	/* the CRC32 of the text's packed entry */
	pos = idx_position(idx, txt_hex, &nr);
	flip(idx, 8 + 1024 + (unsigned long long)nr * 20 + pos * 4);
	/* the big blob's offset: past the end of the pack */
	pos = idx_position(idx, big_hex, &nr);
	patch(idx, 8 + 1024 + (unsigned long long)nr * 24 + pos * 4, "\x7f\xff\xff\x00", 4);

	bs = open_bs();
	cr_assert_lt(stream_to(bs, txt_hex, 0, out, NULL), 0);
	cr_assert(strstr(sw_error_last(), "checksum"), "message: %s", sw_error_last());
	cr_assert_lt(stream_to(bs, big_hex, 0, out, NULL), 0);
	cr_assert(strstr(sw_error_last(), "offset"), "message: %s", sw_error_last());
	blobstream_free(bs);

	/* a 64-bit offset entry pointing past the (empty) 64-bit table */
	patch(idx, 8 + 1024 + (unsigned long long)nr * 24 + pos * 4, "\x80\x00\x00\x05", 4);
	bs = open_bs();
	cr_assert_lt(stream_to(bs, big_hex, 0, out, NULL), 0);
	cr_assert(strstr(sw_error_last(), "large offset"), "message: %s", sw_error_last());
	blobstream_free(bs);
	free(idx);
	free(out);
	free(big_hex);
	free(txt_hex);
	free(big);
	free(txt);
}

Test(blobstream, corrupt_loose_object_is_an_error)
{
	char *src = th_path("%s/src", root);
	char *out = th_path("%s/out", root);
	char *objdir = th_path("%s/.git/objects", repo);
	size_t tlen;
	char *txt = text(200 << 10, 0, NULL, &tlen);
	struct blobstream *bs;

	write_bytes(src, txt, tlen);
	char *hex = git_sha(repo, "hash-object", "-w", src, NULL);
	char *loose = loose_path(objdir, hex);
	flip(loose, (unsigned long long)file_size(loose) / 2);

	bs = open_bs();
	cr_assert_lt(stream_to(bs, hex, 0, out, NULL), 0);
	cr_assert(strstr(sw_error_last(), "corrupt object"), "message: %s", sw_error_last());

	/* not zlib at all */
	patch(loose, 0, "garbage!", 8);
	cr_assert_lt(stream_to(bs, hex, 0, out, NULL), 0);
	cr_assert(strstr(sw_error_last(), "zlib"), "message: %s", sw_error_last());

	/* truncated */
	cr_assert_eq(truncate(loose, 100), 0);
	cr_assert_lt(stream_to(bs, hex, 0, out, NULL), 0);
	blobstream_free(bs);
	free(loose);
	free(hex);
	free(objdir);
	free(txt);
	free(out);
	free(src);
}

Test(blobstream, write_errors)
{
	char *big_hex, *txt_hex, *big, *txt;
	size_t tlen;
	char *out = th_path("%s/out", root);
	char *src = th_path("%s/src", root);
	struct blobstream *bs;
	git_oid id;
	int fd;

	packed_pair(&big_hex, &txt_hex, &big, &txt, &tlen);
	write_bytes(src, big, 100000);
	char *loose_hex = git_sha(repo, "hash-object", "-w", src, NULL);
	bs = open_bs();

	write_bytes(out, "", 0);
	fd = open(out, O_RDONLY);
	cr_assert(fd >= 0);
	id = oid(big_hex);
	cr_assert_lt(blobstream_write(bs, &id, 0, fd, NULL), 0);
	cr_assert(strstr(sw_error_last(), "cannot write blob"), "message: %s", sw_error_last());
	cr_assert(strstr(sw_error_last(), "Bad file descriptor"), "message: %s", sw_error_last());
	id = oid(loose_hex);
	cr_assert_lt(blobstream_write(bs, &id, 0, fd, NULL), 0);
	cr_assert(strstr(sw_error_last(), "cannot write blob"), "message: %s", sw_error_last());
	close(fd);

	fd = open("/dev/full", O_WRONLY);
	if (fd >= 0) {
		id = oid(txt_hex);
		cr_assert_lt(blobstream_write(bs, &id, 0, fd, NULL), 0);
		cr_assert(strstr(sw_error_last(), "no space left on device"), "message: %s",
			  sw_error_last());
		id = oid(loose_hex);
		cr_assert_lt(blobstream_write(bs, &id, 0, fd, NULL), 0);
		cr_assert(strstr(sw_error_last(), "no space left on device"), "message: %s",
			  sw_error_last());
		close(fd);
	}
	blobstream_free(bs);
	free(loose_hex);
	free(src);
	free(out);
	free(big_hex);
	free(txt_hex);
	free(big);
	free(txt);
}

Test(blobstream, quarantine_object_directory)
{
	char *other = th_path("%s/other", root);
	char *out = th_path("%s/out", root);
	char *src = th_path("%s/src", root);
	char *big = pseudo_random(BIG_SIZE / 3, 99);
	char *small = pseudo_random(5000, 98);
	char *objdir;
	struct blobstream *bs;
	uint64_t size;

	/* objects that only the other repository has, packed and loose */
	free(git(root, "init", "-q", other, NULL));
	free(src);
	src = th_path("%s/big.bin", other);
	write_bytes(src, big, BIG_SIZE / 3);
	free(git(other, "add", "-A", NULL));
	free(git(other, "commit", "-q", "-m", "other", NULL));
	char *packed = git_sha(other, "rev-parse", "HEAD:big.bin", NULL);
	free(git(other, "repack", "-adq", NULL));
	free(src);
	src = th_path("%s/src", root);
	write_bytes(src, small, 5000);
	char *loose = git_sha(other, "hash-object", "-w", src, NULL);
	objdir = th_path("%s/.git/objects", other);
	char *lp = loose_path(objdir, packed);
	cr_assert_neq(access(lp, F_OK), 0, "not packed");
	free(lp);

	bs = open_bs();
	cr_assert_eq(stream_to(bs, packed, 0, out, NULL), 0);
	cr_assert_eq(stream_to(bs, loose, 0, out, NULL), 0);
	blobstream_free(bs);

	cr_assert_eq(setenv("GIT_OBJECT_DIRECTORY", objdir, 1), 0);
	bs = open_bs();
	unsetenv("GIT_OBJECT_DIRECTORY");
	cr_assert_eq(stream_to(bs, packed, 0, out, &size), 1, "%s", sw_error_last());
	cr_assert_eq(size, BIG_SIZE / 3);
	assert_file(out, big, BIG_SIZE / 3);
	cr_assert_eq(stream_to(bs, loose, 0, out, &size), 1, "%s", sw_error_last());
	assert_file(out, small, 5000);
	blobstream_free(bs);

	/* naming the repository's own object directory opens it once */
	free(objdir);
	objdir = th_path("%s/.git/objects", repo);
	cr_assert_eq(setenv("GIT_OBJECT_DIRECTORY", objdir, 1), 0);
	bs = open_bs();
	unsetenv("GIT_OBJECT_DIRECTORY");
	blobstream_free(bs);

	free(objdir);
	free(packed);
	free(loose);
	free(small);
	free(big);
	free(src);
	free(out);
	free(other);
}

struct worker {
	struct blobstream *bs;
	const char *hex[3];
	const char *bytes[3];
	size_t len[3];
	int index;
	char *path;
	int failures;
	char msg[256];
};

static void *work(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 6; i++) {
		int which = (w->index + i) % 3;
		int fd = open(w->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		git_oid id;
		uint64_t size = 0;
		size_t len = 0;
		char *got;
		int r;

		git_oid_fromstr(&id, w->hex[which]);
		r = blobstream_write(w->bs, &id, 0, fd, &size);
		close(fd);
		got = th_read(w->path, &len);
		if (r != 1 || size != w->len[which] || !got || len != w->len[which] ||
		    memcmp(got, w->bytes[which], len)) {
			w->failures++;
			snprintf(w->msg, sizeof(w->msg), "blob %d: r=%d size=%llu len=%zu: %s", which, r,
				 (unsigned long long)size, len, r < 0 ? sw_error_last() : "");
		}
		free(got);
	}
	return NULL;
}

Test(blobstream, concurrent_streams)
{
	char *big_hex, *txt_hex, *big, *txt;
	size_t tlen;
	char *src = th_path("%s/src", root);
	char *loose_bytes = pseudo_random(1 << 20, 1234);
	struct worker w[4];
	pthread_t t[4];
	struct blobstream *bs;

	packed_pair(&big_hex, &txt_hex, &big, &txt, &tlen);
	write_bytes(src, loose_bytes, 1 << 20);
	char *loose_hex = git_sha(repo, "hash-object", "-w", src, NULL);
	bs = open_bs();

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){
			.bs = bs,
			.hex = { big_hex, txt_hex, loose_hex },
			.bytes = { big, txt, loose_bytes },
			.len = { PAIR_SIZE, tlen, 1 << 20 },
			.index = i == 1 ? 0 : i,   /* two threads on the same sequence */
			.path = th_path("%s/out%d", root, i),
		};
		cr_assert_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 4; i++) {
		cr_expect_eq(w[i].failures, 0, "thread %d: %s", i, w[i].msg);
		free(w[i].path);
	}
	blobstream_free(bs);
	free(loose_hex);
	free(loose_bytes);
	free(src);
	free(big_hex);
	free(txt_hex);
	free(big);
	free(txt);
}
