/*
 * hooks/remote: the ssh command line that runs a command on a remote's
 * server, found as git finds ssh for that remote.
 */
#include "cli/remote.h"

#include "access/sshcmd.h"
#include "store/app.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static const char *const words[] = { "config:set", "-a", "myapp", "MSG=hello world",
				     "Q=it's", NULL };
#define LINE "config:set -a myapp 'MSG=hello world' 'Q=it'\"'\"'s'"

/* remote_ssh_argv() for r, joined with '|'. */
static char *ssh_argv(const struct app_remote *r)
{
	struct strvec v = STRVEC_INIT;
	struct buf b = BUF_INIT;
	remote_ssh_argv(&v, r, words, 0);
	for (size_t i = 0; i < v.n; i++)
		buf_addf(&b, "%s%s", i ? "|" : "", v.v[i]);
	strvec_clear(&v);
	return buf_detach(&b);
}

static void argv_is(const struct app_remote *r, const char *want)
{
	char *s = ssh_argv(r);
	cr_assert_str_eq(s, want);
	free(s);
}

static void clear_env(void)
{
	unsetenv("GIT_SSH_COMMAND");
	unsetenv("GIT_SSH");
}

TestSuite(remote, .init = clear_env);

Test(remote, plain_ssh_with_the_port_the_login_and_one_quoted_line)
{
	struct app_remote r = { .kind = APP_REMOTE_SSH, .login = "git@host", .port = "2222" };
	argv_is(&r, "ssh|-p|2222|git@host|" LINE);
	r.port = NULL;
	argv_is(&r, "ssh|git@host|" LINE);

	/* the server's splitter reads the line back into the same words */
	struct strvec back = STRVEC_INIT;
	cr_assert_eq(sshcmd_split(LINE, &back), 0);
	for (size_t i = 0; words[i]; i++)
		cr_assert_str_eq(back.v[i], words[i]);
	cr_assert_null(back.v[5]);
	strvec_clear(&back);
}

Test(remote, ssh_commands_run_through_sh_with_the_words_as_arguments)
{
	struct app_remote r = { .kind = APP_REMOTE_SSH, .login = "host",
				.ssh_command = "ssh -i ~/.ssh/deploy" };
	argv_is(&r, "sh|-c|ssh -i ~/.ssh/deploy \"$@\"|ssh|host|" LINE);
	/* $GIT_SSH_COMMAND comes before core.sshCommand, $GIT_SSH after both */
	setenv("GIT_SSH", "/usr/bin/plink-like", 1);
	setenv("GIT_SSH_COMMAND", "ssh -o BatchMode=yes", 1);
	argv_is(&r, "sh|-c|ssh -o BatchMode=yes \"$@\"|ssh|host|" LINE);
	setenv("GIT_SSH_COMMAND", "", 1); /* empty: not set */
	argv_is(&r, "sh|-c|ssh -i ~/.ssh/deploy \"$@\"|ssh|host|" LINE);
	r.ssh_command = NULL;
	argv_is(&r, "/usr/bin/plink-like|host|" LINE);
}

Test(remote, a_terminal_is_asked_for_with_t_before_the_login)
{
	struct app_remote r = { .kind = APP_REMOTE_SSH, .login = "git@host", .port = "2222" };
	struct strvec v = STRVEC_INIT;
	remote_ssh_argv(&v, &r, (const char *const[]){ "run", "-a", "myapp", "bash", NULL }, 1);
	cr_assert_eq(v.n, 6);
	cr_assert_str_eq(v.v[3], "-t");
	cr_assert_str_eq(v.v[4], "git@host");
	cr_assert_str_eq(v.v[5], "run -a myapp bash");
	strvec_clear(&v);
	/* through the user's ssh command too: -t is one of its arguments */
	r.ssh_command = "ssh -i key";
	remote_ssh_argv(&v, &r, (const char *const[]){ "run", "bash", NULL }, 1);
	cr_assert_str_eq(v.v[4], "-p");
	cr_assert_str_eq(v.v[6], "-t");
	cr_assert_str_eq(v.v[7], "git@host");
	strvec_clear(&v);
}
