/*
 * End to end: the real git client pushes to an app made by `slipway
 * apps:create`, and we check what the pusher sees (git's "remote:" lines and
 * exit status), the releases recorded, the refs and the slug in the store.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define APP "myapp"
#define NAME_RULE "use 1 to 30 lowercase letters, digits and dashes, starting with a letter"

static struct app_sandbox sb;

static void setup(void)
{
	app_sandbox_init(&sb, APP, APP_SANDBOX_BATCH);
}

static void teardown(void)
{
	app_sandbox_release(&sb);
}

TestSuite(push, .init = setup, .fini = teardown, .timeout = 120);

/* ---- running things (in the pusher's working tree) ---- */

#define run(...) SANDBOX_RUN(&sb, NULL, __VA_ARGS__)
#define sw(...) run(SLIPWAY_BIN, __VA_ARGS__)
#define git(...) run("git", __VA_ARGS__)

/* Runs a command that must succeed; returns its stdout, malloc'ed. */
#define ok(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

/* One line of a command's stdout (e.g. rev-parse), without the newline. */
#define ok_line(...) app_sandbox_chomp(ok(__VA_ARGS__))

static int count_str(const char *s, const char *needle)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The line of s containing needle (which must be there), malloc'ed. */
static char *line_with(const char *s, const char *needle)
{
	const char *hit = strstr(s, needle);
	cr_assert(hit, "no line with '%s' in:\n%s", needle, s);
	const char *start = hit;
	while (start > s && start[-1] != '\n')
		start--;
	const char *end = strchr(hit, '\n');
	return strndup(start, end ? (size_t)(end - start) : strlen(start));
}

/* ---- the app and the pusher's repository ---- */

static void create_app(void)
{
	app_sandbox_create(&sb, NULL);
}

/* git init in src with the sample app committed on branch, remote heroku. */
static void init_src(const char *branch)
{
	app_sandbox_write(&sb, "Procfile", "web: ./bin/run.sh\n", 0644);
	app_sandbox_write(&sb, "README", "hello\n", 0644);
	app_sandbox_write(&sb, "bin/run.sh", "#!/bin/sh\necho hi\n", 0755);
	char *p = th_path("%s/passwd", sb.src);
	cr_assert_eq(symlink("/etc/passwd", p), 0);
	free(p);
	app_sandbox_checkout(&sb, NULL, branch, "first");
}

static char *head_sha7(void)
{
	return ok_line("git", "rev-parse", "--short=7", "HEAD");
}

static void commit_change(const char *msg)
{
	char *p = th_path("%s/README", sb.src);
	char *old = th_read(p, NULL);
	char *text = th_path("%s%s\n", old, msg);
	th_write(p, text, 0644);
	free(text);
	free(old);
	free(p);
	free(ok("git", "commit", "-q", "-a", "-m", msg));
}

/* git push heroku REFSPEC: must exit 0; returns git's stderr (the remote lines). */
static char *push(const char *refspec)
{
	return app_sandbox_push(&sb, refspec);
}

/* Asserts the push output announces exactly one release, vN of HEAD. */
static void assert_released(const char *out, int version)
{
	char *sha7 = head_sha7();
	char *want = th_path("remote: -----> Released v%d: Deploy %s", version, sha7);
	cr_assert_eq(th_count(out, want), 1, "want '%s' in:\n%s", want, out);
	cr_assert_eq(th_count(out, "Released v"), 1, "%s", out);
	cr_assert_eq(th_count(out, " !     "), 0, "%s", out);
	free(want);
	free(sha7);
}

/* ---- reading the result ---- */

static int release_count(void)
{
	return app_sandbox_release_count(&sb);
}

/* The slug checksum (64 hex) of release vN, from releases:info --json. */
static char *slug_of(int version)
{
	char v[16];
	snprintf(v, sizeof(v), "v%d", version);
	char *json = ok(SLIPWAY_BIN, "releases:info", v, "-a", APP, "--json");
	const char *key = "\"checksum\":\"SHA256:";
	char *hit = strstr(json, key);
	cr_assert(hit, "no slug checksum in: %s", json);
	hit += strlen(key);
	cr_assert(strspn(hit, "0123456789abcdef") == 64 && hit[64] == '"', "bad checksum in: %s",
		  json);
	char *hex = strndup(hit, 64);
	free(json);
	return hex;
}

static char *store_path(const char *hex)
{
	return th_path("%s/store/sha256/%.2s/%s.tar.zst", sb.root, hex, hex + 2);
}

/* Files under dir, recursively (0 if dir does not exist). */
static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *p = th_path("%s/%s", dir, e->d_name);
		struct stat st;
		cr_assert_eq(lstat(p, &st), 0);
		n += S_ISDIR(st.st_mode) ? count_files(p) : 1;
		free(p);
	}
	closedir(d);
	return n;
}

static int store_objects(void)
{
	char *d = th_path("%s/store/sha256", sb.root);
	int n = count_files(d);
	free(d);
	return n;
}

/* The entries of dir, sorted, one a line ("" if empty or missing). */
static char *list_dir(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	size_t len = 0;
	char *out = NULL;
	FILE *f = open_memstream(&out, &len);
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, ".."))
			fprintf(f, "%s\n", names[i]->d_name);
		free(names[i]);
	}
	if (n > 0)
		free(names);
	fclose(f);
	return out;
}

static char *repo_ref(const char *ref)
{
	return app_sandbox_ref(&sb, ref);
}

static int repo_has_ref(const char *ref)
{
	return app_sandbox_has_ref(&sb, ref);
}

/* ---- apps:create and friends ---- */

Test(push, apps_create_lists_and_refuses_duplicates)
{
	struct th_result r = sw("apps");
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.out, "You have no apps.\n");
	th_result_free(&r);

	char *out = ok(SLIPWAY_BIN, "apps:create", APP);
	char *want = th_path("Creating %s... done\nGit repository: %s\n"
			     "Add it as a remote with: git remote add heroku %s\n",
			     APP, sb.repo, sb.repo);
	cr_assert_str_eq(out, want);
	free(want);
	free(out);

	struct stat st;
	cr_assert_eq(stat(sb.repo, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	char *gd = th_path("--git-dir=%s", sb.repo);
	char *bare = ok_line("git", gd, "rev-parse", "--is-bare-repository");
	cr_assert_str_eq(bare, "true");
	free(bare);
	free(gd);
	char *hook = th_path("%s/hooks/post-receive", sb.repo);
	char target[PATH_MAX], bin[PATH_MAX];
	ssize_t n = readlink(hook, target, sizeof(target) - 1);
	cr_assert(n > 0, "%s is not a symlink", hook);
	target[n] = '\0';
	cr_assert(realpath(SLIPWAY_BIN, bin));
	cr_assert_str_eq(target, bin);
	free(hook);

	r = sw("apps");
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.out, "=== Apps\n" APP "\n");
	th_result_free(&r);
	r = sw("apps", "--json");
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.out, "[\"" APP "\"]\n");
	th_result_free(&r);

	r = sw("apps:create", APP);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.out, "");
	cr_assert_str_eq(r.err, " !    app '" APP "' already exists\n");
	th_result_free(&r);

	char *apps = th_path("%s/apps", sb.root);
	char *listing = list_dir(apps);
	cr_assert_str_eq(listing, APP ".git\n");
	free(listing);
	free(apps);
}

Test(push, apps_create_refuses_invalid_names)
{
	static const char *const bad[] = { "../x", "a/b", "", "UPPER",
					   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 31 */
					   "1abc", "a_b", "a.b", NULL };
	create_app(); /* so that ROOT/apps exists and has one known entry */
	for (size_t i = 0; bad[i]; i++) {
		struct th_result r = sw("apps:create", bad[i]);
		cr_assert_eq(r.status, 1, "'%s': exit %d", bad[i], r.status);
		cr_assert_str_eq(r.out, "", "'%s'", bad[i]);
		char *want = th_path(" !    invalid app name '%s': " NAME_RULE "\n", bad[i]);
		cr_assert_str_eq(r.err, want);
		free(want);
		th_result_free(&r);
	}
	/* a leading dash needs "--", and is still not a valid name */
	struct th_result r = sw("apps:create", "--", "-abc");
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, " !    invalid app name '-abc': " NAME_RULE "\n");
	th_result_free(&r);

	char *apps = th_path("%s/apps", sb.root);
	char *listing = list_dir(apps);
	cr_assert_str_eq(listing, APP ".git\n");
	free(listing);
	free(apps);
	char *escaped = th_path("%s/x.git", sb.root);
	cr_assert_neq(access(escaped, F_OK), 0, "'../x' created %s", escaped);
	free(escaped);

	/* the boundary: 30 characters is fine */
	r = sw("apps:create", "a23456789012345678901234567890");
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
}

/* ---- pushing ---- */

Test(push, first_push_releases_v1_with_its_slug)
{
	create_app();
	init_src("main");
	char *out = push("main");
	char *sha7 = head_sha7();
	char *full = ok_line("git", "rev-parse", "HEAD");
	char *want = th_path("remote: -----> Building " APP " from main (%s)", sha7);
	cr_assert_eq(th_count(out, want), 1, "%s", out);
	free(want);
	cr_assert_eq(th_count(out, "remote: -----> Procfile app detected"), 1, "%s", out);
	cr_assert_eq(th_count(out, "remote: -----> Compressing... done, "), 1, "%s", out);
	assert_released(out, 1);
	cr_assert_eq(release_count(), 1);

	/* the release as the CLI shows it */
	char *info = ok(SLIPWAY_BIN, "releases:info", "v1", "-a", APP, "--json");
	char *commit = th_path("\"commit\":\"%s\"", full);
	cr_assert(strstr(info, commit), "%s", info);
	char *desc = th_path("\"description\":\"Deploy %s\"", sha7);
	cr_assert(strstr(info, desc), "%s", info);
	cr_assert(strstr(info, "\"current\":true"), "%s", info);
	cr_assert(strstr(info, "\"process_types\":{\"web\":\"./bin/run.sh\"}"), "%s", info);
	free(desc);
	free(commit);
	free(info);

	/* the slug: in the store under its own checksum */
	char *hex = slug_of(1);
	char *slug = store_path(hex);
	struct stat st;
	cr_assert_eq(stat(slug, &st), 0, "no slug at %s", slug);
	cr_assert(S_ISREG(st.st_mode));
	char *sum = ok("sha256sum", slug);
	cr_assert(!strncmp(sum, hex, 64), "sha256sum %s: %s", slug, sum);
	cr_assert_eq(store_objects(), 1);

	/* its contents, as bsdtar sees them */
	char *tv = ok("bsdtar", "-tvf", slug);
	cr_assert_eq(count_str(tv, " ./app/Procfile\n"), 1, "%s", tv);
	cr_assert_eq(count_str(tv, " ./app/README\n"), 1, "%s", tv);
	char *l = line_with(tv, " ./app/passwd -> /etc/passwd");
	cr_assert_eq(l[0], 'l', "%s", l);
	free(l);
	l = line_with(tv, " ./app/bin/run.sh");
	cr_assert(!strncmp(l, "-rwxr-xr-x", 10), "%s", l);
	free(l);
	l = line_with(tv, " ./app/Procfile");
	cr_assert(!strncmp(l, "-rw-r--r--", 10), "%s", l);
	free(l);
	cr_assert_eq(count_str(tv, ".git"), 0, "%s", tv);
	free(tv);

	/* the refs */
	char *v1 = repo_ref("refs/releases/v1");
	char *cur = repo_ref("refs/slipway/current");
	cr_assert_eq(strlen(v1), 40);
	cr_assert_str_eq(v1, cur);
	cr_assert(!repo_has_ref("refs/releases/v2"));

	free(v1);
	free(cur);
	free(sum);
	free(slug);
	free(hex);
	free(full);
	free(sha7);
	free(out);
}

Test(push, second_push_releases_v2_other_branches_do_not)
{
	create_app();
	init_src("main");
	free(push("main"));
	commit_change("two");
	char *out = push("main");
	assert_released(out, 2);
	free(out);
	cr_assert_eq(release_count(), 2);
	char *cur = repo_ref("refs/slipway/current");
	char *v2 = repo_ref("refs/releases/v2");
	cr_assert_str_eq(cur, v2);

	commit_change("three");
	out = push("HEAD:feature");
	cr_assert_eq(th_count(out, "Released"), 0, "%s", out);
	cr_assert_eq(th_count(out, "Building"), 0, "%s", out);
	cr_assert_eq(th_count(out, "remote: -----> Pushed to branch feature; only main or master "
				   "deploy, not building"), 1, "%s", out);
	free(out);
	cr_assert_eq(release_count(), 2);
	char *after = repo_ref("refs/slipway/current");
	cr_assert_str_eq(after, cur);
	cr_assert(!repo_has_ref("refs/releases/v3"));
	free(after);
	free(v2);
	free(cur);
}

Test(push, master_deploys_when_there_is_no_main)
{
	create_app();
	init_src("master");
	char *out = push("master");
	char *sha7 = head_sha7();
	char *want = th_path("remote: -----> Building " APP " from master (%s)", sha7);
	cr_assert_eq(th_count(out, want), 1, "%s", out);
	assert_released(out, 1);
	cr_assert_eq(release_count(), 1);
	free(want);
	free(sha7);
	free(out);
}

Test(push, failed_build_records_nothing_then_fix_gets_next_version)
{
	create_app();
	init_src("main");
	free(push("main"));
	char *before = repo_ref("refs/slipway/current");
	int objects = store_objects();

	char *pushed = repo_ref("refs/heads/main");
	free(ok("git", "rm", "-q", "Procfile"));
	free(ok("git", "commit", "-q", "-m", "no procfile"));
	char *out = app_sandbox_push_rejected(&sb, "main");
	cr_assert_eq(th_count(out, "remote:  !     No default language could be detected for "
				   "this app."), 1, "%s", out);
	cr_assert_eq(th_count(out, "remote:  !     Push rejected, no release was created."), 1,
		     "%s", out);
	cr_assert_eq(th_count(out, "Released"), 0, "%s", out);
	free(out);
	cr_assert_eq(release_count(), 1);
	cr_assert(!repo_has_ref("refs/releases/v2"));
	char *after = repo_ref("refs/slipway/current");
	cr_assert_str_eq(after, before);
	cr_assert_eq(store_objects(), objects);
	char *branch = repo_ref("refs/heads/main");
	cr_assert_str_eq(branch, pushed, "the failed build's push moved the branch");
	free(branch);
	free(pushed);

	char *p = th_path("%s/Procfile", sb.src);
	th_write(p, "web: ./bin/run.sh --fixed\n", 0644);
	free(p);
	free(ok("git", "add", "Procfile"));
	free(ok("git", "commit", "-q", "-m", "fixed"));
	out = push("main");
	assert_released(out, 2);
	cr_assert_eq(release_count(), 2);
	char *v2 = repo_ref("refs/releases/v2");
	char *now = repo_ref("refs/slipway/current");
	cr_assert_str_eq(now, v2);
	free(now);
	free(v2);
	free(out);
	free(after);
	free(before);
}

Test(push, deleting_the_deploy_branch_is_refused)
{
	create_app();
	init_src("main");
	free(push("main"));
	char *before = repo_ref("refs/slipway/current");
	char *tip = repo_ref("refs/heads/main");

	char *out = app_sandbox_push_rejected(&sb, ":main");
	cr_assert_eq(th_count(out, "remote:  !     Push to refs/heads/main refused: main is the branch "
				   APP " deploys from, it cannot be deleted"), 1, "%s", out);
	cr_assert_eq(th_count(out, "Building"), 0, "%s", out);
	free(out);
	cr_assert_eq(release_count(), 1);
	char *after = repo_ref("refs/slipway/current");
	cr_assert_str_eq(after, before);
	char *still = repo_ref("refs/heads/main");
	cr_assert_str_eq(still, tip);

	/* with master there too, main is not the last deploy branch: it may go */
	free(push("HEAD:master"));
	out = push(":main");
	cr_assert_eq(th_count(out, "remote: -----> Deleted branch main; nothing to build"), 1,
		     "%s", out);
	cr_assert_eq(th_count(out, "Building"), 0, "%s", out);
	free(out);
	cr_assert(!repo_has_ref("refs/heads/main"));
	cr_assert_eq(release_count(), 2); /* master's push deployed */
	free(still);
	free(tip);
	free(after);
	free(before);
}

Test(push, deleting_another_branch_builds_nothing)
{
	create_app();
	init_src("main");
	free(push("main"));
	free(push("HEAD:feature"));
	char *out = push(":feature");
	cr_assert_eq(th_count(out, "remote: -----> Deleted branch feature; nothing to build"), 1,
		     "%s", out);
	cr_assert_eq(th_count(out, "Building"), 0, "%s", out);
	free(out);
	cr_assert_eq(release_count(), 1);
}

Test(push, tags_are_kept_and_the_branch_pushed_with_them_deploys)
{
	create_app();
	init_src("main");
	free(push("main"));
	/* git push --follow-tags: a commit on main and an annotated tag of it */
	commit_change("two");
	free(ok("git", "tag", "-a", "-m", "release 2", "v2.0"));
	struct th_result r = git("push", "--follow-tags", "heroku", "main");
	cr_assert_eq(r.status, 0, "%s", r.err);
	assert_released(r.err, 2);
	cr_assert_eq(th_count(r.err, "remote: -----> Pushed tag v2.0; tags are kept, not built"),
		     1, "%s", r.err);
	th_result_free(&r);
	char *tag = ok_line("git", "rev-parse", "v2.0");
	char *stored = repo_ref("refs/tags/v2.0");
	cr_assert_str_eq(stored, tag);
	free(stored);
	free(tag);
	char *remote = ok("git", "ls-remote", "heroku");
	cr_assert(strstr(remote, "\trefs/tags/v2.0\n"), "%s", remote);
	free(remote);

	/* a tag alone, or its deletion, builds nothing */
	commit_change("three");
	char *out = push("HEAD:refs/tags/wip");
	cr_assert_eq(th_count(out, "remote: -----> Pushed tag wip; tags are kept, not built"), 1,
		     "%s", out);
	cr_assert_eq(th_count(out, "Building"), 0, "%s", out);
	free(out);
	out = push(":refs/tags/wip");
	cr_assert_eq(th_count(out, "remote: -----> Deleted tag wip; tags are kept, not built"), 1,
		     "%s", out);
	free(out);
	cr_assert(!repo_has_ref("refs/tags/wip"));
	cr_assert_eq(release_count(), 2);

	/* the ledger stays the server's: refused, with nothing changed */
	char *cur = repo_ref("refs/slipway/current");
	r = git("push", "heroku", "HEAD:refs/releases/v9", "HEAD:refs/tags/v3");
	cr_assert_neq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	cr_assert(!repo_has_ref("refs/releases/v9"));
	cr_assert(!repo_has_ref("refs/tags/v3"));
	char *after = repo_ref("refs/slipway/current");
	cr_assert_str_eq(after, cur);
	free(after);
	free(cur);
	cr_assert_eq(release_count(), 2);
}

Test(push, identical_tree_reuses_the_slug)
{
	create_app();
	init_src("main");
	free(push("main"));
	char *hex1 = slug_of(1);
	cr_assert_eq(store_objects(), 1);

	free(ok("git", "commit", "-q", "--allow-empty", "-m", "empty"));
	char *out = push("main");
	assert_released(out, 2);
	free(out);
	char *hex2 = slug_of(2);
	cr_assert_str_eq(hex2, hex1);
	cr_assert_eq(store_objects(), 1);
	char *tmp = th_path("%s/store/tmp", sb.root);
	char *left = list_dir(tmp);
	cr_assert_str_eq(left, "", "temp files left in %s: %s", tmp, left);
	free(left);
	free(tmp);
	free(hex2);
	free(hex1);
}

/* ---- the command line ---- */

Test(push, help_version_and_usage_errors)
{
	struct th_result r = sw("--help");
	cr_assert_eq(r.status, 0);
	static const char *const cmds[] = { "releases", "rollback", "config:set", "apps:create",
					    "apps:destroy", "releases:info", NULL };
	for (size_t i = 0; cmds[i]; i++) {
		char *want = th_path("\n  %s ", cmds[i]);
		cr_assert(strstr(r.out, want), "--help does not list %s:\n%s", cmds[i], r.out);
		free(want);
	}
	th_result_free(&r);

	r = sw("releases", "--help");
	cr_assert_eq(r.status, 0);
	cr_assert(!strncmp(r.out, "Usage: slipway releases ", 24), "%s", r.out);
	cr_assert_str_eq(r.err, "");
	th_result_free(&r);

	r = sw("--version");
	cr_assert_eq(r.status, 0);
	cr_assert(!strncmp(r.out, "slipway ", 8), "%s", r.out);
	cr_assert_eq(strchr(r.out, '\n'), r.out + strlen(r.out) - 1, "%s", r.out);
	th_result_free(&r);

	r = sw("no-such-command");
	cr_assert_eq(r.status, 2);
	cr_assert_str_eq(r.out, "");
	cr_assert(strstr(r.err, "'no-such-command' is not a slipway command"), "%s", r.err);
	th_result_free(&r);

	r = sw("releases", "--no-such-option", "-a", APP);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "Usage: slipway releases"), "%s", r.err);
	th_result_free(&r);

	r = sw("releases", "-a", APP);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, " !    app '" APP "' does not exist (create it with: slipway "
				"apps:create " APP ")\n");
	th_result_free(&r);
}

Test(push, apps_destroy_needs_confirm)
{
	create_app();
	init_src("main");
	free(push("main"));

	struct th_result r = sw("apps:destroy", APP);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "slipway apps:destroy " APP " --confirm " APP), "%s", r.err);
	th_result_free(&r);
	r = sw("apps:destroy", APP, "--confirm", "other");
	cr_assert_eq(r.status, 1);
	th_result_free(&r);
	cr_assert_eq(access(sb.repo, F_OK), 0);
	cr_assert_eq(release_count(), 1);

	r = sw("apps:destroy", APP, "--confirm", APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Destroying " APP "... done\n");
	th_result_free(&r);
	cr_assert_neq(access(sb.repo, F_OK), 0);
	r = sw("apps");
	cr_assert_str_eq(r.out, "You have no apps.\n");
	th_result_free(&r);
	r = sw("releases", "-a", APP);
	cr_assert_eq(r.status, 1);
	th_result_free(&r);
}
