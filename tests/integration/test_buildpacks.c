/*
 * The buildpack pipeline end to end: the real git client pushes, fixture
 * buildpacks (tests/fixtures/buildpacks/) run, and we check the lines the
 * pusher sees, the releases recorded and the files in the slug.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include "builder/build.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define APP "myapp"
#define FIX TESTS_DIR "/fixtures/buildpacks"

static struct app_sandbox sb;

static void setup(void)
{
	app_sandbox_init(&sb, APP, APP_SANDBOX_BATCH);
}

static void teardown(void)
{
	app_sandbox_release(&sb);
}

TestSuite(buildpacks, .init = setup, .fini = teardown, .timeout = 120);

/* Adds "K=V" to the environment of everything run from now on. */
static void env_add(const char *kv)
{
	app_sandbox_setenv(&sb, kv);
}

#define run(...) SANDBOX_RUN(&sb, NULL, __VA_ARGS__)
#define sw(...) run(SLIPWAY_BIN, __VA_ARGS__)
#define ok(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

static void write_src(const char *name, const char *content)
{
	app_sandbox_write(&sb, name, content, 0644);
}

static void commit(const char *msg)
{
	free(ok("git", "add", "-A"));
	free(ok("git", "commit", "-q", "--allow-empty", "-m", msg));
}

/* The app, and a git repo in src with a Procfile and the remote heroku. */
static void init_app(void)
{
	app_sandbox_create(&sb, NULL);
	app_sandbox_checkout(&sb, NULL, "main", NULL);
	write_src("Procfile", "web: ./run.sh\n");
}

static void add_bp(const char *spec)
{
	free(ok(SLIPWAY_BIN, "buildpacks:add", spec, "-a", APP));
}

static int push_status;

/* git push heroku main; returns the remote lines, its exit status in push_status. */
static char *push(void)
{
	return app_sandbox_push_status(&sb, "main", &push_status);
}

static int release_count(void)
{
	return app_sandbox_release_count(&sb);
}

static void assert_has(const char *out, const char *needle)
{
	cr_assert(strstr(out, needle), "want '%s' in:\n%s", needle, out);
}

static void assert_lacks(const char *out, const char *needle)
{
	cr_assert(!strstr(out, needle), "did not want '%s' in:\n%s", needle, out);
}

static void assert_released(const char *out, int version)
{
	char *want = th_path("remote: -----> Released v%d: Deploy ", version);
	cr_assert_eq(push_status, 0, "%s", out);
	assert_has(out, want);
	assert_lacks(out, " !     ");
	free(want);
}

/* A failed push: refused, the message, no release, nothing in the store. */
static void assert_rejected(const char *out, const char *line, int releases_before)
{
	cr_assert_neq(push_status, 0, "%s", out);
	assert_has(out, "(pre-receive hook declined)");
	assert_has(out, line);
	assert_lacks(out, "Released v");
	cr_assert_eq(release_count(), releases_before);
}

/* Extracts release vN's slug into <sb>/x<N> and returns that path. */
static char *extract(int version)
{
	char v[16];
	snprintf(v, sizeof(v), "v%d", version);
	char *dir = th_path("%s/x%d", sb.dir, version);
	free(ok(SLIPWAY_BIN, "slugs:extract", v, dir, "-a", APP));
	return dir;
}

static char *slug_file(const char *dir, const char *name)
{
	char *p = th_path("%s/%s", dir, name);
	char *data = th_read(p, NULL);
	free(p);
	return data;
}

static void assert_slug_file(const char *dir, const char *name, const char *want)
{
	char *got = slug_file(dir, name);
	cr_assert(got, "no %s in the slug", name);
	cr_assert_str_eq(got, want, "%s", name);
	free(got);
}

static int exists_in(const char *dir, const char *name)
{
	char *p = th_path("%s/%s", dir, name);
	struct stat st;
	int found = lstat(p, &st) == 0;
	free(p);
	return found;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int store_objects(void)
{
	char *d = th_path("%s/store/sha256", sb.root);
	int n = 0;
	DIR *top = opendir(d);
	struct dirent *e;
	while (top && (e = readdir(top))) {
		if (e->d_name[0] == '.')
			continue;
		char *sub = th_path("%s/%s", d, e->d_name);
		n += count_entries(sub);
		free(sub);
	}
	if (top)
		closedir(top);
	free(d);
	return n;
}

static char *buildpacks_list(void)
{
	return ok(SLIPWAY_BIN, "buildpacks", "-a", APP);
}

/* ---- choosing buildpacks ---- */

/* A shipped directory in the sandbox: buildpack i applies when the build has "<name>.marker". */
static char *fake_shipped(void)
{
	const char *const *names = build_shipped_buildpacks();
	char *dir = th_path("%s/shipped", sb.dir);
	for (size_t i = 0; names[i]; i++) {
		char *p = th_path("%s/%s/bin/detect", dir, names[i]);
		char *script = th_path("#!/bin/sh\n[ -e \"$1/%s.marker\" ] || exit 1\necho Shipped-%s\n",
				       names[i], names[i]);
		th_write(p, script, 0755);
		free(script);
		free(p);
		p = th_path("%s/%s/bin/compile", dir, names[i]);
		th_write(p, "#!/bin/sh\nexit 0\n", 0755);
		free(p);
	}
	return dir;
}

Test(buildpacks, automatic_detection_takes_the_first_shipped_that_applies)
{
	const char *const *names = build_shipped_buildpacks();
	cr_assert(names[0] && names[1], "this test needs two shipped buildpacks");
	char *dir = fake_shipped();
	char *kv = th_path("SLIPWAY_BUILDPACKS_DIR=%s", dir);
	env_add(kv);
	init_app();

	/* nothing applies */
	commit("none");
	char *out = push();
	assert_rejected(out, "remote:  !     No default language could be detected for this app.", 0);
	free(out);

	/* the second and the last apply: the second, earlier in the order, wins */
	size_t last = 1;
	while (names[last + 1])
		last++;
	char *m1 = th_path("%s.marker", names[1]), *ml = th_path("%s.marker", names[last]);
	write_src(ml, "");
	write_src(m1, "");
	commit("two");
	out = push();
	char *want = th_path("remote: -----> Shipped-%s app detected", names[1]);
	assert_has(out, want);
	cr_assert_eq(th_count(out, "app detected"), 1, "%s", out);
	assert_released(out, 1);
	free(want);
	free(out);

	/* now the first applies too */
	char *m0 = th_path("%s.marker", names[0]);
	write_src(m0, "");
	commit("three");
	out = push();
	want = th_path("remote: -----> Shipped-%s app detected", names[0]);
	assert_has(out, want);
	assert_released(out, 2);
	free(want);
	free(out);
	free(m0);
	free(m1);
	free(ml);
	free(kv);
	free(dir);
}

Test(buildpacks, explicit_list_runs_in_order_and_exports_to_later_ones)
{
	init_app();
	add_bp(FIX "/exporter");
	add_bp(FIX "/importer");
	free(ok(SLIPWAY_BIN, "config:set", "APP_SET=from-app", "-a", APP));
	commit("multi");
	char *out = push();
	assert_released(out, 2);
	const char *a = strstr(out, "-----> Exporter app detected");
	const char *b = strstr(out, "-----> Importer app detected");
	cr_assert(a && b && a < b, "order:\n%s", out);
	assert_has(out, "remote: -----> Using buildpacks:");
	assert_has(out, "remote:        1. " FIX "/exporter");
	assert_has(out, "remote:        2. " FIX "/importer");
	assert_has(out, "Default types for buildpack -> web, worker");

	char *x = extract(2);
	assert_slug_file(x, "imported.txt", "hello world");
	assert_slug_file(x, "tricky.txt", "it's $HOME; `x`\nline two");
	free(x);
	/* every build ran a private copy: the fixture itself is untouched */
	cr_assert(!exists_in(FIX "/exporter", "export"));

	/* Procfile beats the last buildpack's defaults; earlier defaults are dropped;
	 * config_vars merge (later buildpacks win) and the app's own vars win over them */
	char *info = ok(SLIPWAY_BIN, "releases:info", "v2", "-a", APP);
	assert_has(info, "  web: ./run.sh\n");
	assert_has(info, "  worker: importer-worker\n");
	assert_lacks(info, "exporter-clock");
	assert_has(info, "SHARED:        from-importer");
	assert_has(info, "EXPORTER_ONLY: yes");
	assert_has(info, "APP_SET:       from-app");
	free(info);
	free(out);
}

Test(buildpacks, dot_buildpacks_file_is_used_when_the_app_has_no_list)
{
	init_app();
	write_src(".buildpacks", "# exporter first\n" FIX "/exporter\n\n  " FIX "/importer  \n");
	commit("dotfile");
	char *out = push();
	assert_released(out, 1);
	assert_has(out, "remote: -----> Importer app detected");
	char *x = extract(1);
	assert_slug_file(x, "imported.txt", "hello world");
	free(x);
	free(out);

	/* the app's own list wins over the file */
	add_bp(FIX "/importer");
	commit("again");
	out = push();
	assert_released(out, 2);
	assert_lacks(out, "Exporter");
	x = extract(2);
	assert_slug_file(x, "imported.txt", "unset");
	free(x);
	free(out);
}

Test(buildpacks, the_copies_of_the_buildpacks_count_against_the_builds_limits)
{
	/* a buildpack of 40K of files (the exporter's scripts and a blob) */
	char *bp = th_path("%s/fat", sb.dir);
	char *cmd = th_path("cp -r '%s/exporter' '%s' && head -c 40960 /dev/zero > '%s/blob'",
			    FIX, bp, bp);
	free(ok("sh", "-c", cmd));
	free(cmd);
	env_add("SLIPWAY_MAX_SLUG_UNPACKED_SIZE=64K");
	init_app();
	char *list = th_path("%s\n%s\n%s\n", bp, bp, bp);
	write_src(".buildpacks", list);
	commit("three times");
	char *out = push();
	char *want = th_path("remote:  !     the buildpacks hold more than 64K of files with '%s' "
			     "(slipway.maxSlugUnpackedSize)", bp);
	assert_rejected(out, want, 0);
	free(want);
	free(out);
	free(list);

	/* once is within the limit */
	list = th_path("%s\n", bp);
	write_src(".buildpacks", list);
	commit("once");
	out = push();
	assert_released(out, 1);
	free(out);
	free(list);
	free(bp);
}

Test(buildpacks, a_listed_buildpack_that_does_not_apply_fails_the_push)
{
	init_app();
	add_bp(FIX "/no");
	commit("no");
	char *out = push();
	assert_has(out, "remote: -----> App not compatible with buildpack: " FIX "/no");
	assert_rejected(out, "remote:  !     Push rejected, the buildpack '" FIX "/no' does not apply", 0);
	assert_has(out, "remote:  !     Push rejected, no release was created.");
	cr_assert_eq(store_objects(), 0);
	free(out);
}

/* ---- what compile sees ---- */

Test(buildpacks, cache_dir_persists_between_pushes_until_purged)
{
	init_app();
	add_bp(FIX "/cacher");
	commit("one");
	char *out = push();
	assert_has(out, "remote:        build number 1");
	free(out);
	commit("two");
	out = push();
	assert_has(out, "remote:        build number 2");
	assert_released(out, 2);
	free(out);

	char *msg = ok(SLIPWAY_BIN, "repo:purge-cache", "-a", APP);
	cr_assert_str_eq(msg, "Purging build cache of " APP "... done (1 entry removed)\n");
	free(msg);
	commit("three");
	out = push();
	assert_has(out, "remote:        build number 1");
	free(out);

	struct th_result r = sw("repo:purge-cache", "-a", "nope");
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, " !    app 'nope' does not exist (create it with: slipway apps:create nope)\n");
	cr_assert_str_eq(r.out, "");
	th_result_free(&r);
}

Test(buildpacks, env_dir_stack_source_version_and_home)
{
	init_app();
	add_bp(FIX "/envdump");
	free(ok(SLIPWAY_BIN, "config:set", "FOO=bar", "MULTI=line one\nline 'two'\n", "-a", APP));
	commit("env");
	char *out = push();
	assert_released(out, 2);
	char *sha = ok("git", "rev-parse", "HEAD");
	char *x = extract(2);
	assert_slug_file(x, "envcopy/FOO", "bar");
	assert_slug_file(x, "envcopy/MULTI", "line one\nline 'two'\n");
	char *envcopy = th_path("%s/envcopy", x);
	cr_assert_eq(count_entries(envcopy), 2);
	free(envcopy);
	char *want = th_path("STACK=heroku-22\nSOURCE_VERSION=%sHOME=set\n", sha);
	assert_slug_file(x, "envinfo", want);
	free(want);
	free(x);
	free(sha);
	free(out);
}

/* ---- failures ---- */

Test(buildpacks, hostile_release_yaml_fails_with_a_clear_message)
{
	init_app();
	add_bp(FIX "/yamlfile");
	char *bomb = th_read(FIX "/bomb/bin/release", NULL);
	cr_assert(bomb);
	/* the YAML of the bomb fixture, between its heredoc markers */
	char *start = strstr(bomb, "<<'YAML'\n") + 9;
	*strstr(start, "YAML\n") = '\0';
	write_src("release.yml", start);
	commit("bomb");
	char *out = push();
	assert_rejected(out, "remote:  !     bin/release of Yamlfile: bin/release output uses YAML aliases", 0);
	free(out);

	write_src("release.yml", "- just\n- a list\n");
	commit("list");
	out = push();
	assert_rejected(out, "remote:  !     bin/release of Yamlfile: ", 0);
	assert_has(out, "Push rejected, no release was created.");
	free(out);

	write_src("release.yml", "default_process_types: 'unterminated\n");
	commit("syntax");
	out = push();
	assert_rejected(out, "not valid YAML", 0);
	cr_assert_eq(store_objects(), 0);
	free(out);
	free(bomb);
}

Test(buildpacks, failing_compile_rejects_the_push)
{
	init_app();
	add_bp(FIX "/failing");
	commit("fail");
	char *out = push();
	assert_has(out, "remote: boom: missing dependency");
	assert_rejected(out, "remote:  !     Push rejected, failed to compile Failing app.", 0);
	cr_assert_eq(store_objects(), 0);
	free(out);
}

/* Pushes accepted before their build: a failed build never says "Push rejected". */
Test(buildpacks, failing_compile_after_an_accepted_push_says_the_push_was_accepted)
{
	app_sandbox_create(&sb, "--accept-failed-builds");
	app_sandbox_checkout(&sb, NULL, "main", NULL);
	write_src("Procfile", "web: ./run.sh\n");
	add_bp(FIX "/failing");
	commit("fail");
	char *out = push();
	cr_assert_eq(push_status, 0, "%s", out);
	assert_has(out, "remote: boom: missing dependency");
	assert_has(out, "remote:  !     Failed to compile Failing app.");
	assert_has(out, "remote:  !     The push was accepted, but no release was created.");
	assert_lacks(out, "Push rejected");
	assert_lacks(out, "Launching...");
	cr_assert_eq(release_count(), 0);
	free(out);
}

Test(buildpacks, hanging_compile_times_out)
{
	env_add("SLIPWAY_COMPILE_TIMEOUT=1");
	init_app();
	add_bp(FIX "/hang");
	commit("hang");
	char *out = push();
	assert_has(out, "remote:        hanging");
	assert_rejected(out, "remote:  !     Push rejected, compile of Hang app timed out after 1 second.", 0);
	cr_assert_eq(store_objects(), 0);
	free(out);
}

Test(buildpacks, per_app_compile_timeout_from_git_config)
{
	init_app();
	add_bp(FIX "/hang");
	char *gd = th_path("--git-dir=%s", sb.repo);
	free(ok("git", gd, "config", "slipway.compileTimeout", "2s"));
	commit("hang");
	char *out = push();
	assert_rejected(out, "compile of Hang app timed out after 2 seconds.", 0);
	free(out);
	free(ok("git", gd, "config", "slipway.compileTimeout", "soon"));
	commit("again");
	out = push();
	assert_rejected(out, "remote:  !     git config slipway.compileTimeout: invalid timeout 'soon'", 0);
	free(out);
	free(gd);
}

Test(buildpacks, daemon_holding_stdout_does_not_block_the_push)
{
	init_app();
	add_bp(FIX "/daemon");
	commit("daemon");
	char *out = push();
	assert_has(out, "remote:        started a daemon");
	assert_released(out, 1);
	free(out);
}

/* Pushes a build that leaves processes behind: it completes and none of them remains. */
static void push_lingerer(int version)
{
	commit("linger");
	char *sha = app_sandbox_head(&sb, NULL);
	char *mark = th_path("lingerer-%s", sha);
	char *out = push();
	char *released = th_path("remote: -----> Released v%d: Deploy ", version);
	cr_assert_eq(push_status, 0, "%s", out);
	assert_has(out, "remote:        left two processes behind");
	assert_has(out, released);
	free(released);
	cr_assert_eq(th_processes_with(mark), 0, "processes of the build remain");
	free(out);
	free(mark);
	free(sha);
}

Test(buildpacks, processes_a_build_leaves_behind_end_with_it)
{
	init_app();
	add_bp(FIX "/lingerer");
	push_lingerer(1);
	env_add("SLIPWAY_SANDBOX=none"); /* unsandboxed too, even one in a session of its own */
	push_lingerer(2);
}

Test(buildpacks, oversize_slug_is_refused_before_the_store)
{
	env_add("SLIPWAY_MAX_SLUG_SIZE=4K");
	init_app();
	char *p = th_path("%s/noise.bin", sb.src);
	FILE *f = fopen(p, "wb");
	cr_assert(f);
	unsigned x = 12345;
	for (int i = 0; i < 64 * 1024; i++) {
		x = x * 1103515245u + 12345u;
		fputc((int)(x >> 16) & 0xff, f);
	}
	fclose(f);
	free(p);
	commit("big");
	char *out = push();
	assert_rejected(out, " is too large (max is 4K).", 0);
	assert_has(out, "remote:  !     Compiled slug size: 64.");
	cr_assert_eq(store_objects(), 0);
	char *tmp = th_path("%s/store/tmp", sb.root);
	cr_assert_eq(count_entries(tmp), 0);
	free(tmp);
	free(out);
}

/* ---- where buildpacks come from ---- */

/* A git repository at <sb>/<name> holding a buildpack whose name says "Git <VERSION>". */
/* Writes <dir>/<name> with mode. */
static void write_in(const char *dir, const char *name, const char *content, unsigned mode)
{
	char *p = th_path("%s/%s", dir, name);
	th_write(p, content, mode);
	free(p);
}

static char *make_git_buildpack(const char *name)
{
	char *dir = th_path("%s/%s-work", sb.dir, name);
	write_in(dir, "bin/detect",
		 "#!/bin/sh\necho \"Git $(cat \"$(dirname \"$0\")/../VERSION\")\"\n", 0755);
	write_in(dir, "bin/compile", "#!/bin/sh\necho \"       compiled by the git buildpack\"\n",
		 0755);
	char *p = th_path("%s/VERSION", dir);
	th_write(p, "one", 0644);
	struct th_result r = SANDBOX_RUN(&sb, dir, "git", "-c", "init.defaultBranch=main", "init", "-q");
	cr_assert_eq(r.status, 0);
	th_result_free(&r);
	r = SANDBOX_RUN(&sb, dir, "git", "add", "-A");
	th_result_free(&r);
	r = SANDBOX_RUN(&sb, dir, "git", "commit", "-q", "-m", "one");
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	r = SANDBOX_RUN(&sb, dir, "git", "tag", "v1");
	th_result_free(&r);
	th_write(p, "two", 0644);
	r = SANDBOX_RUN(&sb, dir, "git", "commit", "-q", "-a", "-m", "two");
	cr_assert_eq(r.status, 0);
	th_result_free(&r);
	free(p);
	char *bare = th_path("%s/%s.git", sb.dir, name);
	r = SANDBOX_RUN(&sb, sb.dir, "git", "clone", "-q", "--bare", dir, bare);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	free(dir);
	return bare;
}

Test(buildpacks, git_url_buildpacks_are_cloned_once_and_reused)
{
	char *bare = make_git_buildpack("bp");
	char *url = th_path("file://%s#v1", bare);
	init_app();
	add_bp(url);
	commit("one");
	char *out = push();
	assert_has(out, "remote: -----> Cloning buildpack ");
	assert_has(out, "remote: -----> Git one app detected");
	assert_has(out, "remote:        compiled by the git buildpack");
	assert_released(out, 1);
	free(out);
	char *cache = th_path("%s/buildpacks-cache", sb.root);
	cr_assert_eq(count_entries(cache), 1);

	/* the clone is reused: the source can be gone */
	char *moved = th_path("%s/moved.git", sb.dir);
	cr_assert_eq(rename(bare, moved), 0);
	commit("two");
	out = push();
	assert_lacks(out, "Cloning");
	assert_has(out, "remote: -----> Git one app detected");
	assert_released(out, 2);
	free(out);

	/* a bare path ending in .git, no ref: its HEAD */
	free(ok(SLIPWAY_BIN, "buildpacks:clear", "-a", APP));
	add_bp(moved);
	commit("three");
	out = push();
	assert_has(out, "remote: -----> Git two app detected");
	assert_released(out, 3);
	cr_assert_eq(count_entries(cache), 2);
	free(out);

	/* an unknown ref fails the build */
	free(ok(SLIPWAY_BIN, "buildpacks:clear", "-a", APP));
	char *badref = th_path("file://%s#nope", moved);
	add_bp(badref);
	commit("four");
	out = push();
	assert_rejected(out, "has no branch, tag or commit 'nope'", 3);
	cr_assert_eq(count_entries(cache), 2);
	free(out);
	free(badref);
	free(moved);
	free(cache);
	free(url);
	free(bare);
}

Test(buildpacks, slugignore_removes_matching_files_before_compile)
{
	init_app();
	write_src(".slugignore", "# not wanted\n*.log\n/docs\ntmp/\nsub/secret.txt\n");
	write_src("app.log", "x");
	write_src("deep/er/trace.log", "x");
	write_src("docs/guide.md", "x");
	write_src("docs/more.md", "x");
	write_src("keep/docs/readme", "kept");
	write_src("tmp/a", "x");
	write_src("tmp2", "kept");
	write_src("sub/secret.txt", "x");
	write_src("other/sub/secret.txt", "kept");
	write_src("run.sh", "kept");
	commit("ignore");
	char *out = push();
	assert_has(out, "remote: -----> Deleting 6 files matching .slugignore patterns.");
	assert_released(out, 1);
	char *x = extract(1);
	cr_assert(!exists_in(x, "app.log"));
	cr_assert(!exists_in(x, "deep/er/trace.log"));
	cr_assert(exists_in(x, "deep/er"));
	cr_assert(!exists_in(x, "docs"));
	cr_assert(!exists_in(x, "tmp"));
	cr_assert(!exists_in(x, "sub/secret.txt"));
	cr_assert(!exists_in(x, ".git"));
	assert_slug_file(x, "keep/docs/readme", "kept");
	assert_slug_file(x, "tmp2", "kept");
	assert_slug_file(x, "other/sub/secret.txt", "kept");
	cr_assert(exists_in(x, ".slugignore"));
	free(x);
	free(out);
}

/* A bare repository <sb>/<name>.git of work's files, tagged v3. */
static char *bare_of(const char *work, const char *name)
{
	free(SANDBOX_OK(&sb, work, "git", "-c", "init.defaultBranch=main", "init", "-q"));
	free(SANDBOX_OK(&sb, work, "git", "add", "-A"));
	free(SANDBOX_OK(&sb, work, "git", "commit", "-q", "-m", "one"));
	free(SANDBOX_OK(&sb, work, "git", "tag", "v3"));
	char *bare = th_path("%s/%s.git", sb.dir, name);
	free(SANDBOX_OK(&sb, sb.dir, "git", "clone", "-q", "--bare", work, bare));
	return bare;
}

Test(buildpacks, problems_name_the_buildpack_as_given_and_plain_scripts_run_with_sh)
{
	char *work = th_path("%s/plain-work", sb.dir);
	write_in(work, "bin/detect", "echo Plain\n", 0644);
	write_in(work, "bin/compile", "echo '       compiled with sh'\n", 0644);
	char *bare = bare_of(work, "plain");
	char *url = th_path("file://%s#v3", bare);
	init_app();
	add_bp(url);
	commit("one");
	char *out = push();
	char *want = th_path("remote:  !     Warning: bin/detect of buildpack '%s' is not "
			     "executable; running it with sh", url);
	assert_has(out, want);
	free(want);
	want = th_path("remote:  !     Warning: bin/compile of buildpack '%s' is not "
		       "executable; running it with sh", url);
	assert_has(out, want);
	free(want);
	assert_has(out, "remote:        compiled with sh");
	assert_has(out, "remote: -----> Released v1: Deploy ");
	free(out);

	/* no bin/detect: the message names the URL, not a directory of the build */
	char *work2 = th_path("%s/nodetect-work", sb.dir);
	write_in(work2, "bin/compile", "#!/bin/sh\n", 0755);
	char *bare2 = bare_of(work2, "nodetect");
	char *url2 = th_path("file://%s#v3", bare2);
	free(ok(SLIPWAY_BIN, "buildpacks:set", url2, "-a", APP));
	commit("two");
	out = push();
	want = th_path("remote:  !     buildpack '%s' has no executable bin/detect", url2);
	assert_rejected(out, want, 1);
	assert_lacks(out, "/buildpacks/1/");
	free(want);
	free(out);
	free(url2);
	free(bare2);
	free(work2);
	free(url);
	free(bare);
	free(work);
}

/* ---- the buildpacks commands ---- */

static void assert_refused(struct th_result r, int status, const char *err)
{
	cr_assert_eq(r.status, status, "exit %d, stderr: %s", r.status, r.err);
	cr_assert_str_eq(r.out, "");
	cr_assert(strstr(r.err, err), "want '%s' in stderr: %s", err, r.err);
	th_result_free(&r);
}

Test(buildpacks, commands_list_add_remove_clear)
{
	init_app();
	char *out = buildpacks_list();
	cr_assert_str_eq(out, APP " has no Buildpack URL set.\n");
	free(out);

	out = ok(SLIPWAY_BIN, "buildpacks:add", FIX "/importer", "-a", APP);
	cr_assert_str_eq(out, "Buildpack added. Next release on " APP " will use:\n"
			      "  1. " FIX "/importer\n"
			      "Run git push heroku main to create a new release using this buildpack.\n");
	free(out);
	free(ok(SLIPWAY_BIN, "buildpacks:add", "--index", "1", FIX "/exporter", "-a", APP));
	out = ok(SLIPWAY_BIN, "buildpacks:add", "-i", "2", "file:///srv/bp.git#v2", "-a", APP);
	cr_assert_str_eq(out, "Buildpack added. Next release on " APP " will use:\n"
			      "  1. " FIX "/exporter\n"
			      "  2. file:///srv/bp.git#v2\n"
			      "  3. " FIX "/importer\n"
			      "Run git push heroku main to create a new release using these buildpacks.\n");
	free(out);
	out = buildpacks_list();
	cr_assert_str_eq(out, "=== " APP " Buildpack URLs\n1. " FIX "/exporter\n"
			      "2. file:///srv/bp.git#v2\n3. " FIX "/importer\n");

	/* refusals change nothing */
	assert_refused(sw("buildpacks:add", FIX "/cacher", "-a", "nope"), 1,
		       " !    app 'nope' does not exist (create it with: slipway apps:create nope)\n");
	assert_refused(sw("buildpacks:add", "--index", "0", FIX "/cacher", "-a", APP), 2,
		       "error: invalid index '0': use a position from 1\n");
	assert_refused(sw("buildpacks:add", "--index", "x", FIX "/cacher", "-a", APP), 2,
		       "invalid index 'x'");
	assert_refused(sw("buildpacks:add", "--index", "5", FIX "/cacher", "-a", APP), 1,
		       " !    invalid index 5: use 1 to 4\n");
	assert_refused(sw("buildpacks:add", FIX "/importer", "-a", APP), 1,
		       " !    the buildpack '" FIX "/importer' is already set on " APP "\n");
	assert_refused(sw("buildpacks:add", "no-such-pack", "-a", APP), 1,
		       " !    there is no shipped buildpack 'no-such-pack'");
	assert_refused(sw("buildpacks:add", "/no/such/dir", "-a", APP), 1,
		       " !    buildpack directory '/no/such/dir' does not exist\n");
	assert_refused(sw("buildpacks:add", "relative/dir", "-a", APP), 1,
		       " !    'relative/dir' is not a buildpack: ");
	assert_refused(sw("buildpacks:remove", FIX "/cacher", "-a", APP), 1,
		       " !    the buildpack '" FIX "/cacher' is not set on " APP
		       " (see: slipway buildpacks -a " APP ")\n");
	assert_refused(sw("buildpacks:remove", "--index", "4", "-a", APP), 1,
		       " !    invalid index 4: use 1 to 3\n");
	assert_refused(sw("buildpacks:remove", "-a", APP), 2, "name the buildpack to remove");
	assert_refused(sw("buildpacks:remove", FIX "/importer", "-a", "nope"), 1,
		       " !    app 'nope' does not exist");
	assert_refused(sw("buildpacks:clear", "-a", "nope"), 1, " !    app 'nope' does not exist");
	char *same = buildpacks_list();
	cr_assert_str_eq(same, out);
	free(same);
	free(out);

	out = ok(SLIPWAY_BIN, "buildpacks:remove", "file:///srv/bp.git#v2", "-a", APP);
	cr_assert_str_eq(out, "Buildpack removed. Next release on " APP " will use:\n"
			      "  1. " FIX "/exporter\n  2. " FIX "/importer\n"
			      "Run git push heroku main to create a new release using these buildpacks.\n");
	free(out);
	free(ok(SLIPWAY_BIN, "buildpacks:remove", "--index", "1", "-a", APP));
	out = buildpacks_list();
	cr_assert_str_eq(out, "=== " APP " Buildpack URL\n1. " FIX "/importer\n");
	free(out);
	out = ok(SLIPWAY_BIN, "buildpacks:clear", "-a", APP);
	cr_assert_str_eq(out, "Buildpacks cleared. Next release on " APP
			      " will detect buildpacks normally.\n");
	free(out);
	out = buildpacks_list();
	cr_assert_str_eq(out, APP " has no Buildpack URL set.\n");
	free(out);
}

Test(buildpacks, set_replaces_the_list_or_one_entry)
{
	init_app();
	/* on an empty list: the list becomes it */
	char *out = ok(SLIPWAY_BIN, "buildpacks:set", FIX "/importer", "-a", APP);
	cr_assert_str_eq(out, "Buildpack set. Next release on " APP " will use:\n"
			      "  1. " FIX "/importer\n"
			      "Run git push heroku main to create a new release using this buildpack.\n");
	free(out);
	free(ok(SLIPWAY_BIN, "buildpacks:add", FIX "/exporter", "-a", APP));
	free(ok(SLIPWAY_BIN, "buildpacks:add", FIX "/cacher", "-a", APP));

	/* --index N replaces the Nth */
	out = ok(SLIPWAY_BIN, "buildpacks:set", "-i", "2", "heroku/nodejs", "-a", APP);
	cr_assert_str_eq(out, "Buildpack set. Next release on " APP " will use:\n"
			      "  1. " FIX "/importer\n  2. heroku/nodejs\n  3. " FIX "/cacher\n"
			      "Run git push heroku main to create a new release using these buildpacks.\n");
	free(out);
	out = buildpacks_list();

	/* refusals change nothing */
	assert_refused(sw("buildpacks:set", "no-such-pack", "-a", APP), 1,
		       " !    there is no shipped buildpack 'no-such-pack'");
	assert_refused(sw("buildpacks:set", "heroku/ruby", "-a", APP), 1,
		       " !    'heroku/ruby' is not a buildpack: ");
	assert_refused(sw("buildpacks:set", "-i", "4", "heroku/python", "-a", APP), 1,
		       " !    invalid index 4: use 1 to 3\n");
	assert_refused(sw("buildpacks:set", "-i", "0", "heroku/python", "-a", APP), 2,
		       "error: invalid index '0': use a position from 1\n");
	assert_refused(sw("buildpacks:set", "-i", "1", FIX "/cacher", "-a", APP), 1,
		       " !    the buildpack '" FIX "/cacher' is already set on " APP ", at 3\n");
	assert_refused(sw("buildpacks:set", "-a", APP), 2, "");
	assert_refused(sw("buildpacks:set", "heroku/python", "-a", "nope"), 1,
		       " !    app 'nope' does not exist");
	char *same = buildpacks_list();
	cr_assert_str_eq(same, out);
	free(same);
	free(out);

	/* the same one at its own place is fine; without --index the list becomes one */
	free(ok(SLIPWAY_BIN, "buildpacks:set", "-i", "3", FIX "/cacher", "-a", APP));
	out = ok(SLIPWAY_BIN, "buildpacks:set", "heroku/python", "-a", APP);
	cr_assert_str_eq(out, "Buildpack set. Next release on " APP " will use:\n"
			      "  1. heroku/python\n"
			      "Run git push heroku main to create a new release using this buildpack.\n");
	free(out);
	out = ok(SLIPWAY_BIN, "buildpacks:set", "--help");
	assert_has(out, "buildpacks:set");
	assert_has(out, "--index");
	free(out);
}
