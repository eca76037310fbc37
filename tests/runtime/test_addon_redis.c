/*
 * runtime/addon (Redis): a real redis-server per add-on, supervised by the
 * root's real s6 tree, run as an unprivileged user as on a real server
 * (when the tests run as root, each test becomes SLIPWAY_TEST_USER, by
 * default "nobody", before it does anything).
 *
 * addon_redis: created, it is ready and redis-cli over its unix socket as
 * the app's user sets and gets a key; a wrong password is refused, and so
 * is no login at all (the right one, the control, works); its URL reaches
 * it over TCP; kill -9 of the server: s6 starts it again and the key is
 * still there (appendonly); stopping it is Redis's own clean shutdown and
 * does not wait for a blocked client; data of an older version is run
 * (its version raised), data a newer version ran is refused: the service
 * logs one line and stays down; destroying the add-on removes its
 * service, data, log and record; once past its maxmemory it refuses
 * writes and evicts nothing.
 */
#define _GNU_SOURCE
#include "tests/addon_helpers.h"

#include "runtime/addon.h"
#include "runtime/supervisor.h"
#include "store/addons.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *sandbox, *root;

static void setup(void)
{
	root = ah_start(&sandbox);
}

static void teardown(void)
{
	ah_stop(root, sandbox);
}

TestSuite(addon_redis, .init = setup, .fini = teardown, .timeout = 240);

static struct addon create(void)
{
	return ah_create(root, "redis");
}

static struct addon_credentials credentials(const struct addon *a)
{
	return ah_credentials(root, a);
}

/* redis-cli running one command as user with password (NULL: the app's), or without login. */
static struct th_result cli(const struct addon *a, const char *user, const char *password,
			    const char *cmd, const char *arg1, const char *arg2, const char *arg3)
{
	const char *argv[] = { cmd, arg1, arg2, arg3, NULL };
	return ah_redis_cli(root, a, user, password, argv);
}

/* The reply to one command as the app's user (redis-cli must succeed). */
static char *reply3(const struct addon *a, const char *cmd, const char *arg1, const char *arg2,
		    const char *arg3)
{
	struct addon_credentials c = credentials(a);
	struct th_result r = cli(a, c.user, NULL, cmd, arg1, arg2, arg3);
	cr_assert_eq(r.status, 0, "redis-cli: %s", r.err);
	char *out = th_keep(xstrdup(r.out));
	th_result_free(&r);
	return out;
}

static char *reply(const struct addon *a, const char *cmd, const char *arg1, const char *arg2)
{
	return reply3(a, cmd, arg1, arg2, NULL);
}

Test(addon_redis, serves_its_app_survives_kill_and_stops_cleanly)
{
	struct addon a = create();
	cr_assert_eq(strncmp(a.name, "redis-", 6), 0, "%s", a.name);
	struct service_state st = ah_state(root, &a);
	cr_assert(st.up && st.pid > 0);

	cr_assert_str_eq(reply(&a, "SET", "greeting", "hello"), "OK\n");
	cr_assert_str_eq(reply(&a, "GET", "greeting", NULL), "hello\n");
	/* a wrong password is refused, and so is no login; the right one (above) is the control */
	struct addon_credentials c = credentials(&a);
	struct th_result r = cli(&a, c.user, "wrong", "GET", "greeting", NULL, NULL);
	cr_assert(strstr(r.err, "WRONGPASS"), "%s", r.err);
	cr_assert(strstr(r.out, "NOAUTH") && !strstr(r.out, "hello"), "%s", r.out);
	th_result_free(&r);
	r = cli(&a, NULL, NULL, "GET", "greeting", NULL, NULL);
	cr_assert(strstr(r.out, "NOAUTH") && !strstr(r.out, "hello"), "%s", r.out);
	th_result_free(&r);

	/* its URL, over TCP: what an app's REDIS_URL connects with */
	const struct addon_kind *k = addon_kind_find("redis");
	cr_assert(k && k->url);
	cr_assert_str_eq(k->alias, "REDIS");
	char *url = k->url(&a, &c, "REDIS");
	char *want = th_path("redis://%s:%s@127.0.0.1:%d/0", c.user, c.password, a.port);
	cr_assert_str_eq(url, want);
	r = th_runv(NULL, NULL, "redis-cli", "--no-auth-warning", "-u", url, "GET", "greeting", NULL);
	cr_assert_str_eq(r.out, "hello\n", "%s", r.err);
	th_result_free(&r);
	free(want);
	free(url);

	/* kill -9 of the server: s6 starts a new one, and it says when it is ready */
	cr_assert_eq(kill((pid_t)st.pid, SIGKILL), 0);
	ah_wait_restarted(root, &a, st.pid);
	cr_assert_str_eq(reply(&a, "GET", "greeting", NULL), "hello\n");

	/* a client blocked for 600 s: the server stops without waiting for it */
	pid_t client = fork();
	cr_assert_geq(client, 0);
	if (client == 0) {
		struct th_result b = cli(&a, c.user, NULL, "BLPOP", "queue", "600", NULL);
		_exit(strstr(b.out, "queue") ? 0 : 3);
	}
	char *n = reply(&a, "CLIENT", "LIST", NULL);
	for (int i = 0; i < 600 && !strstr(n, "cmd=blpop"); i++) {
		ah_sleep_ms(100);
		n = reply(&a, "CLIENT", "LIST", NULL);
	}
	cr_assert(strstr(n, "cmd=blpop"), "the client never blocked: %s", n);
	char *service = addon_service_name(a.name);
	cr_assert_eq(supervisor_service_down(root, service, 60), 0, "%s", sw_error_last());
	int status = 0;
	cr_assert_eq(waitpid(client, &status, 0), client);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3, "the client was not disconnected");
	/* SIGTERM is Redis's own shutdown: the append-only file synced, then a clean exit */
	const char *bye = "Redis is now ready to exit";
	char *log = ah_log_with(root, &a, bye);
	cr_assert(strstr(log, "Calling fsync() on the AOF file") && strstr(log, bye), "%s", log);

	/* data of an older version: run, its version raised to the installed one */
	int major = 0;
	cr_assert_eq(k->installed(&major), 0, "%s", sw_error_last());
	char *version = paths_addon_file(root, a.name, "data/REDIS_VERSION");
	char *older = th_path("%d\n", major - 1), *mine = th_path("%d\n", major);
	th_write(version, older, 0600);
	cr_assert_eq(addon_check(root, &a), 0, "%s", sw_error_last());
	cr_assert_eq(supervisor_service_up(root, service), 0, "%s", sw_error_last());
	cr_assert_eq(addon_wait_ready(root, &a, 60), 0, "%s", sw_error_last());
	cr_assert_str_eq(reply(&a, "GET", "greeting", NULL), "hello\n");
	char *raised = th_read(version, NULL);
	cr_assert_str_eq(raised, mine);
	free(raised);
	free(mine);
	free(older);
	free(version);
	free(service);
}

Test(addon_redis, newer_data_stays_down_and_destroy_removes_all)
{
	struct addon a = create();
	char *service = addon_service_name(a.name);
	cr_assert_eq(supervisor_service_down(root, service, 60), 0, "%s", sw_error_last());
	char *version = paths_addon_file(root, a.name, "data/REDIS_VERSION");
	th_write(version, "99\n", 0600);
	free(version);
	cr_assert_eq(addon_check(root, &a), SW_EINVALID);
	char *msg = th_keep(th_path("%s", sw_error_last())), *line = th_path("%s\n", msg);
	cr_assert(strstr(line, "refuses to start: its data was run by Redis 99, the installed server "
			       "is Redis "),
		  "%s", line);

	cr_assert_eq(supervisor_service_up(root, service), 0, "%s", sw_error_last());
	struct service_state st = ah_state(root, &a);
	char *log = ah_log_with(root, &a, line);
	for (int i = 0; i < 600 && (st.up || st.wanted_up); i++) {
		ah_sleep_ms(100);
		st = ah_state(root, &a);
	}
	cr_assert(strstr(log, line), "the log does not say why: %s", log);
	cr_assert(!st.up && !st.wanted_up, "s6 would start it again");
	/* said once: s6 did not start it again */
	log = ah_log_with(root, &a, line);
	cr_assert_eq(th_count(log, msg), 1, "%s", log);
	cr_assert_neq(addon_wait_ready(root, &a, 1), 0);

	/* destroyed: no service, no data, no log, no record */
	char *dir = paths_addon_dir(root, a.name), *logs = paths_addon_logs(root, a.name);
	cr_assert_eq(addon_destroy(root, a.name), 0, "%s", sw_error_last());
	cr_assert_not(supervisor_service_exists(root, service));
	cr_assert_neq(access(dir, F_OK), 0, "%s is left", dir);
	cr_assert_neq(access(logs, F_OK), 0, "%s is left", logs);
	struct addon gone;
	cr_assert_eq(addon_read(root, a.name, &gone), SW_ENOTFOUND);
	struct strvec names = STRVEC_INIT;
	cr_assert_eq(addons_list(root, &names), 0);
	cr_assert_eq(names.n, 0);
	strvec_clear(&names);
	free(logs);
	free(dir);
	free(line);
	free(service);
}

/* maxmemory 64mb, noeviction: once full, writes are refused and nothing is evicted */
Test(addon_redis, full_refuses_writes_and_evicts_nothing)
{
	struct addon a = create();
	cr_assert_str_eq(reply(&a, "SET", "greeting", "hello"), "OK\n");
	/* one command makes a 64 MB string: it runs, and the server is then over its limit */
	cr_assert_str_eq(reply3(&a, "SETRANGE", "big", "67108864", "x"), "67108865\n");
	char *refused = reply(&a, "SET", "more", "data");
	cr_assert(strstr(refused, "OOM command not allowed"), "%s", refused);
	cr_assert_str_eq(reply(&a, "GET", "greeting", NULL), "hello\n");
	cr_assert_str_eq(reply(&a, "EXISTS", "more", NULL), "0\n");
}
