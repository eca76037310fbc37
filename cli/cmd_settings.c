/*
 * settings [-a APP] [--json]: every setting's effective value and where it
 * comes from, from the rows of the settings table (store/settings.h).
 */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"

#include "store/app.h"
#include "store/settings.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One row's value (NULL: none) and its origin. */
struct shown {
	char *value;
	enum setting_origin from;
};

static void settings_json(struct buf *out, const struct shown *v)
{
	buf_adds(out, "[");
	for (size_t i = 0; i < SETTINGS_COUNT; i++) {
		const struct setting *d = &settings_table[i];
		buf_adds(out, i ? ",{\"name\":" : "{\"name\":");
		buf_add_json_string(out, d->key);
		buf_adds(out, ",\"value\":");
		if (v[i].value)
			buf_add_json_string(out, v[i].value);
		else
			buf_adds(out, "null");
		buf_addf(out, ",\"origin\":\"%s\",\"scope\":\"%s\",\"type\":\"%s\",\"env\":",
			 settings_origin_name(v[i].from), settings_scope_name(d->scope),
			 settings_type_name(d->type));
		if (d->env)
			buf_add_json_string(out, d->env);
		else
			buf_adds(out, "null");
		buf_adds(out, "}");
	}
	buf_adds(out, "]\n");
}

static void settings_table_text(struct buf *out, const char *app, const struct shown *v)
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

struct settings_args {
	int json;
};

const struct opt settings_opts[] = {
	CLI_OPT_JSON(struct settings_args),
	OPT_END_OF(struct settings_args),
};

int cmd_settings(struct cli *c)
{
	const struct settings_args *a = c->options;
	struct settings *s = NULL;
	struct shown v[SETTINGS_COUNT] = { 0 };
	int rc = 0;

	if ((c->app && app_check_exists(c->root, c->app) < 0) ||
	    settings_open(&s, c->root, c->app) < 0)
		return cli_fail();
	for (size_t i = 0; i < SETTINGS_COUNT && !rc; i++)
		if (settings_effective(s, &settings_table[i], &v[i].value, &v[i].from) < 0)
			rc = cli_fail();
	if (!rc) {
		struct buf out = BUF_INIT;
		if (a->json)
			settings_json(&out, v);
		else
			settings_table_text(&out, c->app, v);
		cli_put(&out);
	}
	for (size_t i = 0; i < SETTINGS_COUNT; i++)
		free(v[i].value);
	settings_free(s);
	return rc;
}
