/*
 * The run hosts of a control: hosts, hosts:add, hosts:remove; hosts:allow
 * on a run host, and node-agent, what its authorized_keys forces.
 */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"

#include "access/keys.h"
#include "release/agent.h"
#include "runtime/nodes.h"
#include "runtime/router.h"
#include "store/app.h"
#include "store/appctx.h"
#include "store/apphosts.h"
#include "store/hosts.h"
#include "util/error.h"
#include "util/json.h"
#include "util/say.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SLIPWAY_VERSION
#define SLIPWAY_VERSION "unknown"
#endif

int cmd_hosts(struct cli *c)
{
	struct host_rec *v = NULL;
	size_t n = 0, width = strlen(HOST_LOCAL), uwidth = strlen("this server");
	if (hosts_read(c->root, &v, &n) < 0)
		return cli_fail();
	for (size_t i = 0; i < n; i++) {
		if (strlen(v[i].name) > width)
			width = strlen(v[i].name);
		if (strlen(v[i].url) > uwidth)
			uwidth = strlen(v[i].url);
	}
	printf("=== Hosts\n");
	printf("%-*s  %-*s  %-11s  %s\n", (int)width, HOST_LOCAL, (int)uwidth, "this server", "up",
	       SLIPWAY_VERSION);
	for (size_t i = 0; i < n; i++) {
		struct node_hello h = NODE_HELLO_INIT;
		int up = node_ping(c->root, &v[i], &h) == 0;
		printf("%-*s  %-*s  %-11s  %s\n", (int)width, v[i].name, (int)uwidth, v[i].url,
		       up ? "up" : "unreachable", up ? h.version : v[i].version);
		node_hello_release(&h);
	}
	if (!n)
		printf("No run hosts yet. Add one with: slipway hosts:add NAME ssh://slipway@ADDRESS\n");
	hosts_free(v, n);
	return 0;
}

/*
 * Points the router of each app that host serves (NULL: every app) at its
 * hosts as they are now, or (drain) without host, each under the app's
 * lock.  The first failure is returned, after the other apps had theirs.
 */
static int fronts_switch(const char *root, const char *host, int drain)
{
	struct strvec apps = STRVEC_INIT;
	int err = app_list(root, &apps), first = 0;
	for (size_t i = 0; !err && i < apps.n; i++) {
		struct app_ctx ctx = APP_CTX_INIT;
		if (host && !apphosts_has(root, apps.v[i], host))
			continue;
		int e = app_ctx_open(&ctx, root, apps.v[i], APP_CTX_WRITE);
		if (!e)
			e = drain ? router_switch_without(root, apps.v[i], host)
				  : router_switch(root, apps.v[i], NULL, NULL);
		app_ctx_release(&ctx);
		if (e < 0 && !first) {
			sw_error_prefix(e, "the router of %s: ", apps.v[i]);
			first = e;
		}
	}
	strvec_clear(&apps);
	return err < 0 ? err : first;
}

int cmd_hosts_add(struct cli *c)
{
	struct node_hello h = NODE_HELLO_INIT;
	int rc = 0;
	if (node_join(c->root, c->args[0], c->args[1], &h) < 0)
		rc = cli_fail();
	else if (fronts_switch(c->root, c->args[0], 0) < 0)
		rc = cli_fail(); /* the host joined; the line says which app's router did not follow */
	if (!rc)
		printf("Adding host %s at %s... done, slipway %s\n", c->args[0], c->args[1], h.version);
	node_hello_release(&h);
	return rc;
}

struct hosts_remove_args {
	int drain;
};

const struct opt hosts_remove_opts[] = {
	OPT_FLAG(0, "drain", struct hosts_remove_args, drain,
		 "first point every app's router away from the host, then remove it"),
	OPT_END_OF(struct hosts_remove_args),
};

int cmd_hosts_remove(struct cli *c)
{
	const struct hosts_remove_args *a = c->options;
	struct host_rec h = { 0 };
	int err = host_name_check(c->args[0]);
	if (!err)
		err = hosts_find(c->root, c->args[0], &h);
	host_rec_release(&h);
	/* drained: no app's router names the host before it goes, else nothing is removed */
	if (!err && a->drain)
		err = fronts_switch(c->root, c->args[0], 1);
	if (!err)
		err = node_remove(c->root, c->args[0]);
	if (!err && !a->drain)
		err = fronts_switch(c->root, NULL, 0);
	if (err < 0)
		return cli_fail();
	printf("Removing host %s... done\n", c->args[0]);
	return 0;
}

struct hosts_allow_args {
	int standby;
};

const struct opt hosts_allow_opts[] = {
	OPT_FLAG(0, "standby", struct hosts_allow_args, standby,
		 "on a standby control: let the key push its control's ledger here instead\n"
		 "(docs/hosts.md), which makes this server that control's standby"),
	OPT_END_OF(struct hosts_allow_args),
};

int cmd_hosts_allow(struct cli *c)
{
	const struct hosts_allow_args *a = c->options;
	struct keys_add_opts o = KEYS_ADD_OPTS_INIT;
	struct ssh_key key = SSH_KEY_INIT;
	struct buf text = BUF_INIT;
	char *file = NULL;
	int rc = 0, added = 0;

	/* the key as one argument (quoted), or its words unquoted */
	for (int i = 0; i < c->nargs; i++)
		buf_addf(&text, "%s%s", i ? " " : "", c->args[i]);
	if (key_parse(&key, text.data) < 0 || keys_path(&file) < 0) {
		rc = cli_fail();
		goto done;
	}
	o.file = file;
	o.exe = c->self;
	o.root = c->root;
	if (a->standby) {
		rc = standby_allow(c, &o, &key);
		goto done;
	}
	if (keys_allow_agent(&o, &key, &added) < 0) {
		rc = cli_fail();
		goto done;
	}
	printf("Trusting the control key %s%s%s to run the node agent... %s\n", key.fingerprint,
	       *key.comment ? " " : "", key.comment, added ? "done" : "done, it was already");
done:
	key_release(&key);
	buf_release(&text);
	free(file);
	return rc;
}

/* The request: sshd's SSH_ORIGINAL_COMMAND, else one line of stdin. */
static char *agent_request(void)
{
	const char *env = getenv("SSH_ORIGINAL_COMMAND");
	if (env)
		return xstrdup(env);
	char line[AGENT_REQUEST_MAX];
	if (!fgets(line, sizeof(line), stdin))
		return xstrdup("");
	return xstrdup(line);
}

int cmd_node_agent(struct cli *c)
{
	struct buf answer = BUF_INIT;
	char *request = agent_request();
	struct agent_in in = { .root = c->root, .self = c->self, .in = stdin };
	int rc = 0, err = agent_answer(&in, request, &answer);
	if (err < 0) {
		say(stderr, SAY_ERROR, "%s", sw_error_last());
		rc = err == SW_EINVALID ? 2 : 1;
	} else {
		fwrite(answer.data, 1, answer.len, stdout);
	}
	buf_release(&answer);
	free(request);
	return rc;
}

/* member of the agent's answer (a flat document), or "" (malloc'ed). */
static char *member(const char *answer, const char *name)
{
	char *v = NULL;
	if (json_flat_get(answer, name, &v) < 0)
		v = xstrdup("");
	return v;
}

/* One line per instance of the answer: (host,) name, state, address, pid, gate. */
static void print_instances(const char *host, const char *answer)
{
	char *names = member(answer, "instances");
	for (char *p = names, *name; (name = strsep(&p, " ")) != NULL;) {
		if (!*name)
			continue;
		char *k[4] = { xasprintf("%s.state", name), xasprintf("%s.address", name),
			       xasprintf("%s.pid", name), xasprintf("%s.gate", name) };
		char *v[4];
		for (int i = 0; i < 4; i++)
			v[i] = member(answer, k[i]);
		printf("%s%s%s  %s  %s  pid %s  gate %s\n", host ? host : "", host ? "  " : "",
		       name, v[0], *v[1] ? v[1] : "-", v[2], v[3]);
		for (int i = 0; i < 4; i++) {
			free(k[i]);
			free(v[i]);
		}
	}
	free(names);
}

/*
 * The hosts run the app now: the front sends each its share of the app's
 * requests, where it serves the app.
 */
static int placed(struct cli *c, const struct strvec *hosts)
{
	struct app_ctx ctx = APP_CTX_INIT;
	int err = app_ctx_open(&ctx, c->root, c->app, APP_CTX_WRITE), serves = 0;
	for (size_t i = 0; !err && i < hosts->n; i++) {
		err = apphosts_placed(c->root, c->app, hosts->v[i]);
		serves = serves || apphosts_has(c->root, c->app, hosts->v[i]);
	}
	if (!err && serves)
		err = router_switch(c->root, c->app, NULL, NULL);
	app_ctx_release(&ctx);
	return err;
}

/* cli_withdraw_strays() under the app's lock. */
static void withdraw_strays(struct cli *c)
{
	struct app_ctx ctx = APP_CTX_INIT;
	if (app_ctx_open(&ctx, c->root, c->app, APP_CTX_WRITE) < 0)
		say(stderr, SAY_WARN, "%s", sw_error_last());
	else
		cli_withdraw_strays(c);
	app_ctx_release(&ctx);
}

/*
 * The names of the hosts given, else the app's run hosts (apps:hosts:set,
 * else every host recorded: runtime/nodes.h node_run_hosts()), into names
 * and, joined, *said.
 */
static int hosts_named(struct cli *c, struct strvec *names, struct buf *said)
{
	int err = 0;
	for (int i = 0; i < c->nargs; i++)
		strvec_push(names, c->args[i]);
	if (!names->n)
		err = node_run_hosts(c->root, c->app, names);
	if (!err && !names->n)
		err = sw_error_set(SW_ENOTFOUND, "there is no run host yet (hosts:add one first)");
	for (size_t i = 0; i < names->n; i++)
		buf_addf(said, "%s%s", i ? ", " : "", names->v[i]);
	return err;
}

/* hosts:apply to several hosts: both phases on each (runtime/nodes.h: node_release). */
static int apply_to_all(struct cli *c)
{
	struct strvec names = STRVEC_INIT;
	struct buf list = BUF_INIT, answers = BUF_INIT;
	int err = hosts_named(c, &names, &list);
	if (!err) {
		printf("Applying %s's current release to %s... ", c->app, list.data);
		fflush(stdout);
		if ((err = node_release(c->root, c->app, &names, &answers)))
			printf("failed\n");
		else
			err = placed(c, &names);
	}
	if (!err) {
		/* one answer a line, a host's each, in the order of names */
		char *p = answers.data, *line = strsep(&p, "\n");
		char *version = member(line, "version");
		printf("done, v%s runs on %s\n", version, list.data);
		for (size_t i = 0; line && *line && i < names.n; i++, line = strsep(&p, "\n"))
			print_instances(names.v[i], line);
		free(version);
	}
	/* all of the app's hosts have it: those apps:hosts:set left out stop it */
	if (!err && !c->nargs)
		withdraw_strays(c);
	strvec_clear(&names);
	buf_release(&list);
	buf_release(&answers);
	return err ? cli_fail() : 0;
}

int cmd_hosts_apply(struct cli *c)
{
	struct buf answer = BUF_INIT;
	if (c->nargs != 1)
		return apply_to_all(c);
	const char *host = c->args[0];
	printf("Applying %s's current release to %s... ", c->app, host);
	fflush(stdout);
	if (node_apply(c->root, host, c->app, "switch", &answer) < 0) {
		printf("failed\n");
		buf_release(&answer);
		return cli_fail();
	}
	char *version = member(answer.data, "version"), *changed = member(answer.data, "changed");
	printf("done, v%s runs there%s\n", version,
	       strcmp(changed, "true") ? " already (nothing changed)" : "");
	print_instances(NULL, answer.data);
	free(version);
	free(changed);
	buf_release(&answer);
	struct strvec one = STRVEC_INIT;
	strvec_push(&one, host);
	int err = placed(c, &one);
	strvec_clear(&one);
	return err < 0 ? cli_fail() : 0;
}
