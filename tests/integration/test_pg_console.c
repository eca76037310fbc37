/*
 * The consoles and figures of an app's add-ons, with a real PostgreSQL and
 * Redis under the root's real s6 tree, the product run as an unprivileged
 * user (as root, each test becomes SLIPWAY_TEST_USER first).
 *
 * pg:psql reads SQL from stdin when it is no terminal, runs -c COMMAND,
 * logs in as the app's user (the one in DATABASE_URL) with no password in
 * psql's argv, takes DATABASE, DATABASE_URL or the add-on's name; at a
 * terminal it is psql's own console (prompt, answers, \q), through the
 * ssh shell too.  A remote user's console runs in the app's sandbox: psql's
 * \! cannot read the server's files there (the control: the operator's
 * can), and an app without code is refused.  redis:cli the
 * same with redis-cli; the app's Redis user may not reconfigure its server
 * (CONFIG, ACL SETUSER, SHUTDOWN are refused) while SET, GET, KEYS,
 * INFO and FLUSHDB work.  pg:info and redis:info in Heroku's shape and as
 * JSON; a stopped server is Unavailable, with the data-version refusal
 * when that is why.  Refusals (no such add-on, no add-on of that kind, an
 * add-on of another kind) say one line, exit 1, change nothing.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"
#include "tests/integration/term.h"

#include "util/util.h"

#include <criterion/criterion.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define APP "shop"
#define OTHER "blog"

static struct app_sandbox sb;

#define gc th_keep
#define sw(...) SANDBOX_RUN(&sb, sb.dir, SLIPWAY_BIN, __VA_ARGS__)
#define OK(...) gc(app_sandbox_must(sw(__VA_ARGS__), #__VA_ARGS__))

static void setup(void)
{
	app_sandbox_init_addons(&sb, APP);
	app_sandbox_setenv(&sb, "TERM=vt100");
	/* one-offs as the test user: /dev/net/tun may be closed to it (test_addon_net.c has it) */
	app_sandbox_setenv(&sb, "SLIPWAY_APP_NETWORK=host");
	OK("server:start");
	OK("apps:create", APP);
	OK("apps:create", OTHER);
}

static void teardown(void)
{
	term_teardown();
	struct th_result r = sw("server:stop");
	th_result_free(&r);
	th_keep_free();
	app_sandbox_release(&sb);
}

TestSuite(pg_console, .init = setup, .fini = teardown, .timeout = 240);

/* slipway ARGS with input as its stdin. */
static struct th_result sw_in(const char *input, const char *const *args)
{
	const char *argv[16];
	size_t k = 0;
	argv[k++] = SLIPWAY_BIN;
	for (size_t i = 0; args[i] && k < 15; i++)
		argv[k++] = args[i];
	argv[k] = NULL;
	return th_run(sb.dir, sb.env, input, argv);
}

/* What slipway ARGS prints with input as its stdin (kept); it must succeed. */
static char *ok_in(const char *input, const char *const *args)
{
	struct th_result r = sw_in(input, args);
	cr_assert_eq(r.status, 0, "%s: exit %d\n%s%s", args[0], r.status, r.out, r.err);
	char *out = gc(xstrdup(r.out));
	th_result_free(&r);
	return out;
}

/* slipway ARGS as the remote user alice (what `slipway shell alice` runs), input its stdin. */
static struct th_result as_alice(const char *input, const char *const *args)
{
	const char *env[APP_SANDBOX_ENV_MAX + 2], *argv[16];
	size_t n = 0, k = 0;
	for (; n < sb.nenv; n++)
		env[n] = sb.env[n];
	env[n++] = "SLIPWAY_SHELL_USER=alice";
	env[n] = NULL;
	argv[k++] = SLIPWAY_BIN;
	for (size_t i = 0; args[i] && k < 15; i++)
		argv[k++] = args[i];
	argv[k] = NULL;
	return th_run(sb.dir, env, input, argv);
}

/* A first deploy of APP: a worker the formation does not run, so nothing needs to start. */
static void deploy(void)
{
	app_sandbox_checkout(&sb, NULL, "main", NULL);
	app_sandbox_write(&sb, "Procfile", "worker: sleep 600\n", 0644);
	free(app_sandbox_must(SANDBOX_RUN(&sb, NULL, "git", "add", "-A"), "git add"));
	free(app_sandbox_must(SANDBOX_RUN(&sb, NULL, "git", "commit", "-q", "-m", "one"),
			      "git commit"));
	free(app_sandbox_push(&sb, "main"));
}

/* The one add-on name of kind in s, kept. */
static char *addon_name(const char *s, const char *kind)
{
	const char *p = strstr(s, kind);
	cr_assert(p, "no add-on name in:\n%s", s);
	size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-");
	return gc(xstrndup(p, n));
}

/* The user in a URL "scheme://USER:PASSWORD@...", and its password; kept. */
static void url_login(const char *url, char **user, char **password)
{
	const char *u = strstr(url, "://"), *colon = NULL, *at = NULL;
	cr_assert(u && (colon = strchr(u + 3, ':')) && (at = strchr(colon, '@')), "%s", url);
	*user = gc(xstrndup(u + 3, (size_t)(colon - u - 3)));
	*password = gc(xstrndup(colon + 1, (size_t)(at - colon - 1)));
}

/* ---- the terminal ---- */

/* ---- PostgreSQL ---- */

Test(pg_console, pg_psql_and_pg_info)
{
	char *out = OK("addons:create", "heroku-postgresql", "-a", APP);
	char *name = addon_name(out, "postgresql-");
	char *url = app_sandbox_chomp(OK("config:get", "DATABASE_URL", "-a", APP)), *user, *password;
	url_login(url, &user, &password);

	/* stdin, no terminal: the SQL is read, the app's user runs it */
	struct th_result r = sw_in("CREATE TABLE t (x text);\nINSERT INTO t VALUES ('hi');\n"
				   "SELECT x, session_user FROM t;\n",
				   (const char *[]){ "pg:psql", "-a", APP, NULL });
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, gc(th_path(" hi | %s\n", user))), "%s", r.out);
	cr_assert_str_eq(r.err, gc(th_path("-----> Connecting to %s\n", name)));
	th_result_free(&r);

	/* -c, and the add-on named by alias, by its var, by its name */
	const char *args[] = { "DATABASE", "DATABASE_URL", name };
	for (size_t i = 0; i < 3; i++)
		cr_assert(strstr(ok_in(NULL, (const char *[]){ "pg:psql", args[i], "-a", APP, "-c",
								"SELECT count(*) FROM t", NULL }),
				 "     1\n"), "%s", args[i]);

	/* the password is in psql's environment, never in its argv (ps shows argv to all) */
	out = ok_in(NULL, (const char *[]){ "pg:psql", "-a", APP, "--command",
					    "\\! tr '\\0' ' ' < /proc/$PPID/cmdline", NULL });
	cr_assert(strstr(out, "psql") && strstr(out, user), "%s", out);
	cr_assert_null(strstr(out, password), "%s", out);

	/* pg:info, as Heroku shows it */
	out = OK("pg:info", "-a", APP);
	cr_assert(strstr(out, "=== DATABASE_URL\nPlan:        local\nStatus:      Available\n"
			      "Data Size:   "), "%s", out);
	cr_assert(strstr(out, "\nTables:      1\nPG Version:  15."), "%s", out);
	/* connections: none of the app's, and the backups' schedule may be taking the first backup */
	const char *c = strstr(out, "\nConnections: ");
	cr_assert(c && (!strncmp(c, "\nConnections: 0/20\nCreated:     20", 34) ||
			!strncmp(c, "\nConnections: 1/20\nCreated:     20", 34)), "%s", out);
	cr_assert(strstr(out, gc(th_path("\nAdd-on:      %s\n", name))), "%s", out);
	/* by its var, the same add-on: all but how many connect at that moment */
	char *named = OK("pg:info", "DATABASE_URL", "-a", APP);
	size_t at = (size_t)(c - out) + strlen("\nConnections: "), at2 = at;
	cr_assert(strlen(named) > at && !strncmp(named, out, at), "%s", named);
	at += strspn(out + at, "0123456789");
	at2 += strspn(named + at2, "0123456789");
	cr_assert_str_eq(named + at2, out + at);
	out = OK("pg:info", "-a", APP, "--json");
	cr_assert(strstr(out, gc(th_path("[{\"name\":\"%s\",\"kind\":\"postgresql\","
					 "\"config_vars\":[\"DATABASE_URL\"],\"plan\":\"local\","
					 "\"status\":\"available\",\"reason\":null,", name))),
		  "%s", out);
	/* connections: the app's, and the backups' schedule may be taking the first backup */
	const char *conns = strstr(out, "\"connections\":");
	cr_assert(conns && strspn(conns + 14, "0123456789") > 0, "%s", out);
	cr_assert(strstr(out, ",\"max_connections\":20,\"data_size\":"), "%s", out);
	cr_assert(strstr(out, ",\"tables\":1}]\n"), "%s", out);

	/* refusals: one line, exit 1, nothing changed */
	char *before = OK("releases", "--json", "-a", APP);
	app_sandbox_refused_line(sw("pg:psql", "NOPE", "-a", APP, "-c", "SELECT 1"),
		"Couldn't find that add-on: NOPE is not attached to shop");
	app_sandbox_refused_line(sw("pg:psql", "-a", OTHER, "-c", "SELECT 1"),
		"blog has no postgresql add-on (addons:create postgresql -a blog)");
	app_sandbox_refused_line(sw("pg:info", "-a", "nope"),
		"app 'nope' does not exist (create it with: slipway apps:create nope)");
	cr_assert_str_eq(OK("pg:info", "-a", OTHER), "blog has no heroku-postgresql add-ons.\n");
	cr_assert_str_eq(OK("releases", "--json", "-a", APP), before);
	cr_assert(strstr(ok_in(NULL, (const char *[]){ "pg:psql", "-a", APP, "-c",
							"SELECT count(*) FROM t", NULL }),
			 "     1\n"));

	/* stopped: Unavailable; with data of another major version, the refusal says why */
	OK("server:stop");
	char *version = gc(th_path("%s/addons/%s/data/PG_VERSION", sb.root, name));
	th_write(version, "14\n", 0600);
	out = OK("pg:info", "-a", APP);
	cr_assert(strstr(out, gc(th_path("=== DATABASE_URL\nPlan:        local\nStatus:      "
					 "Unavailable (add-on '%s' refuses to start: its data is of "
					 "PostgreSQL 14, the installed server is PostgreSQL 15", name))),
		  "%s", out);
	cr_assert_null(strstr(out, "Tables:"), "%s", out);
	cr_assert(strstr(out, gc(th_path("\nAdd-on:      %s\n", name))), "%s", out);
	app_sandbox_refused_line(sw("pg:psql", "-a", APP, "-c", "SELECT 1"),
		gc(th_path("add-on '%s' refuses to start: its data is of PostgreSQL 14, the "
			   "installed server is PostgreSQL 15 (upgrade the data with pg_upgrade, or "
			   "install postgresql-14)", name)));
	th_write(version, "15\n", 0600);
	out = OK("pg:info", "-a", APP, "--json");
	cr_assert(strstr(out, "\"status\":\"unavailable\",\"reason\":\"its server does not answer"),
		  "%s", out);
	cr_assert(strstr(out, "\"version\":null,\"connections\":null"), "%s", out);
}

/* psql's console at t: its prompt, an answer, \q. */
static void psql_console(struct term *t)
{
	term_expect(t, "=>"); /* psql's prompt: "dNNN=>" */
	term_send(t, "SELECT 6 * 7 AS answer;\n");
	term_expect(t, "42");
	term_send(t, "\\q\n");
	cr_assert_eq(term_wait(t), 0, "%s", t->out);
	term_close(t);
}

Test(pg_console, pg_psql_at_a_terminal_is_psql_s_console)
{
	deploy(); /* a remote user's console runs in the app's sandbox */
	OK("addons:create", "heroku-postgresql", "-a", APP);
	struct term t;
	term_start(&t, &sb, sb.dir, NULL, (const char *[]){ SLIPWAY_BIN, "pg:psql", "-a", APP, NULL },
		   24, 100);
	psql_console(&t);

	/*
	 * Over ssh: the client asks ssh for a terminal for the consoles (not
	 * for pg:psql -c), and the server's shell lets a terminal in for them
	 */
	free(SANDBOX_OK(&sb, NULL, "git", "remote", "add", "laptop",
			"ssh://git@127.0.0.1:2222/" APP ".git"));
	const char *echo_ssh[] = { "GIT_SSH_COMMAND=echo SSH", NULL };
	const char *psql[] = { SLIPWAY_BIN, "pg:psql", "-r", "laptop", NULL };
	term_start(&t, &sb, sb.src, echo_ssh, psql, 24, 100);
	cr_assert_eq(term_wait(&t), 0, "%s", t.out);
	cr_assert(strstr(t.out, "SSH -p 2222 -t git@127.0.0.1 pg:psql -a " APP "\r\n"), "%s", t.out);
	term_close(&t);
	const char *cli[] = { SLIPWAY_BIN, "redis:cli", "-r", "laptop", NULL };
	term_start(&t, &sb, sb.src, echo_ssh, cli, 24, 100);
	cr_assert_eq(term_wait(&t), 0, "%s", t.out);
	cr_assert(strstr(t.out, "SSH -p 2222 -t git@127.0.0.1 redis:cli -a " APP "\r\n"), "%s",
		  t.out);
	term_close(&t);
	const char *psql_c[] = { SLIPWAY_BIN, "pg:psql", "-r", "laptop", "-c", "SELECT 1", NULL };
	term_start(&t, &sb, sb.src, echo_ssh, psql_c, 24, 100);
	cr_assert_eq(term_wait(&t), 0, "%s", t.out);
	cr_assert(strstr(t.out, "SSH -p 2222 git@127.0.0.1 pg:psql -a " APP " --command "),
		  "%s", t.out);
	term_close(&t);

	/*
	 * what sshd runs for alice's key, at the terminal it made (the shell
	 * drops $SLIPWAY_*: the app's own setting keeps the one-off off a
	 * network of its own)
	 */
	OK("access:add", "alice", "-a", APP);
	free(SANDBOX_OK(&sb, NULL, "git", "--git-dir", sb.repo, "config", "slipway.appNetwork",
			"host"));
	const char *line[] = { "SSH_ORIGINAL_COMMAND=pg:psql -a " APP, NULL };
	const char *shell[] = { SLIPWAY_BIN, "--root", sb.root, "shell", "alice", NULL };
	term_start(&t, &sb, sb.dir, line, shell, 24, 100);
	psql_console(&t);
	/* the control: a command that is no console is refused a terminal */
	const char *apps[] = { "SSH_ORIGINAL_COMMAND=apps", NULL };
	term_start(&t, &sb, sb.dir, apps, shell, 24, 100);
	cr_assert_eq(term_wait(&t), 1, "%s", t.out);
	cr_assert(strstr(t.out, "refused: only 'run', 'pg:psql' and 'redis:cli' take a terminal"),
		  "%s", t.out);
	term_close(&t);
}

/* ---- Redis ---- */

Test(pg_console, redis_cli_and_redis_info)
{
	char *out = OK("addons:create", "heroku-redis", "-a", APP);
	char *name = addon_name(out, "redis-");

	/* stdin, no terminal: the commands are read; the app's own commands work (the control) */
	out = ok_in("SET k v\nGET k\nKEYS *\nDBSIZE\nFLUSHDB\nDBSIZE\nACL WHOAMI\n",
		    (const char *[]){ "redis:cli", "-a", APP, NULL });
	char *url = app_sandbox_chomp(OK("config:get", "REDIS_URL", "-a", APP)), *user, *password;
	url_login(url, &user, &password);
	cr_assert_str_eq(out, gc(th_path("OK\nv\nk\n1\nOK\n0\n%s\n", user)));
	out = ok_in("INFO server\n", (const char *[]){ "redis:cli", "REDIS_URL", "-a", APP, NULL });
	cr_assert(strstr(out, "redis_version:7."), "%s", out);

	/* but not reconfigure, stop or take over its server */
	out = ok_in("CONFIG SET maxmemory 1\nACL SETUSER eve on >pw +@all\nSHUTDOWN NOSAVE\n"
		    "CONFIG GET maxmemory\nCLIENT KILL TYPE normal\nMIGRATE 127.0.0.1 1 k 0 1\n"
		    "CLIENT LIST\nPING\n",
		    (const char *[]){ "redis:cli", "-a", APP, NULL });
	cr_assert_eq(th_count(out, "NOPERM"), 6, "%s", out);
	cr_assert(strstr(out, "cmd=client|list") && strstr(out, "PONG\n"), "%s", out);

	/* redis:info */
	out = OK("redis:info", "-a", APP);
	cr_assert(strstr(out, gc(th_path("=== %s (REDIS_URL)\nPlan:        local\n"
					 "Status:      available\nCreated:     20", name))),
		  "%s", out);
	cr_assert(strstr(out, "\nVersion:     7."), "%s", out);
	cr_assert(strstr(out, "\nMaxmemory:   64M (noeviction)\nMemory used: "), "%s", out);
	cr_assert(strstr(out, "\nClients:     0\n"), "%s", out);
	out = OK("redis:info", name, "-a", APP, "--json");
	cr_assert(strstr(out, "\"status\":\"available\""), "%s", out);
	cr_assert(strstr(out, "\"maxmemory\":67108864,\"maxmemory_policy\":\"noeviction\""),
		  "%s", out);

	/* an add-on of the other kind is no PostgreSQL */
	app_sandbox_refused_line(sw("pg:psql", "-a", APP, "-c", "SELECT 1"),
		"shop has no postgresql add-on (addons:create postgresql -a shop)");
	app_sandbox_refused_line(sw("pg:psql", "REDIS", "-a", APP, "-c", "SELECT 1"),
		"REDIS is a redis add-on, not postgresql");
	app_sandbox_refused_line(sw("redis:info", "DATABASE", "-a", APP), "Couldn't find that add-on: DATABASE is not "
		"attached to shop");
}

/* ---- addons in a checkout ---- */

Test(pg_console, addons_in_a_checkout_lists_its_app_s)
{
	char *mine = addon_name(OK("addons:create", "postgresql", "-a", APP), "postgresql-");
	char *other = addon_name(OK("addons:create", "redis", "-a", OTHER), "redis-");
	/* the control: outside a checkout, every add-on */
	char *all = OK("addons");
	cr_assert(strstr(all, mine) && strstr(all, other), "%s", all);

	/* in APP's checkout (its remote "heroku"): APP's, as with -a APP; --all: every one */
	app_sandbox_checkout(&sb, NULL, "main", NULL);
	char *here = app_sandbox_must(SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, "addons"), "addons");
	cr_assert_str_eq(here, OK("addons", "-a", APP));
	cr_assert(strstr(here, mine) && !strstr(here, other), "%s", here);
	free(here);
	here = app_sandbox_must(SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, "addons", "--all"), "--all");
	cr_assert_str_eq(here, all);
	free(here);

	/* through an ssh remote: sent with -a APP */
	free(SANDBOX_OK(&sb, NULL, "git", "remote", "add", "laptop",
			"ssh://git@127.0.0.1:2222/" APP ".git"));
	const char *env[APP_SANDBOX_ENV_MAX + 2], *argv[] = { SLIPWAY_BIN, "addons", "-r", "laptop",
							     NULL };
	size_t n = 0;
	for (; n < sb.nenv; n++)
		env[n] = sb.env[n];
	env[n++] = "GIT_SSH_COMMAND=echo SSH";
	env[n] = NULL;
	struct th_result r = th_run(sb.src, env, NULL, argv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "SSH -p 2222 git@127.0.0.1 addons -a " APP "\n");
	th_result_free(&r);
}

/* ---- a remote user's console ---- */

Test(pg_console, a_remote_user_s_console_runs_in_the_app_s_sandbox)
{
	deploy();
	char *name = addon_name(OK("addons:create", "postgresql", "-a", APP), "postgresql-");
	OK("addons:create", "redis", "-a", APP);
	OK("access:add", "alice", "-a", APP);
	OK("access:add", "alice", "-a", OTHER);
	char *creds = gc(th_path("%s/addons/%s/credentials", sb.root, name));
	char *escape = gc(th_path("\\! cat %s", creds));

	/* the control: psql's \! is a shell of the server user's for the operator */
	char *out = ok_in(NULL, (const char *[]){ "pg:psql", "-a", APP, "-c", escape, NULL });
	cr_assert(strstr(out, "superpassword "), "%s", out);

	/* a remote user's: the app's sandbox, where the server's files are not */
	struct th_result r = as_alice(NULL, (const char *[]){ "pg:psql", "-a", APP, "-c", escape,
							      NULL });
	cr_assert_null(strstr(r.out, "superpassword"), "%s", r.out);
	cr_assert(strstr(r.err, "No such file or directory"), "%s", r.err);
	th_result_free(&r);
	/* and the console itself works there, as the app's user, stdin or -c */
	char *url = app_sandbox_chomp(OK("config:get", "DATABASE_URL", "-a", APP)), *user, *password;
	url_login(url, &user, &password);
	r = as_alice("SELECT session_user;\n", (const char *[]){ "pg:psql", "-a", APP, NULL });
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, user), "%s", r.out);
	cr_assert(strstr(r.err, gc(th_path("-----> Connecting to %s\n", name))), "%s", r.err);
	th_result_free(&r);
	r = as_alice(NULL, (const char *[]){ "pg:psql", "-a", APP, "-c", "SELECT 6 * 7", NULL });
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "42"), "%s", r.out);
	th_result_free(&r);
	r = as_alice("SET k v\nGET k\n", (const char *[]){ "redis:cli", "-a", APP, NULL });
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "OK\nv\n");
	th_result_free(&r);

	/* an app without code has no sandbox to run it in: refused, one line */
	char *other = addon_name(OK("addons:create", "postgresql", "-a", OTHER), "postgresql-");
	app_sandbox_refused_line(as_alice(NULL, (const char *[]){ "pg:psql", "-a", OTHER, "-c", "SELECT 1", NULL }),
		gc(th_path("%s's console runs in the sandbox of " OTHER "'s running release, which "
			   "has no code yet: push first", other)));
}
