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
 *   slipway-bench run N
 *       runs /bin/true N times through run_child() and N times with a bare
 *       fork, execve and waitpid, alternating, and prints the medians:
 *       run_child_ms=M bare_ms=B run_child_mean_ms=M bare_mean_ms=B (a
 *       rare slow run shows in the mean, not in the median)
 *   slipway-bench addons ROOT N [KIND]
 *       starts ROOT's supervision tree (if it is not running) and creates N
 *       add-ons of KIND (default postgresql) one after the other with addon_create(), each
 *       until it is ready, printing one line each: seconds=S name=NAME;
 *       the servers keep running (as an unprivileged user only)
 *   slipway-bench addons-stop ROOT
 *       stops ROOT's supervision tree and everything in it
 *   slipway-bench builds ROOT APP N
 *       records N builds of APP (builds_begin(), a line of output each,
 *       every tenth failed) and prints seconds=S
 *   slipway-bench activity ROOT APP RUNS
 *       renders APP's Activity tab (dashboard_answer(), what the
 *       dashboard's process for one request runs, logged in as the
 *       operator) RUNS times and prints median_ms=M bytes=B
 *   slipway-bench backup ROOT NAME
 *       captures a backup of PostgreSQL add-on NAME with its restore test
 *       (addon_backup_capture(), what pg:backups:capture runs) and prints
 *       seconds=S size=BYTES tables=N
 *   slipway-bench s3-put ROOT HEX
 *       uploads ROOT's slug HEX to S3 (s3_put_file(), what a build's upload
 *       runs, the S3 settings from the environment) and prints seconds=S
 *   slipway-bench s3-fetch ROOT HEX
 *       fetches slug HEX from S3 into ROOT's store (s3_slug_fetch(), SHA-256
 *       checked before it is published) and prints seconds=S
 *
 * Not installed, not part of the product: it exists so the benchmark can
 * time the slug writer alone and build a long ledger quickly.
 */
#define _GNU_SOURCE
#include "store/slug.h"
#include "store/cas.h"
#include "store/s3.h"
#include "dashboard/pages.h"
#include "dashboard/scgi.h"
#include "dashboard/session.h"
#include "release/change.h"
#include "runtime/addon.h"
#include "runtime/addon_backup.h"
#include "runtime/supervisor.h"
#include "store/appctx.h"
#include "store/builds.h"
#include "store/config.h"
#include "util/error.h"
#include "util/run.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
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
		struct app_ctx ctx = APP_CTX_INIT;
		int err = app_ctx_open(&ctx, argv[0], argv[1], APP_CTX_WRITE);
		if (!err)
			err = change_config(&ctx, &set, NULL, NULL, "bench@example.com", stderr, &res);
		app_ctx_release(&ctx);
		config_release(&set);
		if (err)
			return fail("releases");
		if (!first)
			first = res.version;
	}
	printf("seconds=%.4f first=v%d last=v%d\n", now() - t0, first, res.version);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double mean(const double *v, int n)
{
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += v[i];
	return sum / n;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The baseline: what starting and reaping a child costs with nothing around it. */
static int run_bare(char *const *argv)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	static const char *const argv_true[] = { "/bin/true", NULL };
	struct run_opts o = RUN_OPTS_INIT;
	int status;

	if (argc != 1 || atoi(argv[0]) < 1) {
		fprintf(stderr, "usage: slipway-bench run N\n");
		return 2;
	}
	int n = atoi(argv[0]);
	double *a = calloc((size_t)n, sizeof(*a)), *b = calloc((size_t)n, sizeof(*b));
	if (!a || !b)
		return 1;
	o.argv = argv_true;
	for (int i = 0; i < n; i++) {
		double t0 = now();
		if (run_child(&o, &status) < 0 || status)
			return fail("run");
		a[i] = (now() - t0) * 1000;
		t0 = now();
		if (run_bare((char *const *)argv_true) < 0) {
			fprintf(stderr, "slipway-bench: run: /bin/true failed\n");
			return 1;
		}
		b[i] = (now() - t0) * 1000;
	}
	double ma = mean(a, n), mb = mean(b, n);
	printf("run_child_ms=%.3f bare_ms=%.3f run_child_mean_ms=%.3f bare_mean_ms=%.3f\n",
	       median(a, n), median(b, n), ma, mb);
	free(a);
	free(b);
	return 0;
}

static int cmd_addons(int argc, char **argv)
{
	struct supervisor_status st;
	int n = argc == 2 || argc == 3 ? atoi(argv[1]) : 0;
	if (n <= 0) {
		fprintf(stderr, "usage: slipway-bench addons ROOT N [KIND]\n");
		return 2;
	}
	if (supervisor_start(argv[0], &st) < 0)
		return fail("supervisor_start");
	for (int i = 0; i < n; i++) {
		struct addon_create_opts o = ADDON_CREATE_OPTS_INIT;
		struct addon a;
		o.kind = argc == 3 ? argv[2] : "postgresql";
		double t0 = now();
		if (addon_create(argv[0], &o, &a) < 0)
			return fail("addon_create");
		printf("seconds=%.3f name=%s\n", now() - t0, a.name);
		fflush(stdout);
	}
	return 0;
}

static int cmd_addons_stop(int argc, char **argv)
{
	if (argc != 1) {
		fprintf(stderr, "usage: slipway-bench addons-stop ROOT\n");
		return 2;
	}
	return supervisor_stop(argv[0], 30) < 0 ? fail("supervisor_stop") : 0;
}

static int cmd_backup(int argc, char **argv)
{
	struct addon a;
	struct backup b;
	if (argc != 2) {
		fprintf(stderr, "usage: slipway-bench backup ROOT NAME\n");
		return 2;
	}
	if (addon_read(argv[0], argv[1], &a) < 0)
		return fail("addon_read");
	double t0 = now();
	if (addon_backup_capture(argv[0], &a, a.app, 600, &b) < 0)
		return fail("addon_backup_capture");
	printf("seconds=%.3f size=%lld tables=%d\n", now() - t0, (long long)b.size, b.tables);
	return 0;
}

static int cmd_builds(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: slipway-bench builds ROOT APP N\n");
		return 2;
	}
	int n = atoi(argv[2]);
	double t0 = now();
	for (int i = 0; i < n; i++) {
		struct build_record r = BUILD_RECORD_INIT;
		FILE *log;
		r.user = strdup("bench@example.com");
		r.source = strdup("main");
		snprintf(r.commit, sizeof(r.commit), "%040d", i);
		if (builds_begin(argv[0], argv[1], &r, n, &log) < 0)
			return fail("builds_begin");
		fprintf(log, "\033[1m-----> Building\033[0m %d\n", i);
		fclose(log);
		r.status = i % 10 == 9 ? BUILD_FAILED : BUILD_SUCCEEDED;
		if (builds_update(argv[0], argv[1], &r) < 0)
			return fail("builds_update");
		build_record_release(&r);
	}
	printf("seconds=%.3f\n", now() - t0);
	return 0;
}

/* One GET of path with the session cookie secret, as nginx passes it. */
static void scgi_get(struct buf *req, const char *path, const char *cookie)
{
	struct buf h = BUF_INIT;
	const char *pairs[][2] = { { "CONTENT_LENGTH", "0" }, { "SCGI", "1" },
				   { "REQUEST_METHOD", "GET" }, { "DOCUMENT_URI", path },
				   { "HTTP_COOKIE", cookie } };
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		buf_add(&h, pairs[i][0], strlen(pairs[i][0]) + 1);
		buf_add(&h, pairs[i][1], strlen(pairs[i][1]) + 1);
	}
	buf_addf(req, "%zu:", h.len);
	buf_add(req, h.data, h.len);
	buf_adds(req, ",");
	buf_release(&h);
}

static int cmd_activity(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: slipway-bench activity ROOT APP RUNS\n");
		return 2;
	}
	int runs = atoi(argv[2]);
	char token[SESSION_SECRET_SIZE], secret[SESSION_SECRET_SIZE];
	struct session s = SESSION_INIT;
	if (runs < 1 || session_token_create(argv[0], "bench", 1, time(NULL), token) < 0 ||
	    session_login(argv[0], token, time(NULL), secret, &s) < 0)
		return fail("login");
	session_release(&s);
	struct dashboard d = { .root = argv[0], .host = "dashboard.bench" };
	char *path = NULL, *cookie = NULL;
	if (asprintf(&path, "/apps/%s/activity", argv[1]) < 0 ||
	    asprintf(&cookie, "slipway_session=%s", secret) < 0)
		return 1;
	struct buf req = BUF_INIT;
	scgi_get(&req, path, cookie);
	double *ms = calloc((size_t)runs, sizeof(*ms));
	size_t bytes = 0;
	for (int i = 0; i < runs; i++) {
		struct scgi_request r = SCGI_REQUEST_INIT;
		struct response res = RESPONSE_INIT;
		double t0 = now();
		if (scgi_parse(&r, req.data, req.len) < 0)
			return fail("scgi_parse");
		dashboard_answer(&d, &r, time(NULL), &res);
		ms[i] = (now() - t0) * 1000;
		if (res.status != 200) {
			fprintf(stderr, "slipway-bench: status %d: %s\n", res.status, res.body.data);
			return 1;
		}
		bytes = res.body.len;
		response_release(&res);
		scgi_request_release(&r);
	}
	qsort(ms, (size_t)runs, sizeof(*ms), cmp_double);
	printf("median_ms=%.2f bytes=%zu\n", ms[runs / 2], bytes);
	free(ms);
	buf_release(&req);
	free(path);
	free(cookie);
	return 0;
}

/* s3-put ROOT HEX, s3-fetch ROOT HEX */
static int cmd_s3(int fetch, int argc, char **argv)
{
	struct s3 s3 = S3_INIT;
	if (argc != 2) {
		fprintf(stderr, "usage: slipway-bench s3-put|s3-fetch ROOT HEX\n");
		return 2;
	}
	if (s3_open(&s3, argv[0]) < 0) {
		fprintf(stderr, "error: %s\n", *sw_error_last() ? sw_error_last() : "S3 is not configured");
		return 1;
	}
	double t0 = now();
	int err;
	if (fetch) {
		err = s3_slug_fetch(&s3, argv[0], argv[1], NULL);
	} else {
		char *key = s3_slug_key(argv[1]), *path = cas_path(argv[0], argv[1]);
		err = path ? s3_put_file(&s3, key, path, argv[1]) : SW_EINVALID;
		free(key);
		free(path);
	}
	double t1 = now();
	s3_release(&s3);
	if (err < 0) {
		fprintf(stderr, "error: %s\n", sw_error_last());
		return 1;
	}
	printf("seconds=%.6f\n", t1 - t0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "s3-put"))
		return cmd_s3(0, argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "s3-fetch"))
		return cmd_s3(1, argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "builds"))
		return cmd_builds(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "activity"))
		return cmd_activity(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "pack"))
		return cmd_pack(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "releases"))
		return cmd_releases(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "addons"))
		return cmd_addons(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "addons-stop"))
		return cmd_addons_stop(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "backup"))
		return cmd_backup(argc - 2, argv + 2);
	fprintf(stderr, "usage: slipway-bench pack DIR OUT [THREADS]\n"
			"       slipway-bench releases ROOT APP N\n"
			"       slipway-bench run N\n"
			"       slipway-bench addons ROOT N [KIND]\n"
			"       slipway-bench addons-stop ROOT\n"
			"       slipway-bench builds ROOT APP N\n"
			"       slipway-bench activity ROOT APP RUNS\n"
			"       slipway-bench backup ROOT NAME\n"
			"       slipway-bench s3-put|s3-fetch ROOT HEX\n");
	return 2;
}
