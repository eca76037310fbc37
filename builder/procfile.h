/*
 * procfile.h - reading a Procfile into process types (store/procs.h).
 *
 * Part of builder/: uses util/, store/, exec/ and release/, never hooks/; writes only
 * to the FILE * or callback it is given.
 *
 * A Procfile has one "type: command" per line.  Type names match
 * [A-Za-z0-9_-]{1,63}; blank lines and lines starting with '#' are skipped;
 * a UTF-8 BOM at the start and CR before LF are tolerated; the command is
 * trimmed of surrounding blanks and must be non-empty.  A duplicate type,
 * an invalid name, a line without ':' or a file over PROCFILE_MAX bytes is
 * refused with SW_EINVALID and a message naming the line number.
 */
#ifndef SW_PROCFILE_H
#define SW_PROCFILE_H

#include <stddef.h>

#include "store/procs.h"

#define PROCFILE_MAX (256 * 1024)

/*
 * Parses a Procfile's bytes (need not be NUL-terminated) and appends to out.
 * Duplicates are looked for among this file's types only.  A NUL byte is
 * refused with SW_EINVALID; on any error out is left as it was.
 */
int procfile_parse(struct proc_list *out, const char *data, size_t len);

/*
 * Reads <dir>/Procfile; SW_ENOTFOUND if there is none, SW_EINVALID if it is
 * not a regular file (a symlink is not followed).
 */
int procfile_load(struct proc_list *out, const char *dir);

#endif
