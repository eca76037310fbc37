/*
 * settings [-a APP] [--json]: every setting's effective value and where it
 * comes from, from the rows of the settings table (store/settings.h).
 */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"
#include "view/settings.h"

#include "store/app.h"
#include "store/settings.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	struct setting_shown v[SETTINGS_COUNT] = { 0 };
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
			view_settings_json(&out, v);
		else
			view_settings(&out, c->app, v);
		cli_put(&out);
	}
	for (size_t i = 0; i < SETTINGS_COUNT; i++)
		free(v[i].value);
	settings_free(s);
	return rc;
}
