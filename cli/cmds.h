/*
 * cmds.h - the functions of cli_commands[] (cli.h) and their own option
 * arrays, by the file that has them: what the table names, and nothing
 * else.  Each function takes the parsed command line and returns the exit
 * code; each array stores into a struct of its file's (c->options,
 * common.h).
 *
 * Part of cli/: may use every folder; with hooks/ the only one that prints on
 * its own.
 */
#ifndef SW_CMDS_H
#define SW_CMDS_H

#include "cli/opt.h"

struct app_remote;
struct cli;
struct buf;

/* cmd_apps.c */
int cmd_apps(struct cli *c);
int cmd_apps_create(struct cli *c);
int cmd_apps_info(struct cli *c);
int cmd_apps_destroy(struct cli *c);
extern const struct opt apps_opts[], apps_create_opts[], apps_destroy_opts[];

/* cmd_pg.c */
int cmd_pg_psql(struct cli *c);
int cmd_redis_cli(struct cli *c);
int cmd_pg_info(struct cli *c);
int cmd_redis_info(struct cli *c);
/* 1 when the console wants a terminal: stdin is one (and pg:psql has no --command) */
int cmd_pg_psql_tty(const struct cli *c);
int cmd_redis_cli_tty(const struct cli *c);
extern const struct opt pg_psql_opts[], dbinfo_opts[];

/* cmd_addons.c */
int cmd_addons(struct cli *c);
int cmd_addons_create(struct cli *c);
int cmd_addons_info(struct cli *c);
int cmd_addons_attach(struct cli *c);
int cmd_addons_detach(struct cli *c);
int cmd_addons_destroy(struct cli *c);
/*
 * Destroys the add-ons named in owned, as addons:destroy NAME --confirm APP
 * would, each with its final backup; when one is attached to another app
 * none is destroyed.  0, or the exit status with the reason said.
 */
int addons_destroy_owned(struct cli *c, const struct strvec *owned);
extern const struct opt addons_opts[], addons_create_opts[], addons_info_opts[],
	addons_attach_opts[], addons_destroy_opts[];

/* cmd_backups.c */
int cmd_pg_backups(struct cli *c);
int cmd_pg_backups_capture(struct cli *c);
int cmd_pg_backups_restore(struct cli *c);
int cmd_pg_backups_download(struct cli *c);
int cmd_pg_backups_info(struct cli *c);
int cmd_pg_backups_schedule(struct cli *c);
extern const struct opt pg_backups_opts[], pg_backups_restore_opts[], pg_backups_info_opts[];

/* cmd_dashboard.c */
int cmd_dashboard(struct cli *c);
extern const struct opt dashboard_opts[];
int cmd_dashboard_run(struct cli *c);
int cmd_dashboard_login(struct cli *c);
int cmd_dashboard_logout(struct cli *c);
extern const struct opt dashboard_logout_opts[];
/* cmd_dashboard_certs.c */
int cmd_dashboard_certs_add(struct cli *c);
int cmd_dashboard_certs_remove(struct cli *c);

/* cmd_credentials.c */
int cmd_pg_credentials_rotate(struct cli *c);
int cmd_redis_credentials(struct cli *c);
extern const struct opt pg_credentials_rotate_opts[], redis_credentials_opts[];

/* cmd_certs.c */
int cmd_certs(struct cli *c);
int cmd_certs_add(struct cli *c);
int cmd_certs_info(struct cli *c);
int cmd_certs_remove(struct cli *c);
/* cmd_hsts.c */
int cmd_certs_hsts(struct cli *c);
/*
 * gc: takes each app's HSTS step that is due, and the dashboard's
 * (store/hsts.h); *taken counts the apps', *dashboard is 1 when it took
 * the dashboard's.
 */
int certs_hsts_steps(const char *root, int *taken, int *dashboard);
int cmd_dashboard_certs_hsts(struct cli *c);
/* What certs:add is given: the CRT and KEY files, else the PEM bundle on stdin (into text). */
int certs_read_pem(const struct cli *c, struct buf *text);

/* The same, split into the certificate chain and its key (the text wiped). */
int certs_read_split(const struct cli *c, struct buf *chain, struct buf *key);

/* Wipes the key and frees both. */
void certs_pem_release(struct buf *chain, struct buf *key);

/*
 * The usage errors certs:add's (dashboard:certs:add's) arguments make, here
 * or on a server: 0 when there is none, else the usage's exit status.
 */
int certs_add_usage(const struct cli *c);

/* certs:add's options, dashboard:certs:add's too (certs_add_opts). */
struct certs_add_args {
	int bypass;
};

/* cmd_certs_auto.c */
int cmd_certs_auto(struct cli *c);
int cmd_certs_auto_enable(struct cli *c);
int cmd_certs_auto_disable(struct cli *c);
int cmd_certs_auto_hook(struct cli *c);
int cmd_certs_auto_refresh(struct cli *c);
int cmd_certs_auto_schedule(struct cli *c);
int cmd_dashboard_certs_auto(struct cli *c);
int cmd_dashboard_certs_auto_enable(struct cli *c);
int cmd_dashboard_certs_auto_disable(struct cli *c);
int cmd_dashboard_certs_auto_refresh(struct cli *c);
/*
 * Before certs:add is sent to a server: its CRT and KEY files, this
 * machine's, become its stdin (and it has no arguments); its usage errors
 * are told here.  0, or the exit code after the message.
 */
int cmd_certs_add_forward(struct cli *c);
extern const struct opt certs_add_opts[], certs_remove_opts[];

/* cmd_releases.c */
int cmd_releases(struct cli *c);
int cmd_releases_info(struct cli *c);
int cmd_releases_output(struct cli *c);
int cmd_rollback(struct cli *c);
int cmd_releases_retry(struct cli *c);
extern const struct opt releases_opts[], releases_info_opts[];

/* cmd_builds.c */
int cmd_builds(struct cli *c);
int cmd_builds_output(struct cli *c);
extern const struct opt builds_opts[];

/* cmd_diff.c */
int cmd_releases_diff(struct cli *c);
extern const struct opt releases_diff_opts[];

/* cmd_config.c */
int cmd_config(struct cli *c);
int cmd_config_get(struct cli *c);
int cmd_config_set(struct cli *c);
int cmd_config_unset(struct cli *c);
extern const struct opt config_opts[], config_get_opts[];

/* cmd_slugs.c */
int cmd_slugs_info(struct cli *c);
int cmd_slugs_contents(struct cli *c);
int cmd_slugs_extract(struct cli *c);

/* cmd_promote.c: releases without a build */
int cmd_promote(struct cli *c);
int cmd_deploy(struct cli *c);
extern const struct opt promote_opts[], deploy_opts[];
/*
 * Heroku's `pipelines:promote -r staging`: without --to, the app of the
 * checkout's heroku remote is the next stage, when -r names another
 * remote of the same server (rem).  Looked up into down (released by the
 * caller), for the dispatcher to call before it runs or forwards
 * cmd_promote.
 */
void promote_next_stage(struct cli *c, const struct app_remote *rem, struct app_remote *down);

/* cmd_buildpacks.c */
int cmd_buildpacks(struct cli *c);
int cmd_buildpacks_add(struct cli *c);
int cmd_buildpacks_set(struct cli *c);
int cmd_buildpacks_remove(struct cli *c);
int cmd_buildpacks_clear(struct cli *c);
int cmd_repo_purge_cache(struct cli *c);
extern const struct opt buildpacks_index_opts[];

/* cmd_admin.c */
int cmd_fsck(struct cli *c);
int cmd_gc(struct cli *c);
extern const struct opt fsck_opts[], gc_opts[];

/* cmd_settings.c */
int cmd_settings(struct cli *c);
int cmd_settings_set(struct cli *c);
int cmd_settings_unset(struct cli *c);
extern const struct opt settings_opts[];

/* cmd_server.c: the runtime's supervision tree */
int cmd_server_start(struct cli *c);
int cmd_server_status(struct cli *c);
int cmd_server_stop(struct cli *c);
int cmd_server_run(struct cli *c);
int cmd_server_reload(struct cli *c);
int cmd_instance_run(struct cli *c);
int cmd_watch_run(struct cli *c);
extern const struct opt server_status_opts[], instance_run_opts[], watch_run_opts[];

/* cmd_ps.c */
int cmd_ps(struct cli *c);
int cmd_ps_scale(struct cli *c);
int cmd_ps_restart(struct cli *c);
int cmd_ps_resize(struct cli *c);
extern const struct opt ps_opts[];

/* cmd_router.c */
int cmd_maintenance(struct cli *c);
int cmd_maintenance_on(struct cli *c);
int cmd_maintenance_off(struct cli *c);
int cmd_open(struct cli *c);
int cmd_domains(struct cli *c);
int cmd_domains_add(struct cli *c);
int cmd_apps_hosts(struct cli *c);
int cmd_apps_hosts_set(struct cli *c);
int cmd_domains_remove(struct cli *c);
extern const struct opt domains_opts[];

/* cmd_logs.c */
int cmd_logs(struct cli *c);
extern const struct opt logs_opts[];

/* cmd_run.c */
int cmd_run(struct cli *c);
extern const struct opt run_opts[];
/* 1 when the command run runs gets a terminal: stdin is one and --no-tty was not given. */
int cmd_run_tty(const struct cli *c);

/* cmd_access.c: ssh access */
int cmd_hosts(struct cli *c);
int cmd_hosts_add(struct cli *c);
int cmd_hosts_remove(struct cli *c);
extern const struct opt hosts_remove_opts[];
int cmd_hosts_allow(struct cli *c);
int cmd_hosts_apply(struct cli *c);
int cmd_node_agent(struct cli *c);
extern const struct opt hosts_allow_opts[];
struct keys_add_opts;
struct ssh_key;
/* hosts:allow --standby: the key mirrors its ledger here (cmd_standby.c) */
int standby_allow(struct cli *c, const struct keys_add_opts *o, const struct ssh_key *key);
int cmd_mirror_receive(struct cli *c);
int cmd_server_promote(struct cli *c);
extern const struct opt server_promote_opts[];
int cmd_keys(struct cli *c);
int cmd_keys_add(struct cli *c);
int cmd_keys_remove(struct cli *c);
int cmd_access(struct cli *c);
int cmd_access_add(struct cli *c);
int cmd_access_remove(struct cli *c);

#endif
