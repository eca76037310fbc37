/*
 * The keys, access and shell commands as the operator runs them (no sshd:
 * test_ssh.c goes through a real one): what they print, what they write,
 * and that every refusal says why, exits non-zero and changes nothing.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define APP "myapp"

static char *sb, *root, *keys, *pub, *env_root, *env_keys, *env_home;
static const char *env[8];

static void setup(void)
{
	sb = th_sandbox();
	root = th_path("%s/root", sb);
	keys = th_path("%s/authorized_keys", sb);
	env_root = th_path("SLIPWAY_ROOT=%s", root);
	env_keys = th_path("SLIPWAY_AUTHORIZED_KEYS=%s", keys);
	env_home = th_path("HOME=%s", sb);
	env[0] = env_root;
	env[1] = env_keys;
	env[2] = env_home;
	env[3] = "LC_ALL=C";
	env[4] = NULL;
	char *k = th_path("%s/id", sb);
	struct th_result r = th_runv(NULL, NULL, "ssh-keygen", "-q", "-t", "ed25519", "-N", "",
				     "-C", "me@laptop", "-f", k, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	pub = th_path("%s.pub", k);
	free(k);
}

static void teardown(void)
{
	th_sandbox_free(sb);
	free(root);
	free(keys);
	free(pub);
	free(env_root);
	free(env_keys);
	free(env_home);
}

TestSuite(keys_cli, .init = setup, .fini = teardown, .timeout = 60);

#define sw(...) th_run(sb, env, NULL, (const char *const[]){ SLIPWAY_BIN, __VA_ARGS__, NULL })
#define sw_in(input, ...) \
	th_run(sb, env, input, (const char *const[]){ SLIPWAY_BIN, __VA_ARGS__, NULL })

static void ok(struct th_result r, const char *want_out)
{
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	if (want_out)
		cr_assert_str_eq(r.out, want_out);
	th_result_free(&r);
}

/* A refusal: exit status, the exact stderr, nothing on stdout, the keys file unchanged. */
static void refused(struct th_result r, int status, const char *want_err, const char *keys_before)
{
	cr_assert_eq(r.status, status, "exit %d: %s", r.status, r.err);
	cr_assert_str_eq(r.out, "");
	if (want_err)
		cr_assert_str_eq(r.err, want_err);
	th_result_free(&r);
	char *now = th_read(keys, NULL);
	if (keys_before)
		cr_assert_str_eq(now, keys_before);
	else
		cr_assert_null(now);
	free(now);
}

static char *fingerprint(void)
{
	struct th_result r = th_runv(NULL, NULL, "ssh-keygen", "-l", "-f", pub, NULL);
	cr_assert_eq(r.status, 0);
	char *sp = strchr(r.out, ' ');
	char *fp = strndup(sp + 1, strcspn(sp + 1, " "));
	th_result_free(&r);
	return fp;
}

Test(keys_cli, add_list_remove)
{
	char *fp = fingerprint();
	char *want = th_path("No keys in %s. Add one with: slipway keys:add USER KEYFILE\n", keys);
	ok(sw("keys"), want);
	free(want);

	want = th_path("Adding ssh-ed25519 key %s for alice@example.com... done\n", fp);
	ok(sw("keys:add", "alice@example.com", pub), want);
	free(want);
	char *line = th_read(keys, NULL);
	char *bin = realpath(SLIPWAY_BIN, NULL);
	want = th_path("restrict,pty,command=\"%s --root %s shell alice@example.com\" ssh-ed25519 ",
		       bin, root);
	cr_assert(!strncmp(line, want, strlen(want)), "%s\nwant: %s", line, want);
	free(want);
	free(bin);

	want = th_path("=== Keys\nalice@example.com ssh-ed25519 %s me@laptop\n", fp);
	ok(sw("keys"), want);
	free(want);

	/* the same key for someone else; a bad user; a bad key: refused, file unchanged */
	refused(sw("keys:add", "bob", pub), 1,
		" !    this key is already installed for user 'alice@example.com' (remove it with: "
		"slipway keys:remove alice@example.com)\n", line);
	refused(sw("keys:add", "bob;rm", pub), 1,
		" !    invalid user name 'bob;rm': use 1 to 64 letters, digits and '._@+-', "
		"starting with a letter or digit\n", line);
	/* the names of Slipway's own releases' makers: such a user's releases would pass for its */
	refused(sw("keys:add", "slipway", pub), 1,
		" !    the user name 'slipway' is Slipway's own (its releases would be taken for "
		"Slipway's): choose another\n", line);
	refused(sw("keys:add", "control", pub), 1,
		" !    the user name 'control' is Slipway's own (its releases would be taken for "
		"Slipway's): choose another\n", line);
	refused(sw_in("ssh-ed25519 notbase64!\n", "keys:add", "bob", "-"), 1,
		" !    invalid ssh-ed25519 key: its data is not a ssh-ed25519 public key\n", line);
	refused(sw_in("command=\"sh\" ssh-ed25519 AAAA\n", "keys:add", "bob"), 1,
		" !    not a public key: it must start with its type, for example ssh-ed25519 "
		"(give the .pub file)\n", line);
	refused(sw("keys:add"), 2, NULL, line);
	refused(sw("keys:remove", "bob"), 1, " !    user 'bob' has no keys (see: slipway keys)\n",
		line);

	ok(sw("keys:remove", "alice@example.com"),
	   "Removing the keys of alice@example.com... done, 1 removed\n");
	char *after = th_read(keys, NULL);
	cr_assert_str_eq(after, "");
	free(after);

	/* from stdin */
	char *text = th_read(pub, NULL);
	want = th_path("Adding ssh-ed25519 key %s for bob... done\n", fp);
	ok(sw_in(text, "keys:add", "bob", "-"), want);
	free(want);
	free(text);
	free(line);
	free(fp);
}

Test(keys_cli, access_add_list_remove)
{
	ok(sw("apps:create", APP), NULL);
	ok(sw("access", "-a", APP),
	   APP " has no collaborators. Add one with: slipway access:add USER -a " APP "\n");
	ok(sw("access:add", "bob", "-a", APP), "Adding bob to " APP " collaborators... done\n");
	ok(sw("access:add", "alice", "-a", APP), NULL);
	ok(sw("access", "-a", APP), "=== " APP " Access\nalice\nbob\n");
	char *file = th_path("%s/apps/" APP ".git/slipway-access", root);
	char *before = th_read(file, NULL);
	cr_assert_str_eq(before, "alice\nbob\n");

	struct th_result r = sw("access:add", "bob", "-a", APP);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, " !    user 'bob' already has access to '" APP "'\n");
	th_result_free(&r);
	r = sw("access:add", "-x", "-a", APP);
	cr_assert_eq(r.status, 2);
	th_result_free(&r);
	r = sw("access:add", "a b", "-a", APP);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "invalid user name 'a b'"), "%s", r.err);
	th_result_free(&r);
	r = sw("access:remove", "carol", "-a", APP);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, " !    user 'carol' does not have access to '" APP
				"' (see: slipway access -a " APP ")\n");
	th_result_free(&r);
	r = sw("access:add", "carol", "-a", "nope");
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, " !    app 'nope' does not exist (create it with: slipway apps:create nope)\n");
	th_result_free(&r);
	char *after = th_read(file, NULL);
	cr_assert_str_eq(after, before);
	free(after);

	ok(sw("access:remove", "bob", "-a", APP), "Removing bob from " APP " collaborators... done\n");
	ok(sw("access", "-a", APP), "=== " APP " Access\nalice\n");
	free(before);
	free(file);
}

/* The shell without sshd: SSH_ORIGINAL_COMMAND from the environment. */
static struct th_result shell(const char *user, const char *command)
{
	char *cmd = command ? th_path("SSH_ORIGINAL_COMMAND=%s", command) : NULL;
	const char *e[] = { env_root, env_home, "LC_ALL=C", cmd, NULL };
	struct th_result r = th_run(sb, e, NULL, (const char *const[]){ SLIPWAY_BIN, "--root", root,
		"shell", user, NULL });
	free(cmd);
	return r;
}

Test(keys_cli, shell_runs_allowed_commands_and_refuses_the_rest)
{
	ok(sw("apps:create", APP), NULL);
	ok(sw("access:add", "alice", "-a", APP), NULL);
	struct th_result r = shell("alice", "config:set A=1 -a " APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Setting A and restarting " APP "... done, v1\nA: 1\n");
	th_result_free(&r);
	r = sw("releases:info", "v1", "-a", APP);
	cr_assert(strstr(r.out, "\nBy:        alice\n"), "%s", r.out);
	th_result_free(&r);

	r = shell("bob", "config:set A=2 -a " APP);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.out, "");
	cr_assert_str_eq(r.err, " !    You do not have access to the app " APP ".\n");
	th_result_free(&r);
	r = shell("bob", "git-receive-pack '" APP ".git'");
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, " !    You do not have access to the app " APP ".\n");
	th_result_free(&r);
	r = shell("alice", "git-receive-pack 'other.git'");
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, " !    app 'other' does not exist (create it with: slipway apps:create other)\n");
	th_result_free(&r);
	r = shell("alice", NULL);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, " !    refused: slipway has no interactive shell (push with git, or run: ssh HOST help)\n");
	th_result_free(&r);
	r = shell("alice", "keys");
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, " !    refused: 'keys' is not a command you can run here (run: ssh HOST help)\n");
	th_result_free(&r);
	r = shell("-rf", "apps");
	cr_assert_eq(r.status, 2); /* "-rf" is an option, not a user */
	th_result_free(&r);
	r = shell("a;b", "apps");
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "invalid user name 'a;b'"), "%s", r.err);
	th_result_free(&r);

	/* a remote user marker in the environment limits the command line itself */
	const char *e[] = { env_root, env_keys, env_home, "SLIPWAY_SHELL_USER=bob", NULL };
	r = th_run(sb, e, NULL, (const char *const[]){ SLIPWAY_BIN, "keys:add", "bob", pub, NULL });
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, " !    'keys:add' cannot be run over ssh: ask the server's operator\n");
	th_result_free(&r);
	cr_assert_neq(access(keys, F_OK), 0);
	r = sw("releases", "-a", APP);
	cr_assert_eq(th_count(r.out, "v1 "), 1, "%s", r.out);
	th_result_free(&r);
}
