/*
 * slugignore.h - .slugignore: files that must not enter the slug.
 *
 * Part of builder/: uses util/, store/, exec/ and release/, never hooks/; writes only
 * to the FILE * or callback it is given.
 *
 * <build_dir>/.slugignore holds one pattern a line, like .gitignore:
 * blank lines and lines starting with '#' are skipped, surrounding blanks
 * trimmed.  Patterns are fnmatch(3) globs (*, ?, [...]).  A pattern holding
 * '/' (other than a trailing one) is anchored at the top of the tree and
 * matched against the whole relative path ("/docs", "doc/x.pdf"); without
 * one it matches a name at any depth ("*.psd", "tmp").  A trailing '/'
 * matches directories only.  A matching directory goes with everything in
 * it.  Symlinks are matched by name and removed as links, never followed.
 * The .slugignore file itself stays.
 */
#ifndef SW_SLUGIGNORE_H
#define SW_SLUGIGNORE_H

#include <stdint.h>

/* Longest .slugignore read; a bigger one is refused. */
#define SLUGIGNORE_MAX (256 * 1024)

/*
 * Removes from build_dir what its .slugignore names.  *found is 1 when there
 * is a .slugignore (a regular file), else 0 and nothing is done; *removed
 * counts the files and symlinks deleted (directories not counted, their
 * contents are).  A .slugignore that is not a regular file or is too big
 * is SW_EINVALID.
 */
int slugignore_apply(const char *build_dir, int *found, uint64_t *removed);

#endif
