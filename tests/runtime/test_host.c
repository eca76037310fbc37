/*
 * runtime/host: the local host is the one every app runs on today, and
 * it says where its instances are reached - loopback and the port each
 * holds - which is what the router and the health checks connect to.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include "runtime/host.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *root;

static void setup(void)
{
	root = th_sandbox();
	char *dir = th_path("%s/services", root);
	cr_assert_eq(mkdir(dir, 0755), 0);
	free(dir);
}

static void teardown(void)
{
	th_sandbox_free(root);
}

TestSuite(host, .init = setup, .fini = teardown, .timeout = 30);

/* A service of the root that holds port, as the supervisor writes it. */
static void instance(const char *name, int port)
{
	char *path = th_path("%s/services/%s/port", root, name), *text = th_path("%d\n", port);
	th_write(path, text, 0644);
	free(text);
	free(path);
}

Test(host, every_app_runs_on_the_local_host)
{
	struct host h = host_of(root, "myapp");
	cr_assert_eq(h.ops, &host_local_ops);
	cr_assert_str_eq(h.ops->name, "local");
	cr_assert_str_eq(h.root, root);
}

Test(host, a_local_instance_is_reached_at_loopback_and_its_port)
{
	instance("myapp.v3-1.web.1", 20001);
	char address[HOST_ADDRESS_MAX];
	cr_assert_eq(host_address(root, "myapp", "myapp.v3-1.web.1", address), 0, "%s",
		     sw_error_last());
	cr_assert_str_eq(address, "127.0.0.1:20001");
}

Test(host, an_instance_of_another_app_or_none_has_no_address)
{
	instance("other.v1-1.web.1", 20002);
	char address[HOST_ADDRESS_MAX];
	cr_assert_eq(host_address(root, "myapp", "other.v1-1.web.1", address), SW_ENOTFOUND);
	cr_assert_eq(host_address(root, "myapp", "myapp.v1-1.web.9", address), SW_ENOTFOUND);
	cr_assert_str_eq(sw_error_last(), "no instance 'myapp.v1-1.web.9' of myapp");
}

Test(host, the_router_gets_the_web_instances_as_labels_and_addresses)
{
	instance("myapp.v3-1.web.2", 20012);
	instance("myapp.v3-1.web.1", 20011);
	instance("myapp.v3-1.worker.1", 20013);
	instance("other.v1-1.web.1", 20014);
	struct strvec labels = STRVEC_INIT, addresses = STRVEC_INIT;
	cr_assert_eq(host_web(root, "myapp", NULL, &labels, &addresses), 0, "%s", sw_error_last());
	cr_assert_eq(labels.n, 2);
	cr_assert_eq(addresses.n, 2);
	cr_assert_str_eq(labels.v[0], "web.1");
	cr_assert_str_eq(addresses.v[0], "127.0.0.1:20011");
	cr_assert_str_eq(labels.v[1], "web.2");
	cr_assert_str_eq(addresses.v[1], "127.0.0.1:20012");
	strvec_clear(&labels);
	strvec_clear(&addresses);
}
