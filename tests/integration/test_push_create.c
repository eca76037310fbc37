/*
 * Push-to-create over a real OpenSSH server on 127.0.0.1, with real s6 and
 * nginx: a user the operator lets create apps (slipway.sshAppsCreate, or
 * the user's own right in slipway.sshAppsCreators) pushes to an app that
 * does not exist and that push creates and deploys it; a user who may not, a user at their limit, or a name that is not an
 * app's is refused with one line and nothing is created.
 */
#define _GNU_SOURCE
#include "tests/integration/runtime_helpers.h"
#include "tests/integration/sshd.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define APP "pc"

static struct app_sandbox sb;
static pid_t svscan = -1, sshd = -1;
static char *user, *key, *ssh_env;
static int port;

#define sw(...) SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, __VA_ARGS__)
#define ok(...) SANDBOX_OK(&sb, NULL, __VA_ARGS__)

/* git config --global of the server's user (HOME is the sandbox for sshd's sessions too). */
static void server_config(const char *k, const char *v)
{
	free(ok("git", "config", "--global", k, v));
}

static void setup(void)
{
	th_sshd_require();
	rt_setup(&sb, APP, RT_ROUTER, rt_version_server_py, NULL);
	char *keys = th_path("SLIPWAY_AUTHORIZED_KEYS=%s/authorized_keys", sb.dir);
	app_sandbox_setenv(&sb, keys);
	free(keys);
	key = th_keygen_in(sb.dir, "alice", "alice@laptop");
	char *pub = th_path("%s.pub", key);
	free(ok(SLIPWAY_BIN, "keys:add", "alice", pub));
	free(pub);
	/* sessions over ssh get none of the operator's variables: the router's port as settings */
	char hp[16], range[32] = "";
	snprintf(hp, sizeof(hp), "%d", sb.http_port);
	for (size_t i = 0; i < sb.nenv; i++)
		if (!strncmp(sb.env[i], "SLIPWAY_PORT_RANGE=", 19))
			snprintf(range, sizeof(range), "%s", sb.env[i] + 19);
	server_config("slipway.httpPort", hp);
	server_config("slipway.httpAddress", "127.0.0.1");
	if (range[0])
		server_config("slipway.portRange", range);
	user = th_sshd_user();
	port = th_free_port();
	ssh_env = th_path("GIT_SSH_COMMAND=ssh -F /dev/null -i %s -p %d -o StrictHostKeyChecking=no "
			  "-o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o BatchMode=yes "
			  "-o LogLevel=ERROR", key, port);
	app_sandbox_setenv(&sb, ssh_env);
	sshd = th_sshd_start(sb.dir, port, user);
}

static void teardown(void)
{
	rt_stop(&sb, &svscan);
	th_sshd_stop(&sshd);
	app_sandbox_release(&sb);
	free(user);
	free(key);
	free(ssh_env);
	user = key = ssh_env = NULL;
}

TestSuite(push_create, .init = setup, .fini = teardown, .timeout = 240);

/* The pusher's remote "heroku" set to the ssh URL of path ("newapp.git"). */
static void remote_to(const char *path)
{
	char *url = th_path("ssh://%s@127.0.0.1:%d/%s", user, port, path);
	free(ok("git", "remote", "set-url", "heroku", url));
	free(url);
}

/* `ssh HOST COMMAND` as alice. */
static struct th_result ssh_run(const char *command)
{
	char p[16];
	snprintf(p, sizeof(p), "%d", port);
	char *login = th_path("%s@127.0.0.1", user);
	struct th_result r = SANDBOX_RUN(&sb, NULL, "ssh", "-F", "/dev/null", "-T", "-i", key,
					 "-p", p, "-o", "StrictHostKeyChecking=no",
					 "-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes",
					 "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", login, command);
	free(login);
	return r;
}

/* The body the router serves for host, waited for up to about 20 s. */
static char *served(const char *host, const char *want)
{
	char *body = NULL;
	for (int i = 0; i < 200; i++) {
		free(body);
		body = rt_page(&sb, host);
		if (body && !strcmp(body, want))
			break;
		rt_pause_ms(100);
	}
	return body;
}

/* The names under <root>/apps, one a line (what a refusal must leave as it was). */
static char *apps_dir(void)
{
	char *dir = th_path("%s/apps", sb.root);
	char *ls = ok("ls", "-A", dir);
	free(dir);
	return ls;
}

Test(push_create, a_push_to_a_new_app_creates_and_deploys_it)
{
	server_config("slipway.sshAppsCreate", "allowed");
	svscan = rt_start(&sb);
	remote_to("newapp.git");
	struct th_result r = SANDBOX_RUN(&sb, NULL, "git", "push", "heroku", "main");
	cr_assert_eq(r.status, 0, "%s", r.err);
	/* the app is made before git receives anything, then the build and release follow */
	cr_assert(!strncmp(r.err, "-----> Creating newapp... done\n", 31), "%s", r.err);
	cr_assert_eq(th_count(r.err, "Creating newapp"), 1, "%s", r.err);
	const char *rel = strstr(r.err, "remote: -----> Released v1: Deploy ");
	cr_assert(rel, "%s", r.err);
	cr_assert(strstr(r.err, " * [new branch]      main -> main\n"), "%s", r.err);
	th_result_free(&r);

	/* alice created it: it is hers, and listed */
	r = ssh_run("apps");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "=== Apps\nnewapp\n");
	th_result_free(&r);
	/* its git URL names sshd's port, which is not 22 */
	r = ssh_run("apps:info -a newapp");
	cr_assert_eq(r.status, 0, "%s", r.err);
	char *want = th_path("=== newapp\nGit URL:     ssh://%s@127.0.0.1:%d/newapp.git\n", user, port);
	cr_assert(!strncmp(r.out, want, strlen(want)), "%s\nwant: %s", r.out, want);
	free(want);
	th_result_free(&r);
	char *out = ok(SLIPWAY_BIN, "access", "-a", "newapp");
	cr_assert_str_eq(out, "=== newapp Access\nalice\n");
	free(out);
	out = ok(SLIPWAY_BIN, "apps");
	cr_assert_str_eq(out, "=== Apps\nnewapp\n" APP "\n");
	free(out);

	/* and the router serves it */
	char *body = served("newapp.localhost", "one\n");
	cr_assert(body && !strcmp(body, "one\n"), "%s", body ? body : "(no answer)");
	free(body);

	/* the next push deploys as any push does: nothing is created again */
	app_sandbox_write(&sb, "version", "two\n", 0644);
	free(ok("git", "commit", "-qam", "two"));
	r = SANDBOX_RUN(&sb, NULL, "git", "push", "heroku", "main");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_null(strstr(r.err, "Creating"), "%s", r.err);
	cr_assert(strstr(r.err, "remote: -----> Released v2: Deploy "), "%s", r.err);
	th_result_free(&r);
	body = served("newapp.localhost", "two\n");
	cr_assert(body && !strcmp(body, "two\n"), "%s", body ? body : "(no answer)");
	free(body);
}

/*
 * A push to path refused: git fails, the pusher sees line, and neither the
 * apps nor anything under <root>/apps changed.
 */
static void push_refused(const char *path, const char *line)
{
	char *before = apps_dir(), *apps_before = ok(SLIPWAY_BIN, "apps");
	remote_to(path);
	struct th_result r = SANDBOX_RUN(&sb, NULL, "git", "push", "heroku", "main");
	cr_assert_eq(r.status, 128, "'%s': exit %d: %s", path, r.status, r.err);
	cr_assert(!strncmp(r.err, line, strlen(line)), "'%s': %s\nwant: %s", path, r.err, line);
	cr_assert(strstr(r.err, "\nfatal: Could not read from remote repository."), "%s", r.err);
	cr_assert_null(strstr(r.err, "Creating"), "%s", r.err);
	th_result_free(&r);
	/* ssh's own exit status: 1, a refusal */
	char *cmd = th_path("git-receive-pack '/%s'", path); /* what git sends for ssh:// URLs */
	r = ssh_run(cmd);
	cr_assert_eq(r.status, 1, "%s: exit %d: %s", cmd, r.status, r.err);
	cr_assert_str_eq(r.err, line);
	th_result_free(&r);
	free(cmd);
	char *after = apps_dir(), *apps_after = ok(SLIPWAY_BIN, "apps");
	cr_assert_str_eq(after, before, "'%s' left something in the apps directory", path);
	cr_assert_str_eq(apps_after, apps_before);
	free(after);
	free(before);
	free(apps_after);
	free(apps_before);
}

Test(push_create, a_push_to_a_new_app_is_refused_unless_the_user_may_create_it)
{
	/* by default nobody may: the refusal of a push to any missing app */
	push_refused("newapp.git", " !    app 'newapp' does not exist "
				   "(create it with: slipway apps:create newapp)\n");
	server_config("slipway.sshAppsCreate", "denied");
	push_refused("newapp.git", " !    app 'newapp' does not exist "
				   "(create it with: slipway apps:create newapp)\n");
	/* a mistyped value says where it is */
	server_config("slipway.sshAppsCreate", "yes");
	push_refused("newapp.git", " !    git config slipway.sshAppsCreate: invalid value 'yes': use "
				   "allowed, denied or how many apps each user may create (0 to 100000)\n");

	/* allowed: a name that is not an app's is refused before anything is made */
	server_config("slipway.sshAppsCreate", "allowed");
	push_refused("New_App.git", " !    refused: '/New_App.git' is not an app repository "
				    "(use APP.git, for example myapp.git)\n");
	push_refused("../x.git", " !    refused: '/../x.git' is not an app repository "
				 "(use APP.git, for example myapp.git)\n");
	/* an app that exists is not hers: no access, as before */
	push_refused(APP ".git", " !    You do not have access to the app " APP ".\n");

	/* fetching a missing app creates nothing */
	char *before = apps_dir();
	char *url = th_path("ssh://%s@127.0.0.1:%d/other.git", user, port);
	char *dst = th_path("%s/clone", sb.dir);
	struct th_result r = SANDBOX_RUN(&sb, NULL, "git", "clone", "-q", url, dst);
	cr_assert_eq(r.status, 128, "%s", r.err);
	cr_assert(!strncmp(r.err, " !    app 'other' does not exist", 32), "%s", r.err);
	th_result_free(&r);
	char *after = apps_dir();
	cr_assert_str_eq(after, before);
	free(after);
	free(before);
	free(dst);
	free(url);
}

Test(push_create, a_user_given_the_right_creates_apps_by_push_whatever_the_server_says)
{
	/* the right is bob's, not alice's: her push is refused as any push to a missing app */
	free(ok("git", "config", "--global", "--add", "slipway.sshAppsCreators", "bob"));
	push_refused("newapp.git", " !    app 'newapp' does not exist "
				   "(create it with: slipway apps:create newapp)\n");
	/* given it too, she creates by push, though slipway.sshAppsCreate says denied */
	free(ok("git", "config", "--global", "--add", "slipway.sshAppsCreators", "alice"));
	server_config("slipway.sshAppsCreate", "denied");
	svscan = rt_start(&sb);
	remote_to("newapp.git");
	struct th_result r = SANDBOX_RUN(&sb, NULL, "git", "push", "heroku", "main");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(!strncmp(r.err, "-----> Creating newapp... done\n", 31), "%s", r.err);
	cr_assert(strstr(r.err, "remote: -----> Released v1: Deploy "), "%s", r.err);
	th_result_free(&r);
	char *out = ok(SLIPWAY_BIN, "access", "-a", "newapp");
	cr_assert_str_eq(out, "=== newapp Access\nalice\n");
	free(out);
	char *body = served("newapp.localhost", "one\n");
	cr_assert(body && !strcmp(body, "one\n"), "%s", body ? body : "(no answer)");
	free(body);
	/* and with no limit: a limit of 1 does not stop her second */
	server_config("slipway.sshAppsCreate", "1");
	remote_to("second.git");
	r = SANDBOX_RUN(&sb, NULL, "git", "push", "heroku", "main");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(!strncmp(r.err, "-----> Creating second... done\n", 31), "%s", r.err);
	th_result_free(&r);
}

Test(push_create, a_push_to_a_new_app_counts_toward_the_users_limit)
{
	server_config("slipway.sshAppsCreate", "1");
	remote_to("first.git");
	struct th_result r = SANDBOX_RUN(&sb, NULL, "git", "push", "heroku", "main");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(!strncmp(r.err, "-----> Creating first... done\n", 30), "%s", r.err);
	th_result_free(&r);
	push_refused("second.git", " !    You have reached the limit of 1 app you may create on "
				   "this server (first). Ask its operator for more.\n");
	/* apps:create over ssh counts the same apps */
	r = ssh_run("apps:create third");
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert_str_eq(r.err, " !    You have reached the limit of 1 app you may create on "
				"this server (first). Ask its operator for more.\n");
	th_result_free(&r);
}
