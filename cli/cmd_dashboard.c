/*
 * The dashboard's commands: dashboard:run (its server, what the service
 * runs), dashboard:login (a one-time link), dashboard:logout.
 */
#include "cli/cmds.h"
#include "cli/common.h"

#include "dashboard/server.h"
#include "dashboard/session.h"
#include "runtime/router.h"
#include "store/domains.h"
#include "util/error.h"
#include "util/say.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int cmd_dashboard_run(struct cli *c)
{
	return dashboard_serve(c->root) < 0 ? cli_fail() : 0;
}

/* Who the dashboard's session is for: a remote user, else the operator. */
static const char *session_user(const struct cli *c, int *operator)
{
	*operator = !c->shell_user;
	return c->shell_user ? c->shell_user : c->user;
}

/* http://HOST[:PORT]/login#, the port the router's, or NULL with the error set */
static char *login_url(const struct cli *c)
{
	struct router_listen l;
	char *host = NULL, *url = NULL;
	if (domains_dashboard_host(&host) < 0 || router_listen_read(c->root, &l) < 0)
		goto done;
	if (l.port == 80)
		url = xasprintf("http://%s/login#", host);
	else
		url = xasprintf("http://%s:%d/login#", host, l.port);
done:
	free(host);
	return url;
}

int cmd_dashboard_login(struct cli *c)
{
	char token[SESSION_SECRET_SIZE];
	int operator;
	const char *user = session_user(c, &operator);
	/* the link first: one that cannot be made leaves no token behind */
	char *url = login_url(c);
	if (!url || session_token_create(c->root, user, operator, time(NULL), token) < 0) {
		free(url);
		return cli_fail();
	}
	printf("Open this link within %d minutes to log in to the dashboard as %s (it works once):\n%s%s\n",
	       SESSION_TOKEN_TTL / 60, user, url, token);
	free(url);
	return 0;
}

struct logout_args {
	int all;
};

const struct opt dashboard_logout_opts[] = {
	OPT_FLAG(0, "all", struct logout_args, all,
		 "the operator's: end every user's sessions"),
	OPT_END_OF(struct logout_args),
};

int cmd_dashboard_logout(struct cli *c)
{
	const struct logout_args *a = c->options;
	int operator, n = 0;
	const char *user = session_user(c, &operator);
	if (a->all && !operator) {
		say(stderr, SAY_ERROR, "only the server's operator can end every user's sessions");
		return 1;
	}
	if (a->all) {
		if (session_end_all(c->root, &n) < 0)
			return cli_fail();
		printf("Ending every dashboard session... done, %d ended\n", n);
		return 0;
	}
	if (session_end_user(c->root, user, operator, &n) < 0)
		return cli_fail();
	printf("Ending the dashboard sessions of %s... done, %d ended\n", user, n);
	return 0;
}
