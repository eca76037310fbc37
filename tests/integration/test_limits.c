/*
 * Limits per instance, with the runtime started (real s6, real cgroups):
 * a memory hog says Error R14 over its quota, is killed with Error R15 at
 * twice it and restarted, while the web instance keeps serving; a fork
 * bomb gets no more processes than slipway.maxProcesses (a control run
 * without the limit gets them all); server:status says whether the limits
 * are enforced; no cgroup is left once the instances have stopped.
 *
 * Where this machine gives the tests no writable cgroup, each test asserts
 * the "not enforced" message instead (and says so), never a silent pass.
 */
#define _GNU_SOURCE
#include "tests/integration/runtime_helpers.h"

#include "exec/limits.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#define APP "lim"

static struct app_sandbox sb;
static pid_t svscan = -1;

static const char server_py[] =
	"import http.server, os\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def do_GET(s):\n"
	"        s.send_response(200); s.end_headers(); s.wfile.write(b'alive\\n')\n"
	"    def log_message(s, *a): pass\n"
	"http.server.HTTPServer(('', int(os.environ['PORT'])), H).serve_forever()\n";

/* Holds 96M (over a 64M quota: R14) for 3 s, then grows to 400M (the hard limit, 128M: R15). */
static const char hog_py[] =
	"import time\n"
	"a = []\n"
	"def grow(mb):\n"
	"    while len(a) * 4 < mb:\n"
	"        a.append(b'x' * (4 << 20))\n"
	"grow(96)\n"
	"print('holding 96M', flush=True)\n"
	"time.sleep(3)\n"
	"grow(400)\n"
	"print('holding 400M', flush=True)\n"
	"time.sleep(600)\n";

/*
 * Tries to start 300 sleeping processes (bounded: never more) and says how
 * many it got; then sleeps, or (with an argument) exits, its sleeps ending
 * with its sandbox.
 */
static const char bomb_py[] =
	"import os, time\n"
	"got = 0\n"
	"for i in range(300):\n"
	"    try:\n"
	"        os.posix_spawnp('sleep', ['sleep', '600'], os.environ)\n"
	"    except OSError:\n"
	"        break\n"
	"    got += 1\n"
	"print('got %d of 300' % got, flush=True)\n"
	"if len(os.sys.argv) < 2:\n"
	"    time.sleep(600)\n";

#define sw(...) SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__)
#define ok(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

static void setup(void)
{
	rt_setup(&sb, APP, 0, server_py, NULL);
	app_sandbox_write(&sb, "hog.py", hog_py, 0644);
	app_sandbox_write(&sb, "bomb.py", bomb_py, 0644);
	app_sandbox_write(&sb, "Procfile",
			  "web: exec python3 -u server.py\n"
			  "hog: exec python3 -u hog.py\n"
			  "bomb: exec python3 -u bomb.py\n", 0644);
	free(ok("git", "add", "-A"));
	free(ok("git", "commit", "-q", "-m", "limits"));
}

static void teardown(void)
{
	rt_stop(&sb, &svscan);
	app_sandbox_release(&sb);
}

TestSuite(limits, .init = setup, .fini = teardown, .timeout = 180);

/* This process's cgroup line for controller ("" for v2's), from /proc/self/cgroup. */
static char *own_cgroup(const char *controller)
{
	char *text = NULL, *found = NULL;
	cr_assert_eq(fs_read_file("/proc/self/cgroup", 65536, &text, NULL), 0);
	for (char *l = strtok(text, "\n"); l && !found; l = strtok(NULL, "\n")) {
		char *a = strchr(l, ':'), *b = a ? strchr(a + 1, ':') : NULL;
		size_t n = strlen(controller);
		/* "4:memory:/path", "1:cpu,cpuacct:/path" (not "2:cpuacct:/path" for cpu) */
		if (b && (n ? !strncmp(a + 1, controller, n) && (a[1 + n] == ':' || a[1 + n] == ',')
			    : !strncmp(l, "0::", 3)))
			found = strdup(b + 1);
	}
	free(text);
	return found;
}

/*
 * Where the runtime started by this test puts its instances' memory
 * cgroups (it runs in this process's cgroup): looked up here on its own,
 * not through the code under test.  NULL when it may not write there.
 */
static char *memory_base(void)
{
	struct statfs fs;
	char *own, *base = NULL;
	if (statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == 0x63677270) {
		own = own_cgroup("");
		char *sub = own ? th_path("/sys/fs/cgroup%s/cgroup.subtree_control", own) : NULL;
		if (sub && access(sub, W_OK) == 0)
			base = th_path("/sys/fs/cgroup%s", strcmp(own, "/") ? own : "");
		free(sub);
	} else {
		own = own_cgroup("memory");
		if (own && access("/sys/fs/cgroup/memory", W_OK) == 0)
			base = th_path("/sys/fs/cgroup/memory%s", strcmp(own, "/") ? own : "");
		if (base && access(base, W_OK) < 0) {
			free(base);
			base = NULL;
		}
	}
	free(own);
	return base;
}

/* <memory base>/slipway-<hash of the root>[/rest] */
static char *root_group(const char *base, const char *rest)
{
	char name[32];
	limits_root_name(sb.root, name, sizeof(name));
	return th_path("%s/%s%s", base, name, rest);
}

/* The subdirectories of dir (cgroups), as "name " each; "" when there is none or no dir. */
static char *subgroups(const char *dir)
{
	struct buf b = BUF_INIT;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_type == DT_DIR && e->d_name[0] != '.')
			buf_addf(&b, "%s ", e->d_name);
	if (d)
		closedir(d);
	return buf_detach(&b);
}

static char *logs(void)
{
	struct th_result r = sw("logs", "-n", "1500", "-a", APP);
	cr_assert_eq(r.status, 0, "logs: %s", r.err);
	char *out = strdup(r.out);
	th_result_free(&r);
	return out;
}

/* Waits up to 30 s until the logs hold needle; returns them. */
static char *wait_logs(const char *needle)
{
	char *out = NULL;
	for (int i = 0; i < 300; i++) {
		free(out);
		out = logs();
		if (strstr(out, needle))
			return out;
		rt_pause_ms(100);
	}
	cr_assert_fail("the logs never showed '%s':\n%s", needle, out);
	return out;
}

/* The runtime started: it must say "not enforced" (on stderr) exactly when base is NULL. */
static void start(const char *base)
{
	struct th_result r = sw("server:start");
	cr_assert_eq(r.status, 0, "%s", r.err);
	const char *p = strstr(r.out, "(pid ");
	cr_assert(p, "%s", r.out);
	svscan = (pid_t)atoi(p + 5);
	const char *warn = " !     Limits are not enforced (memory, processes, CPU weight): ";
	if (base)
		cr_assert(!strstr(r.err, warn), "%s", r.err);
	else
		cr_assert(strstr(r.err, warn), "no writable cgroup here, and server:start did not "
			  "say the limits are not enforced:\n%s", r.err);
	th_result_free(&r);
}

/*
 * The runtime started (start()) and the memory hierarchy's base, or NULL
 * where no cgroup is writable: then start() has checked the 'not enforced'
 * message, which is all such a machine can show, and said so in the log.
 */
static char *enforced(void)
{
	char *base = memory_base();
	start(base);
	if (!base)
		cr_log_warn("no writable cgroup: only the 'not enforced' message was checked");
	return base;
}

static void git_config(const char *key, const char *value)
{
	free(ok("git", "--git-dir", sb.repo, "config", key, value));
}

Test(limits, a_memory_hog_gets_r14_then_r15_and_a_restart_while_other_apps_keep_serving)
{
	char *base = enforced();
	if (!base)
		return;
	git_config("slipway.memory", "64M");
	free(app_sandbox_push(&sb, "main"));
	int port = rt_port(&sb, 1, "web.1");
	/* another app, serving all along */
	free(ok(SLIPWAY_BIN, "apps:create", "other"));
	char *other_repo = th_path("%s/apps/other.git", sb.root);
	free(ok("git", "push", "-q", other_repo, "main"));
	free(other_repo);
	int other_port = 0;
	char *other_dir = NULL, *services = th_path("%s/services", sb.root);
	for (int i = 0; i < 100 && !other_dir; i++) {
		DIR *d = opendir(services);
		struct dirent *e;
		while (d && (e = readdir(d)))
			if (!strncmp(e->d_name, "other.v1-", 9) && strstr(e->d_name, ".web.1"))
				other_dir = th_path("%s/services/%s/port", sb.root, e->d_name);
		if (d)
			closedir(d);
		if (!other_dir)
			rt_pause_ms(100);
	}
	free(services);
	cr_assert(other_dir, "the other app's web.1 never started");
	char *text = th_read(other_dir, NULL);
	other_port = text ? atoi(text) : 0;
	free(text);
	free(other_dir);
	char *body = rt_wait_get(other_port);
	cr_assert(body && !strcmp(body, "alive\n"), "the other app does not serve");
	free(body);
	free(ok(SLIPWAY_BIN, "ps:scale", "hog=1", "-a", APP));

	char *out = wait_logs("slipway[hog.1]: Stopping process with SIGKILL\n");
	const char *r14 = strstr(out, "slipway[hog.1]: Error R14 (Memory quota exceeded)\n");
	const char *r15 = strstr(out, "slipway[hog.1]: Error R15 (Memory quota vastly exceeded)\n");
	cr_assert(r14 && r15 && r14 < r15, "R14, then R15:\n%s", out);
	cr_assert(strstr(out, "slipway[hog.1]: Process running mem="), "%s", out);
	cr_assert(strstr(out, "app[hog.1]: holding 96M\n"), "%s", out);
	cr_assert(!strstr(out, "app[hog.1]: holding 400M\n"), "it got past twice its quota:\n%s", out);
	free(out);
	out = wait_logs("slipway[hog.1]: Process exited with status 137\n");
	free(out);
	/* a crash: s6 starts it again */
	free(wait_logs("slipway[hog.1]: State changed from up to crashed\n"));
	for (int i = 0; i < 300; i++) {
		out = logs();
		const char *first = strstr(out, "slipway[hog.1]: Starting process with command");
		int again = first && strstr(first + 1, "slipway[hog.1]: Starting process with command");
		free(out);
		if (again)
			break;
		cr_assert(i < 299, "hog.1 was never started again");
		rt_pause_ms(100);
	}
	/* the other app, and the hog's own web instance, in cgroups of their own, never noticed */
	body = rt_get(other_port);
	cr_assert(body && !strcmp(body, "alive\n"), "the other app stopped serving: %s",
		  body ? body : "");
	free(body);
	body = rt_get(port);
	cr_assert(body && !strcmp(body, "alive\n"), "web.1 stopped serving: %s", body ? body : "");
	free(body);
	out = logs();
	cr_assert(!strstr(out, "slipway[web.1]: Error R1"), "%s", out);
	free(out);
	free(ok(SLIPWAY_BIN, "ps:scale", "hog=0", "-a", APP));
	free(base);
}

/* The line "got N of 300" of the bomb's latest run: N (-1 until it says). */
static int bomb_got(int after_restart)
{
	char *out = logs();
	const char *p = out, *last = NULL;
	int runs = 0;
	while ((p = strstr(p, "app[bomb.1]: got "))) {
		last = p;
		runs++;
		p++;
	}
	int n = last && runs > after_restart ? atoi(last + strlen("app[bomb.1]: got ")) : -1;
	free(out);
	return n;
}

static int wait_bomb(int after_restart)
{
	for (int i = 0; i < 300; i++) {
		int n = bomb_got(after_restart);
		if (n >= 0)
			return n;
		rt_pause_ms(100);
	}
	char *out = logs();
	cr_assert_fail("the bomb never said how many it got:\n%s", out);
	free(out);
	return -1;
}

Test(limits, a_fork_bomb_stops_at_max_processes_and_gets_all_without_the_limit)
{
	char *base = enforced();
	if (!base)
		return;
	git_config("slipway.maxProcesses", "64");
	free(app_sandbox_push(&sb, "main"));
	free(ok(SLIPWAY_BIN, "ps:scale", "bomb=1", "-a", APP));
	int got = wait_bomb(0);
	/* bwrap, the sandbox's init and python itself count too */
	cr_assert(got > 0 && got < 64, "with slipway.maxProcesses 64 the bomb got %d of 300", got);

	/* the control run: the same app without the limit gets all it asks for */
	git_config("slipway.maxProcesses", "0");
	free(ok(SLIPWAY_BIN, "ps:restart", "bomb", "-a", APP));
	got = wait_bomb(1);
	cr_assert_eq(got, 300, "without a limit the bomb got %d of 300", got);
	free(ok(SLIPWAY_BIN, "ps:scale", "bomb=0", "-a", APP));
	free(base);
}

/* How many processes the bomb of a push (its build or release command) got, from its lines. */
static int push_bomb(void)
{
	char *out = app_sandbox_push(&sb, "main");
	const char *p = strstr(out, "got ");
	cr_assert(p && strstr(out, "Released v"), "%s", out);
	int n = atoi(p + 4);
	free(out);
	return n;
}

Test(limits, the_release_command_is_held_to_max_processes_too)
{
	char *base = enforced();
	if (!base)
		return;
	app_sandbox_write(&sb, "Procfile",
			  "web: exec python3 -u server.py\n"
			  "release: exec python3 -u bomb.py once\n", 0644);
	free(ok("git", "commit", "-q", "-am", "a release command"));
	git_config("slipway.maxProcesses", "64");
	int got = push_bomb();
	cr_assert(got > 0 && got < 64, "with slipway.maxProcesses 64 the release command got %d of 300",
		  got);
	/* the control run: without the limit it gets all it asks for */
	git_config("slipway.maxProcesses", "0");
	free(ok("git", "commit", "-q", "--allow-empty", "-m", "again"));
	got = push_bomb();
	cr_assert_eq(got, 300, "without a limit the release command got %d of 300", got);
	free(base);
}

Test(limits, a_builds_buildpacks_are_held_to_max_processes_too)
{
	char *base = enforced();
	if (!base)
		return;
	char *bp = th_path("%s/bomb-buildpack", sb.dir), *p = th_path("%s/bin/detect", bp);
	th_write(p, "#!/bin/sh\necho Bomb\n", 0755);
	free(p);
	p = th_path("%s/bin/compile", bp);
	th_write(p, "#!/bin/sh\nexec python3 -u \"$1/bomb.py\" once\n", 0755);
	free(p);
	free(ok(SLIPWAY_BIN, "buildpacks:add", bp, "-a", APP));
	git_config("slipway.maxProcesses", "64");
	int got = push_bomb();
	cr_assert(got > 0 && got < 64, "with slipway.maxProcesses 64 the build got %d of 300", got);
	/* the control run: without the limit it gets all it asks for */
	git_config("slipway.maxProcesses", "0");
	free(ok("git", "commit", "-q", "--allow-empty", "-m", "again"));
	got = push_bomb();
	cr_assert_eq(got, 300, "without a limit the build got %d of 300", got);
	free(bp);
	free(base);
}

Test(limits, server_status_says_whether_they_are_enforced_and_no_cgroup_is_left_after_a_stop)
{
	char *base = memory_base();
	start(base);
	struct th_result r = sw("server:status");
	cr_assert_eq(r.status, 0, "%s", r.err);
	if (!base) {
		cr_assert(strstr(r.out, "\nLimits:     not enforced: "), "%s", r.out);
		th_result_free(&r);
		cr_log_warn("no writable cgroup: only the 'not enforced' messages were checked");
		return;
	}
	struct statfs fs;
	int v2 = statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == 0x63677270;
	cr_assert(strstr(r.out, v2 ? "\nLimits:     enforced, cgroup v2 (memory, pids"
				   : "\nLimits:     enforced, cgroup v1 (memory, pids, cpu)\n"),
		  "%s", r.out);
	th_result_free(&r);

	free(app_sandbox_push(&sb, "main"));
	/* while web.1 runs, its cgroup is where the test looks */
	char *app_dir = root_group(base, "/" APP);
	char *first = subgroups(app_dir);
	cr_assert(!strncmp(first, "v1.web.1.", 9) && strchr(first, ' ') == first + strlen(first) - 1,
		  "%s holds '%s'", app_dir, first);

	/* CPU: the app's level weighs as much as every other app's, its instances below it */
	if (!v2) {
		char *own = own_cgroup("cpu"), name[32];
		cr_assert(own);
		limits_root_name(sb.root, name, sizeof(name));
		char *shares = th_path("/sys/fs/cgroup/cpu%s/%s/" APP "/cpu.shares",
				       strcmp(own, "/") ? own : "", name);
		char *text = th_read(shares, NULL);
		cr_assert(text && !strcmp(text, "1024\n"), "%s: %s", shares, text ? text : "none");
		char *cpu_app = th_path("/sys/fs/cgroup/cpu%s/%s/" APP, strcmp(own, "/") ? own : "",
					name);
		char *cpu_list = subgroups(cpu_app);
		cr_assert_str_eq(cpu_list, first);
		free(cpu_list);
		free(cpu_app);
		free(text);
		free(shares);
		free(own);
	}

	/*
	 * an instance's supervisor killed outright removes nothing: the next
	 * start of the app's instances does (its name ends in that supervisor's pid)
	 */
	pid_t supervisor = (pid_t)atoi(strrchr(app_sandbox_chomp(first), '.') + 1);
	cr_assert_eq(kill(supervisor, SIGKILL), 0);
	char *list = NULL;
	for (int i = 0; i < 100; i++) {
		free(list);
		list = subgroups(app_dir);
		if (*list && strcmp(list, first) && strchr(list, ' ') == list + strlen(list) - 1)
			break;
		rt_pause_ms(100);
	}
	cr_assert(!strncmp(list, "v1.web.1.", 9) && strchr(list, ' ') == list + strlen(list) - 1 &&
		  strcmp(list, first), "%s holds '%s' (the killed one's: '%s')", app_dir, list,
		  first);
	free(list);
	free(first);

	rt_stop(&sb, &svscan);
	char *top = root_group(base, "");
	for (int i = 0; i < 50 && fs_exists(top); i++)
		rt_pause_ms(100);
	cr_assert(!fs_exists(top), "%s is left after server:stop, holding '%s'", top,
		  subgroups(top));
	free(top);
	free(app_dir);
	free(base);
}

/*
 * The memory cgroup's memory.limit_in_bytes (v1) or memory.max (v2) of the
 * app's one instance.
 */
static char *hard_limit(const char *base)
{
	char *app_dir = root_group(base, "/" APP), *list = subgroups(app_dir);
	/* the instance a restart replaced leaves once it has stopped */
	for (int i = 0; i < 100 && !(*list && strchr(list, ' ') == list + strlen(list) - 1); i++) {
		rt_pause_ms(100);
		free(list);
		list = subgroups(app_dir);
	}
	cr_assert(*list && strchr(list, ' ') == list + strlen(list) - 1, "%s holds '%s'", app_dir,
		  list);
	app_sandbox_chomp(list);
	list[strlen(list) - 1] = '\0';
	char *dir = th_path("%s/%s", app_dir, list);
	char *v1 = th_path("%s/memory.limit_in_bytes", dir), *v2 = th_path("%s/memory.max", dir);
	char *text = th_read(fs_exists(v1) ? v1 : v2, NULL);
	cr_assert(text, "%s has no memory limit", dir);
	free(v1);
	free(v2);
	free(dir);
	free(list);
	free(app_dir);
	return app_sandbox_chomp(text);
}

Test(limits, ps_resize_restarts_the_type_at_its_new_size_without_a_release)
{
	char *base = memory_base();
	start(base);
	free(app_sandbox_push(&sb, "main"));
	struct th_result r = sw("ps:resize", "-a", APP);
	cr_assert_str_eq(r.out, "bomb=512M\nhog=512M\nweb=512M\n");
	th_result_free(&r);
	if (base) {
		char *limit = hard_limit(base);
		cr_assert_str_eq(limit, "1073741824"); /* twice 512M */
		free(limit);
	}

	/* refusals: a clear error, nothing changed */
	app_sandbox_refused(sw("ps:resize", "web=huge", "-a", APP), 1,
			    " !    invalid size 'huge': use standard-1x, standard-2x, performance-m, "
			    "performance-l\n");
	app_sandbox_refused(sw("ps:resize", "web=standard-2x", "nosuch=standard-2x", "-a", APP), 1,
			    " !    no such process type 'nosuch' in release v1\n");
	r = sw("ps:resize", "-a", APP);
	cr_assert_str_eq(r.out, "bomb=512M\nhog=512M\nweb=512M\n");
	th_result_free(&r);

	r = sw("ps:resize", "web=Standard-2X", "-a", APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Resizing and restarting the specified processes of " APP "... done\n");
	th_result_free(&r);
	r = sw("ps:resize", "-a", APP);
	cr_assert_str_eq(r.out, "bomb=512M\nhog=512M\nweb=standard-2x\n");
	th_result_free(&r);
	r = sw("ps", "-a", APP);
	cr_assert(strstr(r.out, "=== web (1, standard-2x): exec python3 -u server.py\nweb.1: up "),
		  "%s", r.out);
	th_result_free(&r);
	cr_assert_eq(app_sandbox_release_count(&sb), 1, "ps:resize made a release");
	free(rt_wait_get(rt_port(&sb, 1, "web.1")));
	if (base) {
		char *limit = hard_limit(base);
		cr_assert_str_eq(limit, "2147483648"); /* twice standard-2x's 1G */
		free(limit);
	}
	free(base);
}

/* How many processes have exactly argv "sleep" "4242" (the stray's daemon). */
static int strays(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d))) {
		if (atoi(e->d_name) <= 0)
			continue;
		char *path = th_path("/proc/%s/cmdline", e->d_name);
		size_t len = 0;
		char *argv = th_read(path, &len);
		n += argv && len == sizeof("sleep\0" "4242") && !memcmp(argv, "sleep\0" "4242", len);
		free(argv);
		free(path);
	}
	if (d)
		closedir(d);
	return n;
}

Test(limits, a_daemon_started_outside_the_sandbox_ends_with_its_instance)
{
	char *base = enforced();
	if (!base)
		return;
	/* without the sandbox no PID namespace ends everything: its cgroup does */
	git_config("slipway.sandbox", "none");
	app_sandbox_write(&sb, "Procfile", "web: exec python3 -u server.py\n"
			  "stray: setsid sleep 4242 & exec sleep 600\n", 0644);
	free(ok("git", "commit", "-qam", "a stray"));
	free(app_sandbox_push(&sb, "main"));
	free(ok(SLIPWAY_BIN, "ps:scale", "stray=1", "-a", APP));
	for (int i = 0; i < 100 && !strays(); i++)
		rt_pause_ms(100);
	cr_assert_eq(strays(), 1, "the stray's daemon never started");
	free(ok(SLIPWAY_BIN, "ps:scale", "stray=0", "-a", APP));
	for (int i = 0; i < 100 && strays(); i++)
		rt_pause_ms(100);
	cr_assert_eq(strays(), 0, "the stray's daemon outlived its instance");
	free(base);
}

Test(limits, a_one_off_is_held_to_the_apps_memory_or_its_own_size)
{
	char *base = enforced();
	if (!base)
		return;
	git_config("slipway.memory", "64M");
	free(app_sandbox_push(&sb, "main"));
	/* 200M: over twice the quota, the kernel's OOM killer ends it */
	const char *hog = "python3 -c \"a = b'x' * (200 << 20); print('got 200M')\"";
	struct th_result r = sw("run", "-a", APP, hog);
	cr_assert_eq(r.status, 137, "exit %d: %s%s", r.status, r.out, r.err);
	cr_assert(!strstr(r.out, "got 200M"), "%s", r.out);
	th_result_free(&r);
	/* a bigger size for this one-off alone (standard-2x: 1G) */
	r = sw("run", "--size", "standard-2x", "-a", APP, hog);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_assert_str_eq(r.out, "got 200M\n");
	th_result_free(&r);
	r = sw("run", "-s", "Performance-M", "-a", APP, hog);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	th_result_free(&r);
	/* the control: without the limit it gets them */
	git_config("slipway.memory", "0");
	r = sw("run", "-a", APP, hog);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_assert_str_eq(r.out, "got 200M\n");
	th_result_free(&r);
	free(base);
}
