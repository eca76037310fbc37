/*
 * bpsource.h - where a buildpack comes from: a spec turned into a directory.
 *
 * Part of builder/: uses util/, store/, exec/ and release/, never hooks/; writes only
 * to the FILE * or callback it is given.
 *
 * A spec is one of
 *   a shipped name      "procfile"        <shipped_dir>/procfile; Heroku's
 *                       names of the same buildpacks ("heroku/nodejs",
 *                       "heroku/python") name the shipped ones too
 *   a local directory   "/srv/bp/go"      an absolute path, used as it is
 *   a git URL           "https://host/bp", "git://host/bp", "file:///srv/bp.git"
 *                       or a path ending in ".git", with an optional "#ref"
 *                       (branch, tag or commit) - cloned with libgit2
 * A remote user (one who reaches Slipway over ssh) may name only shipped
 * buildpacks and https:// or git:// URLs: a directory, a file:// URL or a
 * repository of the server would hand them its files (bpsource_allowed).
 * Git buildpacks are cloned once per root into
 * <root>/buildpacks-cache/<sha256 of the spec>/ (the tree of the commit,
 * without .git) and reused by every later build; a clone is made in a temp
 * directory and renamed into place, so a half-done clone is never used.
 * To pick up new commits of a branch, remove that directory.
 *
 * The directory returned is shared: callers copy it (fs_copy_tree) into
 * their private build directory before running anything from it.
 */
#ifndef SW_BPSOURCE_H
#define SW_BPSOURCE_H

#include "util/run.h"

enum bpsource_kind {
	BPSOURCE_SHIPPED,
	BPSOURCE_DIR,
	BPSOURCE_GIT,
};

/* Classifies spec; SW_EINVALID with a message saying what is allowed. */
int bpsource_kind(const char *spec, enum bpsource_kind *out);

/*
 * Whether user (a remote user, NULL for the server's own account) may name
 * spec: the server's own account anything bpsource_kind() accepts, a remote
 * user only a shipped name or an https:// or git:// URL.  SW_EDENIED (or
 * SW_EINVALID from bpsource_kind) with a one-line message.
 */
int bpsource_allowed(const char *spec, const char *user);

/* The directory of shipped buildpack spec (its own or Heroku's name), malloc'ed. */
char *bpsource_shipped_dir(const char *spec, const char *shipped_dir);

/*
 * Resolves spec to a directory (malloc'ed into *dir_out).  A shipped name
 * or a directory that does not exist is SW_ENOTFOUND; a failed clone or an
 * unknown ref SW_ERROR, with libgit2's reason.  Progress lines (a step,
 * util/say.h: "Cloning buildpack ...") go to on_line (may be NULL).
 */
int bpsource_resolve(const char *root, const char *spec, const char *shipped_dir,
		     run_line_fn on_line, void *ctx, char **dir_out);

#endif
