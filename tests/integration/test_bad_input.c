/*
 * test_bad_input.c - the catalogue of bad input, end to end.
 *
 * Each case feeds slipway something wrong or hostile through the real
 * client (git push, the slipway command line, the post-receive hook run
 * by hand) and checks three things: the message the user sees, the exit
 * status, and that nothing changed - the number of releases, the current
 * release ref, the number of objects in the slug store.  Hostile input
 * that is legal (odd file names, symlinks out of the tree, binary output
 * from a buildpack) must deploy without harm instead.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define APP "shop"
#define FIX TESTS_DIR "/fixtures/buildpacks"
#define REFUSED " !     Push rejected, no release was created."
/* the same in post-receive, once git has accepted the push */
#define ACCEPTED " !     The push was accepted, but no release was created."

/* ------------------------------------------------------------------ */
/* The sandbox: ROOT, HOME and the app's checkout, one per test.       */

static struct {
	char *dir;      /* the sandbox; also HOME */
	char *root;     /* SLIPWAY_ROOT */
	char *src;      /* the checkout that pushes to APP */
	char *repo;     /* ROOT/apps/APP.git */
	char *env_root, *env_home;
	const char *env[16];
	char *garbage[512];
	size_t ngarbage;
} sb;

/* Keeps p until the end of the test; returns it. */
static char *gc(char *p)
{
	if (p && sb.ngarbage < sizeof(sb.garbage) / sizeof(sb.garbage[0]))
		sb.garbage[sb.ngarbage++] = p;
	return p;
}

static void setup(void)
{
	memset(&sb, 0, sizeof(sb));
	sb.dir = th_sandbox();
	sb.root = th_path("%s/root", sb.dir);
	sb.src = th_path("%s/src", sb.dir);
	sb.repo = th_path("%s/apps/%s.git", sb.root, APP);
	sb.env_root = th_path("SLIPWAY_ROOT=%s", sb.root);
	sb.env_home = th_path("HOME=%s", sb.dir);
	const char *env[] = {
		sb.env_root, sb.env_home,
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
		"SLIPWAY_USER=alice@example.com", "TZ=UTC", "GIT_CONFIG_NOSYSTEM=1",
		NULL,
	};
	memcpy(sb.env, env, sizeof(env));
}

static void teardown(void)
{
	for (size_t i = 0; i < sb.ngarbage; i++)
		free(sb.garbage[i]);
	free(sb.root);
	free(sb.src);
	free(sb.repo);
	free(sb.env_root);
	free(sb.env_home);
	th_sandbox_free(sb.dir);
}

TestSuite(bad_input, .init = setup, .fini = teardown, .timeout = 300);

static struct th_result run_va(const char *dir, const char *input, const char *prog, va_list ap)
{
	const char *argv[64];
	size_t n = 0;
	argv[n++] = prog;
	while (n < 63 && (argv[n] = va_arg(ap, const char *)))
		n++;
	argv[n] = NULL;
	return th_run(dir ? dir : sb.dir, sb.env, input, argv);
}

/* slipway ARGS... in dir (NULL: the sandbox, which is no git checkout). */
static struct th_result sw(const char *dir, ...)
{
	va_list ap;
	va_start(ap, dir);
	struct th_result r = run_va(dir, NULL, SLIPWAY_BIN, ap);
	va_end(ap);
	return r;
}

static struct th_result git(const char *dir, ...)
{
	va_list ap;
	va_start(ap, dir);
	struct th_result r = run_va(dir, NULL, "git", ap);
	va_end(ap);
	return r;
}

/* stdout of a command that must succeed; kept until the end of the test. */
#define OK(r) ok_out((r), #r)
static char *ok_out(struct th_result r, const char *what)
{
	cr_assert_eq(r.status, 0, "%s: exit %d\nstdout: %s\nstderr: %s", what, r.status,
		     r.out, r.err);
	free(r.err);
	return gc(r.out);
}

static void has(const char *s, const char *needle)
{
	cr_assert(strstr(s, needle), "want '%s' in:\n%s", needle, s);
}

/* Asserts a refused command: exit status, exact stderr, nothing on stdout. */
static void assert_refused(struct th_result r, int status, const char *err)
{
	cr_assert_eq(r.status, status, "exit %d, stderr: %s", r.status, r.err);
	cr_assert_str_eq(r.err, err);
	cr_assert_str_eq(r.out, "");
	th_result_free(&r);
}

static void write_src(const char *name, const char *content)
{
	th_write(gc(th_path("%s/%s", sb.src, name)), content, 0644);
}

/* The app and a checkout at sb.src whose remote "heroku" is the app. */
static void init_app(void)
{
	OK(sw(NULL, "apps:create", APP, NULL));
	OK(git(NULL, "-c", "init.defaultBranch=main", "init", "-q", sb.src, NULL));
	OK(git(sb.src, "remote", "add", "heroku", sb.repo, NULL));
}

static char *commit(const char *msg)
{
	OK(git(sb.src, "add", "-A", NULL));
	OK(git(sb.src, "commit", "-q", "--allow-empty", "-m", msg, NULL));
	char *sha = OK(git(sb.src, "rev-parse", "HEAD", NULL));
	sha[strcspn(sha, "\n")] = '\0';
	return sha;
}

/* git push heroku REFSPEC, which must be accepted; the remote lines. */
static char *push(const char *refspec, int force)
{
	struct th_result r = force ? git(sb.src, "push", "-f", "heroku", refspec, NULL)
				   : git(sb.src, "push", "heroku", refspec, NULL);
	cr_assert_eq(r.status, 0, "git push: exit %d\n%s", r.status, r.err);
	free(r.out);
	return gc(r.err);
}

/* git push heroku REFSPEC, which pre-receive must refuse; the remote lines. */
static char *push_refused(const char *refspec)
{
	struct th_result r = git(sb.src, "push", "heroku", refspec, NULL);
	cr_assert_neq(r.status, 0, "git push %s was accepted:\n%s", refspec, r.err);
	has(r.err, "(pre-receive hook declined)");
	free(r.out);
	return gc(r.err);
}

/* Commits the tree as it is and pushes it; asserts "Released vN: Deploy <sha7>". */
static char *deploy(int version, const char *msg)
{
	char *sha = commit(msg);
	char *out = push("main", 0);
	has(out, gc(th_path("remote: -----> Released v%d: Deploy %.7s", version, sha)));
	return sha;
}

/* ------------------------------------------------------------------ */
/* What "nothing changed" means                                         */

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
		if (lstat(p, &st) == 0)
			n += S_ISDIR(st.st_mode) ? count_files(p) : 1;
		free(p);
	}
	closedir(d);
	return n;
}

static int store_objects(void)
{
	return count_files(gc(th_path("%s/store/sha256", sb.root)));
}

static int store_temps(void)
{
	return count_files(gc(th_path("%s/store/tmp", sb.root)));
}

static int release_count(void)
{
	struct stat st;
	if (stat(sb.repo, &st) < 0)
		return 0;
	char *gitdir = gc(th_path("--git-dir=%s", sb.repo));
	char *out = OK(git(NULL, gitdir, "for-each-ref", "--format=%(refname)",
			   "refs/releases/", NULL));
	return th_count(out, "refs/releases/v");
}

/* The object refs/slipway/current names, "" when there is none. */
static char *current_ref(void)
{
	char *gitdir = gc(th_path("--git-dir=%s", sb.repo));
	struct th_result r = git(NULL, gitdir, "rev-parse", "--verify", "-q",
				 "refs/slipway/current", NULL);
	free(r.err);
	r.out[strcspn(r.out, "\n")] = '\0';
	return gc(r.out);
}

/* The object refs/heads/main names, "" when there is none. */
static char *main_ref(void)
{
	struct stat st;
	if (stat(sb.repo, &st) < 0)
		return "";
	char *gitdir = gc(th_path("--git-dir=%s", sb.repo));
	struct th_result r = git(NULL, gitdir, "rev-parse", "--verify", "-q", "refs/heads/main", NULL);
	free(r.err);
	r.out[strcspn(r.out, "\n")] = '\0';
	return gc(r.out);
}

struct snap {
	int releases, objects;
	char *current, *apps, *branch;
};

static struct snap snapshot(void)
{
	struct snap s = { release_count(), store_objects(), current_ref(),
			  OK(sw(NULL, "apps", NULL)), main_ref() };
	return s;
}

static void assert_unchanged(const struct snap *s, const char *what)
{
	cr_assert_eq(release_count(), s->releases, "%s: the release count changed", what);
	cr_assert_str_eq(current_ref(), s->current, "%s: the current release changed", what);
	cr_assert_eq(store_objects(), s->objects, "%s: the store changed", what);
	cr_assert_str_eq(OK(sw(NULL, "apps", NULL)), s->apps, "%s: the app list changed", what);
	cr_assert_eq(store_temps(), 0, "%s: a temp file was left in the store", what);
	cr_assert_str_eq(main_ref(), s->branch, "%s: the branch moved", what);
}

/* Pushes what is committed and asserts the build was refused with msg. */
static void assert_push_refused(const char *msg, const char *what)
{
	struct snap s = snapshot();
	char *out = push_refused("main");
	has(out, gc(th_path("remote:  !     %s", msg)));
	has(out, "remote: " REFUSED);
	cr_assert_eq(th_count(out, "Released v"), 0, "%s", out);
	assert_unchanged(&s, what);
}

/* 1 if s is valid JSON in valid UTF-8 (python3's strict reader). */
static int json_valid(const char *s)
{
	const char *argv[] = { "python3", "-c",
		"import json, sys; json.loads(sys.stdin.buffer.read().decode('utf-8'))", NULL };
	struct th_result r = th_run(NULL, NULL, s, argv);
	int ok = r.status == 0;
	th_result_free(&r);
	return ok;
}

/* ------------------------------------------------------------------ */
/* App names and versions                                               */

Test(bad_input, app_names_and_versions)
{
	init_app();
	write_src("Procfile", "web: ./run\n");
	deploy(1, "one");
	struct snap s = snapshot();

	static const char *const names[] = { "../x", "a/b", "", "UPPER", "-x", "9lives",
					     "x\ny", "abcdefghijklmnopqrstuvwxyz01234" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *msg = gc(th_path(" !    invalid app name '%s': use 1 to 30 lowercase letters, "
				       "digits and dashes, starting with a letter\n", names[i]));
		if (names[i][0] == '-') {
			struct th_result r = sw(NULL, "apps:create", names[i], NULL);
			cr_assert_eq(r.status, 2, "'%s' reads as an option", names[i]);
			th_result_free(&r);
			continue;
		}
		assert_refused(sw(NULL, "apps:create", names[i], NULL), 1, msg);
		assert_refused(sw(NULL, "releases:info", "-a", names[i], NULL), 1, msg);
		assert_refused(sw(NULL, "rollback", "v1", "-a", names[i], NULL), 1, msg);
		assert_unchanged(&s, names[i]);
	}
	struct stat st;
	cr_assert_neq(stat(gc(th_path("%s/x.git", sb.root)), &st), 0, "../x escaped apps/");

	static const char *const versions[] = { "v0", "v-1", "vx", "v99999999999999999999",
						"0", "v1000000000", "v1x", "v", "" };
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		char *msg = gc(th_path(" !    invalid release version '%s': use vN or N with N a "
				       "release number (e.g. v3)\n", versions[i]));
		assert_refused(sw(NULL, "releases:info", versions[i], "-a", APP, NULL), 1, msg);
		assert_refused(sw(NULL, "rollback", versions[i], "-a", APP, NULL), 1, msg);
		assert_refused(sw(NULL, "releases:output", versions[i], "-a", APP, NULL), 1, msg);
		assert_unchanged(&s, versions[i]);
	}
	/* a version that reads like an app name is still an app name to apps:create */
	OK(sw(NULL, "apps:create", "v0", NULL));
	cr_assert_str_eq(OK(sw(NULL, "releases", "-a", "v0", NULL)), "v0 has no releases.\n");
}

Test(bad_input, gc_and_fsck_of_a_root_that_does_not_exist)
{
	struct stat st;
	char *flag = gc(th_path("--root=%s/typo", sb.dir));
	char *typo = gc(th_path(" !    there is no root at '%s/typo': give the root with --root "
				"DIR (or $SLIPWAY_ROOT)\n", sb.dir));
	char *missing = gc(th_path(" !    there is no root at '%s': give the root with --root "
				   "DIR (or $SLIPWAY_ROOT)\n", sb.root));
	assert_refused(sw(NULL, "gc", NULL), 1, missing);
	assert_refused(sw(NULL, "fsck", NULL), 1, missing);
	assert_refused(sw(NULL, "gc", "--keep", "3", flag, NULL), 1, typo);
	assert_refused(sw(NULL, "fsck", flag, NULL), 1, typo);
	cr_assert_neq(stat(sb.root, &st), 0, "gc or fsck made the root");
	cr_assert_neq(stat(gc(th_path("%s/typo", sb.dir)), &st), 0, "gc or fsck made the root");
	/* a file is no root either */
	th_write(gc(th_path("%s/typo", sb.dir)), "x", 0644);
	char *file = gc(th_path(" !    the root '%s/typo' is not a directory\n", sb.dir));
	assert_refused(sw(NULL, "fsck", flag, NULL), 1, file);
	assert_refused(sw(NULL, "gc", flag, NULL), 1, file);
	/* a root, even empty, is checked */
	init_app();
	cr_assert_str_eq(OK(sw(NULL, "fsck", NULL)), "fsck: everything is consistent\n");
}

Test(bad_input, deploy_branch_names_git_refuses)
{
	static const char *const names[] = { "", "a b", "a..b", "main.lock", "x:y", "-x",
					     "HEAD", "feature/", "/main", "a~1", "a^", "x?",
					     "x*", "[x", "a\\b", "x\ny", "@{x", "a//b" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *opt = gc(th_path("--branch=%s", names[i]));
		char *msg = gc(th_path(" !    invalid branch name '%s': it is not a name git accepts "
				       "for a branch (for example main or production)\n", names[i]));
		assert_refused(sw(NULL, "apps:create", APP, opt, NULL), 1, msg);
		struct stat st;
		cr_assert_neq(stat(sb.repo, &st), 0, "'%s': the app was created", names[i]);
		cr_assert_eq(count_files(gc(th_path("%s/apps", sb.root))), 0,
			     "'%s': something was left in apps/", names[i]);
		cr_assert_str_eq(OK(sw(NULL, "apps", NULL)), "You have no apps.\n");
	}
	/* names git accepts are kept as given */
	OK(sw(NULL, "apps:create", APP, "--branch=release/2024.1", NULL));
	char *gitdir = gc(th_path("--git-dir=%s", sb.repo));
	cr_assert_str_eq(OK(git(NULL, gitdir, "config", "slipway.branch", NULL)), "release/2024.1\n");
}

/* ------------------------------------------------------------------ */
/* Config keys and values                                               */

Test(bad_input, config_keys_and_values)
{
	init_app();
	write_src("Procfile", "web: ./run\n");
	deploy(1, "one");
	struct snap s = snapshot();

	static const char *const keys[] = { "1BAD", "A-B", "", "A B", "A.B", "\xc3\xa9", "A\nB",
					    "A\xff" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *arg = gc(th_path("%s=v", keys[i]));
		char *msg = gc(th_path(" !    invalid config var name '%s': use letters, digits and "
				       "'_', not starting with a digit\n", keys[i]));
		assert_refused(sw(NULL, "config:set", arg, "-a", APP, NULL), 1, msg);
		if (*keys[i]) {
			assert_refused(sw(NULL, "config:unset", keys[i], "-a", APP, NULL), 1, msg);
			assert_refused(sw(NULL, "config:get", keys[i], "-a", APP, NULL), 1, msg);
		}
		assert_unchanged(&s, arg);
	}
	/* a key of 256 bytes is one too many */
	char key[300];
	memset(key, 'K', 256);
	strcpy(key + 256, "=v");
	struct th_result r = sw(NULL, "config:set", key, "-a", APP, NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	has(r.err, " !    ");
	th_result_free(&r);
	assert_unchanged(&s, "long key");

	/*
	 * A 1 MB value cannot come through argv (Linux refuses a single
	 * argument over 128 KiB before slipway runs): the largest value argv
	 * can carry past the cap is refused the same way.
	 */
	size_t big = 128 * 1024 - 16;
	char *arg = gc(malloc(big + 8));
	memcpy(arg, "BIG=", 4);
	memset(arg + 4, 'a', big);
	arg[4 + big] = '\0';
	assert_refused(sw(NULL, "config:set", arg, "-a", APP, NULL), 1,
		       " !    the value of 'BIG' is too long (max 65536 bytes)\n");
	arg[4 + 65536 + 1] = '\0';
	assert_refused(sw(NULL, "config:set", arg, "-a", APP, NULL), 1,
		       " !    the value of 'BIG' is too long (max 65536 bytes)\n");
	assert_unchanged(&s, "big value");
	cr_assert_str_eq(OK(sw(NULL, "config", "--json", "-a", APP, NULL)), "{}\n");
}

/* Values may be any bytes but NUL: they round-trip, and --json stays valid JSON. */
Test(bad_input, config_values_that_are_not_utf8_keep_json_valid)
{
	init_app();
	write_src("Procfile", "web: ./run \xff\xfe --name=\xc3\xa9\n");
	deploy(1, "one");
	const char *value = "line1\nline2\t\"q\" \\ \xff\xc3(\xed\xa0\x80\xc3\xa9\x01";
	char *arg = gc(th_path("ODD=%s", value));
	OK(sw(NULL, "config:set", arg, "-a", APP, NULL));
	cr_assert_eq(release_count(), 2);
	char *got = OK(sw(NULL, "config:get", "ODD", "-a", APP, NULL));
	cr_assert_str_eq(got, gc(th_path("%s\n", value)), "the value is kept exactly");

	char *json = OK(sw(NULL, "config", "--json", "-a", APP, NULL));
	cr_assert(json_valid(json), "invalid JSON: %s", json);
	cr_assert_str_eq(json, "{\"ODD\":\"line1\\nline2\\t\\\"q\\\" \\\\ \\ufffd\\ufffd("
			       "\\ufffd\\ufffd\\ufffd\xc3\xa9\\u0001\"}\n");
	const char *cmds[][3] = { { "releases:info", "--json", NULL }, { "releases", "--json", NULL },
				  { "releases:info", "v1", "--json" } };
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *out = OK(sw(NULL, cmds[i][0], cmds[i][1], "-a", APP, cmds[i][2], NULL));
		cr_assert(json_valid(out), "%s: invalid JSON: %s", cmds[i][0], out);
	}
	has(OK(sw(NULL, "releases:info", "v1", "--json", "-a", APP, NULL)),
	    "\"web\":\"./run \\ufffd\\ufffd --name=\xc3\xa9\"");
}

/* A NUL cannot pass through argv; the one place it can arrive is bin/release YAML. */
Test(bad_input, nul_in_buildpack_config_var_is_refused)
{
	init_app();
	write_src("Procfile", "web: ./run\n");
	deploy(1, "one");
	OK(sw(NULL, "buildpacks:add", FIX "/yamlfile", "-a", APP, NULL));
	write_src("release.yml", "config_vars:\n  BAD: \"a\\0b\"\n");
	commit("nul");
	assert_push_refused("bin/release of Yamlfile: value of 'BAD' in 'config_vars' of "
			    "bin/release output is not a string", "NUL value");
	write_src("release.yml", "config_vars:\n  \"A\\0B\": x\n");
	commit("nul key");
	assert_push_refused("bin/release of Yamlfile: 'config_vars' in bin/release output has a "
			    "key that is not a string", "NUL key");
	cr_assert_str_eq(OK(sw(NULL, "config", "--json", "-a", APP, NULL)), "{}\n");
}

/* ------------------------------------------------------------------ */
/* Procfiles                                                            */

Test(bad_input, procfile_that_declares_nothing_fails_the_build)
{
	init_app();
	write_src("Procfile", "");
	commit("empty");
	assert_push_refused("Procfile declares no process types (add one per line, e.g. "
			    "'web: ./server')", "empty Procfile");
	write_src("Procfile", "# just a comment\n\n   \r\n");
	commit("comments");
	assert_push_refused("Procfile declares no process types (add one per line, e.g. "
			    "'web: ./server')", "comments only");
	cr_assert_eq(release_count(), 0);
	cr_assert_str_eq(current_ref(), "");
	cr_assert_eq(store_objects(), 0);
}

Test(bad_input, procfile_with_crlf_and_bom_is_accepted)
{
	init_app();
	write_src("Procfile", "\xef\xbb\xbfweb: ./run --port $PORT\r\nworker:  ./work \r\n\r\n");
	char *sha = commit("crlf");
	char *out = push("main", 0);
	has(out, "remote:        Procfile declares types -> web, worker");
	has(out, gc(th_path("remote: -----> Released v1: Deploy %.7s", sha)));
	char *json = OK(sw(NULL, "releases:info", "v1", "--json", "-a", APP, NULL));
	has(json, "\"process_types\":{\"web\":\"./run --port $PORT\",\"worker\":\"./work\"}");
}

Test(bad_input, procfile_invalid_duplicate_and_huge)
{
	init_app();
	write_src("Procfile", "web: ./run\n");
	deploy(1, "one");

	static const char *const bad[][2] = {
		{ "web: ./run\nw.b: x\n",
		  "procfile line 2: invalid process type 'w.b' (use 1 to 63 letters, digits, '_' or '-')" },
		{ "web server: x\n",
		  "procfile line 1: invalid process type 'web server' (use 1 to 63 letters, digits, '_' or '-')" },
		{ ": x\n",
		  "procfile line 1: invalid process type '' (use 1 to 63 letters, digits, '_' or '-')" },
		{ "web\n", "procfile line 1: expected 'type: command'" },
		{ "web:\n", "procfile line 1: process type 'web' has no command" },
		{ "web: a\nworker: b\r\nweb: c\n", "procfile line 3: process type 'web' is defined twice" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_src("Procfile", bad[i][0]);
		commit(bad[i][0]);
		assert_push_refused(bad[i][1], bad[i][0]);
	}

	/* 10 MB: refused before it is read, no release */
	size_t n = 10 * 1024 * 1024;
	char *huge = malloc(n + 1);
	for (size_t i = 0; i < n; i += 16)
		memcpy(huge + i, "web: ./run-it-\n\n", 16);
	huge[n] = '\0';
	write_src("Procfile", huge);
	free(huge);
	commit("huge");
	assert_push_refused("procfile is too large (10485760 bytes, at most 262144)", "10 MB");
	cr_assert_eq(release_count(), 1);
}

/* ------------------------------------------------------------------ */
/* Source trees                                                         */

/* The bytes of path, kept until the end of the test. */
static char *slurp(const char *path, size_t *len)
{
	char *s = th_read(path, len);
	cr_assert_not_null(s, "cannot read %s", path);
	return gc(s);
}

Test(bad_input, symlinks_are_stored_as_links_and_never_followed)
{
	init_app();
	char *outside = gc(th_path("%s/outside", sb.dir));
	mkdir(outside, 0755);
	write_src("Procfile", "web: ./run\n");
	cr_assert_eq(symlink("/etc/passwd", gc(th_path("%s/passwd", sb.src))), 0);
	cr_assert_eq(symlink("/nonexistent/abs", gc(th_path("%s/abs", sb.src))), 0);
	cr_assert_eq(symlink("../../../../x", gc(th_path("%s/up", sb.src))), 0);
	cr_assert_eq(symlink(outside, gc(th_path("%s/outdir", sb.src))), 0);
	cr_assert_eq(symlink("/etc", gc(th_path("%s/etc", sb.src))), 0);
	size_t plen;
	char *passwd = slurp("/etc/passwd", &plen);
	struct stat before;
	cr_assert_eq(stat("/etc/passwd", &before), 0);
	deploy(1, "links");

	char *list = OK(sw(NULL, "slugs:contents", "v1", "-a", APP, NULL));
	has(list, " ./app/passwd -> /etc/passwd\n");
	has(list, " ./app/abs -> /nonexistent/abs\n");
	has(list, " ./app/up -> ../../../../x\n");
	has(list, gc(th_path(" ./app/outdir -> %s\n", outside)));
	has(list, " ./app/etc -> /etc\n");
	cr_assert_eq(th_count(list, "lrwxrwxrwx          0 ./app/"), 5, "links of size 0:\n%s", list);
	cr_assert_eq(th_count(list, "./app/etc/"), 0, "/etc was followed:\n%s", list);

	char *dir = gc(th_path("%s/extracted", sb.dir));
	char *out = OK(sw(NULL, "slugs:extract", "v1", dir, "-a", APP, NULL));
	cr_assert_str_eq(out, gc(th_path("Extracted v1 into %s\n", dir)));
	const char *links[][2] = { { "passwd", "/etc/passwd" }, { "abs", "/nonexistent/abs" },
				   { "up", "../../../../x" }, { "outdir", outside }, { "etc", "/etc" } };
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		char *p = gc(th_path("%s/%s", dir, links[i][0]));
		struct stat st;
		cr_assert_eq(lstat(p, &st), 0, "%s missing", p);
		cr_assert(S_ISLNK(st.st_mode), "%s is not a symlink", p);
		char target[4096];
		ssize_t n = readlink(p, target, sizeof(target) - 1);
		cr_assert_gt(n, 0);
		target[n] = '\0';
		cr_assert_str_eq(target, links[i][1]);
	}
	/* nothing was written through them */
	struct stat after;
	cr_assert_eq(stat("/etc/passwd", &after), 0);
	cr_assert_eq(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
	cr_assert_eq(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	size_t plen2;
	char *passwd2 = slurp("/etc/passwd", &plen2);
	cr_assert(plen == plen2 && !memcmp(passwd, passwd2, plen), "/etc/passwd changed");
	cr_assert_eq(count_files(outside), 0, "something was written outside the tree");
	cr_assert_str_eq(OK(sw(NULL, "fsck", NULL)), "fsck: everything is consistent\n");
}

Test(bad_input, file_names_with_newlines_and_invalid_utf8)
{
	init_app();
	write_src("Procfile", "web: ./run\n");
	const char *names[] = { "new\nline", "bad\xff\xfe", "tab\there", "caf\xc3\xa9",
				"quote\"back\\slash", " lead" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		write_src(names[i], names[i]);
	deploy(1, "odd names");

	char *list = OK(sw(NULL, "slugs:contents", "v1", "-a", APP, NULL));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		has(list, gc(th_path(" ./app/%s\n", names[i])));
	char *dir = gc(th_path("%s/extracted", sb.dir));
	OK(sw(NULL, "slugs:extract", "v1", dir, "-a", APP, NULL));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *got = slurp(gc(th_path("%s/%s", dir, names[i])), NULL);
		cr_assert_str_eq(got, names[i]);
	}
	const char *json_cmds[] = { "releases", "releases:info", "config" };
	for (size_t i = 0; i < sizeof(json_cmds) / sizeof(json_cmds[0]); i++) {
		char *out = OK(sw(NULL, json_cmds[i], "--json", "-a", APP, NULL));
		cr_assert(json_valid(out), "%s: invalid JSON: %s", json_cmds[i], out);
	}
}

/* ------------------------------------------------------------------ */
/* Pushes                                                               */

Test(bad_input, empty_repository_push)
{
	init_app();
	commit("nothing at all");
	struct snap s = snapshot();
	char *out = push_refused("main");
	has(out, "remote:  !     No default language could be detected for this app.");
	has(out, "remote: " REFUSED);
	assert_unchanged(&s, "empty tree");
	cr_assert_eq(s.releases, 0);
	cr_assert_eq(s.objects, 0);
	cr_assert_str_eq(OK(sw(NULL, "releases", "-a", APP, NULL)), APP " has no releases.\n");
}

Test(bad_input, push_that_deletes_main)
{
	init_app();
	write_src("Procfile", "web: ./run\n");
	deploy(1, "one");
	struct snap s = snapshot();
	char *out = push_refused(":main");
	has(out, "remote:  !     Push to refs/heads/main refused: main is the branch " APP
		 " deploys from, it cannot be deleted");
	cr_assert_eq(th_count(out, "Released"), 0, "%s", out);
	assert_unchanged(&s, "delete main");
	has(OK(sw(NULL, "releases:info", "--json", "-a", APP, NULL)), "\"version\":1,");
	/* and the next push deploys the next version */
	write_src("index.txt", "two\n");
	deploy(2, "two");
}

Test(bad_input, force_push_of_unrelated_history_deploys_next_version)
{
	init_app();
	write_src("Procfile", "web: ./run\n");
	deploy(1, "one");
	write_src("index.txt", "two\n");
	deploy(2, "two");
	OK(git(sb.src, "checkout", "-q", "--orphan", "other", NULL));
	OK(git(sb.src, "rm", "-q", "-r", "-f", ".", NULL));
	write_src("Procfile", "web: ./other\n");
	char *sha = commit("unrelated");
	char *out = push("other:main", 1);
	has(out, "forced update");
	has(out, gc(th_path("remote: -----> Released v3: Deploy %.7s", sha)));
	char *json = OK(sw(NULL, "releases:info", "--json", "-a", APP, NULL));
	has(json, gc(th_path("\"commit\":\"%s\"", sha)));
	has(json, "\"process_types\":{\"web\":\"./other\"}");
	cr_assert_eq(release_count(), 3);
	/* the old history's releases stay, and roll back */
	OK(sw(NULL, "rollback", "v2", "-a", APP, NULL));
	cr_assert_eq(release_count(), 4);
}

/* ------------------------------------------------------------------ */
/* Buildpacks with hostile output                                       */

Test(bad_input, buildpack_printing_binary_garbage)
{
	init_app();
	write_src("Procfile", "web: ./run\n");
	OK(sw(NULL, "buildpacks:add", FIX "/garbage", "-a", APP, NULL));
	char *sha = commit("garbage");
	char *out = push("main", 0);
	has(out, "remote: before");
	has(out, "remote: garbage-done");
	cr_assert(memmem(out, strlen(out), "\xff\xff\xff\xff", 4), "the garbage did not arrive");
	has(out, " on stderr");
	has(out, gc(th_path("remote: -----> Released v1: Deploy %.7s", sha)));
	cr_assert_eq(release_count(), 1);
}

Test(bad_input, buildpack_that_never_ends_a_line)
{
	init_app();
	write_src("Procfile", "web: ./run\n");
	OK(sw(NULL, "buildpacks:add", FIX "/noeol", "-a", APP, NULL));
	char *sha = commit("noeol");
	char *out = push("main", 0);
	size_t xs = 0;
	for (const char *p = out; *p; p++)
		xs += *p == 'x';
	cr_assert_geq(xs, 102400, "only %zu of the 102400 bytes arrived", xs);
	has(out, "stdout-tail");
	has(out, "stderr-tail");
	has(out, gc(th_path("remote: -----> Released v1: Deploy %.7s", sha)));
	cr_assert_eq(release_count(), 1);
}

/* ------------------------------------------------------------------ */
/* Disk full                                                            */

/*
 * Runs the post-receive hook by hand on "old new refs/heads/main" with the
 * file size limit at limit bytes (0: none), the way git would run it.
 */
static struct th_result hook(const char *old, const char *new, rlim_t limit)
{
	char *input = gc(th_path("%s %s refs/heads/main\n", old, new));
	char *gitdir = gc(th_path("GIT_DIR=%s", sb.repo));
	const char *env[20];
	size_t n = 0;
	for (; sb.env[n]; n++)
		env[n] = sb.env[n];
	env[n++] = gitdir;
	env[n] = NULL;
	const char *argv[] = { SLIPWAY_BIN, "hook", "post-receive", NULL };
	struct rlimit saved, rl;
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
	rl = saved;
	if (limit) {
		/* inherited by the child th_run forks; this process writes no file meanwhile */
		rl.rlim_cur = limit;
		cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	}
	struct th_result r = th_run(sb.repo, env, input, argv);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
	return r;
}

/* Writes n bytes that do not compress (a fixed pseudo-random sequence). */
static void write_noise(const char *name, size_t n, unsigned seed)
{
	char *s = malloc(n + 1);
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		s[i] = (char)(1 + x % 255); /* no NUL: th_write takes a string */
	}
	s[n] = '\0';
	write_src(name, s);
	free(s);
}

Test(bad_input, disk_full_while_publishing_the_slug)
{
	init_app();
	write_src("Procfile", "web: ./run\n");
	char *old = deploy(1, "one");
	/* four files under the limit each, a slug well over it */
	for (unsigned i = 0; i < 4; i++)
		write_noise(gc(th_path("noise%u", i)), 60000, i + 1);
	char *new = commit("big");
	OK(git(sb.src, "push", "-q", "heroku", "main:parked", NULL));
	struct snap s = snapshot();

	struct th_result r = hook(old, new, 128 * 1024);
	cr_assert_eq(r.status, 1, "exit %d (128+%d = killed by SIGXFSZ?)\n%s", r.status, 25, r.out);
	has(r.out, " !     cannot write the slug of ");
	has(r.out, "File too large");
	has(r.out, ACCEPTED "\n");
	cr_assert_eq(th_count(r.out, "Released"), 0, "%s", r.out);
	th_result_free(&r);
	assert_unchanged(&s, "disk full");
	cr_assert_eq(count_files(gc(th_path("%s/builds/%s", sb.root, APP))), 0,
		     "the build directory was left behind");

	/* with room again, the same push deploys */
	r = hook(old, new, 0);
	cr_assert_eq(r.status, 0, "%s", r.out);
	has(r.out, gc(th_path("-----> Released v2: Deploy %.7s", new)));
	th_result_free(&r);
	cr_assert_eq(store_objects(), s.objects + 1);
	cr_assert_str_eq(OK(sw(NULL, "fsck", NULL)), "fsck: everything is consistent\n");
}

Test(bad_input, disk_full_while_streaming_a_big_file)
{
	init_app();
	write_src("Procfile", "web: ./run\n");
	char *old = deploy(1, "one");
	/* over 1 MiB: written from the pack in chunks, not through libgit2 */
	write_noise("big", 1536 * 1024, 11);
	char *new = commit("big");
	OK(git(sb.src, "push", "-q", "heroku", "main:parked", NULL));
	OK(git(sb.repo, "repack", "-adq", NULL));
	struct snap s = snapshot();

	struct th_result r = hook(old, new, 256 * 1024);
	cr_assert_eq(r.status, 1, "exit %d\n%s", r.status, r.out);
	cr_assert_eq(th_count(r.out, " !     "), 2, "%s", r.out);
	has(r.out, " !     cannot write 'big': ");
	has(r.out, "File too large\n");
	has(r.out, ACCEPTED "\n");
	th_result_free(&r);
	assert_unchanged(&s, "disk full while streaming");

	/* with room again, the same push deploys, and the file is whole in the slug */
	r = hook(old, new, 0);
	cr_assert_eq(r.status, 0, "%s", r.out);
	has(r.out, gc(th_path("-----> Released v2: Deploy %.7s", new)));
	th_result_free(&r);
	has(OK(sw(NULL, "slugs:contents", "v2", "-a", APP, NULL)), " 1572864 ./app/big\n");
}

Test(bad_input, disk_full_during_checkout)
{
	init_app();
	write_src("Procfile", "web: ./run\n");
	char *old = deploy(1, "one");
	write_noise("large", 200000, 7);
	char *new = commit("large");
	OK(git(sb.src, "push", "-q", "heroku", "main:parked", NULL));
	struct snap s = snapshot();

	struct th_result r = hook(old, new, 64 * 1024);
	cr_assert_eq(r.status, 1, "exit %d\n%s", r.status, r.out);
	cr_assert_eq(th_count(r.out, " !     "), 2, "%s", r.out);
	has(r.out, " !     cannot write 'large': File too large\n");
	has(r.out, ACCEPTED "\n");
	th_result_free(&r);
	assert_unchanged(&s, "disk full in checkout");
}
