/*
 * dashboard:certs:add, dashboard:certs:remove: the dashboard served over
 * HTTPS at slipway.dashboardHost, with a certificate the operator brings.
 */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"

#include "runtime/router.h"
#include "store/certs.h"
#include "store/domains.h"
#include "store/hsts.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/say.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PEM_MAX (1 << 20)

struct dashboard_certs_add_args {
	int bypass;
};

const struct opt dashboard_certs_add_opts[] = {
	OPT_FLAG(0, "bypass", struct dashboard_certs_add_args, bypass,
		 "take a chain the server's CAs do not verify (a private CA's)"),
	OPT_END_OF(struct dashboard_certs_add_args),
};

/* Checks chain and key for the dashboard's host, installs them, points the router at them. */
static int add_checked(const char *root, const char *chain, const char *key, unsigned flags)
{
	struct strvec hosts = STRVEC_INIT;
	struct cert_info info = CERT_INFO_INIT;
	char *host = NULL, *old = NULL, *url = NULL;
	int rc = 0, err;
	if (domains_dashboard_host(&host) < 0 || (strvec_push(&hosts, host), 0) ||
	    certs_check(chain, key, &hosts, flags, &info) < 0 ||
	    ((err = certs_read(root, CERTS_DASHBOARD, &old)) < 0 && err != SW_ENOTFOUND)) {
		rc = cli_fail();
		goto done;
	}
	printf("Adding SSL certificate to the dashboard... ");
	fflush(stdout);
	if (certs_install(root, CERTS_DASHBOARD, chain, key) < 0 ||
	    router_dashboard_switch(root) < 0) {
		printf("failed\n");
		rc = cli_fail();
		/* what the router refused is not kept */
		certs_restore(root, CERTS_DASHBOARD, old);
		goto done;
	}
	url = router_dashboard_url(root);
	printf("done\nThe dashboard is now served at %s/ (HTTP is redirected there)\n",
	       url ? url : host);
done:
	if (old)
		explicit_bzero(old, strlen(old));
	cert_info_release(&info);
	strvec_clear(&hosts);
	free(url);
	free(old);
	free(host);
	return rc;
}

int cmd_dashboard_certs_add(struct cli *c)
{
	const struct dashboard_certs_add_args *a = c->options;
	struct buf chain = BUF_INIT, key = BUF_INIT;
	int rc = 0;
	if (c->nargs == 1)
		return cli_usage(c->cmd, "give both CRT and KEY, or neither and a PEM bundle "
					 "(certificate chain and key) on stdin");
	if (!c->nargs && isatty(0))
		return cli_usage(c->cmd, "give CRT and KEY, or a PEM bundle (certificate chain and "
					 "key) on stdin");
	if (certs_read_split(c, &chain, &key) < 0)
		rc = cli_fail();
	else
		rc = add_checked(c->root, chain.data, key.data,
				 CERTS_FOR_DASHBOARD | (a->bypass ? CERTS_BYPASS : 0));
	certs_pem_release(&chain, &key);
	return rc;
}

int cmd_dashboard_certs_remove(struct cli *c)
{
	char *old = NULL, *url = NULL;
	int rc = 0;
	if (!certs_has(c->root, CERTS_DASHBOARD)) {
		say(stderr, SAY_ERROR, "the dashboard has no SSL certificate");
		return 1;
	}
	if (certs_read(c->root, CERTS_DASHBOARD, &old) < 0)
		return cli_fail();
	printf("Removing SSL certificate from the dashboard... ");
	fflush(stdout);
	if (certs_remove(c->root, CERTS_DASHBOARD) < 0 || router_dashboard_switch(c->root) < 0) {
		printf("failed\n");
		rc = cli_fail();
		certs_restore(c->root, CERTS_DASHBOARD, old);
	} else {
		struct hsts h = HSTS_INIT;
		url = router_dashboard_url(c->root);
		printf("done\nThe dashboard is served at %s/ again\n", url ? url : "?");
		if (hsts_read(c->root, CERTS_DASHBOARD, &h) == 0 && h.on)
			say(stderr, SAY_WARN, "HSTS is on (max-age=%ld): browsers that saw it will not "
					      "load the dashboard over HTTP until that much time has "
					      "passed (turn it off with: slipway dashboard:certs:hsts off)",
			    hsts_max_age(h.step));
	}
	explicit_bzero(old, strlen(old));
	free(old);
	free(url);
	return rc;
}
