/*
 * runtime/addon (PostgreSQL): a real server per add-on, supervised by the
 * root's real s6 tree, run as an unprivileged user as on a real server
 * (when the tests run as root, each test becomes SLIPWAY_TEST_USER, by
 * default "nobody", before it does anything).
 *
 * addon_pg: created, it is ready and the app's login over its unix socket
 * writes and reads a row; a wrong password is refused (the right one, the
 * control, works); kill -9 of the postmaster: s6 starts it again and the
 * row is still there; stopping it does not wait for a connected client
 * (SIGINT, fast shutdown: a smart shutdown would wait for the client's
 * 600-second query); a data directory of another major version: the
 * service logs one line and stays down; destroying the add-on removes its
 * service, data and log; a tree restarted without the add-on's service
 * gets it back (server:start's step), and what a killed create left (a
 * service, a directory without a record) goes; a port range inside
 * slipway.portRange is refused with nothing left, and so is one with no
 * free port.
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

TestSuite(addon_pg, .init = setup, .fini = teardown, .timeout = 240);

static struct addon create(void)
{
	return ah_create(root, "postgresql");
}

static struct th_result psql(const struct addon *a, const char *password, const char *sql)
{
	return ah_psql(root, a, password, sql);
}

static char *select_one(const struct addon *a, const char *sql)
{
	return ah_select_one(root, a, sql);
}

Test(addon_pg, serves_its_app_survives_kill_and_stops_fast)
{
	struct addon a = create();
	cr_assert_eq(strncmp(a.name, "postgresql-", 11), 0, "%s", a.name);
	struct service_state st = ah_state(root, &a);
	cr_assert(st.up && st.pid > 0);

	cr_assert_str_eq(select_one(&a, "CREATE TABLE t (x text); INSERT INTO t VALUES ('hello'); "
					"SELECT x FROM t"),
			 "hello\n");
	/* a wrong password is refused; the right one (above) is the control */
	struct th_result r = psql(&a, "wrong", "SELECT 1");
	cr_assert_neq(r.status, 0);
	cr_assert(strstr(r.err, "password authentication failed"), "%s", r.err);
	th_result_free(&r);

	/* kill -9 of the postmaster: s6 starts a new one, and it says when it is ready */
	cr_assert_eq(kill((pid_t)st.pid, SIGKILL), 0);
	ah_wait_restarted(root, &a, st.pid);
	cr_assert_str_eq(select_one(&a, "SELECT x FROM t"), "hello\n");

	/* a client in a long query: the server stops without waiting for it */
	pid_t client = fork();
	cr_assert_geq(client, 0);
	if (client == 0) {
		struct th_result c = psql(&a, NULL, "SELECT pg_sleep(600)");
		_exit(c.status == 0 ? 0 : 3);
	}
	const char *q = "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(600)'";
	char *n = select_one(&a, q);
	for (int i = 0; i < 600 && strcmp(n, "1\n"); i++) {
		ah_sleep_ms(100);
		n = select_one(&a, q);
	}
	cr_assert_str_eq(n, "1\n", "the client's query never ran");
	char *service = addon_service_name(a.name);
	cr_assert_eq(supervisor_service_down(root, service, 60), 0, "%s", sw_error_last());
	int status = 0;
	cr_assert_eq(waitpid(client, &status, 0), client);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3, "the client's query was not ended");

	/* up again: the row is there */
	cr_assert_eq(supervisor_service_up(root, service), 0, "%s", sw_error_last());
	cr_assert_eq(addon_wait_ready(root, &a, 60), 0, "%s", sw_error_last());
	cr_assert_str_eq(select_one(&a, "SELECT x FROM t"), "hello\n");
	free(service);
}

Test(addon_pg, other_major_version_stays_down_and_destroy_removes_all)
{
	struct addon a = create();
	char *service = addon_service_name(a.name);
	cr_assert_eq(supervisor_service_down(root, service, 60), 0, "%s", sw_error_last());
	char *version = paths_addon_file(root, a.name, "data/PG_VERSION");
	th_write(version, "14\n", 0600);
	free(version);
	cr_assert_eq(addon_check(root, &a), SW_EINVALID);
	char *msg = th_keep(th_path("%s", sw_error_last())), *line = th_path("%s\n", msg);
	cr_assert(strstr(line, "its data is of PostgreSQL 14, the installed server is PostgreSQL"),
		  "%s", line);

	cr_assert_eq(supervisor_service_up(root, service), 0, "%s", sw_error_last());
	char *logs = paths_addon_logs(root, a.name), *current = th_path("%s/current", logs);
	char *log = NULL;
	struct service_state st = ah_state(root, &a);
	for (int i = 0; i < 600; i++) {
		free(log);
		log = th_read(current, NULL);
		st = ah_state(root, &a);
		if (log && strstr(log, line) && !st.up && !st.wanted_up)
			break;
		ah_sleep_ms(100);
	}
	cr_assert(log && strstr(log, line), "the log does not say why: %s", log ? log : "(none)");
	cr_assert(!st.up && !st.wanted_up, "s6 would start it again");
	/* said once: s6 did not start it again */
	cr_assert_eq(th_count(log, msg), 1, "%s", log);
	cr_assert_neq(addon_wait_ready(root, &a, 1), 0);
	free(log);

	/* destroyed: no service, no data, no log, no record */
	char *dir = paths_addon_dir(root, a.name);
	cr_assert_eq(addon_destroy(root, a.name), 0, "%s", sw_error_last());
	cr_assert_not(supervisor_service_exists(root, service));
	cr_assert_not(th_entries(dir) || access(dir, F_OK) == 0, "%s is left", dir);
	cr_assert_neq(access(logs, F_OK), 0, "%s is left", logs);
	struct addon gone;
	cr_assert_eq(addon_read(root, a.name, &gone), SW_ENOTFOUND);
	struct strvec names = STRVEC_INIT;
	cr_assert_eq(addons_list(root, &names), 0);
	cr_assert_eq(names.n, 0);
	strvec_clear(&names);
	free(dir);
	free(current);
	free(logs);
	free(line);
	free(service);
}

/*
 * server:start's step (cli/cmd_server.c): a tree started on a scan
 * directory without the add-on's service gets it back; a service or a
 * directory of an add-on without a record (a killed create's) goes.
 */
Test(addon_pg, restored_after_a_restart)
{
	struct addon a = create();
	cr_assert_str_eq(select_one(&a, "CREATE TABLE t (x text); INSERT INTO t VALUES ('kept'); "
					"SELECT x FROM t"),
			 "kept\n");
	cr_assert_eq(supervisor_stop(root, 30), 0, "%s", sw_error_last());
	char *service = addon_service_name(a.name);
	cr_assert_eq(supervisor_service_move_aside(root, service), 0);
	struct service_desc half = { .name = "addon.postgresql-half-1", .run = "exec sleep 1000\n" };
	cr_assert_eq(supervisor_service_write(root, &half), 0, "%s", sw_error_last());
	char *half_dir = paths_addon_dir(root, "postgresql-half-2");
	char *half_file = th_path("%s/data/PG_VERSION", half_dir);
	th_write(half_file, "15\n", 0600);

	struct supervisor_status st;
	cr_assert_eq(supervisor_start(root, &st), 0, "%s", sw_error_last());
	int added = 0;
	cr_assert_eq(addon_restore_all(root, &added), 0, "%s", sw_error_last());
	cr_assert_eq(added, 1);
	cr_assert_eq(addon_wait_ready(root, &a, 60), 0, "%s", sw_error_last());
	cr_assert_str_eq(select_one(&a, "SELECT x FROM t"), "kept\n");
	cr_assert_not(supervisor_service_exists(root, "addon.postgresql-half-1"));
	cr_assert_neq(access(half_dir, F_OK), 0, "%s is left", half_dir);
	free(half_file);
	free(half_dir);
	/* a second time: nothing to add */
	cr_assert_eq(addon_restore_all(root, &added), 0, "%s", sw_error_last());
	cr_assert_eq(added, 0);
	free(service);
}

Test(addon_pg, a_port_range_inside_the_instances_or_full_is_refused)
{
	setenv("SLIPWAY_ADDON_PORT_RANGE", "29990-30010", 1);
	struct addon_create_opts o = ADDON_CREATE_OPTS_INIT;
	struct addon a;
	o.kind = "postgresql";
	cr_assert_eq(addon_create(root, &o, &a), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(),
			 "slipway.addonPortRange 29990-30010 overlaps slipway.portRange "
			 "20000-29999: give add-ons ports of their own");
	char *dir = paths_addons_dir(root);
	cr_assert_eq(th_entries(dir), 0);
	cr_assert_neq(access(dir, F_OK), 0, "refused before anything is made");
	free(dir);
	struct strvec names = STRVEC_INIT;
	supervisor_service_names(root, &names);
	cr_assert_eq(names.n, 0);
	strvec_clear(&names);

	/* a range whose one port something listens on: out of ports, nothing made */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(fd, 1), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	int port = ntohs(sa.sin_port);
	char *range = th_path("%d-%d", port, port);
	setenv("SLIPWAY_ADDON_PORT_RANGE", range, 1);
	cr_assert_eq(addon_create(root, &o, &a), SW_ERROR);
	char *want = th_path("no free port in slipway.addonPortRange %s", range);
	cr_assert_str_eq(sw_error_last(), want);
	dir = paths_addons_dir(root);
	cr_assert_eq(th_entries(dir), 0);
	free(dir);
	free(want);
	free(range);
	close(fd);
}
