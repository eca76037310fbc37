/*
 * store/domains: the dashboard's host - slipway.dashboardHost, else
 * dashboard.DOMAIN, and never something that is not a host name (it is
 * written into the router's configuration and every login link).
 */
#define _GNU_SOURCE
#include "tests/helpers.h"
#include "tests/release_helpers.h"

#include "store/domains.h"
#include "util/error.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static char *root;

static void setup(void)
{
	root = rh_root();
}

static void teardown(void)
{
	unsetenv("SLIPWAY_DASHBOARD_HOST");
	unsetenv("SLIPWAY_DOMAIN");
	th_sandbox_free(root);
}

TestSuite(dashboard_host, .init = setup, .fini = teardown, .timeout = 60);

Test(dashboard_host, defaults_to_dashboard_dot_the_domain)
{
	char *host = NULL;
	cr_assert_eq(domains_dashboard_host(&host), 0, "%s", sw_error_last());
	cr_assert_str_eq(host, "dashboard.localhost");
	free(host);
	setenv("SLIPWAY_DOMAIN", "apps.example.com", 1);
	cr_assert_eq(domains_dashboard_host(&host), 0);
	cr_assert_str_eq(host, "dashboard.apps.example.com");
	free(host);
	setenv("SLIPWAY_DASHBOARD_HOST", "dash.example.net", 1);
	cr_assert_eq(domains_dashboard_host(&host), 0);
	cr_assert_str_eq(host, "dash.example.net");
	free(host);
}

Test(dashboard_host, what_is_not_a_host_name_is_refused)
{
	static const char *const bad[] = { "x;evil", "a b", "dash.example.net:8080",
					   "dash/x", "Dash.Example.Net", "", "-x.example.com", NULL };
	for (size_t i = 0; bad[i]; i++) {
		char *host = (char *)"unchanged";
		if (!*bad[i])
			continue; /* an empty variable counts as unset */
		setenv("SLIPWAY_DASHBOARD_HOST", bad[i], 1);
		cr_assert_eq(domains_dashboard_host(&host), SW_EINVALID, "'%s' taken", bad[i]);
		cr_assert_null(host);
		cr_assert(strstr(sw_error_last(), "$SLIPWAY_DASHBOARD_HOST"), "%s", sw_error_last());
	}
	unsetenv("SLIPWAY_DASHBOARD_HOST");
	setenv("SLIPWAY_DOMAIN", "apps;evil", 1);
	char *host = NULL;
	cr_assert_eq(domains_dashboard_host(&host), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "$SLIPWAY_DOMAIN"), "%s", sw_error_last());
}
