/*
 * hooks/commands: the command table - what a remote user may run over ssh,
 * and options that do not clash.
 */
#include "cli/cli.h"

#include <criterion/criterion.h>
#include <string.h>

Test(commands, remote_users_may_run_only_these)
{
	static const char *const ok[] = { "apps", "apps:create", "releases", "releases:info",
					  "releases:output", "releases:diff",
					  "rollback", "config", "config:get",
					  "config:set", "config:unset", "slugs:info",
					  "slugs:contents", "ps", "ps:scale", "ps:restart",
					  "restart", "logs", "run", "maintenance",
					  "maintenance:on", "maintenance:off", "open", "domains",
					  "domains:add", "domains:remove", "apps:info",
					  "releases:rollback", "config:add", "config:remove", "help",
					  "releases:retry", "builds", "builds:output",
					  "releases:promote", "pipelines:promote", "deploy",
					  "buildpacks", "buildpacks:add", "buildpacks:set",
					  "buildpacks:remove", "buildpacks:clear", "repo:purge-cache",
					  "repo:purge_cache", "addons", "addons:create", "addons:info",
					  "addons:attach", "addons:detach", "addons:destroy",
					  "pg:psql", "pg:info", "redis:cli", "redis:info",
					  "pg:backups", "pg:backups:capture", "pg:backups:restore",
					  "pg:backups:download", "pg:backups:info",
					  "dashboard:login", "dashboard:logout", "settings:set",
					  "settings:unset", "pg:credentials:rotate", "redis:credentials",
					  "certs", "certs:add", "certs:auto", "certs:auto:enable",
					  "certs:auto:disable", "certs:auto:refresh", "certs:hsts",
					  "certs:info", "certs:remove", NULL };
	for (size_t i = 0; ok[i]; i++)
		cr_assert(cli_remote_allowed(ok[i]), "%s", ok[i]);
	size_t n = 0;
	for (const struct cmd *c = cli_commands; c->name; c++)
		n += (c->flags & CMD_REMOTE) != 0;
	cr_assert_eq(n, sizeof(ok) / sizeof(*ok) - 1, "more commands allowed over ssh than these");

	static const char *const refused[] = { "shell", "keys", "keys:add", "keys:remove",
					       "access", "access:add", "access:remove",
					       "apps:destroy", "slugs:extract", "fsck", "gc", "settings",
					       "dashboard:run", "touch", "sh",
					       "releases;touch", "git-upload-archive", "", NULL };
	for (size_t i = 0; refused[i]; i++)
		cr_assert(!cli_remote_allowed(refused[i]), "%s", refused[i]);
}

Test(commands, only_what_remote_users_may_run_is_sent_to_a_server)
{
	for (const struct cmd *c = cli_commands; c->name; c++) {
		int want = (c->flags & CMD_REMOTE) && strcmp(c->name, "help");
		cr_assert_eq(cli_forwarded(c), want, "%s", c->name);
	}
}

/* The same option twice in one command would be silently shadowed. */
static void no_clash(const char *cmd, const struct opt *o, const struct opt *other)
{
	if (o == other)
		return;
	if (o->short_name)
		cr_assert_neq(o->short_name, other->short_name, "%s: -%c twice", cmd, o->short_name);
	if (o->long_name && other->long_name)
		cr_assert_str_neq(o->long_name, other->long_name, "%s: --%s twice", cmd,
				  o->long_name);
}

Test(commands, options_are_unique_and_documented)
{
	static const struct opt shared[] = {
		{ .kind = OPT_KIND_STRING, .short_name = 'a', .long_name = "app" },
		{ .kind = OPT_KIND_STRING, .short_name = 'r', .long_name = "remote" },
		{ .kind = OPT_KIND_STRING, .long_name = "root" },
		{ .kind = OPT_KIND_FLAG, .short_name = 'h', .long_name = "help" },
		OPT_END,
	};
	for (const struct cmd *c = cli_commands; c->name; c++) {
		cr_assert(c->fn && c->synopsis && c->help && *c->help, "%s", c->name);
		cr_assert(c->max_args < 0 || c->max_args >= c->min_args, "%s", c->name);
		for (const struct opt *o = c->opts; o && o->kind != OPT_KIND_END; o++) {
			cr_assert(o->help && *o->help, "%s: an option without help", c->name);
			cr_assert(o->kind == OPT_KIND_FLAG || o->value_name, "%s", c->name);
			for (const struct opt *p = c->opts; p->kind != OPT_KIND_END; p++)
				no_clash(c->name, o, p);
			for (const struct opt *p = shared; p->kind != OPT_KIND_END; p++)
				no_clash(c->name, o, p);
		}
	}
}

/*
 * The dispatcher allocates the struct a command's own options store into
 * from the size its array ends with: every option must fit in it.
 */
Test(commands, own_options_fit_the_struct_they_store_into)
{
	for (const struct cmd *c = cli_commands; c->name; c++) {
		if (!c->opts)
			continue;
		size_t size = opt_size(c->opts);
		cr_assert_gt(size, 0, "%s: its options end with OPT_END, not OPT_END_OF()", c->name);
		for (const struct opt *o = c->opts; o->kind != OPT_KIND_END; o++) {
			size_t len = o->kind == OPT_KIND_STRING ? sizeof(const char *) : sizeof(int);
			cr_assert_leq(o->offset + len, size, "%s: --%s is outside its struct", c->name,
				      o->long_name);
		}
	}
}
