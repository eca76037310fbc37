/*
 * exec/sandbox sandbox_addons(): what a release's attachments add to the
 * sandbox's command line - each add-on's socket directory bound writable
 * at /run/addons/<alias in lower case>, its port for the network's
 * forwarder; an add-on that no longer exists left out, so its app still
 * starts; more than SANDBOX_ADDONS_MAX refused with one line and nothing
 * added; nothing at all with the sandbox off.  (What the app then reaches
 * is tests/runtime/test_addon_app.c's and tests/integration/test_addon_net.c's.)
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include "exec/sandbox.h"
#include "store/addons.h"
#include "store/attach.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *root;

static void setup(void)
{
	root = th_sandbox();
	char *top = paths_addons_dir(root);
	cr_assert_eq(mkdir(top, 0755), 0);
	free(top);
}

static void teardown(void)
{
	th_keep_free();
	th_sandbox_free(root);
}

TestSuite(sandbox_addons, .init = setup, .fini = teardown);

/* An add-on's record on port, with its socket directory. */
static void make_addon(const char *name, int port)
{
	struct addon a = ADDON_INIT;
	snprintf(a.name, sizeof(a.name), "%s", name);
	snprintf(a.kind, sizeof(a.kind), "postgresql");
	a.port = port;
	a.major = 15;
	char *dir = paths_addon_dir(root, name), *run = paths_addon_file(root, name, "run");
	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_assert_eq(mkdir(run, 0755), 0);
	cr_assert_eq(addon_write(root, &a), 0, "%s", sw_error_last());
	free(dir);
	free(run);
}

/* bwrap's command line for sb, as one string with its words separated by spaces. */
static char *command_of(const struct sandbox *sb)
{
	const char *argv[] = { "/bin/true", NULL };
	struct strvec v = STRVEC_INIT;
	struct buf b = BUF_INIT;
	sandbox_command(sb, argv, NULL, -1, &v);
	for (size_t i = 0; i < v.n; i++)
		buf_addf(&b, " %s", v.v[i]);
	strvec_clear(&v);
	return th_keep(buf_detach(&b));
}

Test(sandbox_addons, each_socket_directory_at_its_alias_and_its_port_a_gone_one_left_out)
{
	struct attachments at = ATTACHMENTS_INIT;
	make_addon("postgresql-amber-1234", 30001);
	make_addon("redis-blue-55", 30002);
	cr_assert_eq(attach_add(&at, "DATABASE", "postgresql-amber-1234", NULL), 0);
	cr_assert_eq(attach_add(&at, "HEROKU_REDIS_RED", "redis-blue-55", NULL), 0);
	cr_assert_eq(attach_add(&at, "OLD", "postgresql-gone-1", NULL), 0);
	struct sandbox sb = SANDBOX_INIT;
	sb.use = SANDBOX_RUN;
	cr_assert_eq(sandbox_addons(&sb, root, &at), 0, "%s", sw_error_last());

	char *cmd = command_of(&sb);
	char *db = th_keep(th_path(" --bind %s/addons/postgresql-amber-1234/run /run/addons/database ",
				   root));
	char *redis = th_keep(th_path(" --bind %s/addons/redis-blue-55/run "
				      "/run/addons/heroku_redis_red ", root));
	cr_assert(strstr(cmd, db), "%s", cmd);
	cr_assert(strstr(cmd, redis), "%s", cmd);
	cr_assert_null(strstr(cmd, "gone"), "%s", cmd);
	cr_assert_null(strstr(cmd, "credentials"), "%s", cmd);
	cr_assert_eq(sb.host_ports[0], 30001);
	cr_assert_eq(sb.host_ports[1], 30002);
	cr_assert_eq(sb.host_ports[2], 0);
	sandbox_release(&sb);
	cr_assert_eq(sb.host_ports[0], 0);

	/* unsandboxed, the process sees the host as it is: nothing to add */
	sb = (struct sandbox)SANDBOX_INIT;
	sb.use = SANDBOX_RUN;
	sb.off = 1;
	cr_assert_eq(sandbox_addons(&sb, root, &at), 0);
	cr_assert_eq(sb.n, 0);
	cr_assert_eq(sb.host_ports[0], 0);
	attach_release(&at);
}

Test(sandbox_addons, more_than_the_most_is_refused_and_adds_nothing)
{
	struct attachments at = ATTACHMENTS_INIT;
	make_addon("postgresql-amber-1234", 30001);
	for (int i = 0; i <= SANDBOX_ADDONS_MAX; i++) {
		char alias[32];
		snprintf(alias, sizeof(alias), "DB%d", i);
		cr_assert_eq(attach_add(&at, alias, "postgresql-amber-1234", NULL), 0);
	}
	struct sandbox sb = SANDBOX_INIT;
	sb.use = SANDBOX_RUN;
	cr_assert_eq(sandbox_addons(&sb, root, &at), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "cannot start the sandbox: 17 add-ons are attached, at "
					  "most 16 are reachable (detach some with: slipway "
					  "addons:detach)");
	cr_assert_eq(sb.n, 0);
	cr_assert_eq(sb.host_ports[0], 0);
	attach_release(&at);
	sandbox_release(&sb);
}
