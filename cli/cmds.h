/*
 * cmds.h - the functions of cli_commands[] (cli.h), by the file that has
 * them, and what they share.  Each takes the parsed command line and
 * returns the exit code.
 *
 * Part of cli/: may use every folder; with hooks/ the only one that prints on
 * its own.
 */
#ifndef SW_CMDS_H
#define SW_CMDS_H

#include "cli/cli.h"
#include "release/activate.h"

struct buf;
struct ledger;
struct change_result;
struct release;

/* cmd_apps.c */
int cmd_apps(struct cli *c);
int cmd_apps_create(struct cli *c);
int cmd_apps_destroy(struct cli *c);

/* cmd_releases.c */
int cmd_releases(struct cli *c);
int cmd_releases_info(struct cli *c);
int cmd_releases_output(struct cli *c);
int cmd_rollback(struct cli *c);

/* cmd_builds.c */
int cmd_builds(struct cli *c);
int cmd_builds_output(struct cli *c);
int cmd_releases_retry(struct cli *c);

/* cmd_diff.c */
int cmd_releases_diff(struct cli *c);

/* cmd_config.c */
int cmd_config(struct cli *c);
int cmd_config_get(struct cli *c);
int cmd_config_set(struct cli *c);
int cmd_config_unset(struct cli *c);

/* cmd_slugs.c */
int cmd_slugs_info(struct cli *c);
int cmd_slugs_contents(struct cli *c);
int cmd_slugs_extract(struct cli *c);
/* The hex of a slug checksum argument ("SHA256:<hex>" or "<hex>"), NULL if it is none. */
const char *slug_arg_hex(const char *arg);
/* The newest release in l whose slug is hex into r (RELEASE_INIT): 1, 0 if none, or < 0. */
int slug_owner(struct ledger *l, const char *hex, struct release *r);

/* cmd_promote.c: releases without a build */
int cmd_promote(struct cli *c);
int cmd_deploy(struct cli *c);

/* cmd_buildpacks.c */
int cmd_buildpacks(struct cli *c);
int cmd_buildpacks_add(struct cli *c);
int cmd_buildpacks_set(struct cli *c);
int cmd_buildpacks_remove(struct cli *c);
int cmd_buildpacks_clear(struct cli *c);
int cmd_repo_purge_cache(struct cli *c);

/* cmd_admin.c */
int cmd_fsck(struct cli *c);
int cmd_gc(struct cli *c);

/* cmd_settings.c */
int cmd_settings(struct cli *c);

/* cmd_server.c: the runtime's supervision tree */
int cmd_server_start(struct cli *c);
int cmd_server_status(struct cli *c);
int cmd_server_stop(struct cli *c);
int cmd_server_run(struct cli *c);
int cmd_instance_run(struct cli *c);
int cmd_watch_run(struct cli *c);

/* cmd_ps.c */
int cmd_ps(struct cli *c);
int cmd_ps_scale(struct cli *c);
int cmd_ps_restart(struct cli *c);
/* "web" or "web.1": a process type, or one instance of it */
int ps_name_valid(const char *s);

/* cmd_router.c */
int cmd_maintenance(struct cli *c);
int cmd_maintenance_on(struct cli *c);
int cmd_maintenance_off(struct cli *c);
int cmd_open(struct cli *c);
int cmd_domains(struct cli *c);
int cmd_domains_add(struct cli *c);
int cmd_domains_remove(struct cli *c);
int cmd_apps_info(struct cli *c);

/* cmd_logs.c */
int cmd_logs(struct cli *c);

/* cmd_run.c */
int cmd_run(struct cli *c);

/* cmd_access.c: ssh access */
int cmd_shell(struct cli *c);
int cmd_keys(struct cli *c);
int cmd_keys_add(struct cli *c);
int cmd_keys_remove(struct cli *c);
int cmd_access(struct cli *c);
int cmd_access_add(struct cli *c);
int cmd_access_remove(struct cli *c);

/*
 * 0 when the operator runs cmd (c->shell_user is NULL), or when the remote
 * user may run it (a CMD_REMOTE command, on an app they can use); else
 * prints the refusal and returns 1.
 */
int cli_remote_check(struct cli *c, const struct cmd *cmd);

/* commands.c: shared by the commands */

/* Writes b to stdout and releases it. */
void cli_put(struct buf *b);

/* Opens c->app's ledger: 0, or the exit code after the message (no such app...). */
int cli_open_app(struct cli *c, struct ledger **l);

/*
 * The git URL to push app to: its repository's path for the operator; for
 * a remote user slipway.gitUrl (settings_git_url), else USER@HOST:APP.git
 * (the server account and the address ssh reached), or
 * ssh://USER@HOST:PORT/APP.git when ssh was reached on a port other than
 * 22.  Malloc'ed, or NULL
 * with the error set.
 */
char *cli_git_url(const struct cli *c, const char *app);

/* What a remote user is told when the runtime is not running: it is not theirs to start. */
#define CLI_RUNTIME_STOPPED ACTIVATE_RUNTIME_STOPPED

/* Why a new release waits, as the one who ran the command can act on it. */
const char *cli_not_running(const struct cli *c);

/* The new release's release phase failed: it is recorded, but not live.  Returns 1. */
int cli_release_failed(struct cli *c, const struct change_result *res);

#endif
