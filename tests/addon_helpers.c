#define _GNU_SOURCE
#include "tests/addon_helpers.h"

#include "store/paths.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *ah_start(char **sandbox)
{
	return ah_start_with(sandbox, NULL);
}

char *ah_start_with(char **sandbox, void (*make_root)(const char *root))
{
	/* the user must reach the sandbox: /tmp is open to everyone, a $TMPDIR may not be */
	if (geteuid() == 0)
		setenv("TMPDIR", "/tmp", 1);
	*sandbox = th_sandbox();
	char *root = th_path("%s/root", *sandbox);
	if (make_root)
		make_root(root);
	th_become_test_user(*sandbox);
	if (!make_root)
		cr_assert_eq(mkdir(root, 0755), 0);
	char *home = th_path("%s/home", *sandbox);
	cr_assert_eq(mkdir(home, 0755), 0);
	th_git_home(home);
	setenv("HOME", home, 1);
	free(home);
	char *range = th_addon_port_range();
	setenv("SLIPWAY_ADDON_PORT_RANGE", range, 1);
	free(range);
	struct supervisor_status st;
	cr_assert_eq(supervisor_start(root, &st), 0, "%s", sw_error_last());
	return root;
}

void ah_stop(char *root, char *sandbox)
{
	supervisor_stop(root, 30);
	th_keep_free();
	free(root);
	th_sandbox_free(sandbox);
}

struct addon ah_create(const char *root, const char *kind)
{
	struct addon_create_opts o = ADDON_CREATE_OPTS_INIT;
	struct addon a;
	o.kind = kind;
	o.app = "myapp";
	cr_assert_eq(addon_create(root, &o, &a), 0, "%s", sw_error_last());
	return a;
}

struct addon_credentials ah_credentials(const char *root, const struct addon *a)
{
	struct addon_credentials c;
	cr_assert_eq(addon_credentials_read(root, a->name, &c), 0, "%s", sw_error_last());
	return c;
}

struct service_state ah_state(const char *root, const struct addon *a)
{
	struct service_state st;
	char *service = addon_service_name(a->name);
	cr_assert_eq(supervisor_service_state(root, service, &st), 0);
	free(service);
	return st;
}

void ah_wait_restarted(const char *root, const struct addon *a, long pid)
{
	struct service_state now = ah_state(root, a);
	for (int i = 0; i < 600 && !(now.up && now.pid != pid); i++) {
		ah_sleep_ms(100);
		now = ah_state(root, a);
	}
	cr_assert(now.up && now.pid != pid, "s6 did not start the server again");
	cr_assert_eq(addon_wait_ready(root, a, 60), 0, "%s", sw_error_last());
}

char *ah_log_with(const char *root, const struct addon *a, const char *needle)
{
	char *logs = paths_addon_logs(root, a->name), *current = th_path("%s/current", logs);
	char *log = NULL;
	for (int i = 0; i < 600; i++) {
		free(log);
		log = th_read(current, NULL);
		if (log && strstr(log, needle))
			break;
		ah_sleep_ms(100);
	}
	free(current);
	free(logs);
	return th_keep(log ? log : xstrdup(""));
}

struct th_result ah_psql(const char *root, const struct addon *a, const char *password,
			 const char *sql)
{
	struct addon_credentials c = ah_credentials(root, a);
	char *sock = paths_addon_file(root, a->name, "run"), port[16];
	char *pw = th_path("PGPASSWORD=%s", password ? password : c.password);
	snprintf(port, sizeof(port), "%d", a->port);
	const char *env[] = { pw, "PGCONNECT_TIMEOUT=30", NULL };
	struct th_result r = th_runv(NULL, env, "psql", "-X", "-q", "-t", "-A", "-v",
				     "ON_ERROR_STOP=1", "-h", sock, "-p", port, "-U", c.user, "-d",
				     c.database, "-c", sql, NULL);
	free(pw);
	free(sock);
	return r;
}

char *ah_select_one(const char *root, const struct addon *a, const char *sql)
{
	struct th_result r = ah_psql(root, a, NULL, sql);
	cr_assert_eq(r.status, 0, "psql: %s", r.err);
	char *out = th_keep(xstrdup(r.out));
	th_result_free(&r);
	return out;
}

struct th_result ah_redis_cli(const char *root, const struct addon *a, const char *user,
			      const char *password, const char *const *argv)
{
	struct addon_credentials c = ah_credentials(root, a);
	char *sock = paths_addon_file(root, a->name, "run/redis.sock");
	const char *args[32] = { "redis-cli", "-s", sock };
	size_t n = 3;
	if (user) {
		const char *login[] = { "--no-auth-warning", "--user", user, "--pass",
					password ? password : c.password };
		for (size_t i = 0; i < 5; i++)
			args[n++] = login[i];
	}
	for (size_t i = 0; argv[i] && n < 31; i++)
		args[n++] = argv[i];
	struct th_result r = th_run(NULL, NULL, NULL, args);
	free(sock);
	return r;
}

void ah_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}
