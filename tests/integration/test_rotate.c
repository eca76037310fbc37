/*
 * Credential rotation end to end (release/rotate.h): a real PostgreSQL and
 * Redis add-on, the root's real s6 tree, nginx and the app's instances,
 * the product run as an unprivileged user (when the tests run as root,
 * each test becomes SLIPWAY_TEST_USER, by default "nobody", first).
 *
 * rotate: an app whose web process opens a new database connection for
 * every request and answers the row it reads; a load loop through the
 * router (at most 2,000 requests or 60 s) runs while pg:credentials:rotate
 * does: 0 failed requests, and requests were answered during it; the
 * release "Rotate credentials of NAME" is in releases; afterwards the old
 * password is refused (the control: it worked before) and the new URL
 * works; a rollback past the rotation keeps the new URL.  It runs as a
 * remote user of the app (bob, as over ssh).  Refusals (no --confirm,
 * another app's name, an app with no PostgreSQL, an alias the app does
 * not have, a remote user without access to the app): one line, exit 1,
 * the URL and the releases unchanged, the old password still working.  Redis: redis:credentials
 * shows REDIS_URL; --reset without --confirm is refused; with it the old
 * password is refused by redis-cli and the new URL answers.  A rotation
 * whose release fails its gate says so, exits 1 and revokes nothing (the
 * old password works, the app serves on); run again, it finishes.
 */
#define _GNU_SOURCE
#include "tests/integration/runtime_helpers.h"

#include "util/util.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define APP "rot"
#define OTHER "plain"

static struct app_sandbox sb;
static pid_t svscan = -1;

#define gc th_keep
#define sw(...) SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__)
#define OK(...) gc(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__))

/*
 * GET /: a new connection through $DATABASE_URL for every request, 200
 * with its row or 500; it does not start while the add-on's socket
 * directory has a file "refuse" (a release whose gate fails).
 */
static const char server_py[] =
	"import http.server, os, subprocess, sys\n"
	"if os.path.exists('/run/addons/database/refuse'):\n"
	"    sys.exit('refusing to start: /run/addons/database/refuse')\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def do_GET(s):\n"
	"        url = os.environ.get('DATABASE_URL') or os.environ.get('REDIS_URL') or ''\n"
	"        if url.startswith('postgres'):\n"
	"            r = subprocess.run(['psql', '-X', '-q', '-t', '-A', url, '-c',\n"
	"                                'SELECT x FROM t'], capture_output=True, text=True)\n"
	"            ok, b = r.returncode == 0, (r.stdout + r.stderr).encode()\n"
	"        else:\n"
	"            ok, b = True, b'no database\\n'\n"
	"        s.send_response(200 if ok else 500)\n"
	"        s.send_header('Content-Length', str(len(b)))\n"
	"        s.end_headers(); s.wfile.write(b)\n"
	"    def log_message(s, *a): pass\n"
	"http.server.ThreadingHTTPServer(('', int(os.environ['PORT'])), H).serve_forever()\n";

static void setup(void)
{
	/* the user must reach the sandbox: /tmp is open to everyone, a $TMPDIR may not be */
	if (geteuid() == 0)
		setenv("TMPDIR", "/tmp", 1);
	th_become_test_user(NULL);
	char *ports = th_addon_port_range(), *range = th_path("SLIPWAY_ADDON_PORT_RANGE=%s", ports);
	/* a web instance that does not start fails its gate in 10 s, not 60 */
	const char *env[] = { range, "SLIPWAY_USER=alice@example.com", "SLIPWAY_BOOT_TIMEOUT=10",
			      NULL };
	rt_setup(&sb, APP, RT_ROUTER, server_py, env);
	free(range);
	free(ports);
	/*
	 * the add-on's socket is the way in, for the instances the tree runs
	 * too (the app's git config); the app's own network is test_addon_net's
	 */
	char *gitdir = th_path("%s/apps/" APP ".git", sb.root);
	free(app_sandbox_must(th_runv(NULL, NULL, "git", "--git-dir", gitdir, "config",
				      "slipway.appNetwork", "host", NULL), "git config"));
	free(gitdir);
	svscan = rt_start(&sb);
	free(app_sandbox_push(&sb, "main"));
}

static void teardown(void)
{
	rt_stop(&sb, &svscan);
	th_keep_free();
	app_sandbox_release(&sb);
}

TestSuite(rotate, .init = setup, .fini = teardown, .timeout = 300);

/* slipway ARGS as the remote user bob (what `slipway shell bob` runs). */
static struct th_result as_bob(const char *const *args)
{
	const char *env[APP_SANDBOX_ENV_MAX + 2], *argv[16];
	size_t n = 0, k = 0;
	for (; n < sb.nenv; n++)
		env[n] = sb.env[n];
	env[n++] = "SLIPWAY_SHELL_USER=bob";
	env[n] = NULL;
	argv[k++] = SLIPWAY_BIN;
	for (size_t i = 0; args[i] && k < 15; i++)
		argv[k++] = args[i];
	argv[k] = NULL;
	return th_run(sb.dir, env, NULL, argv);
}

/* The add-on name in s ("KIND-<adjective>-<number>"), kept. */
static char *addon_name(const char *s, const char *kind)
{
	const char *p = strstr(s, kind);
	cr_assert(p, "no add-on name in:\n%s", s);
	size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-");
	return gc(xstrndup(p, n));
}

static char *config_get(const char *var)
{
	return app_sandbox_chomp(OK("config:get", var, "-a", APP));
}

static int release_count(void)
{
	return th_count(OK("releases", "-a", APP), "  alice@example.com  ");
}

/* psql with url's credentials on the add-on's socket (host= as the host sees it). */
static struct th_result psql(const char *url, const char *name, const char *sql)
{
	const char *host = strstr(url, "?host=");
	cr_assert(host, "%s", url);
	char *hosturl = gc(th_path("%.*s?host=%s/addons/%s/run", (int)(host - url), url, sb.root,
				   name));
	const char *env[] = { "PGCONNECT_TIMEOUT=30", NULL };
	return th_runv(NULL, env, "psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", hosturl,
		       "-c", sql, NULL);
}

static char *psql_ok(const char *url, const char *name, const char *sql)
{
	struct th_result r = psql(url, name, sql);
	cr_assert_eq(r.status, 0, "psql: %s", r.err);
	char *out = gc(xstrdup(r.out));
	th_result_free(&r);
	return out;
}

/* GET / through the router: its body whatever its status (kept). */
static char *get(void)
{
	char *url = th_path("http://127.0.0.1:%d/", sb.http_port);
	struct th_result r = th_runv(NULL, NULL, "curl", "-sS", "--max-time", "30", "-H",
				     "Host: " APP ".localhost", url, NULL);
	char *body = gc(th_path("%s%s", r.out, r.err));
	th_result_free(&r);
	free(url);
	return body;
}

/* The page the router serves, up to about 10 s until it is want. */
#define page_is(want) page_is_at(want, __LINE__)
static void page_is_at(const char *want, int line)
{
	char *body = NULL;
	for (int i = 0; i < 100; i++) {
		if (!strcmp((body = get()), want))
			break;
		rt_pause_ms(100);
	}
	cr_assert_str_eq(body, want, "line %d: served %s, not %s\n%s", line, body, want,
			 th_path("%s%s%s", OK("releases", "-a", APP), OK("ps", "-a", APP),
				 OK("logs", "-n", "400", "-a", APP)));
}

/*
 * The load loop, in the background: GET / through the router until the
 * file stop exists, 2,000 requests or 60 s; a line "ok" or "failed: ..."
 * in log for each.
 */
static pid_t load_start(const char *log, const char *stop)
{
	char *script = gc(th_path(
		"i=0; end=$(($(date +%%s) + 60))\n"
		"while [ ! -e '%s' ] && [ $i -lt 2000 ] && [ $(date +%%s) -lt $end ]; do\n"
		"  i=$((i + 1))\n"
		"  if b=$(curl -sS -f --max-time 30 -H 'Host: " APP ".localhost' "
		"http://127.0.0.1:%d/ 2>&1) && [ \"$b\" = row ]; then echo ok\n"
		"  else echo \"failed: $b\"; fi\n"
		"done >'%s'\n", stop, sb.http_port, log));
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		execlp("sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* How many requests log has, and how many of them failed (their lines into failures). */
static int load_count(const char *log, int *failed, struct buf *failures)
{
	char *text = th_read(log, NULL);
	*failed = text ? th_count(text, "failed: ") : 0;
	int n = (text ? th_count(text, "ok") : 0) + *failed;
	if (failures && text)
		for (char *p = text; (p = strstr(p, "failed: ")); p++)
			buf_addf(failures, "%.*s\n", (int)strcspn(p, "\n"), p);
	free(text);
	return n;
}

Test(rotate, pg_credentials_rotate_under_load_fails_no_request_and_revokes_the_old_password)
{
	OK("apps:create", OTHER);
	char *out = OK("addons:create", "heroku-postgresql", "-a", APP);
	char *name = addon_name(out, "postgresql-");
	char *old = config_get("DATABASE_URL");
	cr_assert_str_eq(psql_ok(old, name, "CREATE TABLE t (x text); INSERT INTO t VALUES ('row'); "
				 "SELECT x FROM t"), "row\n");
	page_is("row\n");
	int releases = release_count();

	/* refusals: nothing changes, the old password works on */
	char *proceed = gc(th_path("This rotates the credentials of %s in every app it is "
				   "attached to; to proceed, run: slipway pg:credentials:rotate "
				   "DATABASE -a " APP " --confirm " APP, name));
	app_sandbox_refused_line(sw("pg:credentials:rotate", "-a", APP), proceed);
	app_sandbox_refused_line(sw("pg:credentials:rotate", "-a", APP, "--confirm", OTHER), proceed);
	app_sandbox_refused_line(sw("pg:credentials:rotate", "-a", OTHER, "--confirm", OTHER),
		OTHER " has no postgresql add-on (addons:create postgresql -a " OTHER ")");
	app_sandbox_refused_line(as_bob((const char *[]){ "pg:credentials:rotate", "-a", APP, "--confirm", APP,
					 NULL }),
		"You do not have access to the app " APP ".");
	app_sandbox_refused_line(sw("pg:credentials:rotate", "CACHE", "-a", APP, "--confirm", APP),
		"Couldn't find that add-on: CACHE is not attached to " APP);
	cr_assert_str_eq(config_get("DATABASE_URL"), old);
	cr_assert_eq(release_count(), releases);
	cr_assert_str_eq(psql_ok(old, name, "SELECT x FROM t"), "row\n"); /* the control */

	/* the rotation, with requests coming all along */
	char *log = gc(th_path("%s/load.log", sb.dir)), *stop = gc(th_path("%s/load.stop", sb.dir));
	pid_t load = load_start(log, stop);
	int failed = 0, before = 0;
	for (int i = 0; i < 300 && (before = load_count(log, &failed, NULL)) < 5; i++)
		rt_pause_ms(100);
	cr_assert_geq(before, 5, "the load loop never got going");
	/* over ssh, by a user of the app (the control of bob's refusal above) */
	OK("access:add", "bob", "-a", APP);
	out = gc(app_sandbox_must(as_bob((const char *[]){ "pg:credentials:rotate", "DATABASE_URL",
							   "-a", APP, "--confirm", APP, NULL }),
				  "bob"));
	int during = load_count(log, &failed, NULL) - before;
	th_write(stop, "", 0644);
	int status = 0;
	cr_assert_eq(waitpid(load, &status, 0), load);
	struct buf failures = BUF_INIT;
	int total = load_count(log, &failed, &failures);
	cr_assert_eq(failed, 0, "%d of %d requests failed:\n%s", failed, total,
		     failures.data ? failures.data : "");
	buf_release(&failures);
	cr_log_info("%d requests, %d of them while pg:credentials:rotate ran, 0 failed", total,
		    during);
	cr_assert_gt(during, 0, "no request was answered during the rotation");
	cr_assert_str_eq(out, gc(th_path("Rotating credentials of %s... done\n"
					 "Rotated DATABASE_URL on " APP ", v%d\n", name,
					 releases + 1)));
	cr_assert(strstr(OK("releases", "-a", APP),
			 gc(th_path("v%d  Rotate credentials of %s  ", releases + 1, name))),
		  "%s", OK("releases", "-a", APP));

	/* the new URL works, the old password is refused */
	char *now = config_get("DATABASE_URL");
	cr_assert_str_neq(now, old);
	cr_assert_str_eq(psql_ok(now, name, "SELECT x FROM t"), "row\n");
	struct th_result r = psql(old, name, "SELECT 1");
	cr_assert_neq(r.status, 0);
	cr_assert(strstr(r.err, "password authentication failed"), "%s", r.err);
	th_result_free(&r);
	page_is("row\n");

	/* a rollback past the rotation keeps the new credentials */
	OK("rollback", gc(th_path("v%d", releases)), "-a", APP);
	cr_assert_str_eq(config_get("DATABASE_URL"), now);
	page_is("row\n");
}

Test(rotate, redis_credentials_shows_the_url_and_reset_revokes_the_old_password)
{
	char *out = OK("addons:create", "heroku-redis", "-a", APP);
	char *name = addon_name(out, "redis-");
	char *old = config_get("REDIS_URL");
	cr_assert_str_eq(OK("redis:credentials", "-a", APP), gc(th_path("%s\n", old)));
	int releases = release_count();
	app_sandbox_refused_line(sw("redis:credentials", "--reset", "-a", APP),
		gc(th_path("This rotates the credentials of %s in every app it is attached to; "
			   "to proceed, run: slipway redis:credentials --reset REDIS -a " APP
			   " --confirm " APP, name)));
	cr_assert_eq(release_count(), releases);
	struct th_result r = th_runv(NULL, NULL, "redis-cli", "--no-auth-warning", "-u", old, "SET",
				     "k", "v", NULL);
	cr_assert_str_eq(r.out, "OK\n", "%s", r.err); /* the control: the old password works */
	th_result_free(&r);

	out = OK("redis:credentials", "REDIS", "--reset", "-a", APP, "--confirm", APP);
	cr_assert_str_eq(out, gc(th_path("Resetting credentials for %s... done\n"
					 "Rotated REDIS_URL on " APP ", v%d\n", name, releases + 1)));
	char *now = config_get("REDIS_URL");
	cr_assert_str_neq(now, old);
	r = th_runv(NULL, NULL, "redis-cli", "--no-auth-warning", "-u", now, "GET", "k", NULL);
	cr_assert_str_eq(r.out, "v\n", "%s", r.err);
	th_result_free(&r);
	r = th_runv(NULL, NULL, "redis-cli", "--no-auth-warning", "-u", old, "GET", "k", NULL);
	cr_assert(strstr(r.out, "WRONGPASS") || strstr(r.err, "WRONGPASS"), "%s%s", r.out, r.err);
	th_result_free(&r);
}

Test(rotate, a_failed_release_revokes_nothing_and_the_rotation_run_again_finishes)
{
	char *out = OK("addons:create", "heroku-postgresql", "-a", APP);
	char *name = addon_name(out, "postgresql-");
	char *old = config_get("DATABASE_URL");
	psql_ok(old, name, "CREATE TABLE t (x text); INSERT INTO t VALUES ('row')");
	page_is("row\n");
	int releases = release_count();

	/* the new instance does not start: the release fails its gate */
	char *refuse = gc(th_path("%s/addons/%s/run/refuse", sb.root, name));
	th_write(refuse, "", 0644);
	struct th_result r = sw("pg:credentials:rotate", "-a", APP, "--confirm", APP);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, gc(th_path(" !    the release of " APP " with the new credentials "
					   "failed (v%d; see: slipway releases:output v%d -a " APP
					   "): the old credentials of %s still work; run the rotation "
					   "again once it is fixed\n", releases + 1, releases + 1,
					   name))), "%s", r.err);
	cr_assert(strstr(r.out, gc(th_path("DATABASE_URL on " APP ", v%d: failed", releases + 1))),
		  "%s", r.out);
	th_result_free(&r);
	/* nothing revoked: the old password works, the old instance serves */
	cr_assert_str_eq(psql_ok(old, name, "SELECT x FROM t"), "row\n");
	page_is("row\n");

	/* fixed, run again: it finishes */
	cr_assert_eq(unlink(refuse), 0);
	OK("pg:credentials:rotate", "-a", APP, "--confirm", APP);
	char *now = config_get("DATABASE_URL");
	cr_assert_str_neq(now, old);
	cr_assert_str_eq(psql_ok(now, name, "SELECT x FROM t"), "row\n");
	r = psql(old, name, "SELECT 1");
	cr_assert_neq(r.status, 0);
	cr_assert(strstr(r.err, "password authentication failed"), "%s", r.err);
	th_result_free(&r);
	page_is("row\n");
}
