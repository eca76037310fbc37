/*
 * runtime/services: the ports of a batch of new instances - each at most
 * once, never one that another service of the root holds, and a clear
 * refusal when the range has too few.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include "runtime/services.h"
#include "util/error.h"
#include "util/net.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPAN 8

static char *root;
static int first; /* SPAN free ports from here */

/* SPAN ports in a row that nothing listens on, below the ephemeral range and the instances'. */
static int free_block(void)
{
	for (int k = 0; k < 300; k++) {
		int p = 30000 + (int)((getpid() + k) % 300) * SPAN, ok = 1;
		for (int i = 0; i < SPAN && ok; i++)
			ok = net_port_free(p + i);
		if (ok)
			return p;
	}
	cr_assert_fail("no %d free ports in a row in 30000-32399", SPAN);
	return 0;
}

static void setup(void)
{
	root = th_sandbox();
	char *dir = th_path("%s/services", root);
	cr_assert_eq(mkdir(dir, 0755), 0);
	free(dir);
	first = free_block();
}

static void teardown(void)
{
	th_sandbox_free(root);
}

TestSuite(services, .init = setup, .fini = teardown, .timeout = 60);

/* A service of the root that holds port (it may not listen yet). */
static void service_with_port(const char *name, int port)
{
	char *dir = th_path("%s/services/%s", root, name);
	cr_assert_eq(mkdir(dir, 0755), 0);
	char *path = th_path("%s/port", dir), *text = th_path("%d\n", port);
	th_write(path, text, 0644);
	free(text);
	free(path);
	free(dir);
}

static void assert_distinct_in_range(const int *ports, size_t n, int last)
{
	for (size_t i = 0; i < n; i++) {
		cr_assert(ports[i] >= first && ports[i] <= last, "port %d out of %d-%d", ports[i],
			  first, last);
		for (size_t k = 0; k < i; k++)
			cr_assert_neq(ports[i], ports[k], "port %d handed out twice", ports[i]);
	}
}

Test(services, a_batch_that_fills_the_range_gets_every_port_once)
{
	int ports[SPAN];
	for (int round = 0; round < 20; round++) {
		cr_assert_eq(services_pick_ports(root, first, first + SPAN - 1, SPAN, ports), 0,
			     "%s", sw_error_last());
		assert_distinct_in_range(ports, SPAN, first + SPAN - 1);
	}
}

Test(services, a_batch_larger_than_the_range_is_refused)
{
	int ports[SPAN + 1];
	cr_assert_eq(services_pick_ports(root, first, first + SPAN - 1, SPAN + 1, ports), SW_ERROR);
	char *want = th_path("no free port in slipway.portRange %d-%d", first, first + SPAN - 1);
	cr_assert_str_eq(sw_error_last(), want);
	free(want);
}

Test(services, a_port_another_service_holds_is_not_handed_out)
{
	/* neither listens: one is starting, the other between two runs */
	service_with_port("other.v3-1.web.1", first + 2);
	service_with_port("myapp.v1-1.worker.1", first + 5);
	int ports[SPAN - 2];
	for (int round = 0; round < 20; round++) {
		cr_assert_eq(services_pick_ports(root, first, first + SPAN - 1, SPAN - 2, ports), 0,
			     "%s", sw_error_last());
		assert_distinct_in_range(ports, SPAN - 2, first + SPAN - 1);
		for (size_t i = 0; i < SPAN - 2; i++)
			cr_assert(ports[i] != first + 2 && ports[i] != first + 5,
				  "port %d of another service handed out", ports[i]);
	}
	int more[SPAN - 1];
	cr_assert_eq(services_pick_ports(root, first, first + SPAN - 1, SPAN - 1, more), SW_ERROR,
		     "only %d ports of the range are free", SPAN - 2);
}
