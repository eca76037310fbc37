#include "tests/helpers.h"

#include "release/activate.h"
#include "store/app.h"
#include "store/appctx.h"
#include "store/cas.h"
#include "store/ledger.h"
#include "store/slug.h"
#include "util/error.h"
#include "util/run.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *root;
static struct app_ctx ctx = APP_CTX_INIT;
static struct ledger *ledger;
static FILE *out;
static char *outbuf;
static size_t outlen;

static void setup(void)
{
	root = th_sandbox();
	struct app_create_opts o = APP_CREATE_OPTS_INIT;
	o.hook_exe = SLIPWAY_BIN;
	cr_assert_eq(app_create(root, "demo", &o), 0, "%s", sw_error_last());
	unsetenv("SLIPWAY_RELEASE_TIMEOUT");
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_WRITE), 0, "%s", sw_error_last());
	ledger = ctx.ledger;
	out = open_memstream(&outbuf, &outlen);
}

static void teardown(void)
{
	fclose(out);
	free(outbuf);
	app_ctx_release(&ctx);
	th_sandbox_free(root);
}

TestSuite(activate, .init = setup, .fini = teardown, .timeout = 60);

/* A slug holding one file, published in the store; hex into `hex`. */
static void make_slug(char hex[65])
{
	char *dir = th_path("%s/tree", root);
	char *file = th_path("%s/marker", dir);
	th_write(file, "slug\n", 0644);
	struct slug_stats st;
	int fd;
	char *tmp;
	cr_assert_eq(cas_tmpfile(root, &fd, &tmp), 0, "%s", sw_error_last());
	cr_assert_eq(slug_write(fd, dir, NULL, &st), 0, "%s", sw_error_last());
	cr_assert_eq(cas_publish_hashed(root, fd, tmp, st.sha256), 0, "%s", sw_error_last());
	memcpy(hex, st.sha256, 65);
	free(tmp);
	free(file);
	free(dir);
}

static void prepare(struct release *r, const char *desc, const char *release_cmd, const char *slug)
{
	r->description = xstrdup(desc);
	r->user = xstrdup("alice@example.com");
	if (slug)
		memcpy(r->slug, slug, 65);
	if (release_cmd)
		proc_list_set(&r->procs, "release", release_cmd);
	proc_list_set(&r->procs, "web", "./server");
}

static struct activate_report report;

static int run(struct release *r)
{
	/* as each command does: the app opened for this release, its settings read now */
	app_ctx_release(&ctx);
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_WRITE), 0, "%s", sw_error_last());
	ledger = ctx.ledger;
	struct activate_opts o = { .ctx = &ctx, .out = out, .report = &report };
	memset(&report, 0x5a, sizeof(report)); /* activate() sets every field */
	int err = activate(&o, r);
	fflush(out);
	return err;
}

static int current(void)
{
	int v = -1;
	cr_assert_eq(ledger_current(ledger, &v), 0);
	return v;
}

Test(activate, a_release_without_a_release_phase_is_current_at_once)
{
	struct release r = RELEASE_INIT;
	prepare(&r, "Set X config vars", NULL, NULL);
	cr_assert_eq(run(&r), 0, "%s", sw_error_last());
	cr_assert_eq(r.version, 1);
	cr_assert_eq(r.status, RELEASE_SUCCEEDED);
	cr_assert_eq(current(), 1);
	cr_assert_eq(outlen, 0, "nothing to say: %s", outbuf);
	release_release(&r);
}

Test(activate, the_release_phase_runs_in_the_slug_and_gates_current)
{
	char hex[65];
	make_slug(hex);
	struct release ok = RELEASE_INIT, bad = RELEASE_INIT, back = RELEASE_INIT;

	prepare(&ok, "Deploy 1111111", "cat marker", hex);
	cr_assert_eq(run(&ok), 0, "%s", sw_error_last());
	cr_assert_eq(ok.status, RELEASE_SUCCEEDED);
	cr_assert_eq(current(), 1);
	cr_assert(strstr(outbuf, "-----> Running release command...\nslug\n"
			 "-----> Waiting for release.... done.\n"), "%s", outbuf);

	prepare(&bad, "Deploy 2222222", "echo migrating; exit 3", hex);
	cr_assert_eq(run(&bad), 0, "a failed release phase is a failed release, not an error");
	cr_assert_eq(bad.version, 2);
	cr_assert_eq(bad.status, RELEASE_FAILED);
	cr_assert_eq(current(), 1, "the release that was current stays current");
	struct release rec = RELEASE_INIT;
	cr_assert_eq(ledger_read(ledger, 2, LEDGER_READ_OUTPUT, &rec), 0);
	cr_assert_eq(rec.status, RELEASE_FAILED);
	cr_assert_str_eq(rec.output, "migrating\nrelease command exited with status 3\n");
	release_release(&rec);

	prepare(&back, "Rollback to v1", "true", hex);
	cr_assert_eq(run(&back), 0, "%s", sw_error_last());
	cr_assert_eq(current(), 3);
	release_release(&ok);
	release_release(&bad);
	release_release(&back);
}

Test(activate, a_malformed_release_timeout_records_nothing)
{
	char hex[65];
	make_slug(hex);
	struct release r = RELEASE_INIT;
	prepare(&r, "Deploy 3333333", "true", hex);
	setenv("SLIPWAY_RELEASE_TIMEOUT", "forever", 1);
	cr_assert_eq(run(&r), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "$SLIPWAY_RELEASE_TIMEOUT: invalid timeout 'forever'"),
		  "%s", sw_error_last());
	int latest = -1;
	cr_assert_eq(ledger_latest(ledger, &latest), 0);
	cr_assert_eq(latest, 0, "no release was appended");
	cr_assert_eq(current(), 0);
	release_release(&r);
}

Test(activate, says_when_nothing_runs_a_release_that_has_instances_to_run)
{
	char hex[65];
	make_slug(hex);
	struct release none = RELEASE_INIT, slug = RELEASE_INIT, workers = RELEASE_INIT;

	prepare(&none, "Set X config vars", NULL, NULL);
	cr_assert_eq(run(&none), 0, "%s", sw_error_last());
	cr_assert_eq(report.not_running, 0, "no slug: nothing to run yet");
	cr_assert_eq(report.started, 0);
	cr_assert_eq(report.on_release, 0);

	prepare(&slug, "Deploy 1111111", NULL, hex);
	cr_assert_eq(run(&slug), 0, "%s", sw_error_last());
	cr_assert_eq(current(), 2);
	cr_assert_eq(report.not_running, 1, "a web type and no runtime");
	cr_assert_eq(report.started, 0);

	/* the default formation runs only web: a release with a worker alone runs nothing */
	workers.description = xstrdup("Deploy 2222222");
	workers.user = xstrdup("alice@example.com");
	memcpy(workers.slug, hex, 65);
	proc_list_set(&workers.procs, "worker", "./work");
	cr_assert_eq(run(&workers), 0, "%s", sw_error_last());
	cr_assert_eq(report.not_running, 0);
	release_release(&none);
	release_release(&slug);
	release_release(&workers);
}

/* Adds a value to slipway.onRelease in the app's repository config. */
static void add_hook_word(const char *word)
{
	char *config = th_path("%s/apps/demo.git/config", root);
	struct th_result r = th_runv(NULL, NULL, "git", "config", "--file", config, "--add",
				     "slipway.onRelease", word, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	free(config);
}

/* A hook that says what it got and exits with its second argument. */
static char *write_hook(void)
{
	char *hook = th_path("%s/hook", root);
	th_write(hook, "#!/bin/sh\n"
		       "echo \"$SLIPWAY_APP $SLIPWAY_RELEASE $SLIPWAY_SLUG_CHECKSUM\"\n"
		       "echo \"$# args: $1\" >&2\n"
		       "exit $2\n", 0755);
	return hook;
}

Test(activate, runs_slipway_on_release_once_the_release_is_current)
{
	char hex[65];
	make_slug(hex);
	char *hook = write_hook();
	add_hook_word(hook);
	add_hook_word("first word");
	add_hook_word("0");
	struct release r = RELEASE_INIT;
	prepare(&r, "Deploy 1111111", NULL, hex);
	cr_assert_eq(run(&r), 0, "%s", sw_error_last());
	cr_assert_eq(current(), 1);
	char *want = th_path("       demo v1 SHA256:%s\n       2 args: first word\n", hex);
	cr_assert_str_eq(outbuf, want);
	cr_assert_eq(report.on_release, 1);
	cr_assert_eq(report.not_running, 0, "slipway.onRelease runs the release");
	free(want);
	release_release(&r);
	free(hook);
}

Test(activate, a_failing_slipway_on_release_warns_and_leaves_the_release_current)
{
	char hex[65];
	make_slug(hex);
	char *hook = write_hook();
	add_hook_word(hook);
	add_hook_word("x");
	add_hook_word("3");
	struct release r = RELEASE_INIT;
	prepare(&r, "Deploy 1111111", NULL, hex);
	cr_assert_eq(run(&r), 0, "%s", sw_error_last());
	cr_assert_eq(r.status, RELEASE_SUCCEEDED);
	cr_assert_eq(current(), 1);
	char *want = th_path(" !     slipway.onRelease (%s) exited with status 3\n", hook);
	cr_assert(strstr(outbuf, want), "%s", outbuf);
	cr_assert_eq(th_count(outbuf, " !     "), 1, "%s", outbuf);
	free(want);
	release_release(&r);
	free(hook);
}

Test(activate, a_slipway_on_release_that_cannot_start_or_runs_too_long_warns)
{
	char hex[65];
	make_slug(hex);
	struct release r = RELEASE_INIT, slow = RELEASE_INIT;
	add_hook_word("/nonexistent/hook");
	prepare(&r, "Deploy 1111111", NULL, hex);
	cr_assert_eq(run(&r), 0, "%s", sw_error_last());
	cr_assert_eq(current(), 1);
	cr_assert(strstr(outbuf, " !     slipway.onRelease (/nonexistent/hook) did not run: "),
		  "%s", outbuf);

	char *config = th_path("%s/apps/demo.git/config", root);
	struct th_result g = th_runv(NULL, NULL, "git", "config", "--file", config, "--unset-all",
		    "slipway.onRelease", NULL);
	cr_assert_eq(g.status, 0, "%s", g.err);
	th_result_free(&g);
	free(config);
	add_hook_word("/bin/sleep");
	add_hook_word("30");
	setenv("SLIPWAY_RELEASE_TIMEOUT", "1", 1);
	prepare(&slow, "Deploy 2222222", NULL, hex);
	long long t0 = run_now_ms();
	cr_assert_eq(run(&slow), 0, "%s", sw_error_last());
	cr_assert_lt(run_now_ms() - t0, 10000, "killed after its time");
	cr_assert_eq(current(), 2);
	cr_assert(strstr(outbuf, " !     slipway.onRelease (/bin/sleep) ran longer than 1 s and was killed\n"),
		  "%s", outbuf);
	release_release(&r);
	release_release(&slow);
}

Test(activate, a_failed_release_does_not_run_slipway_on_release)
{
	char hex[65];
	make_slug(hex);
	char *hook = write_hook();
	add_hook_word(hook);
	add_hook_word("x");
	add_hook_word("0");
	struct release r = RELEASE_INIT;
	prepare(&r, "Deploy 1111111", "exit 1", hex);
	cr_assert_eq(run(&r), 0, "%s", sw_error_last());
	cr_assert_eq(r.status, RELEASE_FAILED);
	cr_assert_null(strstr(outbuf, "demo v1"), "%s", outbuf);
	cr_assert_null(strstr(outbuf, "args"), "%s", outbuf);
	cr_assert_eq(report.on_release, 0);
	cr_assert_eq(report.not_running, 0);
	release_release(&r);
	free(hook);
}
