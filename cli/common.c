/* What the commands share: refusals, output, opening an app, its git URL. */
#define _GNU_SOURCE
#include "cli/common.h"
#include "cli/cli.h" /* struct cmd, for the usage line; nothing of the table */

#include "release/change.h"
#include "runtime/nodes.h"
#include "store/app.h"
#include "store/apphosts.h"
#include "store/cas.h"
#include "store/ledger.h"
#include "store/procs.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/say.h"

#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

int cli_fail(void)
{
	say(stderr, SAY_ERROR, "%s", sw_error_last());
	return 1;
}

void cli_print_usage(FILE *f, const struct cmd *cmd)
{
	fprintf(f, "Usage: slipway %s%s%s\n", cmd->name, *cmd->synopsis ? " " : "", cmd->synopsis);
}

int cli_usage(const struct cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd)
		cli_print_usage(stderr, cmd);
	fputs("Run 'slipway help' for the list of commands.\n", stderr);
	return 2;
}

void cli_put(struct buf *b)
{
	fwrite(b->data, 1, b->len, stdout);
	buf_release(b);
}

int cli_open_app(struct cli *c, struct ledger **l)
{
	if (app_check_exists(c->root, c->app) < 0)
		return cli_fail();
	char *repo = app_repo_path(c->root, c->app);
	int err = ledger_open(l, repo);
	free(repo);
	return err ? cli_fail() : 0;
}

/* The new release's release phase failed: it is recorded, but not live. */
int cli_release_failed(struct cli *c, const struct change_result *res)
{
	say(stderr, SAY_ERROR, "The %s of v%d failed; %s.",
	    res->failed_start ? "start of the processes" : "release command", res->version,
	    res->previous ? "the current release is unchanged" : "nothing is live");
	say(stderr, SAY_ERROR, "See its output with: slipway releases:output v%d -a %s",
	    res->version, c->app);
	return 1;
}

/* The nth (from 0) space-separated field of s, or NULL. */
static const char *field_at(const char *s, int n)
{
	for (int i = 0; s && i < n; i++)
		s = (s = strchr(s, ' ')) ? s + 1 : NULL;
	return s && *s && *s != ' ' ? s : NULL;
}

/*
 * The address and port sshd was reached at ($SSH_CONNECTION's third and
 * fourth fields), else this host's name and no port (*port NULL).
 */
static char *server_host(char **port)
{
	const char *conn = getenv("SSH_CONNECTION");
	const char *p = field_at(conn, 2), *pt = field_at(conn, 3);
	*port = pt ? xstrndup(pt, strcspn(pt, " ")) : NULL;
	if (p) {
		size_t n = strcspn(p, " ");
		if (memchr(p, ':', n))
			return xasprintf("[%.*s]", (int)n, p); /* IPv6, as URLs write it */
		return xstrndup(p, n);
	}
	char host[256] = "localhost";
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	return xstrdup(host);
}

char *cli_git_url(const struct cli *c, const char *app)
{
	if (!c->shell_user)
		return app_repo_path(c->root, app);
	char *url = NULL, *port = NULL;
	if (settings_git_url(app, &url) < 0 || url)
		return url;
	struct passwd *pw = getpwuid(geteuid());
	const char *login = pw ? pw->pw_name : "git";
	char *host = server_host(&port);
	/* scp-like URLs have no port: any other than ssh's own needs an ssh:// URL */
	if (port && strcmp(port, "22"))
		url = xasprintf("ssh://%s@%s:%s/%s.git", login, host, port, app);
	else
		url = xasprintf("%s@%s:%s.git", login, host, app);
	free(port);
	free(host);
	return url;
}

const char *cli_not_running(const struct cli *c)
{
	return c->shell_user ? "not running: " CLI_RUNTIME_STOPPED : ACTIVATE_NOT_RUNNING;
}

/* Keeps the newest release whose slug is ctx's hex. */
struct owner {
	const char *hex;
	struct release *r;
};

static int find_owner(const struct release *r, void *ctx)
{
	struct owner *o = ctx;
	if (strcmp(r->slug, o->hex))
		return 0;
	release_copy(o->r, r);
	return 1;
}

const char *slug_arg_hex(const char *arg)
{
	const char *h = !strncasecmp(arg, "sha256:", 7) ? arg + 7 : arg;
	return cas_valid_hex(h) ? h : NULL;
}

int slug_owner(struct ledger *l, const char *hex, struct release *r)
{
	struct owner o = { hex, r };
	return ledger_walk(l, 0, LEDGER_READ_PROCS, find_owner, &o);
}

int ps_name_valid(const char *s)
{
	const char *dot = strchr(s, '.');
	size_t n = dot ? (size_t)(dot - s) : strlen(s);
	char *end = NULL;
	return proc_name_valid_n(s, n) &&
	       (!dot || (dot[1] >= '1' && dot[1] <= '9' && strtol(dot + 1, &end, 10) > 0 && !*end));
}

static volatile sig_atomic_t schedule_woken, schedule_stopping;
static void (*schedule_interrupt)(void);

static void schedule_on_alarm(int sig)
{
	(void)sig;
	schedule_woken = 1;
}

static void schedule_on_term(int sig)
{
	(void)sig;
	schedule_stopping = 1;
	if (schedule_interrupt)
		schedule_interrupt();
}

int cli_schedule_stopping(void)
{
	return schedule_stopping;
}

void cli_schedule_run(int seconds, void (*pass)(void *arg), void *arg, void (*interrupt)(void))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	schedule_interrupt = interrupt;
	sa.sa_handler = schedule_on_alarm; /* no SA_RESTART: SIGALRM ends the sleep */
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = schedule_on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!schedule_stopping) {
		schedule_woken = 0;
		pass(arg);
		if (!schedule_woken && !schedule_stopping)
			sleep((unsigned)seconds);
	}
}

void cli_withdraw_strays(struct cli *c)
{
	struct strvec strays = STRVEC_INIT;
	struct buf answer = BUF_INIT;
	if (apphosts_strays(c->root, c->app, &strays) < 0)
		say(stderr, SAY_WARN, "%s", sw_error_last());
	for (size_t i = 0; i < strays.n; i++) {
		printf("Stopping %s's instances on %s, no longer one of its hosts... ", c->app,
		       strays.v[i]);
		fflush(stdout);
		buf_truncate(&answer, 0);
		if (node_withdraw(c->root, c->app, strays.v[i], &answer) == 0) {
			printf("done\n");
			continue;
		}
		printf("failed\n");
		fflush(stdout);
		say(stderr, SAY_WARN, "%s: they get no requests; 'slipway hosts:apply -a %s' stops "
		    "them once %s answers", sw_error_last(), c->app, strays.v[i]);
	}
	buf_release(&answer);
	strvec_clear(&strays);
}
