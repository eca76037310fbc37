#include "store/appctx.h"

#include "store/app.h"
#include "store/ledger.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/util.h"

#include <stdlib.h>

int app_lock_wait(int *seconds)
{
	return settings_lock_wait(seconds);
}

static int take_lock(struct app_ctx *ctx, int wait)
{
	char *path = app_lock_path(ctx->root, ctx->app);
	int err = lock_acquire(&ctx->lock, path, wait, ctx->on_wait, ctx->on_wait_data);
	free(path);
	return err;
}

int app_ctx_lock(struct app_ctx *ctx)
{
	int wait, err;
	if (app_ctx_locked(ctx))
		return 0; /* never twice: the holder hands its context down */
	if ((err = app_lock_wait(&wait)))
		return err;
	return take_lock(ctx, wait);
}

int app_ctx_locked(const struct app_ctx *ctx)
{
	return ctx->lock.fd >= 0;
}

int app_ctx_open(struct app_ctx *ctx, const char *root, const char *app,
		 enum app_ctx_mode mode)
{
	int err;
	/* before the lock: a missing app gets no lock file */
	if ((err = app_check_exists(root, app)))
		return err;
	ctx->root = xstrdup(root);
	ctx->app = xstrdup(app);
	if (mode == APP_CTX_WRITE)
		err = app_ctx_lock(ctx);
	else if (mode == APP_CTX_TRY_WRITE)
		err = take_lock(ctx, 0);
	if (!err)
		err = settings_open(&ctx->settings, root, app);
	if (!err) {
		char *repo = app_repo_path(root, app);
		err = ledger_open(&ctx->ledger, repo);
		free(repo);
	}
	if (err) {
		struct sw_error_state first;
		sw_error_save(&first, err);
		app_ctx_release(ctx);
		return sw_error_restore(&first);
	}
	return 0;
}

void app_ctx_release(struct app_ctx *ctx)
{
	ledger_free(ctx->ledger);
	ctx->ledger = NULL;
	settings_free(ctx->settings);
	ctx->settings = NULL;
	lock_release(&ctx->lock);
	free(ctx->app);
	free(ctx->root);
	ctx->app = ctx->root = NULL;
}
