#include "util/syncer.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STEP ((uint64_t)64 << 10)

static char path[] = "/tmp/slipway-test-syncer-XXXXXX";
static int fd = -1;

static void setup(void)
{
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
}

static void teardown(void)
{
	close(fd);
	unlink(path);
}

TestSuite(syncer, .init = setup, .fini = teardown);

/* Writes n bytes of c to fd and tells s; the file's size after. */
static uint64_t write_bytes(struct syncer *s, int c, size_t n, uint64_t total)
{
	char *b = malloc(n);
	memset(b, c, n);
	cr_assert_eq(write(fd, b, n), (ssize_t)n);
	free(b);
	syncer_wrote(s, total + n);
	return total + n;
}

/* Waits (5 s at most) until s's thread has made at least n syncs. */
static unsigned wait_syncs(struct syncer *s, unsigned n)
{
	for (int i = 0; i < 500 && syncer_syncs(s) < n; i++)
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	return syncer_syncs(s);
}

Test(syncer, syncs_while_the_file_is_written_and_changes_no_byte)
{
	struct syncer s;
	uint64_t total = 0;
	syncer_init(&s, fd, STEP);
	total = write_bytes(&s, 'a', STEP + 10, total);
	cr_assert_geq(wait_syncs(&s, 1), 1, "a sync after the first step, before the end");
	total = write_bytes(&s, 'b', 3 * STEP, total);
	cr_assert_geq(wait_syncs(&s, 2), 2, "another after more steps");
	total = write_bytes(&s, 'c', 100, total);
	cr_assert_eq(syncer_finish(&s), 0);
	cr_assert_eq(syncer_finish(&s), 0, "twice is fine");

	struct stat st;
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq((uint64_t)st.st_size, total);
	char *got = malloc(total);
	cr_assert_eq(pread(fd, got, total, 0), (ssize_t)total);
	cr_assert_eq(got[0], 'a');
	cr_assert_eq(got[STEP + 10], 'b');
	cr_assert_eq(got[total - 1], 'c');
	free(got);
}

Test(syncer, a_file_smaller_than_a_step_starts_no_thread)
{
	struct syncer s;
	syncer_init(&s, fd, STEP);
	write_bytes(&s, 'a', STEP - 1, 0);
	cr_assert_eq(s.started, 0);
	cr_assert_eq(syncer_syncs(&s), 0);
	cr_assert_eq(syncer_finish(&s), 0);
}

/* A descriptor fdatasync() refuses (a pipe: EINVAL) stands for a disk that fails. */
Test(syncer, a_failed_sync_is_reported_at_the_finish)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	struct syncer s;
	syncer_init(&s, p[1], STEP);
	syncer_wrote(&s, 2 * STEP);
	cr_assert_geq(wait_syncs(&s, 1), 1);
	cr_assert_eq(syncer_finish(&s), -EINVAL);
	close(p[0]);
	close(p[1]);

	/* control: the same steps on a regular file */
	syncer_init(&s, fd, STEP);
	syncer_wrote(&s, 2 * STEP);
	cr_assert_geq(wait_syncs(&s, 1), 1);
	cr_assert_eq(syncer_finish(&s), 0);
}
