#define _GNU_SOURCE
#include "builder/bpsource.h"

#include "builder/buildpacks.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/gitutil.h"
#include "util/say.h"
#include "util/util.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int has_suffix(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && !memcmp(s + n - k, suffix, k);
}

/* https:// or git://: fetched from elsewhere, never from the server's own files. */
static int is_network_url(const char *spec)
{
	return !strncmp(spec, "https://", 8) || !strncmp(spec, "git://", 6);
}

int bpsource_kind(const char *spec, enum bpsource_kind *out)
{
	const char *hash = strchr(spec, '#');
	size_t n = hash ? (size_t)(hash - spec) : strlen(spec);

	if (is_network_url(spec) || !strncmp(spec, "file://", 7) ||
	    (spec[0] == '/' && has_suffix(spec, n, ".git"))) {
		if (n <= 8 || (hash && !hash[1]))
			goto bad;
		*out = BPSOURCE_GIT;
		return 0;
	}
	if (hash)
		goto bad;
	if (buildpacks_shipped_find(spec)) {
		*out = BPSOURCE_SHIPPED;
		return 0;
	}
	if (spec[0] == '/') {
		*out = BPSOURCE_DIR;
		return 0;
	}
	if (strspn(spec, "abcdefghijklmnopqrstuvwxyz0123456789-_.") == n && n && spec[0] != '.') {
		*out = BPSOURCE_SHIPPED;
		return 0;
	}
bad:
	return sw_error_set(SW_EINVALID,
		"'%s' is not a buildpack: give a shipped buildpack's name, an absolute directory, "
		"or a git URL (https://, git://, file:// or a path ending in .git, optionally with #ref)",
		spec);
}

int bpsource_allowed(const char *spec, const char *user)
{
	enum bpsource_kind kind;
	int err = bpsource_kind(spec, &kind);
	if (err || !user || kind == BPSOURCE_SHIPPED || (kind == BPSOURCE_GIT && is_network_url(spec)))
		return err;
	return sw_error_set(SW_EDENIED, "buildpack '%s' cannot be used over ssh: name a shipped "
			    "buildpack or an https:// or git:// URL", spec);
}

static char *spec_hash(const char *spec)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_Digest(spec, strlen(spec), md, &n, EVP_sha256(), NULL);
	char *hex = xmalloc(2 * n + 1);
	for (unsigned i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return hex;
}

/* The commit the clone should use: #ref as branch, tag or commit, else HEAD. */
static int find_commit(git_repository *repo, const char *ref, git_object **out)
{
	if (!ref)
		return git_revparse_single(out, repo, "HEAD") < 0
			? sw_git_error(SW_ERROR, "cannot find the buildpack's HEAD") : 0;
	const char *forms[] = { "refs/remotes/origin/%s", "refs/tags/%s", "%s", NULL };
	for (size_t i = 0; forms[i]; i++) {
		char *name = xasprintf(forms[i], ref);
		git_object *obj = NULL;
		int rc = git_revparse_single(&obj, repo, name);
		free(name);
		if (rc < 0)
			continue;
		rc = git_object_peel(out, obj, GIT_OBJECT_COMMIT);
		git_object_free(obj);
		if (rc == 0)
			return 0;
	}
	return sw_error_set(SW_ERROR, "the buildpack repository has no branch, tag or commit '%s'", ref);
}

/* Clones url (at ref, may be NULL) into dir and removes dir/.git. */
static int clone_into(const char *url, const char *ref, const char *dir)
{
	git_clone_options opts;
	git_checkout_options co;
	git_repository *repo = NULL;
	git_object *commit = NULL;
	int err;

	sw_git_init();
	git_clone_options_init(&opts, GIT_CLONE_OPTIONS_VERSION);
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	opts.checkout_opts.checkout_strategy = GIT_CHECKOUT_NONE;
	if (git_clone(&repo, url, dir, &opts) < 0) {
		char *what = xasprintf("cannot clone buildpack '%s'", url);
		err = sw_git_error(SW_ERROR, what);
		free(what);
		goto done;
	}
	if ((err = find_commit(repo, ref, &commit)))
		goto done;
	co.checkout_strategy = GIT_CHECKOUT_FORCE;
	if (git_checkout_tree(repo, commit, &co) < 0) {
		err = sw_git_error(SW_ERROR, "cannot check out the buildpack");
		goto done;
	}
	git_object_free(commit);
	commit = NULL;
	git_repository_free(repo);
	repo = NULL;
	char *dotgit = xasprintf("%s/.git", dir);
	err = fs_rm_rf(dotgit);
	free(dotgit);
done:
	git_object_free(commit);
	git_repository_free(repo);
	return err;
}

static int resolve_git(const char *root, const char *spec, run_line_fn on_line, void *ctx,
		       char **dir_out)
{
	char *cache = paths_buildpacks_cache(root);
	char *hex = spec_hash(spec);
	char *final = paths_buildpack_cached(root, hex);
	char *tmp = NULL, *tree = NULL, *url = NULL;
	int err = 0;

	if (fs_is_dir(final))
		goto done;
	say_to(on_line, ctx, SAY_STEP, "Cloning buildpack %s", spec);
	const char *hash = strchr(spec, '#');
	url = hash ? xstrndup(spec, (size_t)(hash - spec)) : xstrdup(spec);
	if ((err = fs_mkdir_p(cache, 0755)) || (err = fs_mkdtemp(cache, "tmp-", &tmp)))
		goto done;
	tree = xasprintf("%s/tree", tmp);
	if ((err = clone_into(url, hash ? hash + 1 : NULL, tree)))
		goto done;
	if (rename(tree, final) < 0 && errno != EEXIST && errno != ENOTEMPTY) {
		err = sw_error_errno(SW_ERROR, "cannot move the clone of '%s' into '%s'", spec, final);
		goto done;
	}
	err = fs_fsync_dir(cache);
done:
	if (tmp) {
		struct sw_error_state first;
		sw_error_save(&first, err);
		fs_rm_rf(tmp); /* a failure to clean up must not hide why the clone failed */
		sw_error_restore(&first);
	}
	if (!err)
		*dir_out = final;
	else
		free(final);
	free(tmp);
	free(tree);
	free(url);
	free(hex);
	free(cache);
	return err;
}

char *bpsource_shipped_dir(const char *spec, const char *shipped_dir)
{
	const struct buildpacks_shipped *s = buildpacks_shipped_find(spec);
	return xasprintf("%s/%s", shipped_dir, s ? s->name : spec);
}

int bpsource_resolve(const char *root, const char *spec, const char *shipped_dir,
		     run_line_fn on_line, void *ctx, char **dir_out)
{
	enum bpsource_kind kind;
	int err = bpsource_kind(spec, &kind);
	*dir_out = NULL;
	if (err)
		return err;
	if (kind == BPSOURCE_GIT)
		return resolve_git(root, spec, on_line, ctx, dir_out);
	char *dir = kind == BPSOURCE_SHIPPED ? bpsource_shipped_dir(spec, shipped_dir) : xstrdup(spec);
	if (!fs_is_dir(dir)) {
		err = kind == BPSOURCE_SHIPPED
			? sw_error_set(SW_ENOTFOUND, "there is no shipped buildpack '%s' (in %s)", spec, shipped_dir)
			: sw_error_set(SW_ENOTFOUND, "buildpack directory '%s' does not exist", spec);
		free(dir);
		return err;
	}
	*dir_out = dir;
	return 0;
}
