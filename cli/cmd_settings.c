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
#include "util/say.h"
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

/*
 * The settings an app's users may change with settings:set, over ssh as
 * well: none that reach beyond what they see (the sandbox, sizes and
 * timeouts are the operator's git config).
 */
static const struct setting *user_setting(const char *key)
{
	const struct setting *s = settings_find(key);
	if (s == &SETTING_REPO_URL)
		return s;
	say(stderr, SAY_ERROR, "%s cannot be set with settings:set: only slipway.repoUrl can "
			       "(the others are the operator's: git config on the server)", key);
	return NULL;
}

/* settings:set KEY=VALUE -a APP: the app's own value of a setting its users may change. */
int cmd_settings_set(struct cli *c)
{
	const char *eq = strchr(c->args[0], '=');
	if (!eq || eq == c->args[0])
		return cli_usage(c->cmd, "'%s' is not KEY=value", c->args[0]);
	char *key = xstrndup(c->args[0], (size_t)(eq - c->args[0]));
	int rc = 0;
	if (!user_setting(key))
		rc = 1;
	else if (settings_set_repo_url(c->root, c->app, eq + 1) < 0)
		rc = cli_fail();
	else
		printf("Setting %s on %s... done\n", key, c->app);
	free(key);
	return rc;
}

/* settings:unset KEY -a APP. */
int cmd_settings_unset(struct cli *c)
{
	if (!user_setting(c->args[0]))
		return 1;
	if (settings_set_repo_url(c->root, c->app, NULL) < 0)
		return cli_fail();
	printf("Unsetting %s on %s... done\n", c->args[0], c->app);
	return 0;
}
