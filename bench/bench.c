/*
 * slipway-bench - drivers for scripts/bench that call the library directly.
 *
 *   slipway-bench pack DIR OUT [THREADS]
 *       packs DIR with slug_write() into OUT (created, must not exist) and
 *       prints one line: seconds=S files=N bytes_in=N bytes_out=N maxrss_kb=N
 *   slipway-bench releases ROOT APP N
 *       records N config releases on APP (change_config(), the code path of
 *       `config:set`, without a process per release) and prints
 *       seconds=S first=vA last=vB
 *
 * Not installed, not part of the product: it exists so the benchmark can
 * time the slug writer alone and build a long ledger quickly.
 */
#define _GNU_SOURCE
#include "store/slug.h"
#include "runtime/change.h"
#include "store/config.h"
#include "util/error.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what)
{
	fprintf(stderr, "slipway-bench: %s: %s\n", what, sw_error_last());
	return 1;
}

static int cmd_pack(int argc, char **argv)
{
	struct slug_write_opts o = SLUG_WRITE_OPTS_INIT;
	struct slug_stats st;
	struct rusage ru;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: slipway-bench pack DIR OUT [THREADS]\n");
		return 2;
	}
	if (argc == 3)
		o.threads = atoi(argv[2]);
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	double t0 = now();
	int err = slug_write(fd, argv[0], &o, &st);
	double t = now() - t0;
	close(fd);
	if (err)
		return fail("pack");
	getrusage(RUSAGE_SELF, &ru);
	printf("seconds=%.4f files=%llu bytes_in=%llu bytes_out=%llu maxrss_kb=%ld\n", t,
	       (unsigned long long)st.files, (unsigned long long)st.bytes_in,
	       (unsigned long long)st.bytes_out, ru.ru_maxrss);
	return 0;
}

static int cmd_releases(int argc, char **argv)
{
	struct change_result res;
	int first = 0;

	memset(&res, 0, sizeof(res));

	if (argc != 3 || atoi(argv[2]) < 1) {
		fprintf(stderr, "usage: slipway-bench releases ROOT APP N\n");
		return 2;
	}
	int n = atoi(argv[2]);
	double t0 = now();
	for (int i = 0; i < n; i++) {
		struct config set = CONFIG_INIT;
		char val[32];
		snprintf(val, sizeof(val), "%d", i);
		config_set(&set, "BENCH_SEQ", val);
		int err = change_config(argv[0], argv[1], &set, NULL, NULL, "bench@example.com",
					stderr, &res);
		config_release(&set);
		if (err)
			return fail("releases");
		if (!first)
			first = res.version;
	}
	printf("seconds=%.4f first=v%d last=v%d\n", now() - t0, first, res.version);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "pack"))
		return cmd_pack(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "releases"))
		return cmd_releases(argc - 2, argv + 2);
	fprintf(stderr, "usage: slipway-bench pack DIR OUT [THREADS]\n"
			"       slipway-bench releases ROOT APP N\n");
	return 2;
}
