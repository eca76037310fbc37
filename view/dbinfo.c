#define _GNU_SOURCE
#include "view/dbinfo.h"

#include "util/json.h"
#include "util/units.h"
#include "util/util.h"
#include "view/view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Local add-ons have one plan: the server's defaults. */
#define PLAN "local"

/* "2026-12-06 15:58" (UTC), as Heroku writes Created. */
static void created(struct buf *out, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char s[32] = "unknown";
	if (gmtime_r(&tt, &tm))
		strftime(s, sizeof(s), "%Y-%m-%d %H:%M", &tm);
	buf_adds(out, s);
}

static void size(struct buf *out, int64_t bytes)
{
	char s[32];
	units_format_size(bytes > 0 ? (uint64_t)bytes : 0, s, sizeof(s));
	buf_adds(out, s);
}

static void status(struct buf *out, const struct dbinfo *d, const char *up, const char *down)
{
	buf_adds(out, d->available ? up : down);
	if (!d->available && d->reason[0])
		buf_addf(out, " (%s)", d->reason);
	buf_adds(out, "\n");
}

void view_pg_info(struct buf *out, const struct dbinfo *d)
{
	buf_addf(out, "=== %s\n", d->vars);
	buf_adds(out, "Plan:        " PLAN "\nStatus:      ");
	status(out, d, "Available", "Unavailable");
	if (d->available) {
		buf_adds(out, "Data Size:   ");
		size(out, d->pg.data_size);
		buf_addf(out, "\nTables:      %d\nPG Version:  %s\nConnections: %d/%d\n",
			 d->pg.tables, d->pg.version, d->pg.connections, d->pg.max_connections);
	}
	buf_adds(out, "Created:     ");
	created(out, d->a.created);
	buf_addf(out, "\nAdd-on:      %s\n", d->a.name);
}

void view_redis_info(struct buf *out, const struct dbinfo *d)
{
	buf_addf(out, "=== %s (%s)\n", d->a.name, d->vars);
	buf_adds(out, "Plan:        " PLAN "\nStatus:      ");
	status(out, d, "available", "unavailable");
	buf_adds(out, "Created:     ");
	created(out, d->a.created);
	buf_adds(out, "\n");
	if (!d->available)
		return;
	buf_addf(out, "Version:     %s\nMaxmemory:   ", d->redis.version);
	if (d->redis.maxmemory > 0)
		size(out, d->redis.maxmemory);
	else
		buf_adds(out, "none");
	if (d->redis.policy[0])
		buf_addf(out, " (%s)", d->redis.policy);
	buf_adds(out, "\nMemory used: ");
	size(out, d->redis.used_memory);
	buf_addf(out, "\nClients:     %d\n", d->redis.clients);
}

/* "A, B" as a JSON array of strings. */
static void vars_array(struct json *j, const char *vars)
{
	json_array_begin(j, "config_vars");
	for (const char *p = vars; *p;) {
		size_t n = strcspn(p, ",");
		char *v = xstrndup(p, n);
		json_string(j, NULL, v);
		free(v);
		p += n;
		p += strspn(p, ", ");
	}
	json_array_end(j);
}

static void figures(struct json *j, const struct dbinfo *d)
{
	int pg = !strcmp(d->a.kind, "postgresql");
	const char *version = pg ? d->pg.version : d->redis.version;
	json_string(j, "version", d->available ? version : NULL);
	if (!d->available) {
		const char *const keys[2][4] = {
			{ "connections", "max_connections", "data_size", "tables" },
			{ "maxmemory", "maxmemory_policy", "used_memory", "clients" },
		};
		for (size_t i = 0; i < 4; i++)
			json_null(j, keys[!pg][i]);
	} else if (pg) {
		json_int(j, "connections", d->pg.connections);
		json_int(j, "max_connections", d->pg.max_connections);
		json_int(j, "data_size", d->pg.data_size);
		json_int(j, "tables", d->pg.tables);
	} else {
		json_int(j, "maxmemory", d->redis.maxmemory);
		json_string(j, "maxmemory_policy", d->redis.policy);
		json_int(j, "used_memory", d->redis.used_memory);
		json_int(j, "clients", d->redis.clients);
	}
}

void view_dbinfo_json(struct buf *out, const struct dbinfo *v, size_t n)
{
	struct json j = JSON_INIT(out);
	struct buf when = BUF_INIT;
	json_array_begin_lined(&j, NULL);
	for (size_t i = 0; i < n; i++) {
		const struct dbinfo *d = &v[i];
		json_object_begin(&j, NULL);
		json_string(&j, "name", d->a.name);
		json_string(&j, "kind", d->a.kind);
		vars_array(&j, d->vars);
		json_string(&j, "plan", PLAN);
		json_string(&j, "status", d->available ? "available" : "unavailable");
		json_string(&j, "reason", d->available ? NULL : d->reason);
		buf_reset(&when);
		view_iso8601(&when, d->a.created);
		json_string(&j, "created_at", when.data);
		figures(&j, d);
		json_object_end(&j);
	}
	json_array_end(&j);
	buf_adds(out, "\n");
	buf_release(&when);
}
