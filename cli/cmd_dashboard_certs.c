/*
 * dashboard:certs:add, dashboard:certs:remove: the dashboard served over
 * HTTPS at slipway.dashboardHost, with a certificate the operator brings.
 */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"

#include "runtime/https.h"
#include "runtime/router.h"
#include "store/certs.h"
#include "store/hsts.h"
#include "util/error.h"
#include "util/say.h"

#include <stdio.h>
#include <stdlib.h>

/* Checks chain and key for the dashboard's host, installs them, points the router at them. */
static int add_checked(const char *root, const char *chain, const char *key, unsigned flags)
{
	struct strvec hosts = STRVEC_INIT;
	struct cert_info info = CERT_INFO_INIT;
	struct https_target t = https_target_of(CERTS_DASHBOARD);
	int err = https_target_hosts(root, &t, &hosts);
	if (err >= 0)
		err = https_cert_put(root, &t, &hosts, chain, key, flags, stdout, &info);
	if (err >= 0) {
		char *url = router_dashboard_url(root);
		printf("The dashboard is now served at %s/ (HTTP is redirected there)\n",
		       url ? url : hosts.v[0]);
		free(url);
	}
	cert_info_release(&info);
	strvec_clear(&hosts);
	return err < 0 ? cli_fail() : 0;
}

int cmd_dashboard_certs_add(struct cli *c)
{
	const struct certs_add_args *a = c->options;
	struct buf chain = BUF_INIT, key = BUF_INIT;
	int rc = certs_add_usage(c);
	if (rc)
		return rc;
	if (certs_read_split(c, &chain, &key) < 0)
		rc = cli_fail();
	else
		rc = add_checked(c->root, chain.data, key.data, a->bypass ? CERTS_BYPASS : 0);
	certs_pem_release(&chain, &key);
	return rc;
}

int cmd_dashboard_certs_remove(struct cli *c)
{
	struct https_target t = https_target_of(CERTS_DASHBOARD);
	struct hsts h = HSTS_INIT;
	if (!certs_has(c->root, CERTS_DASHBOARD)) {
		say(stderr, SAY_ERROR, "the dashboard has no SSL certificate");
		return 1;
	}
	if (https_cert_remove(c->root, &t, stdout) < 0)
		return cli_fail();
	char *url = router_dashboard_url(c->root);
	printf("The dashboard is served at %s/ again\n", url ? url : "?");
	free(url);
	if (hsts_read(c->root, CERTS_DASHBOARD, &h) == 0 && h.on)
		say(stderr, SAY_WARN, "HSTS is on (max-age=%ld): browsers that saw it will not "
				      "load the dashboard over HTTP until that much time has "
				      "passed (turn it off with: slipway dashboard:certs:hsts off)",
		    hsts_max_age(h.step));
	return 0;
}
