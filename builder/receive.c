#include "receive.h"

#include "build.h"
#include "../store/app.h"
#include "../store/error.h"
#include "../store/gitutil.h"
#include "../store/util.h"

#include <stdlib.h>
#include <string.h>

static int is_zero(const char *sha)
{
	return strspn(sha, "0") == strlen(sha);
}

static int is_sha(const char *s)
{
	return strlen(s) == 40 && strspn(s, "0123456789abcdef") == 40;
}

static int branch_exists(const char *git_dir, const char *branch)
{
	git_repository *repo;
	git_oid oid;
	if (sw_git_open(&repo, git_dir))
		return 0;
	char *ref = xasprintf("refs/heads/%s", branch);
	int ok = git_reference_name_to_id(&oid, repo, ref) == 0;
	free(ref);
	git_repository_free(repo);
	return ok;
}

/* The branch that deploys: configured, else main, else master if it exists. */
static char *deploy_branch(const char *root, const char *app, const char *git_dir)
{
	char *b = NULL;
	if (app_deploy_branch(root, app, &b) == 0 && b)
		return b;
	if (!branch_exists(git_dir, "main") && branch_exists(git_dir, "master"))
		return xstrdup("master");
	return xstrdup("main");
}

static int lock_wait(void)
{
	const char *s = getenv("SLIPWAY_LOCK_TIMEOUT");
	int v = s ? atoi(s) : 0;
	return v > 0 ? v : 600;
}

int receive_post(FILE *in, FILE *out, const char *git_dir)
{
	char *root = NULL, *app = NULL, *branch = NULL, *user = NULL;
	char line[1024];
	int failed = 0;

	if (app_from_repo(git_dir, &root, &app) < 0) {
		fprintf(out, " !     %s\n", sw_error_last());
		return 1;
	}
	branch = deploy_branch(root, app, git_dir);
	user = app_actor();
	while (fgets(line, sizeof(line), in)) {
		char old[64], new[64], ref[512];
		if (sscanf(line, "%63s %63s %511s", old, new, ref) != 3 || !is_sha(old) ||
		    !is_sha(new))
			continue;
		const char *name = strncmp(ref, "refs/heads/", 11) ? NULL : ref + 11;
		if (!name) {
			fprintf(out, "-----> Ignoring %s: only branches are built\n", ref);
		} else if (is_zero(new)) {
			fprintf(out, "-----> Deleted branch %s; nothing to build\n", name);
		} else if (strcmp(name, branch)) {
			fprintf(out, "-----> Pushed to branch %s, which is not the deploy branch (%s); not building\n",
				name, branch);
		} else {
			struct build_opts o = BUILD_OPTS_INIT;
			o.root = root;
			o.app = app;
			o.rev = new;
			o.branch = name;
			o.user = user;
			o.out = out;
			o.lock_wait_sec = lock_wait();
			if (build_deploy(&o, NULL, NULL) < 0)
				failed = 1;
		}
		fflush(out);
	}
	free(root);
	free(app);
	free(branch);
	free(user);
	return failed;
}

int receive_pre(FILE *in, FILE *out)
{
	char line[1024];
	int refused = 0;

	while (fgets(line, sizeof(line), in)) {
		char old[64], new[64], ref[512];
		if (sscanf(line, "%63s %63s %511s", old, new, ref) != 3)
			continue;
		if (strncmp(ref, "refs/heads/", 11) || !ref[11]) {
			fprintf(out, " !     Push to %s refused: only branches (refs/heads/*) can be pushed\n",
				ref);
			refused = 1;
		}
	}
	fflush(out);
	return refused;
}
