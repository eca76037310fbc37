/*
 * release/onrelease: slipway.onRelease is read as an argv (the app's
 * values replacing the global ones) and run outside the sandbox with only
 * PATH and the SLIPWAY_* variables its header names; the config file it
 * gets is private and gone afterwards; a failure is one warning line.
 */
#define _GNU_SOURCE
#include "tests/release_helpers.h"

#include "release/onrelease.h"
#include "store/appctx.h"
#include "store/cas.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *root;
static struct rh_out out;

static void setup(void)
{
	root = rh_root();
	rh_app(root, "demo");
	rh_out_open(&out);
}

static void teardown(void)
{
	rh_out_close(&out);
	th_sandbox_free(root);
}

TestSuite(onrelease, .init = setup, .fini = teardown, .timeout = 60);

/* The calls under test, one place each: on the app opened now (its settings as they are now). */
static int load(struct strvec *argv, int *timeout)
{
	struct app_ctx ctx = APP_CTX_INIT;
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_READ), 0, "%s", sw_error_last());
	int err = onrelease_load(&ctx, argv, timeout);
	app_ctx_release(&ctx);
	return err;
}

static int run(const struct strvec *argv, int timeout, const struct release *r)
{
	struct app_ctx ctx = APP_CTX_INIT;
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_READ), 0, "%s", sw_error_last());
	int err = onrelease_run(&ctx, argv, timeout, r, out.f);
	app_ctx_release(&ctx);
	return err;
}

static void global_config(const char *key, const char *value)
{
	char *cfg = th_path("%s/.gitconfig", root);
	struct th_result r = th_runv(NULL, NULL, "git", "config", "--file", cfg, "--add", key,
				     value, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	free(cfg);
}

Test(onrelease, is_an_argv_whose_app_values_replace_the_global_ones)
{
	struct strvec argv = STRVEC_INIT;
	int timeout = -1;
	strvec_push(&argv, "stale");
	cr_assert_eq(load(&argv, &timeout), 0, "%s", sw_error_last());
	cr_assert_eq(argv.n, 0, "not set: empty (and cleared)");

	global_config("slipway.onRelease", "/usr/local/bin/global-hook");
	cr_assert_eq(load(&argv, &timeout), 0, "%s", sw_error_last());
	cr_assert_eq(argv.n, 1);
	cr_assert_str_eq(argv.v[0], "/usr/local/bin/global-hook");

	rh_app_config(root, "demo", "slipway.onRelease", "/opt/hook");
	rh_app_config(root, "demo", "slipway.onRelease", "two words; rm -rf /");
	rh_app_config(root, "demo", "slipway.releaseTimeout", "7");
	cr_assert_eq(load(&argv, &timeout), 0, "%s", sw_error_last());
	cr_assert_eq(argv.n, 2, "the app's values replace the global ones");
	cr_assert_str_eq(argv.v[0], "/opt/hook");
	cr_assert_str_eq(argv.v[1], "two words; rm -rf /", "one word per value, never a shell string");
	cr_assert_eq(timeout, 7);
	strvec_clear(&argv);
}

/* A hook that prints its environment and its config file, and keeps its path. */
static void hook_argv(struct strvec *argv, const char *body)
{
	char *hook = th_path("%s/hook", root);
	th_write(hook, body, 0755);
	strvec_push(argv, hook);
	free(hook);
}

Test(onrelease, runs_with_path_and_the_slipway_variables_only)
{
	char hex[65];
	rh_slug(root, hex, "server", "#!/bin/sh\n", NULL);
	struct strvec argv = STRVEC_INIT;
	hook_argv(&argv, "#!/bin/sh\nenv | sort\nstat -c %a \"$SLIPWAY_CONFIG_FILE\"\n"
			 "cat \"$SLIPWAY_CONFIG_FILE\"\necho \"$SLIPWAY_CONFIG_FILE\" > \"$0.file\"\n");
	struct release r = RELEASE_INIT;
	r.version = 8;
	memcpy(r.slug, hex, 65);
	config_set(&r.config, "DATABASE_URL", "postgres://db");
	config_set(&r.config, "MULTI", "a\nb");
	setenv("SERVER_SECRET", "s3cret", 1);
	cr_assert_eq(run(&argv, 30, &r), 1, "%s", rh_out_text(&out));

	char *real = realpath(root, NULL), *slug = cas_path(real, hex);
	char *file = th_read(th_keep(th_path("%s/hook.file", root)), NULL);
	cr_assert_not_null(file);
	file[strcspn(file, "\n")] = '\0';
	char *want = th_path("       PATH=/usr/local/bin:/usr/bin:/bin\n"
			     "       PWD=%s\n"
			     "       SLIPWAY_APP=demo\n"
			     "       SLIPWAY_CONFIG_FILE=%s\n"
			     "       SLIPWAY_RELEASE=v8\n"
			     "       SLIPWAY_ROOT=%s\n"
			     "       SLIPWAY_SLUG=%s\n"
			     "       SLIPWAY_SLUG_CHECKSUM=SHA256:%s\n"
			     "       600\n"
			     "       DATABASE_URL=postgres://db\n"
			     "       MULTI=a\n"
			     "       b\n",
			     th_keep(getcwd(NULL, 0)), file, real, slug, hex);
	cr_assert_str_eq(rh_out_text(&out), want);
	cr_assert_neq(access(file, F_OK), 0, "the config file is gone after the run");
	free(want);
	free(file);
	free(slug);
	free(real);
	release_release(&r);
	strvec_clear(&argv);
	th_keep_free();
}

Test(onrelease, a_failure_is_one_warning_and_a_zero)
{
	struct release r = RELEASE_INIT;
	r.version = 2;
	struct strvec argv = STRVEC_INIT;
	hook_argv(&argv, "#!/bin/sh\necho about to fail\nexit 4\n");
	cr_assert_eq(run(&argv, 30, &r), 0);
	char *want = th_path("       about to fail\n !     slipway.onRelease (%s) exited with status 4\n",
			     argv.v[0]);
	cr_assert_str_eq(rh_out_text(&out), want);
	free(want);
	strvec_clear(&argv);

	rh_out_close(&out);
	rh_out_open(&out);
	strvec_push(&argv, "/nonexistent/hook");
	cr_assert_eq(run(&argv, 30, &r), 0);
	cr_assert(!strncmp(rh_out_text(&out), " !     slipway.onRelease (/nonexistent/hook) did not run: ", 58),
		  "%s", rh_out_text(&out));
	cr_assert_eq(strchr(rh_out_text(&out), '\n') - rh_out_text(&out) + 1,
		     (long)strlen(rh_out_text(&out)), "one line: %s", rh_out_text(&out));
	strvec_clear(&argv);
	release_release(&r);
}

Test(onrelease, without_a_slug_has_no_slug_variables_and_leaves_no_directory_behind)
{
	struct release r = RELEASE_INIT;
	r.version = 1;
	struct strvec argv = STRVEC_INIT;
	hook_argv(&argv, "#!/bin/sh\necho \"[${SLIPWAY_SLUG-absent}] [$SLIPWAY_SLUG_CHECKSUM]\"\n"
			 "ls -ld \"$(dirname \"$SLIPWAY_CONFIG_FILE\")\" | cut -c1-10\n");
	cr_assert_eq(run(&argv, 30, &r), 1, "%s", rh_out_text(&out));
	cr_assert_str_eq(rh_out_text(&out), "       [absent] []\n       drwx------\n");
	char *runs = th_path("%s/runs", root);
	cr_assert_eq(th_entries(runs), 0, "its directory in <root>/runs is removed");
	free(runs);
	strvec_clear(&argv);
	release_release(&r);
}
