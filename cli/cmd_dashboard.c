/*
 * The dashboard's commands: dashboard:run (its server, what the service
 * runs), dashboard:login (a one-time link), dashboard:logout, and
 * dashboard (the link opened in a browser, from a laptop too).
 */
#include "cli/browser.h"
#include "cli/cmds.h"
#include "cli/common.h"
#include "cli/remote.h"

#include "dashboard/server.h"
#include "dashboard/session.h"
#include "runtime/router.h"
#include "store/domains.h"
#include "util/error.h"
#include "util/say.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* http[s]://HOST[:PORT]/login#, the dashboard's origin (runtime/router.h), or NULL with the error set */
static char *login_url(const struct cli *c)
{
	char *origin = router_dashboard_url(c->root);
	char *url = origin ? xasprintf("%s/login#", origin) : NULL;
	free(origin);
	return url;
}

/* What dashboard:login prints, into out: 0, or -1 with the error set. */
static int login_text(const struct cli *c, struct buf *out)
{
	char token[SESSION_SECRET_SIZE];
	int operator;
	const char *user = session_user(c, &operator);
	/* the link first: one that cannot be made leaves no token behind */
	char *url = login_url(c);
	if (!url || session_token_create(c->root, user, operator, time(NULL), token) < 0) {
		free(url);
		return -1;
	}
	buf_addf(out, "Open this link within %d minutes to log in to the dashboard as %s "
		      "(it works once):\n%s%s\n", SESSION_TOKEN_TTL / 60, user, url, token);
	free(url);
	return 0;
}

int cmd_dashboard_login(struct cli *c)
{
	struct buf out = BUF_INIT;
	if (login_text(c, &out) < 0) {
		buf_release(&out);
		return cli_fail();
	}
	cli_put(&out);
	return 0;
}

struct dashboard_args {
	int no_browser;
};

const struct opt dashboard_opts[] = {
	OPT_FLAG(0, "no-browser", struct dashboard_args, no_browser,
		 "print the link instead of opening it in a browser"),
	OPT_END_OF(struct dashboard_args),
};

/*
 * dashboard:login's text from c's server over ssh into out: 0, or the exit
 * code (ssh's, the server's) after what the server printed.
 */
static int remote_login_text(const struct cli *c, struct buf *out)
{
	const char *const words[] = { "dashboard:login", NULL };
	int status = 0;
	if (remote_capture(c->ssh_remote, words, out, &status) < 0)
		return cli_fail();
	if (status)
		fwrite(out->data, 1, out->len, stdout);
	return status;
}

/* The link in text (its last line that is one), cut there; NULL if there is none. */
static char *login_link(char *text)
{
	char *link = NULL;
	for (char *line = text; line && *line; ) {
		char *nl = strchr(line, '\n');
		if (!strncmp(line, "http://", 7) || !strncmp(line, "https://", 8))
			link = line;
		line = nl ? nl + 1 : NULL;
	}
	if (link)
		link = xstrndup(link, strcspn(link, "\n"));
	return link;
}

int cmd_dashboard(struct cli *c)
{
	const struct dashboard_args *a = c->options;
	struct buf text = BUF_INIT;
	char *link = NULL;
	int rc = c->ssh_remote ? remote_login_text(c, &text)
			       : login_text(c, &text) < 0 ? cli_fail() : 0;
	if (rc)
		goto done;
	/* the link is shown either way: a browser that does not come up leaves it at hand */
	fwrite(text.data, 1, text.len, stdout);
	link = login_link(text.data);
	if (!link) {
		say(stderr, SAY_ERROR, "the server printed no login link");
		rc = 1;
		goto done;
	}
	const char *opener = a->no_browser ? NULL : browser_opener();
	if (!opener)
		goto done;
	printf("Opening the link in your browser... ");
	fflush(stdout);
	if (browser_open(opener, link) < 0) {
		printf("failed\n");
		say(stderr, SAY_WARN, "%s: open the link above yourself", sw_error_last());
	} else {
		printf("done\n");
	}
done:
	free(link);
	buf_release(&text);
	return rc;
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
