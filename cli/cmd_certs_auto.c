/*
 * certs:auto, certs:auto:enable, certs:auto:disable, certs:auto:refresh:
 * certificates from an ACME CA (runtime/acme.h), for an app, and the same
 * four as dashboard:certs:auto* for the dashboard's host; certs:auto:schedule,
 * the renewal service of both, and certs:auto:hook, what uacme runs for a
 * challenge.
 */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"

#include "release/activate.h"
#include "runtime/acme.h"
#include "runtime/https.h"
#include "runtime/router.h"
#include "store/acme.h"
#include "store/app.h"
#include "store/appctx.h"
#include "store/certs.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/lock.h"
#include "util/say.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * What has an automatic certificate: an app, or the dashboard
 * (runtime/https.h), whose ACME state is kept as an app's is under the
 * name CERTS_DASHBOARD too.
 */
struct auto_target {
	struct https_target site; /* the app, or the dashboard */
	struct strvec hosts;  /* the host names it answers at */
	struct strvec names;  /* those a CA issues certificates for (acme_names()) */
	struct app_ctx ctx;   /* an app's lock, while held */
	struct lock lk;       /* the dashboard's, while held */
};
#define AUTO_TARGET_INIT { .hosts = STRVEC_INIT, .names = STRVEC_INIT, .ctx = APP_CTX_INIT, \
			   .lk = LOCK_INIT }

static void auto_target_release(struct auto_target *t)
{
	app_ctx_release(&t->ctx);
	lock_release(&t->lk);
	strvec_clear(&t->hosts);
	strvec_clear(&t->names);
}

/* The target name ("APP", or CERTS_DASHBOARD) and its host names; 0, or the error set. */
static int auto_target_open(struct cli *c, const char *name, struct auto_target *t)
{
	t->site = https_target_of(name);
	int err = https_target_hosts(c->root, &t->site, &t->hosts);
	if (!err)
		acme_names(&t->hosts, &t->names);
	return err;
}

/*
 * The target whose certificate is asked for (c->app, or the dashboard),
 * with names a CA issues certificates for; 0, or the exit code after the
 * message.
 */
static int auto_names(struct cli *c, int dashboard, struct auto_target *t)
{
	if (!dashboard && app_check_exists(c->root, c->app) < 0)
		return cli_fail();
	if (auto_target_open(c, dashboard ? CERTS_DASHBOARD : c->app, t) < 0)
		return cli_fail();
	if (t->names.n)
		return 0;
	if (dashboard)
		say(stderr, SAY_ERROR, "the dashboard's host %s is not one a CA issues certificates "
				       "for (set one with: git config --global slipway.dashboardHost "
				       "dashboard.example.com)", t->hosts.v[0]);
	else
		say(stderr, SAY_ERROR, "%s has no domain a CA issues certificates for (add one with: "
				       "slipway domains:add www.example.com -a %s)", c->app, c->app);
	return 1;
}

/* Installs chain and key as certs:add (dashboard:certs:add) does; 0, or the error set. */
static int install(struct cli *c, const struct auto_target *t, const char *chain,
		   const char *key)
{
	struct cert_info info = CERT_INFO_INIT;
	int err = https_cert_put(c->root, &t->site, &t->hosts, chain, key, CERTS_BYPASS, NULL, &info);
	cert_info_release(&info);
	return err < 0 ? err : 0;
}

/*
 * Under the target's lock: a certificate asked for (a new one when force)
 * and installed; what came of it is an event of the target's (how:
 * "issued", "renewed").  certs:auto goes off again on failure unless it
 * was on.
 */
static int obtain(struct cli *c, const struct auto_target *t, int force, const char *how)
{
	struct acme_opts o = ACME_OPTS_INIT;
	struct buf chain = BUF_INIT, key = BUF_INIT, list = BUF_INIT;
	const char *what = t->site.dashboard ? "Dashboard certificate" : "Certificate";
	int issued = 0, was_on = acme_enabled(c->root, t->site.name);
	o.force = force;
	for (size_t i = 0; i < t->names.n; i++)
		buf_addf(&list, "%s%s", i ? ", " : "", t->names.v[i]);
	int err = acme_issue(c->root, t->site.name, c->self, &t->names, &o, &issued, &chain, &key);
	if (!err)
		err = install(c, t, chain.data, key.data);
	if (err) {
		https_target_event(c->root, &t->site, "acm", "%s for %s failed: %s", what, list.data,
				   sw_error_last());
		if (!was_on)
			acme_disable(c->root, t->site.name);
	} else {
		https_target_event(c->root, &t->site, "acm", "%s %s for %s by %s", what,
				   issued ? how : "installed", list.data, c->user);
	}
	certs_pem_release(&chain, &key);
	buf_release(&list);
	return err;
}

/*
 * Takes the target's lock: an app's, an interrupted switch undone first
 * (release/activate.h) unless out is NULL, its report to out; the dashboard, which has no
 * app's lock, holds the ACME directory's (not its own: that it is there
 * means certs:auto is on).
 */
static int lock_target(struct cli *c, struct auto_target *t, FILE *out)
{
	if (!t->site.dashboard)
		return app_ctx_open(&t->ctx, c->root, t->site.name, APP_CTX_WRITE) < 0 ||
			       (out && activate_recover(&t->ctx, out) < 0)
			       ? -1
			       : 0;
	char *dir = paths_acme_dir(c->root), *locked = xasprintf("%s/", dir);
	int err = acme_dirs_make(c->root, NULL);
	if (!err)
		err = lock_acquire(&t->lk, locked, 600, NULL, NULL);
	free(dir);
	free(locked);
	return err;
}

/* Where the target is served now, as the line certs:auto:enable prints. */
static void print_served(struct cli *c, const struct auto_target *t)
{
	char *url = t->site.dashboard ? router_dashboard_url(c->root) : router_url(c->root, t->site.name);
	if (t->site.dashboard)
		printf("The dashboard is now served at %s/ (HTTP is redirected there)\n",
		       url ? url : "?");
	else
		printf("%s now served at %s\n", t->site.name, url ? url : "?");
	free(url);
}

static int auto_enable(struct cli *c, int dashboard)
{
	struct auto_target t = AUTO_TARGET_INIT;
	int rc = auto_names(c, dashboard, &t);
	/* nothing is asked of the CA before the domains are seen to point here */
	if (!rc && acme_preflight(c->root, &t.names) < 0)
		rc = cli_fail();
	if (!rc && lock_target(c, &t, stderr) < 0)
		rc = cli_fail();
	if (!rc) {
		printf("Enabling Automatic Certificate Management... ");
		fflush(stdout);
		if (obtain(c, &t, 0, "issued") < 0) {
			printf("failed\n");
			rc = cli_fail();
		} else {
			printf("done\n");
			print_served(c, &t);
			/* renewed from now on */
			if (acme_schedule_ensure(c->root) < 0)
				say(stderr, SAY_WARN, "%s", sw_error_last());
		}
	}
	auto_target_release(&t);
	return rc;
}

int cmd_certs_auto_enable(struct cli *c)
{
	return auto_enable(c, 0);
}

int cmd_dashboard_certs_auto_enable(struct cli *c)
{
	return auto_enable(c, 1);
}

static int auto_show(struct cli *c, int dashboard)
{
	struct auto_target t = AUTO_TARGET_INIT;
	struct strvec covered = STRVEC_INIT;
	struct cert_info info = CERT_INFO_INIT;
	if ((!dashboard && app_check_exists(c->root, c->app) < 0) ||
	    auto_target_open(c, dashboard ? CERTS_DASHBOARD : c->app, &t) < 0) {
		auto_target_release(&t);
		return cli_fail();
	}
	int on = acme_enabled(c->root, t.site.name);
	printf("=== Automatic Certificate Management is %s on %s\n", on ? "enabled" : "disabled",
	       https_target_label(&t.site));
	if (on && t.names.n) {
		if (certs_info(c->root, t.site.name, &info) == 0)
			certs_covered(&info, &t.names, &covered);
		strvec_sort(&covered);
		size_t w = strlen("Domain");
		for (size_t i = 0; i < t.names.n; i++)
			w = strlen(t.names.v[i]) > w ? strlen(t.names.v[i]) : w;
		printf("\n%-*s  %s\n", (int)w, "Domain", "Status");
		for (size_t i = 0; i < t.names.n; i++)
			printf("%-*s  %s\n", (int)w, t.names.v[i],
			       strvec_has_sorted(&covered, t.names.v[i]) ? "Cert issued" : "Failing");
	}
	cert_info_release(&info);
	auto_target_release(&t);
	strvec_clear(&covered);
	return 0;
}

int cmd_certs_auto(struct cli *c)
{
	return auto_show(c, 0);
}

int cmd_dashboard_certs_auto(struct cli *c)
{
	return auto_show(c, 1);
}

static int auto_disable(struct cli *c, int dashboard)
{
	struct auto_target t = AUTO_TARGET_INIT;
	if (!dashboard && app_check_exists(c->root, c->app) < 0)
		return cli_fail();
	t.site = https_target_of(dashboard ? CERTS_DASHBOARD : c->app);
	if (!acme_enabled(c->root, t.site.name)) {
		say(stderr, SAY_ERROR, "Automatic Certificate Management is not enabled on %s",
		    https_target_label(&t.site));
		return 1;
	}
	int rc = lock_target(c, &t, NULL) < 0 ? cli_fail() : 0;
	if (!rc) {
		printf("Disabling Automatic Certificate Management... ");
		fflush(stdout);
		if (acme_disable(c->root, t.site.name) < 0) {
			printf("failed\n");
			rc = cli_fail();
		} else {
			printf("done\n");
			https_target_event(c->root, &t.site, "acm",
					   "Automatic certificates disabled%s by %s",
					   dashboard ? " for the dashboard" : "", c->user);
		}
	}
	auto_target_release(&t);
	return rc;
}

int cmd_certs_auto_disable(struct cli *c)
{
	return auto_disable(c, 0);
}

int cmd_dashboard_certs_auto_disable(struct cli *c)
{
	return auto_disable(c, 1);
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

static int auto_refresh(struct cli *c, int dashboard)
{
	struct auto_target t = AUTO_TARGET_INIT;
	int rc = auto_names(c, dashboard, &t);
	if (!rc && !acme_enabled(c->root, t.site.name)) {
		if (dashboard)
			say(stderr, SAY_ERROR, "Automatic Certificate Management is not enabled on "
					       "the dashboard (enable it with: slipway "
					       "dashboard:certs:auto:enable)");
		else
			say(stderr, SAY_ERROR, "Automatic Certificate Management is not enabled on %s "
					       "(enable it with: slipway certs:auto:enable -a %s)",
			    c->app, c->app);
		rc = 1;
	}
	if (!rc && acme_preflight(c->root, &t.names) < 0)
		rc = cli_fail();
	if (!rc && lock_target(c, &t, stderr) < 0)
		rc = cli_fail();
	if (!rc) {
		printf("Refreshing Automatic Certificate Management... ");
		fflush(stdout);
		rc = obtain(c, &t, 1, "renewed") < 0 ? (printf("failed\n"), cli_fail())
						    : (printf("done\n"), 0);
	}
	auto_target_release(&t);
	return rc;
}

int cmd_certs_auto_refresh(struct cli *c)
{
	return auto_refresh(c, 0);
}

int cmd_dashboard_certs_auto_refresh(struct cli *c)
{
	return auto_refresh(c, 1);
}

/* ---- certs:auto:schedule ---- */

/* The target's certificate, renewed when it is due (or gone); a failure waits an hour. */
static void renew_if_due(struct cli *c, const char *name, time_t now, time_t *failed_at)
{
	struct auto_target t = AUTO_TARGET_INIT;
	struct cert_info info = CERT_INFO_INIT;
	int have = certs_info(c->root, name, &info) == 0;
	if ((!have || acme_due(info.starts, info.expires, now)) && now - *failed_at >= 3600) {
		if (auto_target_open(c, name, &t) < 0 ||
		    (!t.names.n && sw_error_set(SW_EINVALID, "no domain a CA issues "
						"certificates for") < 0) ||
		    lock_target(c, &t, stdout) < 0 || obtain(c, &t, have, "renewed") < 0) {
			*failed_at = now;
			printf("%s: %s\n", https_target_label(&t.site), sw_error_last());
		} else {
			printf("%s: certificate renewed\n", https_target_label(&t.site));
		}
		fflush(stdout);
	}
	auto_target_release(&t);
	cert_info_release(&info);
}

/* The schedule's state: when each target's renewal last failed. */
struct schedule {
	struct cli *c;
	struct strvec failed_names;
	time_t *failed_at;
};

/* The things with certs:auto on: the apps, then the dashboard. */
static void auto_targets(const char *root, struct strvec *out)
{
	struct strvec apps = STRVEC_INIT;
	app_list(root, &apps);
	for (size_t i = 0; i < apps.n; i++)
		if (acme_enabled(root, apps.v[i]))
			strvec_push(out, apps.v[i]);
	if (acme_enabled(root, CERTS_DASHBOARD))
		strvec_push(out, CERTS_DASHBOARD);
	strvec_clear(&apps);
}

/* One pass over the things with certs:auto on. */
static void schedule_pass(void *arg)
{
	struct schedule *sc = arg;
	struct strvec *failed_names = &sc->failed_names, names = STRVEC_INIT;
	time_t **failed_at = &sc->failed_at;
	time_t now = time(NULL);
	auto_targets(sc->c->root, &names);
	for (size_t i = 0; i < names.n && !cli_schedule_stopping(); i++) {
		size_t k = 0;
		while (k < failed_names->n && strcmp(failed_names->v[k], names.v[i]))
			k++;
		if (k == failed_names->n) {
			strvec_push(failed_names, names.v[i]);
			*failed_at = xrealloc(*failed_at, failed_names->n * sizeof(**failed_at));
			(*failed_at)[k] = 0;
		}
		renew_if_due(sc->c, names.v[i], now, &(*failed_at)[k]);
	}
	strvec_clear(&names);
}

int cmd_certs_auto_schedule(struct cli *c)
{
	struct schedule sc = { .c = c, .failed_names = STRVEC_INIT };
	printf("Renewing automatic certificates a third of their lifetime before they expire, "
	       "checking every %d minutes\n", ACME_CHECK_SEC / 60);
	fflush(stdout);
	cli_schedule_run(ACME_CHECK_SEC, schedule_pass, &sc, NULL);
	strvec_clear(&sc.failed_names);
	free(sc.failed_at);
	return 0;
}
