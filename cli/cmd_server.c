/* server:start, server:stop, server:status, server:run, server:reload: the operator's runtime. */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"

#include "dashboard/server.h"
#include "view/runtime.h"

#include "access/keys.h"
#include "exec/appnet.h"
#include "exec/limits.h"
#include "exec/sandbox.h"
#include "release/activate.h"
#include "runtime/addon.h"
#include "runtime/instance.h"
#include "runtime/router.h"
#include "release/watch.h"
#include "release/watcher.h"
#include "runtime/acme.h"
#include "runtime/addon_backup.h"
#include "store/acme.h"
#include "store/app.h"
#include "store/appctx.h"
#include "store/certs.h"
#include "runtime/services.h"
#include "runtime/supervisor.h"
#include "store/ledger.h"
#include "util/error.h"
#include "util/say.h"
#include "store/domains.h"
#include "store/paths.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/*
 * The router's files and service and the dashboard's service, then a
 * rescan: what runs is what the ledger says.
 */
static int start_router(struct cli *c)
{
	if (router_prepare(c->root) < 0 || dashboard_service_write(c->root, c->self) < 0 ||
	    supervisor_rescan(c->root) < 0)
		return -1;
	/* started means serving: status right after it says so */
	if (!router_system())
		router_wait_running(c->root, 5);
	char *url = router_url(c->root, "APP");
	struct router_listen l;
	if (url && router_system())
		printf("Router: your nginx (slipway.router system), apps at %s\n", url);
	else if (url && router_listen_read(c->root, &l) == 0)
		printf("Router: nginx on %s:%d, apps at %s\n", l.address[0] ? l.address : "*", l.port,
		       url);
	free(url);
	return 0;
}

/* Said once when the runtime starts: the instances will run without their limits, and why. */
static void print_limits_not_enforced(pid_t svscan)
{
	char *why = NULL;
	if (!limits_probe(svscan, &why))
		say(stderr, SAY_WARN, "Limits are not enforced (memory, processes, CPU weight): %s",
		    why);
	free(why);
}

/* The apps' network, as network_probe() finds it. */
enum network { NETWORK_PRIVATE, NETWORK_HOST, NETWORK_UNUSABLE };

static const char *const network_words[] = { [NETWORK_PRIVATE] = "private",
	[NETWORK_HOST] = "host", [NETWORK_UNUSABLE] = "unusable" };

/*
 * The network the apps' processes get by default (an app may set its own
 * slipway.appNetwork): their own, the host's (*what names the setting), or
 * none that works - their own wanted and not usable by this user, so that
 * none of them starts (*what says why and the fix).  *what is malloc'ed.
 */
static enum network network_probe(const char *root, char **what)
{
	struct sandbox sb = SANDBOX_INIT;
	enum network n = NETWORK_PRIVATE;
	*what = NULL;
	if (sandbox_init(&sb, root, NULL, SANDBOX_RUN) < 0) {
		*what = xstrdup(sw_error_last());
		n = NETWORK_UNUSABLE;
	} else if (sb.off) {
		*what = xstrdup("the host's (slipway.sandbox none)");
		n = NETWORK_HOST;
	} else if (!sb.appnet) {
		*what = xstrdup("the host's (slipway.appNetwork host): apps reach each other's "
				"ports and the host's loopback services");
		n = NETWORK_HOST;
	} else if (!appnet_usable(APPNET_TUN, what)) {
		n = NETWORK_UNUSABLE;
	} else {
		*what = xstrdup("own namespace per instance (" APPNET_PROGRAM ")");
	}
	sandbox_release(&sb);
	return n;
}

/* Said once when the runtime starts: the apps' processes will not start, and why. */
static void print_network_unusable(const char *root)
{
	char *why = NULL;
	if (network_probe(root, &why) == NETWORK_UNUSABLE)
		say(stderr, SAY_WARN, "App processes cannot start in a network of their own "
		    "(slipway.appNetwork private): %s", why);
	free(why);
}

/* The limits' and network's lines of server:status: enforced, how, or why not. */
static void print_limits_and_network(const char *root, pid_t svscan)
{
	char *what = NULL;
	if (limits_probe(svscan, &what))
		printf("Limits:     enforced, %s\n", what);
	else
		printf("Limits:     not enforced: %s\n", what);
	free(what);
	enum network n = network_probe(root, &what);
	printf("Network:    %s%s\n", n == NETWORK_UNUSABLE ? "unusable (app processes cannot "
	       "start): " : "", what);
	free(what);
}

/* Key lines an earlier version wrote get what they need now (a terminal for `run`). */
static void upgrade_keys(void)
{
	char *file = NULL;
	int upgraded = 0;
	if (keys_path(&file) < 0 || keys_upgrade(file, &upgraded) < 0)
		say(stderr, SAY_WARN, "%s", sw_error_last());
	else if (upgraded)
		printf("Updated the options of the keys in %s (a terminal for run)\n", file);
	free(file);
}

int cmd_server_start(struct cli *c)
{
	struct supervisor_status st;
	int ended = 0;
	/* what a killed tree left goes first: none of it may keep the router's port */
	if (!supervisor_running(c->root)) {
		if (supervisor_end_outside(c->root, 30, &ended) < 0)
			return cli_fail();
		limits_sweep(c->root); /* the cgroups of instances a kill -9 ended */
	}
	/* what would keep the router from starting is said before anything starts */
	if (router_check(c->root) < 0 || supervisor_start(c->root, &st) < 0)
		return cli_fail();
	upgrade_keys();
	ended += st.ended;
	if (ended)
		printf("Ended %d process%s left running by a supervisor that was killed\n", ended,
		       ended == 1 ? "" : "es");
	if (st.already)
		printf("The runtime of %s is already running: s6-svscan (pid %d)\n", c->root,
		       (int)st.pid);
	else
		printf("Starting the runtime of %s... done, s6-svscan (pid %d)\n", c->root,
		       (int)st.pid);
	if (!st.already) {
		print_limits_not_enforced(st.pid);
		print_network_unusable(c->root);
	}
	/* whatever happened while it was down: every app runs its current release */
	int added;
	if (services_restore_all(c->root, 0, &added) < 0)
		return cli_fail();
	if (added)
		printf("Starting %d process instance%s of the current releases\n", added,
		       added == 1 ? "" : "s");
	/* and every add-on's server (runtime/addon.h) */
	if (addon_restore_all(c->root, &added) < 0)
		return cli_fail();
	if (added)
		printf("Starting %d add-on server%s\n", added, added == 1 ? "" : "s");
	if (addon_backup_schedule_ensure(c->root) < 0) /* and their daily backups */
		say(stderr, SAY_WARN, "%s", sw_error_last());
	if (acme_schedule_ensure(c->root) < 0) /* and automatic certificates' renewal */
		say(stderr, SAY_WARN, "%s", sw_error_last());
	/* and what a writer killed mid-switch left is undone */
	return start_router(c) < 0 || activate_recover_all(c->root, stdout) < 0 ? cli_fail() : 0;
}

/* The router's line of server:status: whether nginx runs and serves the files there are now. */
static void print_router(const char *root, const struct router_listen *l)
{
	const char *addr = l->address[0] ? l->address : "*";
	switch (router_health(root)) {
	case ROUTER_CURRENT:
		printf("Router:     running, nginx on %s:%d\n", addr, l->port);
		break;
	case ROUTER_STALE:
		printf("Router:     stale, nginx on %s:%d serves an older configuration than "
		       "%s/router/ holds (see %s/router/logs/error.log; reload it with: "
		       "slipway server:start)\n", addr, l->port, root, root);
		break;
	case ROUTER_SILENT:
		printf("Router:     not answering, nginx on %s:%d (see %s/router/logs/error.log)\n",
		       addr, l->port, root);
		break;
	default:
		printf("Router:     not running, nginx on %s:%d\n", addr, l->port);
	}
}

/* 1 when host is DOMAIN or under it: the same site as every app's page. */
static int inside_domain(const char *host, const char *domain)
{
	size_t h = strlen(host), d = strlen(domain);
	return !strcasecmp(host, domain) ||
	       (h > d && host[h - d - 1] == '.' && !strcasecmp(host + h - d, domain));
}

/* The dashboard's line of server:status: whether it runs, where, and a word on its host. */
static void print_dashboard(const char *root, const struct router_listen *l)
{
	struct service_state st;
	char *host = NULL;
	if (domains_dashboard_host(&host) < 0)
		return;
	int up = supervisor_service_state(root, DASHBOARD_SERVICE, &st) == 0 && st.up;
	char *origin = router_dashboard_url(root);
	printf("Dashboard:  %s, at %s", up ? "running" : "not running", origin ? origin : host);
	free(origin);
	if (inside_domain(host, l->domain))
		printf(" (inside the apps' domain %s, so on the same site as their pages: a host "
		       "outside it is safer, see docs/dashboard.md)", l->domain);
	printf("\n");
	free(host);
}

/* server:status warns of a certificate this close to its end */
#define CERT_WARN_DAYS 14

/* What server:status says of one certificate (whose: "myapp's", "the dashboard's") near its end. */
static void warn_cert(const char *root, const char *name, const char *whose, const char *fix,
		      time_t now, struct strvec *out)
{
	struct cert_info info = CERT_INFO_INIT;
	if (certs_has(root, name) && certs_info(root, name, &info) == 0 &&
	    info.expires - now < CERT_WARN_DAYS * 86400L) {
		struct tm tm;
		char day[16];
		gmtime_r(&info.expires, &tm);
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
		/* days begun: a certificate of 3 days expires in 3 days, its last hour in 1 */
		long days = (long)((info.expires - now + 86399) / 86400);
		if (info.expires <= now)
			strvec_pushf(out, "%s certificate expired on %s: its HTTPS fails (add a new "
				     "one with: slipway %s)", whose, day, fix);
		else
			strvec_pushf(out, "%s certificate expires in %ld day%s (%s)", whose, days,
				     days == 1 ? "" : "s", day);
	}
	cert_info_release(&info);
}

/* A line for each app (and the dashboard) whose certificate expires within CERT_WARN_DAYS days, or has. */
static void cert_warnings(const char *root, struct strvec *out)
{
	struct strvec apps = STRVEC_INIT;
	time_t now = time(NULL);
	if (app_list(root, &apps) < 0)
		apps.n = 0;
	/* an automatic certificate is fixed by asking the CA again */
	for (size_t i = 0; i < apps.n; i++) {
		char *whose = xasprintf("%s's", apps.v[i]);
		char *fix = xasprintf(acme_enabled(root, apps.v[i]) ? "certs:auto:refresh -a %s"
								   : "certs:add CRT KEY -a %s",
				      apps.v[i]);
		warn_cert(root, apps.v[i], whose, fix, now, out);
		free(fix);
		free(whose);
	}
	warn_cert(root, CERTS_DASHBOARD, "the dashboard's",
		  acme_enabled(root, CERTS_DASHBOARD) ? "dashboard:certs:auto:refresh"
						       : "dashboard:certs:add CRT KEY",
		  now, out);
	strvec_clear(&apps);
}

struct server_status_args {
	int json;
};

const struct opt server_status_opts[] = {
	CLI_OPT_JSON(struct server_status_args),
	OPT_END_OF(struct server_status_args),
};

/* server:status --json: what the text says, as view_server_status_json() writes it. */
static void print_status_json(const char *root, const struct supervisor_status *st)
{
	static const char *const health[] = { [ROUTER_STOPPED] = "not running",
		[ROUTER_CURRENT] = "running", [ROUTER_STALE] = "stale",
		[ROUTER_SILENT] = "not answering" };
	struct buf out = BUF_INIT;
	struct strvec warnings = STRVEC_INIT;
	char *limits = NULL, *network = NULL;
	cert_warnings(root, &warnings);
	struct server_facts f = {
		.router = router_system() ? "system" : health[router_health(root)],
		.limits = limits_probe(st->running ? st->pid : 0, &limits),
		.warnings = &warnings,
	};
	f.network = network_words[network_probe(root, &network)];
	f.limits_detail = limits;
	f.network_detail = network;
	view_server_status_json(&out, st, &f);
	cli_put(&out);
	strvec_clear(&warnings);
	free(limits);
	free(network);
}

int cmd_server_status(struct cli *c)
{
	const struct server_status_args *a = c->options;
	struct supervisor_status st;
	char *scandir = paths_services_dir(c->root);
	supervisor_status(c->root, &st);
	if (a->json) {
		print_status_json(c->root, &st);
	} else {
		printf("=== Runtime of %s\n", c->root);
		if (st.running)
			printf("Supervisor: running, s6-svscan (pid %d)\n", (int)st.pid);
		else
			printf("Supervisor: not running (start it with: slipway server:start)\n");
		printf("Services:   %d\n", st.services);
		if (st.outside)
			printf("Outside:    %d process%s of this root run outside the supervision tree, "
			       "left by a supervisor that was killed (end them with: slipway server:stop, "
			       "or take over with: slipway server:start)\n", st.outside,
			       st.outside == 1 ? "" : "es");
		struct router_listen l;
		if (router_system())
			printf("Router:     your nginx (slipway.router system)\n");
		else if (router_listen_read(c->root, &l) == 0)
			print_router(c->root, &l);
		if (!router_system() && router_listen_read(c->root, &l) == 0)
			print_dashboard(c->root, &l);
		print_limits_and_network(c->root, st.running ? st.pid : 0);
		printf("Scan dir:   %s\n", scandir);
		struct strvec warnings = STRVEC_INIT;
		cert_warnings(c->root, &warnings);
		for (size_t i = 0; i < warnings.n; i++)
			say(stdout, SAY_ERROR, "%s", warnings.v[i]);
		strvec_clear(&warnings);
	}
	free(scandir);
	return 0;
}

int cmd_server_stop(struct cli *c)
{
	struct supervisor_status st;
	supervisor_status(c->root, &st);
	if (!st.running && !st.outside) {
		printf("The runtime of %s is not running\n", c->root);
		return 0;
	}
	if (st.running)
		printf("Stopping the runtime of %s... ", c->root);
	else
		printf("Stopping %d process%s left running by a supervisor of %s that was killed... ",
		       st.outside, st.outside == 1 ? "" : "es", c->root);
	fflush(stdout);
	/* the router first, and until its port is free: a start right after can listen again */
	if (router_stop(c->root, 30) < 0 || supervisor_stop(c->root, 60) < 0) {
		printf("failed\n");
		return cli_fail();
	}
	limits_sweep(c->root); /* what instances killed outright left */
	printf("done\n");
	return 0;
}

/*
 * The runtime's services that run slipway itself: the dashboard, the
 * schedules and each app's rollback watch.  Not the apps' instances, the
 * add-ons' servers or the router, which serve and are never restarted by
 * a reload.
 */
static void own_services(const char *root, struct strvec *out)
{
	struct strvec apps = STRVEC_INIT;
	strvec_push(out, DASHBOARD_SERVICE);
	strvec_push(out, ACME_SERVICE);
	strvec_push(out, ADDON_BACKUP_SERVICE);
	if (app_list(root, &apps) == 0)
		for (size_t i = 0; i < apps.n; i++) {
			char *name = watch_service_name(apps.v[i]);
			strvec_push(out, name);
			free(name);
		}
	strvec_clear(&apps);
}

#define RELOAD_WAIT_SEC 30

/* Restarts the service whose process is pid (SIGTERM through s6) and waits until a new one runs. */
static int restart_service(const char *root, const char *name, long pid)
{
	struct service_state st;
	int err = supervisor_service_signal(root, name, SIGTERM);
	for (int i = 0; !err && i < RELOAD_WAIT_SEC * 10; i++) {
		/* a new process, or none wanted: a watch that was over ended for good */
		if (supervisor_service_state(root, name, &st) == 0 &&
		    ((st.up && st.pid != pid) || !st.wanted_up))
			return 0;
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return err ? err : sw_error_set(SW_ETIMEOUT, "the service '%s' did not start again within %d s",
					  name, RELOAD_WAIT_SEC);
}

int cmd_server_reload(struct cli *c)
{
	struct strvec names = STRVEC_INIT;
	int err = 0, restarted = 0;
	if (!supervisor_running(c->root)) {
		printf("The runtime of %s is not running\n", c->root);
		return 0;
	}
	own_services(c->root, &names);
	for (size_t i = 0; i < names.n && !err; i++) {
		struct service_state st;
		if (!supervisor_service_exists(c->root, names.v[i]) ||
		    supervisor_service_state(c->root, names.v[i], &st) < 0 || !st.up)
			continue;
		printf("Restarting %s on %s... ", names.v[i], c->self);
		fflush(stdout);
		err = restart_service(c->root, names.v[i], st.pid);
		printf("%s\n", err ? "failed" : "done");
		restarted++;
	}
	strvec_clear(&names);
	if (err)
		return cli_fail();
	if (!restarted)
		printf("The runtime of %s runs none of its own services now\n", c->root);
	return 0;
}

int cmd_server_run(struct cli *c)
{
	int added;
	upgrade_keys();
	/* what a killed tree left goes first; the tree's first scan starts every app's current release */
	if (!supervisor_running(c->root)) {
		if (supervisor_end_outside(c->root, 30, NULL) < 0)
			return cli_fail();
		limits_sweep(c->root); /* the cgroups of instances a kill -9 ended */
		if (services_restore_all(c->root, 0, &added) < 0 ||
		    addon_restore_all(c->root, &added) < 0 || router_prepare(c->root) < 0 ||
		    dashboard_service_write(c->root, c->self) < 0)
			return cli_fail();
	}
	fflush(stdout);
	supervisor_exec(c->root); /* returns only on failure */
	return cli_fail();
}

/* "web.1" -> "web", 1; SW_EINVALID otherwise. */
static int parse_instance(const char *s, char type[64], int *index)
{
	const char *dot = strrchr(s, '.');
	char *end = NULL;
	long n = dot ? strtol(dot + 1, &end, 10) : 0;
	size_t len = dot ? (size_t)(dot - s) : 0;
	if (!dot || len == 0 || len > 63 || !*(dot + 1) || *end || n < 1 || n > 1000)
		return sw_error_set(SW_EINVALID, "invalid instance '%s': use TYPE.N, for example web.1", s);
	memcpy(type, s, len);
	type[len] = '\0';
	if (!proc_name_valid(type))
		return sw_error_set(SW_EINVALID, "invalid instance '%s': use TYPE.N, for example web.1", s);
	*index = (int)n;
	return 0;
}

struct instance_run_args {
	int port, stop_timeout, supervised;
	const char *release;
};

const struct opt instance_run_opts[] = {
	OPT_INT(0, "port", struct instance_run_args, port, "PORT", 1, 65535, NULL,
		"the instance's $PORT"),
	OPT_STRING(0, "release", struct instance_run_args, release, "vN", "a release",
		   "the release to run (default: the current one)"),
	CLI_OPT_STOP_TIMEOUT(struct instance_run_args),
	OPT_FLAG(0, "supervised", struct instance_run_args, supervised,
		 "run as a service: keep its state and crash count in\n"
		 "the current directory (its service directory)"),
	OPT_END_OF(struct instance_run_args),
};

int cmd_instance_run(struct cli *c)
{
	const struct instance_run_args *a = c->options;
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	char type[64];
	int index = 0, v = 0, status = -1, rc = 0;

	if (parse_instance(c->args[0], type, &index) < 0)
		return cli_fail();
	if (!a->port)
		return cli_usage(c->cmd, "instance:run needs --port PORT");
	if ((rc = cli_open_app(c, &l)))
		return rc;
	if (a->release ? release_parse_version(a->release, &v) : ledger_current(l, &v)) {
		rc = cli_fail();
		goto done;
	}
	if (!v) {
		say(stderr, SAY_ERROR, "%s has no current release to run", c->app);
		rc = 1;
		goto done;
	}
	if (ledger_read(l, v, LEDGER_READ_PROCS | LEDGER_READ_CONFIG, &r) < 0) {
		rc = cli_fail();
		goto done;
	}
	ledger_free(l);
	l = NULL;
	struct instance_opts o = { .root = c->root, .app = c->app, .release = &r, .type = type,
				   .index = index, .port = a->port,
				   .stop_timeout_sec = a->stop_timeout,
				   .state_dir = a->supervised ? "." : NULL };
	fflush(stdout);
	rc = instance_run(&o, &status) < 0 ? cli_fail() : status;
done:
	release_release(&r);
	ledger_free(l);
	return rc;
}

struct watch_run_args {
	const char *previous;
};

const struct opt watch_run_opts[] = {
	OPT_STRING(0, "previous", struct watch_run_args, previous, "vN", "a release",
		   "the release that was live before (the one to go back to)"),
	OPT_END_OF(struct watch_run_args),
};

int cmd_watch_run(struct cli *c)
{
	const struct watch_run_args *a = c->options;
	int v = 0, p = 0, rolled = 0;
	if (release_parse_version(c->args[0], &v) < 0 ||
	    (a->previous && release_parse_version(a->previous, &p) < 0))
		return cli_fail();
	if (!p)
		return cli_usage(c->cmd, "watch:run needs --previous vN");
	struct app_ctx ctx = APP_CTX_INIT;
	int err = app_ctx_open(&ctx, c->root, c->app, APP_CTX_READ);
	if (!err)
		err = watch_run(&ctx, v, p, &rolled);
	app_ctx_release(&ctx);
	if (err < 0)
		return cli_fail();
	if (rolled)
		printf("Rolled back %s to v%d automatically: v%d\n", c->app, p, rolled);
	return 0;
}
