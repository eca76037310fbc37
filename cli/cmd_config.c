/* config, config:get, config:set, config:unset: arguments and printing. */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"
#include "cli/view.h"

#include "release/activate.h"
#include "release/change.h"
#include "store/app.h"
#include "store/appctx.h"
#include "store/ledger.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The config of the latest release, which the next change starts from.
 * When that release is not the live one, says so on stderr, with the one
 * that is.
 */
static int read_latest_config(struct cli *c, struct config *out)
{
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	int v, cur = 0, rc = cli_open_app(c, &l);
	if (rc)
		return rc;
	if (ledger_latest(l, &v) < 0 || ledger_current(l, &cur) < 0 ||
	    (v && ledger_read(l, v, LEDGER_READ_CONFIG, &r) < 0))
		rc = cli_fail();
	else
		config_copy(out, &r.config);
	if (!rc && v && v != cur) {
		const char *why = r.status == RELEASE_PENDING ? "is still being released"
				  : r.failed_start == RELEASE_INTERRUPTED ? "was interrupted: it failed"
				  : r.failed_start               ? "failed: its processes did not start"
								 : "failed: its release command failed";
		fprintf(stderr, " !    These are the config vars of v%d, which %s.\n", v, why);
		if (cur)
			fprintf(stderr, " !    v%d is live: slipway releases:info v%d -a %s\n", cur, cur,
				c->app);
		else
			fprintf(stderr, " !    No release of %s is live yet.\n", c->app);
	}
	release_release(&r);
	ledger_free(l);
	return rc;
}

struct config_args {
	int json, shell;
};

const struct opt config_opts[] = {
	CLI_OPT_JSON(struct config_args),
	CLI_OPT_SHELL(struct config_args),
	OPT_END_OF(struct config_args),
};

int cmd_config(struct cli *c)
{
	const struct config_args *a = c->options;
	struct config cfg = CONFIG_INIT;
	int rc = read_latest_config(c, &cfg);
	if (rc)
		return rc;
	struct buf out = BUF_INIT;
	if (a->json) {
		view_config_json(&out, &cfg);
		buf_adds(&out, "\n");
	} else if (a->shell) {
		view_config_shell(&out, &cfg);
	} else {
		buf_addf(&out, "=== %s Config Vars\n", c->app);
		view_config_table(&out, &cfg);
	}
	cli_put(&out);
	config_release(&cfg);
	return 0;
}

static int check_key(const char *key);

struct config_get_args {
	int shell;
};

const struct opt config_get_opts[] = {
	CLI_OPT_SHELL(struct config_get_args),
	OPT_END_OF(struct config_get_args),
};

int cmd_config_get(struct cli *c)
{
	const struct config_get_args *a = c->options;
	struct config cfg = CONFIG_INIT;
	if (check_key(c->args[0]) < 0)
		return cli_fail();
	int rc = read_latest_config(c, &cfg);
	if (rc)
		return rc;
	const char *v = config_get(&cfg, c->args[0]);
	if (a->shell && v) {
		struct buf out = BUF_INIT;
		buf_addf(&out, "%s=", c->args[0]);
		buf_add_shell_quoted(&out, v);
		buf_adds(&out, "\n");
		cli_put(&out);
	} else {
		printf("%s\n", v ? v : "");
	}
	config_release(&cfg);
	return 0;
}

static int check_key(const char *key)
{
	if (config_key_valid(key))
		return 0;
	return sw_error_set(SW_EINVALID,
		"invalid config var name '%s': use letters, digits and '_', not starting with a digit",
		key);
}

static void print_done(struct cli *c, const char *verb, const struct buf *names,
		       const struct change_result *res)
{
	if (res->version && res->failed)
		/* recorded, not live: no "done" */
		printf("%s %s on %s... failed, v%d is recorded but not live\n", verb, names->data,
		       c->app, res->version);
	else if (res->version && res->not_running)
		/* nothing restarts: the release waits for the runtime */
		printf("%s %s on %s... done, v%d (%s)\n", verb, names->data, c->app, res->version,
		       cli_not_running(c));
	else if (res->version)
		printf("%s %s and restarting %s... done, v%d\n", verb, names->data, c->app,
		       res->version);
	else /* the same values: no release, nothing restarts */
		printf("%s %s on %s... done, no change (still v%d)\n", verb, names->data, c->app,
		       res->previous);
}

static void name_list(struct buf *b, char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_addf(b, "%s%s", i ? ", " : "", names[i]);
}

int cmd_config_set(struct cli *c)
{
	struct config set = CONFIG_INIT;
	struct strvec keys = STRVEC_INIT;
	struct buf names = BUF_INIT;
	struct change_result res;
	struct app_ctx ctx = APP_CTX_INIT;
	int rc = 0;

	for (int i = 0; i < c->nargs; i++) {
		char *eq = strchr(c->args[i], '=');
		if (!eq) {
			rc = cli_usage(c->cmd, "'%s' is not KEY=value", c->args[i]);
			goto done;
		}
		char *key = xstrndup(c->args[i], (size_t)(eq - c->args[i]));
		int bad = check_key(key);
		if (!bad && strlen(eq + 1) > CONFIG_VALUE_MAX)
			bad = sw_error_set(SW_EINVALID, "the value of '%s' is too long (max %d bytes)",
					   key, CONFIG_VALUE_MAX);
		if (!bad) {
			if (!config_get(&set, key))
				strvec_push(&keys, key);
			config_set(&set, key, eq + 1);
		}
		free(key);
		if (bad) {
			rc = cli_fail();
			goto done;
		}
	}
	if (app_ctx_open(&ctx, c->root, c->app, APP_CTX_WRITE) < 0 ||
	    change_config(&ctx, &set, &keys, NULL, c->user, stdout, &res) < 0) {
		rc = cli_fail();
		goto done;
	}
	app_ctx_release(&ctx);
	name_list(&names, keys.v, keys.n);
	print_done(c, "Setting", &names, &res);
	struct buf out = BUF_INIT;
	view_config_table(&out, &set);
	cli_put(&out);
	if (res.failed)
		rc = cli_release_failed(c, &res);
done:
	app_ctx_release(&ctx);
	buf_release(&names);
	strvec_clear(&keys);
	config_release(&set);
	return rc;
}

int cmd_config_unset(struct cli *c)
{
	struct strvec keys = STRVEC_INIT;
	struct buf names = BUF_INIT;
	struct change_result res;
	struct app_ctx ctx = APP_CTX_INIT;
	int rc = 0;

	for (int i = 0; i < c->nargs; i++) {
		if (check_key(c->args[i]) < 0) {
			rc = cli_fail();
			goto done;
		}
		strvec_push(&keys, c->args[i]);
	}
	if (app_ctx_open(&ctx, c->root, c->app, APP_CTX_WRITE) < 0 ||
	    change_config(&ctx, NULL, NULL, &keys, c->user, stdout, &res) < 0) {
		rc = cli_fail();
		goto done;
	}
	app_ctx_release(&ctx);
	name_list(&names, keys.v, keys.n);
	print_done(c, "Unsetting", &names, &res);
	if (res.failed)
		rc = cli_release_failed(c, &res);
done:
	app_ctx_release(&ctx);
	buf_release(&names);
	strvec_clear(&keys);
	return rc;
}
