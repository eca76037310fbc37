/*
 * unpack.h - a slug's files on disk, for running its code.
 *
 * Part of runtime/: uses util/ and store/; writes only to the FILE * or
 * callback it is given.
 *
 * Each slug is unpacked once, into <root>/unpacked/<sha256>/ (store/paths.h),
 * and reused by every release that has it: slugs are immutable, so the tree
 * is too.  The tree appears whole or not at all: it is extracted into a
 * private temp directory beside it and renamed into place.
 */
#ifndef SW_UNPACK_H
#define SW_UNPACK_H

/*
 * *dir (malloc'ed) gets the unpacked tree of slug `hex`, extracted now
 * unless it already was.  The slug is checked against its checksum first
 * (store/cas.h cas_check): SW_ENOTFOUND when it is missing, SW_EINVALID
 * when it is corrupt.
 */
int unpack_slug(const char *root, const char *hex, char **dir);

#endif
