/*
 * release/release_phase: the Procfile's release command runs in the
 * sandbox, in the slug's shared tree under an overlay of its own at /app, with the release's config
 * and Heroku's variables and nothing of the server's; its output streams
 * and is handed back, and a failure of any kind is a failed phase.
 */
#define _GNU_SOURCE
#include "tests/release_helpers.h"

#include "exec/sandbox.h"
#include "release/release_phase.h"
#include "store/appctx.h"
#include "store/cas.h"
#include "store/slug.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *root;
static struct rh_out out;
static char hex[65];

static void setup(void)
{
	root = rh_root();
	rh_app(root, "demo");
	rh_out_open(&out);
	rh_slug(root, hex, "marker", "from the slug\n", NULL);
}

static void teardown(void)
{
	rh_out_close(&out);
	th_sandbox_free(root);
}

TestSuite(release_phase, .init = setup, .fini = teardown, .timeout = 60);

static void prepare(struct release *r, const char *slug, const char *command)
{
	if (slug)
		memcpy(r->slug, slug, 65);
	memcpy(r->commit, "1234567890123456789012345678901234567890", 41);
	r->version = 4;
	proc_list_set(&r->procs, "web", "./server");
	if (command)
		proc_list_set(&r->procs, "release", command);
}

/* The call under test, in one place: *ok, and what is saved (malloc'ed). */
static char *run_phase(const struct release *r, int timeout_sec, int *ok)
{
	struct sandbox sb = SANDBOX_INIT;
	cr_assert_eq(sandbox_init(&sb, root, "demo", SANDBOX_RUN), 0, "%s", sw_error_last());
	char *saved = NULL;
	*ok = -1;
	struct app_ctx ctx = APP_CTX_INIT;
	cr_assert_eq(app_ctx_open(&ctx, root, "demo", APP_CTX_READ), 0, "%s", sw_error_last());
	release_phase_run(&ctx, &sb, r, timeout_sec, out.f, ok, &saved);
	app_ctx_release(&ctx);
	cr_assert_not_null(saved, "never NULL");
	return saved;
}

/* How many entries <root>/runs holds (0 when it is missing). */
static int runs_left(void)
{
	char *dir = th_path("%s/runs", root);
	int n = th_entries(dir);
	free(dir);
	return n;
}

Test(release_phase, is_wanted_only_with_a_release_command_and_a_slug)
{
	struct release none = RELEASE_INIT, noslug = RELEASE_INIT, both = RELEASE_INIT;
	prepare(&none, hex, NULL);
	prepare(&noslug, NULL, "true");
	prepare(&both, hex, "true");
	cr_assert_eq(release_phase_wanted(&none), 0);
	cr_assert_eq(release_phase_wanted(&noslug), 0);
	cr_assert_eq(release_phase_wanted(&both), 1);
	release_release(&none);
	release_release(&noslug);
	release_release(&both);
}

Test(release_phase, runs_at_app_with_the_release_config_and_none_of_the_servers)
{
	struct release r = RELEASE_INIT;
	prepare(&r, hex, "echo \"$DYNO $SOURCE_VERSION $GREETING $HOME $(pwd)\"; cat marker; "
		"echo \"server: ${SERVER_SECRET-unset}\"");
	config_set(&r.config, "GREETING", "hello");
	setenv("SERVER_SECRET", "s3cret", 1);
	int ok;
	char *saved = run_phase(&r, 60, &ok);
	cr_assert_eq(ok, 1, "%s", saved);
	const char *lines = "release.1 1234567890123456789012345678901234567890 hello /app /app\n"
			    "from the slug\nserver: unset\n";
	cr_assert_str_eq(saved, lines);
	char *want = th_path("-----> Running release command...\n%s"
			     "-----> Waiting for release.... done.\n", lines);
	cr_assert_str_eq(rh_out_text(&out), want);
	free(want);
	free(saved);
	release_release(&r);
}

Test(release_phase, what_it_changes_goes_with_its_copy_of_the_slug)
{
	struct release r = RELEASE_INIT;
	prepare(&r, hex, "echo changed > marker && touch added && cat marker");
	int ok;
	char *saved = run_phase(&r, 60, &ok);
	cr_assert_eq(ok, 1, "%s", saved);
	cr_assert_str_eq(saved, "changed\n");
	char *slug = cas_path(root, hex), *text = NULL;
	size_t len = 0;
	cr_assert_eq(slug_read_file(slug, "./app/marker", 1024, &text, &len), 0);
	cr_assert_str_eq(text, "from the slug\n", "the slug is as it was");
	cr_assert_eq(cas_check(root, hex), 0, "intact in the store");
	cr_assert_eq(runs_left(), 0, "its copy is gone");
	free(text);
	free(slug);
	free(saved);
	release_release(&r);
}

Test(release_phase, it_sees_the_slugs_shared_tree_and_leaves_it_as_it_was)
{
	struct release r = RELEASE_INIT;
	prepare(&r, hex, "stat -c %i marker && echo changed > marker && rm marker && touch added");
	int ok;
	char *saved = run_phase(&r, 60, &ok);
	cr_assert_eq(ok, 1, "%s", saved);
	char *marker = th_path("%s/unpacked/trees/%s/marker", root, hex);
	char *tree = th_path("%s/unpacked/trees/%s", root, hex), want[32];
	struct stat st;
	cr_assert_eq(stat(marker, &st), 0, "the tree is kept, marker and all");
	snprintf(want, sizeof(want), "%llu\n", (unsigned long long)st.st_ino);
	cr_assert_str_eq(saved, want, "the command saw the tree's file, not a copy");
	char *text = th_read(marker, NULL);
	cr_assert_str_eq(text, "from the slug\n");
	cr_assert_eq(th_entries(tree), 1, "nothing added to the tree");
	cr_assert_eq(runs_left(), 0, "nothing left of the run");
	free(text);
	free(tree);
	free(marker);
	free(saved);
	release_release(&r);
}

Test(release_phase, a_command_that_fails_is_a_failed_phase_and_says_its_status)
{
	struct release r = RELEASE_INIT;
	prepare(&r, hex, "echo migrating; exit 3");
	int ok;
	char *saved = run_phase(&r, 60, &ok);
	cr_assert_eq(ok, 0);
	cr_assert_str_eq(saved, "migrating\nrelease command exited with status 3\n");
	cr_assert_str_eq(rh_out_text(&out), "-----> Running release command...\nmigrating\n"
			 " !     Release command failed\n");
	cr_assert_eq(runs_left(), 0);
	free(saved);
	release_release(&r);
}

Test(release_phase, a_slug_missing_from_the_store_or_too_slow_a_command_fails_the_phase)
{
	const char *gone = "00000000000000000000000000000000000000000000000000000000000000aa";
	struct release r = RELEASE_INIT, slow = RELEASE_INIT;
	prepare(&r, gone, "true");
	int ok;
	char *saved = run_phase(&r, 60, &ok);
	cr_assert_eq(ok, 0);
	cr_assert(strlen(saved) > 0, "why is saved");
	cr_assert(strstr(rh_out_text(&out), " !     Release command failed\n"), "%s",
		  rh_out_text(&out));
	free(saved);

	prepare(&slow, hex, "echo started; exec sleep 30");
	saved = run_phase(&slow, 1, &ok);
	cr_assert_eq(ok, 0);
	cr_assert(!strncmp(saved, "started\n", 8) && strlen(saved) > 8, "why is saved: %s", saved);
	cr_assert_eq(runs_left(), 0);
	free(saved);
	release_release(&r);
	release_release(&slow);
}

/* Whether the release command sees the root (the other apps, the store). */
static char *sees_root(void)
{
	struct release r = RELEASE_INIT;
	char *cmd = th_path("test -d '%s/apps/demo.git' && echo visible || echo hidden", root);
	prepare(&r, hex, cmd);
	int ok;
	char *saved = run_phase(&r, 60, &ok);
	cr_assert_eq(ok, 1, "%s", saved);
	release_release(&r);
	free(cmd);
	return saved;
}

Test(release_phase, the_sandbox_hides_the_root_from_the_release_command)
{
	char *seen = sees_root();
	cr_assert_str_eq(seen, "hidden\n");
	free(seen);
	/* control: unsandboxed, the same command sees it */
	setenv("SLIPWAY_SANDBOX", "none", 1);
	seen = sees_root();
	cr_assert_str_eq(seen, "visible\n");
	free(seen);
}
