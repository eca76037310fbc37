#define _GNU_SOURCE
#include "runtime/addon_client.h"

#include "exec/sandbox.h"
#include "runtime/addon_pg.h"
#include "store/addons.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/run.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

/* Debian's redis-tools: on the PATH. */
#define REDIS_CLI "redis-cli"

/* Ours, without what would point the client elsewhere (PGHOST, PGSERVICE, REDISCLI_AUTH...). */
static void client_env(struct strvec *env)
{
	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, "PG", 2) && strncmp(*e, "REDISCLI_", 9))
			strvec_push(env, *e);
}

static void pg_client(const char *root, const struct addon *a, const char *user,
		      const char *password, const char *database, struct addon_client *cl)
{
	char *bin = addon_pg_bindir(a->major), *sock = paths_addon_file(root, a->name, "run");
	strvec_pushf(&cl->argv, "%s/psql", bin);
	strvec_push(&cl->argv, "-h");
	strvec_push(&cl->argv, sock);
	strvec_pushf(&cl->argv, "--port=%d", a->port);
	strvec_pushf(&cl->argv, "--username=%s", user);
	strvec_pushf(&cl->argv, "--dbname=%s", database);
	strvec_pushf(&cl->env, "PGPASSWORD=%s", password);
	strvec_pushf(&cl->env, "PGAPPNAME=slipway");
	free(sock);
	free(bin);
}

static void redis_client(const char *root, const struct addon *a, const char *user,
			 const char *password, const char *database, struct addon_client *cl)
{
	char *sock = paths_addon_file(root, a->name, "run/redis.sock");
	strvec_push(&cl->argv, REDIS_CLI);
	strvec_push(&cl->argv, "-s");
	strvec_push(&cl->argv, sock);
	strvec_push(&cl->argv, "--user");
	strvec_push(&cl->argv, user);
	strvec_push(&cl->argv, "-n");
	strvec_push(&cl->argv, database[0] ? database : "0");
	strvec_pushf(&cl->env, "REDISCLI_AUTH=%s", password);
	free(sock);
}

/* a's kind (*pg: PostgreSQL, else Redis) and its credentials: SW_EINVALID for a kind without a client. */
static int client_login(const char *root, const struct addon *a, int *pg,
			struct addon_credentials *c)
{
	*pg = !strcmp(a->kind, "postgresql");
	if (!*pg && strcmp(a->kind, "redis"))
		return sw_error_set(SW_EINVALID, "add-on '%s' is a %s: it has no client", a->name,
				    a->kind);
	return addon_credentials_read(root, a->name, c);
}

int addon_client_prepare(const char *root, const struct addon *a, enum addon_login who,
			 struct addon_client *cl)
{
	struct addon_credentials c;
	int pg, err = client_login(root, a, &pg, &c);
	if (err)
		return err;
	int super = who == ADDON_CLIENT_SUPERUSER;
	client_env(&cl->env);
	(pg ? pg_client : redis_client)(root, a, super ? c.superuser : c.user,
					 super ? c.superpassword : c.password, c.database, cl);
	memset(&c, 0, sizeof(c)); /* no password left behind on the stack */
	return 0;
}

void addon_client_release(struct addon_client *cl)
{
	strvec_clear(&cl->argv);
	strvec_clear(&cl->env);
}

int addon_client_sandboxed(const char *root, const struct addon *a, const char *alias,
			   struct strvec *words, struct config *vars)
{
	struct addon_credentials c;
	char port[16];
	int pg, err = client_login(root, a, &pg, &c);
	if (err)
		return err;
	/* where exec/sandbox.c mounts its socket directory */
	char *dir = sandbox_addon_dir(alias);
	snprintf(port, sizeof(port), "%d", a->port);
	if (pg) {
		strvec_push(words, "psql");
		config_set(vars, "PGHOST", dir);
		config_set(vars, "PGPORT", port);
		config_set(vars, "PGUSER", c.user);
		config_set(vars, "PGDATABASE", c.database);
		config_set(vars, "PGPASSWORD", c.password);
	} else {
		strvec_push(words, REDIS_CLI);
		strvec_push(words, "-s");
		strvec_pushf(words, "%s/redis.sock", dir);
		strvec_push(words, "--user");
		strvec_push(words, c.user);
		strvec_push(words, "-n");
		strvec_push(words, c.database[0] ? c.database : "0");
		config_set(vars, "REDISCLI_AUTH", c.password);
	}
	memset(&c, 0, sizeof(c));
	free(dir);
	return 0;
}

/* Collects stderr for the message when the client fails. */
static void collect(const char *line, size_t len, void *ctx)
{
	struct buf *b = ctx;
	if (b->len < 2000)
		buf_addf(b, "%s%.*s", b->len ? "; " : "", (int)len, line);
}

/* Runs cl with the extra words, its stdout into out: SW_ERROR with its stderr when it fails. */
static int client_query(struct addon_client *cl, const char *const *words, struct buf *out)
{
	struct run_opts o = RUN_OPTS_INIT;
	struct buf errors = BUF_INIT;
	int status = -1;
	for (size_t i = 0; words[i]; i++)
		strvec_push(&cl->argv, words[i]);
	o.argv = (const char *const *)cl->argv.v;
	o.env = (const char *const *)cl->env.v;
	o.capture = out;
	o.on_line = collect;
	o.ctx = &errors;
	o.timeout_sec = 30;
	int err = run_child(&o, &status);
	if (!err && status)
		err = sw_error_set(SW_ERROR, "%s failed (exit %d): %s", cl->argv.v[0], status,
				   errors.len ? errors.data : "no output");
	buf_release(&errors);
	return err;
}

/* Every figure of one row; the catalog's tables and psql's own connection left out. */
#define PG_STATS_SQL                                                                          \
	"SELECT split_part(current_setting('server_version'), ' ', 1),"                       \
	" (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"       \
	"  AND pid <> pg_backend_pid()),"                                                      \
	" current_setting('max_connections'),"                                                 \
	" pg_database_size(current_database()),"                                               \
	" (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"     \
	"  WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')" \
	"  AND n.nspname NOT LIKE 'pg\\_toast%')"

int addon_pg_stats(const char *root, const struct addon *a, struct addon_pg_stats *out)
{
	static const char *const words[] = { "-X", "-A", "-t", "-q", "-F", " ", "-c", PG_STATS_SQL,
					     NULL };
	struct addon_client cl = ADDON_CLIENT_INIT;
	struct buf b = BUF_INIT;
	long long size = 0;
	memset(out, 0, sizeof(*out));
	int err = addon_client_prepare(root, a, ADDON_CLIENT_SUPERUSER, &cl);
	if (!err)
		err = client_query(&cl, words, &b);
	if (!err && sscanf(b.data, "%31s %d %d %lld %d", out->version, &out->connections,
			   &out->max_connections, &size, &out->tables) != 5)
		err = sw_error_set(SW_ERROR, "psql's answer is not understood: '%.200s'", b.data);
	out->data_size = size;
	buf_release(&b);
	addon_client_release(&cl);
	return err;
}

/* The value of "key:value" in INFO's answer into out (n bytes): 0, or -1 when absent. */
static int info_field(const char *info, const char *key, char *out, size_t n)
{
	size_t klen = strlen(key);
	for (const char *p = info; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, klen) || p[klen] != ':')
			continue;
		size_t len = strcspn(p + klen + 1, "\r\n");
		snprintf(out, n, "%.*s", (int)len, p + klen + 1);
		return 0;
	}
	return -1;
}

int addon_redis_stats(const char *root, const struct addon *a, struct addon_redis_stats *out)
{
	static const char *const words[] = { "INFO", NULL };
	struct addon_client cl = ADDON_CLIENT_INIT;
	struct buf b = BUF_INIT;
	char num[32];
	memset(out, 0, sizeof(*out));
	int err = addon_client_prepare(root, a, ADDON_CLIENT_SUPERUSER, &cl);
	if (!err)
		err = client_query(&cl, words, &b);
	if (!err && (info_field(b.data, "redis_version", out->version, sizeof(out->version)) < 0 ||
		     info_field(b.data, "used_memory", num, sizeof(num)) < 0))
		err = sw_error_set(SW_ERROR, "redis-cli's INFO is not understood");
	if (!err) {
		out->used_memory = strtoll(num, NULL, 10);
		if (!info_field(b.data, "maxmemory", num, sizeof(num)))
			out->maxmemory = strtoll(num, NULL, 10);
		info_field(b.data, "maxmemory_policy", out->policy, sizeof(out->policy));
		if (!info_field(b.data, "connected_clients", num, sizeof(num)))
			out->clients = (int)strtol(num, NULL, 10) - 1; /* redis-cli's own */
	}
	buf_release(&b);
	addon_client_release(&cl);
	return err;
}
