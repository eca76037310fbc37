/*
 * certs:hsts: Strict-Transport-Security on an app's HTTPS answers, ramped
 * up (store/hsts.h); dashboard:certs:hsts the same for the dashboard's,
 * its state kept as an app's under the name CERTS_DASHBOARD (store/certs.h).
 */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"

#include "release/activate.h"
#include "runtime/https.h"
#include "runtime/router.h"
#include "store/app.h"
#include "store/appctx.h"
#include "store/certs.h"
#include "store/hsts.h"
#include "util/error.h"
#include "util/say.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Its commands' prefix: "dashboard:" for the dashboard's (which take no -a), else "". */
static const char *cmd_prefix(const struct https_target *t)
{
	return t->dashboard ? "dashboard:" : "";
}

static const char *const step_words[HSTS_STEPS] = { "5 minutes", "1 day", "1 week", "1 year" };

static void utc(time_t t, char out[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M UTC", &tm);
}

/* What certs:hsts says of h. */
static void print_state(const struct https_target *t, const struct hsts *h)
{
	const char *who = https_target_label(t);
	char since[32], next[32];
	if (!h->on) {
		printf("HSTS is off for %s (turn it on with: slipway %scerts:hsts on%s%s)\n", who,
		       cmd_prefix(t), t->dashboard ? "" : " -a ", t->dashboard ? "" : t->name);
		return;
	}
	utc(h->since, since);
	printf("HSTS is on for %s: max-age=%ld (%s) since %s\n", who, hsts_max_age(h->step),
	       step_words[h->step], since);
	if (hsts_next(h)) {
		utc(hsts_next(h), next);
		printf("Next step: max-age=%ld (%s) from %s, while HTTPS keeps answering\n",
		       hsts_max_age(h->step + 1), step_words[h->step + 1], next);
	}
}

/* The target's certificate is there and valid now; else 1 after a one-line refusal. */
static int need_live_cert(const char *root, const struct https_target *t)
{
	struct cert_info info = CERT_INFO_INIT;
	time_t now = time(NULL);
	const char *a = t->dashboard ? "" : " -a ", *app = t->dashboard ? "" : t->name;
	const char *who = https_target_label(t);
	int rc = 0;
	if (!certs_has(root, t->name)) {
		say(stderr, SAY_ERROR, "%s has no SSL certificate: HSTS needs HTTPS (add one with: "
				       "slipway %scerts:add CRT KEY%s%s)", who, cmd_prefix(t), a, app);
		rc = 1;
	} else if (certs_info(root, t->name, &info) < 0) {
		rc = cli_fail();
	} else if (now >= info.expires || now < info.starts) {
		char when[32];
		utc(now >= info.expires ? info.expires : info.starts, when);
		say(stderr, SAY_ERROR, "%s's certificate %s %s: HSTS needs HTTPS that answers (add "
				       "a valid one with: slipway %scerts:add CRT KEY%s%s)", who,
		    now >= info.expires ? "expired at" : "is valid only from", when, cmd_prefix(t), a,
		    app);
		rc = 1;
	}
	cert_info_release(&info);
	return rc;
}

/* Keeps h and points the router at it; the state before is put back when the router refuses. */
static int hsts_set(struct cli *c, const struct https_target *t, const struct hsts *h,
		    const struct hsts *was)
{
	if (hsts_write(c->root, t->name, h) < 0)
		return cli_fail();
	if (https_target_switch(c->root, t) < 0) {
		int rc = cli_fail();
		hsts_write(c->root, t->name, was);
		return rc;
	}
	return 0;
}

/* certs:hsts on|off, under the app's lock. */
static int turn_locked(struct cli *c, const struct https_target *t, int on)
{
	struct hsts was = HSTS_INIT, h = HSTS_INIT;
	if (hsts_read(c->root, t->name, &was) < 0)
		return cli_fail();
	if (was.on == on) {
		printf("HSTS is already %s for %s\n", on ? "on" : "off", https_target_label(t));
		return 0;
	}
	if (on && need_live_cert(c->root, t))
		return 1;
	printf("%s HSTS for %s... ", on ? "Enabling" : "Disabling", https_target_label(t));
	fflush(stdout);
	h = (struct hsts){ .on = on, .since = time(NULL) };
	if (hsts_set(c, t, &h, &was)) {
		printf("failed\n");
		return 1;
	}
	printf("done\n");
	if (on)
		printf("HTTPS answers say Strict-Transport-Security: max-age=%ld; it goes up to 1 day, "
		       "1 week, then 1 year, each step once HTTPS has answered for the one before\n",
		       hsts_max_age(0));
	else
		printf("Browsers that saw it keep to HTTPS for %s for up to max-age=%ld (%s)\n",
		       https_target_label(t), hsts_max_age(was.step), step_words[was.step]);
	https_target_event(c->root, t, "api", "%s HSTS%s by %s", on ? "Enable" : "Disable",
			   t->dashboard ? " for the dashboard" : "", c->user);
	return 0;
}

/* certs:hsts: a step that is due is taken now (through the router's switch) before it is told. */
static int show_locked(struct cli *c, const struct https_target *t)
{
	struct hsts h = HSTS_INIT;
	if (hsts_read(c->root, t->name, &h) < 0)
		return cli_fail();
	if (h.on && hsts_next(&h) && time(NULL) >= hsts_next(&h) &&
	    (https_target_switch(c->root, t) < 0 || hsts_read(c->root, t->name, &h) < 0))
		return cli_fail();
	print_state(t, &h);
	return 0;
}

/* 1 when the app's next HSTS step is due at now. */
static int step_due(const char *root, const char *app, time_t now)
{
	struct hsts h = HSTS_INIT;
	return hsts_read(root, app, &h) == 0 && hsts_next(&h) && now >= hsts_next(&h);
}

int certs_hsts_steps(const char *root, int *taken, int *dashboard)
{
	struct strvec apps = STRVEC_INIT;
	time_t now = time(NULL);
	int err = app_list(root, &apps);
	*taken = *dashboard = 0;
	for (size_t i = 0; !err && i < apps.n; i++) {
		struct app_ctx ctx = APP_CTX_INIT;
		if (!step_due(root, apps.v[i], now))
			continue;
		/* the switch takes the step, under the app's lock (as certs:hsts -a APP does) */
		if (app_ctx_open(&ctx, root, apps.v[i], APP_CTX_WRITE) < 0 ||
		    activate_recover(&ctx, stderr) < 0 || router_switch(root, apps.v[i], NULL, NULL) < 0)
			/* one app's (a lock held by a long push) waits for the next time */
			say(stderr, SAY_WARN, "%s's HSTS step waits: %s", apps.v[i], sw_error_last());
		else
			*taken += !step_due(root, apps.v[i], now);
		app_ctx_release(&ctx);
	}
	if (!err && step_due(root, CERTS_DASHBOARD, now)) {
		if (router_dashboard_switch(root) < 0)
			say(stderr, SAY_WARN, "the dashboard's HSTS step waits: %s", sw_error_last());
		else
			*dashboard = !step_due(root, CERTS_DASHBOARD, now);
	}
	strvec_clear(&apps);
	return err;
}

/* certs:hsts [on|off], for t. */
static int hsts_cmd(struct cli *c, const struct https_target *t)
{
	struct app_ctx ctx = APP_CTX_INIT;
	int on = -1;
	if (c->nargs && (on = !strcmp(c->args[0], "on")) == 0 && strcmp(c->args[0], "off"))
		return cli_usage(c->cmd, "say on or off (not '%s'), or nothing to see the state",
				 c->args[0]);
	if (t->dashboard)
		/* the dashboard has no app's lock: as dashboard:certs:add, its switch is all */
		return on < 0 ? show_locked(c, t) : turn_locked(c, t, on);
	if (app_check_exists(c->root, c->app) < 0)
		return cli_fail();
	/* an interrupted switch is undone first (release/activate.h) */
	int rc = app_ctx_open(&ctx, c->root, c->app, APP_CTX_WRITE) < 0 ||
			 activate_recover(&ctx, stderr) < 0
		 ? cli_fail()
		 : on < 0 ? show_locked(c, t) : turn_locked(c, t, on);
	app_ctx_release(&ctx);
	return rc;
}

int cmd_certs_hsts(struct cli *c)
{
	struct https_target t = https_target_of(c->app);
	return hsts_cmd(c, &t);
}

int cmd_dashboard_certs_hsts(struct cli *c)
{
	struct https_target t = https_target_of(CERTS_DASHBOARD);
	return hsts_cmd(c, &t);
}
