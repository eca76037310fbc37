/* The ssh access commands: keys, keys:add, keys:remove, access, access:add, access:remove. */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"

#include "access/access.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "access/keys.h"
#include "dashboard/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int print_key(const char *user, const struct ssh_key *key, void *ctx)
{
	int *n = ctx;
	if (!(*n)++)
		printf("=== Keys\n");
	printf("%s %s %s%s%s\n", user, key->type, key->fingerprint, *key->comment ? " " : "",
	       key->comment);
	return 0;
}

int cmd_keys(struct cli *c)
{
	char *file = NULL;
	int n = 0;
	(void)c;
	if (keys_path(&file) < 0 || keys_list(file, print_key, &n) < 0) {
		free(file);
		return cli_fail();
	}
	if (!n)
		printf("No keys in %s. Add one with: slipway keys:add USER KEYFILE\n", file);
	free(file);
	return 0;
}

/* The key text from KEYFILE, or stdin for "-" or no argument. */
static int read_key_text(struct cli *c, char **text)
{
	if (c->nargs > 1 && strcmp(c->args[1], "-"))
		return fs_read_file(c->args[1], KEY_TEXT_MAX + 1, text, NULL);
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0 && b.len <= KEY_TEXT_MAX)
		buf_add(&b, chunk, n);
	*text = buf_detach(&b);
	return 0;
}

int cmd_keys_add(struct cli *c)
{
	struct keys_add_opts o = KEYS_ADD_OPTS_INIT;
	struct ssh_key key = SSH_KEY_INIT;
	char *text = NULL, *file = NULL;
	int rc = 0;

	if (access_user_new_check(c->args[0]) < 0 || read_key_text(c, &text) < 0 ||
	    key_parse(&key, text) < 0 || keys_path(&file) < 0) {
		rc = cli_fail();
		goto done;
	}
	o.file = file;
	o.exe = c->self;
	o.root = c->root;
	if (keys_add(&o, c->args[0], &key) < 0) {
		rc = cli_fail();
		goto done;
	}
	printf("Adding %s key %s for %s... done\n", key.type, key.fingerprint, c->args[0]);
done:
	key_release(&key);
	free(text);
	free(file);
	return rc;
}

int cmd_keys_remove(struct cli *c)
{
	char *file = NULL;
	int n = 0;
	int ended = 0;
	/* the dashboard's sessions go with the keys: nothing of theirs stays logged in */
	if (keys_path(&file) < 0 || keys_remove(file, c->args[0], &n) < 0 ||
	    session_end_user(c->root, c->args[0], 0, &ended) < 0) {
		free(file);
		return cli_fail();
	}
	printf("Removing the keys of %s... done, %d removed\n", c->args[0], n);
	if (ended)
		printf("Ended %d dashboard session%s of %s\n", ended, ended == 1 ? "" : "s", c->args[0]);
	free(file);
	return 0;
}

int cmd_access(struct cli *c)
{
	struct strvec users = STRVEC_INIT;
	if (access_list(c->root, c->app, &users) < 0)
		return cli_fail();
	if (!users.n)
		printf("%s has no collaborators. Add one with: slipway access:add USER -a %s\n",
		       c->app, c->app);
	else
		printf("=== %s Access\n", c->app);
	for (size_t i = 0; i < users.n; i++)
		printf("%s\n", users.v[i]);
	strvec_clear(&users);
	return 0;
}

int cmd_access_add(struct cli *c)
{
	if (access_add(c->root, c->app, c->args[0]) < 0)
		return cli_fail();
	printf("Adding %s to %s collaborators... done\n", c->args[0], c->app);
	return 0;
}

int cmd_access_remove(struct cli *c)
{
	if (access_remove(c->root, c->app, c->args[0]) < 0)
		return cli_fail();
	printf("Removing %s from %s collaborators... done\n", c->args[0], c->app);
	return 0;
}
