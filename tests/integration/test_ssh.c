/*
 * End to end over a real OpenSSH server: keys installed with `slipway
 * keys:add` force `slipway shell USER`; the real git client pushes through
 * it, users run commands with `ssh HOST COMMAND`, users without access are
 * refused, injection attempts never run, and the ledger's refs cannot be
 * pushed.  sshd runs as the test's own user on 127.0.0.1 on a free port.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"
#include "tests/integration/sshd.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define APP "myapp"
#define NAME_RULE \
	"use 1 to 30 lowercase letters, digits and dashes, starting with a letter\n"
#define NO_ACCESS " !    You do not have access to the app " APP ".\n"
#define HINT " in single quotes, or run the command with the slipway client, which quotes for you\n"

static char *sb, *root, *src, *repo, *sentinel;
static char *env_root, *env_keys, *env_home, *ssh_alice, *ssh_bob;
static const char *env[16], *env_a[16], *env_b[16];
static char *url, *scp_url, *login;
static char *key_alice, *key_bob;
static int port;
static pid_t sshd_pid = -1;

/* ---- running things ---- */

static struct th_result run_env(const char *const *e, const char *const *argv)
{
	return th_run(src, e, NULL, argv);
}
#define RUN(e, ...) run_env(e, (const char *const[]){ __VA_ARGS__, NULL })
#define sw(...) RUN(env, SLIPWAY_BIN, __VA_ARGS__)

static char *must(struct th_result r, const char *what)
{
	cr_assert_eq(r.status, 0, "%s: exit %d\nstdout: %s\nstderr: %s", what, r.status, r.out,
		     r.err);
	free(r.err);
	return r.out;
}
#define OK(e, ...) must(RUN(e, __VA_ARGS__), #__VA_ARGS__)

/* ssh -i KEY ... USER@127.0.0.1 COMMAND (NULL: no command, a login), input on stdin. */
static struct th_result ssh_in(const char *key, const char *input, const char *command)
{
	char p[16];
	snprintf(p, sizeof(p), "%d", port);
	const char *argv[] = { "ssh", "-F", "/dev/null", "-T", "-i", key, "-p", p,
			       "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
			       "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
			       "-o", "LogLevel=ERROR", login, command, NULL };
	return th_run(src, env, input, argv);
}

/* ssh_in with nothing on stdin. */
static struct th_result ssh_as(const char *key, const char *command)
{
	return ssh_in(key, NULL, command);
}

/* ssh_as with extra options first (at most 8; ssh keeps an option's first value). */
static struct th_result ssh_with(const char *key, const char *const *extra, const char *command)
{
	char p[16];
	snprintf(p, sizeof(p), "%d", port);
	const char *fixed[] = { "-F", "/dev/null", "-i", key, "-p", p,
				"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
				"-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
				"-o", "LogLevel=ERROR", NULL };
	const char *argv[40] = { "ssh" };
	size_t n = 1;
	for (size_t i = 0; extra[i] && i < 8; i++)
		argv[n++] = extra[i];
	for (size_t i = 0; fixed[i]; i++)
		argv[n++] = fixed[i];
	argv[n++] = login;
	if (command)
		argv[n++] = command;
	argv[n] = NULL;
	return th_run(src, env, NULL, argv);
}

static char *git_ssh_command(const char *key)
{
	return th_path("GIT_SSH_COMMAND=ssh -F /dev/null -i %s -p %d -o StrictHostKeyChecking=no "
		       "-o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o BatchMode=yes "
		       "-o LogLevel=ERROR", key, port);
}

static void setup(void)
{
	th_sshd_require();
	sb = th_sandbox();
	root = th_path("%s/root", sb);
	src = th_path("%s/src", sb);
	repo = th_path("%s/apps/%s.git", root, APP);
	sentinel = th_path("%s/sentinel", sb);
	cr_assert_eq(mkdir(src, 0755), 0);
	key_alice = th_keygen_in(sb, "alice", "alice@laptop");
	key_bob = th_keygen_in(sb, "bob", "bob@desk");

	char *user = th_sshd_user();
	port = th_free_port();
	login = th_path("%s@127.0.0.1", user);
	url = th_path("ssh://%s@127.0.0.1:%d/%s.git", user, port, APP);
	scp_url = th_path("%s@127.0.0.1:%s.git", user, APP);

	env_root = th_path("SLIPWAY_ROOT=%s", root);
	env_keys = th_path("SLIPWAY_AUTHORIZED_KEYS=%s/authorized_keys", sb);
	env_home = th_path("HOME=%s", sb);
	ssh_alice = git_ssh_command(key_alice);
	ssh_bob = git_ssh_command(key_bob);
	const char *common[] = { env_root, env_keys, env_home, "GIT_AUTHOR_NAME=t",
				 "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
				 "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_NOSYSTEM=1",
				 "GIT_TERMINAL_PROMPT=0", "LC_ALL=C", NULL };
	size_t n = 0;
	for (; common[n]; n++)
		env[n] = env_a[n] = env_b[n] = common[n];
	env[n] = NULL;
	env_a[n] = ssh_alice;
	env_b[n] = ssh_bob;
	env_a[n + 1] = env_b[n + 1] = NULL;

	char *pub = th_path("%s.pub", key_alice);
	free(OK(env, SLIPWAY_BIN, "keys:add", "alice@example.com", pub));
	free(pub);
	pub = th_path("%s.pub", key_bob);
	free(OK(env, SLIPWAY_BIN, "keys:add", "bob", pub));
	free(pub);
	free(OK(env, SLIPWAY_BIN, "apps:create", APP));
	free(OK(env, SLIPWAY_BIN, "access:add", "alice@example.com", "-a", APP));
	sshd_pid = th_sshd_start(sb, port, user); /* last: a failed setup leaves no sshd behind */
	free(user);
}

static void teardown(void)
{
	th_sshd_stop(&sshd_pid);
	if (sb)
		th_sandbox_free(sb);
	char *all[] = { root, src, repo, sentinel, env_root, env_keys, env_home, ssh_alice,
			ssh_bob, url, scp_url, login, key_alice, key_bob };
	for (size_t i = 0; i < sizeof(all) / sizeof(*all); i++)
		free(all[i]);
	sb = NULL;
}

TestSuite(ssh, .init = setup, .fini = teardown, .timeout = 240);

/* ---- the pusher's repository and the server's state ---- */

static void chomp(char *s)
{
	size_t n = strlen(s);
	while (n && s[n - 1] == '\n')
		s[--n] = '\0';
}

static void init_src(const char *remote)
{
	free(OK(env, "git", "-c", "init.defaultBranch=main", "init", "-q"));
	th_write_hi_app(src);
	free(OK(env, "git", "add", "-A"));
	free(OK(env, "git", "commit", "-q", "-m", "first"));
	free(OK(env, "git", "remote", "add", "heroku", remote));
}

static void commit_change(const char *msg)
{
	char *p = th_path("%s/%s", src, msg);
	th_write(p, msg, 0644);
	free(p);
	free(OK(env, "git", "add", "-A"));
	free(OK(env, "git", "commit", "-q", "-m", msg));
}

static char *head_sha7(void)
{
	char *s = OK(env, "git", "rev-parse", "--short=7", "HEAD");
	chomp(s);
	return s;
}

/* Every ref of the app repository with its target: the whole ledger state. */
static char *server_refs(void)
{
	char *gd = th_path("--git-dir=%s", repo);
	char *out = OK(env, "git", gd, "for-each-ref", "--format=%(objectname) %(refname)");
	free(gd);
	return out;
}

static void push_v1(void)
{
	init_src(url);
	struct th_result r = RUN(env_a, "git", "push", "heroku", "main");
	cr_assert_eq(r.status, 0, "push: %s", r.err);
	cr_assert(strstr(r.err, "remote: -----> Released v1: Deploy "), "%s", r.err);
	th_result_free(&r);
}

/* git config --global KEY VALUE of the server's user, whose HOME is the sandbox. */
static void server_config(const char *key, const char *value)
{
	free(OK(env, "git", "config", "--global", key, value));
}

/* The apps the operator sees. */
static char *apps_list(void)
{
	return OK(env, SLIPWAY_BIN, "apps");
}

/* ---- pushing and running commands as a user ---- */

Test(ssh, push_releases_by_the_keys_user_and_commands_run_as_them)
{
	init_src(url);
	struct th_result r = RUN(env_a, "git", "push", "heroku", "main");
	cr_assert_eq(r.status, 0, "push: %s", r.err);
	char *sha7 = head_sha7();
	char *want = th_path("remote: -----> Released v1: Deploy %s", sha7);
	cr_assert_eq(th_count(r.err, want), 1, "%s", r.err);
	free(want);
	th_result_free(&r);
	char *info = OK(env, SLIPWAY_BIN, "releases:info", "v1", "-a", APP);
	cr_assert(strstr(info, "\nBy:        alice@example.com\n"), "%s", info);
	free(info);

	r = ssh_as(key_alice, "releases -a " APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "=== " APP " Releases - Current: v1\n"), "%s", r.out);
	want = th_path("v1  Deploy %s  alice@example.com  ", sha7);
	cr_assert(strstr(r.out, want), "%s", r.out);
	cr_assert_str_eq(r.err, "");
	free(want);
	th_result_free(&r);
	free(sha7);

	/* the scp-like remote of the README, git@host:myapp.git */
	free(OK(env, "git", "remote", "set-url", "heroku", scp_url));
	commit_change("second");
	r = RUN(env_a, "git", "push", "heroku", "main");
	cr_assert_eq(r.status, 0, "push: %s", r.err);
	cr_assert(strstr(r.err, "remote: -----> Released v2: Deploy "), "%s", r.err);
	th_result_free(&r);

	r = ssh_as(key_alice, "rollback -a " APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	/* the runtime is not started here */
	cr_assert_str_eq(r.out, "Rolling back " APP " to v1... done, v3 "
			 "(not running: the server's runtime is stopped; ask its operator to start it)\n");
	th_result_free(&r);
	info = OK(env, SLIPWAY_BIN, "releases:info", "v3", "-a", APP);
	cr_assert(strstr(info, "=== Release v3 (current)\nChange:    Rollback to v1\nBy:        alice@example.com\n"),
		  "%s", info);
	free(info);

	/* quoted words, config as alice, apps lists her app */
	r = ssh_as(key_alice, "config:set 'GREETING=hello world' -a \"" APP "\"");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "done, v4"), "%s", r.out);
	th_result_free(&r);
	r = ssh_as(key_alice, "config:get GREETING -a " APP);
	cr_assert_str_eq(r.out, "hello world\n");
	th_result_free(&r);
	r = ssh_as(key_alice, "apps");
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.out, "=== Apps\n" APP "\n");
	th_result_free(&r);

	/* clone (upload-pack) works for her */
	char *dst = th_path("%s/clone", sb);
	free(OK(env_a, "git", "clone", "-q", url, dst));
	free(dst);
}

Test(ssh, apps_create_over_ssh_gives_the_creator_access)
{
	server_config("slipway.sshAppsCreate", "allowed");
	struct th_result r = ssh_as(key_bob, "apps:create bobs-app");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "Creating bobs-app... done\n"), "%s", r.out);
	th_result_free(&r);
	char *out = OK(env, SLIPWAY_BIN, "access", "-a", "bobs-app");
	cr_assert_str_eq(out, "=== bobs-app Access\nbob\n");
	free(out);
	r = ssh_as(key_bob, "apps");
	cr_assert_str_eq(r.out, "=== Apps\nbobs-app\n");
	th_result_free(&r);
	r = ssh_as(key_alice, "apps --json");
	cr_assert_str_eq(r.out, "[\"" APP "\"]\n");
	th_result_free(&r);
	/* the operator sees both */
	out = OK(env, SLIPWAY_BIN, "apps");
	cr_assert_str_eq(out, "=== Apps\nbobs-app\n" APP "\n");
	free(out);
}

/* ---- what a key allows besides slipway's shell: nothing ---- */

Test(ssh, keys_get_no_pty_but_for_run_and_no_forwarding)
{
	/*
	 * the line: restrict (OpenSSH's every restriction, present and future),
	 * a pty (for run: the shell refuses it to the rest) and the command
	 */
	char *keys = th_path("%s/authorized_keys", sb);
	char *text = th_read(keys, NULL);
	char *bin = realpath(SLIPWAY_BIN, NULL);
	char *want = th_path("restrict,pty,command=\"%s --root %s shell alice@example.com\" ssh-ed25519 ",
			     bin, root);
	cr_assert(!strncmp(text, want, strlen(want)), "%s\nwant: %s", text, want);
	free(want);
	free(bin);
	free(text);
	free(keys);

	/* a pty is refused to every command but the consoles (the refusal comes through the pty) */
	char *before = apps_list();
	struct th_result r = ssh_with(key_alice, (const char *[]){ "-tt", NULL }, "apps:create x");
	cr_assert_eq(r.status, 1, "exit %d: %s%s", r.status, r.out, r.err);
	cr_assert(strstr(r.out, " !    refused: only 'run', 'pg:psql' and 'redis:cli' take a terminal "
				"(connect without one: ssh -T)\r\n"), "%s", r.out);
	th_result_free(&r);
	r = ssh_with(key_alice, (const char *[]){ "-tt", NULL }, "git-upload-pack " APP ".git");
	cr_assert_eq(r.status, 1, "exit %d: %s%s", r.status, r.out, r.err);
	cr_assert(strstr(r.out, "refused: only 'run', 'pg:psql' and 'redis:cli' take a terminal"),
		  "%s", r.out);
	th_result_free(&r);
	char *after = apps_list();
	cr_assert_str_eq(after, before);
	free(after);
	free(before);

	/* forwarding a connection through the server: prohibited, not attempted
	   (nothing listens on port 1, so an attempt would say "Connection refused") */
	r = ssh_with(key_alice, (const char *[]){ "-o", "LogLevel=INFO", "-W", "127.0.0.1:1", NULL },
		     NULL);
	cr_assert_neq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "administratively prohibited"), "%s", r.err);
	th_result_free(&r);

	/* listening on the server for the client: refused */
	r = ssh_with(key_alice, (const char *[]){ "-N", "-o", "ExitOnForwardFailure=yes", "-R",
						  "127.0.0.1:0:127.0.0.1:1", NULL }, NULL);
	cr_assert_neq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "remote port forwarding failed"), "%s", r.err);
	th_result_free(&r);
}

/* apps:create over ssh, refused: exit 1, want_err, and the apps are as they were. */
static void create_refused(const char *key, const char *command, const char *want_err)
{
	char *before = apps_list();
	struct th_result r = ssh_as(key, command);
	cr_assert_eq(r.status, 1, "'%s': exit %d\n%s%s", command, r.status, r.out, r.err);
	cr_assert_str_eq(r.out, "", "'%s'", command);
	cr_assert_str_eq(r.err, want_err, "'%s'", command);
	th_result_free(&r);
	char *after = apps_list();
	cr_assert_str_eq(after, before, "'%s' changed the apps", command);
	free(after);
	free(before);
	char *apps_dir = th_path("%s/apps", root);
	char *ls = OK(env, "ls", "-A", apps_dir);
	cr_assert_null(strstr(ls, ".new-"), "a half-made app was left: %s", ls);
	free(ls);
	free(apps_dir);
}

static void created(const char *key, const char *name)
{
	char *cmd = th_path("apps:create %s", name);
	struct th_result r = ssh_as(key, cmd);
	cr_assert_eq(r.status, 0, "'%s': %s", cmd, r.err);
	char *want = th_path("Creating %s... done\n", name);
	cr_assert(strstr(r.out, want), "%s", r.out);
	free(want);
	th_result_free(&r);
	free(cmd);
}

Test(ssh, apps_create_over_ssh_is_denied_unless_the_operator_allows_it)
{
	/* by default: no app, no access, no ledger, whatever the name */
	create_refused(key_bob, "apps:create bobs-app",
		       " !    You cannot create apps on this server. Ask its operator to create "
		       "bobs-app and give you access.\n");
	create_refused(key_alice, "apps:create alices-app --reject-failed-builds",
		       " !    You cannot create apps on this server. Ask its operator to create "
		       "alices-app and give you access.\n");
	server_config("slipway.sshAppsCreate", "denied");
	create_refused(key_bob, "apps:create bobs-app",
		       " !    You cannot create apps on this server. Ask its operator to create "
		       "bobs-app and give you access.\n");
	struct stat st;
	char *path = th_path("%s/apps/bobs-app.git", root);
	cr_assert_neq(stat(path, &st), 0);
	free(path);

	/* a value the operator mistyped refuses too, and says where it is */
	server_config("slipway.sshAppsCreate", "yes");
	create_refused(key_bob, "apps:create bobs-app",
		       " !    git config slipway.sshAppsCreate: invalid value 'yes': use allowed, "
		       "denied or how many apps each user may create (0 to 100000)\n");

	/* the operator is not limited */
	free(OK(env, SLIPWAY_BIN, "apps:create", "ops-app"));
}

Test(ssh, apps_create_over_ssh_by_a_user_given_the_right)
{
	free(OK(env, "git", "config", "--global", "--add", "slipway.sshAppsCreators", "bob"));
	/* alice has not got it: refused, as by default */
	create_refused(key_alice, "apps:create alices-app",
		       " !    You cannot create apps on this server. Ask its operator to create "
		       "alices-app and give you access.\n");
	/* bob has: he creates, though the server denies everyone else, and gets access */
	server_config("slipway.sshAppsCreate", "denied");
	created(key_bob, "bobs-app");
	char *out = OK(env, SLIPWAY_BIN, "access", "-a", "bobs-app");
	cr_assert_str_eq(out, "=== bobs-app Access\nbob\n");
	free(out);
	/* with no limit */
	server_config("slipway.sshAppsCreate", "1");
	created(key_bob, "bobs-second");
}

Test(ssh, apps_create_over_ssh_up_to_a_number_per_user)
{
	server_config("slipway.sshAppsCreate", "2");
	/* an app bob was given access to, not created, does not count */
	free(OK(env, SLIPWAY_BIN, "access:add", "bob", "-a", APP));
	created(key_bob, "b-one");
	created(key_bob, "b-two");
	static const char full[] =
		" !    You have reached the limit of 2 apps you may create on this server "
		"(b-one, b-two). Ask its operator for more.\n";
	create_refused(key_bob, "apps:create b-three", full);
	/* an existing name is refused the same way: the limit comes first */
	create_refused(key_bob, "apps:create " APP, full);

	/* each user has their own count */
	created(key_alice, "a-one");
	char *out = OK(env, SLIPWAY_BIN, "access", "-a", "a-one");
	cr_assert_str_eq(out, "=== a-one Access\nalice@example.com\n");
	free(out);

	/* an app taken over by the operator (bob's access removed) frees his place */
	free(OK(env, SLIPWAY_BIN, "access:remove", "bob", "-a", "b-one"));
	created(key_bob, "b-three");
	create_refused(key_bob, "apps:create b-four",
		       " !    You have reached the limit of 2 apps you may create on this server "
		       "(b-three, b-two). Ask its operator for more.\n");
	/* so does an app destroyed */
	free(OK(env, SLIPWAY_BIN, "apps:destroy", "b-two", "--confirm", "b-two"));
	created(key_bob, "b-four");

	/* lowered below what he has: nothing more, nothing taken away */
	server_config("slipway.sshAppsCreate", "1");
	create_refused(key_bob, "apps:create b-five",
		       " !    You have reached the limit of 1 app you may create on this server "
		       "(b-four, b-three). Ask its operator for more.\n");
	struct th_result r = ssh_as(key_bob, "apps");
	cr_assert_str_eq(r.out, "=== Apps\nb-four\nb-three\n" APP "\n");
	th_result_free(&r);
}

/* ---- refusals ---- */

/* ssh as key must exit 1 with want_err alone, and state() must say the same after it. */
static void refused_ssh_keeping(const char *key, const char *command, const char *want_err,
				char *(*state)(void))
{
	char *before = state();
	struct th_result r = ssh_as(key, command);
	cr_assert_eq(r.status, 1, "'%s': exit %d\n%s%s", command, r.status, r.out, r.err);
	cr_assert_str_eq(r.out, "", "'%s'", command);
	cr_assert_str_eq(r.err, want_err, "'%s'", command);
	th_result_free(&r);
	char *after = state();
	cr_assert_str_eq(after, before, "'%s' changed the ledger", command);
	free(after);
	free(before);
}

static void refused_ssh(const char *key, const char *command, const char *want_err)
{
	refused_ssh_keeping(key, command, want_err, server_refs);
}

Test(ssh, a_user_without_access_is_refused_everything)
{
	push_v1();
	char *before = server_refs();

	commit_change("bobs");
	struct th_result r = RUN(env_b, "git", "push", "heroku", "main");
	cr_assert_neq(r.status, 0);
	cr_assert(strstr(r.err, NO_ACCESS), "%s", r.err);
	cr_assert(!strstr(r.err, "remote:"), "receive-pack ran:\n%s", r.err);
	th_result_free(&r);
	char *after = server_refs();
	cr_assert_str_eq(after, before);
	free(after);

	static const char *const cmds[] = {
		"releases -a " APP, "releases:info v1 -a " APP, "rollback -a " APP,
		"rollback v1 -a " APP, "config -a " APP, "config:set FOO=bar -a " APP,
		"config:unset FOO -a " APP, "slugs:info v1 -a " APP, "releases:output -a " APP,
		NULL,
	};
	for (size_t i = 0; cmds[i]; i++)
		refused_ssh(key_bob, cmds[i], NO_ACCESS);

	char *dst = th_path("%s/clone", sb);
	r = RUN(env_b, "git", "clone", "-q", url, dst);
	cr_assert_neq(r.status, 0);
	cr_assert(strstr(r.err, NO_ACCESS), "%s", r.err);
	cr_assert_neq(access(dst, F_OK), 0);
	th_result_free(&r);

	r = ssh_as(key_bob, "apps");
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.out, "You have no apps.\n");
	th_result_free(&r);

	/* operator-only commands are refused to everyone over ssh */
	refused_ssh(key_alice, "access:add bob -a " APP,
		    " !    refused: 'access:add' is not a command you can run here (run: ssh HOST help)\n");
	refused_ssh(key_alice, "apps:destroy " APP " --confirm " APP,
		    " !    refused: 'apps:destroy' is not a command you can run here (run: ssh HOST help)\n");
	/* the server's settings are the operator's to see */
	refused_ssh(key_alice, "settings -a " APP,
		    " !    refused: 'settings' is not a command you can run here (run: ssh HOST help)\n");

	/* once given access, the same commands work; taken away, refused again */
	free(OK(env, SLIPWAY_BIN, "access:add", "bob", "-a", APP));
	r = ssh_as(key_bob, "releases -a " APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "Current: v1"), "%s", r.out);
	th_result_free(&r);
	free(OK(env, SLIPWAY_BIN, "access:remove", "bob", "-a", APP));
	refused_ssh(key_bob, "rollback -a " APP, NO_ACCESS);
	free(before);
	free(dst);
}

Test(ssh, run_over_ssh_passes_stdin_output_and_the_exit_status)
{
	push_v1();
	struct th_result r = ssh_in(key_alice, "one\ntwo\n", "run -a " APP " cat");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "one\ntwo\n");
	th_result_free(&r);
	/* one quoted word is a shell line in the app's sandbox; its status is ssh's */
	r = ssh_as(key_alice, "run -a " APP " 'echo \"$HOME $(pwd)\"; ./run.sh; exit 5'");
	cr_assert_eq(r.status, 5, "%s", r.err);
	cr_assert_str_eq(r.out, "/app /app\nhi\n");
	th_result_free(&r);
	/* several words are exec'ed as they are, options included */
	r = ssh_as(key_alice, "run -a " APP " printf '[%s]' 'a b' -a --help");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "[a b][-a][--help]");
	th_result_free(&r);
	char *runs = th_path("%s/runs", root);
	DIR *d = opendir(runs);
	struct dirent *e;
	while (d && (e = readdir(d)))
		cr_assert_eq(e->d_name[0], '.', "left behind: %s", e->d_name);
	if (d)
		closedir(d);
	free(runs);
	/* without access, nothing runs */
	refused_ssh(key_bob, "run -a " APP " true", NO_ACCESS);
}

Test(ssh, injection_attempts_never_run)
{
	push_v1();
	char *apps_dir = th_path("%s/apps", root);
	static const struct {
		const char *fmt, *err;
	} cases[] = {
		{ "releases -a " APP "; touch %s", " !    refused: ';' must be quoted: write '" APP ";'" HINT },
		{ "releases -a " APP " | touch %s", " !    refused: '|' must be quoted: write '|'" HINT },
		{ "releases -a " APP " && touch %s", " !    refused: '&' must be quoted: write '&&'" HINT },
		{ "releases -a `touch %s`", " !    refused: '`' must be quoted: write '`touch'" HINT },
		{ "releases -a $(touch %s)", " !    refused: '$' must be quoted: write '$(touch'" HINT },
		{ "releases -a \"$(touch %s)\"",
		  " !    refused: '$' cannot be used inside double quotes: write '$(touch %s)'" HINT },
		{ "releases -a " APP "\ntouch %s", " !    refused: the command has more than one line "
		  "(a line break can be sent only inside single quotes)\n" },
		/* inside single quotes a line break is data: the app name is refused */
		{ "releases -a '" APP "\ntouch %s'", " !    invalid app name '" APP "\ntouch %s': " NAME_RULE },
		{ "touch %s", " !    refused: 'touch' is not a command you can run here (run: ssh HOST help)\n" },
		{ "sh -c 'touch %s'", " !    refused: 'sh' is not a command you can run here (run: ssh HOST help)\n" },
		{ "git-upload-pack '/" APP ".git'; touch %s",
		  " !    refused: ';' must be quoted: write '/" APP ".git;'" HINT },
		{ "git-receive-pack '" APP ".git' `touch %s`",
		  " !    refused: '`' must be quoted: write '`touch'" HINT },
		{ "git-receive-pack '../../%s.git'", " !    refused: '../../%s.git' is not an app "
		  "repository (use APP.git, for example myapp.git)\n" },
		{ "releases -a '" APP "; touch %s'", " !    invalid app name '" APP "; touch %s': " NAME_RULE },
		{ "releases -a ../%s", " !    invalid app name '../%s': " NAME_RULE },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *cmd = th_path(cases[i].fmt, sentinel);
		char *want = strstr(cases[i].err, "%s") ? th_path(cases[i].err, sentinel)
							: strdup(cases[i].err);
		refused_ssh(key_alice, cmd, want);
		cr_assert_neq(access(sentinel, F_OK), 0, "'%s' created the sentinel", cmd);
		free(want);
		free(cmd);
	}
	/* a login without a command: one line, no shell */
	struct th_result r = ssh_as(key_alice, NULL);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, " !    refused: slipway has no interactive shell (push with git, "
				"or run: ssh HOST help)\n");
	th_result_free(&r);

	/* inside single quotes it is data: stored literally, never run */
	char *set = th_path("config:set 'X=$(touch %s);`touch %s`' -a " APP, sentinel, sentinel);
	r = ssh_as(key_alice, set);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	char *val = OK(env, SLIPWAY_BIN, "config:get", "X", "-a", APP);
	char *want = th_path("$(touch %s);`touch %s`\n", sentinel, sentinel);
	cr_assert_str_eq(val, want);
	free(want);
	free(val);
	free(set);
	cr_assert_neq(access(sentinel, F_OK), 0);

	/* nothing was created next to the apps */
	struct th_result ls = RUN(env, "ls", "-A", apps_dir);
	cr_assert_str_eq(ls.out, APP ".git\n");
	th_result_free(&ls);
	free(apps_dir);
}

/* ---- the ledger cannot be pushed ---- */

static void push_refused(const char *refspec)
{
	char *before = server_refs();
	struct th_result r = RUN(env_a, "git", "push", "heroku", refspec);
	cr_assert_neq(r.status, 0, "git push heroku %s was accepted:\n%s", refspec, r.err);
	cr_assert(strstr(r.err, "[remote rejected]") || strstr(r.err, "! [rejected]"),
		  "%s:\n%s", refspec, r.err);
	th_result_free(&r);
	char *after = server_refs();
	cr_assert_str_eq(after, before, "git push heroku %s changed refs", refspec);
	free(after);
	free(before);
}

Test(ssh, ledger_refs_cannot_be_pushed_or_seen)
{
	push_v1();
	commit_change("second");
	push_refused("HEAD:refs/releases/v1");
	push_refused("HEAD:refs/releases/v9");
	push_refused(":refs/releases/v1");
	push_refused("HEAD:refs/slipway/current");
	push_refused(":refs/slipway/current");
	push_refused("HEAD:refs/notes/commits");

	char *refs = OK(env_a, "git", "ls-remote", "heroku");
	cr_assert(strstr(refs, "\trefs/heads/main\n"), "%s", refs);
	cr_assert(!strstr(refs, "refs/releases"), "%s", refs);
	cr_assert(!strstr(refs, "refs/slipway"), "%s", refs);
	free(refs);

	struct th_result r = sw("fsck", "-a", APP);
	cr_assert_eq(r.status, 0, "fsck: %s%s", r.out, r.err);
	th_result_free(&r);
	char *list = OK(env, SLIPWAY_BIN, "releases", "-a", APP);
	cr_assert_eq(th_count(list, "Deploy "), 1, "%s", list);
	free(list);
}

/* ---- what a collaborator's code can reach: nothing of the server's ---- */

/* The attempts, as a shell script: "PWN <what>: blocked|succeeded" for each. */
static char *attack_script(void)
{
	char *keys = th_path("%s/authorized_keys", sb);
	char *s = th_path(
		"#!/bin/sh\n"
		"try() { what=$1; shift\n"
		"  if \"$@\" >/dev/null 2>&1; then echo \"PWN $what: succeeded\"; "
		"else echo \"PWN $what: blocked\"; fi; }\n"
		"try list-the-root ls '%s'\n"
		"try read-beta cat '%s/apps/beta.git/config'\n"
		"try read-beta-hook ls -l '%s/apps/beta.git/hooks/post-receive'\n"
		"try run-slipway '%s' --root '%s' config -a beta\n"
		"try add-a-key sh -c 'echo \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA attacker\" >> \"%s\"'\n"
		"try read-server-home ls '%s' /root/.ssh\n"
		"try read-the-store ls '%s/store'\n"
		"try see-server-env sh -c 'env | grep -q \"SLIPWAY\\|SSH_\\|GIT_DIR\"'\n"
		"try signal-the-writer sh -c 'kill -0 1 && [ \"$(cat /proc/1/comm)\" != bwrap ] && "
		"[ \"$(cat /proc/1/comm)\" != sh ]'\n",
		root, root, root, SLIPWAY_BIN, root, keys, sb, root);
	free(keys);
	return s;
}

/* Bytes of a file, "" when missing. */
static char *file_or_empty(const char *path)
{
	char *s = th_read(path, NULL);
	return s ? s : strdup("");
}

static void assert_all_blocked(const char *out)
{
	cr_assert(strstr(out, "PWN list-the-root: blocked"), "%s", out);
	cr_assert_eq(th_count(out, ": blocked"), 9, "%s", out);
	cr_assert_null(strstr(out, ": succeeded"), "%s", out);
	cr_assert_null(strstr(out, "hunter2"), "beta's secret reached the pusher:\n%s", out);
}

Test(ssh, a_collaborators_release_phase_and_buildpack_reach_nothing_of_the_server)
{
	/* beta: another app, with a secret alice must never see */
	free(OK(env, SLIPWAY_BIN, "apps:create", "beta"));
	free(OK(env, SLIPWAY_BIN, "config:set", "DATABASE_URL=postgres://beta:hunter2@db/beta",
		"-a", "beta"));
	char *beta_cfg = th_path("%s/apps/beta.git/config", root);
	char *beta_access = th_path("%s/apps/beta.git/slipway-access", root);
	char *keys = th_path("%s/authorized_keys", sb);
	char *before[3] = { file_or_empty(beta_cfg), file_or_empty(beta_access),
			    file_or_empty(keys) };
	char *beta_config = OK(env, SLIPWAY_BIN, "config", "--shell", "-a", "beta");

	/* alice's buildpack (hosted where she likes; here a directory the operator names for her) */
	char *bp = th_path("%s/evil-buildpack", sb);
	char *script = attack_script();
	char *p = th_path("%s/bin/detect", bp);
	th_write(p, "#!/bin/sh\necho Evil\n", 0755);
	free(p);
	p = th_path("%s/bin/compile", bp);
	th_write(p, script, 0755);
	free(p);
	init_src(url);
	p = th_path("%s/pwn.sh", src);
	th_write(p, script, 0755);
	free(p);
	p = th_path("%s/Procfile", src);
	th_write(p, "web: ./run.sh\nrelease: sh ./pwn.sh\n", 0644);
	free(p);
	free(OK(env, SLIPWAY_BIN, "buildpacks:set", bp, "-a", APP));
	free(OK(env, "git", "add", "-A"));
	free(OK(env, "git", "commit", "-q", "-m", "pwn"));

	struct th_result r = RUN(env_a, "git", "push", "heroku", "main");
	cr_assert_eq(r.status, 0, "push: %s", r.err);
	/* once from bin/compile, once from the release phase: every attempt fails */
	cr_assert_eq(th_count(r.err, "PWN list-the-root: blocked"), 2, "%s", r.err);
	cr_assert_eq(th_count(r.err, ": blocked"), 18, "%s", r.err);
	cr_assert_null(strstr(r.err, ": succeeded"), "%s", r.err);
	cr_assert_null(strstr(r.err, "hunter2"), "beta's secret reached the pusher:\n%s", r.err);
	cr_assert(strstr(r.err, "remote: -----> Released v1: Deploy "), "%s", r.err);
	th_result_free(&r);

	/* what alice may read of her own app says the same */
	r = ssh_as(key_alice, "releases:output v1 -a " APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	assert_all_blocked(r.out);
	th_result_free(&r);

	/* beta, its collaborators and the server's keys are byte for byte as they were */
	char *after[3] = { file_or_empty(beta_cfg), file_or_empty(beta_access),
			   file_or_empty(keys) };
	for (int i = 0; i < 3; i++)
		cr_assert_str_eq(after[i], before[i], "file %d changed", i);
	char *beta_now = OK(env, SLIPWAY_BIN, "config", "--shell", "-a", "beta");
	cr_assert_str_eq(beta_now, beta_config);
	char *users = OK(env, SLIPWAY_BIN, "access", "-a", "beta");
	cr_assert_null(strstr(users, "alice"), "%s", users);
	for (int i = 0; i < 3; i++) {
		free(before[i]);
		free(after[i]);
	}
	free(users);
	free(beta_now);
	free(beta_config);
	free(script);
	free(bp);
	free(keys);
	free(beta_access);
	free(beta_cfg);
}

/* A buildpack that prints every file of the buildpacks staged beside it; its directory. */
static char *dumping_buildpack(void)
{
	char *bp = th_path("%s/dump-buildpack", sb);
	char *p = th_path("%s/bin/detect", bp);
	th_write(p, "#!/bin/sh\necho Dump\n", 0755);
	free(p);
	p = th_path("%s/bin/compile", bp);
	th_write(p, "#!/bin/sh\ncd \"$(dirname \"$0\")/../../..\" && find . -type f -exec cat {} +\n",
		 0755);
	free(p);
	return bp;
}

/* The app beta, its code holding a secret, and a secret config var. */
static void beta_with_secrets(void)
{
	free(OK(env, SLIPWAY_BIN, "apps:create", "beta"));
	free(OK(env, SLIPWAY_BIN, "config:set", "SECRET_B=hunter3", "-a", "beta"));
	char *dir = th_path("%s/betasrc", sb);
	char *p = th_path("%s/secret.txt", dir);
	th_write(p, "BETA-CODE-SECRET\n", 0644);
	free(p);
	th_write_hi_app(dir);
	char *beta = th_path("%s/apps/beta.git", root);
	free(OK(env, "git", "-C", dir, "-c", "init.defaultBranch=main", "init", "-q"));
	free(OK(env, "git", "-C", dir, "add", "-A"));
	free(OK(env, "git", "-C", dir, "commit", "-q", "-m", "beta"));
	free(OK(env, "git", "-C", dir, "push", "-q", beta, "main"));
	free(beta);
	free(dir);
}

/* Commits a .buildpacks of the given lines in the pusher's repository. */
static void commit_buildpacks(const char *lines)
{
	char *p = th_path("%s/.buildpacks", src);
	th_write(p, lines, 0644);
	free(p);
	free(OK(env, "git", "add", "-A"));
	free(OK(env, "git", "commit", "-q", "-m", "buildpacks"));
}

static void assert_no_secret(const char *out)
{
	cr_assert_null(strstr(out, "BETA-CODE-SECRET"), "beta's code reached the pusher:\n%s", out);
	cr_assert_null(strstr(out, "hunter3"), "beta's config reached the pusher:\n%s", out);
	cr_assert_null(strstr(out, "SERVER-PRIVATE-KEY"), "the server's key reached the pusher:\n%s",
		       out);
}

/* Alice pushes lines as .buildpacks: refused with one line naming want, nothing released. */
static void buildpacks_push_refused(const char *lines, const char *want)
{
	commit_buildpacks(lines);
	char *before = OK(env, SLIPWAY_BIN, "releases", "--json", "-a", APP);
	struct th_result r = RUN(env_a, "git", "push", "heroku", "main");
	cr_assert_neq(r.status, 0, "push: %s", r.err);
	char *line = th_path("remote:  !     '.buildpacks': buildpack '%s' cannot be used over ssh: "
			     "name a shipped buildpack or an https:// or git:// URL", want);
	cr_assert(strstr(r.err, line), "want '%s' in:\n%s", line, r.err);
	cr_assert_eq(th_count(r.err, "cannot be used"), 1, "%s", r.err);
	cr_assert_null(strstr(r.err, "-----> Cloning"), "%s", r.err);
	assert_no_secret(r.err);
	th_result_free(&r);
	char *after = OK(env, SLIPWAY_BIN, "releases", "--json", "-a", APP);
	cr_assert_str_eq(after, before);
	cr_assert_not(strstr(after, "Deploy"), "%s", after);
	free(line);
	free(after);
	free(before);
}

Test(ssh, a_collaborators_buildpacks_name_no_other_app_and_no_server_file)
{
	beta_with_secrets();
	char *dot_ssh = th_path("%s/.ssh", sb);
	char *p = th_path("%s/id_ed25519", dot_ssh);
	th_write(p, "SERVER-PRIVATE-KEY\n", 0600);
	free(p);
	char *dump = dumping_buildpack();
	char *beta = th_path("%s/apps/beta.git#main", root);
	init_src(url);

	/* alice names beta's repository, the server's ~/.ssh and her own buildpack */
	char *lines = th_path("%s\n%s\n%s\n", beta, dot_ssh, dump);
	buildpacks_push_refused(lines, beta);
	free(lines);
	lines = th_path("%s\n", dot_ssh);
	buildpacks_push_refused(lines, dot_ssh);
	free(lines);
	char *file_url = th_path("file://%s/apps/beta.git", root);
	lines = th_path("heroku/python\n%s\n", file_url);
	buildpacks_push_refused(lines, file_url);
	free(lines);

	/* the same tree pushed by the operator: their buildpacks may be anything, so it reads them */
	lines = th_path("%s\n%s\n%s\n", dump, beta, dot_ssh);
	commit_buildpacks(lines);
	char *local = th_path("%s/apps/%s.git", root, APP);
	struct th_result r = RUN(env, "git", "push", local, "main");
	cr_assert(strstr(r.err, "BETA-CODE-SECRET"), "%s", r.err);
	cr_assert(strstr(r.err, "SERVER-PRIVATE-KEY"), "%s", r.err);
	th_result_free(&r);
	free(local);
	free(lines);
	free(file_url);
	free(beta);
	free(dump);
	free(dot_ssh);
}

/* The app's buildpacks as the operator sees them. */
static char *buildpacks_state(void)
{
	return OK(env, SLIPWAY_BIN, "buildpacks", "-a", APP);
}

static void buildpacks_ssh_ok(const char *command, const char *want_out)
{
	struct th_result r = ssh_as(key_alice, command);
	cr_assert_eq(r.status, 0, "'%s': %s", command, r.err);
	cr_assert(strstr(r.out, want_out), "'%s': want '%s' in:\n%s", command, want_out, r.out);
	th_result_free(&r);
}

#define NOT_OVER_SSH "' cannot be used over ssh: name a shipped buildpack or an https:// or " \
	"git:// URL\n"

Test(ssh, users_set_their_apps_buildpacks_over_ssh_but_name_nothing_of_the_server)
{
	buildpacks_ssh_ok("buildpacks -a " APP, APP " has no Buildpack URL set.\n");
	buildpacks_ssh_ok("buildpacks:set heroku/python -a " APP,
			  "Buildpack set. Next release on " APP " will use:\n  1. heroku/python\n");
	buildpacks_ssh_ok("buildpacks:add https://github.com/heroku/heroku-buildpack-ruby -a " APP,
			  "  2. https://github.com/heroku/heroku-buildpack-ruby\n");
	buildpacks_ssh_ok("buildpacks:add --index 1 git://example.com/bp.git -a " APP,
			  "  1. git://example.com/bp.git\n  2. heroku/python\n");

	/* directories, local repositories and file:// URLs of the server are refused */
	char *cmd = th_path("buildpacks:add %s -a %s", sb, APP);
	char *want = th_path(" !    buildpack '%s" NOT_OVER_SSH, sb);
	refused_ssh_keeping(key_alice, cmd, want, buildpacks_state);
	free(cmd);
	free(want);
	cmd = th_path("buildpacks:set %s/apps/%s.git -a %s", root, APP, APP);
	want = th_path(" !    buildpack '%s/apps/%s.git" NOT_OVER_SSH, root, APP);
	refused_ssh_keeping(key_alice, cmd, want, buildpacks_state);
	free(cmd);
	free(want);
	refused_ssh_keeping(key_alice, "buildpacks:set file:///etc -a " APP,
			    " !    buildpack 'file:///etc" NOT_OVER_SSH, buildpacks_state);

	buildpacks_ssh_ok("buildpacks:remove heroku/python -a " APP, "Buildpack removed.");
	buildpacks_ssh_ok("buildpacks:clear -a " APP, "Buildpacks cleared.");
	buildpacks_ssh_ok("repo:purge-cache -a " APP, "Purging build cache of " APP "... done");
	char *now = buildpacks_state();
	cr_assert_str_eq(now, APP " has no Buildpack URL set.\n");
	free(now);

	/* only on apps the user has access to */
	refused_ssh_keeping(key_bob, "buildpacks:set heroku/python -a " APP, NO_ACCESS,
			    buildpacks_state);
	refused_ssh_keeping(key_bob, "repo:purge-cache -a " APP, NO_ACCESS, buildpacks_state);

	/* the operator may still name a directory of the server */
	free(OK(env, SLIPWAY_BIN, "buildpacks:set", sb, "-a", APP));
	now = buildpacks_state();
	cr_assert(strstr(now, sb), "%s", now);
	free(now);
}

/* Alice pushes a commit whose build leaves processes behind: the push ends, they do not remain. */
static void push_lingerer(int version)
{
	commit_change(version == 1 ? "one" : "two");
	char *sha = OK(env, "git", "rev-parse", "HEAD");
	chomp(sha);
	char *mark = th_path("lingerer-%s", sha);
	struct th_result r = RUN(env_a, "git", "push", "heroku", "main");
	cr_assert_eq(r.status, 0, "push: %s", r.err);
	cr_assert(strstr(r.err, "remote:        left two processes behind"), "%s", r.err);
	char *released = th_path("remote: -----> Released v%d: ", version);
	cr_assert(strstr(r.err, released), "%s", r.err);
	cr_assert_eq(th_processes_with(mark), 0, "processes of the build remain");
	th_result_free(&r);
	free(released);
	free(mark);
	free(sha);
}

Test(ssh, a_build_that_leaves_processes_behind_ends_its_push_over_ssh)
{
	server_config("slipway.compileTimeout", "1h"); /* a hang would outlast the test */
	free(OK(env, SLIPWAY_BIN, "buildpacks:set", TESTS_DIR "/fixtures/buildpacks/lingerer", "-a",
		APP));
	init_src(url);
	push_lingerer(1);
	server_config("slipway.sandbox", "none");
	push_lingerer(2);
}

/* ---- promotion over ssh ---- */

/* The refs of myapp and prod and the files of the slug store: what a refusal leaves alone. */
static char *promote_state(void)
{
	char *gd = th_path("--git-dir=%s/apps/prod.git", root);
	char *prod = OK(env, "git", gd, "for-each-ref", "--format=%(objectname) %(refname)");
	char *store = th_path("%s/store", root);
	char *files = OK(env, "find", store, "-type", "f", "-printf", "%p %s\n");
	char *mine = server_refs();
	char *all = th_path("%s--\n%s--\n%s", mine, prod, files);
	free(gd);
	free(prod);
	free(store);
	free(files);
	free(mine);
	return all;
}

/* refused_ssh, changing neither app nor the store. */
static void promote_refused(const char *key, const char *command, const char *want_err)
{
	refused_ssh_keeping(key, command, want_err, promote_state);
}

Test(ssh, promote_and_deploy_slug_need_access_to_the_apps_and_the_slug)
{
	free(OK(env, SLIPWAY_BIN, "apps:create", "prod"));
	free(OK(env, SLIPWAY_BIN, "access:add", "bob", "-a", "prod"));
	push_v1();
	char *j = OK(env, SLIPWAY_BIN, "releases:info", "v1", "--json", "-a", APP);
	const char *sum = strstr(j, "\"SHA256:");
	cr_assert(sum, "%s", j);
	char *hex = strndup(sum + 8, 64);
	free(j);
	char *deploy = th_path("deploy --slug SHA256:%s -a prod", hex);

	/* bob uses prod only: myapp's slug is not his to see, nor myapp to promote */
	char *msg = th_path(" !    no release of an app you have access to uses slug %.12s\n", hex);
	promote_refused(key_bob, deploy, msg);
	free(msg);
	promote_refused(key_bob, "releases:promote -a " APP " --to prod", NO_ACCESS);
	promote_refused(key_bob, "pipelines:promote -a " APP " --to prod", NO_ACCESS);
	/* alice uses myapp only: prod is not hers to release on */
	promote_refused(key_alice, "releases:promote -a " APP " --to prod",
			" !    You do not have access to the app prod.\n");
	promote_refused(key_alice, "releases:promote -a " APP " --to nope",
			" !    app 'nope' does not exist (create it with: slipway apps:create nope)\n");
	promote_refused(key_alice, deploy, " !    You do not have access to the app prod.\n");

	/* given prod, alice promotes: the release is hers */
	free(OK(env, SLIPWAY_BIN, "access:add", "alice@example.com", "-a", "prod"));
	struct th_result r = ssh_as(key_alice, "releases:promote -a " APP " --to prod");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Promoting " APP " to prod... done, v1 "
			 "(not running: the server's runtime is stopped; ask its operator to start it)\n");
	th_result_free(&r);
	char *info = OK(env, SLIPWAY_BIN, "releases:info", "v1", "-a", "prod");
	cr_assert(strstr(info, "\nChange:    Promote " APP " v1 ("), "%s", info);
	cr_assert(strstr(info, "\nBy:        alice@example.com\n"), "%s", info);
	free(info);

	/* now prod uses the slug: bob may deploy it, and --json answers with the release */
	char *deploy_json = th_path("%s --json", deploy);
	r = ssh_as(key_bob, deploy_json);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(!strncmp(r.out, "{\"version\":2,", 13), "%s", r.out);
	msg = th_path("\"description\":\"Deploy slug %.12s\"", hex);
	cr_assert(strstr(r.out, msg), "%s", r.out);
	cr_assert(strstr(r.out, "\"user\":{\"email\":\"bob\"}"), "%s", r.out);
	free(msg);
	th_result_free(&r);
	free(deploy_json);
	free(deploy);
	free(hex);
}
