/* The buildpacks:* and repo:purge-cache commands (rows in cli_commands[]). */
#ifndef SW_CMD_BUILDPACKS_H
#define SW_CMD_BUILDPACKS_H

#include "hooks/cli.h"

int cmd_buildpacks(struct cli *c);
int cmd_buildpacks_add(struct cli *c);
int cmd_buildpacks_remove(struct cli *c);
int cmd_buildpacks_clear(struct cli *c);
int cmd_repo_purge_cache(struct cli *c);

#endif
