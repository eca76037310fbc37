#include "tests/helpers.h"

#include "store/app.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/gitutil.h"
#include "store/ledger.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *sandbox;
static char *repo;

static void setup(void)
{
	sandbox = th_sandbox();
	struct app_create_opts o = APP_CREATE_OPTS_INIT;
	o.hook_exe = SLIPWAY_BIN;
	cr_assert_eq(app_create(sandbox, "demo", &o), 0, "%s", sw_error_last());
	repo = app_repo_path(sandbox, "demo");
}

static void teardown(void)
{
	free(repo);
	th_sandbox_free(sandbox);
}

TestSuite(ledger, .init = setup, .fini = teardown);

static int append(struct ledger *l, const char *desc, enum release_status st, const char *slug)
{
	struct release r = RELEASE_INIT;
	r.description = xstrdup(desc);
	r.user = xstrdup("alice@example.com");
	r.status = st;
	if (slug)
		snprintf(r.slug, sizeof(r.slug), "%s", slug);
	int err = ledger_append(l, &r);
	int v = r.version;
	release_release(&r);
	cr_assert_eq(err, 0, "append: %s", sw_error_last());
	return v;
}

static char *ref_of(const char *name)
{
	struct th_result r = th_runv(NULL, NULL, "git", "--git-dir", repo, "rev-parse", name, NULL);
	char *out = r.status == 0 ? xstrndup(r.out, 40) : NULL;
	th_result_free(&r);
	return out;
}

Test(ledger, empty_ledger_has_no_releases)
{
	struct ledger *l;
	int v = -1, c = -1;
	cr_assert_eq(ledger_open(&l, repo), 0);
	cr_assert_eq(ledger_latest(l, &v), 0);
	cr_assert_eq(ledger_current(l, &c), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(c, 0);
	struct release r = RELEASE_INIT;
	cr_assert_eq(ledger_read(l, 1, 0, &r), SW_ENOTFOUND);
	cr_assert_str_eq(sw_error_last(), "release v1 does not exist");
	ledger_free(l);
}

Test(ledger, append_numbers_without_gaps_and_reads_back)
{
	struct ledger *l;
	cr_assert_eq(ledger_open(&l, repo), 0);
	char slug[65];
	memset(slug, 'a', 64);
	slug[64] = '\0';
	for (int i = 1; i <= 5; i++)
		cr_assert_eq(append(l, "Deploy abc", RELEASE_SUCCEEDED, slug), i);

	struct release r = RELEASE_INIT;
	cr_assert_eq(ledger_read(l, 3, LEDGER_READ_ALL, &r), 0);
	cr_assert_eq(r.version, 3);
	cr_assert_str_eq(r.description, "Deploy abc");
	cr_assert_str_eq(r.user, "alice@example.com");
	cr_assert_str_eq(r.slug, slug);
	cr_assert(r.created > 0);
	release_release(&r);

	int latest, cur;
	cr_assert_eq(ledger_latest(l, &latest), 0);
	cr_assert_eq(ledger_current(l, &cur), 0);
	cr_assert_eq(latest, 5);
	cr_assert_eq(cur, 5);
	ledger_free(l);

	/* the refs are real git refs: v5 is current, the chain has 5 commits */
	char *v5 = ref_of("refs/releases/v5"), *c = ref_of("refs/slipway/current");
	cr_assert(v5 && c);
	cr_assert_str_eq(v5, c);
	struct th_result n = th_runv(NULL, NULL, "git", "--git-dir", repo, "rev-list", "--count",
				     "refs/slipway/ledger", NULL);
	cr_assert_str_eq(n.out, "5\n");
	th_result_free(&n);
	free(v5);
	free(c);
}

Test(ledger, config_and_processes_round_trip_exactly)
{
	struct ledger *l;
	cr_assert_eq(ledger_open(&l, repo), 0);
	struct release r = RELEASE_INIT, back = RELEASE_INIT;
	const char *tricky = "line one\nline 'two' \"quoted\" a=b=c \xc3\xa9\n";
	r.description = xstrdup("Set A, B config vars");
	r.user = xstrdup("bob");
	config_set(&r.config, "B", tricky);
	config_set(&r.config, "A", "");
	proc_list_set(&r.procs, "web", "bundle exec puma -p $PORT");
	proc_list_set(&r.procs, "release", "./migrate");
	cr_assert_eq(ledger_append(l, &r), 0);
	cr_assert_eq(ledger_read(l, 1, LEDGER_READ_ALL, &back), 0);
	cr_assert_eq(back.config.n, 2);
	cr_assert_str_eq(config_get(&back.config, "A"), "");
	cr_assert_str_eq(config_get(&back.config, "B"), tricky);
	cr_assert_str_eq(proc_list_get(&back.procs, "web"), "bundle exec puma -p $PORT");
	cr_assert_str_eq(proc_list_get(&back.procs, "release"), "./migrate");
	cr_assert_str_eq(back.slug, "");
	cr_assert_str_eq(back.commit, "");
	release_release(&r);
	release_release(&back);
	ledger_free(l);
}

Test(ledger, attachments_round_trip_and_a_release_without_any_reads_none)
{
	struct ledger *l;
	cr_assert_eq(ledger_open(&l, repo), 0);
	struct release r = RELEASE_INIT, back = RELEASE_INIT, plain = RELEASE_INIT;
	struct strvec vars = STRVEC_INIT;
	strvec_push(&vars, "REDIS_URL");
	strvec_push(&vars, "REDIS_TLS_URL");
	r.description = xstrdup("Attach redis-clear-7 as REDIS");
	config_set(&r.config, "REDIS_URL", "redis://:pw@/0");
	config_set(&r.config, "REDIS_TLS_URL", "rediss://:pw@/0");
	cr_assert_eq(attach_add(&r.addons, "REDIS", "redis-clear-7", &vars), 0);
	cr_assert_eq(attach_add(&r.addons, "CACHE", "redis-clear-7", NULL), 0);
	cr_assert_eq(ledger_append(l, &r), 0);
	cr_assert_eq(ledger_read(l, 1, LEDGER_READ_CONFIG, &back), 0);
	cr_assert(attach_equal(&back.addons, &r.addons));
	cr_assert_eq(back.addons.n, 2);
	cr_assert_str_eq(back.addons.v[0].alias, "CACHE", "sorted by alias");
	const struct attachment *at = attach_managing(&back.addons, "REDIS_TLS_URL");
	cr_assert(at && !strcmp(at->alias, "REDIS") && !strcmp(at->addon, "redis-clear-7"));
	cr_assert_null(attach_managing(&back.addons, "PATH"));

	plain.description = xstrdup("Set A config vars");
	config_set(&plain.config, "A", "1");
	cr_assert_eq(ledger_append(l, &plain), 0);
	release_release(&back);
	cr_assert_eq(ledger_read(l, 2, LEDGER_READ_ALL, &back), 0);
	cr_assert_eq(back.addons.n, 0);
	strvec_clear(&vars);
	release_release(&r);
	release_release(&plain);
	release_release(&back);
	ledger_free(l);
}

Test(attach, names_are_checked_and_a_var_has_one_manager)
{
	struct attachments a = ATTACHMENTS_INIT;
	struct strvec v = STRVEC_INIT;
	strvec_push(&v, "DATABASE_URL");
	cr_assert_eq(attach_add(&a, "DATABASE", "postgresql-amber-12", &v), 0);
	cr_assert_eq(attach_add(&a, "DATABASE", "postgresql-amber-13", NULL), SW_EEXISTS);
	cr_assert(strstr(sw_error_last(), "DATABASE is attached already"), "%s", sw_error_last());
	cr_assert_eq(attach_add(&a, "OTHER", "postgresql-amber-13", &v), SW_EEXISTS);
	cr_assert(strstr(sw_error_last(), "DATABASE_URL is managed by postgresql-amber-12"), "%s",
		  sw_error_last());
	cr_assert_eq(attach_add(&a, "database", "postgresql-amber-13", NULL), SW_EINVALID);
	cr_assert_eq(attach_add(&a, "DB", "Bad Name", NULL), SW_EINVALID);
	struct strvec bad = STRVEC_INIT;
	strvec_push(&bad, "NOT-A-VAR");
	cr_assert_eq(attach_add(&a, "DB", "postgresql-amber-13", &bad), SW_EINVALID);
	strvec_clear(&bad);
	cr_assert_eq(a.n, 1, "nothing was added by a refusal");
	struct attachments b = ATTACHMENTS_INIT;
	struct buf blob = BUF_INIT;
	attach_format(&a.v[0], &blob);
	cr_assert_str_eq(blob.data, "addon postgresql-amber-12\nvar DATABASE_URL\n");
	cr_assert_eq(attach_parse(&b, "DATABASE", blob.data, blob.len), 0);
	cr_assert(attach_equal(&a, &b));
	cr_assert_eq(attach_parse(&b, "X", "var A\n", 6), SW_EINVALID, "no add-on named");
	cr_assert_eq(attach_remove(&a, "DATABASE"), 1);
	cr_assert_eq(attach_remove(&a, "DATABASE"), 0);
	cr_assert_null(attach_managing(&a, "DATABASE_URL"));
	buf_release(&blob);
	strvec_clear(&v);
	attach_release(&a);
	attach_release(&b);
}

Test(ledger, failed_release_does_not_become_current)
{
	struct ledger *l;
	cr_assert_eq(ledger_open(&l, repo), 0);
	append(l, "Deploy 1", RELEASE_SUCCEEDED, NULL);
	cr_assert_eq(append(l, "Deploy 2", RELEASE_FAILED, NULL), 2);
	int latest, cur;
	ledger_latest(l, &latest);
	ledger_current(l, &cur);
	cr_assert_eq(latest, 2);
	cr_assert_eq(cur, 1);
	cr_assert_eq(append(l, "Deploy 3", RELEASE_SUCCEEDED, NULL), 3);
	ledger_current(l, &cur);
	cr_assert_eq(cur, 3);
	ledger_free(l);
}

/* How release v reads back: its status and why it failed. */
static void assert_failed(struct ledger *l, int v, int why)
{
	struct release r = RELEASE_INIT;
	cr_assert_eq(ledger_read(l, v, 0, &r), 0);
	cr_assert_eq(r.status, RELEASE_FAILED);
	cr_assert_eq(r.failed_start, why);
	release_release(&r);
}

Test(ledger, why_a_release_failed_reads_back)
{
	struct ledger *l;
	cr_assert_eq(ledger_open(&l, repo), 0);
	append(l, "Deploy 1", RELEASE_SUCCEEDED, NULL);
	int v = append(l, "Deploy 2", RELEASE_PENDING, NULL);
	cr_assert_eq(ledger_finish(l, v, RELEASE_FAILED, RELEASE_FAILED_START, "no bind\n"), 0);
	assert_failed(l, v, RELEASE_FAILED_START);
	v = append(l, "Deploy 3", RELEASE_PENDING, NULL);
	cr_assert_eq(ledger_finish(l, v, RELEASE_FAILED, RELEASE_INTERRUPTED, "killed\n"), 0);
	assert_failed(l, v, RELEASE_INTERRUPTED);
	v = append(l, "Deploy 4", RELEASE_PENDING, NULL);
	cr_assert_eq(ledger_finish(l, v, RELEASE_FAILED, 0, "release command\n"), 0);
	assert_failed(l, v, 0);
	/* left pending by a killed writer: the next append marks it interrupted */
	v = append(l, "Deploy 5", RELEASE_PENDING, NULL);
	append(l, "Deploy 6", RELEASE_SUCCEEDED, NULL);
	assert_failed(l, v, RELEASE_INTERRUPTED);
	ledger_free(l);
}

Test(ledger, a_taken_version_is_a_conflict_not_an_overwrite)
{
	struct ledger *l;
	cr_assert_eq(ledger_open(&l, repo), 0);
	append(l, "Deploy 1", RELEASE_SUCCEEDED, NULL);
	char *v1 = ref_of("refs/releases/v1");
	/* another writer that bypassed the lock already claimed v2 with a foreign commit */
	struct th_result t = th_runv(NULL, NULL, "git", "--git-dir", repo, "update-ref",
				     "refs/releases/v2", v1, NULL);
	cr_assert_eq(t.status, 0);
	th_result_free(&t);

	struct release r = RELEASE_INIT;
	r.description = xstrdup("Deploy 2");
	r.user = xstrdup("x");
	cr_assert_eq(ledger_append(l, &r), SW_ECONFLICT);
	release_release(&r);
	char *v2 = ref_of("refs/releases/v2");
	cr_assert_str_eq(v2, v1, "v2 was overwritten");
	int latest;
	ledger_latest(l, &latest);
	cr_assert_eq(latest, 1);
	free(v1);
	free(v2);
	ledger_free(l);
}

Test(ledger, a_release_recorded_before_a_crash_is_rolled_forward)
{
	struct ledger *l;
	cr_assert_eq(ledger_open(&l, repo), 0);
	append(l, "Deploy 1", RELEASE_SUCCEEDED, NULL);
	append(l, "Deploy 2", RELEASE_SUCCEEDED, NULL);
	char *v1 = ref_of("refs/releases/v1");
	/* the writer died after creating refs/releases/v2 but before moving the head and current */
	struct th_result t = th_runv(NULL, NULL, "git", "--git-dir", repo, "update-ref",
				     "refs/slipway/ledger", v1, NULL);
	th_result_free(&t);
	t = th_runv(NULL, NULL, "git", "--git-dir", repo, "update-ref", "refs/slipway/current", v1,
		    NULL);
	th_result_free(&t);

	int latest;
	cr_assert_eq(ledger_latest(l, &latest), 0);
	cr_assert_eq(latest, 2, "readers see the complete release");
	cr_assert_eq(append(l, "Deploy 3", RELEASE_SUCCEEDED, NULL), 3);
	struct release r = RELEASE_INIT;
	cr_assert_eq(ledger_read(l, 3, 0, &r), 0);
	release_release(&r);
	char *v2 = ref_of("refs/releases/v2");
	struct th_result p = th_runv(NULL, NULL, "git", "--git-dir", repo, "rev-parse",
				     "refs/releases/v3^", NULL);
	cr_assert_eq(strncmp(p.out, v2, 40), 0, "v3's parent is v2");
	th_result_free(&p);
	free(v1);
	free(v2);
	ledger_free(l);
}

/* Points ref at refs/releases/v<version>'s commit, as a writer killed before moving it left it. */
static void set_ref(const char *ref, int version)
{
	char *name = th_path("refs/releases/v%d", version);
	char *oid = ref_of(name);
	cr_assert(oid, "%s exists", name);
	struct th_result t = th_runv(NULL, NULL, "git", "--git-dir", repo, "update-ref", ref, oid,
				     NULL);
	cr_assert_eq(t.status, 0, "%s", t.err);
	th_result_free(&t);
	free(oid);
	free(name);
}

/*
 * Makes every update of ref fail until unblock(): a directory where git
 * takes the ref's lock file, which no writer removes.  A writer stopped
 * there stands in for one killed at that step.
 */
static char *block(const char *ref)
{
	char *p = th_path("%s/%s.lock", repo, ref);
	cr_assert_eq(mkdir(p, 0755), 0);
	return p;
}

static void unblock(char *p)
{
	cr_assert_eq(rmdir(p), 0);
	free(p);
}

static void assert_current(struct ledger *l, int want, const char *when)
{
	int cur = -1;
	cr_assert_eq(ledger_current(l, &cur), 0, "%s", sw_error_last());
	cr_assert_eq(cur, want, "%s: current is v%d, not v%d", when, cur, want);
}

Test(ledger, a_writer_stopped_while_finishing_a_killed_ones_release_leaves_it_current)
{
	struct ledger *l;
	cr_assert_eq(ledger_open(&l, repo), 0);
	append(l, "Deploy 1", RELEASE_SUCCEEDED, NULL);
	append(l, "Rollback to v1", RELEASE_SUCCEEDED, NULL);
	/* the rollback's writer was killed once v2 was recorded, before current and the head moved */
	set_ref("refs/slipway/current", 1);
	set_ref("refs/slipway/ledger", 1);
	assert_current(l, 2, "after the kill");

	/* the next writer finishes that one's refs first, and is stopped at each of them in turn */
	const char *refs[] = { "refs/slipway/current", "refs/slipway/ledger" };
	for (size_t i = 0; i < 2; i++) {
		char *b = block(refs[i]);
		struct release r = RELEASE_INIT;
		r.description = xstrdup("Set K config var");
		r.user = xstrdup("alice@example.com");
		r.status = RELEASE_SUCCEEDED;
		cr_assert_neq(ledger_append(l, &r), 0, "the append stops at %s", refs[i]);
		release_release(&r);
		unblock(b);
		int latest;
		cr_assert_eq(ledger_latest(l, &latest), 0);
		cr_assert_eq(latest, 2, "stopped at %s", refs[i]);
		assert_current(l, 2, refs[i]);
		/* on disk too: a head that names v2 means a current that does */
		char *head = ref_of("refs/slipway/ledger"), *cur = ref_of("refs/slipway/current");
		char *v2 = ref_of("refs/releases/v2");
		cr_assert(strcmp(head, v2) || !strcmp(cur, v2),
			  "stopped at %s: the head moved to v2 before current", refs[i]);
		free(head);
		free(cur);
		free(v2);
	}
	/* and the one after that goes on from v2 */
	cr_assert_eq(append(l, "Set K config var", RELEASE_SUCCEEDED, NULL), 3);
	assert_current(l, 3, "after the next append");
	ledger_free(l);
}

Test(ledger, a_current_ref_left_behind_the_newest_succeeded_release_is_put_right)
{
	struct ledger *l;
	cr_assert_eq(ledger_open(&l, repo), 0);
	append(l, "Deploy 1", RELEASE_SUCCEEDED, NULL);
	append(l, "Rollback to v1", RELEASE_SUCCEEDED, NULL);
	/* a repair that moved the head and was killed before it moved current */
	set_ref("refs/slipway/current", 1);
	assert_current(l, 2, "before the next append");
	/* the next release is pending, then fails: v2 stays the current one */
	int v = append(l, "Deploy 3", RELEASE_PENDING, NULL);
	assert_current(l, 2, "while v3 is pending");
	cr_assert_eq(ledger_finish(l, v, RELEASE_FAILED, 0, "release command\n"), 0);
	assert_current(l, 2, "once v3 failed");
	char *v2 = ref_of("refs/releases/v2"), *cur = ref_of("refs/slipway/current");
	cr_assert_str_eq(cur, v2, "refs/slipway/current names v2");
	free(v2);
	free(cur);
	ledger_free(l);
}

Test(ledger, lock_files_a_killed_writer_left_do_not_block_the_next_append)
{
	struct ledger *l;
	cr_assert_eq(ledger_open(&l, repo), 0);
	append(l, "Deploy 1", RELEASE_SUCCEEDED, NULL);
	append(l, "Deploy 2", RELEASE_SUCCEEDED, NULL);
	/* killed while creating v3, and while moving current and the head */
	const char *locks[] = { "refs/releases/v3.lock", "refs/releases/v2.lock",
				"refs/slipway/current.lock", "refs/slipway/ledger.lock" };
	for (size_t i = 0; i < 4; i++) {
		char *p = th_path("%s/%s", repo, locks[i]);
		th_write(p, "0000000000000000000000000000000000000000\n", 0644);
		free(p);
	}
	cr_assert_eq(append(l, "Deploy 3", RELEASE_SUCCEEDED, NULL), 3);
	cr_assert_eq(append(l, "Deploy 4", RELEASE_SUCCEEDED, NULL), 4);
	char *v4 = ref_of("refs/releases/v4"), *cur = ref_of("refs/slipway/current");
	cr_assert(v4 && cur && !strcmp(v4, cur), "current is v4");
	for (size_t i = 0; i < 4; i++) {
		char *p = th_path("%s/%s", repo, locks[i]);
		cr_assert_not(fs_exists(p), "%s is still there", locks[i]);
		free(p);
	}
	free(v4);
	free(cur);
	ledger_free(l);
}

static int collect(const struct release *r, void *ctx)
{
	struct buf *b = ctx;
	buf_addf(b, "v%d ", r->version);
	return r->version == 2;
}

Test(ledger, walk_goes_newest_first_and_stops)
{
	struct ledger *l;
	cr_assert_eq(ledger_open(&l, repo), 0);
	for (int i = 0; i < 4; i++)
		append(l, "x", RELEASE_SUCCEEDED, NULL);
	struct buf b = BUF_INIT;
	cr_assert_eq(ledger_walk(l, 0, 0, collect, &b), 1);
	cr_assert_str_eq(b.data, "v4 v3 v2 ");
	buf_release(&b);
	ledger_free(l);
}

Test(release, versions_parse_and_refuse)
{
	int v;
	cr_assert_eq(release_parse_version("v24", &v), 0);
	cr_assert_eq(v, 24);
	cr_assert_eq(release_parse_version("7", &v), 0);
	cr_assert_eq(v, 7);
	const char *bad[] = { "v0", "0", "v-1", "-1", "vx", "", "v", "v99999999999999999999",
			      "v1x", "v 1", "v+1", "1000000000", NULL };
	for (int i = 0; bad[i]; i++) {
		cr_assert_eq(release_parse_version(bad[i], &v), SW_EINVALID, "%s accepted", bad[i]);
		cr_assert(strstr(sw_error_last(), "invalid release version"));
	}
}

Test(release, record_round_trips_and_malformed_is_refused)
{
	struct release r = RELEASE_INIT, back = RELEASE_INIT;
	r.version = 12;
	r.status = RELEASE_FAILED;
	r.description = xstrdup("Rollback to v3");
	r.user = xstrdup("a@b");
	r.created = 1763764267;
	memset(r.commit, 'c', 40);
	r.commit[40] = '\0';
	r.rollback_of = 3;
	r.release_command = 1;
	struct buf b = BUF_INIT;
	release_format(&r, &b);
	cr_assert_eq(release_parse(&back, b.data, b.len), 0);
	cr_assert_eq(back.release_command, 1);
	cr_assert_eq(back.version, 12);
	cr_assert_eq(back.status, RELEASE_FAILED);
	cr_assert_str_eq(back.description, "Rollback to v3");
	cr_assert_str_eq(back.commit, r.commit);
	cr_assert_eq(back.created, 1763764267);
	cr_assert_eq(back.rollback_of, 3);
	release_release(&back);
	buf_release(&b);
	release_release(&r);

	const char *bad[] = { "", "version 0\n", "version x\n", "version 1\nstatus weird\n",
			      "version 1\ncommit 12\n", "version 1\nslug ZZ\n", "nospace\n", NULL };
	for (int i = 0; bad[i]; i++) {
		struct release x = RELEASE_INIT;
		cr_assert_eq(release_parse(&x, bad[i], strlen(bad[i])), SW_EINVALID, "%s", bad[i]);
		release_release(&x);
	}
}
