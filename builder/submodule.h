/*
 * submodule.h - where a pushed tree's git submodules come from.
 *
 * Part of builder/: uses util/, store/, exec/ and release/, never hooks/; writes only
 * to the FILE * or callback it is given.
 *
 * A submodule is a gitlink (a commit id) in the tree and an entry in the
 * .gitmodules file of the same tree:
 *
 *     [submodule "lib/x"]
 *         path = lib/x
 *         url = ../x.git
 *
 * Only repositories the server can read itself are reachable: a relative
 * URL ("../x.git", "./x.git"), resolved against the repository holding the
 * .gitmodules the way git resolves it against the superproject's remote
 * (so "../otherapp.git" in an app is the app "otherapp" on this server), an
 * absolute path, or a file:// URL.  Anything else (https://, ssh://,
 * host:path) is refused: the build cannot fetch it.
 */
#ifndef SW_SUBMODULE_H
#define SW_SUBMODULE_H

#include <stddef.h>

/* Most levels of submodules within submodules, and most submodules in one build. */
#define SUBMODULE_DEPTH_MAX 8
#define SUBMODULE_MAX 64
/* Largest .gitmodules read. */
#define SUBMODULE_GITMODULES_MAX (64 * 1024)

/*
 * The url (malloc'ed into *url) of the submodule at path in the .gitmodules
 * text (need not be NUL-terminated).  SW_ENOTFOUND with a message when no
 * submodule has that path or it has no url.
 */
int submodule_url(const char *text, size_t len, const char *path, char **url);

/*
 * The local repository (malloc'ed into *repo) that url names, relative
 * URLs taken from base, the directory of the repository that holds the
 * .gitmodules.  SW_EINVALID naming the submodule (path) and why when the
 * URL is not reachable from the server.
 */
int submodule_resolve(const char *base, const char *path, const char *url, char **repo);

/*
 * Whether a build pushed by user (a remote user, pushing over ssh; NULL for
 * the server's own account) may read the repository repo for the submodule
 * at path: an app of root only if user has access to it, and anything else
 * only for the server's own account - a remote user never reads other apps
 * or the server's files through a submodule.  0, or SW_EINVALID naming the
 * submodule and why.
 */
int submodule_allowed(const char *root, const char *user, const char *path, const char *url,
		      const char *repo);

#endif
