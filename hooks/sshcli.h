/*
 * sshcli.h - the commands for ssh access: shell, keys*, access*, and the
 * check made when a remote user (through `slipway shell`) runs a command.
 */
#ifndef SW_SSHCLI_H
#define SW_SSHCLI_H

#include "hooks/cli.h"

int cmd_shell(struct cli *c);
int cmd_keys(struct cli *c);
int cmd_keys_add(struct cli *c);
int cmd_keys_remove(struct cli *c);
int cmd_access(struct cli *c);
int cmd_access_add(struct cli *c);
int cmd_access_remove(struct cli *c);

/*
 * 0 when the operator runs cmd (c->shell_user is NULL), or when the remote
 * user may run it (a command allowed over ssh, on an app they can use);
 * else prints the refusal and returns 1.
 */
int cli_remote_check(struct cli *c, const struct cmd *cmd);

#endif
