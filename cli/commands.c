/*
 * The command table, the options every command shares, the dispatcher,
 * and the three commands that need the table: help, shell and completion.
 */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/common.h"
#include "cli/completion.h"
#include "cli/remote.h"
#include "cli/shell.h"

#include "access/access.h"
#include "store/app.h"
#include "util/error.h"
#include "util/say.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the table ---- */

#define REMOTE_OPT                                                                        \
	OPT_STRING('r', "remote", struct cli, remote, "NAME", "a git remote name",             \
		   "the git remote whose server runs the command, when it is\n"                \
		   "an ssh URL (default: heroku)")

const struct opt cli_app_opts[] = {
	OPT_STRING('a', "app", struct cli, app, "APP", "an app name",
		   "the app (default: $SLIPWAY_APP, else from the git remote)"),
	REMOTE_OPT,
	OPT_END,
};

/* The commands sent to a server that take no app: only -r. */
static const struct opt remote_opts[] = { REMOTE_OPT, OPT_END };

static const struct opt app_only_opts[] = {
	OPT_STRING('a', "app", struct cli, app, "APP", "an app name", "only this app"),
	OPT_END,
};

/* Every command's: --root, and -h/--help (not listed). */
static const struct opt common_opts[] = {
	OPT_STRING(0, "root", struct cli, root, "DIR", "a directory",
		   "where apps, slugs and caches live"),
	{ .kind = OPT_KIND_FLAG, .short_name = 'h', .long_name = "help",
	  .offset = OPT_INT_AT(struct cli, help), .flags = OPT_HIDDEN },
	OPT_END,
};

static int cmd_help(struct cli *c);
static int cmd_shell(struct cli *c);
static int cmd_completion(struct cli *c);

/* name, function, CMD_* flags, arguments min and max; synopsis, options; help */
const struct cmd cli_commands[] = {
	{ "apps", cmd_apps, CMD_REMOTE, 0, 0,
	  "[--json]", apps_opts,
	  "list the apps" },
	{ "apps:create", cmd_apps_create, CMD_REMOTE, 1, 1,
	  "APP [--branch BRANCH] [--accept-failed-builds]", apps_create_opts,
	  "create an app: a git repository to push to" },
	{ "apps:info", cmd_apps_info, CMD_APP | CMD_REMOTE, 0, 0, "-a APP", NULL,
	  "the app: its git and web URLs, processes, stack, sizes, domains and maintenance" },
	{ "apps:destroy", cmd_apps_destroy, 0, 1, 1,
	  "APP --confirm APP", apps_destroy_opts,
	  "permanently destroy an app, its releases and its config" },
	{ "releases", cmd_releases, CMD_APP | CMD_REMOTE, 0, 0,
	  "-a APP [-n N] [--json]", releases_opts,
	  "list an app's releases, newest first" },
	{ "releases:info", cmd_releases_info, CMD_APP | CMD_REMOTE, 0, 1,
	  "[vN] -a APP [--json] [--shell]", releases_info_opts,
	  "show one release in full (default: the latest one)" },
	{ "releases:output", cmd_releases_output, CMD_APP | CMD_REMOTE, 0, 1,
	  "[vN] -a APP", NULL,
	  "show the output of a release's release phase" },
	{ "releases:diff", cmd_releases_diff, CMD_APP | CMD_REMOTE, 0, 2,
	  "[[vA] vB] -a APP [--json] [--values]", releases_diff_opts,
	  "what changed from vA to vB: commits, config vars, slug files, process types\n"
	  "(vB alone: since the release before it; none: the latest release)" },
	{ "rollback", cmd_rollback, CMD_APP | CMD_REMOTE | CMD_RELEASES, 0, 1,
	  "[vN] -a APP", NULL,
	  "make a new release with the slug and config of vN (default: the previous one)" },
	{ "releases:rollback", cmd_rollback, CMD_APP | CMD_REMOTE | CMD_RELEASES, 0, 1,
	  "[vN] -a APP", NULL,
	  "same as rollback (Heroku's name)" },
	{ "releases:retry", cmd_releases_retry, CMD_APP | CMD_REMOTE | CMD_RELEASES, 0, 0,
	  "-a APP", NULL,
	  "build the latest release's commit again and release it" },
	{ "builds", cmd_builds, CMD_APP | CMD_REMOTE, 0, 0,
	  "-a APP [-n N] [--json]", builds_opts,
	  "list an app's builds, failed ones too, newest first" },
	{ "builds:output", cmd_builds_output, CMD_APP | CMD_REMOTE, 0, 1,
	  "[ID] -a APP", NULL,
	  "show a build's whole output (default: the latest build)" },
	{ "releases:promote", cmd_promote, CMD_APP | CMD_REMOTE | CMD_RELEASES, 0, 0,
	  "-a APP --to APP [--json]", promote_opts,
	  "release the app's current slug on another app, with that app's config: no rebuild" },
	{ "pipelines:promote", cmd_promote, CMD_APP | CMD_REMOTE | CMD_RELEASES, 0, 0,
	  "-a APP --to APP [--json]", promote_opts,
	  "same as releases:promote (Heroku's name)" },
	{ "deploy", cmd_deploy, CMD_APP | CMD_REMOTE | CMD_RELEASES, 0, 0,
	  "--slug SHA256:HEX -a APP [--json]", deploy_opts,
	  "release a slug of another release, with the app's config: no rebuild" },
	{ "config", cmd_config, CMD_APP | CMD_REMOTE, 0, 0,
	  "-a APP [--json|--shell]", config_opts,
	  "show the config vars" },
	{ "config:get", cmd_config_get, CMD_APP | CMD_REMOTE, 1, 1,
	  "KEY -a APP [--shell]", config_get_opts,
	  "print one config var's value" },
	{ "config:set", cmd_config_set, CMD_APP | CMD_REMOTE | CMD_RELEASES, 1, -1,
	  "KEY=value [KEY2=value2 ...] -a APP", NULL,
	  "set config vars: one new release" },
	{ "config:unset", cmd_config_unset, CMD_APP | CMD_REMOTE | CMD_RELEASES, 1, -1,
	  "KEY [KEY2 ...] -a APP", NULL,
	  "remove config vars: one new release" },
	{ "config:add", cmd_config_set, CMD_APP | CMD_REMOTE | CMD_RELEASES, 1, -1,
	  "KEY=value [KEY2=value2 ...] -a APP", NULL,
	  "same as config:set (Heroku's name)" },
	{ "config:remove", cmd_config_unset, CMD_APP | CMD_REMOTE | CMD_RELEASES, 1, -1,
	  "KEY [KEY2 ...] -a APP", NULL,
	  "same as config:unset (Heroku's name)" },
	{ "addons", cmd_addons, CMD_APP_OPT | CMD_REMOTE, 0, 0,
	  "[-a APP] [--all] [--json]", addons_opts,
	  "list the app's add-ons (-a, else the checkout's app), those it owns and those\n"
	  "attached to it (no app, or --all: every add-on you can see)" },
	{ "addons:create", cmd_addons_create, CMD_APP | CMD_REMOTE | CMD_RELEASES, 1, 1,
	  "postgresql|redis [--name NAME] [--as ALIAS] [--wait] -a APP", addons_create_opts,
	  "create an add-on the app owns (postgresql or redis, or Heroku's heroku-postgresql\n"
	  "and heroku-redis) and attach it: a new release with its URL in ALIAS_URL\n"
	  "(DATABASE_URL, REDIS_URL)" },
	{ "addons:info", cmd_addons_info, CMD_REMOTE, 1, 1,
	  "NAME [--json]", addons_info_opts,
	  "show an add-on: kind, owning app, attachments, port, state and data size" },
	{ "addons:attach", cmd_addons_attach, CMD_APP | CMD_REMOTE | CMD_RELEASES, 1, 1,
	  "NAME [--as ALIAS] -a APP", addons_attach_opts,
	  "let another app reach an add-on: a new release with its URL in ALIAS_URL" },
	{ "addons:detach", cmd_addons_detach, CMD_APP | CMD_REMOTE | CMD_RELEASES, 1, 1,
	  "ALIAS -a APP", NULL,
	  "take an attached add-on away from the app: a new release without ALIAS_URL" },
	{ "addons:destroy", cmd_addons_destroy, CMD_REMOTE | CMD_RELEASES, 1, 1,
	  "NAME --confirm APP [--no-backup]", addons_destroy_opts,
	  "permanently destroy an add-on and its data, once only its owning app APP has it\n"
	  "attached (that attachment is detached: a new release)" },
	{ "pg:psql", cmd_pg_psql, CMD_APP | CMD_REMOTE, 0, 1,
	  "[DATABASE] -a APP [-c COMMAND]", pg_psql_opts,
	  "a psql console on the app's PostgreSQL, logged in as the app\n"
	  "(DATABASE: an alias or add-on name, default the one attached, DATABASE first;\n"
	  "without a terminal, it runs the SQL of stdin)" },
	{ "pg:info", cmd_pg_info, CMD_APP | CMD_REMOTE, 0, 1,
	  "[DATABASE] -a APP [--json]", dbinfo_opts,
	  "the app's PostgreSQL databases: status, data size, tables, version, connections" },
	{ "pg:backups", cmd_pg_backups, CMD_APP | CMD_REMOTE, 0, 0,
	  "-a APP [--json]", pg_backups_opts,
	  "list the backups of the app's PostgreSQL: size, checksum and whether its\n"
	  "restore test passed (the final backups of its destroyed add-ons too)" },
	{ "pg:backups:capture", cmd_pg_backups_capture, CMD_APP | CMD_REMOTE | CMD_RELEASES, 0, 1,
	  "[DATABASE] -a APP", NULL,
	  "back up the app's PostgreSQL (DATABASE: an alias or add-on name) and test the\n"
	  "backup by restoring it into a scratch cluster" },
	{ "pg:backups:restore", cmd_pg_backups_restore, CMD_APP | CMD_REMOTE | CMD_RELEASES, 0, 2,
	  "[BACKUP_ID] [DATABASE] -a APP --confirm APP [--unverified]", pg_backups_restore_opts,
	  "overwrite the app's PostgreSQL with a backup (default: the newest verified one);\n"
	  "ADDON::BACKUP_ID names a backup of another add-on of the app's" },
	{ "pg:backups:download", cmd_pg_backups_download, CMD_APP | CMD_REMOTE, 0, 2,
	  "[BACKUP_ID] [DATABASE] -a APP > FILE", NULL,
	  "write a backup's dump (pg_restore's custom format) to stdout, checksum checked\n"
	  "(default: the newest completed one)" },
	{ "pg:backups:info", cmd_pg_backups_info, CMD_APP | CMD_REMOTE, 0, 2,
	  "[BACKUP_ID] [DATABASE] -a APP [--json]", pg_backups_info_opts,
	  "show a backup: times, size, checksum and its restore test" },
	{ "pg:backups:schedule", cmd_pg_backups_schedule, CMD_HIDDEN, 0, 0,
	  "", NULL,
	  "back up each PostgreSQL add-on daily, in the foreground (what the runtime runs)" },
	{ "pg:credentials:rotate", cmd_pg_credentials_rotate, CMD_APP | CMD_REMOTE | CMD_RELEASES,
	  0, 1, "[DATABASE] -a APP --confirm APP", pg_credentials_rotate_opts,
	  "rotate a PostgreSQL add-on's password (default: the app's DATABASE): a release of\n"
	  "every app it is attached to, through the health gate; then the old password is\n"
	  "removed and its connections ended" },
	{ "redis:cli", cmd_redis_cli, CMD_APP | CMD_REMOTE, 0, 1,
	  "[REDIS] -a APP", NULL,
	  "a redis-cli console on the app's Redis, logged in as the app\n"
	  "(REDIS: an alias or add-on name; without a terminal, it runs the commands of stdin)" },
	{ "redis:credentials", cmd_redis_credentials, CMD_APP | CMD_REMOTE | CMD_RELEASES, 0, 1,
	  "[REDIS] -a APP [--reset --confirm APP]", redis_credentials_opts,
	  "show a Redis add-on's URL (default: the app's REDIS); --reset rotates its\n"
	  "password as pg:credentials:rotate does" },
	{ "redis:info", cmd_redis_info, CMD_APP | CMD_REMOTE, 0, 1,
	  "[REDIS] -a APP [--json]", dbinfo_opts,
	  "the app's Redis add-ons: status, version, memory, clients" },
	{ "slugs:info", cmd_slugs_info, CMD_APP | CMD_REMOTE, 1, 1,
	  "vN|SHA256 -a APP", NULL,
	  "show a slug: checksum, sizes, files, process types, releases using it" },
	{ "slugs:contents", cmd_slugs_contents, CMD_APP | CMD_REMOTE, 1, 1,
	  "vN|SHA256 -a APP", NULL,
	  "list the files in a slug" },
	{ "slugs:extract", cmd_slugs_extract, CMD_APP, 2, 2,
	  "vN|SHA256 DIR -a APP", NULL,
	  "extract a slug into a new directory, safely" },
	{ "buildpacks", cmd_buildpacks, CMD_APP | CMD_REMOTE, 0, 0,
	  "-a APP", NULL,
	  "list the buildpacks the app's next build uses" },
	{ "buildpacks:add", cmd_buildpacks_add, CMD_APP | CMD_REMOTE, 1, 1,
	  "[--index N] BUILDPACK -a APP", buildpacks_index_opts,
	  "add a buildpack (shipped name, heroku/nodejs or heroku/python, directory or\n"
	  "git URL[#ref]) to the app's list" },
	{ "buildpacks:set", cmd_buildpacks_set, CMD_APP | CMD_REMOTE, 1, 1,
	  "BUILDPACK [--index N] -a APP", buildpacks_index_opts,
	  "set the app's buildpack: the list becomes BUILDPACK alone, or with --index N\n"
	  "BUILDPACK replaces the Nth" },
	{ "buildpacks:remove", cmd_buildpacks_remove, CMD_APP | CMD_REMOTE, 0, 1,
	  "BUILDPACK|--index N -a APP", buildpacks_index_opts,
	  "remove a buildpack from the app's list" },
	{ "buildpacks:clear", cmd_buildpacks_clear, CMD_APP | CMD_REMOTE, 0, 0,
	  "-a APP", NULL,
	  "clear the app's list: builds detect a buildpack again" },
	{ "repo:purge-cache", cmd_repo_purge_cache, CMD_APP | CMD_REMOTE, 0, 0,
	  "-a APP", NULL,
	  "empty the app's build cache (CACHE_DIR)" },
	{ "repo:purge_cache", cmd_repo_purge_cache, CMD_APP | CMD_REMOTE | CMD_HIDDEN, 0, 0,
	  "-a APP", NULL,
	  "same as repo:purge-cache" },
	{ "fsck", cmd_fsck, CMD_APP_OPT, 0, 0,
	  "[-a APP] [--repair]", fsck_opts,
	  "check slugs, releases and the ledger; exit 1 and name each problem\n"
	  "(--repair: first undo what interrupted switches left)" },
	{ "gc", cmd_gc, 0, 0, 0,
	  "[--keep N]", gc_opts,
	  "delete slugs no release uses, leftovers of killed builds and runs, and old builds" },
	{ "settings", cmd_settings, CMD_APP_OPT, 0, 0, "[-a APP] [--json]", settings_opts,
	  "show every setting's value and where it comes from (environment, app, global, default)" },
	{ "settings:set", cmd_settings_set, CMD_APP | CMD_REMOTE, 1, 1, "slipway.repoUrl=URL -a APP",
	  NULL, "set the app's own slipway.repoUrl (the dashboard links deploy hashes to it)" },
	{ "settings:unset", cmd_settings_unset, CMD_APP | CMD_REMOTE, 1, 1, "slipway.repoUrl -a APP",
	  NULL, "remove the app's own slipway.repoUrl" },
	{ "ps", cmd_ps, CMD_APP | CMD_REMOTE, 0, 0, "-a APP [--json]", ps_opts,
	  "list the app's running processes" },
	{ "ps:scale", cmd_ps_scale, CMD_APP | CMD_REMOTE, 0, -1, "[TYPE=N [TYPE+N ...]] -a APP", NULL,
	  "set how many processes of each type run (web=2, worker+1); no new release\n"
	  "(none: show how many run: web=1 worker=0)" },
	/* the operator's: a size may take more of the server than slipway.memory gives */
	{ "ps:resize", cmd_ps_resize, CMD_APP, 0, -1, "[TYPE=SIZE ...] -a APP", NULL,
	  "set a process type's size - its memory: standard-1x 512M, standard-2x 1G,\n"
	  "performance-m 2.5G, performance-l 14G - and restart it; no new release\n"
	  "(none: show each type's size)" },
	{ "ps:restart", cmd_ps_restart, CMD_APP | CMD_REMOTE, 0, 1, "[TYPE|TYPE.N] -a APP", NULL,
	  "restart the app's processes (all, one type, or one instance) without a release" },
	{ "restart", cmd_ps_restart, CMD_APP | CMD_REMOTE, 0, 1, "[TYPE|TYPE.N] -a APP", NULL,
	  "same as ps:restart" },
	{ "logs", cmd_logs, CMD_APP | CMD_REMOTE, 0, 0,
	  "-a APP [-n N] [-t] [-d TYPE[.N]] [-s app|slipway] [--all]", logs_opts,
	  "show the app's logs: its processes' output and Slipway's events" },
	{ "run", cmd_run, CMD_APP | CMD_REMOTE | CMD_ARGV, 1, -1,
	  "-a APP [-s SIZE] [--no-tty] [-x] [--stop-timeout S] [--] COMMAND [ARGS ...]", run_opts,
	  "run a one-off process of the current release (slipway's options go before COMMAND)" },
	{ "maintenance", cmd_maintenance, CMD_APP | CMD_REMOTE, 0, 0, "-a APP", NULL,
	  "say whether the app is in maintenance mode: on or off" },
	{ "maintenance:on", cmd_maintenance_on, CMD_APP | CMD_REMOTE, 0, 0, "-a APP", NULL,
	  "answer every request with 503 and the maintenance page; processes keep running" },
	{ "maintenance:off", cmd_maintenance_off, CMD_APP | CMD_REMOTE, 0, 0, "-a APP", NULL,
	  "serve the app again" },
	{ "open", cmd_open, CMD_APP | CMD_REMOTE, 0, 0, "-a APP", NULL,
	  "print the app's URL" },
	{ "domains", cmd_domains, CMD_APP | CMD_REMOTE, 0, 0, "-a APP [--json]", domains_opts,
	  "list the host names the app answers at" },
	{ "domains:add", cmd_domains_add, CMD_APP | CMD_REMOTE, 1, 1, "HOSTNAME -a APP", NULL,
	  "make the app answer at another host name (www.example.com)" },
	{ "domains:remove", cmd_domains_remove, CMD_APP | CMD_REMOTE, 1, 1, "HOSTNAME -a APP", NULL,
	  "take a host name away from the app" },
	{ "certs", cmd_certs, CMD_APP | CMD_REMOTE, 0, 0, "-a APP", NULL,
	  "list the app's SSL certificate" },
	{ "certs:add", cmd_certs_add, CMD_APP | CMD_REMOTE, 0, 2, "[CRT KEY] -a APP [--bypass]",
	  certs_add_opts,
	  "serve the app over HTTPS with a certificate (CRT: its chain, KEY: its private key;\n"
	  "neither: a PEM bundle of both on stdin); HTTP requests are then redirected; no new release" },
	{ "certs:auto", cmd_certs_auto, CMD_APP | CMD_REMOTE, 0, 0, "-a APP", NULL,
	  "show the status of the app's automatic certificates, domain by domain" },
	{ "certs:auto:enable", cmd_certs_auto_enable, CMD_APP | CMD_REMOTE, 0, 0, "-a APP", NULL,
	  "get the app a certificate for its domains from the ACME CA (Let's Encrypt), after checking\n"
	  "they point to this server" },
	{ "certs:auto:disable", cmd_certs_auto_disable, CMD_APP | CMD_REMOTE, 0, 0, "-a APP", NULL,
	  "turn automatic certificates off for the app (the certificate it has stays until removed)" },
	{ "certs:auto:refresh", cmd_certs_auto_refresh, CMD_APP | CMD_REMOTE, 0, 0, "-a APP", NULL,
	  "get the app a new certificate now, before its renewal is due" },
	{ "certs:auto:schedule", cmd_certs_auto_schedule, CMD_HIDDEN, 0, 0, "", NULL,
	  "renew the automatic certificates that are due, every few minutes (what a service runs)" },
	{ "certs:auto:hook", cmd_certs_auto_hook, CMD_HIDDEN, 5, 5,
	  "METHOD TYPE IDENT TOKEN KEYAUTH", NULL,
	  "answer an ACME challenge (what uacme runs, as " "slipway-acme-hook)" },
	{ "certs:info", cmd_certs_info, CMD_APP | CMD_REMOTE, 0, 0, "-a APP", NULL,
	  "show the app's SSL certificate: its names, issuer and dates" },
	{ "certs:remove", cmd_certs_remove, CMD_APP | CMD_REMOTE, 0, 0, "-a APP --confirm APP",
	  certs_remove_opts,
	  "remove the app's SSL certificate: it is served over HTTP only again" },
	{ "certs:hsts", cmd_certs_hsts, CMD_APP | CMD_REMOTE, 0, 1, "[on|off] -a APP", NULL,
	  "send Strict-Transport-Security on the app's HTTPS answers (on), its max-age going up\n"
	  "from 5 minutes to 1 day, 1 week and 1 year while HTTPS answers; or stop (off);\n"
	  "nothing: say which max-age is sent" },
	{ "server:start", cmd_server_start, 0, 0, 0, "", NULL,
	  "start the runtime (the s6 supervision tree of the root) in the background" },
	{ "server:status", cmd_server_status, 0, 0, 0, "[--json]", server_status_opts,
	  "say whether the runtime runs, and what it supervises" },
	{ "server:stop", cmd_server_stop, 0, 0, 0, "", NULL,
	  "stop what the runtime supervises, then the runtime" },
	{ "server:promote", cmd_server_promote, 0, 0, 0, "--confirm HOST", server_promote_opts,
	  "on a standby control: check the root (fsck), then make this server the writer in\n"
	  "its control's place, which is fenced: its mirror pushes and releases are refused" },
	{ "server:run", cmd_server_run, 0, 0, 0, "", NULL,
	  "run the runtime in the foreground (for systemd: ExecStart=slipway server:run)" },
	{ "server:reload", cmd_server_reload, 0, 0, 0, "", NULL,
	  "restart the runtime's own slipway services (the dashboard, the schedules, the rollback\n"
	  "watches) on this slipway, as after an upgrade; apps, add-ons and the router keep running" },
	{ "watch:run", cmd_watch_run, CMD_APP | CMD_HIDDEN, 1, 1,
	  "vN --previous vP -a APP", watch_run_opts,
	  "watch a release that just went live and roll back to vP if it crashes (what a push starts)" },
	{ "instance:run", cmd_instance_run, CMD_APP | CMD_HIDDEN, 1, 1,
	  "TYPE.N --port PORT [--release vN] -a APP", instance_run_opts,
	  "run one process instance of a release in the foreground (what a service runs)" },
	{ "dashboard", cmd_dashboard, CMD_CLIENT, 0, 0, "[--no-browser]", dashboard_opts,
	  "log in to the dashboard in your browser (in a checkout: as your key's user on its server)" },
	{ "dashboard:login", cmd_dashboard_login, CMD_REMOTE, 0, 0, "", NULL,
	  "print a link that logs you in to the dashboard in a browser (once, within 2 minutes)" },
	{ "dashboard:logout", cmd_dashboard_logout, CMD_REMOTE, 0, 0, "[--all]", dashboard_logout_opts,
	  "end your dashboard sessions (--all: the operator ends everyone's)" },
	{ "dashboard:run", cmd_dashboard_run, 0, 0, 0, "", NULL,
	  "run the dashboard's server in the foreground (what the service runs)" },
	{ "dashboard:certs:add", cmd_dashboard_certs_add, 0, 0, 2, "[CRT KEY] [--bypass]",
	  certs_add_opts,
	  "serve the dashboard over HTTPS at slipway.dashboardHost with a certificate (as certs:add;\n"
	  "neither CRT nor KEY: a PEM bundle of both on stdin); HTTP is then redirected" },
	{ "dashboard:certs:remove", cmd_dashboard_certs_remove, 0, 0, 0, "", NULL,
	  "remove the dashboard's SSL certificate: it is served over HTTP only again" },
	{ "dashboard:certs:hsts", cmd_dashboard_certs_hsts, 0, 0, 1, "[on|off]", NULL,
	  "send Strict-Transport-Security on the dashboard's HTTPS answers, ramped up as\n"
	  "certs:hsts does for an app's; or stop (off); nothing: say which max-age is sent" },
	{ "dashboard:certs:auto", cmd_dashboard_certs_auto, 0, 0, 0, "", NULL,
	  "show the status of the dashboard's automatic certificate" },
	{ "dashboard:certs:auto:enable", cmd_dashboard_certs_auto_enable, 0, 0, 0, "", NULL,
	  "get the dashboard a certificate for slipway.dashboardHost from the ACME CA (as\n"
	  "certs:auto:enable), after checking it points to this server; renewed as an app's" },
	{ "dashboard:certs:auto:disable", cmd_dashboard_certs_auto_disable, 0, 0, 0, "", NULL,
	  "turn automatic certificates off for the dashboard (its certificate stays until removed)" },
	{ "dashboard:certs:auto:refresh", cmd_dashboard_certs_auto_refresh, 0, 0, 0, "", NULL,
	  "get the dashboard a new certificate now, before its renewal is due" },
	{ "keys", cmd_keys, 0, 0, 0,
	  "", NULL,
	  "list the ssh keys installed for users" },
	{ "keys:add", cmd_keys_add, 0, 1, 2,
	  "USER [KEYFILE|-]", NULL,
	  "let USER push and run commands over ssh with a public key (default: from stdin)" },
	{ "keys:remove", cmd_keys_remove, 0, 1, 1,
	  "USER", NULL,
	  "remove every key of USER" },
	{ "access", cmd_access, CMD_APP, 0, 0,
	  "-a APP", NULL,
	  "list the users who can use an app" },
	{ "access:add", cmd_access_add, CMD_APP, 1, 1,
	  "USER -a APP", NULL,
	  "let USER push to an app and run its commands over ssh" },
	{ "access:remove", cmd_access_remove, CMD_APP, 1, 1,
	  "USER -a APP", NULL,
	  "take USER's access to an app away" },
	{ "apps:hosts", cmd_apps_hosts, CMD_APP, 0, 0,
	  "-a APP", NULL,
	  "list the hosts that serve an app (all of them unless apps:hosts:set said which)" },
	{ "apps:hosts:set", cmd_apps_hosts_set, CMD_APP, 1, 1,
	  "h1,h2|all -a APP", NULL,
	  "set the hosts that serve an app (local is this server; all: every host, the default),\n"
	  "point the router at them, and stop the app on a run host left out" },
	{ "hosts", cmd_hosts, 0, 0, 0,
	  "", NULL,
	  "list the run hosts of this server (it is \"local\"), whether each answers, and its version" },
	{ "hosts:add", cmd_hosts_add, 0, 2, 2,
	  "NAME ssh://slipway@ADDRESS[:PORT]", NULL,
	  "join a run host: reach its node agent over ssh with this server's key, check its version\n"
	  "and clock, and record it (a host that does not trust the key yet: says what to run there)" },
	{ "hosts:remove", cmd_hosts_remove, 0, 1, 1,
	  "NAME [--drain]", hosts_remove_opts,
	  "stop using a run host, and forget its ssh host key; the routers of the apps it served\n"
	  "follow (--drain: before it goes)" },
	{ "hosts:apply", cmd_hosts_apply, CMD_APP | CMD_HIDDEN, 0, -1,
	  "[HOST...] -a APP", NULL,
	  "make the app's current release the one run hosts run (its node agent starts it there\n"
	  "through the gate and switches that host's router), and list its instances there; with\n"
	  "several hosts (none: the app's, else every one) each starts it beside the old one\n"
	  "first, and only when all passed the gate do they switch, else none does" },
	{ "hosts:allow", cmd_hosts_allow, 0, 1, 3,
	  "KEY [--standby]", hosts_allow_opts,
	  "on a run host: let the control whose public key is KEY run this host's node agent\n"
	  "over ssh, and nothing else (what hosts:add says to run)" },
	{ "node-agent", cmd_node_agent, CMD_HIDDEN, 0, 0,
	  "", NULL,
	  "answer one request of a control (the forced command of the keys added with hosts:allow;\n"
	  "reads SSH_ORIGINAL_COMMAND, else a line on stdin)" },
	{ "mirror-receive", cmd_mirror_receive, CMD_HIDDEN, 0, 0,
	  "", NULL,
	  "take one mirror push of this standby's control (the forced command of the key added\n"
	  "with hosts:allow --standby; reads SSH_ORIGINAL_COMMAND, else a line on stdin)" },
	{ "shell", cmd_shell, CMD_HIDDEN, 1, 1,
	  "USER", NULL,
	  "the forced command of the keys added with keys:add (reads SSH_ORIGINAL_COMMAND)" },
	{ "completion", cmd_completion, CMD_HERE, 1, 1,
	  "bash", NULL,
	  "print the bash completion script: commands, their options, app names after -a\n"
	  "and git remotes after -r (load it with: source <(slipway completion bash))" },
	{ "help", cmd_help, CMD_REMOTE | CMD_HERE, 0, 1,
	  "[COMMAND]", NULL,
	  "show help" },
	{ NULL, NULL, 0, 0, 0, NULL, NULL, NULL },
};

/* ---- the dispatcher ---- */

const struct cmd *cli_find(const char *name)
{
	for (const struct cmd *c = cli_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

int cli_remote_allowed(const char *name)
{
	const struct cmd *c = cli_find(name);
	return c && (c->flags & CMD_REMOTE);
}

/*
 * 1 if cmd takes its app from $SLIPWAY_APP or the checkout's git remote
 * when -a is not given: those that need one, and those sent to servers
 * that accept one (addons: the app's, as Heroku's does in a checkout).
 */
static int app_from_checkout(const struct cmd *cmd)
{
	return (cmd->flags & CMD_APP) ||
	       (cmd->flags & (CMD_APP_OPT | CMD_REMOTE)) == (CMD_APP_OPT | CMD_REMOTE);
}

void cli_option_groups(const struct cmd *cmd, const struct opt *groups[4])
{
	size_t n = 0;
	if (app_from_checkout(cmd))
		groups[n++] = cli_app_opts;
	else if (cmd->flags & CMD_APP_OPT)
		groups[n++] = app_only_opts;
	else if (cli_forwarded(cmd) || (cmd->flags & CMD_CLIENT))
		groups[n++] = remote_opts;
	if (cmd->opts)
		groups[n++] = cmd->opts;
	groups[n++] = common_opts;
	groups[n] = NULL;
}

void cli_print_help(FILE *f, const struct cmd *cmd, int remote_user)
{
	const struct opt *groups[4];
	cli_option_groups(cmd, groups);
	if (remote_user) /* over ssh, --root is not for the user (the last group) */
		for (size_t i = 0; groups[i]; i++)
			if (groups[i] == common_opts)
				groups[i] = NULL;
	cli_print_usage(f, cmd);
	fprintf(f, "\n%s\n\nOptions:\n", cmd->help);
	opt_print_help(f, groups);
}

static void print_cmd_help(const struct cli *c, const struct cmd *cmd)
{
	cli_print_help(stdout, cmd, c->shell_user != NULL);
}

void cli_print_commands(unsigned need)
{
	for (const struct cmd *c = cli_commands; c->name; c++)
		if (!(c->flags & CMD_HIDDEN) && (c->flags & need) == need)
			opt_print_item(stdout, c->name, c->help);
}

static int cmd_help(struct cli *c)
{
	/* a remote user sees what they may run, as they would type it with the client */
	unsigned need = c->shell_user ? CMD_REMOTE : 0;
	if (c->nargs) {
		const struct cmd *cmd = cli_find(c->args[0]);
		if (!cmd || (cmd->flags & need) != need)
			return cli_usage(NULL, "'%s' is not a slipway command%s", c->args[0],
					 cmd ? " you can run here" : "");
		print_cmd_help(c, cmd);
		return 0;
	}
	printf("Usage: slipway %sCOMMAND [ARGS] [-a APP]\n\nCommands:\n",
	       c->shell_user ? "" : "[--root DIR] ");
	cli_print_commands(need);
	printf("\nRun 'slipway COMMAND --help' for a command's options.\n");
	return 0;
}

/* The forced command of ssh keys: only what the table lets remote users run. */
static int cmd_shell(struct cli *c)
{
	struct shell_opts o = SHELL_OPTS_INIT;
	o.root = c->root;
	o.user = c->args[0];
	o.line = getenv("SSH_ORIGINAL_COMMAND");
	o.allowed = cli_remote_allowed;
	fflush(stdout);
	shell_run(&o);
	return cli_fail();
}

/* The shell completion script made from the table: bash only (completion.h). */
static int cmd_completion(struct cli *c)
{
	if (strcmp(c->args[0], "bash"))
		return cli_usage(c->cmd, "unknown shell '%s': slipway completes only bash",
				 c->args[0]);
	completion_write_bash(stdout);
	return 0;
}

int cli_forwarded(const struct cmd *cmd)
{
	return (cmd->flags & CMD_REMOTE) && !(cmd->flags & CMD_HERE);
}

/*
 * Whether a root was chosen here: --root, or $SLIPWAY_ROOT when no -r
 * names a remote (or a remote user's `slipway shell`, which gives --root).
 */
static int root_given(const struct cli *c)
{
	const char *env = getenv("SLIPWAY_ROOT");
	return c->root || c->shell_user || (env && *env && !c->remote);
}

/*
 * The remote (-r NAME, else heroku) when the command needs one: to name
 * its app, or to run on its server.  0, with rem left empty when there is
 * no heroku remote; else the exit code after the message.
 */
static int find_remote(struct cli *c, const struct cmd *cmd, struct app_remote *rem)
{
	int wants_app = app_from_checkout(cmd) && !c->app;
	int needed = c->remote || wants_app || (cli_forwarded(cmd) && !root_given(c));
	if (!needed && (root_given(c) || (cmd->flags & CMD_HERE)))
		return 0;
	/* else only to tell whether this is a checkout of a server's app */
	int err = app_remote_lookup(rem, c->remote ? c->remote : "heroku");
	if (!needed || (err == SW_ENOTFOUND && !c->remote))
		return 0; /* on an error rem is left empty */
	return err < 0 ? cli_fail() : 0;
}

/*
 * A command that is not sent to servers, typed in a checkout of a server's
 * app without a root of its own: it would act on this machine instead.
 */
static int operator_only(const struct cmd *cmd, const struct cli *c)
{
	say(stderr, SAY_ERROR, "%s is an operator command: run it on the server itself, not through "
			       "the git remote '%s' (--root DIR runs it here)",
	    cmd->name, c->remote ? c->remote : "heroku");
	return 1;
}

/* The words that run c's command on a server: the same options and arguments, and -a APP. */
static void forward_words(const struct cli *c, const struct cmd *cmd, struct strvec *out)
{
	int dashdash = 0;
	strvec_push(out, cmd->name);
	if (c->app && (cmd->flags & (CMD_APP | CMD_APP_OPT))) {
		strvec_push(out, "-a");
		strvec_push(out, c->app);
	}
	if (cmd->opts)
		opt_unparse((const struct opt *const[]){ cmd->opts, NULL }, c->options, out);
	for (int i = 0; i < c->nargs; i++)
		dashdash |= c->args[i][0] == '-';
	if (dashdash)
		strvec_push(out, "--"); /* arguments that look like options stay arguments */
	for (int i = 0; i < c->nargs; i++)
		strvec_push(out, c->args[i]);
}

/* Sends the command to rem's server: returns only when ssh cannot run. */
static int forward(struct cli *c, const struct cmd *cmd, const struct app_remote *rem)
{
	struct strvec words = STRVEC_INIT;
	if ((cmd->flags & CMD_APP) && !c->app)
		return cli_usage(cmd, "no app specified: use -a APP");
	/* certs:add's files are this machine's: sent on stdin */
	int rc = cmd->fn == cmd_certs_add ? cmd_certs_add_forward(c) : 0;
	if (rc)
		return rc;
	forward_words(c, cmd, &words);
	/* a terminal only where one is needed: the server refuses it for the rest (shell.c) */
	int tty = cmd->fn == cmd_run ? cmd_run_tty(c)
		  : cmd->fn == cmd_pg_psql ? cmd_pg_psql_tty(c)
		  : cmd->fn == cmd_redis_cli && cmd_redis_cli_tty(c);
	rc = remote_exec(rem, (const char *const *)words.v, tty);
	strvec_clear(&words);
	return rc;
}

/*
 * Parses argv into c and its command's args struct (c->options): 1 when
 * the command is to run, else 0 with *rc its exit code (a usage error, or
 * the help --help asked for).
 */
static int parse_line(struct cli *c, const struct cmd *cmd, int argc, char **argv, int *rc)
{
	const struct opt *groups[4];
	void *bases[4];
	cli_option_groups(cmd, groups);
	/* the command's own options go into its args struct, the shared ones into c */
	for (size_t i = 0; groups[i]; i++)
		bases[i] = groups[i] == cmd->opts ? c->options : (void *)c;
	unsigned leading = cmd->flags & CMD_ARGV ? OPT_PARSE_LEADING | OPT_PARSE_DASHDASH : 0;
	int n = opt_parse_each(groups, bases, argc, argv, cmd->name, leading);
	if (n < 0) {
		*rc = cli_usage(cmd, "%s", sw_error_last());
		return 0;
	}
	c->args = leading ? argv + n : argv;
	c->nargs = leading ? argc - n : n;
	n = c->nargs;
	*rc = 0;
	if (c->help)
		print_cmd_help(c, cmd);
	else if (n < cmd->min_args || (cmd->max_args >= 0 && n > cmd->max_args))
		*rc = cli_usage(cmd, n < cmd->min_args ? "missing argument for %s"
						       : "too many arguments for %s", cmd->name);
	else
		return 1;
	return 0;
}

/*
 * 0 when the operator runs cmd (c->shell_user is NULL), or when the remote
 * user may run it (a CMD_REMOTE command, on an app they can use); else
 * prints the refusal and returns 1.
 */
static int remote_check(struct cli *c, const struct cmd *cmd)
{
	if (!c->shell_user)
		return 0;
	if (!(cmd->flags & CMD_REMOTE)) {
		say(stderr, SAY_ERROR, "'%s' cannot be run over ssh: ask the server's operator",
		    cmd->name);
		return 1;
	}
	if ((cmd->flags & CMD_APP) && access_check(c->root, c->app, c->shell_user) < 0)
		return cli_fail();
	return 0;
}

int cli_run(struct cli *c, const struct cmd *cmd, int argc, char **argv)
{
	struct app_remote rem = APP_REMOTE_INIT, down = APP_REMOTE_INIT;
	char *root = NULL;
	int rc;
	c->cmd = cmd;
	c->shell_user = getenv("SLIPWAY_SHELL_USER");
	c->options = cmd->opts ? xcalloc(1, opt_size(cmd->opts)) : NULL;
	if (!parse_line(c, cmd, argc, argv, &rc))
		goto done;
	if ((rc = find_remote(c, cmd, &rem)))
		goto done;
	const char *env_app = getenv("SLIPWAY_APP");
	if (app_from_checkout(cmd) && !c->app)
		c->app = env_app && *env_app && !c->shell_user ? env_app : rem.app;
	if (cmd->fn == cmd_promote && !c->shell_user)
		promote_next_stage(c, &rem, &down);
	if (rem.kind == APP_REMOTE_SSH && !root_given(c) && (cmd->flags & CMD_CLIENT)) {
		c->ssh_remote = &rem;
		rc = cmd->fn(c);
		goto done;
	}
	if (rem.kind == APP_REMOTE_SSH && !root_given(c) && !(cmd->flags & CMD_HERE)) {
		rc = cli_forwarded(cmd) ? forward(c, cmd, &rem) : operator_only(cmd, c);
		goto done;
	}
	if ((cmd->flags & CMD_APP) && !c->app) {
		rc = cli_usage(cmd, "no app specified: use -a APP");
		goto done;
	}
	if (root_resolve(c->root, &root) < 0) {
		rc = cli_fail();
		goto done;
	}
	c->root = root;
	c->user = app_actor();
	rc = remote_check(c, cmd); /* 0 unless a remote user may not */
	if (!rc)
		rc = cmd->fn(c);
	free(c->user);
done:
	free(root);
	free(c->options);
	c->options = NULL;
	app_remote_release(&rem);
	app_remote_release(&down);
	return rc;
}
