/*
 * The shipped buildpacks (buildpacks/node, python, make, static), end to end:
 * the real git client pushes a small app with no third-party dependencies,
 * and we check what the pusher sees, what the slug contains and the process
 * types of the release.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"
#include "util/error.h"
#include "util/fsutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define APP "shipped"

static struct app_sandbox sb;

static void setup(void)
{
	app_sandbox_init(&sb, APP, APP_SANDBOX_BATCH);
}

static void teardown(void)
{
	app_sandbox_release(&sb);
}

TestSuite(shipped, .init = setup, .fini = teardown, .timeout = 300);

/* ---- running things (in the pusher's working tree) ---- */

#define run(...) SANDBOX_RUN(&sb, NULL, __VA_ARGS__)
#define ok(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

/* Writes src/<name>. */
static void put(const char *name, const char *content, unsigned mode)
{
	app_sandbox_write(&sb, name, content, mode);
}

/* Makes the app, commits the files already put in src and adds the remote. */
static void create_app_and_commit(void)
{
	app_sandbox_create(&sb, NULL);
	app_sandbox_checkout(&sb, NULL, "main", "first");
}

static void commit_all(const char *msg)
{
	free(ok("git", "add", "-A"));
	free(ok("git", "commit", "-q", "-m", msg));
}

#define NO_PROCESSES "remote:  !     No process types: nothing will run. Add a Procfile " \
	"(web: COMMAND) or use a buildpack that declares default_process_types."

/* git push heroku main: must exit 0 and release vN, warning only if warning (may be NULL). */
static char *push_released_warning(int version, const char *warning)
{
	char *out = app_sandbox_push(&sb, "main");
	char *want = th_path("remote: -----> Released v%d: Deploy ", version);
	cr_assert_eq(th_count(out, want), 1, "want '%s' in:\n%s", want, out);
	cr_assert_eq(th_count(out, " !     "), warning ? 1 : 0, "%s", out);
	if (warning)
		cr_assert_eq(th_count(out, warning), 1, "want '%s' in:\n%s", warning, out);
	free(want);
	return out;
}

/* git push heroku main: must exit 0 and release vN; returns the remote lines. */
static char *push_released(int version)
{
	return push_released_warning(version, NULL);
}

/* The files of release vN's slug, as `slipway slugs:contents` lists them. */
static char *slug_contents(int version)
{
	char v[16];
	snprintf(v, sizeof(v), "v%d", version);
	return ok(SLIPWAY_BIN, "slugs:contents", v, "-a", APP);
}

/* Asserts that the listing has a line for path (exactly) with a mode starting with mode. */
static void assert_entry(const char *listing, const char *path, const char *mode)
{
	const char *p = listing;
	size_t plen = strlen(path);
	while (p && *p) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *name = memmem(p, len, " ./app/", 7);
		if (name) {
			name += 3; /* " ./" */
			size_t rest = len - (size_t)(name - p);
			if (rest >= plen && !strncmp(name, path, plen) &&
			    (rest == plen || !strncmp(name + plen, " -> ", 4))) {
				cr_assert(!strncmp(p, mode, strlen(mode)), "%s: mode %.10s, want %s",
					  path, p, mode);
				return;
			}
		}
		p = end ? end + 1 : NULL;
	}
	cr_assert_fail("no %s in the slug:\n%s", path, listing);
}

static void assert_no_entry(const char *listing, const char *needle)
{
	cr_assert(!strstr(listing, needle), "'%s' in the slug:\n%s", needle, listing);
}

/* Asserts release vN's process types, as releases:info --json shows them. */
static void assert_procs(int version, const char *json_object)
{
	char v[16];
	snprintf(v, sizeof(v), "v%d", version);
	char *info = ok(SLIPWAY_BIN, "releases:info", v, "-a", APP, "--json");
	char *want = th_path("\"process_types\":%s", json_object);
	cr_assert(strstr(info, want), "want %s in: %s", want, info);
	free(want);
	free(info);
}

static void assert_line(const char *out, const char *line)
{
	cr_assert_eq(th_count(out, line), 1, "want '%s' once in:\n%s", line, out);
}

/* ---- node ---- */

static const char package_json[] =
	"{\n"
	"  \"name\": \"hello\",\n"
	"  \"version\": \"1.0.0\",\n"
	"  \"private\": true,\n"
	"  \"scripts\": { \"start\": \"node server.js\" },\n"
	"  \"dependencies\": { \"greet\": \"file:lib/greet\" }\n"
	"}\n";

static const char package_lock_json[] =
	"{\n"
	"  \"name\": \"hello\",\n"
	"  \"version\": \"1.0.0\",\n"
	"  \"lockfileVersion\": 3,\n"
	"  \"requires\": true,\n"
	"  \"packages\": {\n"
	"    \"\": {\n"
	"      \"name\": \"hello\",\n"
	"      \"version\": \"1.0.0\",\n"
	"      \"dependencies\": { \"greet\": \"file:lib/greet\" }\n"
	"    },\n"
	"    \"lib/greet\": { \"version\": \"1.0.0\" },\n"
	"    \"node_modules/greet\": { \"resolved\": \"lib/greet\", \"link\": true }\n"
	"  }\n"
	"}\n";

static void node_app(int lockfile)
{
	put("package.json", package_json, 0644);
	if (lockfile)
		put("package-lock.json", package_lock_json, 0644);
	put("server.js", "console.log(require('greet')());\n", 0644);
	put("lib/greet/package.json", "{ \"name\": \"greet\", \"version\": \"1.0.0\" }\n", 0644);
	put("lib/greet/index.js", "module.exports = () => 'hello';\n", 0644);
	create_app_and_commit();
}

Test(shipped, node_with_lockfile_runs_npm_ci_and_defaults_to_npm_start)
{
	node_app(1);
	char *out = push_released(1);
	assert_line(out, "remote: -----> Node.js app detected");
	assert_line(out, "remote: -----> Installing dependencies");
	assert_line(out, "remote:        Running npm ci (a lockfile is present)");
	assert_line(out, "remote: -----> Starting with an empty npm cache");
	free(out);

	char *tv = slug_contents(1);
	assert_entry(tv, "app/node_modules/greet -> ../lib/greet", "l");
	assert_entry(tv, "app/server.js", "-rw-r--r--");
	assert_no_entry(tv, "app/.npm"); /* npm's cache stays in CACHE_DIR */
	free(tv);
	assert_procs(1, "{\"web\":\"npm start\"}");

	/* the next build finds npm's cache from the first */
	put("README", "two\n", 0644);
	commit_all("two");
	out = push_released(2);
	assert_line(out, "remote: -----> Reusing the npm cache of the previous build");
	free(out);
}

Test(shipped, node_without_lockfile_runs_npm_install_and_procfile_wins)
{
	put("Procfile", "web: node server.js\nworker: node server.js\n", 0644);
	node_app(0);
	char *out = push_released(1);
	assert_line(out, "remote: -----> Node.js app detected");
	assert_line(out, "remote:        Running npm install (no lockfile)");
	free(out);
	char *tv = slug_contents(1);
	assert_entry(tv, "app/node_modules/greet -> ../lib/greet", "l");
	assert_entry(tv, "app/package-lock.json", "-rw-r--r--");
	free(tv);
	assert_procs(1, "{\"web\":\"node server.js\",\"worker\":\"node server.js\"}");
}

Test(shipped, node_installs_from_the_npm_registry_inside_the_sandbox)
{
	/* the registry must answer from here, or there is nothing to show */
	struct th_result r = th_runv(NULL, NULL, "timeout", "20", "npm", "view", "is-number@7.0.0",
				     "version", NULL);
	int reachable = r.status == 0 && strstr(r.out, "7.0.0");
	th_result_free(&r);
	if (!reachable)
		cr_skip_test("the npm registry cannot be reached from this machine");
	put("package.json", "{ \"name\": \"reg\", \"version\": \"1.0.0\", "
			    "\"dependencies\": { \"is-number\": \"7.0.0\" } }\n", 0644);
	put("Procfile", "web: node -e \"require('is-number')\"\n", 0644);
	create_app_and_commit();
	char *out = push_released(1);
	assert_line(out, "remote:        Running npm install (no lockfile)");
	free(out);
	char *tv = slug_contents(1);
	assert_entry(tv, "app/node_modules/is-number/package.json", "-rw-r--r--");
	free(tv);
}

Test(shipped, node_prunes_dev_dependencies_and_says_when_engines_is_not_met)
{
	put("package.json", "{ \"name\": \"dev\", \"version\": \"1.0.0\",\n"
			    "  \"engines\": { \"node\": \"0.8.x || ^0.10.0\" },\n"
			    "  \"dependencies\": { \"greet\": \"file:lib/greet\" },\n"
			    "  \"devDependencies\": { \"devtool\": \"file:lib/devtool\" } }\n", 0644);
	put("lib/greet/package.json", "{ \"name\": \"greet\", \"version\": \"1.0.0\" }\n", 0644);
	put("lib/devtool/package.json", "{ \"name\": \"devtool\", \"version\": \"1.0.0\" }\n",
	    0644);
	create_app_and_commit();
	char *version = app_sandbox_chomp(ok("node", "--version"));
	char *want = th_path("remote: -----> engines.node requires 0.8.x || ^0.10.0; "
			     "using the system's node %s", version + 1);
	char *out = push_released(1);
	assert_line(out, want);
	assert_line(out, "remote: -----> Pruning devDependencies");
	free(out);
	char *tv = slug_contents(1);
	assert_entry(tv, "app/node_modules/greet -> ../lib/greet", "l");
	assert_no_entry(tv, "app/node_modules/devtool");
	free(tv);

	/* Heroku's knob keeps them; a range the system's node satisfies says nothing */
	free(ok(SLIPWAY_BIN, "config:set", "NPM_CONFIG_PRODUCTION=false", "-a", APP));
	char *range = th_path(">=0.10 <%d", atoi(version + 1) + 1);
	char *pkg = th_path("{ \"name\": \"dev\", \"version\": \"1.0.0\",\n"
			    "  \"engines\": { \"node\": \"%s\" },\n"
			    "  \"dependencies\": { \"greet\": \"file:lib/greet\" },\n"
			    "  \"devDependencies\": { \"devtool\": \"file:lib/devtool\" } }\n", range);
	put("package.json", pkg, 0644);
	commit_all("keep dev");
	out = push_released(3); /* v2 is the config change */
	assert_line(out, "remote:        Skipping because NPM_CONFIG_PRODUCTION is 'false'");
	cr_assert_eq(th_count(out, "engines.node"), 0, "%s", out);
	free(out);
	tv = slug_contents(3);
	assert_entry(tv, "app/node_modules/devtool -> ../lib/devtool", "l");
	free(tv);
	free(pkg);
	free(range);
	free(want);
	free(version);
}

/* ---- python ---- */

Test(shipped, python_makes_a_virtualenv_in_the_slug)
{
	put("requirements.txt", "# no third-party packages\n", 0644);
	put("app.py", "print('hello')\n", 0644);
	put("Procfile", "web: python app.py\n", 0644);
	create_app_and_commit();
	char *out = push_released(1);
	assert_line(out, "remote: -----> Python app detected");
	assert_line(out, "remote: -----> Creating a virtualenv in .venv");
	assert_line(out, "remote: -----> Installing requirements with pip");
	free(out);

	char *tv = slug_contents(1);
	assert_entry(tv, "app/.venv/bin/python", "l");
	assert_entry(tv, "app/.venv/pyvenv.cfg", "-rw-");
	assert_entry(tv, "app/.profile.d/python.sh", "-rw-");
	assert_entry(tv, "app/app.py", "-rw-r--r--");
	free(tv);
	/* the buildpack names no process: the Procfile's are the release's */
	assert_procs(1, "{\"web\":\"python app.py\"}");
}

Test(shipped, python_without_procfile_has_no_process_types)
{
	put("requirements.txt", "", 0644);
	put("app.py", "print('hello')\n", 0644);
	create_app_and_commit();
	char *out = push_released_warning(1, NO_PROCESSES);
	assert_line(out, "remote: -----> Python app detected");
	free(out);
	char *tv = slug_contents(1);
	assert_entry(tv, "app/.venv/bin/python", "l");
	free(tv);
	assert_procs(1, "{}");
}

Test(shipped, heroku_names_pick_the_shipped_buildpacks)
{
	/* a Procfile alone would be the procfile buildpack's: .buildpacks says python */
	put("Procfile", "web: python app.py\n", 0644);
	put("setup.py", "from setuptools import setup\nsetup(name='app', version='1.0')\n", 0644);
	put(".buildpacks", "heroku/python\n", 0644);
	create_app_and_commit();
	char *out = push_released(1);
	assert_line(out, "remote:        1. heroku/python");
	assert_line(out, "remote: -----> Python app detected");
	free(out);

	free(ok(SLIPWAY_BIN, "buildpacks:add", "heroku/nodejs", "-a", APP));
	put("package.json", "{ \"name\": \"x\", \"version\": \"1.0.0\" }\n", 0644);
	commit_all("node");
	out = push_released(2);
	assert_line(out, "remote:        1. heroku/nodejs");
	assert_line(out, "remote: -----> Node.js app detected");
	free(out);
}

Test(shipped, python_says_when_the_pinned_version_is_not_the_systems)
{
	put("requirements.txt", "", 0644);
	put("runtime.txt", "python-2.7.18\n", 0644);
	put("Procfile", "web: python app.py\n", 0644);
	create_app_and_commit();
	char *version = app_sandbox_chomp(ok("/usr/bin/python3", "-c",
					     "import platform; print(platform.python_version())"));
	char *want = th_path("remote: -----> runtime.txt requires Python 2.7.18; "
			     "using the system's Python %s", version);
	char *out = push_released(1);
	assert_line(out, want);
	free(out);
	free(want);

	/* .python-version comes first; its major.minor is the system's: nothing to say */
	char *minor = th_path("# the team's\n%.*s\n", (int)(strrchr(version, '.') - version), version);
	put(".python-version", minor, 0644);
	commit_all("pin");
	out = push_released(2);
	cr_assert_eq(th_count(out, "requires Python"), 0, "%s", out);
	free(out);
	put(".python-version", "3.1\n", 0644);
	commit_all("pin 3.1");
	out = push_released(3);
	want = th_path("remote: -----> .python-version requires Python 3.1; "
		       "using the system's Python %s", version);
	assert_line(out, want);
	free(out);
	free(want);
	free(minor);
	free(version);
}

/* ---- make ---- */

static const char hello_c[] = "#include <stdio.h>\n"
			      "int main(void) { puts(\"hello\"); return 0; }\n";

Test(shipped, make_builds_and_reuses_its_cache)
{
	put("Makefile", "hello: hello.c\n\t$(CC) -o hello hello.c\n", 0644);
	put("hello.c", hello_c, 0644);
	put("Procfile", "web: ./hello\n", 0644);
	create_app_and_commit();
	char *out = push_released(1);
	assert_line(out, "remote: -----> Make app detected");
	assert_line(out, "remote: -----> Starting with an empty build cache");
	assert_line(out, "remote: -----> Building with make");
	cr_assert_eq(th_count(out, "remote:        cc -o hello hello.c"), 1, "%s", out);
	free(out);
	char *tv = slug_contents(1);
	assert_entry(tv, "app/hello", "-rwx");
	free(tv);
	assert_procs(1, "{\"web\":\"./hello\"}");

	/* hello.c did not change: the cached binary is up to date */
	put("README", "two\n", 0644);
	commit_all("two");
	out = push_released(2);
	assert_line(out, "remote: -----> Reusing the build cache of the previous build");
	assert_line(out, "remote:        make: 'hello' is up to date.");
	cr_assert_eq(th_count(out, "cc -o hello"), 0, "%s", out);
	free(out);
	tv = slug_contents(2);
	assert_entry(tv, "app/hello", "-rwx");
	assert_entry(tv, "app/README", "-rw-");
	free(tv);

	/* hello.c changed: it is rebuilt */
	put("hello.c", "#include <stdio.h>\nint main(void) { return puts(\"hi\") < 0; }\n", 0644);
	commit_all("three");
	out = push_released(3);
	assert_line(out, "remote: -----> Reusing the build cache of the previous build");
	cr_assert_eq(th_count(out, "remote:        cc -o hello hello.c"), 1, "%s", out);
	free(out);
}

Test(shipped, make_builds_a_cmake_project)
{
	put("CMakeLists.txt",
	    "cmake_minimum_required(VERSION 3.13)\nproject(hello C)\nadd_executable(hello hello.c)\n",
	    0644);
	put("hello.c", hello_c, 0644);
	create_app_and_commit();
	char *out = push_released_warning(1, NO_PROCESSES);
	assert_line(out, "remote: -----> Make app detected");
	assert_line(out, "remote: -----> Building with CMake");
	free(out);
	char *tv = slug_contents(1);
	assert_entry(tv, "app/build/hello", "-rwx");
	assert_no_entry(tv, "CMakeFiles");
	free(tv);
	assert_procs(1, "{}");
}

Test(shipped, failed_make_rejects_the_push)
{
	put("Makefile", "all:\n\t@echo broken >&2; exit 1\n", 0644);
	create_app_and_commit();
	struct th_result r = run("git", "push", "heroku", "main");
	cr_assert_neq(r.status, 0, "%s", r.err); /* the branch is not updated */
	assert_line(r.err, " ! [remote rejected] main -> main (pre-receive hook declined)");
	assert_line(r.err, "remote:        broken");
	assert_line(r.err, "remote:  !     make failed");
	assert_line(r.err, "remote:  !     Push rejected, failed to compile Make app.");
	cr_assert_eq(th_count(r.err, "Released"), 0, "%s", r.err);
	th_result_free(&r);
}

/* ---- static ---- */

Test(shipped, static_site_is_served_as_it_is)
{
	put("index.html", "<!doctype html><title>hi</title>\n", 0644);
	put("css/site.css", "body { margin: 0 }\n", 0644);
	create_app_and_commit();
	char *out = push_released(1);
	assert_line(out, "remote: -----> Static app detected");
	free(out);
	char *tv = slug_contents(1);
	assert_entry(tv, "app/index.html", "-rw-r--r--");
	assert_entry(tv, "app/css/site.css", "-rw-r--r--");
	free(tv);
	assert_procs(1, "{\"web\":\"python3 .slipway/static-server.py\"}");
}

/* ---- detection order ---- */

Test(shipped, nothing_detected_says_what_each_buildpack_looks_for)
{
	put("README", "just text\n", 0644);
	create_app_and_commit();
	struct th_result r = run("git", "push", "heroku", "main");
	cr_assert_neq(r.status, 0, "%s", r.err); /* the push is rejected */
	const char *lines[] = {
		"remote: -----> None of the shipped buildpacks applies; they look for:",
		"remote:        heroku/nodejs (node): package.json",
		"remote:        heroku/python (python): requirements.txt, setup.py or pyproject.toml",
		"remote:        make: Makefile, makefile, GNUmakefile or CMakeLists.txt",
		"remote:        static: index.html, and none of the files above",
		"remote:        procfile: Procfile",
		"remote:        Add a Procfile (web: COMMAND) to run the app as it is, or name its",
		"remote:  !     No default language could be detected for this app.",
		NULL,
	};
	const char *at = r.err;
	for (size_t i = 0; lines[i]; i++) {
		const char *next = strstr(at, lines[i]);
		cr_assert(next, "want '%s' (in this order) in:\n%s", lines[i], r.err);
		at = next;
	}
	cr_assert_eq(th_count(r.err, "Released"), 0, "%s", r.err);
	th_result_free(&r);
}

Test(shipped, detection_order_languages_then_static_then_procfile)
{
	/* index.html + Procfile: static (its web process overridden) */
	put("index.html", "<p>hi</p>\n", 0644);
	put("Procfile", "web: ./serve\n", 0644);
	create_app_and_commit();
	char *out = push_released(1);
	assert_line(out, "remote: -----> Static app detected");
	free(out);
	assert_procs(1, "{\"web\":\"./serve\"}");

	/* a Makefile next to index.html: not a static site any more */
	put("Makefile", "all:\n\t@echo built\n", 0644);
	commit_all("make");
	out = push_released(2);
	assert_line(out, "remote: -----> Make app detected");
	free(out);

	/* package.json comes before the Makefile */
	put("package.json", "{ \"name\": \"x\", \"version\": \"1.0.0\" }\n", 0644);
	commit_all("node");
	out = push_released(3);
	assert_line(out, "remote: -----> Node.js app detected");
	free(out);
	assert_procs(3, "{\"web\":\"./serve\"}");
}

/* SLIPWAY_BWRAP: a bubblewrap that notes each sandbox it starts (its arguments) in the returned file. */
static char *noting_bwrap(void)
{
	char *log = th_path("%s/sandboxes", sb.dir), *wrap = th_path("%s/bwrap", sb.dir);
	char *script = th_path("#!/bin/sh\necho \"$*\" >> '%s'\nexec /usr/bin/bwrap \"$@\"\n", log);
	th_write(wrap, script, 0755);
	char *kv = th_path("SLIPWAY_BWRAP=%s", wrap);
	app_sandbox_setenv(&sb, kv);
	free(kv);
	free(script);
	free(wrap);
	return log;
}

Test(shipped, shipped_detects_start_no_sandbox_and_a_modified_one_runs_in_its_own)
{
	char *log = noting_bwrap();
	put("Procfile", "web: ./serve\n", 0644);
	create_app_and_commit();
	char *out = push_released(1);
	assert_line(out, "remote: -----> Procfile app detected");
	free(out);
	char *seen = th_read(log, NULL);
	cr_assert_eq(th_count(seen, "/bin/detect"), 0, "%s", seen);
	cr_assert_eq(th_count(seen, "/procfile/bin/compile"), 1, "%s", seen);
	free(seen);

	/* the same buildpacks, procfile's bin/detect edited: it runs, in the sandbox */
	char *dir = th_path("%s/buildpacks", sb.dir), *detect = th_path("%s/procfile/bin/detect", dir);
	cr_assert_eq(fs_copy_tree(SOURCE_DIR "/buildpacks", dir), 0, "%s", sw_error_last());
	cr_assert_eq(unlink(detect), 0);
	th_write(detect, "#!/bin/sh\n[ -f \"$1/Procfile\" ] || exit 1\necho \"Procfile at $1\"\n", 0755);
	char *kv = th_path("SLIPWAY_BUILDPACKS_DIR=%s", dir);
	app_sandbox_setenv(&sb, kv);
	cr_assert_eq(unlink(log), 0);
	put("README", "two\n", 0644);
	commit_all("two");
	out = push_released(2);
	assert_line(out, "remote: -----> Procfile at /app app detected");
	free(out);
	seen = th_read(log, NULL);
	cr_assert_eq(th_count(seen, "/bin/detect"), 1, "%s", seen);
	cr_assert_eq(th_count(seen, "/procfile/bin/detect /app"), 1, "%s", seen);
	free(seen);
	free(kv);
	free(detect);
	free(dir);
	free(log);
}
