#define _GNU_SOURCE
#include "release/onrelease.h"

#include "store/cas.h"
#include "store/paths.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/run.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int onrelease_load(const struct app_ctx *ctx, struct strvec *argv, int *timeout_sec)
{
	int err = settings_list(ctx->settings, &SETTING_ON_RELEASE, argv);
	if (!err && argv->n)
		err = settings_seconds(ctx->settings, &SETTING_RELEASE_TIMEOUT, timeout_sec);
	return err;
}

/* Every line the program writes, indented like build output. */
static void relay(const char *line, size_t len, void *ctx)
{
	FILE *out = ctx;
	fputs("       ", out);
	fwrite(line, 1, len, out);
	fputc('\n', out);
	fflush(out);
}

/* Writes r's config vars, KEY=value lines, to a fresh <dir>/config (0600). */
static int write_config(const char *dir, const struct release *r, char **path)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < r->config.n; i++)
		buf_addf(&b, "%s=%s\n", r->config.items[i].key, r->config.items[i].value);
	*path = xasprintf("%s/config", dir);
	int fd = open(*path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	int err = fd < 0 ? sw_error_errno(SW_ERROR, "cannot create '%s'", *path)
			 : fs_write_all(fd, b.data, b.len);
	if (fd >= 0 && close(fd) < 0 && !err)
		err = sw_error_errno(SW_ERROR, "cannot write '%s'", *path);
	buf_release(&b);
	return err;
}

/* The root as an absolute path (as given when it cannot be resolved). */
static char *absolute(const char *path)
{
	char *p = realpath(path, NULL);
	return p ? p : xstrdup(path);
}

int onrelease_run(const struct app_ctx *ctx, const struct strvec *argv, int timeout_sec,
		  const struct release *r, FILE *out)
{
	const char *root = ctx->root, *app = ctx->app;
	struct strvec env = STRVEC_INIT;
	char *top = absolute(root), *runs = paths_runs_dir(top), *dir = NULL, *config = NULL;
	int status = 0, err;

	/* the config file holds secrets: a directory only the server user can enter */
	char *prefix = xasprintf("%s-", app);
	if (!(err = fs_mkdir_p(runs, 0700)) && !(err = fs_mkdtemp(runs, prefix, &dir)))
		err = write_config(dir, r, &config);
	if (!err) {
		strvec_push(&env, "PATH=/usr/local/bin:/usr/bin:/bin");
		strvec_pushf(&env, "SLIPWAY_APP=%s", app);
		strvec_pushf(&env, "SLIPWAY_RELEASE=v%d", r->version);
		if (r->slug[0]) {
			char *slug = cas_path(top, r->slug);
			strvec_pushf(&env, "SLIPWAY_SLUG=%s", slug);
			free(slug);
		}
		strvec_pushf(&env, "SLIPWAY_SLUG_CHECKSUM=%s%s", r->slug[0] ? "SHA256:" : "",
			     r->slug);
		strvec_pushf(&env, "SLIPWAY_CONFIG_FILE=%s", config);
		strvec_pushf(&env, "SLIPWAY_ROOT=%s", top);

		struct run_opts o = RUN_OPTS_INIT;
		o.argv = (const char *const *)argv->v;
		o.env = (const char *const *)env.v;
		o.timeout_sec = timeout_sec;
		o.on_line = relay;
		o.ctx = out;
		err = run_child(&o, &status);
	}
	if (err == SW_ETIMEOUT)
		fprintf(out, " !     slipway.onRelease (%s) ran longer than %d s and was killed\n",
			argv->v[0], timeout_sec);
	else if (err)
		fprintf(out, " !     slipway.onRelease (%s) did not run: %s\n", argv->v[0],
			sw_error_last());
	else if (status)
		fprintf(out, " !     slipway.onRelease (%s) exited with status %d\n", argv->v[0],
			status);
	fflush(out);
	if (dir)
		fs_rm_rf(dir);
	strvec_clear(&env);
	free(config);
	free(prefix);
	free(dir);
	free(runs);
	free(top);
	return !err && !status;
}
