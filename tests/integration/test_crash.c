/*
 * Crash safety: kill -9 the hook, rollback and config:set at random moments.
 * Afterwards fsck is clean, the ledger holds the complete new release or
 * none of it, the current release is a valid one, and the next write works.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include "util/util.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct app_sandbox sb;
static char *env_gitdir;

static void setup(void)
{
	app_sandbox_init(&sb, "app", APP_SANDBOX_CREATE);
	env_gitdir = th_path("GIT_DIR=%s", sb.repo);
	/* a tree big enough that a build takes a while: 150 files, ~3 MB */
	for (int i = 0; i < 150; i++) {
		char *name = th_path("d%d/f%d.txt", i % 10, i);
		char *content = xcalloc(20001, 1);
		for (int k = 0; k < 20000; k++)
			content[k] = (char)('a' + (k * 7 + i * 13) % 26);
		app_sandbox_write(&sb, name, content, 0644);
		free(content);
		free(name);
	}
	app_sandbox_write(&sb, "Procfile", "web: ./run\n", 0644);
	app_sandbox_checkout(&sb, NULL, "main", "base");
	free(SANDBOX_OK(&sb, NULL, "git", "push", "-q", "heroku", "main"));
}

static void teardown(void)
{
	app_sandbox_release(&sb);
	free(env_gitdir);
	env_gitdir = NULL;
}

TestSuite(crash, .init = setup, .fini = teardown, .timeout = 600);

static char *out_of(const char *const *argv)
{
	return app_sandbox_must(app_sandbox_run(&sb, NULL, NULL, argv), argv[1]);
}

static int release_count(void)
{
	return app_sandbox_release_count(&sb);
}

/* A new commit, pushed to a side branch so its objects are in the app repo. */
static char *new_commit(int i)
{
	char *content = th_path("change %d\n", i);
	app_sandbox_write(&sb, "d0/changed.txt", content, 0644);
	free(SANDBOX_OK(&sb, NULL, "git", "add", "-A"));
	free(SANDBOX_OK(&sb, NULL, "git", "commit", "-qm", content));
	struct th_result r = SANDBOX_RUN(&sb, NULL, "git", "push", "-q", "heroku",
					 "HEAD:refs/heads/side");
	th_result_free(&r);
	free(content);
	return app_sandbox_head(&sb, NULL);
}

/* Starts argv with stdin input, kills it -9 after `usec`; returns its exit status. */
static int run_and_kill(const char *const *argv, const char *input, const char *const *extra_env,
			long usec)
{
	int in[2];
	cr_assert_eq(pipe(in), 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(in[0], 0);
		close(in[1]);
		int devnull = open("/dev/null", 1);
		dup2(devnull, 1);
		dup2(devnull, 2);
		for (size_t i = 0; sb.env[i]; i++)
			putenv((char *)sb.env[i]);
		for (size_t i = 0; extra_env && extra_env[i]; i++)
			putenv((char *)extra_env[i]);
		if (chdir(sb.repo) < 0)
			_exit(127);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	if (input && write(in[1], input, strlen(input)) < 0)
		cr_assert_fail("write");
	close(in[1]);
	struct timespec ts = { usec / 1000000, (usec % 1000000) * 1000 };
	nanosleep(&ts, NULL);
	kill(pid, SIGKILL);
	int st;
	waitpid(pid, &st, 0);
	return st;
}

static void check_consistent(int before, int *after)
{
	/*
	 * A killed writer's guard finishes what it left under the app's lock:
	 * the promise holds once the lock is free (flock(1) waits for it).
	 */
	char *lock = th_path("%s/locks/app.lock", sb.root);
	const char *wait_lock[] = { "flock", "-w", "60", lock, "true", NULL };
	struct th_result w = app_sandbox_run(&sb, NULL, NULL, wait_lock);
	cr_assert_eq(w.status, 0, "the app lock stayed taken: %s", w.err);
	th_result_free(&w);
	free(lock);
	const char *fsck[] = { SLIPWAY_BIN, "fsck", NULL };
	struct th_result r = app_sandbox_run(&sb, NULL, NULL, fsck);
	cr_assert_eq(r.status, 0, "fsck after a kill: %s%s", r.out, r.err);
	th_result_free(&r);
	*after = release_count();
	cr_assert(*after == before || *after == before + 1, "releases %d -> %d", before, *after);
	/* the current release is complete: its slug is in the store */
	const char *info[] = { SLIPWAY_BIN, "slugs:contents", "v1", "-a", "app", NULL };
	free(out_of(info));
	const char *cur[] = { SLIPWAY_BIN, "releases:info", "--json", "-a", "app", NULL };
	char *j = out_of(cur);
	cr_assert(strstr(j, "\"current\":true"), "%s", j);
	free(j);
}

Test(crash, killing_writers_at_random_moments_loses_nothing)
{
	srand(12345);
	int trials = 0, kinds[3] = { 0, 0, 0 };
	for (int i = 0; i < 60; i++) {
		int before = release_count(), after;
		int kind = i % 3;
		/* a deploy here takes a few hundred ms, a config change or rollback tens */
		long usec = (rand() % 1200) * 1000L + rand() % 1000;
		if (kind == 0) {
			char *sha = new_commit(i);
			char *line = th_path("%040d %s refs/heads/main\n", 0, sha);
			memset(line, '1', 40);
			const char *argv[] = { SLIPWAY_BIN, "hook", "post-receive", NULL };
			const char *extra[] = { env_gitdir, NULL };
			run_and_kill(argv, line, extra, usec);
			free(line);
			free(sha);
		} else if (kind == 1) {
			char kv[32];
			snprintf(kv, sizeof(kv), "K%d=%d", i, i);
			const char *argv[] = { SLIPWAY_BIN, "config:set", kv, "-a", "app", NULL };
			run_and_kill(argv, NULL, NULL, usec / 10);
		} else {
			const char *argv[] = { SLIPWAY_BIN, "rollback", "v1", "-a", "app", NULL };
			run_and_kill(argv, NULL, NULL, usec / 10);
		}
		check_consistent(before, &after);
		kinds[kind] += after - before;
		trials++;
	}
	cr_assert_eq(trials, 60);
	/* the next push still succeeds, and leftovers are swept by it and by gc */
	char *sha = new_commit(1000);
	const char *push[] = { "git", "push", "heroku", "HEAD:main", NULL };
	struct th_result r = app_sandbox_run(&sb, NULL, NULL, push);
	cr_assert(strstr(r.err, "Released v"), "%s", r.err);
	th_result_free(&r);
	free(sha);
	/* no build area is left: the disk one, or the tmpfs one (store/buildarea.h) */
	struct stat rst;
	cr_assert_eq(stat(sb.root, &rst), 0);
	char *areas[] = {
		th_path("%s/builds/app", sb.root),
		th_path("/dev/shm/slipway-%u/%llx-%llx-app", (unsigned)geteuid(),
			(unsigned long long)rst.st_dev, (unsigned long long)rst.st_ino),
	};
	for (int i = 0; i < 2; i++) {
		const char *find[] = { "find", areas[i], "-mindepth", "1", NULL };
		struct th_result fr = app_sandbox_run(&sb, NULL, NULL, find);
		cr_assert_str_eq(fr.out, "", "build dirs left: %s", fr.out);
		th_result_free(&fr);
		free(areas[i]);
	}
	const char *gc[] = { SLIPWAY_BIN, "gc", NULL };
	free(out_of(gc));
	cr_log_info("completed releases despite kills: deploy %d, config %d, rollback %d", kinds[0],
		    kinds[1], kinds[2]);
}

/*
 * The moments a random kill rarely hits, taken one by one: a writer that
 * stops between two ref updates (an update made to fail stands in for the
 * kill) on an app with one small release.
 */
static void setup_small(void)
{
	app_sandbox_init(&sb, "app", APP_SANDBOX_CREATE);
	app_sandbox_write(&sb, "Procfile", "web: ./run\n", 0644);
	app_sandbox_checkout(&sb, NULL, "main", "base");
	free(app_sandbox_push(&sb, "main"));
}

/*
 * The crash suite's timeout: with a shorter one, Criterion's runner leaked
 * an allocation of its timeout handling under --jobs 2 (LeakSanitizer).
 */
TestSuite(crash_refs, .init = setup_small, .fini = teardown, .timeout = 600);

/* Points ref of the app's repository at v<version>, as a writer killed before moving it left it. */
static void set_ref(const char *ref, int version)
{
	char *name = th_path("refs/releases/v%d", version);
	char *oid = app_sandbox_ref(&sb, name);
	free(SANDBOX_OK(&sb, NULL, "git", "--git-dir", sb.repo, "update-ref", ref, oid));
	free(oid);
	free(name);
}

/* releases:info --json of the newest release says it is version and current. */
static void assert_newest_current(int version, const char *when)
{
	const char *info[] = { SLIPWAY_BIN, "releases:info", "--json", "-a", "app", NULL };
	char *j = out_of(info);
	char *v = th_path("\"version\":%d,", version);
	cr_assert(strstr(j, v) && strstr(j, "\"current\":true"), "%s: %s", when, j);
	free(v);
	free(j);
}

Test(crash_refs, a_writer_stopped_while_finishing_a_killed_ones_release_leaves_it_current)
{
	const char *rollback[] = { SLIPWAY_BIN, "rollback", "v1", "-a", "app", NULL };
	free(out_of(rollback));
	/* the rollback's writer was killed once v2 was recorded, before current and the head moved */
	set_ref("refs/slipway/current", 1);
	set_ref("refs/slipway/ledger", 1);
	assert_newest_current(2, "after the kill");
	/* the next writer finishes those moves first: stopped at each of them, v2 stays current */
	const char *refs[] = { "refs/slipway/current", "refs/slipway/ledger" };
	const char *set[] = { SLIPWAY_BIN, "config:set", "K=1", "-a", "app", NULL };
	const char *fsck[] = { SLIPWAY_BIN, "fsck", NULL };
	for (size_t i = 0; i < 2; i++) {
		/* a directory where git takes the ref's lock file: no update of it succeeds */
		char *lock = th_path("%s/%s.lock", sb.repo, refs[i]);
		cr_assert_eq(mkdir(lock, 0755), 0);
		struct th_result r = app_sandbox_run(&sb, NULL, NULL, set);
		cr_assert_eq(r.status, 1, "config:set stopped at %s: %s", refs[i], r.err);
		th_result_free(&r);
		cr_assert_eq(rmdir(lock), 0);
		free(lock);
		cr_assert_eq(release_count(), 2);
		free(out_of(fsck));
		assert_newest_current(2, refs[i]);
	}
	free(out_of(set));
	assert_newest_current(3, "after the next config:set");
}
