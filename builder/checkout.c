#define _GNU_SOURCE
#include "checkout.h"

#include "../store/error.h"
#include "../store/fsutil.h"
#include "../store/gitutil.h"
#include "../store/util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int name_ok(const char *name)
{
	return *name && strcmp(name, ".") && strcmp(name, "..") && strcasecmp(name, ".git") &&
	       !strchr(name, '/');
}

static int write_blob(git_repository *repo, int dirfd, const git_tree_entry *e,
		      struct checkout_stats *st)
{
	const char *name = git_tree_entry_name(e);
	git_filemode_t mode = git_tree_entry_filemode(e);
	git_blob *blob = NULL;
	int err = 0;

	if (git_blob_lookup(&blob, repo, git_tree_entry_id(e)) < 0)
		return sw_git_error(SW_ERROR, "cannot read the pushed code");
	const char *data = git_blob_rawcontent(blob);
	size_t len = (size_t)git_blob_rawsize(blob);
	if (mode == GIT_FILEMODE_LINK) {
		char *target = xstrndup(data, len);
		if (strlen(target) != len || symlinkat(target, dirfd, name) < 0)
			err = sw_error_errno(SW_ERROR, "cannot create symlink '%s'", name);
		free(target);
		goto done;
	}
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644);
	if (fd < 0) {
		err = sw_error_errno(SW_ERROR, "cannot create '%s'", name);
		goto done;
	}
	err = fs_write_all(fd, data, len);
	int saved = errno;
	if (close(fd) < 0 && !err) {
		err = SW_ERROR;
		saved = errno;
	}
	errno = saved;
	if (err == SW_ERROR && saved == ENOSPC)
		err = sw_error_set(SW_ERROR, "no space left on device while writing '%s'", name);
	else if (err == SW_ERROR)
		err = sw_error_errno(SW_ERROR, "cannot write '%s'", name);
	st->files++;
	st->bytes += len;
done:
	git_blob_free(blob);
	return err;
}

static int write_tree(git_repository *repo, const git_tree *tree, int dirfd,
		      struct checkout_stats *st)
{
	int err = 0;
	size_t n = git_tree_entrycount(tree);

	for (size_t i = 0; i < n && !err; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const char *name = git_tree_entry_name(e);
		if (!name_ok(name)) {
			err = sw_error_set(SW_EINVALID, "the pushed tree has an unsafe entry '%s'",
					   name);
			break;
		}
		switch (git_tree_entry_type(e)) {
		case GIT_OBJECT_BLOB:
			err = write_blob(repo, dirfd, e, st);
			break;
		case GIT_OBJECT_TREE: {
			git_tree *sub = NULL;
			if (mkdirat(dirfd, name, 0755) < 0) {
				err = sw_error_errno(SW_ERROR, "cannot create directory '%s'", name);
				break;
			}
			int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				err = sw_error_errno(SW_ERROR, "cannot open directory '%s'", name);
				break;
			}
			if (git_tree_lookup(&sub, repo, git_tree_entry_id(e)) < 0)
				err = sw_git_error(SW_ERROR, "cannot read the pushed code");
			else
				err = write_tree(repo, sub, fd, st);
			git_tree_free(sub);
			close(fd);
			break;
		}
		default: /* submodule commits are not part of the slug */
			break;
		}
	}
	return err;
}

int checkout_commit(const char *repo_path, const char *rev, const char *dir,
		    struct checkout_stats *stats)
{
	struct checkout_stats local = { 0, 0 };
	git_repository *repo = NULL;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_oid oid;
	int fd = -1, err;

	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	if ((err = sw_git_open_pushed(&repo, repo_path)))
		goto done;
	if (git_oid_fromstr(&oid, rev) < 0 || git_commit_lookup(&commit, repo, &oid) < 0 ||
	    git_commit_tree(&tree, commit) < 0) {
		err = sw_git_error(SW_ERROR, "cannot read the pushed commit");
		goto done;
	}
	if ((err = fs_mkdir_p(dir, 0755)))
		goto done;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = sw_error_errno(SW_ERROR, "cannot open '%s'", dir);
		goto done;
	}
	err = write_tree(repo, tree, fd, stats);
done:
	if (fd >= 0)
		close(fd);
	git_tree_free(tree);
	git_commit_free(commit);
	git_repository_free(repo);
	return err;
}
