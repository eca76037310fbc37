#define _GNU_SOURCE
#include "runtime/addon_redis.h"

#include "runtime/addon_kind.h"
#include "store/addons.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/run.h"
#include "util/util.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Found on the PATH: Debian's /usr/bin/redis-server, redis-cli. */
#define REDIS_SERVER "redis-server"
#define REDIS_CLI "redis-cli"

/* "v=7.0.15" in `redis-server --version`: 7. */
static int major_of(const char *version, int *major)
{
	const char *v = strstr(version, " v=");
	char *end = NULL;
	long n = v ? strtol(v + 3, &end, 10) : 0;
	if (!v || end == v + 3 || *end != '.' || n <= 0 || n > 1000)
		return -1;
	*major = (int)n;
	return 0;
}

static int redis_installed(int *major)
{
	static const char *const argv[] = { REDIS_SERVER, "--version", NULL };
	struct run_opts o = RUN_OPTS_INIT;
	struct buf out = BUF_INIT;
	int status = -1, err;
	o.argv = argv;
	o.capture = &out;
	o.timeout_sec = 30;
	*major = 0;
	err = run_child(&o, &status);
	if (err == SW_ENOTFOUND)
		err = sw_error_set(SW_ENOTFOUND,
				   "Redis is not installed (redis-server): install the redis-server package");
	else if (!err && (status || major_of(out.data, major) < 0))
		err = sw_error_set(SW_ERROR, "cannot tell the version of %s: %s", REDIS_SERVER,
				   out.len ? out.data : "no output");
	buf_release(&out);
	return err;
}

/* The line a server that refuses its data logs; the service's run program says the same. */
#define REDIS_REFUSAL "add-on '%s' refuses to start: its data was run by Redis %s, the " \
		      "installed server is Redis %s, which cannot read it (install Redis %s " \
		      "or newer)"

/* A version the installed server reads: a number, at most its own (Redis reads older files). */
static int readable(const char *have, int major)
{
	char *end = NULL;
	long v = strtol(have, &end, 10);
	return end != have && !*end && v > 0 && v <= major;
}

static int redis_check(const char *root, const struct addon *a)
{
	int major = 0, err = redis_installed(&major);
	if (err)
		return err;
	char *have = addon_version_file(root, a->name, "data/REDIS_VERSION"), mine[16];
	snprintf(mine, sizeof(mine), "%d", major);
	if (!readable(have, major))
		err = sw_error_set(SW_EINVALID, REDIS_REFUSAL, a->name, have, mine, have);
	free(have);
	return err;
}

/* A string of redis.conf: "text", with '\' and '"' escaped. */
static void conf_quoted(struct buf *b, const char *s)
{
	buf_adds(b, "\"");
	for (; *s; s++)
		buf_adds(b, *s == '"' ? "\\\"" : *s == '\\' ? "\\\\" : (char[]){ *s, 0 });
	buf_adds(b, "\"");
}

/* A path of the add-on's directory as a redis.conf line: "key "PATH"\n". */
static void conf_path(struct buf *b, const char *key, const char *root, const struct addon *a,
		      const char *file)
{
	char *path = paths_addon_file(root, a->name, file);
	buf_addf(b, "%s ", key);
	conf_quoted(b, path);
	buf_adds(b, "\n");
	free(path);
}

static int write_conf(const char *root, const struct addon *a)
{
	char *conf = paths_addon_file(root, a->name, "data/redis.conf");
	struct buf b = BUF_INIT;
	buf_addf(&b, "# written by slipway: the server of add-on %s\n"
		     "daemonize no\n"
		     "logfile \"\"\n"
		     "bind 127.0.0.1\n"
		     "port %d\n",
		 a->name, a->port);
	conf_path(&b, "unixsocket", root, a, "run/redis.sock");
	/* the app's sandbox connects through it as the server user; no one else */
	buf_adds(&b, "unixsocketperm 770\n");
	conf_path(&b, "dir", root, a, "data");
	conf_path(&b, "aclfile", root, a, "data/users.acl");
	/* the append-only file is its data; snapshots would only fork a copy of it */
	buf_adds(&b, "appendonly yes\n"
		     "appendfsync everysec\n"
		     "save \"\"\n"
		     "maxmemory 64mb\n"
		     "maxmemory-policy noeviction\n"
		     "always-show-logo no\n");
	int err = fs_write_atomic(conf, b.data, b.len, 0600);
	buf_release(&b);
	free(conf);
	return err;
}

/* "#<sha256 hex>": a password as an ACL file keeps it. */
static void acl_hash(struct buf *b, const char *password)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_Digest(password, strlen(password), md, &n, EVP_sha256(), NULL);
	buf_adds(b, "#");
	for (unsigned int i = 0; i < n; i++)
		buf_addf(b, "%02x", md[i]);
}

/*
 * What the app's user may run: every command but the server's
 * administration (@admin: CONFIG, SHUTDOWN, ACL SETUSER, DEBUG, MODULE,
 * SAVE, REPLICAOF, MONITOR, CLIENT KILL...), which is Slipway's, as Heroku
 * Redis keeps it, though CLIENT LIST, to see its own connections; and no
 * MIGRATE, which would make the server connect elsewhere.  KEYS, FLUSHDB,
 * FLUSHALL, INFO and SORT (@dangerous, not @admin) stay: apps use them.
 */
#define REDIS_APP_RIGHTS "+@all -@admin +client|list -migrate"

/*
 * users.acl: without a line of its own "default" would be on with no
 * password; both logins get every key and channel, the superuser every
 * command, the app's user REDIS_APP_RIGHTS.
 */
static int write_acl(const char *root, const struct addon *a, const struct addon_credentials *c)
{
	char *acl = paths_addon_file(root, a->name, "data/users.acl");
	struct buf b = BUF_INIT;
	const char *users[][2] = { { c->superuser, c->superpassword }, { c->user, c->password } };
	buf_adds(&b, "user default off\n");
	for (size_t i = 0; i < 2; i++) {
		buf_addf(&b, "user %s on ", users[i][0]);
		acl_hash(&b, users[i][1]);
		buf_adds(&b, i ? " ~* &* " REDIS_APP_RIGHTS "\n" : " ~* &* +@all\n");
	}
	int err = fs_write_atomic(acl, b.data, b.len, 0600);
	buf_release(&b);
	free(acl);
	return err;
}

/* Makes the directory of the add-on named file, mode. */
static int make_dir(const char *root, const struct addon *a, const char *file, mode_t mode)
{
	char *dir = paths_addon_file(root, a->name, file);
	int err = mkdir(dir, mode) < 0 ? sw_error_errno(SW_ERROR, "cannot create '%s'", dir) : 0;
	free(dir);
	return err;
}

static int redis_prepare(const char *root, const struct addon *a, struct addon_credentials *c)
{
	char hex[15], version[16];
	char *sock = paths_addon_file(root, a->name, "run/redis.sock");
	char *vfile = paths_addon_file(root, a->name, "data/REDIS_VERSION");
	int err = 0;

	memset(c, 0, sizeof(*c));
	snprintf(c->superuser, sizeof(c->superuser), "slipway");
	if ((err = addon_random_hex(c->superpassword, 32)) || (err = addon_random_hex(c->password, 32)) ||
	    (err = addon_random_hex(hex, 7)))
		goto done;
	snprintf(c->user, sizeof(c->user), "u%s", hex);
	/* Redis's logical database: every add-on has its 16, the app's URL names the first */
	snprintf(c->database, sizeof(c->database), "0");
	/* the socket's path must fit a sockaddr_un */
	if (strlen(sock) > 107) {
		err = sw_error_set(SW_EINVALID, "the root's path is too long for the socket '%s'", sock);
		goto done;
	}
	snprintf(version, sizeof(version), "%d\n", a->major);
	if (!(err = make_dir(root, a, "run", 0755)) && !(err = make_dir(root, a, "data", 0700)) &&
	    !(err = write_conf(root, a)) && !(err = write_acl(root, a, c)))
		err = fs_write_atomic(vfile, version, strlen(version), 0600);
done:
	free(vfile);
	free(sock);
	return err;
}

/*
 * run: refuses data a newer Redis ran (one line, ADDON_EXIT_REFUSED),
 * raises REDIS_VERSION to the installed version before that server may
 * write its own formats, then runs the server in the foreground.
 */
static void run_lines(const char *root, const struct addon *a, struct buf *run)
{
	char *version = paths_addon_file(root, a->name, "data/REDIS_VERSION");
	char *conf = paths_addon_file(root, a->name, "data/redis.conf");
	char line[512];

	snprintf(line, sizeof(line), REDIS_REFUSAL, a->name, "$v", "$i", "$v");
	buf_adds(run, "exec 2>&1\nf=");
	buf_add_shell_quoted(run, version);
	buf_adds(run, "\nv=$(cat \"$f\" 2>/dev/null) || v=none\n"
		      "i=$(" REDIS_SERVER " --version | sed -n 's/.* v=\\([0-9]*\\)\\..*/\\1/p')\n"
		      "case $v in\n"
		      "'' | *[!0-9]*) ok=0 ;;\n"
		      "*) [ \"$v\" -le \"${i:-0}\" ] && ok=1 || ok=0 ;;\n"
		      "esac\n");
	buf_addf(run, "if [ $ok = 0 ]; then\n"
		      "\techo \"%s\"\n"
		      "\texit %d\n"
		      "fi\n",
		 line, ADDON_EXIT_REFUSED);
	buf_adds(run, "if [ \"$v\" != \"$i\" ]; then\n"
		      "\techo \"$i\" >\"$f.tmp\" && sync \"$f.tmp\" && mv -f \"$f.tmp\" \"$f\" || exit 1\n"
		      "fi\n");
	/*
	 * s6-notifyoncheck runs data/check until it succeeds, then tells s6
	 * the service is ready; -d: the poller is not the server's child
	 */
	buf_adds(run, "exec s6-notifyoncheck -d -s 20 -w 100 -n 0 -T 600000 " REDIS_SERVER " ");
	buf_add_shell_quoted(run, conf);
	buf_adds(run, "\n");
	free(conf);
	free(version);
}

static void redis_service(const char *root, const struct addon *a, struct buf *run,
			  struct buf *check)
{
	char *creds = paths_addon_file(root, a->name, "credentials");
	char *sock = paths_addon_file(root, a->name, "run/redis.sock");

	run_lines(root, a, run);
	/*
	 * The superuser's password is read from the credentials (0600) each
	 * time, never written here (check is 0755) nor put in an argv;
	 * redis-cli takes it from REDISCLI_AUTH.  A server loading its data
	 * answers LOADING, not PONG.
	 */
	buf_adds(check, "#!/bin/sh\n# written by slipway: ready when the server answers PING\nc=");
	buf_add_shell_quoted(check, creds);
	buf_adds(check, "\nu=$(sed -n 's/^superuser //p' \"$c\") || exit 1\n"
			"REDISCLI_AUTH=$(sed -n 's/^superpassword //p' \"$c\") || exit 1\n"
			"export REDISCLI_AUTH\n"
			"[ \"$(" REDIS_CLI " -s ");
	buf_add_shell_quoted(check, sock);
	buf_adds(check, " --user \"$u\" ping 2>/dev/null)\" = PONG ]\n");
	free(sock);
	free(creds);
}

/* Every Redis client takes it; the port reaches the add-on from the app's sandbox too. */
static char *redis_url(const struct addon *a, const struct addon_credentials *c, const char *alias)
{
	(void)alias;
	return xasprintf("redis://%s:%s@127.0.0.1:%d/%s", c->user, c->password, a->port,
			 c->database[0] ? c->database : "0");
}

extern char **environ;

/* Collects a child's output. */
static void collect(const char *line, size_t len, void *ctx)
{
	struct buf *b = ctx;
	if (b->len < 4000)
		buf_addf(b, "%s%.*s", b->len ? "; " : "", (int)len, line);
}

/* 1 if redis-cli's output (lines joined by "; ") has a refusal. */
static int refused(const char *out)
{
	static const char *const words[] = { "ERR", "WRONGPASS", "NOPERM", "NOAUTH", "(error)",
					     "Could not connect" };
	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		for (const char *p = out; (p = strstr(p, words[i])); p++)
			if (p == out || !strncmp(p - 2, "; ", 2))
				return 1;
	return 0;
}

static void stdin_from(void *ctx)
{
	dup2(*(int *)ctx, 0);
}

/*
 * Runs the commands (one a line, on redis-cli's stdin: a password is
 * never in an argv) on the running server, as its superuser (the password
 * in redis-cli's environment); SW_ERROR with the server's words when one
 * is refused.
 */
static int redis_commands(const char *root, const struct addon *a,
			  const struct addon_credentials *c, const char *commands)
{
	char *sock = paths_addon_file(root, a->name, "run/redis.sock");
	char *path = paths_addon_file(root, a->name, ".stdin");
	char *auth = xasprintf("REDISCLI_AUTH=%s", c->superpassword);
	struct strvec env = STRVEC_INIT;
	struct buf out = BUF_INIT;
	unlink(path); /* what a killed run left */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), err = 0, status = -1;
	if (fd < 0 || fs_write_all(fd, commands, strlen(commands)) < 0)
		err = sw_error_errno(SW_ERROR, "cannot write '%s'", path);
	if (fd >= 0)
		close(fd);
	fd = err ? -1 : open(path, O_RDONLY | O_CLOEXEC);
	if (!err && fd < 0)
		err = sw_error_errno(SW_ERROR, "cannot read '%s'", path);
	unlink(path);
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "REDISCLI_", 9))
			strvec_push(&env, *e);
	strvec_push(&env, auth);
	const char *argv[] = { REDIS_CLI, "-s", sock, "--user", c->superuser, NULL };
	struct run_opts o = RUN_OPTS_INIT;
	o.argv = argv;
	o.env = (const char *const *)env.v;
	o.on_line = collect;
	o.ctx = &out;
	o.timeout_sec = 60;
	o.before_exec = stdin_from;
	o.before_exec_ctx = &fd;
	if (!err)
		err = run_child(&o, &status);
	if (!err && (status || refused(out.data ? out.data : "")))
		err = sw_error_set(SW_ERROR, "add-on '%s' refused: %s", a->name,
				   out.len ? out.data : "redis-cli failed");
	if (fd >= 0)
		close(fd);
	buf_release(&out);
	memset(auth, 0, strlen(auth));
	free(auth);
	strvec_clear(&env);
	free(path);
	free(sock);
	return err;
}

/* Both logins have the app's rights (REDIS_APP_RIGHTS), as users.acl gives the first. */
static int redis_set_password(const char *root, const struct addon *a,
			      const struct addon_credentials *c, const char *role,
			      const char *password)
{
	char *cmds = xasprintf("ACL SETUSER %s reset on >%s ~* &* " REDIS_APP_RIGHTS "\nACL SAVE\n",
			       role, password);
	int err = redis_commands(root, a, c, cmds);
	memset(cmds, 0, strlen(cmds));
	free(cmds);
	return err;
}

static int redis_revoke(const char *root, const struct addon *a,
			const struct addon_credentials *c, const char *role)
{
	char *cmds = xasprintf("ACL SETUSER %s resetpass off\nCLIENT KILL USER %s\nACL SAVE\n",
			       role, role);
	int err = redis_commands(root, a, c, cmds);
	free(cmds);
	return err;
}

const struct addon_kind addon_kind_redis = {
	.kind = "redis",
	.down_signal = "SIGTERM",
	.alias = "REDIS",
	.installed = redis_installed,
	.prepare = redis_prepare,
	.service = redis_service,
	.check = redis_check,
	.url = redis_url,
	.set_password = redis_set_password,
	.revoke = redis_revoke,
};
