/*
 * test_hosts.c - store/hosts.c: host names and ssh URLs are checked (no
 * part of a URL can be read by ssh as an option), the list keeps its
 * hosts in order, refuses a name or a URL twice, and removes one.
 */
#include "store/hosts.h"
#include "tests/helpers.h"
#include "util/error.h"

#include <criterion/criterion.h>
#include <stdlib.h>

static char *root;

static void setup(void)
{
	root = th_sandbox();
}

static void teardown(void)
{
	th_sandbox_free(root);
}

TestSuite(hosts, .init = setup, .fini = teardown);

Test(hosts, names)
{
	cr_assert(host_name_valid("h1"));
	cr_assert(host_name_valid("run-2"));
	cr_assert_not(host_name_valid("local"));
	cr_assert_not(host_name_valid("1h"));
	cr_assert_not(host_name_valid("H1"));
	cr_assert_not(host_name_valid(""));
	cr_assert_not(host_name_valid("a234567890123456789012345678901"));
	cr_assert_eq(host_name_check("local"), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "'local' is this server's own"));
}

Test(hosts, urls)
{
	struct host_url u = HOST_URL_INIT;
	cr_assert_eq(host_url_parse(&u, "ssh://slipway@10.0.0.2"), 0);
	cr_assert_str_eq(u.user, "slipway");
	cr_assert_str_eq(u.address, "10.0.0.2");
	cr_assert_eq(u.port, 22);
	host_url_release(&u);
	cr_assert_eq(host_url_parse(&u, "ssh://slipway@run2.example.com:2222/"), 0);
	cr_assert_str_eq(u.address, "run2.example.com");
	cr_assert_eq(u.port, 2222);
	host_url_release(&u);
	cr_assert_eq(host_url_parse(&u, "ssh://slipway@[fd00::2]:22"), 0);
	cr_assert_str_eq(u.address, "fd00::2");
	host_url_release(&u);
	static const char *const bad[] = {
		"slipway@10.0.0.2", "ssh://10.0.0.2", "ssh://-oProxyCommand=x@h", "ssh://u@-oProxyCommand=x",
		"ssh://u@h:0", "ssh://u@h:65536", "ssh://u@h:x", "ssh://u@h:-1", "ssh://u@h/path",
		"ssh://u@h x", "ssh://U@h", "ssh://u@[h]", "ssh://u@", "http://u@h", NULL,
	};
	for (size_t i = 0; bad[i]; i++) {
		cr_assert_eq(host_url_parse(&u, bad[i]), SW_EINVALID, "%s", bad[i]);
		cr_assert(strstr(sw_error_last(), "give ssh://USER@ADDRESS"), "%s", sw_error_last());
		cr_assert_null(u.user);
	}
}

Test(hosts, the_list_keeps_adds_in_order_and_refuses_twice)
{
	struct lock lk = LOCK_INIT;
	struct host_rec *v = NULL;
	size_t n = 9;
	cr_assert_eq(hosts_read(root, &v, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(hosts_lock(root, &lk), 0);
	cr_assert_eq(hosts_add(root, &(struct host_rec){ "h1", "ssh://s@a", "0.1.0", NULL }), 0);
	cr_assert_eq(hosts_add(root, &(struct host_rec){ "h2", "ssh://s@b", "0.1.0", NULL }), 0);
	cr_assert_eq(hosts_add(root, &(struct host_rec){ "h1", "ssh://s@c", "0.1.0", NULL }), SW_EEXISTS);
	cr_assert_eq(hosts_add(root, &(struct host_rec){ "h3", "ssh://s@a", "0.1.0", NULL }), SW_EEXISTS);
	cr_assert(strstr(sw_error_last(), "ssh://s@a is already the host 'h1'"));
	cr_assert_eq(hosts_read(root, &v, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(v[0].name, "h1");
	cr_assert_str_eq(v[1].url, "ssh://s@b");
	hosts_free(v, n);
	cr_assert_eq(hosts_remove(root, "h1"), 0);
	cr_assert_eq(hosts_remove(root, "h1"), SW_ENOTFOUND);
	struct host_rec r = { 0 };
	cr_assert_eq(hosts_find(root, "h1", &r), SW_ENOTFOUND);
	cr_assert_eq(hosts_find(root, "h2", &r), 0);
	cr_assert_str_eq(r.version, "0.1.0");
	host_rec_release(&r);
	lock_release(&lk);
	char *p = th_path("%s/hosts/hosts", root), *text = th_read(p, NULL);
	cr_assert_str_eq(text, "h2 ssh://s@b 0.1.0\n");
	free(text);
	free(p);
}

Test(hosts, the_router_address_is_kept_and_an_older_line_reads_unknown)
{
	struct lock lk = LOCK_INIT;
	struct host_rec *v = NULL;
	size_t n = 0;
	cr_assert_eq(hosts_lock(root, &lk), 0);
	cr_assert_eq(hosts_add(root, &(struct host_rec){ "h1", "ssh://s@a", "0.1.0", "10.0.0.2:8080" }), 0);
	cr_assert_eq(hosts_add(root, &(struct host_rec){ "h2", "ssh://s@b", "0.1.0", "a b" }),
		     SW_EINVALID);
	lock_release(&lk);
	char *p = th_path("%s/hosts/hosts", root), *text = th_read(p, NULL);
	cr_assert_str_eq(text, "h1 ssh://s@a 0.1.0 10.0.0.2:8080\n");
	free(text);
	th_write(p, "h1 ssh://s@a 0.1.0 10.0.0.2:8080\nh0 ssh://s@old 0.1.0\n", 0600);
	cr_assert_eq(hosts_read(root, &v, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(v[0].router, "10.0.0.2:8080");
	cr_assert_str_eq(v[1].router, HOST_ROUTER_UNKNOWN);
	hosts_free(v, n);
	free(p);
}
