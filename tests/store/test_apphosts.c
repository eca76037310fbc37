/*
 * test_apphosts.c - store/apphosts.c: an app is served by every host until
 * its hosts are set; a set names only hosts recorded ("local" is this
 * server), is refused for any other with nothing changed, and leaves out a
 * host removed since; "all" goes back to the default.
 */
#include "store/apphosts.h"
#include "store/hosts.h"
#include "tests/helpers.h"
#include "util/error.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <sys/stat.h>

static char *root;

static void setup(void)
{
	root = th_sandbox();
	char *apps = th_path("%s/apps", root), *repo = th_path("%s/apps/myapp.git", root);
	cr_assert_eq(mkdir(apps, 0755), 0);
	cr_assert_eq(mkdir(repo, 0755), 0);
	free(repo);
	free(apps);
	struct lock lk = LOCK_INIT;
	cr_assert_eq(hosts_lock(root, &lk), 0);
	cr_assert_eq(hosts_add(root, &(struct host_rec){ "h1", "ssh://s@a", "0.1.0", "10.0.0.2:80" }), 0);
	cr_assert_eq(hosts_add(root, &(struct host_rec){ "h2", "ssh://s@b", "0.1.0", "10.0.0.3:80" }), 0);
	lock_release(&lk);
}

static void teardown(void)
{
	th_sandbox_free(root);
}

TestSuite(apphosts, .init = setup, .fini = teardown);

/* v comma-joined, cleared (malloc'ed). */
static char *joined(struct strvec *v)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < v->n; i++)
		buf_addf(&b, "%s%s", i ? "," : "", v->v[i]);
	strvec_clear(v);
	return buf_detach(&b);
}

/* The app's hosts, comma-joined, "(all)" after them for the default (malloc'ed). */
static char *hosts_of(void)
{
	struct strvec v = STRVEC_INIT;
	int all = 0;
	cr_assert_eq(apphosts_list(root, "myapp", &v, &all), 0, "%s", sw_error_last());
	char *s = joined(&v);
	if (!all)
		return s;
	char *with = xasprintf("%s(all)", s);
	free(s);
	return with;
}
/* Asserts the string call returns (malloc'ed) is want. */
#define RETURNS(call, want)                    \
	do {                                   \
		char *got_ = (call);           \
		cr_assert_str_eq(got_, want);  \
		free(got_);                    \
	} while (0)
#define HOSTS_ARE(want) RETURNS(hosts_of(), want)

Test(apphosts, every_host_that_runs_it_until_set_then_those_named)
{
	/* joined hosts that do not run the app are not among its hosts */
	HOSTS_ARE("local(all)");
	cr_assert_not(apphosts_has(root, "myapp", "h2"));
	cr_assert_eq(apphosts_placed(root, "myapp", "h2"), 0);
	cr_assert_eq(apphosts_placed(root, "myapp", "h2"), 0);
	HOSTS_ARE("local,h2(all)");
	cr_assert(apphosts_has(root, "myapp", "h2"));
	cr_assert_eq(apphosts_set(root, "myapp", "h2,local,h2"), 0);
	HOSTS_ARE("local,h2");
	cr_assert_eq(apphosts_set(root, "myapp", "h1,h2"), 0);
	HOSTS_ARE("h1,h2");
	cr_assert_eq(apphosts_placed(root, "myapp", "h1"), 0);
	cr_assert_eq(apphosts_set(root, "myapp", "all"), 0);
	HOSTS_ARE("local,h1,h2(all)");
}

Test(apphosts, an_unknown_host_is_refused_and_nothing_changes)
{
	cr_assert_eq(apphosts_set(root, "myapp", "h1"), 0);
	cr_assert_eq(apphosts_set(root, "myapp", "h1,h9"), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(),
		"there is no host 'h9': give hosts of 'slipway hosts' (local is this server), or all");
	cr_assert_eq(apphosts_set(root, "myapp", ","), SW_EINVALID);
	HOSTS_ARE("h1");
}

Test(apphosts, a_host_removed_is_left_out)
{
	struct lock lk = LOCK_INIT;
	cr_assert_eq(apphosts_set(root, "myapp", "h1,h2"), 0);
	cr_assert_eq(hosts_lock(root, &lk), 0);
	cr_assert_eq(hosts_remove(root, "h1"), 0);
	lock_release(&lk);
	HOSTS_ARE("h2");
}

/* Where the app's instances go, comma-joined (malloc'ed). */
static char *placement(void)
{
	struct strvec v = STRVEC_INIT;
	cr_assert_eq(apphosts_placement(root, "myapp", &v), 0, "%s", sw_error_last());
	return joined(&v);
}

Test(apphosts, instances_go_to_local_and_every_host_until_set_then_to_those_named)
{
	char *got = placement();
	cr_assert_str_eq(got, "local,h1,h2"); /* none placed yet: all the same */
	free(got);
	size_t i = 9, n = 9;
	cr_assert_eq(apphosts_share_of(root, "myapp", "h2", &i, &n), 0);
	cr_assert(i == 2 && n == 3, "%zu of %zu", i, n);
	cr_assert_eq(apphosts_set(root, "myapp", "h2,h1"), 0);
	got = placement();
	cr_assert_str_eq(got, "h1,h2"); /* the hosts list's order */
	free(got);
	cr_assert_eq(apphosts_share_of(root, "myapp", HOST_LOCAL, &i, &n), 0);
	cr_assert(i == 2 && n == 2, "%zu of %zu", i, n);
	/* a root without run hosts: local alone */
	struct lock lk = LOCK_INIT;
	cr_assert_eq(apphosts_set(root, "myapp", "all"), 0);
	cr_assert_eq(hosts_lock(root, &lk), 0);
	cr_assert_eq(hosts_remove(root, "h1"), 0);
	cr_assert_eq(hosts_remove(root, "h2"), 0);
	lock_release(&lk);
	got = placement();
	cr_assert_str_eq(got, "local");
	free(got);
}

/* The app's strays (placed, no longer among its hosts), comma-joined (malloc'ed). */
static char *strays(void)
{
	struct strvec v = STRVEC_INIT;
	cr_assert_eq(apphosts_strays(root, "myapp", &v), 0, "%s", sw_error_last());
	return joined(&v);
}
#define STRAYS_ARE(want) RETURNS(strays(), want)

Test(apphosts, a_host_left_out_that_runs_the_app_is_a_stray_until_unplaced)
{
	STRAYS_ARE("");
	cr_assert_eq(apphosts_placed(root, "myapp", "h1"), 0);
	cr_assert_eq(apphosts_placed(root, "myapp", "h2"), 0);
	/* the default: every host serves it, none strays */
	STRAYS_ARE("");
	cr_assert_eq(apphosts_set(root, "myapp", "local,h1"), 0, "%s", sw_error_last());
	STRAYS_ARE("h2");
	/* a host left out that never ran it is none */
	cr_assert_eq(apphosts_set(root, "myapp", "local"), 0, "%s", sw_error_last());
	STRAYS_ARE("h1,h2");
	cr_assert_eq(apphosts_unplaced(root, "myapp", "h2"), 0, "%s", sw_error_last());
	STRAYS_ARE("h1");
	cr_assert_eq(apphosts_unplaced(root, "myapp", "h2"), 0, "twice is fine");
	STRAYS_ARE("h1");
	/* named again: it serves, it does not stray */
	cr_assert_eq(apphosts_set(root, "myapp", "h1,h2"), 0, "%s", sw_error_last());
	STRAYS_ARE("");
	/* a host removed from the hosts list is no one's stray */
	cr_assert_eq(apphosts_set(root, "myapp", "local"), 0, "%s", sw_error_last());
	struct lock lk = LOCK_INIT;
	cr_assert_eq(hosts_lock(root, &lk), 0);
	cr_assert_eq(hosts_remove(root, "h1"), 0, "%s", sw_error_last());
	lock_release(&lk);
	STRAYS_ARE("");
}
