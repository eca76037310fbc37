#include "tests/helpers.h"

#include "release/change.h"
#include "store/app.h"
#include "store/appctx.h"
#include "store/config.h"
#include "store/ledger.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *root;
static FILE *out;
static char *outbuf;
static size_t outlen;

static void setup(void)
{
	root = th_sandbox();
	struct app_create_opts o = APP_CREATE_OPTS_INIT;
	o.hook_exe = SLIPWAY_BIN;
	cr_assert_eq(app_create(root, "demo", &o), 0, "%s", sw_error_last());
	out = open_memstream(&outbuf, &outlen);
	/* a writer that finds the lock busy gives up after one second, the policy's wait */
	setenv("SLIPWAY_LOCK_TIMEOUT", "1", 1);
}

static void teardown(void)
{
	unsetenv("SLIPWAY_LOCK_TIMEOUT");
	fclose(out);
	free(outbuf);
	th_sandbox_free(root);
}

TestSuite(change, .init = setup, .fini = teardown, .timeout = 60);

/* config:set KEY=value on ctx. */
static int set_var(struct app_ctx *ctx, const char *key, const char *value,
		   struct change_result *res)
{
	struct config set = CONFIG_INIT;
	config_set(&set, key, value);
	int err = change_config(ctx, &set, NULL, NULL, "alice@example.com", out, res);
	config_release(&set);
	return err;
}

static int latest(void)
{
	struct app_ctx ctx = APP_CTX_INIT;
	int v = -1;
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_READ), 0, "%s", sw_error_last());
	cr_assert_eq(ledger_latest(ctx.ledger, &v), 0, "%s", sw_error_last());
	app_ctx_release(&ctx);
	return v;
}

Test(change, a_writer_hands_its_context_down_and_the_lock_is_not_taken_twice)
{
	struct app_ctx ctx = APP_CTX_INIT;
	struct change_result res;
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_WRITE), 0, "%s", sw_error_last());
	/* taking the lock again would wait for ourselves and time out */
	cr_assert_eq(set_var(&ctx, "A", "1", &res), 0, "%s", sw_error_last());
	cr_assert_eq(res.version, 1);
	cr_assert_eq(set_var(&ctx, "B", "2", &res), 0, "%s", sw_error_last());
	cr_assert_eq(res.version, 2);
	cr_assert_eq(res.previous, 1);
	app_ctx_release(&ctx);
	cr_assert_eq(latest(), 2);
}

Test(change, a_readers_context_takes_the_lock_and_holds_it_until_released)
{
	struct app_ctx ctx = APP_CTX_INIT, other = APP_CTX_INIT;
	struct change_result res;
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_READ), 0, "%s", sw_error_last());
	cr_assert_eq(app_ctx_locked(&ctx), 0);
	cr_assert_eq(set_var(&ctx, "A", "1", &res), 0, "%s", sw_error_last());
	cr_assert_eq(res.version, 1);
	cr_assert_eq(app_ctx_locked(&ctx), 1);
	cr_assert_eq(app_ctx_open(&other, root, "demo", APP_CTX_TRY_WRITE), SW_ELOCKED);
	app_ctx_release(&ctx);
	cr_assert_eq(app_ctx_open(&other, root, "demo", APP_CTX_TRY_WRITE), 0, "%s",
		     sw_error_last());
	app_ctx_release(&other);
}

Test(change, a_change_waits_for_another_writer_as_the_policy_says_and_records_nothing)
{
	struct app_ctx holder = APP_CTX_INIT, ctx = APP_CTX_INIT;
	struct change_result res;
	cr_assert_eq(app_ctx_open(&holder, root, "demo", APP_CTX_WRITE), 0, "%s", sw_error_last());
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_READ), 0, "%s", sw_error_last());
	int err = set_var(&ctx, "A", "1", &res);
	cr_assert_eq(err, SW_ELOCKED, "%d: %s", err, sw_error_last());
	cr_assert(strstr(sw_error_last(), "another operation on this app is still running after 1 "
				       "seconds"), "%s", sw_error_last());
	cr_assert_eq(res.version, 0);
	app_ctx_release(&ctx);
	app_ctx_release(&holder);
	cr_assert_eq(latest(), 0);
}
