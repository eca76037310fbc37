/*
 * test_diff.c - the comparisons behind releases:diff: config vars, process
 * types, and two slugs walked side by side.
 */
#define _GNU_SOURCE
#include "store/diff.h"
#include "store/slug.h"
#include "util/error.h"
#include "util/util.h"
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
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

TestSuite(diff, .init = setup, .fini = teardown);

/* The pairs as "A KEY", "D KEY", "M KEY old>new" lines. */
static char *pairs_text(const struct diff_pairs *p)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < p->n; i++) {
		buf_addf(&b, "%c %s", p->items[i].kind, p->items[i].name);
		if (p->items[i].kind == DIFF_CHANGED)
			buf_addf(&b, " %s>%s", p->items[i].old_value, p->items[i].new_value);
		buf_adds(&b, "\n");
	}
	return buf_detach(&b);
}

/* Calls set(obj, name, value) for each "name=value" of kv (NULL-terminated). */
static void fill(void *obj, void (*set)(void *, const char *, const char *),
		 const char *const *kv)
{
	for (; *kv; kv++) {
		const char *eq = strchr(*kv, '=');
		char *name = strndup(*kv, (size_t)(eq - *kv));
		set(obj, name, eq + 1);
		free(name);
	}
}

static void set_config(void *c, const char *k, const char *v)
{
	config_set(c, k, v);
}

static void set_proc(void *l, const char *k, const char *v)
{
	proc_list_set(l, k, v);
}

Test(diff, config_added_removed_changed_sorted_by_key)
{
	struct config a = CONFIG_INIT, b = CONFIG_INIT;
	fill(&a, set_config, (const char *const[]){ "OLD=1", "DATABASE_URL=postgres://a", "SAME=x", NULL });
	fill(&b, set_config,
	     (const char *const[]){ "SAME=x", "DATABASE_URL=postgres://b", "NEW=2", "AAA=", NULL });

	struct diff_pairs p = { 0 };
	config_diff(&a, &b, &p);
	char *t = pairs_text(&p);
	cr_assert_str_eq(t, "A AAA\nM DATABASE_URL postgres://a>postgres://b\nA NEW\nD OLD\n");
	cr_assert_str_eq(p.items[3].old_value, "1");
	cr_assert_null(p.items[3].new_value);
	cr_assert_null(p.items[0].old_value);
	cr_assert_str_eq(p.items[0].new_value, "");
	size_t added, removed, changed;
	diff_pairs_count(&p, &added, &removed, &changed);
	cr_assert_eq(added, 2);
	cr_assert_eq(removed, 1);
	cr_assert_eq(changed, 1);
	free(t);
	diff_pairs_release(&p);

	/* the same config: nothing; empty against full: all added */
	config_diff(&a, &a, &p);
	cr_assert_eq(p.n, 0);
	struct config none = CONFIG_INIT;
	config_diff(&none, &b, &p);
	cr_assert_eq(p.n, 4);
	diff_pairs_release(&p);
	config_release(&a);
	config_release(&b);
}

Test(diff, process_types)
{
	struct proc_list a = PROC_LIST_INIT, b = PROC_LIST_INIT;
	fill(&a, set_proc, (const char *const[]){ "web=node a.js", "clock=./clock", "release=./migrate", NULL });
	fill(&b, set_proc, (const char *const[]){ "worker=./work", "release=./migrate", "web=node b.js", NULL });

	struct diff_pairs p = { 0 };
	procs_diff(&a, &b, &p);
	char *t = pairs_text(&p);
	cr_assert_str_eq(t, "M web node a.js>node b.js\nD clock\nA worker\n");
	free(t);
	diff_pairs_release(&p);
	procs_diff(&b, &b, &p);
	cr_assert_eq(p.n, 0);
	proc_list_release(&a);
	proc_list_release(&b);
}

/* <sb>/<dir>/<name> with content and mode, parents made. */
static void put(const char *dir, const char *name, const char *content, unsigned mode)
{
	char *path = th_path("%s/%s/%s", sb, dir, name);
	th_write(path, content, mode);
	free(path);
}

/* <sb>/<dir>.tar.zst, the slug of <sb>/<dir> (packed the first time). */
static char *pack(const char *dir)
{
	char *src = th_path("%s/%s", sb, dir), *out = th_path("%s/%s.tar.zst", sb, dir);
	if (access(out, F_OK) == 0) {
		free(src);
		return out;
	}
	int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	cr_assert(fd >= 0);
	cr_assert_eq(slug_write(fd, src, NULL, NULL), 0, "%s", sw_error_last());
	cr_assert_eq(close(fd), 0);
	free(src);
	return out;
}

/* slug_diff of the slugs of dirs a and b as "K path what old_size new_size" lines. */
static char *slug_diff_text(const char *a, const char *b, struct slug_diff *d)
{
	char *pa = pack(a), *pb = pack(b);
	memset(d, 0, sizeof(*d));
	cr_assert_eq(slug_diff(pa, pb, d), 0, "%s", sw_error_last());
	free(pa);
	free(pb);
	struct buf t = BUF_INIT;
	for (size_t i = 0; i < d->n; i++)
		buf_addf(&t, "%c %s %u %llu %llu\n", d->items[i].kind, d->items[i].path,
			 d->items[i].what, (unsigned long long)d->items[i].old_size,
			 (unsigned long long)d->items[i].new_size);
	return buf_detach(&t);
}

Test(diff, slugs_entry_by_entry)
{
	/* a-b sorts after a/ in slugs although '-' < '/': the merge must agree */
	put("a", "Procfile", "web: ./run\n", 0644);
	put("a", "same.txt", "same\n", 0644);
	put("a", "lib/x.js", "one", 0644);
	put("a", "lib-b/y.js", "y", 0644);
	put("a", "gone.txt", "bye", 0644);
	put("a", "run", "#!/bin/sh\n", 0644);
	put("a", "size.txt", "12", 0644);

	put("b", "Procfile", "web: ./run\n", 0644);
	put("b", "same.txt", "same\n", 0644);
	put("b", "lib/x.js", "two", 0644);   /* same size, other bytes */
	put("b", "lib-b/y.js", "y", 0644);
	put("b", "lib/new.js", "new!", 0644);
	put("b", "run", "#!/bin/sh\n", 0755); /* mode only */
	put("b", "size.txt", "123", 0644);

	struct slug_diff d;
	char *t = slug_diff_text("a", "b", &d);
	cr_assert_str_eq(t, "D ./app/gone.txt 0 3 0\n"
			    "A ./app/lib/new.js 0 0 4\n"
			    "M ./app/lib/x.js 8 3 3\n"
			    "M ./app/run 2 10 10\n"
			    "M ./app/size.txt 4 2 3\n");
	cr_assert_eq(d.added, 1);
	cr_assert_eq(d.removed, 1);
	cr_assert_eq(d.changed, 3);
	cr_assert_eq(d.old_bytes, 11 + 5 + 3 + 1 + 3 + 10 + 2);
	cr_assert_eq(d.new_bytes, 11 + 5 + 3 + 1 + 4 + 10 + 3);
	free(t);
	slug_diff_release(&d);

	/* the other way round: added and removed swap */
	t = slug_diff_text("b", "a", &d);
	cr_assert(strstr(t, "A ./app/gone.txt"), "%s", t);
	cr_assert(strstr(t, "D ./app/lib/new.js"), "%s", t);
	free(t);
	slug_diff_release(&d);

	/* a slug against itself: nothing */
	t = slug_diff_text("a", "a", &d);
	cr_assert_str_eq(t, "");
	cr_assert_eq(d.compared_bytes, d.old_bytes);
	free(t);
	slug_diff_release(&d);
}

Test(diff, slugs_types_links_and_large_content)
{
	/* a file becomes a directory; a symlink changes its target */
	put("a", "thing", "file", 0644);
	put("b", "thing/inside", "x", 0644);
	char *la = th_path("%s/a/link", sb), *lb = th_path("%s/b/link", sb);
	cr_assert_eq(symlink("one", la), 0);
	cr_assert_eq(symlink("two", lb), 0);
	/* 1 MB alike but for the last byte: compared across chunks */
	size_t n = 1 << 20;
	char *big = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	big[n] = 0;
	put("a", "big", big, 0644);
	big[n - 1] = '!';
	put("b", "big", big, 0644);

	struct slug_diff d;
	char *t = slug_diff_text("a", "b", &d);
	cr_assert_str_eq(t, "M ./app/big 8 1048576 1048576\n"
			    "M ./app/link 8 0 0\n"
			    "D ./app/thing 0 4 0\n"
			    "A ./app/thing/ 0 0 0\n"
			    "A ./app/thing/inside 0 0 1\n");
	cr_assert_eq(d.compared_bytes, n);
	free(t);
	slug_diff_release(&d);
	free(big);
	free(la);
	free(lb);
}

Test(diff, slugs_missing_or_damaged_are_refused)
{
	put("a", "x", "x", 0644);
	char *pa = pack("a"), *missing = th_path("%s/none.tar.zst", sb);
	char *junk = th_path("%s/junk.tar.zst", sb);
	th_write(junk, "not a slug", 0644);
	struct slug_diff d = { 0 };
	cr_assert_eq(slug_diff(pa, missing, &d), SW_ENOTFOUND);
	slug_diff_release(&d);
	cr_assert_eq(slug_diff(junk, pa, &d), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "is not a valid slug"), "%s", sw_error_last());
	slug_diff_release(&d);
	free(pa);
	free(missing);
	free(junk);
}

Test(diff, add_ons_attached_detached_and_replaced_under_their_names)
{
	struct attachments a = ATTACHMENTS_INIT, b = ATTACHMENTS_INIT;
	struct diff_pairs p = { 0 };
	cr_assert_eq(attach_add(&a, "DATABASE", "postgresql-amber-12", NULL), 0);
	cr_assert_eq(attach_add(&a, "REDIS", "redis-clear-7", NULL), 0);
	cr_assert_eq(attach_add(&b, "DATABASE", "postgresql-brave-3", NULL), 0);
	cr_assert_eq(attach_add(&b, "CACHE", "redis-clear-7", NULL), 0);
	addons_diff(&a, &b, &p);
	cr_assert_eq(p.n, 3);
	cr_assert_eq(p.items[0].kind, DIFF_ADDED);
	cr_assert_str_eq(p.items[0].name, "CACHE");
	cr_assert_str_eq(p.items[0].new_value, "redis-clear-7");
	cr_assert_eq(p.items[1].kind, DIFF_CHANGED);
	cr_assert_str_eq(p.items[1].old_value, "postgresql-amber-12");
	cr_assert_str_eq(p.items[1].new_value, "postgresql-brave-3");
	cr_assert_eq(p.items[2].kind, DIFF_REMOVED);
	cr_assert_str_eq(p.items[2].name, "REDIS");
	diff_pairs_release(&p);
	addons_diff(&a, &a, &p);
	cr_assert_eq(p.n, 0, "the same add-ons: no change");
	diff_pairs_release(&p);
	attach_release(&a);
	attach_release(&b);
}
