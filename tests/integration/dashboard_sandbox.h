/*
 * dashboard_sandbox.h - the dashboard reached as a browser reaches it, for
 * the integration suites of dashboard/: through the real router (nginx,
 * 127.0.0.1 only, the dashboard's host named with curl's --resolve), with
 * a real sshd whose key for "alice" logs in with `dashboard:login`.
 *
 *	static struct app_sandbox sb;
 *	static struct dash ds;
 *	static void setup(void)
 *	{
 *		rt_setup(&sb, "alices", RT_ROUTER, rt_version_server_py, NULL);
 *		dash_setup(&ds, &sb);      // settings, alice's key, sshd
 *		...                        // what the suite adds: apps, access
 *		dash_start(&ds);           // the supervision tree: router, dashboard
 *	}
 *	static void teardown(void) { dash_teardown(&ds); app_sandbox_release(&sb); }
 *
 *	char *cookie = dash_log_in(&ds);
 *	struct dash_answer a = dash_http(&ds, "/", NULL, cookie, NULL);
 *
 * Helpers assert (Criterion); every wait is bounded.
 */
#ifndef SW_TEST_DASHBOARD_SANDBOX_H
#define SW_TEST_DASHBOARD_SANDBOX_H

#include "tests/integration/app_sandbox.h"

#include <sys/types.h>

/* The dashboard's host in the tests: apps are at *.apps.test. */
#define DASH_HOST "dashboard.apps.test"

struct dash {
	struct app_sandbox *sb;
	pid_t svscan, sshd;
	int ssh_port;
	char *key_alice;  /* alice's private key */
	char *login;      /* USER@127.0.0.1: sshd's user */
	char *resolve;    /* curl's --resolve for the dashboard's host */
	char *base;       /* http://dashboard.apps.test:PORT: its origin */
};

/*
 * Sets the server user's git config (slipway.domain apps.test, the
 * router's port and 127.0.0.1), makes alice's key and adds it as user
 * alice, and starts sshd on a free port, for sb (made by the caller).
 * Skips the test when sshd cannot run here.
 */
void dash_setup(struct dash *ds, struct app_sandbox *sb);

/* Starts sb's supervision tree: the router and the dashboard. */
void dash_start(struct dash *ds);

/* Stops the tree and sshd, frees what dash_setup() made (not sb). */
void dash_teardown(struct dash *ds);

/* git config KEY VALUE in the server user's git config (HOME is the sandbox). */
void dash_git_config(struct dash *ds, const char *key, const char *value);

/* command over ssh with alice's key. */
struct th_result dash_ssh_alice(struct dash *ds, const char *command);

/* An answer: its status, and its headers and body as curl -i shows them (malloc'ed). */
struct dash_answer {
	int status;
	char *text;
};

/*
 * curl through the router to the dashboard: GET path, or POST of form;
 * a Cookie and an Origin header when cookie and origin are not NULL.
 */
struct dash_answer dash_http(struct dash *ds, const char *path, const char *form,
			     const char *cookie, const char *origin);

/*
 * The same to base (an origin such as https://HOST:PORT) with curl's
 * --resolve resolve, trusting the CA file cacert when not NULL.
 */
struct dash_answer dash_http_at(const char *base, const char *resolve, const char *cacert,
				const char *path, const char *form, const char *cookie,
				const char *origin);

/* Waits (generously) until the dashboard answers through the router. */
void dash_wait_ready(struct dash *ds);

/* dashboard:login over ssh as alice: the token of the link it prints (malloc'ed). */
char *dash_login_token(struct dash *ds);

/*
 * Logs alice in: waits for the dashboard, posts the token of a
 * dashboard:login link from the dashboard's origin; her session cookie
 * "slipway_session=..." (malloc'ed).
 */
char *dash_log_in(struct dash *ds);

/* The value of the hidden form field name in page (malloc'ed). */
char *dash_field(const char *page, const char *name);

#endif
