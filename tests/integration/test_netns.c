/*
 * The several-hosts test bed (netns.h): hosts in namespaces of their own
 * reach each other by their addresses through the bridge, a real sshd and
 * `slipway server:run` run inside one, this machine's own namespace has
 * none of their addresses, and the teardown leaves no namespace and no
 * process behind.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"
#include "tests/integration/netns.h"
#include "tests/integration/sshd.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct th_netns tb;
static char *sb;

static void setup(void)
{
	th_netns_require();
	sb = th_sandbox();
	th_netns_up(&tb, 2);
}

static void teardown(void)
{
	th_netns_down(&tb);
	if (sb)
		th_sandbox_free(sb);
	sb = NULL;
}

TestSuite(netns, .init = setup, .fini = teardown, .timeout = 120);

Test(netns, hosts_reach_each_other_by_address_and_only_inside_the_bed)
{
	th_sshd_require();
	char *dir = th_path("%s/sshd", sb);
	cr_assert_eq(mkdir(dir, 0700), 0);
	pid_t sshd = th_sshd_start_opts(&(struct th_sshd_opts){
		.dir = dir, .port = 22, .user = "root", .netns = tb.ns[1], .address = tb.addr[1] });
	/* host 0 reaches host 1's sshd at its address, host 1 its own */
	cr_assert(th_netns_port_open(tb.ns[0], tb.addr[1], 22));
	cr_assert(th_netns_port_open(tb.ns[1], tb.addr[1], 22));
	/* nothing listens on host 0, whose address is another */
	cr_assert_not(th_netns_port_open(tb.ns[0], tb.addr[0], 22));
	/* the addresses exist only inside the bed */
	struct th_result r = th_runv(NULL, NULL, "ip", "-o", "addr", NULL);
	cr_assert_eq(r.status, 0);
	cr_assert_null(strstr(r.out, "10.231.0."), "%s", r.out);
	th_result_free(&r);
	/* a host's one way out is the bridge, whose namespace has no route out and no other link */
	r = th_netns_run(tb.ns[0], NULL, NULL, NULL, (const char *const[]){ "ip", "route", NULL });
	cr_assert_eq(r.status, 0);
	cr_assert_eq(th_count(r.out, " via "), 1, "%s", r.out);
	cr_assert(strstr(r.out, "default via 10.231.0.1 dev eth0"), "%s", r.out);
	th_result_free(&r);
	r = th_netns_run(tb.bridge, NULL, NULL, NULL, (const char *const[]){ "ip", "route", NULL });
	cr_assert_eq(r.status, 0);
	cr_assert_null(strstr(r.out, "default"), "a route leaves the bed: %s", r.out);
	cr_assert_null(strstr(r.out, " via "), "a route leaves the bed: %s", r.out);
	th_result_free(&r);
	r = th_netns_run(tb.bridge, NULL, NULL, NULL,
			 (const char *const[]){ "ip", "-o", "link", NULL });
	cr_assert_eq(r.status, 0);
	for (char *save = NULL, *l = strtok_r(r.out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		const char *name = strchr(l, ' ') + 1;
		cr_assert(!strncmp(name, "lo:", 3) || !strncmp(name, "br0:", 4) ||
			  !strncmp(name, "veth", 4), "a link of the bridge's namespace: %s", l);
	}
	th_result_free(&r);
	th_sshd_stop(&sshd);
	free(dir);
}

Test(netns, server_runs_inside_a_host_and_the_teardown_leaves_nothing)
{
	if (access("/usr/bin/s6-svscan", X_OK))
		cr_skip_test("s6 is needed (run scripts/deps)");
	char *root = th_path("%s/root", sb), *log = th_path("%s/server-run.log", sb);
	char *kv = th_path("SLIPWAY_ROOT=%s", root);
	const char *env[] = { kv, "SLIPWAY_HTTP_ADDRESS=127.0.0.1", "SLIPWAY_HTTP_PORT=8080", NULL };
	pid_t run = th_netns_server_run(tb.ns[1], root, env, log);
	cr_assert(th_pid_alive(run));
	/* the router answers inside host 1, on its own loopback */
	cr_assert(th_netns_port_open(tb.ns[1], "127.0.0.1", 8080));
	cr_assert_not(th_netns_port_open(tb.ns[0], "127.0.0.1", 8080));

	char *names[TH_NETNS_MAX + 1];
	size_t n = 0;
	names[n++] = xstrdup(tb.bridge);
	for (size_t i = 0; i < tb.n; i++)
		names[n++] = xstrdup(tb.ns[i]);
	th_netns_down(&tb);
	cr_assert_not(th_pid_alive(run), "server:run outlived its namespace");
	char *list = th_netns_list();
	for (size_t i = 0; i < n; i++) {
		cr_assert_null(strstr(list, names[i]), "%s is left:\n%s", names[i], list);
		free(names[i]);
	}
	free(list);
	free(kv);
	free(log);
	free(root);
}
