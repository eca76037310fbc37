/*
 * An app reaching its add-ons from its sandbox (exec/sandbox.h
 * sandbox_addons()): a real PostgreSQL add-on, attached with
 * change_attach() as DATABASE, the release read from the ledger as
 * run and instance:run read it; the product runs as an unprivileged user
 * (when the tests run as root, each test becomes SLIPWAY_TEST_USER, by
 * default "nobody", as tests/runtime/test_addon_pg.c does).
 *
 * addon_app: over the add-on's unix socket (/run/addons/database, the
 * URL's host=) a one-off writes a row and a web instance serves it;
 * the sandbox sees only that socket directory (not another add-on's, not
 * the add-on's data or credentials); before the attachment (the control)
 * there is no /run/addons; a rollback to before it still reaches the
 * database.  Through TCP inside the app's own network: 127.0.0.1:PORT
 * reaches the add-on, and without the attachment (the control) it does
 * not - skipped where the user cannot open /dev/net/tun.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"
#include "tests/integration/runtime_helpers.h"
#include "tests/release_helpers.h"

#include "exec/appnet.h"
#include "release/change.h"
#include "runtime/addon.h"
#include "runtime/instance.h"
#include "runtime/oneoff.h"
#include "runtime/supervisor.h"
#include "store/addons.h"
#include "store/appctx.h"
#include "store/ledger.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *root, *log_path;
static char hex[65];

/* The web process: GET / answers what psql selects from t through $DATABASE_URL. */
static const char server_py[] =
	"import http.server, os, subprocess\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def do_GET(self):\n"
	"        r = subprocess.run(['psql', '-X', '-q', '-t', '-A', os.environ['DATABASE_URL'],\n"
	"                            '-c', 'SELECT x FROM t'], capture_output=True, text=True)\n"
	"        body = (r.stdout + r.stderr).encode()\n"
	"        self.send_response(200)\n"
	"        self.send_header('Content-Length', str(len(body)))\n"
	"        self.end_headers()\n"
	"        self.wfile.write(body)\n"
	"http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n";

static void setup(void)
{
	/* the user must reach the sandbox: /tmp is open to everyone, a $TMPDIR may not be */
	if (geteuid() == 0)
		setenv("TMPDIR", "/tmp", 1);
	th_become_test_user(NULL);
	root = rh_root();
	char *range = th_addon_port_range();
	setenv("SLIPWAY_ADDON_PORT_RANGE", range, 1);
	free(range);
	struct supervisor_status st;
	cr_assert_eq(supervisor_start(root, &st), 0, "%s", sw_error_last());
	rh_app(root, "demo");
	log_path = th_path("%s/run.log", root);
	rh_slug(root, hex, "server.py", server_py, NULL);
	/* v1: the slug, no process type (nothing for the runtime to start), no add-on */
	rh_release(root, "demo", hex, RELEASE_SUCCEEDED, NULL);
}

static void teardown(void)
{
	if (!root)
		return; /* ended already, before a skip */
	supervisor_stop(root, 30);
	th_keep_free();
	free(log_path);
	th_sandbox_free(root);
	root = NULL;
}

TestSuite(addon_app, .init = setup, .fini = teardown, .timeout = 240);

static struct addon create(void)
{
	struct addon_create_opts o = ADDON_CREATE_OPTS_INIT;
	struct addon a;
	o.kind = "postgresql";
	o.app = "demo";
	cr_assert_eq(addon_create(root, &o, &a), 0, "%s", sw_error_last());
	return a;
}

/* The add-on's URL: over its socket at /run/addons/<alias lower>, or TCP to 127.0.0.1. */
static char *url_of(const struct addon *a, const char *alias, int tcp)
{
	struct addon_credentials c;
	char lower[64];
	cr_assert_eq(addon_credentials_read(root, a->name, &c), 0, "%s", sw_error_last());
	size_t i = 0;
	for (; alias[i] && i < sizeof(lower) - 1; i++)
		lower[i] = (char)tolower((unsigned char)alias[i]);
	lower[i] = '\0';
	if (tcp)
		return th_keep(th_path("postgres://%s:%s@127.0.0.1:%d/%s", c.user, c.password,
				       a->port, c.database));
	return th_keep(th_path("postgres://%s:%s@localhost:%d/%s?host=/run/addons/%s", c.user,
			       c.password, a->port, c.database, lower));
}

/* Attaches a as DATABASE (DATABASE_URL = url): the release it made. */
static int attach(const struct addon *a, const char *url)
{
	struct app_ctx ctx = APP_CTX_INIT;
	struct config vars = CONFIG_INIT;
	struct change_result res;
	FILE *out = fopen("/dev/null", "w");
	cr_assert(out);
	config_set(&vars, "DATABASE_URL", url);
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_WRITE), 0, "%s", sw_error_last());
	cr_assert_eq(change_attach(&ctx, "DATABASE", a->name, &vars, "test", out, &res), 0, "%s",
		     sw_error_last());
	app_ctx_release(&ctx);
	config_release(&vars);
	fclose(out);
	return res.version;
}

static int rollback(int target)
{
	struct app_ctx ctx = APP_CTX_INIT;
	struct change_result res;
	FILE *out = fopen("/dev/null", "w");
	cr_assert(out);
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_WRITE), 0, "%s", sw_error_last());
	cr_assert_eq(change_rollback(&ctx, target, "test", out, &res), 0, "%s", sw_error_last());
	app_ctx_release(&ctx);
	fclose(out);
	return res.version;
}

/* Release version of the ledger as `run` and instance:run read it (config and add-ons). */
static void read_release(int version, struct release *r)
{
	struct app_ctx ctx = APP_CTX_INIT;
	*r = (struct release)RELEASE_INIT;
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_READ), 0, "%s", sw_error_last());
	cr_assert_eq(ledger_read(ctx.ledger, version, LEDGER_READ_CONFIG, r), 0, "%s",
		     sw_error_last());
	app_ctx_release(&ctx);
}

struct job {
	struct release r;
	const char *words[2];
	struct oneoff_opts o;
};

static void run_job(void *ctx)
{
	struct job *j = ctx;
	int status = -1;
	int err = oneoff_run(&j->o, &status);
	printf("oneoff_run: %d, status %d\n", err, status);
}

/* `run` of the shell line script in release version: what it printed, and the result line. */
static char *run(int version, const char *script)
{
	struct job j;
	memset(&j, 0, sizeof(j));
	read_release(version, &j.r);
	j.words[0] = script;
	j.o = (struct oneoff_opts){ .root = root, .app = "demo", .release = &j.r,
				    .words = j.words, .n = 1 };
	cr_assert_eq(rh_child_wait(rh_child(log_path, NULL, run_job, &j)), 0);
	release_release(&j.r);
	char *text = th_read(log_path, NULL);
	cr_assert_not_null(text);
	return th_keep(text);
}

/* The web instance, in the child. */
static void web_job(void *ctx)
{
	int status = -1;
	int err = instance_run(ctx, &status);
	printf("instance_run: %d, status %d\n", err, status);
}

#define PSQL "psql -X -q -t -A -v ON_ERROR_STOP=1 "

Test(addon_app, reached_by_its_socket_from_a_one_off_an_instance_and_after_a_rollback)
{
	setenv("SLIPWAY_APP_NETWORK", "host", 1); /* the socket alone: no network of its own */
	struct addon a = create(), other = create();

	/* the control: without the attachment, nothing of it */
	char *out = run(1, "ls /run/addons; echo \"url=$DATABASE_URL\"");
	cr_assert(strstr(out, "No such file or directory"), "%s", out);
	cr_assert(strstr(out, "url=\n"), "%s", out);
	cr_assert(strstr(out, "oneoff_run: 0, status 0\n"), "%s", out);

	int v2 = attach(&a, url_of(&a, "DATABASE", 0));
	cr_assert_eq(v2, 2);
	out = run(v2, PSQL "\"$DATABASE_URL\" -c \"CREATE TABLE t (x text); "
		  "INSERT INTO t VALUES ('written in the sandbox'); SELECT x FROM t\"; "
		  "echo psql=$?; ls /run/addons; ls -A /run/addons/database");
	cr_assert(strstr(out, "written in the sandbox\npsql=0\n"), "%s", out);
	/* its socket directory alone: not the other add-on's, not its data or credentials */
	char *sock = th_path("database\n.s.PGSQL.%d\n.s.PGSQL.%d.lock\noneoff_run: 0, status 0\n",
			     a.port, a.port);
	cr_assert(strstr(out, sock), "%s", out);
	free(sock);
	cr_assert(!strstr(out, other.name), "%s", out);
	out = run(v2, "ls -d /run/addons/* /run/addons/*/data /run/addons/*/credentials 2>&1");
	cr_assert(strstr(out, "/run/addons/database\n"), "%s", out);
	cr_assert_eq(th_count(out, "/run/addons/"), 3, "%s", out); /* the two others not there */

	/* a web instance of the release serves the row it reads through DATABASE_URL */
	struct job j;
	memset(&j, 0, sizeof(j));
	read_release(v2, &j.r);
	proc_list_set(&j.r.procs, "web", "python3 server.py");
	int port = th_free_port();
	struct instance_opts io = { .root = root, .app = "demo", .release = &j.r, .type = "web",
				    .index = 1, .port = port, .stop_timeout_sec = 5 };
	char *web_log = th_path("%s/web.log", root);
	pid_t web = rh_child(web_log, NULL, web_job, &io);
	char *body = rt_wait_get(port);
	cr_assert_not_null(body, "the web process never answered: %s", th_read(web_log, NULL));
	cr_assert_str_eq(body, "written in the sandbox\n");
	free(body);
	kill(web, SIGTERM);
	rh_child_wait(web);
	release_release(&j.r);
	free(web_log);

	/* a rollback to before the attachment keeps the add-on of now */
	int v3 = rollback(1);
	cr_assert_eq(v3, 3);
	out = run(v3, PSQL "\"$DATABASE_URL\" -c \"SELECT x FROM t\"");
	cr_assert(strstr(out, "written in the sandbox\noneoff_run: 0, status 0\n"), "%s", out);
}

Test(addon_app, reached_through_tcp_in_its_own_network_and_only_when_attached)
{
	char *why = NULL;
	if (!appnet_usable(APPNET_TUN, &why)) {
		teardown(); /* a skipped test's .fini does not run: its tree must not outlive it */
		cr_skip("the app's own network cannot start for this user here (%s): its TCP "
			"half is not tested; the socket half is, under slipway.appNetwork host", why);
	}
	struct addon a = create();
	const char *tcp = url_of(&a, "DATABASE", 1);
	char *script = th_keep(th_path(PSQL "'%s' -c \"SELECT 'over tcp'\"; echo psql=$?", tcp));

	/* the control: without the attachment its port is not reached from inside */
	char *out = run(1, script);
	cr_assert(!strstr(out, "over tcp"), "%s", out);
	cr_assert(strstr(out, "psql=2\n"), "%s", out);

	int v2 = attach(&a, url_of(&a, "DATABASE", 0));
	out = run(v2, script);
	cr_assert(strstr(out, "over tcp\npsql=0\n"), "%s", out);
}
