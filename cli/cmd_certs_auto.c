/* certs:auto, certs:auto:enable, certs:auto:disable: certificates from an ACME CA (runtime/acme.h). */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"

#include "release/activate.h"
#include "runtime/acme.h"
#include "runtime/logs.h"
#include "runtime/router.h"
#include "store/acme.h"
#include "store/app.h"
#include "store/appctx.h"
#include "store/certs.h"
#include "util/error.h"
#include "util/say.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The names the app's certificate is asked for; 0, or the exit code after the message. */
static int auto_names(const struct cli *c, struct strvec *hosts, struct strvec *names)
{
	if (app_check_exists(c->root, c->app) < 0 || certs_app_hosts(c, hosts) < 0)
		return cli_fail();
	acme_names(hosts, names);
	if (!names->n) {
		say(stderr, SAY_ERROR, "%s has no domain a CA issues certificates for (add one with: "
				       "slipway domains:add www.example.com -a %s)", c->app, c->app);
		return 1;
	}
	return 0;
}

/* Installs chain and key as certs:add does: the router's switch, the old file back on failure. */
static int install(struct cli *c, const struct strvec *hosts, const char *chain, const char *key)
{
	struct cert_info info = CERT_INFO_INIT;
	char *old = NULL;
	int err = certs_check(chain, key, hosts, CERTS_BYPASS, &info);
	if (!err && (err = certs_read(c->root, c->app, &old)) == SW_ENOTFOUND)
		err = 0;
	if (!err && (err = certs_install(c->root, c->app, chain, key)) == 0 &&
	    (err = router_switch(c->root, c->app, NULL, NULL)) < 0)
		/* what the router refused is not kept */
		certs_restore(c->root, c->app, old);
	cert_info_release(&info);
	free(old);
	return err;
}

/* Under the app's lock: the certificate asked for and installed. */
static int enable_locked(struct cli *c, const struct strvec *hosts, const struct strvec *names,
			 int was_on)
{
	struct acme_opts o = ACME_OPTS_INIT;
	struct buf chain = BUF_INIT, key = BUF_INIT;
	int issued = 0;
	int err = acme_issue(c->root, c->app, c->self, names, &o, &issued, &chain, &key);
	if (!err)
		err = install(c, hosts, chain.data, key.data);
	if (err) {
		logs_event(c->root, c->app, "acm", "Certificate for %s failed: %s", names->v[0],
			   sw_error_last());
		if (!was_on)
			acme_disable(c->root, c->app);
	} else {
		struct buf list = BUF_INIT;
		for (size_t i = 0; i < names->n; i++)
			buf_addf(&list, "%s%s", i ? ", " : "", names->v[i]);
		logs_event(c->root, c->app, "acm", "Certificate %s for %s by %s",
			   issued ? "issued" : "installed", list.data, c->user);
		buf_release(&list);
	}
	explicit_bzero(key.data, key.len);
	buf_release(&chain);
	buf_release(&key);
	return err;
}

int cmd_certs_auto_enable(struct cli *c)
{
	struct strvec hosts = STRVEC_INIT, names = STRVEC_INIT;
	struct app_ctx ctx = APP_CTX_INIT;
	int rc = auto_names(c, &hosts, &names);
	/* nothing is asked of the CA before the domains are seen to point here */
	if (!rc && acme_preflight(c->root, &names) < 0)
		rc = cli_fail();
	if (!rc && (app_ctx_open(&ctx, c->root, c->app, APP_CTX_WRITE) < 0 ||
		    activate_recover(&ctx, stderr) < 0))
		rc = cli_fail();
	if (!rc) {
		int was_on = acme_enabled(c->root, c->app);
		printf("Enabling Automatic Certificate Management... ");
		fflush(stdout);
		if (enable_locked(c, &hosts, &names, was_on) < 0) {
			printf("failed\n");
			rc = cli_fail();
		} else {
			printf("done\n");
			char *url = router_url(c->root, c->app);
			printf("%s now served at %s\n", c->app, url ? url : "?");
			free(url);
		}
	}
	app_ctx_release(&ctx);
	strvec_clear(&hosts);
	strvec_clear(&names);
	return rc;
}

int cmd_certs_auto(struct cli *c)
{
	struct strvec hosts = STRVEC_INIT, names = STRVEC_INIT, covered = STRVEC_INIT;
	struct cert_info info = CERT_INFO_INIT;
	if (app_check_exists(c->root, c->app) < 0 || certs_app_hosts(c, &hosts) < 0)
		return cli_fail();
	int on = acme_enabled(c->root, c->app);
	printf("=== Automatic Certificate Management is %s on %s\n", on ? "enabled" : "disabled",
	       c->app);
	acme_names(&hosts, &names);
	if (on && names.n) {
		if (certs_info(c->root, c->app, &info) == 0)
			certs_covered(&info, &names, &covered);
		strvec_sort(&covered);
		size_t w = strlen("Domain");
		for (size_t i = 0; i < names.n; i++)
			w = strlen(names.v[i]) > w ? strlen(names.v[i]) : w;
		printf("\n%-*s  %s\n", (int)w, "Domain", "Status");
		for (size_t i = 0; i < names.n; i++)
			printf("%-*s  %s\n", (int)w, names.v[i],
			       strvec_has_sorted(&covered, names.v[i]) ? "Cert issued" : "Failing");
	}
	cert_info_release(&info);
	strvec_clear(&hosts);
	strvec_clear(&names);
	strvec_clear(&covered);
	return 0;
}

int cmd_certs_auto_disable(struct cli *c)
{
	struct app_ctx ctx = APP_CTX_INIT;
	if (app_check_exists(c->root, c->app) < 0)
		return cli_fail();
	if (!acme_enabled(c->root, c->app)) {
		say(stderr, SAY_ERROR, "Automatic Certificate Management is not enabled on %s",
		    c->app);
		return 1;
	}
	int rc = app_ctx_open(&ctx, c->root, c->app, APP_CTX_WRITE) < 0 ? cli_fail() : 0;
	if (!rc) {
		printf("Disabling Automatic Certificate Management... ");
		fflush(stdout);
		if (acme_disable(c->root, c->app) < 0) {
			printf("failed\n");
			rc = cli_fail();
		} else {
			printf("done\n");
			logs_event(c->root, c->app, "acm", "Automatic certificates disabled by %s",
				   c->user);
		}
	}
	app_ctx_release(&ctx);
	return rc;
}

/* uacme's hook: METHOD TYPE IDENT TOKEN KEYAUTH; types other than http-01 are declined. */
int cmd_certs_auto_hook(struct cli *c)
{
	const char *method = c->args[0], *type = c->args[1], *token = c->args[3];
	if (strcmp(type, "http-01"))
		return 1;
	int err = !strcmp(method, "begin") ? acme_challenge_put(c->root, token, c->args[4])
						: acme_challenge_remove(c->root, token);
	return err < 0 ? cli_fail() : 0;
}
