/*
 * runtime/instance and /app: the instances of a release share the slug's
 * one tree (exec/unpack.h), each under an overlay of its own
 * (exec/overlay.h): starting one copies nothing, what one writes under
 * /app no other sees, is held to slipway.appWriteSize and is gone when it
 * stops, the tree stays as the slug has it, and the app gets no
 * capability it would not have had with a copy.  slipway.appOverlay false is the control: a copy per
 * instance.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"
#include "tests/integration/runtime_helpers.h"
#include "tests/release_helpers.h"

#include "runtime/instance.h"
#include "store/cas.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *root;
static char hex[65];

static void setup(void)
{
	root = rh_root();
	rh_app(root, "demo");
	rh_slug(root, hex, "data.txt", "shipped\n", "lib/keep.txt", "kept\n", NULL);
}

static void teardown(void)
{
	th_sandbox_free(root);
}

TestSuite(instance_files, .init = setup, .fini = teardown, .timeout = 90);

struct job {
	struct release r;
	struct instance_opts o;
	char *log;
};

static void job_init(struct job *j, int index, const char *command)
{
	memset(j, 0, sizeof(*j));
	j->r = (struct release)RELEASE_INIT;
	j->r.version = 3;
	memcpy(j->r.slug, hex, 65);
	proc_list_set(&j->r.procs, "worker", command);
	j->o = (struct instance_opts){ .root = root, .app = "demo", .release = &j->r,
				       .type = "worker", .index = index, .port = 20001 };
	j->log = th_path("%s/worker.%d.log", root, index);
}

static void job_release(struct job *j)
{
	release_release(&j->r);
	free(j->log);
}

static void run_job(void *ctx)
{
	struct job *j = ctx;
	int status = -1;
	int err = instance_run(&j->o, &status);
	printf("instance_run: %d, status %d\n", err, status);
}

/* The one run directory of worker.N (asserted alone), or NULL. */
static char *run_dir_of(int index)
{
	char *runs = th_path("%s/runs", root), *found = NULL, prefix[32];
	snprintf(prefix, sizeof(prefix), "demo.worker.%d-", index);
	DIR *d = opendir(runs);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix))) {
			cr_assert_null(found, "one run directory per instance");
			found = th_path("%s/%s", runs, e->d_name);
		}
	if (d)
		closedir(d);
	free(runs);
	return found;
}

static char *tree_path(const char *rest)
{
	return th_path("%s/unpacked/trees/%s%s", root, hex, rest);
}

static unsigned long long inode_of(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "%s", path);
	return (unsigned long long)st.st_ino;
}

/* What an instance does: shows its /app, then changes it, then waits for its stop. */
#define LOOK_AND_WRITE                                                                      \
	"echo \"inode $(stat -c %i data.txt) files $(ls | tr '\\n' ' ')\"; "                 \
	"echo \"$DYNO\" > mine; rm data.txt; echo changed > lib/keep.txt; mkdir made; "      \
	"echo written; while :; do sleep 0.1; done"

static char *stop(pid_t pid, const char *log)
{
	cr_assert_eq(kill(pid, SIGTERM), 0);
	cr_assert_eq(rh_child_wait(pid), 0);
	return th_read(log, NULL);
}

Test(instance_files, two_instances_share_the_slugs_tree_and_keep_their_writes_their_own)
{
	struct job a, b;
	job_init(&a, 1, LOOK_AND_WRITE);
	job_init(&b, 2, LOOK_AND_WRITE);
	pid_t pa = rh_child(a.log, NULL, run_job, &a);
	app_sandbox_wait_for(a.log, "app[worker.1]: written");
	pid_t pb = rh_child(b.log, NULL, run_job, &b);
	app_sandbox_wait_for(b.log, "app[worker.2]: written");

	/* one tree, the files each sees are its files; nothing was copied for either */
	char *data = tree_path("/data.txt"), line[128];
	snprintf(line, sizeof(line), "app[worker.2]: inode %llu files data.txt lib \n",
		 inode_of(data));
	char *text = th_read(b.log, NULL);
	cr_assert(strstr(text, line), "worker.2 sees the tree, not worker.1's writes: %s", text);
	free(text);
	snprintf(line, sizeof(line), "app[worker.1]: inode %llu files data.txt lib \n",
		 inode_of(data));
	text = th_read(a.log, NULL);
	cr_assert(strstr(text, line), "%s", text);
	free(text);
	char *ra = run_dir_of(1), *rb = run_dir_of(2);
	cr_assert(ra && rb);
	char *app_a = th_path("%s/app", ra), *app_b = th_path("%s/app", rb);
	cr_assert_eq(th_entries(app_a), 0, "no copy of the slug on disk for worker.1");
	cr_assert_eq(th_entries(app_b), 0, "nor for worker.2");

	/* the tree is as the slug has it, whatever the instances changed */
	char *tree = tree_path(""), *keep = tree_path("/lib/keep.txt");
	char *content = th_read(keep, NULL);
	cr_assert_str_eq(content, "kept\n");
	free(content);
	cr_assert_eq(th_entries(tree), 2, "data.txt and lib/, nothing written there");

	/* stopped: its writes and its run directory are gone, the tree stays */
	text = stop(pa, a.log);
	cr_assert(strstr(text, "instance_run: 0, status 143\n"), "%s", text);
	free(text);
	cr_assert_null(run_dir_of(1));
	text = stop(pb, b.log);
	free(text);
	cr_assert_null(run_dir_of(2));
	cr_assert(access(data, F_OK) == 0);
	content = th_read(keep, NULL);
	cr_assert_str_eq(content, "kept\n");
	free(content);

	/* the next instance starts from the slug again */
	struct job c;
	job_init(&c, 1, "ls | tr '\\n' ' '; echo; cat lib/keep.txt");
	text = th_read(c.log, NULL);
	free(text);
	pid_t pc = rh_child(c.log, NULL, run_job, &c);
	cr_assert_eq(rh_child_wait(pc), 0);
	text = th_read(c.log, NULL);
	cr_assert(strstr(text, "app[worker.1]: data.txt lib \n"), "%s", text);
	cr_assert(strstr(text, "app[worker.1]: kept\n"), "%s", text);
	free(text);
	free(tree);
	free(keep);
	free(app_a);
	free(app_b);
	free(ra);
	free(rb);
	free(data);
	job_release(&a);
	job_release(&b);
	job_release(&c);
}

Test(instance_files, with_app_overlay_off_each_instance_gets_its_copy)
{
	struct job a;
	setenv("SLIPWAY_APP_OVERLAY", "false", 1);
	job_init(&a, 1, "echo \"files $(ls | tr '\\n' ' ')\"; while :; do sleep 0.1; done");
	pid_t pa = rh_child(a.log, NULL, run_job, &a);
	app_sandbox_wait_for(a.log, "app[worker.1]: files data.txt lib ");
	char *ra = run_dir_of(1);
	cr_assert_not_null(ra);
	char *app = th_path("%s/app", ra);
	cr_assert_eq(th_entries(app), 2, "the control: a copy of the slug for the instance");
	char *text = stop(pa, a.log);
	free(text);
	unsetenv("SLIPWAY_APP_OVERLAY");
	free(app);
	free(ra);
	job_release(&a);
}

/* What worker.N printed after "app[worker.N]: " on the line that starts with word, malloc'ed. */
static char *said(struct job *j, const char *word)
{
	pid_t pid = rh_child(j->log, NULL, run_job, j);
	cr_assert_eq(rh_child_wait(pid), 0);
	char *text = th_read(j->log, NULL), *line = NULL, needle[64];
	snprintf(needle, sizeof(needle), "]: %s", word);
	line = strstr(text, needle);
	cr_assert_not_null(line, "%s", text);
	char *out = strndup(line + 3, strcspn(line + 3, "\n"));
	free(text);
	return out;
}

Test(instance_files, what_an_instance_writes_under_app_is_held_to_app_write_size)
{
	const char *command = "head -c 3000000 /dev/zero > big && echo \"big written\" || "
			      "echo \"big refused\"";
	struct job a, b;
	job_init(&a, 1, command);
	job_init(&b, 2, command);
	char *plenty = said(&a, "big");
	cr_assert_str_eq(plenty, "big written", "the control: 1G by default");
	setenv("SLIPWAY_APP_WRITE_SIZE", "1M", 1);
	char *tight = said(&b, "big");
	unsetenv("SLIPWAY_APP_WRITE_SIZE");
	cr_assert_str_eq(tight, "big refused");
	char *runs = th_path("%s/runs", root);
	cr_assert_eq(th_entries(runs), 0, "nothing of either on disk");
	free(runs);
	free(plenty);
	free(tight);
	job_release(&a);
	job_release(&b);
}

/* The capabilities line worker.N printed ("caps CapPrm: ... CapBnd: ..."), malloc'ed. */
static char *caps_of(struct job *j)
{
	pid_t pid = rh_child(j->log, NULL, run_job, j);
	cr_assert_eq(rh_child_wait(pid), 0);
	char *text = th_read(j->log, NULL), *line = strstr(text, "]: caps ");
	cr_assert_not_null(line, "%s", text);
	char *caps = strndup(line, strcspn(line, "\n"));
	free(text);
	return caps;
}

Test(instance_files, the_overlay_gives_the_app_no_capability_a_copy_would_not)
{
	const char *command = "echo \"caps $(grep -E '^Cap(Prm|Eff|Bnd)' /proc/self/status | "
			      "tr -s '\\t\\n' '  ')\"";
	struct job a, b;
	job_init(&a, 1, command);
	job_init(&b, 2, command);
	char *with = caps_of(&a);
	setenv("SLIPWAY_APP_OVERLAY", "false", 1);
	char *without = caps_of(&b);
	unsetenv("SLIPWAY_APP_OVERLAY");
	char *ra = run_dir_of(1);
	cr_assert_null(ra);
	cr_assert_str_eq(with, without, "the same as with a copy (the control)");
	free(with);
	free(without);
	job_release(&a);
	job_release(&b);
}

/* A slug of n files under node_modules/, packed by tar and zstd, in the store. */
static void many_files(int n, char out[65])
{
	char *dir = th_path("%s/many", root), *tar = th_path("%s/many.tar.zst", root);
	char count[16], script[512];
	snprintf(count, sizeof(count), "%d", n);
	snprintf(script, sizeof(script),
		 "mkdir -p app/node_modules && cd app/node_modules && i=0; "
		 "while [ $i -lt $(($1 / 100)) ]; do mkdir m$i; i=$((i+1)); done; "
		 "python3 -c 'import sys\nfor i in range(int(sys.argv[1])): "
		 "open(\"m%%d/f%%d.js\" %% (i // 100, i), \"w\").write(\"x\\n\")' $1 && "
		 "cd ../.. && tar -cf - ./app | zstd -q > %s", tar);
	cr_assert_eq(mkdir(dir, 0755), 0);
	struct th_result r = th_runv(dir, NULL, "sh", "-c", script, "sh", count, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	size_t len = 0;
	char *bytes = th_read(tar, &len), *tmp;
	struct cas_hasher h = CAS_HASHER_INIT;
	int fd;
	cr_assert(bytes && cas_hasher_start(&h) == 0 && cas_hasher_add(&h, bytes, len) == 0 &&
		  cas_hasher_finish(&h, out) == 0);
	cas_hasher_release(&h);
	cr_assert_eq(cas_tmpfile(root, &fd, &tmp), 0);
	cr_assert_eq(write(fd, bytes, len), (ssize_t)len);
	cr_assert_eq(cas_publish_hashed(root, fd, tmp, out), 0, "%s", sw_error_last());
	r = th_runv(NULL, NULL, "rm", "-rf", dir, tar, NULL);
	th_result_free(&r);
	free(tmp);
	free(bytes);
	free(tar);
	free(dir);
}

Test(instance_files, a_20000_file_slug_starts_without_a_copy_of_its_files)
{
	many_files(20000, hex);
	struct job a, b;
	job_init(&a, 1, "echo \"files $(find /app -type f | wc -l)\"; while :; do sleep 0.1; done");
	job_init(&b, 2, "echo \"files $(find /app -type f | wc -l)\"; while :; do sleep 0.1; done");
	pid_t pa = rh_child(a.log, NULL, run_job, &a);
	pid_t pb = rh_child(b.log, NULL, run_job, &b);
	app_sandbox_wait_for(a.log, "app[worker.1]: files 20000");
	app_sandbox_wait_for(b.log, "app[worker.2]: files 20000");
	char *ra = run_dir_of(1), *rb = run_dir_of(2);
	char *app_a = th_path("%s/app", ra), *app_b = th_path("%s/app", rb);
	cr_assert_eq(th_entries(app_a), 0, "nothing copied for worker.1");
	cr_assert_eq(th_entries(app_b), 0, "nor for worker.2");
	char *trees = th_path("%s/unpacked/trees", root);
	/* the tree and its lock file: extracted once, though both started at once */
	cr_assert_eq(th_entries(trees), 2);
	char *text = stop(pa, a.log);
	free(text);
	text = stop(pb, b.log);
	free(text);
	free(trees);
	free(app_a);
	free(app_b);
	free(ra);
	free(rb);
	job_release(&a);
	job_release(&b);
}
