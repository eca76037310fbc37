/*
 * The runtime's supervision tree, with the real s6: server:start starts it
 * once whatever is asked, server:status says what runs, a service
 * directory in it is kept running, server:stop brings it all down, and a
 * tree killed with SIGKILL is started again.  Processes are found by the
 * pids Slipway reports, never by name.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include "util/fsutil.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct app_sandbox sb;
static pid_t started[8];
static int nstarted;

static void setup(void)
{
	if (access("/usr/bin/s6-svscan", X_OK))
		cr_skip_test("s6 is needed (run scripts/deps)");
	app_sandbox_init(&sb, "app", 0);
}

static void teardown(void)
{
	/* never leave a tree behind, whatever failed */
	for (int i = 0; i < nstarted; i++)
		if (started[i] > 0)
			kill(started[i], SIGKILL);
	nstarted = 0;
	app_sandbox_release(&sb);
}

TestSuite(server, .init = setup, .fini = teardown, .timeout = 120);

#define sw(...) SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__)
/* slipway with one more variable in its environment */
#define sw_env(kv, ...) SANDBOX_RUN(&sb, NULL, "env", kv, SLIPWAY_BIN, __VA_ARGS__)
/* slipway as the unprivileged user nobody */
#define as_nobody(...) SANDBOX_RUN(&sb, NULL, "setpriv", "--reuid=65534", "--regid=65534", \
				   "--clear-groups", SLIPWAY_BIN, __VA_ARGS__)

/* The pid in "... s6-svscan (pid N)" of out, which must have one. */
static pid_t pid_in(const char *out)
{
	const char *p = strstr(out, "(pid ");
	cr_assert(p, "no pid in: %s", out);
	pid_t pid = (pid_t)atoi(p + 5);
	cr_assert_gt(pid, 0, "%s", out);
	return pid;
}

static pid_t start(void)
{
	struct th_result r = sw("server:start");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	pid_t pid = pid_in(r.out);
	started[nstarted++] = pid;
	th_result_free(&r);
	return pid;
}

static int alive(pid_t pid)
{
	return kill(pid, 0) == 0;
}

/* Waits up to 10 s for cond(arg) to hold. */
static int eventually(int (*cond)(const void *), const void *arg)
{
	for (int i = 0; i < 200; i++) {
		if (cond(arg))
			return 1;
		nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	return 0;
}

static int file_has(const void *arg)
{
	char *s = th_read(arg, NULL);
	int ok = s && strstr(s, "tick");
	free(s);
	return ok;
}

static int dead(const void *arg)
{
	return !alive(*(const pid_t *)arg);
}

Test(server, start_is_idempotent_status_tells_and_stop_stops)
{
	struct th_result r = sw("server:status");
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "Supervisor: not running (start it with: slipway server:start)\n"),
		  "%s", r.out);
	th_result_free(&r);

	pid_t pid = start();
	cr_assert(alive(pid));
	r = sw("server:start");
	cr_assert_eq(r.status, 0, "%s", r.err);
	char *again = th_path("The runtime of %s is already running: s6-svscan (pid %d)\n"
			      "Router: nginx on 127.0.0.1:%d, apps at http://APP.localhost:%d/\n",
			      sb.root, (int)pid, sb.http_port, sb.http_port);
	cr_assert_str_eq(r.out, again);
	free(again);
	th_result_free(&r);

	r = sw("server:status", "--json");
	/* two services: the router and the dashboard; then the limits and the network */
	char *want = th_path("{\"running\":true,\"pid\":%d,\"services\":2,\"outside\":0,"
			     "\"router\":\"running\",\"limits\":{", (int)pid);
	cr_assert(!strncmp(r.out, want, strlen(want)), "%s", r.out);
	free(want);
	th_result_free(&r);

	r = sw("server:stop");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "... done\n"), "%s", r.out);
	th_result_free(&r);
	cr_assert(eventually(dead, &pid), "s6-svscan %d still runs after server:stop", (int)pid);
	r = sw("server:stop");
	char *not = th_path("The runtime of %s is not running\n", sb.root);
	cr_assert_str_eq(r.out, not);
	free(not);
	th_result_free(&r);
}

Test(server, a_service_in_the_tree_is_kept_running_and_stopped_with_it)
{
	pid_t pid = start();
	/* a service directory as the runtime will write them */
	char *out = th_path("%s/ticks", sb.dir);
	char *run = th_path("%s/services/probe/run", sb.root);
	char *script = th_path("#!/bin/sh\nwhile :; do echo tick >> '%s'; sleep 0.1; done\n", out);
	th_write(run, script, 0755);
	char *scandir = th_path("%s/services", sb.root);
	struct th_result r = SANDBOX_RUN(&sb, NULL, "s6-svscanctl", "-a", scandir);
	free(scandir);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	cr_assert(eventually(file_has, out), "the service never ran");
	r = sw("server:status");
	cr_assert(strstr(r.out, "Services:   3\n"), "%s", r.out); /* it, the router and the dashboard */
	cr_assert(strstr(r.out, "Router:     running, nginx on 127.0.0.1:"), "%s", r.out);
	th_result_free(&r);

	r = sw("server:stop");
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	cr_assert(eventually(dead, &pid));
	/* the service stopped with the tree: the file stops growing */
	char *a = th_read(out, NULL);
	nanosleep(&(struct timespec){ 0, 400 * 1000 * 1000 }, NULL);
	char *b = th_read(out, NULL);
	cr_assert_str_eq(a, b, "the service still runs after server:stop");
	free(a);
	free(b);
	free(script);
	free(run);
	free(out);
}

Test(server, a_tree_killed_with_sigkill_is_started_again)
{
	pid_t pid = start();
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert(eventually(dead, &pid));
	struct th_result r = sw("server:status");
	cr_assert(strstr(r.out, "Supervisor: not running"), "%s", r.out);
	th_result_free(&r);
	pid_t again = start();
	cr_assert_neq(again, pid);
	cr_assert(alive(again));
	r = sw("server:stop");
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
}

Test(server, server_start_takes_no_arguments_and_a_refusal_changes_nothing)
{
	struct th_result r = sw("server:start", "now");
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "too many arguments for server:start"), "%s", r.err);
	th_result_free(&r);
	char *scandir = th_path("%s/services", sb.root);
	cr_assert_not(fs_exists(scandir), "a refused start made %s", scandir);
	free(scandir);
}

#define NOBODY 65534
#define TUN "/dev/net/tun"

/* Whether uid (root, or nobody) can open the machine's tap device read-write, as pasta does. */
static int opens_tun(uid_t uid)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (uid != geteuid() && (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0))
			_exit(2);
		_exit(open(TUN, O_RDWR) >= 0 ? 0 : 1);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) < 2);
	return WEXITSTATUS(st) == 0;
}

/* Why user (named name) may not open the device, as Slipway says it (mode and fix). */
static char *tun_refused(const char *name)
{
	struct stat st;
	cr_assert_eq(stat(TUN, &st), 0);
	return th_path(TUN " is not usable by %s (mode %04o; chmod 0666 " TUN ", Debian's default, "
		       "or set slipway.appNetwork host)", name, (unsigned)(st.st_mode & 07777));
}

/* What server:status says of the network for user (named name), who opens the device or not. */
static char *network_line(const char *name, int opens)
{
	if (opens)
		return strdup("\nNetwork:    own namespace per instance (pasta)\n");
	char *why = tun_refused(name);
	char *line = th_path("\nNetwork:    unusable (app processes cannot start): %s\n", why);
	free(why);
	return line;
}

/* Chowns every file under path (a sandbox the test made) to uid. */
static void chown_tree(const char *path, uid_t uid)
{
	char *owner = th_path("%d:%d", (int)uid, (int)uid);
	struct th_result r = th_runv(NULL, NULL, "chown", "-R", owner, path, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	free(owner);
}

Test(server, status_says_whether_apps_get_a_network_of_their_own)
{
	if (access("/usr/bin/pasta", X_OK) || access(TUN, F_OK))
		cr_skip_test("pasta and " TUN " are needed (run scripts/deps)");
	struct passwd *pw = getpwuid(geteuid());
	cr_assert(pw);
	int opens = opens_tun(geteuid());
	char *line = network_line(pw->pw_name, opens);
	struct th_result r = sw("server:status");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, line), "%s", r.out);
	th_result_free(&r);
	free(line);
	r = sw("server:status", "--json");
	cr_assert(strstr(r.out, "\"limits\":{\"enforced\":"), "%s", r.out);
	if (opens)
		cr_assert(strstr(r.out, ",\"network\":{\"mode\":\"private\",\"detail\":\"own namespace "
				  "per instance (pasta)\"}}\n"), "%s", r.out);
	th_result_free(&r);
	/* the operator's opt-out says so */
	r = sw_env("SLIPWAY_APP_NETWORK=host", "server:status", "--json");
	cr_assert(strstr(r.out, ",\"network\":{\"mode\":\"host\",\"detail\":\"the host's "
			  "(slipway.appNetwork host): apps reach each other's ports and the host's "
			  "loopback services\"}}\n"), "%s", r.out);
	th_result_free(&r);
	if (geteuid() != 0) {
		cr_log_warn("not root: the server user's network was checked as this user only");
		return;
	}

	/*
	 * the runtime of an unprivileged server user: whether it may open the
	 * machine's device is what it is told (where it may not - this
	 * machine's 0600 - server:start warns and server:status says why)
	 */
	opens = opens_tun(NOBODY);
	pw = getpwuid(NOBODY);
	cr_assert(pw);
	line = network_line(pw->pw_name, opens);
	char *why = tun_refused(pw->pw_name);
	char *warn = th_path(" !     App processes cannot start in a network of their own "
			     "(slipway.appNetwork private): %s\n", why);
	chown_tree(sb.dir, NOBODY);
	r = as_nobody("server:start");
	cr_assert_eq(r.status, 0, "%s", r.err);
	started[nstarted++] = pid_in(r.out);
	cr_assert(opens ? !strstr(r.err, "App processes cannot start") : !!strstr(r.err, warn),
		  "%s", r.err);
	th_result_free(&r);
	r = as_nobody("server:status");
	cr_assert(strstr(r.out, line), "%s", r.out);
	th_result_free(&r);
	r = as_nobody("server:stop");
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	free(warn);
	free(why);
	free(line);
}

/* A key line an earlier version wrote (no pty) gets one at server:start; other lines stay. */
Test(server, start_brings_key_lines_of_an_earlier_version_up_to_date)
{
	const char *blob = "AAAAC3NzaC1lZDI1NTE5AAAAIE1tEcUHHgGT3u4CuixaNOmKqGJhrRG8ESBgpE7kygmS";
	char *ssh = th_path("%s/.ssh", sb.dir), *file = th_path("%s/authorized_keys", ssh);
	char *old = th_path("ssh-ed25519 %s mine@laptop\nrestrict,command=\"%s --root %s shell bob\" "
			    "ssh-ed25519 %s bob@desk\n", blob, SLIPWAY_BIN, sb.root, blob);
	cr_assert_eq(mkdir(ssh, 0700), 0);
	th_write(file, old, 0600);
	struct th_result r = sw("server:start");
	cr_assert_eq(r.status, 0, "%s", r.err);
	started[nstarted++] = pid_in(r.out);
	char *want = th_path("Updated the options of the keys in %s (a terminal for run)\n", file);
	cr_assert(strstr(r.out, want), "%s", r.out);
	th_result_free(&r);
	char *now = th_read(file, NULL);
	char *line = th_path("ssh-ed25519 %s mine@laptop\nrestrict,pty,command=\"%s --root %s shell "
			     "bob\" ssh-ed25519 %s bob@desk\n", blob, SLIPWAY_BIN, sb.root, blob);
	cr_assert_str_eq(now, line, "only slipway's line changed");
	/* once is enough: the next start says nothing of it */
	r = sw("server:start");
	cr_assert_null(strstr(r.out, "Updated the options"), "%s", r.out);
	th_result_free(&r);
	free(now);
	free(line);
	free(want);
	free(old);
	free(file);
	free(ssh);
}
