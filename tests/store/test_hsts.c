/*
 * store/hsts: the ramp of certs:hsts as a state machine driven with
 * explicit times: 300 s, then a day, a week and a year, each step only
 * once HTTPS has been live for the whole of the one before (a time without
 * it starts the step's clock again); the state written, read back and
 * removed when off.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include "store/hsts.h"
#include "store/paths.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define APP "myapp"
#define T0 ((time_t)1800000000)

static char *root;

static void setup(void)
{
	root = th_sandbox();
}

static void teardown(void)
{
	th_sandbox_free(root);
}

TestSuite(hsts, .init = setup, .fini = teardown, .timeout = 60);

Test(hsts, each_step_comes_only_after_the_previous_max_age_of_live_https)
{
	struct hsts h = { .on = 1, .step = 0, .since = T0 };
	cr_assert_eq(hsts_max_age(h.step), 300);
	cr_assert_eq(hsts_next(&h), T0 + 300);
	/* not yet: a second short of 5 minutes */
	cr_assert_eq(hsts_advance(&h, T0 + 299, 1), 0);
	cr_assert_eq(h.step, 0);
	cr_assert_eq(hsts_advance(&h, T0 + 300, 1), 1);
	cr_assert_eq(h.step, 1);
	cr_assert_eq(hsts_max_age(h.step), 86400);
	cr_assert_eq(h.since, T0 + 300);
	/* one step per look, however late it comes: the next waits its own max-age */
	time_t t = T0 + 300 + 86400 * 30;
	cr_assert_eq(hsts_advance(&h, t, 1), 1);
	cr_assert_eq(hsts_max_age(h.step), 604800);
	cr_assert_eq(hsts_advance(&h, t + 604799, 1), 0);
	cr_assert_eq(hsts_advance(&h, t + 604800, 1), 1);
	cr_assert_eq(hsts_max_age(h.step), 31536000);
	/* the last step stays */
	cr_assert_eq(hsts_next(&h), 0);
	cr_assert_eq(hsts_advance(&h, t + 604800 + 31536000 * 3L, 1), 0);
	cr_assert_eq(hsts_max_age(h.step), 31536000);
}

Test(hsts, https_not_live_starts_the_step_clock_again)
{
	struct hsts h = { .on = 1, .step = 1, .since = T0 };
	/* the certificate went (or lapsed) a day later: no step, and the day starts again */
	cr_assert_eq(hsts_advance(&h, T0 + 86400, 0), 1);
	cr_assert_eq(h.step, 1);
	cr_assert_eq(h.since, T0 + 86400);
	cr_assert_eq(hsts_advance(&h, T0 + 86400 * 2 - 1, 1), 0);
	cr_assert_eq(hsts_advance(&h, T0 + 86400 * 2, 1), 1);
	cr_assert_eq(h.step, 2);
}

Test(hsts, off_never_moves)
{
	struct hsts h = HSTS_INIT;
	cr_assert_eq(hsts_advance(&h, T0, 1), 0);
	cr_assert_eq(hsts_advance(&h, T0, 0), 0);
	cr_assert_eq(hsts_next(&h), 0);
	cr_assert_eq(h.on, 0);
}

Test(hsts, written_read_back_and_removed_when_off)
{
	struct hsts h = { .on = 1, .step = 2, .since = T0 }, back = HSTS_INIT;
	/* none: off */
	cr_assert_eq(hsts_read(root, APP, &back), 0);
	cr_assert_eq(back.on, 0);
	char *dir = paths_certs_dir(root);
	cr_assert_eq(fs_mkdir_p(dir, 0700), 0);
	cr_assert_eq(hsts_write(root, APP, &h), 0);
	cr_assert_eq(hsts_read(root, APP, &back), 0);
	cr_assert(back.on && back.step == 2 && back.since == T0);
	char *path = paths_hsts_file(root, APP);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	h.on = 0;
	cr_assert_eq(hsts_write(root, APP, &h), 0);
	cr_assert(!fs_exists(path));
	cr_assert_eq(hsts_read(root, APP, &back), 0);
	cr_assert_eq(back.on, 0);
	/* off twice is fine */
	cr_assert_eq(hsts_write(root, APP, &h), 0);
	free(path);
	free(dir);
}
