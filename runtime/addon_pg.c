#define _GNU_SOURCE
#include "runtime/addon_pg.h"

#include "exec/sandbox.h"

#include "runtime/addon_kind.h"
#include "store/addons.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/run.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where Debian puts each major version's programs. */
#define PG_LIB "/usr/lib/postgresql"

char *addon_pg_bindir(int major)
{
	return xasprintf("%s/%d/bin", PG_LIB, major);
}

static int pg_installed(int *major)
{
	DIR *d = opendir(PG_LIB);
	struct dirent *e;
	*major = 0;
	while (d && (e = readdir(d))) {
		char *end = NULL;
		long v = strtol(e->d_name, &end, 10);
		if (end == e->d_name || *end || v <= 0 || v > 1000 || v <= *major)
			continue;
		char *bin = addon_pg_bindir((int)v), *postgres = xasprintf("%s/postgres", bin);
		if (access(postgres, X_OK) == 0)
			*major = (int)v;
		free(postgres);
		free(bin);
	}
	if (d)
		closedir(d);
	if (!*major)
		return sw_error_set(SW_ENOTFOUND, "PostgreSQL is not installed (%s/N/bin/postgres): "
				    "install the postgresql-15 package", PG_LIB);
	return 0;
}

/* The line a server that refuses its data logs; the service's run program says the same. */
#define PG_REFUSAL "add-on '%s' refuses to start: its data is of PostgreSQL %s, the installed " \
		   "server is PostgreSQL %d (upgrade the data with pg_upgrade, or install " \
		   "postgresql-%s)"

static int pg_check(const char *root, const struct addon *a)
{
	int major = 0, err = pg_installed(&major);
	if (err)
		return err;
	char *have = addon_version_file(root, a->name, "data/PG_VERSION"), want[16];
	snprintf(want, sizeof(want), "%d", major);
	if (strcmp(have, want))
		err = sw_error_set(SW_EINVALID, PG_REFUSAL, a->name, have, major, have);
	free(have);
	return err;
}

/* A value of postgresql.conf: 'text', quotes doubled. */
static void conf_quoted(struct buf *b, const char *s)
{
	buf_adds(b, "'");
	for (; *s; s++)
		buf_adds(b, *s == '\'' ? "''" : (char[]){ *s, 0 });
	buf_adds(b, "'");
}

/* data/slipway.conf, included from the postgresql.conf initdb wrote. */
static int write_conf(const char *root, const struct addon *a)
{
	char *conf = paths_addon_file(root, a->name, "data/slipway.conf");
	char *main_conf = paths_addon_file(root, a->name, "data/postgresql.conf");
	char *sock = paths_addon_file(root, a->name, "run");
	char *text = NULL;
	size_t len = 0;
	struct buf b = BUF_INIT;
	int err;

	buf_addf(&b, "# written by slipway: the server of add-on %s\n"
		     "listen_addresses = '127.0.0.1'\n"
		     "port = %d\n"
		     "unix_socket_directories = ",
		 a->name, a->port);
	conf_quoted(&b, sock);
	buf_adds(&b, "\nunix_socket_permissions = 0777\n"
		     "shared_buffers = 16MB\n"
		     "max_connections = 20\n"
		     "password_encryption = scram-sha-256\n"
		     "logging_collector = off\n");
	if (!(err = fs_write_atomic(conf, b.data, b.len, 0600)) &&
	    !(err = fs_read_file(main_conf, 1 << 20, &text, &len))) {
		buf_reset(&b);
		buf_add(&b, text, len);
		buf_adds(&b, "\ninclude 'slipway.conf'\n");
		err = fs_write_atomic(main_conf, b.data, b.len, 0600);
	}
	free(text);
	buf_release(&b);
	free(sock);
	free(main_conf);
	free(conf);
	return err;
}

/* What a failing program of the server's said: its first error, else its last line. */
struct said {
	struct buf reason, last;
};

/* Keeps the line that says why: after "FATAL:", "ERROR:" or "error:" ("initdb: error: ..."). */
static void collect(const char *line, size_t len, void *ctx)
{
	static const char *const marks[] = { "FATAL:", "ERROR:", "error:" };
	struct said *s = ctx;
	char *text = xstrndup(line, len);
	for (size_t i = 0; !s->reason.len && i < sizeof(marks) / sizeof(*marks); i++) {
		const char *at = strstr(text, marks[i]);
		if (at)
			buf_adds(&s->reason, at + strlen(marks[i]) + strspn(at + strlen(marks[i]), " "));
	}
	if (len) {
		buf_reset(&s->last);
		buf_adds(&s->last, text);
	}
	free(text);
}

/* Runs a program of the server's; SW_ERROR with what it said when it fails. */
static int pg_run(const char *const *argv, void (*before_exec)(void *), void *ctx)
{
	struct said said = { BUF_INIT, BUF_INIT };
	struct run_opts o = RUN_OPTS_INIT;
	int status = -1;
	o.argv = argv;
	o.on_line = collect;
	o.ctx = &said;
	o.timeout_sec = 300;
	o.before_exec = before_exec;
	o.before_exec_ctx = ctx;
	int err = run_child(&o, &status);
	const char *name = strrchr(argv[0], '/');
	if (!err && status)
		err = sw_error_set(SW_ERROR, "%s failed (exit %d): %s", name ? name + 1 : argv[0],
				   status,
				   said.reason.len ? said.reason.data
				   : said.last.len ? said.last.data : "no output");
	buf_release(&said.reason);
	buf_release(&said.last);
	return err;
}

/* Writes a file of secrets, mode 0600, that must not exist yet. */
static int write_secret(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int err = fd < 0 || fs_write_all(fd, text, strlen(text)) < 0
		  ? sw_error_errno(SW_ERROR, "cannot write '%s'", path) : 0;
	if (fd >= 0)
		close(fd);
	return err;
}

/* initdb: the cluster, its superuser's password given through a file removed at once. */
static int initdb(const char *root, const struct addon *a, const struct addon_credentials *c)
{
	char *bin = addon_pg_bindir(a->major), *prog = xasprintf("%s/initdb", bin);
	char *data = paths_addon_file(root, a->name, "data");
	char *pwfile = paths_addon_file(root, a->name, ".superpassword");
	char *pwarg = xasprintf("--pwfile=%s", pwfile), *user = xasprintf("--username=%s", c->superuser);
	char *pass = xasprintf("%s\n", c->superpassword);
	int err = write_secret(pwfile, pass);
	/*
	 * --no-sync: its thousand fsyncs are most of its time; the data is
	 * made durable once, after the app's role and database (syncfs)
	 */
	const char *argv[] = { prog, "-D", data, user, "--auth=scram-sha-256", pwarg,
			       "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions",
			       "--no-sync", NULL };
	if (!err)
		err = pg_run(argv, NULL, NULL);
	unlink(pwfile);
	free(pass);
	free(user);
	free(pwarg);
	free(pwfile);
	free(data);
	free(prog);
	free(bin);
	return err;
}

static void stdin_from(void *ctx)
{
	dup2(*(int *)ctx, 0);
}

/*
 * A file of secrets (mode 0600, removed at once) open for reading in *fd:
 * what a child reads on its stdin, so that no password is in an argv.
 */
static int secret_stdin(const char *root, const struct addon *a, const char *text, int *fd)
{
	char *path = paths_addon_file(root, a->name, ".stdin");
	unlink(path); /* what a killed run left */
	int err = write_secret(path, text);
	*fd = -1;
	if (!err && (*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		err = sw_error_errno(SW_ERROR, "cannot read '%s'", path);
	unlink(path);
	free(path);
	return err;
}

/*
 * The apps' role and database, made by the server in single-user mode
 * before it ever listens: the database's owner, a role no one logs in
 * as, and the first login, a member acting as it (SET role), so that what
 * either login makes is the owner's and stays usable by the other
 * (release/rotate.h); pg_read_all_stats lets the logins, acting as the
 * owner, still see their own sessions' queries in pg_stat_activity.  The statements (a password among them) reach it
 * on stdin; exit_on_error makes a failed one its exit status.
 */
static int app_login(const char *root, const struct addon *a, const struct addon_credentials *c)
{
	char *bin = addon_pg_bindir(a->major), *prog = xasprintf("%s/postgres", bin);
	char *data = paths_addon_file(root, a->name, "data");
	char *sql = xasprintf("CREATE ROLE \"%s\" NOLOGIN;\n\n"
			      "CREATE ROLE \"%s\" LOGIN PASSWORD '%s' IN ROLE \"%s\";\n\n"
			      "ALTER ROLE \"%s\" SET role \"%s\";\n\n"
			      "GRANT pg_read_all_stats TO \"%s\";\n\n"
			      "CREATE DATABASE \"%s\" OWNER \"%s\";\n\n"
			      "REVOKE ALL ON DATABASE \"%s\" FROM PUBLIC;\n\n",
			      c->owner, c->user, c->password, c->owner, c->user, c->owner,
			      c->owner, c->database, c->owner, c->database);
	int fd = -1, err = secret_stdin(root, a, sql, &fd);
	const char *argv[] = { prog, "--single", "-j", "-D", data, "-c", "exit_on_error=on",
			       "-c", "fsync=off", "template1", NULL };
	if (!err)
		err = pg_run(argv, stdin_from, &fd);
	if (fd >= 0)
		close(fd);
	/* one syncfs instead of initdb's and the checkpoint's fsyncs */
	int dfd = err ? -1 : open(data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!err && (dfd < 0 || syncfs(dfd) < 0))
		err = sw_error_errno(SW_ERROR, "cannot sync '%s'", data);
	if (dfd >= 0)
		close(dfd);
	memset(sql, 0, strlen(sql));
	free(sql);
	free(data);
	free(prog);
	free(bin);
	return err;
}

static int pg_prepare(const char *root, const struct addon *a, struct addon_credentials *c)
{
	char hex[15];
	int err = 0;
	char *sock = paths_addon_file(root, a->name, "run");

	memset(c, 0, sizeof(*c));
	snprintf(c->superuser, sizeof(c->superuser), "slipway");
	/* Heroku's look: a user "u..." and a database "d..." of their own, long hex passwords */
	if ((err = addon_random_hex(c->superpassword, 32)) || (err = addon_random_hex(c->password, 32)) ||
	    (err = addon_random_hex(hex, 7)))
		goto done;
	snprintf(c->user, sizeof(c->user), "u%s", hex);
	if ((err = addon_random_hex(hex, 7)))
		goto done;
	snprintf(c->database, sizeof(c->database), "d%s", hex);
	if ((err = addon_random_hex(hex, 7)))
		goto done;
	snprintf(c->owner, sizeof(c->owner), "o%s", hex);
	/* the socket's path must fit a sockaddr_un: ".../run/.s.PGSQL.30000" */
	if (strlen(sock) + 20 > 107) {
		err = sw_error_set(SW_EINVALID, "the root's path is too long for the socket '%s'", sock);
		goto done;
	}
	if (mkdir(sock, 0755) < 0) {
		err = sw_error_errno(SW_ERROR, "cannot create '%s'", sock);
		goto done;
	}
	if (!(err = initdb(root, a, c)) && !(err = write_conf(root, a)))
		err = app_login(root, a, c);
done:
	free(sock);
	return err;
}

static void pg_service(const char *root, const struct addon *a, struct buf *run, struct buf *check)
{
	char *bin = addon_pg_bindir(a->major), *data = paths_addon_file(root, a->name, "data");
	char *version = paths_addon_file(root, a->name, "data/PG_VERSION");
	char *sock = paths_addon_file(root, a->name, "run");
	char line[512];

	/* the line pg_check() gives, with the shell's $v for the data's version */
	snprintf(line, sizeof(line), PG_REFUSAL, a->name, "$v", a->major, "$v");
	buf_adds(run, "exec 2>&1\nv=$(cat ");
	buf_add_shell_quoted(run, version);
	buf_addf(run, " 2>/dev/null) || v=none\n"
		      "if [ \"$v\" != %d ]; then\n"
		      "\techo \"%s\"\n"
		      "\texit %d\n"
		      "fi\n",
		 a->major, line, ADDON_EXIT_REFUSED);
	/*
	 * s6-notifyoncheck runs data/check until it succeeds, then tells s6
	 * the service is ready; -d: the poller is not postgres's child
	 */
	buf_adds(run, "exec s6-notifyoncheck -d -s 20 -w 100 -n 0 -T 600000 ");
	buf_add_shell_quoted(run, bin);
	buf_adds(run, "/postgres -D ");
	buf_add_shell_quoted(run, data);
	buf_adds(run, "\n");

	buf_adds(check, "#!/bin/sh\n# written by slipway: ready when the server accepts connections\nexec ");
	buf_add_shell_quoted(check, bin);
	buf_adds(check, "/pg_isready -q -t 5 -h ");
	buf_add_shell_quoted(check, sock);
	buf_addf(check, " -p %d\n", a->port);
	free(sock);
	free(version);
	free(data);
	free(bin);
}

/* libpq, psycopg and node-postgres take the socket directory from host=; PORT picks its file */
static char *pg_url(const struct addon *a, const struct addon_credentials *c, const char *alias)
{
	char *dir = sandbox_addon_dir(alias);
	char *url = xasprintf("postgres://%s:%s@localhost:%d/%s?host=%s", c->user, c->password,
			      a->port, c->database, dir);
	free(dir);
	return url;
}

extern char **environ;

/*
 * Runs the statements sql (on psql's stdin) on the running server, as its
 * superuser (the password in psql's environment, never in an argv).
 */
static int pg_sql(const char *root, const struct addon *a, const struct addon_credentials *c,
		  const char *sql)
{
	char *bin = addon_pg_bindir(a->major), *prog = xasprintf("%s/psql", bin);
	char *sock = paths_addon_file(root, a->name, "run"), port[16];
	char *pw = xasprintf("PGPASSWORD=%s", c->superpassword);
	struct strvec env = STRVEC_INIT;
	int fd = -1, err;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "PG", 2)) /* none of the caller's PGHOST, PGUSER... */
			strvec_push(&env, *e);
	strvec_push(&env, pw);
	strvec_push(&env, "PGCONNECT_TIMEOUT=30");
	snprintf(port, sizeof(port), "%d", a->port);
	const char *argv[] = { prog, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", sock, "-p", port,
			       "-U", c->superuser, "-d", "postgres", "-f", "-", NULL };
	if (!(err = secret_stdin(root, a, sql, &fd))) {
		struct said said = { BUF_INIT, BUF_INIT };
		struct run_opts o = RUN_OPTS_INIT;
		int status = -1;
		o.argv = argv;
		o.env = (const char *const *)env.v;
		o.on_line = collect;
		o.ctx = &said;
		o.timeout_sec = 120;
		o.before_exec = stdin_from;
		o.before_exec_ctx = &fd;
		err = run_child(&o, &status);
		if (!err && status)
			err = sw_error_set(SW_ERROR, "add-on '%s' refused: %s", a->name,
					   said.reason.len ? said.reason.data
					   : said.last.len ? said.last.data : "psql failed");
		buf_release(&said.reason);
		buf_release(&said.last);
	}
	if (fd >= 0)
		close(fd);
	memset(pw, 0, strlen(pw));
	free(pw);
	strvec_clear(&env);
	free(sock);
	free(prog);
	free(bin);
	return err;
}

/* The role owning the database: the owner role, or (one login made it) that login. */
static const char *owner_of(const struct addon_credentials *c)
{
	return c->owner[0] ? c->owner : c->user;
}

static int pg_set_password(const char *root, const struct addon *a,
			   const struct addon_credentials *c, const char *role, const char *password)
{
	const char *owner = owner_of(c);
	struct buf sql = BUF_INIT;
	buf_addf(&sql, "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%s') "
		       "THEN CREATE ROLE \"%s\" LOGIN; END IF; END$$;\n"
		       "ALTER ROLE \"%s\" LOGIN PASSWORD '%s';\n",
		 role, role, role, password);
	/* what it makes belongs to the owner, as what the other login makes does */
	if (strcmp(role, owner))
		buf_addf(&sql, "GRANT \"%s\" TO \"%s\";\nALTER ROLE \"%s\" SET role \"%s\";\n"
			       "GRANT pg_read_all_stats TO \"%s\";\n",
			 owner, role, role, owner, owner);
	int err = pg_sql(root, a, c, sql.data);
	memset(sql.data, 0, sql.len);
	buf_release(&sql);
	return err;
}

static int pg_revoke(const char *root, const struct addon *a, const struct addon_credentials *c,
		     const char *role)
{
	char *sql = xasprintf("ALTER ROLE \"%s\" PASSWORD NULL;\n"
			      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
			      "WHERE usename = '%s';\n",
			      role, role);
	int err = pg_sql(root, a, c, sql);
	free(sql);
	return err;
}

const struct addon_kind addon_kind_pg = {
	.kind = "postgresql",
	.down_signal = "SIGINT",
	.alias = "DATABASE",
	.url = pg_url,
	.installed = pg_installed,
	.prepare = pg_prepare,
	.service = pg_service,
	.check = pg_check,
	.set_password = pg_set_password,
	.revoke = pg_revoke,
};
