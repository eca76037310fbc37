#define _GNU_SOURCE
#include "store/slug.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"
#include "tests/helpers.h"

#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *sb;

static void setup(void)
{
	sb = th_sandbox();
}

static void teardown(void)
{
	th_sandbox_free(sb);
	sb = NULL;
}

TestSuite(slug, .init = setup, .fini = teardown);

/* Packs dir into the new file out; returns slug_write's result. */
static int pack(const char *dir, const char *out, const struct slug_write_opts *o,
		struct slug_stats *st)
{
	int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	cr_assert(fd >= 0, "cannot create %s", out);
	int rc = slug_write(fd, dir, o, st);
	cr_assert_eq(close(fd), 0);
	return rc;
}

static void pack_ok(const char *dir, const char *out)
{
	cr_assert_eq(pack(dir, out, NULL, NULL), 0, "%s", sw_error_last());
}

static void assert_same_bytes(const char *a, const char *b)
{
	size_t la, lb;
	char *da = th_read(a, &la), *db = th_read(b, &lb);
	cr_assert(da && db);
	cr_assert(la > 0);
	cr_assert_eq(la, lb, "%s: %zu bytes, %s: %zu bytes", a, la, b, lb);
	cr_assert(memcmp(da, db, la) == 0, "%s and %s differ", a, b);
	free(da);
	free(db);
}

static int list_line(const struct slug_entry *e, void *ctx)
{
	buf_addf(ctx, "%c %04o %llu %s", e->type, e->mode, (unsigned long long)e->size,
		 e->path);
	if (e->link)
		buf_addf(ctx, " -> %s", e->link);
	buf_adds(ctx, "\n");
	return 0;
}

/* slug_list as text: "<type> <mode> <size> <path>[ -> <link>]" per entry. */
static char *listing(const char *slug)
{
	struct buf b = BUF_INIT;
	int rc = slug_list(slug, list_line, &b);
	cr_assert_eq(rc, 0, "%s", sw_error_last());
	return buf_detach(&b);
}

static void symlink_ok(const char *target, const char *path)
{
	cr_assert_eq(symlink(target, path), 0, "symlink %s", path);
}

static void set_mtime(const char *path, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };
	cr_assert_eq(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* A small tree used by several tests; created in the order given by rev. */
static void make_tree(const char *dir, int rev, time_t t)
{
	const char *files[] = { "Procfile", "bin/run", "lib/a.txt", "lib/b/c.txt" };
	char *p;

	for (int i = 0; i < 4; i++) {
		const char *f = files[rev ? 3 - i : i];
		p = th_path("%s/%s", dir, f);
		th_write(p, f, strcmp(f, "bin/run") ? 0644 : 0755);
		free(p);
	}
	p = th_path("%s/empty", dir);
	cr_assert_eq(mkdir(p, 0755), 0);
	free(p);
	p = th_path("%s/current", dir);
	symlink_ok("lib/a.txt", p);
	free(p);
	if (!t)
		return;
	const char *all[] = { "Procfile", "bin/run", "lib/a.txt", "lib/b/c.txt",
			      "lib/b", "lib", "bin", "empty", "current", "" };
	for (int i = 0; i < 10; i++) {
		p = th_path("%s/%s", dir, all[i]);
		set_mtime(p, t + i);
		free(p);
	}
}

Test(slug, same_tree_twice_gives_identical_bytes)
{
	char *tree = th_path("%s/tree", sb);
	char *a = th_path("%s/a.tar.zst", sb), *b = th_path("%s/b.tar.zst", sb);

	make_tree(tree, 0, 0);
	pack_ok(tree, a);
	pack_ok(tree, b);
	assert_same_bytes(a, b);
	free(tree);
	free(a);
	free(b);
}

Test(slug, mtimes_and_creation_order_do_not_matter)
{
	char *t1 = th_path("%s/one", sb), *t2 = th_path("%s/two", sb);
	char *a = th_path("%s/a.tar.zst", sb), *b = th_path("%s/b.tar.zst", sb);

	make_tree(t1, 0, 1000000000);
	make_tree(t2, 1, 1600000000);
	pack_ok(t1, a);
	pack_ok(t2, b);
	assert_same_bytes(a, b);
	free(t1);
	free(t2);
	free(a);
	free(b);
}

/* Pseudo-random but repeatable bytes, so zstd has real work to split up. */
static void write_noise(const char *path, size_t len, unsigned seed)
{
	char *data = xmalloc(len);
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		data[i] = (i / 4096) % 2 ? (char)x : (char)('a' + i % 7);
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0);
	cr_assert_eq(fs_write_all(fd, data, len), 0);
	close(fd);
	free(data);
}

Test(slug, thread_count_does_not_change_bytes)
{
	char *tree = th_path("%s/tree", sb), *p;
	char *a = th_path("%s/a.tar.zst", sb), *b = th_path("%s/b.tar.zst", sb);
	char *c = th_path("%s/c.tar.zst", sb);
	struct slug_write_opts o1 = SLUG_WRITE_OPTS_INIT, o4 = SLUG_WRITE_OPTS_INIT;

	cr_assert_eq(mkdir(tree, 0755), 0);
	for (unsigned i = 0; i < 3; i++) {
		p = th_path("%s/blob%u", tree, i);
		write_noise(p, 3 * 1024 * 1024 + i, i);
		free(p);
	}
	o1.threads = 1;
	o4.threads = 4;
	cr_assert_eq(pack(tree, a, &o1, NULL), 0, "%s", sw_error_last());
	cr_assert_eq(pack(tree, b, &o4, NULL), 0, "%s", sw_error_last());
	cr_assert_eq(pack(tree, c, NULL, NULL), 0, "%s", sw_error_last());
	assert_same_bytes(a, b);
	assert_same_bytes(a, c);
	free(tree);
	free(a);
	free(b);
	free(c);
}

Test(slug, entries_sorted_under_app_with_fixed_owner_and_time)
{
	char *tree = th_path("%s/tree", sb), *p;
	char *s = th_path("%s/s.tar.zst", sb);
	const char *names[] = { "b.txt", "a-b", "a/x", "B", "a/.hidden", "z/y/x" };

	for (int i = 0; i < 6; i++) {
		p = th_path("%s/%s", tree, names[i]);
		th_write(p, "", 0644);
		free(p);
	}
	pack_ok(tree, s);
	struct th_result r = th_runv(NULL, NULL, "bsdtar", "-tf", s, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out,
			 "./app/\n./app/B\n./app/a/\n./app/a/.hidden\n./app/a/x\n"
			 "./app/a-b\n./app/b.txt\n./app/z/\n./app/z/y/\n./app/z/y/x\n");
	th_result_free(&r);

	/* every header: uid/gid 0, no names, mtime SLUG_MTIME, no other times */
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int n = 0;
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	cr_assert_eq(archive_read_open_filename(a, s, 65536), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		n++;
		cr_assert_eq(archive_entry_uid(e), 0);
		cr_assert_eq(archive_entry_gid(e), 0);
		const char *un = archive_entry_uname(e), *gn = archive_entry_gname(e);
		cr_assert(!un || !*un, "uname '%s'", un);
		cr_assert(!gn || !*gn, "gname '%s'", gn);
		cr_assert_eq(archive_entry_mtime(e), SLUG_MTIME);
		cr_assert_eq(archive_entry_mtime_nsec(e), 0);
		cr_assert_not(archive_entry_atime_is_set(e));
		cr_assert_not(archive_entry_ctime_is_set(e));
		cr_assert_not(archive_entry_birthtime_is_set(e));
		cr_assert_eq(archive_entry_xattr_count(e), 0);
	}
	cr_assert_eq(n, 10);
	cr_assert_eq(archive_filter_code(a, 0), ARCHIVE_FILTER_ZSTD);
	cr_assert_eq(archive_format(a) & ARCHIVE_FORMAT_BASE_MASK, ARCHIVE_FORMAT_TAR);
	archive_read_free(a);
	free(tree);
	free(s);
}

Test(slug, symlinks_stored_with_exact_target_never_followed)
{
	char *tree = th_path("%s/tree", sb), *p;
	char *s = th_path("%s/s.tar.zst", sb);

	cr_assert_eq(mkdir(tree, 0755), 0);
	p = th_path("%s/passwd", tree);
	symlink_ok("/etc/passwd", p);
	free(p);
	p = th_path("%s/up", tree);
	symlink_ok("../../x", p);
	free(p);
	p = th_path("%s/etc", tree);
	symlink_ok("/etc", p);
	free(p);
	pack_ok(tree, s);

	char *l = listing(s);
	cr_assert_str_eq(l, "d 0755 0 ./app/\n"
			    "l 0777 0 ./app/etc -> /etc\n"
			    "l 0777 0 ./app/passwd -> /etc/passwd\n"
			    "l 0777 0 ./app/up -> ../../x\n");
	free(l);
	struct th_result r = th_runv(NULL, NULL, "bsdtar", "-tvf", s, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(th_count(r.out, "./app/passwd -> /etc/passwd"), 1, "%s", r.out);
	cr_assert_eq(th_count(r.out, "./app/up -> ../../x"), 1, "%s", r.out);
	cr_assert_eq(th_count(r.out, "lrwxrwxrwx"), 3, "%s", r.out);
	cr_assert_eq(th_count(r.out, "./app/etc/"), 0, "%s", r.out);
	th_result_free(&r);
	free(tree);
	free(s);
}

Test(slug, modes_kept_and_empty_dirs_stored)
{
	char *tree = th_path("%s/tree", sb), *p;
	char *s = th_path("%s/s.tar.zst", sb);

	p = th_path("%s/bin/run", tree);
	th_write(p, "#!/bin/sh\n", 0755);
	free(p);
	p = th_path("%s/data", tree);
	th_write(p, "12345", 0644);
	free(p);
	p = th_path("%s/empty", tree);
	cr_assert_eq(mkdir(p, 0700), 0);
	chmod(p, 0700);
	free(p);
	pack_ok(tree, s);

	char *l = listing(s);
	cr_assert_str_eq(l, "d 0755 0 ./app/\n"
			    "d 0755 0 ./app/bin/\n"
			    "f 0755 10 ./app/bin/run\n"
			    "f 0644 5 ./app/data\n"
			    "d 0700 0 ./app/empty/\n");
	free(l);
	struct th_result r = th_runv(NULL, NULL, "bsdtar", "-tvf", s, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(th_count(r.out, "-rwxr-xr-x"), 1, "%s", r.out);
	cr_assert_eq(th_count(r.out, "-rw-r--r--"), 1, "%s", r.out);
	cr_assert_eq(th_count(r.out, "drwx------"), 1, "%s", r.out);
	th_result_free(&r);
	free(tree);
	free(s);
}

Test(slug, stats_match_the_slug)
{
	char *tree = th_path("%s/tree", sb);
	char *s = th_path("%s/s.tar.zst", sb);
	struct slug_stats w, r;
	struct stat st;

	make_tree(tree, 0, 0);
	cr_assert_eq(pack(tree, s, NULL, &w), 0, "%s", sw_error_last());
	cr_assert_eq(stat(s, &st), 0);
	cr_assert_eq(w.files, 5);        /* 4 files + 1 symlink */
	cr_assert_eq(w.dirs, 5);         /* ./app/ bin empty lib lib/b */
	cr_assert_eq(w.bytes_in, strlen("Procfile") + strlen("bin/run") +
				 strlen("lib/a.txt") + strlen("lib/b/c.txt"));
	cr_assert_eq(w.bytes_out, (uint64_t)st.st_size);
	cr_assert_eq(slug_stat(s, &r), 0, "%s", sw_error_last());
	cr_assert_eq(r.files, w.files);
	cr_assert_eq(r.dirs, w.dirs);
	cr_assert_eq(r.bytes_in, w.bytes_in);
	cr_assert_eq(r.bytes_out, 0);
	free(tree);
	free(s);
}

Test(slug, max_bytes_in_refused)
{
	char *tree = th_path("%s/tree", sb), *p;
	char *ok = th_path("%s/ok.tar.zst", sb), *big = th_path("%s/big.tar.zst", sb);
	struct slug_write_opts o = SLUG_WRITE_OPTS_INIT;

	p = th_path("%s/a", tree);
	th_write(p, "0123456789", 0644);
	free(p);
	p = th_path("%s/b", tree);
	th_write(p, "0123456789", 0644);
	free(p);
	o.max_bytes_in = 20;
	cr_assert_eq(pack(tree, ok, &o, NULL), 0, "%s", sw_error_last());
	o.max_bytes_in = 19;
	cr_assert_eq(pack(tree, big, &o, NULL), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "slug is larger than the limit"), "%s",
		  sw_error_last());
	free(tree);
	free(ok);
	free(big);
}

Test(slug, bad_arguments)
{
	char *s = th_path("%s/s.tar.zst", sb), *missing = th_path("%s/nope", sb);
	struct slug_write_opts o = SLUG_WRITE_OPTS_INIT;

	cr_assert_eq(pack(missing, s, NULL, NULL), SW_ENOTFOUND);
	unlink(s);
	cr_assert(strstr(sw_error_last(), missing), "%s", sw_error_last());
	o.threads = -1;
	unlink(s);
	cr_assert_eq(pack(sb, s, &o, NULL), SW_EINVALID);
	o.threads = 1;
	o.level = 99;
	unlink(s);
	cr_assert_eq(pack(sb, s, &o, NULL), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "zstd level"), "%s", sw_error_last());
	cr_assert_eq(slug_list(missing, list_line, NULL), SW_ENOTFOUND);
	free(s);
	free(missing);
}

Test(slug, odd_names_round_trip)
{
	char *tree = th_path("%s/tree", sb), *p;
	char *s = th_path("%s/s.tar.zst", sb);
	char *out = th_path("%s/out", sb);

	p = th_path("%s/new\nline", tree);
	th_write(p, "nl", 0644);
	free(p);
	p = th_path("%s/bad\xff\xfe", tree);
	th_write(p, "bin", 0644);
	free(p);
	p = th_path("%s/caf\xc3\xa9", tree);
	th_write(p, "utf8", 0644);
	free(p);
	p = th_path("%s/%0200d", tree, 7);
	th_write(p, "long", 0644);
	free(p);
	pack_ok(tree, s);

	char *l = listing(s);
	char *want = th_path("d 0755 0 ./app/\n"
			     "f 0644 4 ./app/%0200d\n"
			     "f 0644 3 ./app/bad\xff\xfe\n"
			     "f 0644 4 ./app/caf\xc3\xa9\n"
			     "f 0644 2 ./app/new\nline\n", 7);
	cr_assert_str_eq(l, want);
	cr_assert_eq(slug_extract(s, out), 0, "%s", sw_error_last());
	p = th_path("%s/bad\xff\xfe", out);
	char *data = th_read(p, NULL);
	cr_assert_str_eq(data, "bin");
	free(data);
	free(p);
	p = th_path("%s/new\nline", out);
	data = th_read(p, NULL);
	cr_assert_str_eq(data, "nl");
	free(data);
	free(p);
	free(l);
	free(want);
	free(tree);
	free(s);
	free(out);
}

Test(slug, skips_itself_and_special_files)
{
	char *tree = th_path("%s/tree", sb), *p;
	char *s = th_path("%s/tree/slug.tar.zst", sb);

	p = th_path("%s/a", tree);
	th_write(p, "a", 0644);
	free(p);
	p = th_path("%s/fifo", tree);
	cr_assert_eq(mkfifo(p, 0644), 0);
	free(p);
	pack_ok(tree, s);
	char *l = listing(s);
	cr_assert_str_eq(l, "d 0755 0 ./app/\nf 0644 1 ./app/a\n");
	free(l);
	free(tree);
	free(s);
}

static int stop_at_second(const struct slug_entry *e, void *ctx)
{
	(void)e;
	return ++*(int *)ctx == 2 ? 42 : 0;
}

Test(slug, callback_stops_the_walk)
{
	char *tree = th_path("%s/tree", sb);
	char *s = th_path("%s/s.tar.zst", sb);
	int calls = 0;

	make_tree(tree, 0, 0);
	pack_ok(tree, s);
	cr_assert_eq(slug_list(s, stop_at_second, &calls), 42);
	cr_assert_eq(calls, 2);
	free(tree);
	free(s);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0);
	cr_assert_eq(fs_write_all(fd, data, len), 0);
	close(fd);
}

Test(slug, garbage_and_truncated_slugs_are_invalid)
{
	char *tree = th_path("%s/tree", sb);
	char *s = th_path("%s/s.tar.zst", sb), *bad = th_path("%s/bad", sb);
	char garbage[4096];
	size_t len;
	int calls;

	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)(i * 7919 % 251);
	write_bytes(bad, garbage, sizeof(garbage));
	cr_assert_eq(slug_list(bad, stop_at_second, &calls), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "is not a valid slug"), "%s", sw_error_last());
	write_bytes(bad, "", 0);
	cr_assert_eq(slug_list(bad, stop_at_second, &calls), SW_EINVALID);
	/* zstd magic followed by junk */
	write_bytes(bad, "\x28\xb5\x2f\xfd\x00\x01\x02\x03junkjunk", 16);
	cr_assert_eq(slug_list(bad, stop_at_second, &calls), SW_EINVALID);

	make_tree(tree, 0, 0);
	pack_ok(tree, s);
	char *data = th_read(s, &len);
	size_t cuts[] = { 1, 4, 17, len / 2, len - 12 };
	for (size_t i = 0; i < sizeof(cuts) / sizeof(*cuts); i++) {
		struct slug_stats st;
		write_bytes(bad, data, len - cuts[i]);
		cr_assert_eq(slug_stat(bad, &st), SW_EINVALID, "cut %zu", cuts[i]);
		char *out = th_path("%s/out%zu", sb, i);
		cr_assert_eq(slug_extract(bad, out), SW_EINVALID, "cut %zu", cuts[i]);
		free(out);
	}
	/* an uncompressed tar is not a slug either */
	struct th_result r = th_runv(NULL, NULL, "bsdtar", "-cf", bad, "-C", tree, ".", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	cr_assert_eq(slug_list(bad, stop_at_second, &calls), SW_EINVALID);
	free(data);
	free(tree);
	free(s);
	free(bad);
}

static void assert_file(const char *path, const char *content, unsigned mode)
{
	struct stat st;
	char *data = th_read(path, NULL);

	cr_assert_eq(lstat(path, &st), 0, "%s is missing", path);
	cr_assert(S_ISREG(st.st_mode), "%s is not a file", path);
	cr_assert_eq(st.st_mode & 07777, mode, "%s: mode %o", path, st.st_mode & 07777);
	cr_assert_str_eq(data, content);
	free(data);
}

static void assert_link(const char *path, const char *target)
{
	char got[4096];
	ssize_t n = readlink(path, got, sizeof(got) - 1);

	cr_assert(n >= 0, "%s is not a symlink", path);
	got[n] = '\0';
	cr_assert_str_eq(got, target);
}

Test(slug, extract_round_trip)
{
	char *tree = th_path("%s/tree", sb), *p;
	char *s = th_path("%s/s.tar.zst", sb), *s2 = th_path("%s/s2.tar.zst", sb);
	char *out = th_path("%s/out", sb);
	struct stat st;

	make_tree(tree, 0, 0);
	p = th_path("%s/etc", tree);
	symlink_ok("/etc/passwd", p);
	free(p);
	p = th_path("%s/big", tree);
	write_noise(p, 2 * 1024 * 1024 + 3, 9);
	free(p);
	p = th_path("%s/locked", tree);
	cr_assert_eq(mkdir(p, 0755), 0);
	free(p);
	p = th_path("%s/locked/inside", tree);
	th_write(p, "in", 0600);
	free(p);
	p = th_path("%s/locked", tree);
	cr_assert_eq(chmod(p, 0500), 0);
	free(p);
	pack_ok(tree, s);
	cr_assert_eq(slug_extract(s, out), 0, "%s", sw_error_last());

	p = th_path("%s/Procfile", out); assert_file(p, "Procfile", 0644); free(p);
	p = th_path("%s/bin/run", out); assert_file(p, "bin/run", 0755); free(p);
	p = th_path("%s/lib/b/c.txt", out); assert_file(p, "lib/b/c.txt", 0644); free(p);
	p = th_path("%s/locked/inside", out); assert_file(p, "in", 0600); free(p);
	p = th_path("%s/current", out); assert_link(p, "lib/a.txt"); free(p);
	p = th_path("%s/etc", out); assert_link(p, "/etc/passwd"); free(p);
	p = th_path("%s/empty", out);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	free(p);
	p = th_path("%s/locked", out);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0500);
	free(p);
	char *b1 = th_path("%s/big", tree), *b2 = th_path("%s/big", out);
	assert_same_bytes(b1, b2);
	free(b1);
	free(b2);
	/* packing the extracted tree gives the very same slug */
	pack_ok(out, s2);
	assert_same_bytes(s, s2);
	/* a second extraction into a non-empty directory is refused */
	cr_assert_eq(slug_extract(s, out), SW_EEXISTS);
	p = th_path("%s/locked", tree);
	chmod(p, 0755);
	free(p);
	p = th_path("%s/locked", out);
	chmod(p, 0755);
	free(p);
	free(tree);
	free(s);
	free(s2);
	free(out);
}

/* One entry of a hand-made archive. */
struct fake {
	const char *name;
	char type;              /* 'f', 'd', 'l' symlink, 'h' hardlink */
	unsigned mode;
	const char *data;       /* file content or link target */
};

/* Writes a tar.zst with exactly these entries, as an attacker could. */
static void write_fake(const char *path, const struct fake *f, size_t n)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	cr_assert_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	cr_assert_eq(archive_write_add_filter_zstd(a), ARCHIVE_OK);
	cr_assert_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		archive_entry_clear(e);
		archive_entry_copy_pathname(e, f[i].name);
		archive_entry_set_perm(e, f[i].mode);
		archive_entry_set_filetype(e, f[i].type == 'd' ? AE_IFDIR :
					   f[i].type == 'l' ? AE_IFLNK : AE_IFREG);
		if (f[i].type == 'l')
			archive_entry_copy_symlink(e, f[i].data);
		if (f[i].type == 'h')
			archive_entry_copy_hardlink(e, f[i].data);
		if (f[i].type == 'f')
			archive_entry_set_size(e, (la_int64_t)strlen(f[i].data));
		cr_assert(archive_write_header(a, e) >= ARCHIVE_WARN, "%s",
			  archive_error_string(a));
		if (f[i].type == 'f')
			archive_write_data(a, f[i].data, strlen(f[i].data));
	}
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(e);
}

/* Extracting the fake archive fails with SW_EINVALID naming bad_entry. */
static void assert_refused(const struct fake *f, size_t n, const char *bad_entry)
{
	char *s = th_path("%s/evil.tar.zst", sb), *out = th_path("%s/out", sb);

	unlink(s);
	fs_rm_rf(out);
	write_fake(s, f, n);
	cr_assert_eq(slug_extract(s, out), SW_EINVALID, "%s: %s", bad_entry,
		     sw_error_last());
	char *quoted = th_path("'%s'", bad_entry);
	cr_assert(strstr(sw_error_last(), quoted), "%s", sw_error_last());
	free(quoted);
	free(s);
	free(out);
}

Test(slug, extract_refuses_escapes)
{
	char *outside = th_path("%s/outside", sb);
	char *abs = th_path("%s/outside/abs", sb);
	char *target = th_path("%s/outside/target", sb);
	char *p;

	cr_assert_eq(mkdir(outside, 0755), 0);
	th_write(target, "orig", 0644);

	struct fake dotdot[] = { { "./app/", 'd', 0755, NULL },
				 { "./app/../outside/evil", 'f', 0644, "x" } };
	assert_refused(dotdot, 2, "./app/../outside/evil");
	struct fake absolute[] = { { "./app/", 'd', 0755, NULL }, { abs, 'f', 0644, "x" } };
	assert_refused(absolute, 2, abs);
	struct fake notapp[] = { { "./other", 'f', 0644, "x" } };
	assert_refused(notapp, 1, "./other");
	struct fake dot[] = { { "./app/./x", 'f', 0644, "x" } };
	assert_refused(dot, 1, "./app/./x");

	/* a stored symlink must never be written through */
	struct fake via_link[] = { { "./app/", 'd', 0755, NULL },
				   { "./app/link", 'l', 0777, outside },
				   { "./app/link/pwned", 'f', 0644, "x" } };
	assert_refused(via_link, 3, "./app/link/pwned");
	struct fake via_rel[] = { { "./app/link", 'l', 0777, "../outside" },
				  { "./app/link/sub/pwned", 'f', 0644, "x" } };
	assert_refused(via_rel, 2, "./app/link/sub/pwned");
	struct fake dir_via[] = { { "./app/link", 'l', 0777, outside },
				  { "./app/link/", 'd', 0700, NULL } };
	assert_refused(dir_via, 2, "./app/link/");
	struct fake over[] = { { "./app/f", 'l', 0777, target },
			       { "./app/f", 'f', 0644, "pwned" } };
	assert_refused(over, 2, "./app/f");
	/* a directory kept open for its next entries is never swapped for a link */
	struct fake swap[] = { { "./app/d/", 'd', 0755, NULL },
			       { "./app/d/a", 'f', 0644, "x" },
			       { "./app/d", 'l', 0777, outside },
			       { "./app/d/pwned", 'f', 0644, "x" } };
	assert_refused(swap, 4, "./app/d");
	struct fake hard[] = { { "./app/h", 'h', 0644, target } };
	assert_refused(hard, 1, "./app/h");

	p = th_path("%s/evil", outside);
	cr_assert_not(fs_exists(p));
	free(p);
	p = th_path("%s/pwned", outside);
	cr_assert_not(fs_exists(p));
	free(p);
	p = th_path("%s/sub", outside);
	cr_assert_not(fs_exists(p));
	free(p);
	cr_assert_not(fs_exists(abs));
	struct stat st;
	cr_assert_eq(stat(outside, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0755); /* dir_via did not chmod it */
	char *data = th_read(target, NULL);
	cr_assert_str_eq(data, "orig");
	free(data);
	free(outside);
	free(abs);
	free(target);
}

Test(slug, extract_drops_setuid_and_setgid)
{
	char *s = th_path("%s/s.tar.zst", sb), *out = th_path("%s/out", sb);
	char *p = th_path("%s/out/x", sb);
	struct fake f[] = { { "./app/", 'd', 0755, NULL },
			    { "./app/x", 'f', 06755, "#!/bin/sh\n" },
			    { "./app/t", 'd', 01777, NULL } };

	write_fake(s, f, 3);
	cr_assert_eq(slug_extract(s, out), 0, "%s", sw_error_last());
	assert_file(p, "#!/bin/sh\n", 0755);
	free(p);
	p = th_path("%s/out/t", sb);
	struct stat st;
	cr_assert_eq(lstat(p, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 01777);
	free(p);
	free(s);
	free(out);
}

Test(slug, stats_carry_the_sha256_of_the_bytes_written)
{
	char *tree = th_path("%s/tree", sb), *p = th_path("%s/tree/noise", sb);
	char *s = th_path("%s/s.tar.zst", sb);
	struct slug_stats st;
	struct stat fst;

	cr_assert_eq(mkdir(tree, 0755), 0);
	write_noise(p, 5 * 1024 * 1024, 9);
	cr_assert_eq(pack(tree, s, NULL, &st), 0, "%s", sw_error_last());
	cr_assert_eq(stat(s, &fst), 0);
	cr_assert_eq(st.bytes_out, (uint64_t)fst.st_size);
	struct th_result r = th_runv(NULL, NULL, "sha256sum", s, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(strlen(st.sha256), 64);
	cr_assert(!strncmp(r.out, st.sha256, 64), "sha256sum says %.64s, slug_write %s", r.out,
		  st.sha256);
	th_result_free(&r);
	/* the frame carries a content checksum, so extraction detects damage */
	r = th_runv(NULL, NULL, "zstd", "-lv", s, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "Check: XXH64"), "%s", r.out);
	th_result_free(&r);
	free(tree);
	free(p);
	free(s);
}

Test(slug, a_write_error_at_the_end_of_the_frame_is_reported)
{
	/* a tiny tree: all of its compressed bytes are written when the frame ends */
	char *tree = th_path("%s/tree", sb), *p = th_path("%s/tree/a", sb);
	struct slug_stats st;

	th_write(p, "small\n", 0644);
	int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	cr_assert(fd >= 0);
	cr_assert_eq(slug_write(fd, tree, NULL, &st), SW_ERROR);
	close(fd);
	cr_assert(strstr(sw_error_last(), "cannot write the slug of"), "%s", sw_error_last());
	cr_assert(strstr(sw_error_last(), "No space left on device"), "%s", sw_error_last());
	cr_assert_eq(st.bytes_out, 0);
	free(tree);
	free(p);
}
