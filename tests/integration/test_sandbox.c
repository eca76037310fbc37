/*
 * The sandbox end to end: what a buildpack and a release command see when
 * a real push runs them, what they cannot do, the bounds on what they
 * leave, and what happens when the sandbox cannot start.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include "util/fsutil.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define APP "myapp"

static struct app_sandbox sb;

static void setup(void)
{
	app_sandbox_init(&sb, APP, APP_SANDBOX_BATCH);
	/* a variable of the server's that app code must never see */
	app_sandbox_setenv(&sb, "SERVER_SECRET=hunter2");
}

static void teardown(void)
{
	app_sandbox_release(&sb);
}

TestSuite(sandbox, .init = setup, .fini = teardown, .timeout = 180);

#define run(...) SANDBOX_RUN(&sb, NULL, __VA_ARGS__)
#define sw(...) run(SLIPWAY_BIN, __VA_ARGS__)
#define ok(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

/* A buildpack in the sandbox directory whose bin/compile is `compile`. */
static char *make_buildpack(const char *name, const char *compile)
{
	char *dir = th_path("%s/%s", sb.dir, name);
	char *p = th_path("%s/bin/detect", dir);
	th_write(p, "#!/bin/sh\necho Probe\n", 0755);
	free(p);
	p = th_path("%s/bin/compile", dir);
	th_write(p, compile, 0755);
	free(p);
	return dir;
}

/* The app with that buildpack and a Procfile; pushes; returns the remote lines. */
static char *push_with(const char *bp, const char *procfile)
{
	app_sandbox_create(&sb, NULL);
	free(ok(SLIPWAY_BIN, "buildpacks:add", bp, "-a", APP));
	app_sandbox_write(&sb, "Procfile", procfile, 0644);
	app_sandbox_checkout(&sb, NULL, "main", "first");
	struct th_result r = run("git", "push", "heroku", "main");
	char *err = r.err;
	free(r.out);
	return err;
}

static const char probe[] =
	"#!/bin/sh\n"
	"echo \"args: $1 $2 $3\"\n"
	"echo \"cwd: $(pwd) home: $HOME\"\n"
	"echo \"etc: $(ls /etc | tr '\\n' ' ')\"\n"
	"echo \"root: $(ls / | tr '\\n' ' ')\"\n"
	"env | grep -q SERVER_SECRET && echo 'env: leaked' || echo 'env: clean'\n"
	"touch /usr/x 2>/dev/null && echo 'usr: writable' || echo 'usr: read-only'\n"
	"test -r /env/MESSAGE && echo \"env dir: $(cat /env/MESSAGE)\"\n"
	"echo 'hello' > /env/MESSAGE 2>/dev/null && echo 'env dir: writable' || echo 'env dir: read-only'\n"
	"echo \"net: $(grep -c : /proc/net/dev)\"\n"
	"echo \"pid1: $(cat /proc/1/comm)\"\n";

Test(sandbox, a_buildpack_sees_fixed_paths_the_system_read_only_and_nothing_of_the_server)
{
	char *bp = make_buildpack("probe", probe);
	app_sandbox_create(&sb, NULL);
	free(ok(SLIPWAY_BIN, "config:set", "MESSAGE=from-config", "-a", APP));
	free(ok(SLIPWAY_BIN, "buildpacks:add", bp, "-a", APP));
	app_sandbox_write(&sb, "Procfile", "web: ./run\n", 0644);
	app_sandbox_checkout(&sb, NULL, "main", "first");
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "remote: args: /app /cache /env"), "%s", out);
	cr_assert(strstr(out, "remote: cwd: /app home: /app"), "%s", out);
	cr_assert(strstr(out, "remote: etc: alternatives ca-certificates ca-certificates.conf group "
			      "hosts ld.so.cache ld.so.conf ld.so.conf.d localtime nsswitch.conf passwd "
			      "resolv.conf ssl "), "%s", out);
	cr_assert(strstr(out, "remote: root: app bin buildpacks cache dev env etc lib"), "%s", out);
	cr_assert(strstr(out, "remote: env: clean"), "%s", out);
	cr_assert(strstr(out, "remote: usr: read-only"), "%s", out);
	cr_assert(strstr(out, "remote: env dir: from-config"), "%s", out);
	cr_assert(strstr(out, "remote: env dir: read-only"), "%s", out);
	cr_assert_null(strstr(out, "hunter2"), "%s", out);
	cr_assert(strstr(out, "remote: -----> Released v2: Deploy "), "%s", out);
	free(out);
	free(bp);
}

Test(sandbox, build_network_none_leaves_only_loopback)
{
	char *bp = make_buildpack("probe", probe);
	app_sandbox_setenv(&sb, "SLIPWAY_BUILD_NETWORK=none");
	char *out = push_with(bp, "web: ./run\n");
	/* /proc/net/dev has one "name:" line per interface: lo alone */
	cr_assert(strstr(out, "remote: net: 1 "), "%s", out);
	free(out);
	free(bp);
}

Test(sandbox, the_release_phase_gets_its_own_writable_copy_of_the_slug)
{
	char *bp = make_buildpack("plain", "#!/bin/sh\necho built > \"$1/built\"\n");
	const char *procfile =
		"web: ./run\n"
		"release: echo \"saw: $(cat /app/mark 2>/dev/null || echo nothing) in $PWD as $HOME, "
		"built=$(cat built)\"; echo changed > /app/mark; echo \"$DYNO\"; "
		"env | grep -q SERVER_SECRET && echo leaked || true\n";
	char *out = push_with(bp, procfile);
	cr_assert(strstr(out, "remote: saw: nothing in /app as /app, built=built"), "%s", out);
	cr_assert(strstr(out, "remote: release.1"), "%s", out);
	cr_assert_null(strstr(out, "leaked"), "%s", out);
	free(out);
	/* the next release's run starts from the slug again: the mark is gone */
	struct th_result r = sw("config:set", "A=1", "-a", APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "saw: nothing in /app"), "%s", r.out);
	th_result_free(&r);
	/* and nothing of either run is left on the server */
	char *runs = th_path("%s/runs", sb.root);
	DIR *d = opendir(runs);
	cr_assert(d, "no %s", runs);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	cr_assert_eq(n, 0, "runs left behind in %s", runs);
	/* the slug's shared tree is kept for the next runs, as the slug has it */
	char *shared = th_path("%s/unpacked", sb.root);
	r = th_runv(NULL, NULL, "find", shared, "-name", "mark", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "", "what the release command wrote is in no tree");
	th_result_free(&r);
	free(shared);
	free(runs);
	free(bp);
}

Test(sandbox, gc_and_apps_destroy_remove_what_killed_runs_left)
{
	char *bp = make_buildpack("plain", "#!/bin/sh\ntrue\n");
	free(push_with(bp, "web: ./run\n"));
	/* what a killed run and an older version leave behind */
	char *run = th_path("%s/runs/" APP "-abc123/app/big", sb.root);
	char *old = th_path("%s/unpacked/0123/app/file", sb.root);
	th_write(run, "x", 0644);
	th_write(old, "x", 0644);
	struct th_result r = sw("gc");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, ", 2 unpacked slugs and "), "%s", r.out);
	th_result_free(&r);
	char *dir = th_path("%s/runs/" APP "-abc123", sb.root);
	cr_assert_not(fs_exists(dir));
	char *shared = th_path("%s/unpacked/0123", sb.root);
	cr_assert_not(fs_exists(shared));

	th_write(run, "x", 0644);
	free(ok(SLIPWAY_BIN, "apps:destroy", APP, "--confirm", APP));
	cr_assert_not(fs_exists(dir), "apps:destroy left %s", dir);
	free(shared);
	free(dir);
	free(old);
	free(run);
	free(bp);
}

Test(sandbox, fsck_names_a_damaged_slug_tree_and_gc_removes_the_trees_no_process_uses)
{
	char *bp = make_buildpack("plain", "#!/bin/sh\necho built > \"$1/built\"\n");
	free(push_with(bp, "web: ./run\nrelease: true\n"));
	/* the release command's run left the slug's tree; an operator's slip damages it */
	char *trees = th_path("%s/unpacked/trees", sb.root);
	struct th_result r = th_runv(NULL, NULL, "find", trees, "-name", "built", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	char *built = strndup(r.out, strcspn(r.out, "\n"));
	th_result_free(&r);
	cr_assert_eq(unlink(built), 0, "%s", built);
	r = sw("fsck");
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "problem: unpacked tree of slug "), "%s", r.out);
	cr_assert(strstr(r.out, " differs from its slug: 'built' is missing (gc removes it when no "
			 "instance uses it)\n"), "%s", r.out);
	th_result_free(&r);
	r = sw("gc");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, ", 1 unpacked slug and "), "%s", r.out);
	th_result_free(&r);
	cr_assert_eq(th_entries(trees), 0, "no process uses it: gone");
	r = sw("fsck");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	th_result_free(&r);
	free(built);
	free(trees);
	free(bp);
}

/* The slug checksum's hex of release version (releases:info --json). */
static char *slug_of(const char *version)
{
	struct th_result r = sw("releases:info", version, "--json", "-a", APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	const char *at = strstr(r.out, "SHA256:");
	cr_assert(at, "%s", r.out);
	char *hex = strndup(at + 7, 64);
	th_result_free(&r);
	return hex;
}

Test(sandbox, gc_keeps_the_trees_a_rollback_goes_back_to)
{
	char *bp = make_buildpack("plain", "#!/bin/sh\necho built > \"$1/built\"\n");
	free(push_with(bp, "web: ./run\nrelease: true\n"));
	for (int i = 2; i <= 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "v%d", i);
		app_sandbox_write(&sb, "version", name, 0644);
		free(ok("git", "add", "version"));
		free(ok("git", "commit", "-qm", name));
		struct th_result r = run("git", "push", "heroku", "main");
		cr_assert(strstr(r.err, "Released v"), "%s", r.err);
		th_result_free(&r);
	}
	char *trees = th_path("%s/unpacked/trees", sb.root);
	cr_assert_eq(th_entries(trees), 6, "each release command's tree and its lock file");
	struct th_result r = sw("gc");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, ", 1 unpacked slug and "), "%s", r.out);
	th_result_free(&r);
	const char *want[] = { "v1", "v2", "v3" };
	for (int i = 0; i < 3; i++) {
		char *hex = slug_of(want[i]), *tree = th_path("%s/%s", trees, hex);
		cr_assert_eq(fs_exists(tree), i > 0, "%s's tree: gc keeps current's and the one before",
			     want[i]);
		free(tree);
		free(hex);
	}
	free(trees);
	free(bp);
}

/* The push was refused with this line and recorded nothing. */
static void assert_no_release(const char *out, const char *line)
{
	cr_assert(strstr(out, line), "want '%s' in:\n%s", line, out);
	cr_assert_null(strstr(out, "Released v"), "%s", out);
	cr_assert_eq(app_sandbox_release_count(&sb), 0);
}

Test(sandbox, a_build_fails_with_the_cause_and_the_fix_when_bubblewrap_is_missing)
{
	char *bp = make_buildpack("plain", "#!/bin/sh\ntrue\n");
	app_sandbox_setenv(&sb, "SLIPWAY_BWRAP=/nonexistent/bwrap");
	char *out = push_with(bp, "web: ./run\n");
	assert_no_release(out, "remote:  !     cannot start the sandbox: bubblewrap "
			       "('/nonexistent/bwrap') is not installed (install the bubblewrap "
			       "package, or set slipway.sandbox none to run app code unsandboxed)");
	free(out);
	free(bp);
}

Test(sandbox, a_build_fails_with_the_cause_and_the_fix_when_namespaces_are_not_allowed)
{
	char *bp = make_buildpack("plain", "#!/bin/sh\ntrue\n");
	/* what bwrap says where unprivileged user namespaces are off */
	char *fake = th_path("%s/fake-bwrap", sb.dir);
	th_write(fake, "#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\n"
		       "exit 1\n", 0755);
	char *kv = th_path("SLIPWAY_BWRAP=%s", fake);
	app_sandbox_setenv(&sb, kv);
	char *out = push_with(bp, "web: ./run\n");
	assert_no_release(out, "remote:  !     cannot start the sandbox: bwrap: No permissions to "
			       "creating new namespace (allow unprivileged user namespaces: sysctl "
			       "kernel.unprivileged_userns_clone=1, or set slipway.sandbox none to "
			       "run app code unsandboxed)");
	free(out);
	free(kv);
	free(fake);
	free(bp);
}

Test(sandbox, sandbox_none_runs_unsandboxed_and_says_so)
{
	char *bp = make_buildpack("probe", probe);
	app_sandbox_setenv(&sb, "SLIPWAY_SANDBOX=none");
	char *out = push_with(bp, "web: ./run\nrelease: true\n");
	cr_assert(strstr(out, "remote:  !     Warning: slipway.sandbox is none: buildpacks and app "
			      "code run unsandboxed, as the server user"), "%s", out);
	cr_assert(strstr(out, "remote:  !     Warning: slipway.sandbox is none: the release "
			      "command runs unsandboxed, as the server user"), "%s", out);
	cr_assert_null(strstr(out, "args: /app"), "%s", out);
	cr_assert(strstr(out, "Released v1"), "%s", out);
	free(out);
	free(bp);
}

Test(sandbox, a_malformed_sandbox_setting_fails_the_push_naming_it)
{
	char *bp = make_buildpack("plain", "#!/bin/sh\ntrue\n");
	app_sandbox_setenv(&sb, "SLIPWAY_SANDBOX=off");
	char *out = push_with(bp, "web: ./run\n");
	assert_no_release(out, "remote:  !     $SLIPWAY_SANDBOX: invalid sandbox 'off': use bwrap "
			       "or none");
	free(out);
	free(bp);
}

Test(sandbox, a_file_over_the_unpacked_limit_cannot_be_written_and_a_big_slug_is_refused)
{
	char *bp = make_buildpack("writer",
		"#!/bin/sh\n"
		"head -c 2000000 /dev/zero > \"$1/big\" || echo 'write refused'\n"
		"ls -l \"$1/big\" | awk '{print \"size:\", $5}'\n");
	app_sandbox_setenv(&sb, "SLIPWAY_MAX_SLUG_UNPACKED_SIZE=1M");
	char *out = push_with(bp, "web: ./run\n");
	cr_assert(strstr(out, "remote: write refused"), "%s", out);
	cr_assert(strstr(out, "remote: size: 1048576"), "%s", out);
	free(out);
	free(bp);
}

Test(sandbox, a_slug_over_the_file_count_limit_is_refused)
{
	char *bp = make_buildpack("many",
		"#!/bin/sh\nmkdir \"$1/many\"\nfor i in $(seq 1 50); do : > \"$1/many/$i\"; done\n");
	app_sandbox_setenv(&sb, "SLIPWAY_MAX_SLUG_FILES=40");
	char *out = push_with(bp, "web: ./run\n");
	assert_no_release(out, "remote:  !     Push rejected: slug has more than the limit of 40 "
			       "files and directories");
	free(out);
	free(bp);
}

Test(sandbox, a_build_directory_that_outgrows_the_slug_limits_stops_the_build)
{
	/* 50 MB in 512 KB files, slowly: the bound is checked while it runs */
	char *bp = make_buildpack("grower",
		"#!/bin/sh\nfor i in $(seq 1 100); do head -c 524288 /dev/zero > \"$1/f$i\"; "
		"sleep 0.1; done\necho 'grower finished'\n");
	app_sandbox_setenv(&sb, "SLIPWAY_MAX_SLUG_UNPACKED_SIZE=2M");
	time_t t0 = time(NULL);
	char *out = push_with(bp, "web: ./run\n");
	assert_no_release(out, "remote:  !     the build directory holds more than 2M of files "
			       "(slipway.maxSlugUnpackedSize)");
	cr_assert_null(strstr(out, "grower finished"), "%s", out);
	cr_assert_lt(time(NULL) - t0, 9, "the build ran on past its bound");
	free(out);
	free(bp);
}

Test(sandbox, a_build_directory_with_too_many_files_stops_the_build)
{
	char *bp = make_buildpack("spawner",
		"#!/bin/sh\nfor i in $(seq 1 400); do : > \"$1/f$i\"; "
		"[ $((i % 20)) = 0 ] && sleep 0.1; done\necho 'spawner finished'\n");
	app_sandbox_setenv(&sb, "SLIPWAY_MAX_SLUG_FILES=100");
	char *out = push_with(bp, "web: ./run\n");
	assert_no_release(out, "remote:  !     the build directory holds more than 100 files and "
			       "directories (slipway.maxSlugFiles)");
	cr_assert_null(strstr(out, "spawner finished"), "%s", out);
	free(out);
	free(bp);
}
