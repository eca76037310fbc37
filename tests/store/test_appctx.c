#include "tests/helpers.h"

#include "store/app.h"
#include "store/appctx.h"
#include "store/ledger.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/gitutil.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static char *root, *home;

static void setup(void)
{
	root = th_sandbox();
	home = th_path("%s/home", root);
	/* the server user's global config is this test's own */
	th_git_home(home);
	struct app_create_opts o = APP_CREATE_OPTS_INIT;
	o.hook_exe = SLIPWAY_BIN;
	cr_assert_eq(app_create(root, "demo", &o), 0, "%s", sw_error_last());
	/* a second writer gives up after one second, the policy's wait */
	setenv("SLIPWAY_LOCK_TIMEOUT", "1", 1);
	unsetenv("SLIPWAY_RELEASE_TIMEOUT");
}

static void teardown(void)
{
	unsetenv("SLIPWAY_LOCK_TIMEOUT");
	free(home);
	th_sandbox_free(root);
}

TestSuite(appctx, .init = setup, .fini = teardown, .timeout = 60);

/* The names in dir, sorted, one per line ("" when it is missing). */
static char *listing(const char *dir)
{
	struct th_result r = th_runv(NULL, NULL, "sh", "-c", "ls -A \"$0\" 2>/dev/null", dir, NULL);
	char *s = xstrdup(r.out);
	th_result_free(&r);
	return s;
}

static int waits;

static void count_wait(void *data)
{
	(void)data;
	waits++;
}

Test(appctx, reading_opens_settings_and_ledger_without_the_lock)
{
	struct app_ctx ctx = APP_CTX_INIT;
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_READ), 0, "%s", sw_error_last());
	cr_assert_str_eq(ctx.root, root);
	cr_assert_str_eq(ctx.app, "demo");
	cr_assert_not_null(ctx.settings);
	cr_assert_not_null(ctx.ledger);
	cr_assert_eq(app_ctx_locked(&ctx), 0);
	int v = -1;
	cr_assert_eq(ledger_latest(ctx.ledger, &v), 0, "%s", sw_error_last());
	cr_assert_eq(v, 0);

	/* a reader leaves the lock free for a writer */
	struct app_ctx w = APP_CTX_INIT;
	cr_assert_eq(app_ctx_open(&w, root, "demo", APP_CTX_TRY_WRITE), 0, "%s", sw_error_last());
	cr_assert_eq(app_ctx_locked(&w), 1);
	app_ctx_release(&w);
	app_ctx_release(&ctx);
	cr_assert_null(ctx.root);
	cr_assert_null(ctx.settings);
	cr_assert_null(ctx.ledger);
}

Test(appctx, a_missing_app_is_a_clear_error_and_nothing_is_created)
{
	static const enum app_ctx_mode modes[] = { APP_CTX_READ, APP_CTX_WRITE, APP_CTX_TRY_WRITE };
	char *before = listing(root);
	char *locks_before = th_path("%s/locks", root);
	char *locks = listing(locks_before);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct app_ctx ctx = APP_CTX_INIT;
		int err = app_ctx_open(&ctx, root, "nope", modes[i]);
		cr_assert_eq(err, SW_ENOTFOUND, "mode %zu: %d", i, err);
		cr_assert(strstr(sw_error_last(), "'nope' does not exist"), "%s", sw_error_last());
		cr_assert_null(ctx.root);
		cr_assert_null(ctx.settings);
		cr_assert_null(ctx.ledger);
		cr_assert_eq(app_ctx_locked(&ctx), 0);
		app_ctx_release(&ctx); /* nothing to do, and safe */
	}
	char *after = listing(root), *locks_after = listing(locks_before);
	cr_assert_str_eq(after, before);
	cr_assert_str_eq(locks_after, locks);
	char *lock = app_lock_path(root, "nope"), *repo = app_repo_path(root, "nope");
	cr_assert_eq(fs_exists(lock), 0, "%s was created", lock);
	cr_assert_eq(fs_exists(repo), 0, "%s was created", repo);
	free(lock);
	free(repo);
	free(after);
	free(locks_after);
	free(locks);
	free(locks_before);
	free(before);
}

Test(appctx, a_writer_holds_the_lock_a_second_writer_times_out_by_the_policy)
{
	struct app_ctx first = APP_CTX_INIT, second = APP_CTX_INIT;
	cr_assert_eq(app_ctx_open(&first, root, "demo", APP_CTX_WRITE), 0, "%s", sw_error_last());
	cr_assert_eq(app_ctx_locked(&first), 1);

	waits = 0;
	second.on_wait = count_wait;
	int err = app_ctx_open(&second, root, "demo", APP_CTX_WRITE);
	cr_assert_eq(err, SW_ELOCKED, "%d: %s", err, sw_error_last());
	/* slipway.lockTimeout ($SLIPWAY_LOCK_TIMEOUT=1) is how long it waited */
	cr_assert(strstr(sw_error_last(), "still running after 1 seconds"), "%s", sw_error_last());
	cr_assert_eq(waits, 1, "on_wait is said once, before waiting");
	cr_assert_null(second.ledger);
	cr_assert_null(second.settings);
	cr_assert_eq(app_ctx_locked(&second), 0);

	/* a sweep does not wait at all */
	err = app_ctx_open(&second, root, "demo", APP_CTX_TRY_WRITE);
	cr_assert_eq(err, SW_ELOCKED, "%d: %s", err, sw_error_last());
	cr_assert(strstr(sw_error_last(), "after 0 seconds"), "%s", sw_error_last());

	/* closing the first lets the lock go */
	app_ctx_release(&first);
	cr_assert_eq(app_ctx_locked(&first), 0);
	waits = 0;
	cr_assert_eq(app_ctx_open(&second, root, "demo", APP_CTX_WRITE), 0, "%s", sw_error_last());
	cr_assert_eq(waits, 0);
	cr_assert_eq(app_ctx_locked(&second), 1);
	app_ctx_release(&second);
}

Test(appctx, a_reader_takes_the_lock_later_and_never_twice)
{
	struct app_ctx ctx = APP_CTX_INIT, other = APP_CTX_INIT;
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_READ), 0, "%s", sw_error_last());
	cr_assert_eq(app_ctx_lock(&ctx), 0, "%s", sw_error_last());
	cr_assert_eq(app_ctx_locked(&ctx), 1);
	/* held already: taking it again would wait for ourselves and time out */
	cr_assert_eq(app_ctx_lock(&ctx), 0, "%s", sw_error_last());
	cr_assert_eq(app_ctx_open(&other, root, "demo", APP_CTX_TRY_WRITE), SW_ELOCKED);
	app_ctx_release(&ctx);
	cr_assert_eq(app_ctx_open(&other, root, "demo", APP_CTX_TRY_WRITE), 0, "%s",
		     sw_error_last());
	app_ctx_release(&other);
}

static int release_timeout(struct app_ctx *ctx)
{
	int t = -1;
	cr_assert_eq(settings_seconds(ctx->settings, &SETTING_RELEASE_TIMEOUT, &t), 0, "%s",
		     sw_error_last());
	return t;
}

Test(appctx, settings_are_read_once_when_it_opens)
{
	struct app_ctx ctx = APP_CTX_INIT, later = APP_CTX_INIT;
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_WRITE), 0, "%s", sw_error_last());
	struct settings *s = ctx.settings;
	cr_assert_eq(release_timeout(&ctx), 3600);

	char *repo = app_repo_path(root, "demo");
	struct th_result r = th_runv(NULL, NULL, "git", "--git-dir", repo, "config",
				     "slipway.releaseTimeout", "5m", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);

	/* the context keeps the snapshot it opened with, the same one throughout */
	cr_assert_eq(release_timeout(&ctx), 3600);
	cr_assert_eq(app_ctx_lock(&ctx), 0, "%s", sw_error_last());
	cr_assert_eq(ctx.settings, s);
	cr_assert_eq(release_timeout(&ctx), 3600);
	app_ctx_release(&ctx);

	cr_assert_eq(app_ctx_open(&later, root, "demo", APP_CTX_READ), 0, "%s", sw_error_last());
	cr_assert_eq(release_timeout(&later), 300);
	app_ctx_release(&later);
	free(repo);
}
