#include "view/runtime.h"
#include "view/view.h"

#include "store/ledger.h"
#include "util/json.h"

#include <stdlib.h>
#include <string.h>

void view_ps(struct buf *out, const struct service_info *s, size_t n,
	     char *(*command_of)(void *ctx, const struct service_info *s), void *ctx, int64_t now)
{
	for (size_t i = 0; i < n; i++) {
		if (!i || strcmp(s[i].type, s[i - 1].type)) {
			size_t count = 0;
			/* the type's count is of those that serve, as the formation's */
			for (size_t k = i; k < n && !strcmp(s[k].type, s[i].type); k++)
				count += !s[k].warm_until;
			char *cmd = command_of(ctx, &s[i]);
			buf_addf(out, "%s=== %s (%zu%s%s): %s\n", i ? "\n" : "", s[i].type, count,
				 s[i].size ? ", " : "", s[i].size ? s[i].size : "", cmd);
			free(cmd);
		}
		buf_addf(out, "%s.%d: %s ", s[i].type, s[i].index, s[i].state);
		view_when(out, s[i].since, now);
		if (s[i].host)
			buf_addf(out, " on %s", s[i].host);
		buf_addf(out, "  v%d, port %d", s[i].version, s[i].port);
		if (!strcmp(s[i].state, "warm"))
			buf_addf(out, ", %.1f MB, retires in %llds", (double)s[i].rss / 1e6,
				 s[i].warm_until > now ? s[i].warm_until - (long long)now : 0LL);
		buf_adds(out, "\n");
	}
}

void view_ps_json(struct buf *out, const struct service_info *s, size_t n)
{
	struct json j = JSON_INIT(out);
	struct buf since = BUF_INIT;
	json_array_begin(&j, NULL);
	for (size_t i = 0; i < n; i++) {
		json_object_begin(&j, NULL);
		json_string(&j, "type", s[i].type);
		json_stringf(&j, "name", "%s.%d", s[i].type, s[i].index);
		json_string(&j, "state", s[i].state);
		if (s[i].host)
			json_string(&j, "host", s[i].host);
		json_int(&j, "release", s[i].version);
		json_int(&j, "port", s[i].port);
		if (s[i].size)
			json_string(&j, "size", s[i].size);
		buf_reset(&since);
		view_iso8601(&since, s[i].since);
		json_string(&j, "since", since.data);
		if (!strcmp(s[i].state, "warm")) {
			json_int(&j, "memory", s[i].rss);
			buf_reset(&since);
			view_iso8601(&since, s[i].warm_until);
			json_string(&j, "retires_at", since.data);
		}
		json_object_end(&j);
	}
	json_array_end(&j);
	buf_adds(out, "\n");
	buf_release(&since);
}

static void domain(struct json *j, const char *hostname, const char *kind)
{
	json_object_begin(j, NULL);
	json_string(j, "hostname", hostname);
	json_string(j, "kind", kind);
	json_object_end(j);
}

void view_domains_json(struct buf *out, const char *app, const char *dom,
		       const struct strvec *custom)
{
	struct json j = JSON_INIT(out);
	char *def = xasprintf("%s.%s", app, dom);
	json_array_begin(&j, NULL);
	domain(&j, def, "default");
	for (size_t i = 0; i < custom->n; i++)
		domain(&j, custom->v[i], "custom");
	json_array_end(&j);
	buf_adds(out, "\n");
	free(def);
}

void view_server_status_json(struct buf *out, const struct supervisor_status *st,
			     const struct server_facts *f)
{
	struct json j = JSON_INIT(out);
	json_object_begin(&j, NULL);
	json_bool(&j, "running", st->running);
	json_int(&j, "pid", (int)st->pid);
	json_int(&j, "services", st->services);
	json_int(&j, "outside", st->outside);
	json_string(&j, "router", f->router);
	json_object_begin(&j, "limits");
	json_bool(&j, "enforced", f->limits);
	json_string(&j, "detail", f->limits_detail);
	json_object_end(&j);
	json_array_begin(&j, "warnings");
	for (size_t i = 0; f->warnings && i < f->warnings->n; i++)
		json_string(&j, NULL, f->warnings->v[i]);
	json_array_end(&j);
	json_object_begin(&j, "network");
	json_string(&j, "mode", f->network);
	json_string(&j, "detail", f->network_detail);
	json_object_end(&j);
	json_object_end(&j);
	buf_adds(out, "\n");
}

char *view_ps_command_in_ledger(void *ctx, const struct service_info *s)
{
	struct ledger *l = ctx;
	struct release r = RELEASE_INIT;
	char *cmd = NULL;
	if (ledger_read(l, s->version, LEDGER_READ_PROCS, &r) == 0 &&
	    proc_list_get(&r.procs, s->type))
		cmd = xstrdup(proc_list_get(&r.procs, s->type));
	release_release(&r);
	return cmd ? cmd : xstrdup("");
}
