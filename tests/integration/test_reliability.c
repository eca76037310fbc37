/*
 * Reliability end to end: concurrent writers never lose or duplicate a
 * release, fsck names each kind of damage, gc frees only what no release
 * needs, and the ledger cannot be touched through git.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct app_sandbox sb;

static void setup(void)
{
	app_sandbox_init(&sb, "app", 0);
	app_sandbox_setenv(&sb, "SLIPWAY_LOCK_TIMEOUT=300");
	app_sandbox_setenv(&sb, "TZ=UTC");
	app_sandbox_create(&sb, NULL);
}

static void teardown(void)
{
	app_sandbox_release(&sb);
}

TestSuite(reliability, .init = setup, .fini = teardown, .timeout = 300);

/* A working tree at <sb>/<name> with one commit whose Procfile mentions tag. */
static char *make_checkout(const char *name, const char *tag)
{
	char *dir = th_path("%s/%s", sb.dir, name);
	char *procfile = th_path("%s/Procfile", dir);
	char *content = th_path("web: echo %s\n", tag);
	th_write(procfile, content, 0644);
	app_sandbox_checkout(&sb, dir, "main", tag);
	free(procfile);
	free(content);
	return dir;
}

static char *head_of(const char *dir)
{
	return app_sandbox_head(&sb, dir);
}

/* slipway ARGS... in the sandbox (trailing NULLs are fine). */
#define sw(...) SANDBOX_RUN(&sb, sb.dir, SLIPWAY_BIN, __VA_ARGS__)

static int release_count(void)
{
	return app_sandbox_release_count(&sb);
}

static void push(const char *dir)
{
	struct th_result r = SANDBOX_RUN(&sb, dir, "git", "push", "-q", "--force", "heroku", "HEAD:main");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "Released v"), "%s", r.err);
	th_result_free(&r);
}

static void fsck_clean(void)
{
	struct th_result r = sw("fsck", NULL, NULL, NULL);
	cr_assert_eq(r.status, 0, "fsck: %s%s", r.out, r.err);
	cr_assert(strstr(r.out, "consistent"));
	th_result_free(&r);
}

Test(reliability, racing_pushes_and_config_changes_lose_nothing)
{
	enum { PUSHES = 8, SETS = 20 };
	char *dirs[PUSHES], *shas[PUSHES];
	for (int i = 0; i < PUSHES; i++) {
		char name[16], tag[16];
		snprintf(name, sizeof(name), "c%d", i);
		snprintf(tag, sizeof(tag), "commit-%d", i);
		dirs[i] = make_checkout(name, tag);
		shas[i] = head_of(dirs[i]);
	}
	/* the deploy branch exists before the race, as it does for real apps */
	char *first = make_checkout("first", "first");
	push(first);
	free(first);
	pid_t pids[PUSHES + SETS];
	for (int i = 0; i < PUSHES + SETS; i++) {
		pids[i] = fork();
		cr_assert(pids[i] >= 0);
		if (pids[i])
			continue;
		struct th_result r;
		char *log = th_path("%s/out-%d", sb.dir, i);
		if (i < PUSHES) {
			/* git itself refuses a push whose ref moved under it (its own
			 * compare-and-swap); the pusher then pushes again */
			for (int try = 0; try < 50; try++) {
				r = SANDBOX_RUN(&sb, dirs[i], "git", "push", "--force", "heroku", "HEAD:main");
				if (r.status == 0 || !strstr(r.err, "failed to update ref"))
					break;
				cr_assert_null(strstr(r.err, "Released"), "a refused push was released");
				th_result_free(&r);
			}
			th_write(log, r.err, 0644);
		} else {
			char kv[32];
			snprintf(kv, sizeof(kv), "VAR_%d=%d", i - PUSHES, i);
			r = sw("config:set", kv, "-a", "app");
			th_write(log, r.out, 0644);
		}
		if (r.status)
			fprintf(stderr, "writer %d: %s%s\n", i, r.out, r.err);
		_exit(r.status);
	}
	for (int i = 0; i < PUSHES + SETS; i++) {
		int st;
		cr_assert_eq(waitpid(pids[i], &st, 0), pids[i]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer %d failed", i);
	}
	/* versions are exactly 1..N */
	int n = release_count();
	cr_assert_eq(n, 1 + PUSHES + SETS, "releases: %d", n);
	for (int v = 1; v <= n; v++) {
		char ref[32];
		snprintf(ref, sizeof(ref), "refs/releases/v%d", v);
		cr_assert(app_sandbox_has_ref(&sb, ref), "%s missing", ref);
	}
	/* every push told "Released vK" finds its commit at vK */
	for (int i = 0; i < PUSHES; i++) {
		char *log = th_path("%s/out-%d", sb.dir, i);
		char *out = th_read(log, NULL);
		const char *at = strstr(out, "Released v");
		cr_assert(at, "push %d: %s", i, out);
		int v = atoi(at + strlen("Released v"));
		char ver[16];
		snprintf(ver, sizeof(ver), "v%d", v);
		struct th_result info = sw("releases:info", ver, "--json", "-a", "app");
		cr_assert_eq(info.status, 0, "%s", info.err);
		char want[64];
		snprintf(want, sizeof(want), "\"commit\":\"%s\"", shas[i]);
		cr_assert(strstr(info.out, want), "v%d should be push %d's commit: %s", v, i, info.out);
		th_result_free(&info);
		free(out);
		free(log);
	}
	/* every config change is present in the newest config */
	struct th_result cfg = sw("config", "-a", "app", "--shell");
	for (int i = 0; i < SETS; i++) {
		char kv[32];
		snprintf(kv, sizeof(kv), "VAR_%d='%d'\n", i, i + PUSHES);
		cr_assert(strstr(cfg.out, kv), "missing %s in %s", kv, cfg.out);
	}
	th_result_free(&cfg);
	fsck_clean();
	for (int i = 0; i < PUSHES; i++) {
		free(dirs[i]);
		free(shas[i]);
	}
}

/* The store path of release v's slug. */
static char *slug_path(int v)
{
	char ver[16];
	snprintf(ver, sizeof(ver), "v%d", v);
	struct th_result r = sw("releases:info", ver, "--json", "-a", "app");
	cr_assert_eq(r.status, 0, "%s", r.err);
	const char *at = strstr(r.out, "SHA256:");
	cr_assert(at);
	char *p = th_path("%s/store/sha256/%.2s/%.62s.tar.zst", sb.root, at + 7, at + 9);
	th_result_free(&r);
	return p;
}

Test(reliability, fsck_names_a_corrupt_slug_a_missing_slug_and_a_missing_ref)
{
	char *a = make_checkout("a", "one");
	push(a);
	fsck_clean();

	char *p = slug_path(1);
	chmod(p, 0644);
	struct th_result r = SANDBOX_RUN(&sb, sb.dir, "sh", "-c", "printf X | dd of=\"$0\" bs=1 seek=20 conv=notrunc 2>/dev/null", p);
	th_result_free(&r);
	r = sw("fsck", NULL, NULL, NULL);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.out, "is corrupt"), "%s", r.out);
	th_result_free(&r);

	unlink(p);
	r = sw("fsck", "-a", "app", NULL);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.out, "app: v1 uses slug") && strstr(r.out, "missing from the store"), "%s", r.out);
	th_result_free(&r);

	r = SANDBOX_RUN(&sb, sb.dir, "git", "--git-dir", sb.repo, "update-ref", "-d", "refs/releases/v1");
	th_result_free(&r);
	r = sw("fsck", "-a", "app", NULL);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.out, "app: refs/releases/v1 is missing"), "%s", r.out);
	cr_assert(strstr(r.err, "fsck found"), "%s", r.err);
	th_result_free(&r);
	free(p);
	free(a);
}

static void age(const char *path)
{
	struct th_result r = SANDBOX_RUN(&sb, sb.dir, "touch", "-h", "-d", "2 hours ago", path);
	cr_assert_eq(r.status, 0);
	th_result_free(&r);
}

Test(reliability, gc_frees_only_what_no_release_needs)
{
	char *a = make_checkout("a", "one");
	push(a);
	char *p1 = slug_path(1);
	char *pf = th_path("%s/Procfile", a);
	th_write(pf, "web: echo two\n", 0644);
	free(pf);
	free(SANDBOX_OK(&sb, a, "git", "commit", "-qam", "two"));
	push(a);
	char *p2 = slug_path(2);
	age(p1);
	age(p2);

	/* both slugs are used: nothing to free */
	struct th_result r = sw("gc", NULL, NULL, NULL);
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "Removed 0 slugs"), "%s", r.out);
	th_result_free(&r);
	struct stat st;
	cr_assert_eq(stat(p1, &st), 0);

	/* --keep 1: v1's slug goes, the current one stays, and rollback to v1 is refused */
	r = sw("gc", "--keep", "1", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "Removed 1 slug,"), "%s", r.out);
	th_result_free(&r);
	cr_assert_neq(stat(p1, &st), 0);
	cr_assert_eq(stat(p2, &st), 0);
	int before = release_count();
	r = sw("rollback", "v1", "-a", "app");
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "missing from the store"), "%s", r.err);
	th_result_free(&r);
	cr_assert_eq(release_count(), before);

	/* a stale temp file from a killed writer is swept, a young object is not */
	char *tmp = th_path("%s/store/tmp/slug-dead01", sb.root);
	th_write(tmp, "partial", 0600);
	age(tmp);
	r = sw("gc", NULL, NULL, NULL);
	cr_assert(strstr(r.out, "1 temporary file"), "%s", r.out);
	th_result_free(&r);
	cr_assert_neq(stat(tmp, &st), 0);
	free(tmp);
	free(p1);
	free(p2);
	free(a);
}

Test(reliability, the_ledger_cannot_be_touched_through_git)
{
	char *a = make_checkout("a", "one");
	push(a);
	const char *attempts[][3] = {
		{ "HEAD:refs/releases/v1", NULL, "deny updating a hidden ref" },
		{ ":refs/releases/v1", NULL, "deny deleting a hidden ref" },
		{ "HEAD:refs/releases/v2", NULL, "deny updating a hidden ref" },
		{ "HEAD:refs/slipway/current", NULL, "deny updating a hidden ref" },
		{ "HEAD:refs/other/x", NULL, "pre-receive hook declined" },
	};
	for (size_t i = 0; i < sizeof(attempts) / sizeof(*attempts); i++) {
		struct th_result r = SANDBOX_RUN(&sb, a, "git", "push", "--force", "heroku", attempts[i][0]);
		cr_assert_neq(r.status, 0, "%s was accepted", attempts[i][0]);
		cr_assert(strstr(r.err, attempts[i][2]), "%s: %s", attempts[i][0], r.err);
		th_result_free(&r);
	}
	struct th_result r = SANDBOX_RUN(&sb, a, "git", "ls-remote", "heroku");
	cr_assert_eq(r.status, 0);
	cr_assert_null(strstr(r.out, "refs/releases"), "%s", r.out);
	cr_assert_null(strstr(r.out, "refs/slipway"), "%s", r.out);
	th_result_free(&r);
	cr_assert_eq(release_count(), 1);
	fsck_clean();
	free(a);
}
