#include "view/settings.h"

#include "util/json.h"

#include <string.h>

void view_settings(struct buf *out, const char *app, const struct setting_shown *v)
{
	size_t wname = 4, wvalue = 5;
	for (size_t i = 0; i < SETTINGS_COUNT; i++) {
		size_t n = strlen(settings_table[i].key);
		wname = n > wname ? n : wname;
		n = v[i].value ? strlen(v[i].value) : 0;
		wvalue = n > wvalue ? n : wvalue;
	}
	if (app)
		buf_addf(out, "=== %s Settings\n", app);
	else
		buf_adds(out, "=== Server Settings\n");
	buf_addf(out, "%-*s  %-*s  %s\n", (int)wname, "Name", (int)wvalue, "Value", "Origin");
	for (size_t i = 0; i < SETTINGS_COUNT; i++)
		buf_addf(out, "%-*s  %-*s  %s\n", (int)wname, settings_table[i].key, (int)wvalue,
			 v[i].value ? v[i].value : "", settings_origin_name(v[i].from));
}

void view_settings_json(struct buf *out, const struct setting_shown *v)
{
	struct json j = JSON_INIT(out);
	json_array_begin(&j, NULL);
	for (size_t i = 0; i < SETTINGS_COUNT; i++) {
		const struct setting *d = &settings_table[i];
		json_object_begin(&j, NULL);
		json_string(&j, "name", d->key);
		json_string(&j, "value", v[i].value);
		json_string(&j, "origin", settings_origin_name(v[i].from));
		json_string(&j, "scope", settings_scope_name(d->scope));
		json_string(&j, "type", settings_type_name(d->type));
		json_string(&j, "env", d->env);
		json_object_end(&j);
	}
	json_array_end(&j);
	buf_adds(out, "\n");
}
