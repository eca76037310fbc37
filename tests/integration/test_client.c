/*
 * The client command end to end: `slipway COMMAND` on a developer's
 * machine, inside a checkout whose git remote is an ssh URL, runs COMMAND
 * on that server through a real sshd and the keys' forced `slipway shell`.
 * The app comes from the remote, every word arrives as it was typed, and
 * stdin, stdout, stderr and the exit status pass through.  sshd runs as the
 * test's own user on 127.0.0.1 on a free port.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"
#include "tests/integration/sshd.h"

#include "dashboard/session.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define APP "myapp"
#define NO_ACCESS " !    You do not have access to the app " APP ".\n"
#define SSH_OPTS "-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null " \
		 "-o IdentitiesOnly=yes -o BatchMode=yes -o LogLevel=ERROR"

static char *sb, *root, *src, *key_alice, *key_bob, *user, *url;
static char *env_root, *env_keys, *env_home, *ssh_alice, *ssh_bob;
/* the operator's, on the server: its root */
static const char *op_env[16];
/* the laptop's: no root, alice's key (client_env replaces the last entry) */
static const char *cl_env[16];
static size_t cl_n;
static int port;
static pid_t sshd_pid = -1;

static char *must(struct th_result r, const char *what)
{
	cr_assert_eq(r.status, 0, "%s: exit %d\nstdout: %s\nstderr: %s", what, r.status, r.out,
		     r.err);
	free(r.err);
	return r.out;
}
#define OP(...) must(th_run(src, op_env, NULL, (const char *const[]){ __VA_ARGS__, NULL }), \
		     #__VA_ARGS__)

/* slipway ARGS in the checkout, as a developer runs it: extra environment first. */
static struct th_result client_in(const char *const *extra, const char *input,
				  const char *const *args)
{
	const char *env[32], *argv[32] = { SLIPWAY_BIN };
	size_t n = 0, a = 1;
	for (size_t i = 0; i < cl_n; i++)
		env[n++] = cl_env[i];
	for (size_t i = 0; extra && extra[i] && n < 31; i++)
		env[n++] = extra[i];
	env[n] = NULL;
	for (size_t i = 0; args[i] && a < 31; i++)
		argv[a++] = args[i];
	argv[a] = NULL;
	return th_run(src, env, input, argv);
}
#define CLIENT(...) client_in(NULL, NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define CLIENT_ENV(extra, ...) client_in(extra, NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define CLIENT_OK(...) must(CLIENT(__VA_ARGS__), #__VA_ARGS__)

/* r failed with status, printing nothing, its stderr starting with err; frees r. */
static void failed(struct th_result r, int status, const char *err)
{
	cr_assert_eq(r.status, status, "exit %d, want %d: %s", r.status, status, r.err);
	cr_assert_str_eq(r.out, "");
	cr_assert(!strncmp(r.err, err, strlen(err)), "stderr: %s\nwant: %s", r.err, err);
	th_result_free(&r);
}

/* Raw ssh as alice: what a user without the client types. */
static struct th_result raw_ssh(const char *command)
{
	char p[16];
	snprintf(p, sizeof(p), "%d", port);
	char *login = th_path("%s@127.0.0.1", user);
	const char *argv[] = { "ssh", "-F", "/dev/null", "-T", "-i", key_alice, "-p", p,
			       "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
			       "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
			       "-o", "LogLevel=ERROR", login, command, NULL };
	struct th_result r = th_run(src, op_env, NULL, argv);
	free(login);
	return r;
}

static void setup(void)
{
	th_sshd_require();
	sb = th_sandbox();
	root = th_path("%s/root", sb);
	src = th_path("%s/src", sb);
	cr_assert_eq(mkdir(src, 0755), 0);
	key_alice = th_keygen_in(sb, "alice", "alice@laptop");
	key_bob = th_keygen_in(sb, "bob", "bob@desk");
	user = th_sshd_user();
	port = th_free_port();
	url = th_path("ssh://%s@127.0.0.1:%d/%s.git", user, port, APP);

	env_root = th_path("SLIPWAY_ROOT=%s", root);
	env_keys = th_path("SLIPWAY_AUTHORIZED_KEYS=%s/authorized_keys", sb);
	env_home = th_path("HOME=%s", sb);
	/* the port comes from the URL: the client passes -p */
	ssh_alice = th_path("GIT_SSH_COMMAND=ssh -i %s " SSH_OPTS, key_alice);
	ssh_bob = th_path("GIT_SSH_COMMAND=ssh -i %s " SSH_OPTS, key_bob);
	const char *common[] = { env_home, "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
				 "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
				 "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "LC_ALL=C",
				 "SLIPWAY_APP=", "GIT_SSH=", NULL };
	size_t n = 0;
	for (; common[n]; n++)
		op_env[n] = cl_env[n] = common[n];
	op_env[n] = env_root;
	op_env[n + 1] = env_keys;
	op_env[n + 2] = NULL;
	cl_env[n] = "SLIPWAY_ROOT="; /* a laptop has no root */
	cl_env[n + 1] = ssh_alice;
	cl_n = n + 2;

	char *pub = th_path("%s.pub", key_alice);
	free(OP(SLIPWAY_BIN, "keys:add", "alice@example.com", pub));
	free(pub);
	pub = th_path("%s.pub", key_bob);
	free(OP(SLIPWAY_BIN, "keys:add", "bob", pub));
	free(pub);
	free(OP(SLIPWAY_BIN, "apps:create", APP));
	free(OP(SLIPWAY_BIN, "access:add", "alice@example.com", "-a", APP));
	free(OP("git", "-c", "init.defaultBranch=main", "init", "-q"));
	free(OP("git", "remote", "add", "heroku", url));
	sshd_pid = th_sshd_start(sb, port, user); /* last: a failed setup leaves no sshd behind */
}

static void teardown(void)
{
	th_sshd_stop(&sshd_pid);
	if (sb)
		th_sandbox_free(sb);
	char *all[] = { root, src, key_alice, key_bob, user, url, env_root, env_keys, env_home,
			ssh_alice, ssh_bob };
	for (size_t i = 0; i < sizeof(all) / sizeof(*all); i++)
		free(all[i]);
	sb = NULL;
}

TestSuite(client, .init = setup, .fini = teardown, .timeout = 240);

/* The value of KEY the operator reads on the server. */
static char *server_get(const char *app, const char *key)
{
	return OP(SLIPWAY_BIN, "config:get", key, "-a", app);
}

/* Every ref of app's repository with its target: the whole ledger state. */
static char *server_refs(const char *app)
{
	char *gd = th_path("--git-dir=%s/apps/%s.git", root, app);
	char *out = OP("git", gd, "for-each-ref", "--format=%(objectname) %(refname)");
	free(gd);
	return out;
}

static const struct {
	const char *key, *value;
} values[] = {
	{ "MSG", "hello world" },
	{ "URL", "postgres://u@h/db?sslmode=require&x=1" },
	{ "D", "$x" },
	{ "Q", "it's \"q\"" },
	{ "NL", "a\nb" },
	{ "T", "tab\there; `id` $(id) \\ * ~ # !" },
};
#define NVALUES (sizeof(values) / sizeof(*values))

Test(client, values_arrive_byte_for_byte_and_the_app_comes_from_the_remote)
{
	char *w[NVALUES];
	for (size_t i = 0; i < NVALUES; i++)
		w[i] = th_path("%s=%s", values[i].key, values[i].value);
	struct th_result r = CLIENT("config:set", w[0], w[1], w[2], w[3], w[4], w[5]);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "Setting MSG, URL, D, Q, NL, T and restarting " APP "... done, v1\n"), "%s", r.out);
	th_result_free(&r);
	for (size_t i = 0; i < NVALUES; i++) {
		char *want = th_path("%s\n", values[i].value);
		char *got = CLIENT_OK("config:get", values[i].key);
		cr_assert_str_eq(got, want, "%s over ssh", values[i].key);
		free(got);
		got = server_get(APP, values[i].key);
		cr_assert_str_eq(got, want, "%s on the server", values[i].key);
		free(got);
		free(want);
		free(w[i]);
	}
	/* the release is the remote user's */
	char *out = CLIENT_OK("releases");
	cr_assert(strstr(out, "=== " APP " Releases - Current: v1\n"), "%s", out);
	cr_assert(strstr(out, "alice@example.com"), "%s", out);
	free(out);
}

Test(client, the_remote_and_the_app_can_be_chosen)
{
	free(OP(SLIPWAY_BIN, "apps:create", "other"));
	free(OP(SLIPWAY_BIN, "access:add", "alice@example.com", "-a", "other"));
	char *other = th_path("%s@127.0.0.1:other.git", user); /* scp-like, port from ssh's -p */
	free(OP("git", "remote", "add", "staging", other));
	free(other);
	char *with_port = th_path("GIT_SSH_COMMAND=ssh -i %s -p %d " SSH_OPTS, key_alice, port);
	const char *e[] = { with_port, NULL };

	struct th_result r = CLIENT_ENV(e, "config:set", "WHERE=staging", "-r", "staging");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	th_result_free(&r);
	r = CLIENT_ENV(e, "config:set", "--remote", "staging", "-a", APP, "WHERE=heroku's server");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	th_result_free(&r);
	char *v = server_get("other", "WHERE");
	cr_assert_str_eq(v, "staging\n");
	free(v);
	v = server_get(APP, "WHERE");
	cr_assert_str_eq(v, "heroku's server\n");
	free(v);

	/* -a and $SLIPWAY_APP name the app on the heroku remote's server */
	v = CLIENT_OK("config:get", "WHERE", "-a", "other");
	cr_assert_str_eq(v, "staging\n");
	free(v);
	const char *app_env[] = { "SLIPWAY_APP=other", NULL };
	r = CLIENT_ENV(app_env, "config:get", "WHERE");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "staging\n");
	th_result_free(&r);

	/* a remote that is not there, and a command that runs only on the server */
	failed(CLIENT("config", "-r", "nowhere"), 1, " !    no git remote 'nowhere' here\n");
	failed(CLIENT("access", "-r", "staging"), 1, " !    access is an operator command: run it "
	       "on the server itself, not through the git remote 'staging' (--root DIR runs it "
	       "here)\n");
	free(with_port);
}

Test(client, ssh_is_found_as_git_finds_it)
{
	/* core.sshCommand, when $GIT_SSH_COMMAND is not set */
	char *cfg = th_path("ssh -i %s " SSH_OPTS, key_alice);
	free(OP("git", "config", "core.sshCommand", cfg));
	free(cfg);
	const char *no_env[] = { "GIT_SSH_COMMAND=", NULL };
	struct th_result r = CLIENT_ENV(no_env, "config:set", "BY=core.sshCommand");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	th_result_free(&r);
	char *v = server_get(APP, "BY");
	cr_assert_str_eq(v, "core.sshCommand\n");
	free(v);

	/* $GIT_SSH: a program, given the arguments as they are (here it records them) */
	char *prog = th_path("%s/my-ssh", sb), *log = th_path("%s/my-ssh.log", sb);
	char *script = th_path("#!/bin/sh\nprintf '[%%s]' \"$@\" > '%s'\n"
			       "exec ssh -i '%s' " SSH_OPTS " \"$@\"\n", log, key_alice);
	th_write(prog, script, 0755);
	char *git_ssh = th_path("GIT_SSH=%s", prog);
	const char *prog_env[] = { "GIT_SSH_COMMAND=", git_ssh, NULL };
	free(OP("git", "config", "--unset", "core.sshCommand"));
	r = CLIENT_ENV(prog_env, "config:get", "BY");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "core.sshCommand\n");
	th_result_free(&r);
	char *args = th_read(log, NULL);
	char *want = th_path("[-p][%d][%s@127.0.0.1][config:get -a myapp BY]", port, user);
	cr_assert_str_eq(args, want);
	free(want);
	free(args);
	free(git_ssh);
	free(script);
	free(log);
	free(prog);
}

Test(client, refusals_and_usage_errors_pass_through_and_change_nothing)
{
	free(CLIENT_OK("config:set", "A=1"));
	char *before = server_refs(APP);
	/* a refused command: exit 1, the server's message */
	const char *bob[] = { ssh_bob, NULL };
	failed(CLIENT_ENV(bob, "config:set", "A=2"), 1, NO_ACCESS);
	/* the server's usage error: exit 2 */
	failed(CLIENT("config:set", "NOVALUE"), 2,
	       "error: 'NOVALUE' is not KEY=value\nUsage: slipway config:set ");
	/* a command that fails on the server: exit 1 */
	struct th_result r = CLIENT("rollback", "v9");
	cr_assert(strstr(r.err, "v9"), "%s", r.err);
	failed(r, 1, " !    ");
	/* no server there: ssh's 255 */
	char *dead = th_path("ssh://%s@127.0.0.1:%d/%s.git", user, th_free_port(), APP);
	free(OP("git", "remote", "add", "dead", dead));
	r = CLIENT("config:set", "A=3", "-r", "dead");
	cr_assert_eq(r.status, 255, "exit %d: %s", r.status, r.err);
	th_result_free(&r);
	free(dead);
	char *after = server_refs(APP);
	cr_assert_str_eq(after, before);
	free(after);
	free(before);
	char *v = server_get(APP, "A");
	cr_assert_str_eq(v, "1\n");
	free(v);
}

Test(client, a_root_chosen_here_runs_here)
{
	free(OP(SLIPWAY_BIN, "config:set", "HERE=yes", "-a", APP));
	/* an ssh that would fail loudly if it were used */
	const char *no_ssh[] = { "GIT_SSH_COMMAND=exit 42 #", NULL };
	struct th_result r = CLIENT_ENV(no_ssh, "config:get", "HERE");
	cr_assert_eq(r.status, 42, "exit %d: %s", r.status, r.err);
	th_result_free(&r);
	char *flag = th_path("--root=%s", root);
	r = CLIENT_ENV(no_ssh, "config:get", "HERE", flag);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "yes\n");
	th_result_free(&r);
	free(flag);
	const char *env_here[] = { "GIT_SSH_COMMAND=exit 42 #", env_root, NULL };
	r = CLIENT_ENV(env_here, "config:get", "HERE");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "yes\n");
	th_result_free(&r);
	/* help is the client's own */
	r = CLIENT_ENV(no_ssh, "help");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "  server:start"), "%s", r.out);
	th_result_free(&r);
}

Test(client, stdin_and_the_exit_status_of_run_pass_through)
{
	/* a release to run: pushed over ssh, as the developer does */
	th_write_hi_app(src);
	free(OP("git", "add", "-A"));
	free(OP("git", "commit", "-q", "-m", "first"));
	const char *push_env[] = { ssh_alice, NULL };
	struct th_result r = th_run(src, push_env, NULL,
				    (const char *const[]){ "git", "push", "-q", "heroku", "main",
							   NULL });
	th_result_free(&r);
	r = CLIENT("releases");
	cr_assert(strstr(r.out, "Deploy"), "%s%s", r.out, r.err);
	th_result_free(&r);

	/* the runtime is the operator's: a remote user is told so, not how to start it */
	r = CLIENT("ps");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "No processes of " APP " are running: the server's runtime is "
			 "stopped; ask its operator to start it.\n");
	th_result_free(&r);
	r = CLIENT("restart");
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert_str_eq(r.out, "Restarting all processes of " APP "... failed\n");
	cr_assert_str_eq(r.err, " !    Nothing restarted: the server's runtime is stopped; ask its "
			 "operator to start it.\n");
	th_result_free(&r);

	r = client_in(NULL, "one\ntwo\n", (const char *const[]){ "run", "cat", NULL });
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "one\ntwo\n");
	th_result_free(&r);
	/* words that look like options stay the command's */
	r = CLIENT("run", "printf", "[%s]", "-a", "it's", "a\nb", "--help");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "[-a][it's][a\nb][--help]");
	th_result_free(&r);
	r = CLIENT("run", "--", "sh", "-c", "echo out; echo err >&2; exit 7");
	cr_assert_eq(r.status, 7, "%s", r.err);
	cr_assert_str_eq(r.out, "out\n");
	cr_assert(strstr(r.err, "err\n"), "%s", r.err);
	th_result_free(&r);
}

Test(client, raw_ssh_gets_the_quoting_hint_and_nothing_changes)
{
	char *before = server_refs(APP);
	failed(raw_ssh("config:set URL=postgres://u@h/db?sslmode=require&x=1 -a " APP), 1,
	       " !    refused: '?' must be quoted: write "
	       "'URL=postgres://u@h/db?sslmode=require&x=1' in single quotes, or run "
	       "the command with the slipway client, which quotes for you\n");
	struct th_result r;
	char *after = server_refs(APP);
	cr_assert_str_eq(after, before);
	free(after);
	free(before);
	/* quoted as it says, it goes through */
	r = raw_ssh("config:set 'URL=postgres://u@h/db?sslmode=require&x=1' -a " APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	char *v = server_get(APP, "URL");
	cr_assert_str_eq(v, "postgres://u@h/db?sslmode=require&x=1\n");
	free(v);
}

/* git config --global KEY VALUE of the server's user, whose HOME is the sandbox. */
static void server_config(const char *key, const char *value)
{
	free(OP("git", "config", "--global", key, value));
}

/* The apps on the server, as the operator sees them. */
static char *server_apps(void)
{
	return OP(SLIPWAY_BIN, "apps");
}

Test(client, apps_create_over_ssh_prints_a_git_url_the_client_can_use)
{
	server_config("slipway.sshAppsCreate", "allowed");
	/* by default: the server's account at the address ssh reached */
	struct th_result r = CLIENT("apps:create", "first");
	cr_assert_eq(r.status, 0, "%s", r.err);
	/* on a port other than 22: an ssh:// URL, since scp-like URLs have no port */
	char *want = th_path("Creating first... done\nGit repository: ssh://%s@127.0.0.1:%d/first.git\n"
			     "Add it as a remote with: git remote add heroku "
			     "ssh://%s@127.0.0.1:%d/first.git\n", user, port, user, port);
	cr_assert_str_eq(r.out, want);
	cr_assert_null(strstr(r.out, root), "a server path: %s", r.out);
	free(want);
	th_result_free(&r);
	/* the URL works as it is given: a push over it deploys */
	char *first = th_path("ssh://%s@127.0.0.1:%d/first.git", user, port);
	free(OP("git", "remote", "add", "first", first));
	free(first);
	th_write_hi_app(src);
	free(OP("git", "add", "-A"));
	free(OP("git", "commit", "-q", "-m", "first"));
	r = th_run(src, (const char *const[]){ ssh_alice, NULL }, NULL,
		   (const char *const[]){ "git", "push", "-q", "first", "main", NULL });
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	/* reached on ssh's own port: the scp-like URL */
	const char *as_alice[20];
	size_t n = 0;
	for (; op_env[n]; n++)
		as_alice[n] = op_env[n];
	as_alice[n++] = "SLIPWAY_SHELL_USER=alice@example.com";
	as_alice[n++] = "SSH_CONNECTION=127.0.0.1 50000 192.0.2.7 22";
	as_alice[n] = NULL;
	r = th_run(src, as_alice, NULL, (const char *const[]){ SLIPWAY_BIN, "--root", root,
							      "apps:info", "-a", "first", NULL });
	cr_assert_eq(r.status, 0, "%s", r.err);
	want = th_path("\nGit URL:     %s@192.0.2.7:first.git\n", user);
	cr_assert(strstr(r.out, want), "%s", r.out);
	free(want);
	th_result_free(&r);

	/* the operator's own address */
	server_config("slipway.gitUrl", "git@deploy.example.com:%s.git");
	r = CLIENT("apps:create", "second");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Creating second... done\n"
			 "Git repository: git@deploy.example.com:second.git\n"
			 "Add it as a remote with: git remote add heroku "
			 "git@deploy.example.com:second.git\n");
	th_result_free(&r);
	char *out = CLIENT_OK("apps:info", "-a", "second");
	cr_assert(strstr(out, "\nGit URL:     git@deploy.example.com:second.git\n"), "%s", out);
	free(out);
	/* the operator still sees the path */
	out = OP(SLIPWAY_BIN, "apps:info", "-a", "second");
	char *path = th_path("\nGit URL:     %s/apps/second.git\n", root);
	cr_assert(strstr(out, path), "%s", out);
	free(path);
	free(out);

	/* a malformed setting refuses, says where it is, and creates nothing */
	server_config("slipway.gitUrl", "git@deploy.example.com:app.git");
	char *before = server_apps();
	failed(CLIENT("apps:create", "third"), 1,
	       " !    git config slipway.gitUrl: invalid URL 'git@deploy.example.com:app.git': "
	       "write it with one %s for the app name, for example "
	       "git@deploy.example.com:%s.git\n");
	char *after = server_apps();
	cr_assert_str_eq(after, before);
	free(after);
	free(before);
}

Test(client, help_over_ssh_lists_only_what_the_user_may_run)
{
	struct th_result r = raw_ssh("help");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "Usage: slipway COMMAND [ARGS] [-a APP]\n"), "%s", r.out);
	static const char *const shown[] = { "  releases ", "  config:set ", "  run ", "  apps:create ",
					     "  rollback ", NULL };
	static const char *const hidden[] = { "  gc ", "  fsck ", "  server:start ", "  keys:add ",
					      "  access:add ", "  apps:destroy ", "  access ",
					      "  slugs:extract ", "--root", NULL };
	for (size_t i = 0; shown[i]; i++)
		cr_assert(strstr(r.out, shown[i]), "'%s' missing:\n%s", shown[i], r.out);
	for (size_t i = 0; hidden[i]; i++)
		cr_assert_null(strstr(r.out, hidden[i]), "'%s' listed:\n%s", hidden[i], r.out);
	th_result_free(&r);

	r = raw_ssh("help releases");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "Usage: slipway releases -a APP"), "%s", r.out);
	cr_assert_null(strstr(r.out, "--root"), "%s", r.out);
	th_result_free(&r);

	failed(raw_ssh("help gc"), 2, "error: 'gc' is not a slipway command you can run here\n");

	/* the operator's help lists everything */
	char *out = OP(SLIPWAY_BIN, "help");
	cr_assert(strstr(out, "  server:start "), "%s", out);
	cr_assert(strstr(out, "  gc "), "%s", out);
	free(out);
}

/* 1 if path exists. */
static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

Test(client, operator_commands_are_refused_in_a_checkout_of_a_server_s_app)
{
	char *pub = th_path("%s.pub", key_bob);
	char *before = server_apps();
	static const char *const cmds[][6] = {
		{ "fsck" }, { "gc" }, { "keys" }, { "keys:add", "carol", NULL }, { "keys:remove", "bob" },
		{ "access", "-a", APP }, { "access:add", "bob" }, { "apps:destroy", APP, "--confirm", APP },
		{ "server:start" }, { "server:status" }, { "slugs:extract", "v1", "out" },
		{ "settings", "-a", APP },
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(*cmds); i++) {
		const char *argv[8] = { 0 };
		for (size_t k = 0; k < 6 && cmds[i][k]; k++)
			argv[k] = cmds[i][k];
		if (!strcmp(argv[0], "keys:add"))
			argv[2] = pub;
		char *want = th_path(" !    %s is an operator command: run it on the server itself, "
				     "not through the git remote 'heroku' (--root DIR runs it here)\n",
				     argv[0]);
		struct th_result r = client_in(NULL, NULL, argv);
		cr_assert_eq(r.status, 1, "%s: exit %d: %s%s", argv[0], r.status, r.out, r.err);
		cr_assert_str_eq(r.out, "", "%s", argv[0]);
		cr_assert_str_eq(r.err, want);
		th_result_free(&r);
		free(want);
	}
	/* nothing was made on this machine: no keys file, no root, no extracted slug */
	static const char *const made[] = { ".ssh", ".local", "src/out", NULL };
	for (size_t i = 0; made[i]; i++) {
		char *p = th_path("%s/%s", sb, made[i]);
		cr_assert(!exists(p), "%s was made", p);
		free(p);
	}
	/* nor on the server */
	char *after = server_apps();
	cr_assert_str_eq(after, before);
	free(after);
	free(before);
	char *keys = OP(SLIPWAY_BIN, "keys");
	cr_assert(strstr(keys, "bob"), "%s", keys);
	cr_assert_null(strstr(keys, "carol"), "%s", keys);
	free(keys);
	free(pub);

	/* apps:create is sent to the server, which decides (slipway.sshAppsCreate) */
	failed(CLIENT("apps:create", "fromlaptop"), 1, " !    ");
	char *local = th_path("%s/.local", sb);
	cr_assert(!exists(local), "%s was made", local);
	free(local);
	char *apps = server_apps();
	cr_assert_null(strstr(apps, "fromlaptop"), "%s", apps);
	free(apps);
}

Test(client, pipelines_promote_from_a_second_remote_goes_to_the_heroku_remote_s_app)
{
	free(OP(SLIPWAY_BIN, "apps:create", "stage"));
	free(OP(SLIPWAY_BIN, "access:add", "alice@example.com", "-a", "stage"));
	char *staging = th_path("ssh://%s@127.0.0.1:%d/stage.git", user, port);
	free(OP("git", "remote", "add", "staging", staging));
	free(staging);
	th_write_hi_app(src);
	free(OP("git", "add", "-A"));
	free(OP("git", "commit", "-q", "-m", "first"));
	struct th_result r = th_run(src, (const char *const[]){ ssh_alice, NULL }, NULL,
				    (const char *const[]){ "git", "push", "-q", "staging", "main",
							   NULL });
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);

	/* a heroku remote on another server is no next stage: --to is asked for */
	char *before = server_refs(APP);
	char *elsewhere = th_path("ssh://%s@127.0.0.1:%d/%s.git", user, th_free_port(), APP);
	free(OP("git", "remote", "set-url", "heroku", elsewhere));
	r = CLIENT("pipelines:promote", "-r", "staging");
	cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "missing --to APP"), "%s", r.err);
	th_result_free(&r);
	free(OP("git", "remote", "set-url", "heroku", url));
	char *after = server_refs(APP);
	cr_assert_str_eq(after, before);
	free(after);
	free(before);
	free(elsewhere);

	/* Heroku's form: the source from -r, the target the heroku remote's app */
	r = CLIENT("pipelines:promote", "-r", "staging");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "Promoting stage to " APP "... done, v1"), "%s", r.out);
	th_result_free(&r);
	char *out = OP(SLIPWAY_BIN, "releases", "-a", APP);
	cr_assert(strstr(out, "Promote stage v1"), "%s", out);
	free(out);
}

/*
 * `slipway dashboard`: a fake xdg-open first on PATH records the link it is
 * given (written whole by a rename), as a browser would get it.
 */
static char *fake_opener_path(void)
{
	char *bin = th_path("%s/bin", sb), *opener = th_path("%s/xdg-open", bin);
	char *script = th_path("#!/bin/sh\nprintf '%%s' \"$1\" > '%s/opened.tmp' && "
			       "mv '%s/opened.tmp' '%s/opened'\n", sb, sb, sb);
	th_write(opener, script, 0755);
	char *env = th_path("PATH=%s:%s", bin, getenv("PATH"));
	free(script);
	free(opener);
	free(bin);
	return env;
}

/* What the fake xdg-open was given: waits for it (it is not waited for), generously. */
static char *opened_link(void)
{
	char *path = th_path("%s/opened", sb);
	for (int i = 0; i < 1200 && !exists(path); i++)
		usleep(50 * 1000);
	cr_assert(exists(path), "xdg-open was not run");
	char *link = th_read(path, NULL);
	unlink(path);
	free(path);
	return link;
}

/* The link (second line) of dashboard:login's text in out, malloc'ed. */
static char *printed_link(const char *out, const char *user_name)
{
	char *head = th_path("Open this link within 2 minutes to log in to the dashboard as %s "
			     "(it works once):\nhttp://", user_name);
	cr_assert(!strncmp(out, head, strlen(head)), "%s", out);
	const char *link = strchr(out, '\n') + 1;
	free(head);
	return strndup(link, strcspn(link, "\n"));
}

/* The link logs in, as user_name (NULL: any name) and as the operator or not. */
static void link_logs_in_as(const char *link, const char *user_name, int operator)
{
	const char *hash = strchr(link, '#');
	cr_assert(hash && strstr(link, "/login#") == hash - 6, "%s", link);
	char secret[SESSION_SECRET_SIZE];
	struct session s = SESSION_INIT;
	cr_assert_eq(session_login(root, hash + 1, time(NULL), secret, &s), 0, "%s", link);
	if (user_name)
		cr_assert_str_eq(s.user, user_name);
	cr_assert_eq(s.operator, operator);
	session_release(&s);
}

Test(client, dashboard_opens_the_login_link_of_the_key_s_user_in_a_browser)
{
	char *path = fake_opener_path();
	const char *x11[] = { path, "DISPLAY=:99", "WAYLAND_DISPLAY=", NULL };
	struct th_result r = CLIENT_ENV(x11, "dashboard");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.err, "");
	char *link = printed_link(r.out, "alice@example.com");
	char *want = th_path("Open this link within 2 minutes to log in to the dashboard as "
			     "alice@example.com (it works once):\n%s\n"
			     "Opening the link in your browser... done\n", link);
	cr_assert_str_eq(r.out, want);
	char *got = opened_link();
	cr_assert_str_eq(got, link);
	link_logs_in_as(got, "alice@example.com", 0);
	th_result_free(&r);
	free(got);
	free(want);
	free(link);

	/* Wayland alone is a screen too */
	const char *wayland[] = { path, "DISPLAY=", "WAYLAND_DISPLAY=wayland-0", NULL };
	r = CLIENT_ENV(wayland, "dashboard");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	link = printed_link(r.out, "alice@example.com");
	got = opened_link();
	cr_assert_str_eq(got, link);
	th_result_free(&r);
	free(got);
	free(link);

	/* on the server itself (a root chosen here): the operator's link, without ssh */
	char *flag = th_path("--root=%s", root);
	const char *here[] = { path, "DISPLAY=:99", "GIT_SSH_COMMAND=exit 42 #", NULL };
	r = CLIENT_ENV(here, "dashboard", flag);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "Opening the link in your browser... done\n"), "%s", r.out);
	got = opened_link();
	cr_assert(strstr(r.out, got), "%s\n%s", r.out, got);
	link_logs_in_as(got, NULL, 1);
	th_result_free(&r);
	free(got);
	free(flag);
	free(path);
}

/* The output is dashboard:login's alone, its link valid, and nothing was opened. */
static void printed_only(struct th_result r)
{
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.err, "");
	char *link = printed_link(r.out, "alice@example.com");
	char *want = th_path("Open this link within 2 minutes to log in to the dashboard as "
			     "alice@example.com (it works once):\n%s\n", link);
	cr_assert_str_eq(r.out, want);
	link_logs_in_as(link, "alice@example.com", 0);
	char *rec = th_path("%s/opened", sb);
	cr_assert(!exists(rec), "xdg-open was run");
	free(rec);
	free(want);
	free(link);
	th_result_free(&r);
}

Test(client, dashboard_prints_the_link_without_a_screen_an_opener_or_with_no_browser)
{
	char *path = fake_opener_path();
	const char *no_screen[] = { path, "DISPLAY=", "WAYLAND_DISPLAY=", NULL };
	printed_only(CLIENT_ENV(no_screen, "dashboard"));
	const char *screen[] = { path, "DISPLAY=:99", NULL };
	printed_only(CLIENT_ENV(screen, "dashboard", "--no-browser"));

	/* a screen, but no xdg-open on PATH: only sh and ssh */
	char *bin = th_path("%s/no-opener", sb), *sh = th_path("%s/sh", bin);
	char *ssh = th_path("%s/ssh", bin);
	cr_assert_eq(mkdir(bin, 0755), 0);
	struct th_result which = th_runv(NULL, NULL, "sh", "-c", "command -v ssh", NULL);
	which.out[strcspn(which.out, "\n")] = '\0';
	cr_assert_eq(symlink("/bin/sh", sh), 0);
	cr_assert_eq(symlink(which.out, ssh), 0);
	char *bare = th_path("PATH=%s", bin);
	const char *no_opener[] = { bare, "DISPLAY=:99", NULL };
	printed_only(CLIENT_ENV(no_opener, "dashboard"));
	th_result_free(&which);
	free(bare);
	free(ssh);
	free(sh);
	free(bin);
	free(path);
}

Test(client, dashboard_opens_nothing_when_the_login_fails)
{
	char *path = fake_opener_path();
	/* no server there: ssh's 255, nothing printed */
	char *dead = th_path("ssh://%s@127.0.0.1:%d/%s.git", user, th_free_port(), APP);
	free(OP("git", "remote", "add", "dead", dead));
	const char *x11[] = { path, "DISPLAY=:99", NULL };
	struct th_result r = CLIENT_ENV(x11, "dashboard", "-r", "dead");
	cr_assert_eq(r.status, 255, "exit %d: %s%s", r.status, r.out, r.err);
	cr_assert_str_eq(r.out, "");
	th_result_free(&r);

	/* a server that answers without a link (an ssh that only echoes) */
	const char *echo[] = { path, "DISPLAY=:99", "GIT_SSH_COMMAND=echo hello #", NULL };
	r = CLIENT_ENV(echo, "dashboard");
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.out, "hello\n");
	cr_assert_str_eq(r.err, " !    the server printed no login link\n");
	th_result_free(&r);

	/* a server's refusal passes through with its status */
	const char *refused[] = { path, "DISPLAY=:99",
				  "GIT_SSH_COMMAND=echo ' !    no' >&2; exit 3 #", NULL };
	r = CLIENT_ENV(refused, "dashboard");
	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "");
	cr_assert_str_eq(r.err, " !    no\n");
	th_result_free(&r);

	char *rec = th_path("%s/opened", sb);
	cr_assert(!exists(rec), "xdg-open was run");
	free(rec);
	free(dead);
	free(path);
}

/* What tests/cli/complete.sh offers for line in the checkout, with the slipway built on PATH. */
static char *complete_here(const char *line)
{
	char *script = th_path("%s/slipway.bash", sb);
	struct th_result r = th_runv(NULL, NULL, SLIPWAY_BIN, "completion", "bash", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_write(script, r.out, 0644);
	th_result_free(&r);
	char *bin = strdup(SLIPWAY_BIN);
	*strrchr(bin, '/') = '\0';
	char *path = th_path("PATH=%s:%s", bin, getenv("PATH"));
	const char *env[32];
	size_t n = 0;
	for (; n < cl_n; n++)
		env[n] = cl_env[n];
	env[n++] = path;
	env[n] = NULL;
	r = th_runv(src, env, "bash", "--norc", "--noprofile", TESTS_DIR "/cli/complete.sh", script,
		    line, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_empty(r.err, "completing '%s' said: %s", line, r.err);
	free(r.err);
	free(path);
	free(bin);
	free(script);
	return r.out;
}

Test(client, completion_offers_the_apps_the_user_may_use_on_the_server)
{
	/* the script is made here, in the checkout, not asked of the server */
	char *script = CLIENT_OK("completion", "bash");
	cr_assert(strstr(script, "complete -F _slipway slipway\n"), "%s", script);
	free(script);
	free(OP(SLIPWAY_BIN, "apps:create", "mine"));
	free(OP(SLIPWAY_BIN, "access:add", "alice@example.com", "-a", "mine"));
	free(OP(SLIPWAY_BIN, "apps:create", "theirs"));
	char *got = complete_here("slipway logs -a ");
	cr_assert_str_eq(got, "mine\n" APP "\n");
	free(got);
	got = complete_here("slipway releases -r heroku --app=m");
	cr_assert_str_eq(got, "mine\n" APP "\n");
	free(got);
	/* a remote that cannot be reached offers nothing, and says nothing */
	free(OP("git", "remote", "add", "down", "ssh://nobody@127.0.0.1:1/x.git"));
	got = complete_here("slipway logs -r down -a ");
	cr_assert_str_empty(got);
	free(got);
}

Test(client, certs_add_sends_the_laptops_files_and_a_remote_users_paths_are_refused)
{
	/* a certificate for the app made on the laptop */
	free(OP("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
		"ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "../laptop.key", "-out",
		"../laptop.crt", "-days", "30", "-subj", "/CN=" APP ".localhost", "-addext",
		"subjectAltName=DNS:" APP ".localhost"));
	char *crt = th_path("%s/laptop.crt", sb), *key = th_path("%s/laptop.key", sb);
	const char *none = APP " has no SSL certificates.\n"
			   "Use slipway certs:add CRT KEY -a " APP " to add one.\n";

	/* paths given over ssh would be the server's files: refused, nothing changed */
	failed(raw_ssh("certs:add /etc/hostname /etc/hostname -a " APP), 1,
	       " !    over ssh, certs:add reads the certificate chain and key from stdin: "
	       "cat CRT KEY | slipway certs:add -a " APP "\n");
	char *out = OP(SLIPWAY_BIN, "certs", "-a", APP);
	cr_assert_str_eq(out, none);
	free(out);

	/* the client sends the laptop's files on ssh's stdin */
	struct th_result r = CLIENT("certs:add", crt, key, "--bypass");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(!strncmp(r.out, "Adding SSL certificate to " APP "... done\n", 39), "%s", r.out);
	th_result_free(&r);
	out = CLIENT_OK("certs");
	cr_assert(strstr(out, APP "  " APP ".localhost  "), "%s", out);
	free(out);
	out = CLIENT_OK("certs:remove", "--confirm", APP);
	cr_assert_str_eq(out, "Removing SSL certificate from " APP "... done\n");
	free(out);
	out = OP(SLIPWAY_BIN, "certs", "-a", APP);
	cr_assert_str_eq(out, none);
	free(out);
	free(crt);
	free(key);
}
