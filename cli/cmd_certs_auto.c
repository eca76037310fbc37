/*
 * certs:auto, certs:auto:enable, certs:auto:disable, certs:auto:refresh:
 * certificates from an ACME CA (runtime/acme.h); certs:auto:schedule, the
 * renewal service, and certs:auto:hook, what uacme runs for a challenge.
 */
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

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
	if (old)
		explicit_bzero(old, strlen(old));
	free(old);
	return err;
}

/*
 * Under the app's lock: a certificate asked for (a new one when force) and
 * installed; what came of it is an event of the app's logs (how: "issued",
 * "renewed").  certs:auto goes off again on failure unless it was on.
 */
static int obtain(struct cli *c, const struct strvec *hosts, const struct strvec *names,
		  int force, const char *how)
{
	struct acme_opts o = ACME_OPTS_INIT;
	struct buf chain = BUF_INIT, key = BUF_INIT, list = BUF_INIT;
	int issued = 0, was_on = acme_enabled(c->root, c->app);
	o.force = force;
	for (size_t i = 0; i < names->n; i++)
		buf_addf(&list, "%s%s", i ? ", " : "", names->v[i]);
	int err = acme_issue(c->root, c->app, c->self, names, &o, &issued, &chain, &key);
	if (!err)
		err = install(c, hosts, chain.data, key.data);
	if (err) {
		logs_event(c->root, c->app, "acm", "Certificate for %s failed: %s", list.data,
			   sw_error_last());
		if (!was_on)
			acme_disable(c->root, c->app);
	} else {
		logs_event(c->root, c->app, "acm", "Certificate %s for %s by %s",
			   issued ? how : "installed", list.data, c->user);
	}
	certs_pem_release(&chain, &key);
	buf_release(&list);
	return err;
}

/* Takes the app's lock, an interrupted switch undone first (release/activate.h). */
static int lock_app(struct cli *c, struct app_ctx *ctx)
{
	return app_ctx_open(ctx, c->root, c->app, APP_CTX_WRITE) < 0 ||
			       activate_recover(ctx, stderr) < 0
		       ? cli_fail()
		       : 0;
}

int cmd_certs_auto_enable(struct cli *c)
{
	struct strvec hosts = STRVEC_INIT, names = STRVEC_INIT;
	struct app_ctx ctx = APP_CTX_INIT;
	int rc = auto_names(c, &hosts, &names);
	/* nothing is asked of the CA before the domains are seen to point here */
	if (!rc && acme_preflight(c->root, &names) < 0)
		rc = cli_fail();
	if (!rc)
		rc = lock_app(c, &ctx);
	if (!rc) {
		printf("Enabling Automatic Certificate Management... ");
		fflush(stdout);
		if (obtain(c, &hosts, &names, 0, "issued") < 0) {
			printf("failed\n");
			rc = cli_fail();
		} else {
			printf("done\n");
			char *url = router_url(c->root, c->app);
			printf("%s now served at %s\n", c->app, url ? url : "?");
			free(url);
			/* renewed from now on */
			if (acme_schedule_ensure(c->root) < 0)
				say(stderr, SAY_WARN, "%s", sw_error_last());
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

int cmd_certs_auto_refresh(struct cli *c)
{
	struct strvec hosts = STRVEC_INIT, names = STRVEC_INIT;
	struct app_ctx ctx = APP_CTX_INIT;
	int rc = auto_names(c, &hosts, &names);
	if (!rc && !acme_enabled(c->root, c->app)) {
		say(stderr, SAY_ERROR, "Automatic Certificate Management is not enabled on %s "
				       "(enable it with: slipway certs:auto:enable -a %s)", c->app,
		    c->app);
		rc = 1;
	}
	if (!rc && acme_preflight(c->root, &names) < 0)
		rc = cli_fail();
	if (!rc)
		rc = lock_app(c, &ctx);
	if (!rc) {
		printf("Refreshing Automatic Certificate Management... ");
		fflush(stdout);
		rc = obtain(c, &hosts, &names, 1, "renewed") < 0 ? (printf("failed\n"), cli_fail())
								  : (printf("done\n"), 0);
	}
	app_ctx_release(&ctx);
	strvec_clear(&hosts);
	strvec_clear(&names);
	return rc;
}

/* ---- certs:auto:schedule ---- */

/* The app's certificate, renewed when it is due (or gone); a failure waits an hour. */
static void renew_if_due(struct cli *c, time_t now, time_t *failed_at)
{
	struct strvec hosts = STRVEC_INIT, names = STRVEC_INIT;
	struct cert_info info = CERT_INFO_INIT;
	struct app_ctx ctx = APP_CTX_INIT;
	int have = certs_info(c->root, c->app, &info) == 0;
	if ((have && !acme_due(info.starts, info.expires, now)) || now - *failed_at < 3600)
		goto done;
	if (certs_app_hosts(c, &hosts) < 0)
		goto done;
	acme_names(&hosts, &names);
	if (!names.n || app_ctx_open(&ctx, c->root, c->app, APP_CTX_WRITE) < 0 ||
	    activate_recover(&ctx, stdout) < 0) {
		*failed_at = now;
		goto done;
	}
	if (obtain(c, &hosts, &names, have, "renewed") < 0)
		*failed_at = now;
	else
		printf("%s: certificate renewed\n", c->app);
done:
	if (*failed_at == now)
		printf("%s: %s\n", c->app, sw_error_last());
	fflush(stdout);
	app_ctx_release(&ctx);
	cert_info_release(&info);
	strvec_clear(&hosts);
	strvec_clear(&names);
}

/* The schedule's state: when each app's renewal last failed. */
struct schedule {
	struct cli *c;
	struct strvec failed_apps;
	time_t *failed_at;
};

/* One pass over the apps with certs:auto on. */
static void schedule_pass(void *arg)
{
	struct schedule *sc = arg;
	struct cli *c = sc->c;
	struct strvec *failed_apps = &sc->failed_apps;
	time_t **failed_at = &sc->failed_at;
	struct strvec apps = STRVEC_INIT;
	time_t now = time(NULL);
	app_list(c->root, &apps);
	for (size_t i = 0; i < apps.n && !cli_schedule_stopping(); i++) {
		if (!acme_enabled(c->root, apps.v[i]))
			continue;
		size_t k = 0;
		while (k < failed_apps->n && strcmp(failed_apps->v[k], apps.v[i]))
			k++;
		if (k == failed_apps->n) {
			strvec_push(failed_apps, apps.v[i]);
			*failed_at = xrealloc(*failed_at, failed_apps->n * sizeof(**failed_at));
			(*failed_at)[k] = 0;
		}
		struct cli one = *c;
		one.app = apps.v[i];
		renew_if_due(&one, now, &(*failed_at)[k]);
	}
	strvec_clear(&apps);
}

int cmd_certs_auto_schedule(struct cli *c)
{
	struct schedule sc = { .c = c, .failed_apps = STRVEC_INIT };
	printf("Renewing automatic certificates a third of their lifetime before they expire, "
	       "checking every %d minutes\n", ACME_CHECK_SEC / 60);
	fflush(stdout);
	cli_schedule_run(ACME_CHECK_SEC, schedule_pass, &sc, NULL);
	strvec_clear(&sc.failed_apps);
	free(sc.failed_at);
	return 0;
}
