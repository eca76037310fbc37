/*
 * store/formation: how many of each process type an app runs - Heroku's
 * one web without a formation, changes as ps:scale takes them (with its
 * refusals, which change nothing), and the file written back as read;
 * the sizes ps:resize sets, the same way.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include "store/formation.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define APP "myapp"

static char *root, *file;
static struct release r = RELEASE_INIT;

static void setup(void)
{
	root = th_sandbox();
	char *repo = th_path("%s/apps/" APP ".git", root);
	cr_assert_eq(fs_mkdir_p(repo, 0755), 0);
	free(repo);
	file = paths_formation_file(root, APP);
	r.version = 3;
	proc_list_set(&r.procs, "web", "./server");
	proc_list_set(&r.procs, "worker", "./work");
	proc_list_set(&r.procs, "release", "./migrate");
}

static void teardown(void)
{
	release_release(&r);
	free(file);
	th_sandbox_free(root);
}

TestSuite(formation, .init = setup, .fini = teardown, .timeout = 60);

static void assert_counts(int web, int worker)
{
	int counts[3] = { -1, -1, -1 };
	cr_assert_eq(formation_counts(root, APP, &r, counts), 0, "%s", sw_error_last());
	cr_assert_eq(counts[0], web, "web=%d", counts[0]);
	cr_assert_eq(counts[1], worker, "worker=%d", counts[1]);
	cr_assert_eq(counts[2], 0, "the release type never runs as an instance");
}

Test(formation, without_one_an_app_runs_one_web)
{
	assert_counts(1, 0);
	struct release only_worker = RELEASE_INIT;
	proc_list_set(&only_worker.procs, "worker", "./work");
	int c = -1;
	cr_assert_eq(formation_counts(root, APP, &only_worker, &c), 0);
	cr_assert_eq(c, 0);
	release_release(&only_worker);
}

Test(formation, changes_apply_and_are_written_back_as_read)
{
	int counts[3];
	cr_assert_eq(formation_counts(root, APP, &r, counts), 0);
	cr_assert_eq(formation_change(&r, counts, "web=3", 20), 0);
	cr_assert_eq(formation_change(&r, counts, "worker+2", 20), 0);
	cr_assert_eq(formation_change(&r, counts, "web-1", 20), 0);
	cr_assert_eq(formation_write(root, APP, &r, counts), 0);
	char *text = th_read(file, NULL);
	cr_assert_str_eq(text, "web=2\nworker=2\n");
	free(text);
	assert_counts(2, 2);

	cr_assert_eq(formation_change(&r, counts, "web=0", 20), 0);
	cr_assert_eq(formation_write(root, APP, &r, counts), 0);
	assert_counts(0, 2);
}

Test(formation, refused_changes_leave_the_counts_alone)
{
	int counts[3] = { 1, 0, 0 };
	const char *bad[] = { "web", "web=", "=2", "web=x", "web=1001", "web*2" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cr_assert_eq(formation_change(&r, counts, bad[i], 20), SW_EINVALID, "%s", bad[i]);
		cr_assert(strstr(sw_error_last(), "use TYPE=N, TYPE+N or TYPE-N"), "%s: %s", bad[i],
			  sw_error_last());
	}
	cr_assert_eq(formation_change(&r, counts, "clock=1", 20), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "no such process type 'clock' in release v3 (types: web, worker)");
	cr_assert_eq(formation_change(&r, counts, "release=1", 20), SW_EINVALID, "release never scales");
	cr_assert_eq(formation_change(&r, counts, "web=21", 20), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "cannot run 21 web processes: use 0 to 20 (slipway.maxInstances)");
	cr_assert_eq(formation_change(&r, counts, "web-2", 20), SW_EINVALID);
	cr_assert_eq(counts[0], 1);
	cr_assert_eq(counts[1], 0);
}

Test(formation, a_file_written_by_hand_is_read_within_bounds)
{
	th_write(file, "# by hand\nworker=250\nweb=-3\nrelease=2\nclock=4\nnonsense\n", 0644);
	assert_counts(0, FORMATION_COUNT_MAX);
}

/* ps:resize: sizes written and read back, case-blind, all or none. */
Test(formation, sizes_are_written_back_as_read_and_a_refusal_changes_nothing)
{
	cr_assert_null(formation_size_of(root, APP, "web"), "no size before a resize");
	struct strvec types = STRVEC_INIT;
	char *changes[] = { "web=Standard-2X", "worker=performance-m" };
	cr_assert_eq(formation_resize(root, APP, &r, changes, 2, &types), 0, "%s", sw_error_last());
	cr_assert_eq(types.n, 2);
	cr_assert_str_eq(types.v[0], "web");
	cr_assert_str_eq(types.v[1], "worker");
	strvec_clear(&types);
	const struct formation_size *web = formation_size_of(root, APP, "web");
	cr_assert(web && !strcmp(web->name, "standard-2x") && web->memory == 1ULL << 30);
	const struct formation_size *worker = formation_size_of(root, APP, "worker");
	cr_assert(worker && worker->memory == 2560ULL << 20);

	char *path = paths_sizes_file(root, APP), *before = th_read(path, NULL);
	char *bad[][2] = {
		{ "web=huge", "invalid size 'huge': use standard-1x, standard-2x, performance-m, "
			      "performance-l" },
		{ "release=standard-1x", "no such process type 'release' in release v3" },
		{ "web", "invalid size 'web': use TYPE=SIZE, for example web=standard-2x" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char *two[] = { "web=standard-1x", bad[i][0] };
		cr_assert_eq(formation_resize(root, APP, &r, two, 2, &types), SW_EINVALID, "%s",
			     bad[i][0]);
		cr_assert_str_eq(sw_error_last(), bad[i][1]);
		strvec_clear(&types);
		char *after = th_read(path, NULL);
		cr_assert_str_eq(after, before, "a refused resize wrote the file");
		free(after);
	}
	free(before);
	free(path);

	char *one[] = { "web=standard-1x" };
	cr_assert_eq(formation_resize(root, APP, &r, one, 1, &types), 0);
	strvec_clear(&types);
	cr_assert_str_eq(formation_size_of(root, APP, "web")->name, "standard-1x");
	cr_assert_str_eq(formation_size_of(root, APP, "worker")->name, "performance-m");
}

Test(formation, a_count_spreads_over_hosts_the_first_taking_one_more)
{
	/* 3 over 3: one each; 1 over 3: the first only; 7 over 3: 3, 2, 2 */
	int want[][5] = { { 3, 3, 1, 1, 1 }, { 1, 3, 1, 0, 0 }, { 7, 3, 3, 2, 2 },
			  { 0, 3, 0, 0, 0 }, { 5, 1, 5, 0, 0 } };
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		int sum = 0;
		for (size_t i = 0; i < (size_t)want[k][1]; i++) {
			int got = formation_share(want[k][0], i, (size_t)want[k][1]);
			cr_assert_eq(got, want[k][2 + i], "%d over %d, host %zu: %d", want[k][0],
				     want[k][1], i, got);
			sum += got;
		}
		cr_assert_eq(sum, want[k][0]);
	}
	/* a host not among them runs none */
	cr_assert_eq(formation_share(4, 2, 2), 0);
	cr_assert_eq(formation_share(4, 0, 0), 0);
}
