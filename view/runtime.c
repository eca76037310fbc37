#include "view/runtime.h"
#include "view/view.h"

#include "util/json.h"

#include <stdlib.h>

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
		json_int(&j, "release", s[i].version);
		json_int(&j, "port", s[i].port);
		buf_reset(&since);
		view_iso8601(&since, s[i].since);
		json_string(&j, "since", since.data);
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
			     const char *router)
{
	struct json j = JSON_INIT(out);
	json_object_begin(&j, NULL);
	json_bool(&j, "running", st->running);
	json_int(&j, "pid", (int)st->pid);
	json_int(&j, "services", st->services);
	json_int(&j, "outside", st->outside);
	json_string(&j, "router", router);
	json_object_end(&j);
	buf_adds(out, "\n");
}
