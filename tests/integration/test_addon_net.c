/*
 * An attached add-on's port inside the app's own network (slipway.appNetwork
 * private, the default): app code - a one-off through `slipway run`, the
 * release command of a push - reaches the host's 127.0.0.1:PORT of the
 * add-on at 127.0.0.1:PORT, and its socket directory at
 * /run/addons/<alias>; still no other port of the host's loopback.  The
 * control: before the attachment its port is out of reach as well.
 *
 * The tests run as root here, and PostgreSQL refuses root: the add-on's
 * server is a plain listener on its port (tests/runtime/test_addon_app.c
 * has a real PostgreSQL, run as an unprivileged user); its record and
 * socket directory are the store's own.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include "release/change.h"
#include "store/addons.h"
#include "store/appctx.h"
#include "store/paths.h"
#include "util/error.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define APP "app"
#define ADDON "postgresql-test-1234"

static struct app_sandbox sb;
static pid_t servers[2] = { -1, -1 };
static int addon_port, other_port;

/*
 * The release command says what it reaches: "release: addon:N other:N" (0:
 * reached) and "release: dir:..." what /run/addons holds.
 */
static const char procfile[] =
	"web: exec python3 -m http.server $PORT\n"
	"release: echo \"release: addon:$(curl -s -o /dev/null --max-time 5 "
	"http://127.0.0.1:$ADDON_PORT/; echo $?) other:$(curl -s -o /dev/null --max-time 5 "
	"http://127.0.0.1:$OTHER_PORT/; echo $?)\"; echo \"release: dir:$(ls /run/addons 2>&1)\"\n";

/* A listener on the host's 127.0.0.1:port (HTTP, so curl says whether it reached it). */
static pid_t serve(int port, const char *name)
{
	char p[16], *log = th_path("%s/%s.log", sb.dir, name);
	snprintf(p, sizeof(p), "%d", port);
	const char *argv[] = { "/usr/bin/python3", "-u", "-m", "http.server", "--bind", "127.0.0.1",
			       p, NULL };
	pid_t pid = app_sandbox_start(&sb, log, argv);
	app_sandbox_wait_for(log, "Serving HTTP");
	free(log);
	return pid;
}

static void setup(void)
{
	app_sandbox_init(&sb, APP, APP_SANDBOX_BATCH);
	addon_port = th_free_port();
	other_port = th_free_port();
	servers[0] = serve(addon_port, "addon");
	servers[1] = serve(other_port, "other");
	char *kv = th_path("ADDON_PORT=%d", addon_port), *kv2 = th_path("OTHER_PORT=%d", other_port);
	app_sandbox_write(&sb, "Procfile", procfile, 0644);
	app_sandbox_create(&sb, NULL);
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "config:set", kv, kv2, "-a", APP));
	app_sandbox_checkout(&sb, NULL, "main", "first");
	free(kv);
	free(kv2);
}

static void teardown(void)
{
	for (int i = 0; i < 2; i++)
		if (servers[i] > 0) {
			kill(servers[i], SIGTERM);
			waitpid(servers[i], NULL, 0);
		}
	app_sandbox_release(&sb);
	th_keep_free();
}

TestSuite(addon_net, .init = setup, .fini = teardown, .timeout = 120);

/* The add-on's record and socket directory, as runtime/addon.h leaves them; attached as DATABASE. */
static void attach(void)
{
	struct addon a = ADDON_INIT;
	snprintf(a.name, sizeof(a.name), "%s", ADDON);
	snprintf(a.kind, sizeof(a.kind), "postgresql");
	snprintf(a.app, sizeof(a.app), "%s", APP);
	a.port = addon_port;
	a.created = (int64_t)time(NULL);
	a.major = 15;
	char *dir = paths_addon_dir(sb.root, ADDON), *run = paths_addon_file(sb.root, ADDON, "run");
	char *top = paths_addons_dir(sb.root);
	cr_assert_eq(mkdir(top, 0755), 0);
	free(top);
	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_assert_eq(mkdir(run, 0755), 0);
	th_write(th_keep(th_path("%s/socket-here", run)), "the add-on's\n", 0644);
	cr_assert_eq(addon_write(sb.root, &a), 0, "%s", sw_error_last());

	struct app_ctx ctx = APP_CTX_INIT;
	struct config vars = CONFIG_INIT;
	struct change_result res;
	FILE *out = fopen("/dev/null", "w");
	cr_assert(out);
	config_set(&vars, "DATABASE_URL", "postgres://u:p@127.0.0.1/d");
	cr_assert_eq(app_ctx_open(&ctx, sb.root, APP, APP_CTX_WRITE), 0, "%s", sw_error_last());
	cr_assert_eq(change_attach(&ctx, "DATABASE", ADDON, &vars, "test", out, &res), 0, "%s",
		     sw_error_last());
	app_ctx_release(&ctx);
	config_release(&vars);
	fclose(out);
	free(dir);
	free(run);
}

/* What a one-off reaches: "addon:N other:N" (0: reached) and what /run/addons/database holds. */
static char *look(void)
{
	static const char script[] =
		"echo \"addon:$(curl -s -o /dev/null --max-time 5 http://127.0.0.1:$ADDON_PORT/; "
		"echo $?) other:$(curl -s -o /dev/null --max-time 5 http://127.0.0.1:$OTHER_PORT/; "
		"echo $?)\"; cat /run/addons/database/socket-here 2>&1; true";
	struct th_result r = SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, "run", "-a", APP, "--", "sh", "-c",
					 script);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	char *out = th_keep(strdup(r.out));
	th_result_free(&r);
	return out;
}

Test(addon_net, an_attached_addons_port_alone_of_the_hosts_loopback_is_reached_from_inside)
{
	/* the control: before the attachment, neither port, no /run/addons */
	char *pushed = th_keep(app_sandbox_push(&sb, "main"));
	cr_assert(strstr(pushed, "release: addon:7 other:7"), "%s", pushed);
	cr_assert(strstr(pushed, "release: dir:ls: cannot access '/run/addons'"), "%s", pushed);
	char *seen = look();
	cr_assert(strstr(seen, "addon:7 other:7\n"), "%s", seen);
	cr_assert(strstr(seen, "No such file or directory"), "%s", seen);

	attach();
	seen = look();
	cr_assert(strstr(seen, "addon:0 other:7\n"), "%s", seen);
	cr_assert(strstr(seen, "the add-on's\n"), "%s", seen);

	/* the release command of the next push reaches it too */
	app_sandbox_write(&sb, "index.html", "second\n", 0644);
	free(SANDBOX_OK(&sb, NULL, "git", "add", "index.html"));
	free(SANDBOX_OK(&sb, NULL, "git", "commit", "-q", "-m", "second"));
	pushed = th_keep(app_sandbox_push(&sb, "main"));
	cr_assert(strstr(pushed, "release: addon:0 other:7"), "%s", pushed);
	cr_assert(strstr(pushed, "release: dir:database"), "%s", pushed);
}
