/*
 * release/rotate (an add-on's two logins), with real PostgreSQL and Redis
 * servers under the root's real s6 tree, run as an unprivileged user (when
 * the tests run as root, each test becomes SLIPWAY_TEST_USER, by default
 * "nobody", first).  No app is attached here: the apps' side is
 * tests/integration/test_rotate.c.
 *
 * rotate: PostgreSQL - what one login makes (a table, its rows) the other
 * reads and writes, and what the other makes the first one reads (they
 * act as the owner role); after a rotation the new login works, the old
 * password is refused (the control: it worked before) and a session the
 * old login had open is ended; a second rotation goes back to the first
 * login with a new password.  An add-on made with one login (the owner of
 * its database; no owner role) keeps its tables through its first
 * rotation, which makes the second login.  Redis - the same with ACL users,
 * the second with the first one's rights (no CONFIG).
 * A rotation under way (a password set, the apps not switched) is finished
 * by the next one with the same password.
 */
#define _GNU_SOURCE
#include "tests/addon_helpers.h"

#include "release/rotate.h"
#include "store/addons.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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

TestSuite(rotate, .init = setup, .fini = teardown, .timeout = 240);

static struct addon create(const char *kind)
{
	return ah_create(root, kind);
}

static struct addon_credentials credentials(const struct addon *a)
{
	return ah_credentials(root, a);
}

/* psql on the add-on's socket as user with password, running sql. */
static struct th_result psql(const struct addon *a, const char *user, const char *password,
			     const char *sql)
{
	struct addon_credentials c = credentials(a);
	char *sock = paths_addon_file(root, a->name, "run"), port[16];
	char *pw = th_path("PGPASSWORD=%s", password);
	snprintf(port, sizeof(port), "%d", a->port);
	const char *env[] = { pw, "PGCONNECT_TIMEOUT=30", NULL };
	struct th_result r = th_runv(NULL, env, "psql", "-X", "-q", "-t", "-A", "-v",
				     "ON_ERROR_STOP=1", "-h", sock, "-p", port, "-U", user, "-d",
				     c.database, "-c", sql, NULL);
	free(pw);
	free(sock);
	return r;
}

/* What sql selects as user (it must succeed). */
static char *sql_as(const struct addon *a, const char *user, const char *password,
		    const char *sql)
{
	struct th_result r = psql(a, user, password, sql);
	cr_assert_eq(r.status, 0, "psql as %s: %s", user, r.err);
	char *out = th_keep(xstrdup(r.out));
	th_result_free(&r);
	return out;
}

/* psql as user with password is refused at login. */
static void refused_login(const struct addon *a, const char *user, const char *password)
{
	struct th_result r = psql(a, user, password, "SELECT 1");
	cr_assert_neq(r.status, 0, "%s logged in", user);
	cr_assert(strstr(r.err, "password authentication failed"), "%s", r.err);
	th_result_free(&r);
}

/* rotate_credentials() of a, which no app has attached. */
static void rotate(const struct addon *a)
{
	struct rotate_report rep = ROTATE_REPORT_INIT;
	FILE *out = fopen("/dev/null", "w");
	cr_assert(out);
	cr_assert_eq(rotate_credentials(root, a->name, "test", out, &rep), 0, "%s", sw_error_last());
	cr_assert_eq(rep.n, 0);
	rotate_report_release(&rep);
	fclose(out);
}

/* The superuser's sql on the add-on's own database. */
static void as_superuser(const struct addon *a, const char *sql)
{
	struct addon_credentials c = credentials(a);
	sql_as(a, c.superuser, c.superpassword, sql);
}

Test(rotate, postgresql_two_logins_share_the_tables_and_the_old_one_is_revoked)
{
	struct addon a = create("postgresql");
	struct addon_credentials one = credentials(&a);
	cr_assert(one.owner[0] && strcmp(one.owner, one.user), "%s", one.owner);
	cr_assert_str_eq(sql_as(&a, one.user, one.password, "CREATE TABLE t (x text); "
				"INSERT INTO t VALUES ('one'); SELECT x FROM t"), "one\n");

	/* an open session of the first login, ended by the rotation */
	pid_t client = fork();
	cr_assert_geq(client, 0);
	if (client == 0) {
		struct th_result r = psql(&a, one.user, one.password, "SELECT pg_sleep(600)");
		_exit(r.status == 0 ? 0 : 3);
	}
	const char *q = "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(600)'";
	char *n = sql_as(&a, one.user, one.password, q);
	for (int i = 0; i < 300 && strcmp(n, "1\n"); i++) {
		ah_sleep_ms(100);
		n = sql_as(&a, one.user, one.password, q);
	}
	cr_assert_str_eq(n, "1\n", "the session never ran");

	rotate(&a);
	struct addon_credentials two = credentials(&a);
	cr_assert_str_neq(two.user, one.user);
	cr_assert_str_eq(two.other, one.user);
	cr_assert_str_eq(two.owner, one.owner);
	cr_assert_str_eq(two.next, "");
	/* the second login reads and writes what the first made, and makes its own */
	cr_assert_str_eq(sql_as(&a, two.user, two.password, "INSERT INTO t VALUES ('two'); "
				"CREATE TABLE u (y text); INSERT INTO u VALUES ('made by two'); "
				"SELECT string_agg(x, ',' ORDER BY x) FROM t"), "one,two\n");
	/* the old password is refused now (it logged in above: the control), its session ended */
	refused_login(&a, one.user, one.password);
	int status = 0;
	cr_assert_eq(waitpid(client, &status, 0), client);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3, "the old session was not ended");

	/* the next rotation goes back to the first login, with a password of its own */
	rotate(&a);
	struct addon_credentials three = credentials(&a);
	cr_assert_str_eq(three.user, one.user);
	cr_assert_str_neq(three.password, one.password);
	cr_assert_str_eq(sql_as(&a, three.user, three.password, "SELECT y FROM u"),
			 "made by two\n");
	refused_login(&a, two.user, two.password);
	refused_login(&a, one.user, one.password);
}

Test(rotate, postgresql_made_with_one_login_rotates)
{
	struct addon a = create("postgresql");
	struct addon_credentials c = credentials(&a);
	/* as add-ons were made before two logins: the login owns the database, no owner role */
	char *sql = th_keep(th_path("ALTER DATABASE \"%s\" OWNER TO \"%s\"; ALTER ROLE \"%s\" RESET "
				    "role; REVOKE \"%s\" FROM \"%s\"; DROP ROLE \"%s\"",
				    c.database, c.user, c.user, c.owner, c.user, c.owner));
	as_superuser(&a, sql);
	struct addon_credentials one = c;
	one.owner[0] = '\0';
	cr_assert_eq(addon_credentials_write(root, a.name, &one), 0, "%s", sw_error_last());
	cr_assert_str_eq(sql_as(&a, one.user, one.password, "CREATE TABLE t (x text); "
				"INSERT INTO t VALUES ('old'); SELECT tableowner FROM pg_tables "
				"WHERE tablename = 't'"), th_keep(th_path("%s\n", one.user)));

	/* the first rotation makes the second login, a member of the first */
	rotate(&a);
	struct addon_credentials two = credentials(&a);
	cr_assert_str_neq(two.user, one.user);
	cr_assert_str_eq(two.owner, one.user);
	cr_assert_str_eq(sql_as(&a, two.user, two.password, "INSERT INTO t VALUES ('new'); "
				"CREATE TABLE u (y text); INSERT INTO u VALUES ('y'); "
				"SELECT string_agg(x, ',' ORDER BY x) FROM t"), "new,old\n");
	refused_login(&a, one.user, one.password);

	/* and back: the first login, the owner, reads what the second made */
	rotate(&a);
	struct addon_credentials three = credentials(&a);
	cr_assert_str_eq(three.user, one.user);
	cr_assert_str_eq(sql_as(&a, three.user, three.password, "SELECT y FROM u"), "y\n");
	refused_login(&a, two.user, two.password);
}

/* redis-cli on the add-on's socket as user with password: its status, output in *out (kept). */
static int redis(const struct addon *a, const char *user, const char *password, const char *cmd,
		 const char *arg1, const char *arg2, char **out)
{
	const char *argv[] = { cmd, arg1, arg2, NULL };
	struct th_result r = ah_redis_cli(root, a, user, password, argv);
	*out = th_keep(th_path("%s%s", r.out, r.err));
	int status = r.status;
	th_result_free(&r);
	return status;
}

Test(rotate, redis_two_logins_and_a_rotation_under_way_finished)
{
	struct addon a = create("redis");
	struct addon_credentials one = credentials(&a);
	char *out = NULL;
	cr_assert_eq(redis(&a, one.user, one.password, "SET", "k", "v", &out), 0, "%s", out);
	cr_assert_str_eq(out, "OK\n");
	redis(&a, one.user, one.password, "CONFIG", "GET", "maxmemory", &out);
	cr_assert(strstr(out, "NOPERM"), "%s", out);

	rotate(&a);
	struct addon_credentials two = credentials(&a);
	cr_assert_str_neq(two.user, one.user);
	cr_assert_str_eq(two.other, one.user);
	redis(&a, two.user, two.password, "GET", "k", NULL, &out);
	cr_assert_str_eq(out, "v\n");
	/* with the first login's rights (above): no server administration */
	redis(&a, two.user, two.password, "CONFIG", "GET", "maxmemory", &out);
	cr_assert(strstr(out, "NOPERM"), "%s", out);
	/* the old password worked above (the control); refused now */
	redis(&a, one.user, one.password, "GET", "k", NULL, &out);
	cr_assert(strstr(out, "WRONGPASS"), "%s", out);

	/* a rotation under way (its password recorded): the next one finishes it with that one */
	struct addon_credentials pending = two;
	snprintf(pending.next, sizeof(pending.next), "%s", one.user);
	snprintf(pending.nextpassword, sizeof(pending.nextpassword), "%s", "f00d");
	cr_assert_eq(addon_credentials_write(root, a.name, &pending), 0, "%s", sw_error_last());
	rotate(&a);
	struct addon_credentials three = credentials(&a);
	cr_assert_str_eq(three.user, one.user);
	cr_assert_str_eq(three.password, "f00d");
	cr_assert_str_eq(three.next, "");
	redis(&a, three.user, three.password, "GET", "k", NULL, &out);
	cr_assert_str_eq(out, "v\n");
	redis(&a, two.user, two.password, "GET", "k", NULL, &out);
	cr_assert(strstr(out, "WRONGPASS"), "%s", out);
}
