/*
 * The standby control (docs/hosts.md): hosts:allow --standby, the
 * mirror-receive its authorized_keys forces, and server:promote.
 */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"

#include "access/keys.h"
#include "store/app.h"
#include "store/cas.h"
#include "store/fsck.h"
#include "store/paths.h"
#include "store/standby.h"
#include "util/error.h"
#include "util/say.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIRROR_REQUEST_MAX 16384

int standby_allow(struct cli *c, const struct keys_add_opts *o, const struct ssh_key *key)
{
	struct standby_state s = STANDBY_STATE_INIT;
	int added = 0, err = standby_read(c->root, &s);
	if (!err)
		err = keys_allow_standby(o, key, &added);
	if (!err) {
		free(s.name);
		s.name = xstrdup(*key->comment ? key->comment : key->fingerprint);
		s.role = STANDBY_STANDBY;
		err = standby_write(c->root, &s);
	}
	standby_state_release(&s);
	if (err)
		return cli_fail();
	printf("Trusting the control key %s%s%s to mirror its ledger here, as its standby... %s\n",
	       key->fingerprint, *key->comment ? " " : "", key->comment,
	       added ? "done" : "done, it was already");
	return 0;
}

/* The request: sshd's SSH_ORIGINAL_COMMAND, else one line of stdin. */
static char *mirror_request(void)
{
	const char *env = getenv("SSH_ORIGINAL_COMMAND");
	char line[MIRROR_REQUEST_MAX];
	if (env)
		return xstrdup(env);
	if (!fgets(line, sizeof(line), stdin))
		return xstrdup("");
	line[strcspn(line, "\n")] = '\0';
	return xstrdup(line);
}

/* The app a receive-pack path names ('/APP', '/APP.git', 'APP'), or NULL. */
static char *path_app(const char *word)
{
	size_t n = strlen(word);
	if (n < 3 || word[0] != '\'' || word[n - 1] != '\'')
		return NULL;
	char *app = xstrndup(word + 1 + (word[1] == '/'), n - 2 - (word[1] == '/'));
	size_t an = strlen(app);
	if (an > 4 && !strcmp(app + an - 4, ".git"))
		app[an - 4] = '\0';
	if (!app_name_valid(app)) {
		free(app);
		return NULL;
	}
	return app;
}

/* Prints the slugs of words this store lacks, one a line. */
static int mirror_has(struct cli *c, const struct strvec *w)
{
	for (size_t i = 3; i < w->n; i++)
		if (cas_valid_hex(w->v[i]) && cas_lookup(c->root, w->v[i], NULL) == SW_ENOTFOUND)
			printf("%s\n", w->v[i]);
	return 0;
}

/* Stores stdin as the slug hex, when its bytes hash to that name (at most slipway.maxSlugSize). */
static int mirror_slug(struct cli *c, const char *hex)
{
	struct cas_stream s = CAS_STREAM_INIT;
	if (!cas_valid_hex(hex))
		return sw_error_set(SW_EINVALID, "'%s' is not a slug's name", hex);
	s.what = "the slug sent";
	s.source = cas_source_file;
	s.ctx = stdin;
	return cas_store_stream(c->root, hex, &s);
}

/* git receive-pack into app's repository (made when missing), its hooks off. */
static int mirror_refs(struct cli *c, const char *app)
{
	struct app_create_opts co = APP_CREATE_OPTS_INIT;
	co.hook_exe = c->self;
	int err = app_create(c->root, app, &co);
	if (err < 0 && err != SW_EEXISTS)
		return err;
	char *repo = app_repo_path(c->root, app);
	/* the ledger's refs, hidden from users' pushes (store/app.h), are what is mirrored */
	const char *argv[] = { "git", "-c", "core.hooksPath=/dev/null",
			       "-c", "transfer.hideRefs=!refs/releases",
			       "-c", "transfer.hideRefs=!refs/slipway", "receive-pack", repo, NULL };
	fflush(stdout);
	execvp(argv[0], (char *const *)argv);
	err = sw_error_errno(SW_ERROR, "cannot run git receive-pack");
	free(repo);
	return err;
}

int cmd_mirror_receive(struct cli *c)
{
	struct strvec w = STRVEC_INIT;
	char *request = mirror_request(), *end = NULL, *app = NULL;
	int err = 0;
	for (char *tok = strtok(request, " "); tok; tok = strtok(NULL, " "))
		strvec_push(&w, tok);
	long long epoch = w.n >= 2 ? strtoll(w.v[1], &end, 10) : -1;
	if (w.n < 2 || strcmp(w.v[0], "slipway-mirror") || !end || *end || epoch < 0) {
		say(stderr, SAY_ERROR, "mirror-receive does not answer '%s': it takes the mirror "
				       "pushes of this server's control", w.n ? w.v[0] : "");
		err = 2;
		goto done;
	}
	if ((err = standby_take_mirror(c->root, epoch)) < 0)
		goto fail;
	if (w.n == 2)
		printf("ok\n");
	else if (!strcmp(w.v[2], "has"))
		err = mirror_has(c, &w);
	else if (!strcmp(w.v[2], "slug") && w.n == 4)
		err = mirror_slug(c, w.v[3]);
	else if (w.n == 3 && (app = path_app(w.v[2])))
		err = mirror_refs(c, app);
	else
		err = sw_error_set(SW_EINVALID, "mirror-receive does not take '%s'", w.v[2]);
fail:
	if (err < 0)
		err = cli_fail();
done:
	free(app);
	free(request);
	strvec_clear(&w);
	return err;
}

struct promote_args {
	const char *confirm;
};

const struct opt server_promote_opts[] = {
	OPT_STRING(0, "confirm", struct promote_args, confirm, "HOST", "this server's name",
		   "this server's host name, to confirm"),
	OPT_END_OF(struct promote_args),
};

int cmd_server_promote(struct cli *c)
{
	const struct promote_args *a = c->options;
	struct standby_state s = STANDBY_STATE_INIT;
	struct strvec problems = STRVEC_INIT;
	char host[256] = "";
	int rc = 1;
	gethostname(host, sizeof(host) - 1);
	if (standby_read(c->root, &s) < 0) {
		rc = cli_fail();
		goto done;
	}
	if (s.role != STANDBY_STANDBY) {
		say(stderr, SAY_ERROR, s.role == STANDBY_WRITER ?
		    "this server is the writer already (epoch %lld): only a standby is promoted" :
		    "this server was fenced (epoch %lld): make it a standby of the writer first",
		    s.epoch);
		goto done;
	}
	if (!a->confirm || strcmp(a->confirm, host)) {
		say(stderr, SAY_ERROR, "This makes this server the writer and fences %s: to proceed, "
				       "run: slipway server:promote --confirm %s", s.name, host);
		goto done;
	}
	if (fsck_run(c->root, NULL, &problems) < 0) {
		rc = cli_fail();
		goto done;
	}
	if (problems.n) {
		say(stderr, SAY_ERROR, "cannot promote: fsck found %zu problem%s, the first: %s",
		    problems.n, problems.n == 1 ? "" : "s", problems.v[0]);
		goto done;
	}
	printf("Promoting this server to the writer, fencing %s... ", s.name);
	fflush(stdout);
	s.epoch++;
	s.role = STANDBY_WRITER;
	free(s.name);
	s.name = xstrdup("-");
	if (standby_write(c->root, &s) < 0) {
		printf("failed\n");
		rc = cli_fail();
		goto done;
	}
	printf("done, epoch %lld\n", s.epoch);
	rc = 0;
done:
	strvec_clear(&problems);
	standby_state_release(&s);
	return rc;
}
