/*
 * gitutil.h - glue between libgit2 and the project's errors.
 */
#ifndef SW_GITUTIL_H
#define SW_GITUTIL_H

#include <git2.h>

/* Initializes libgit2 once per process (safe to call often). */
void sw_git_init(void);

/* Sets the message to "<what>: <libgit2's last error>" and returns code. */
int sw_git_error(int code, const char *what);

/* Opens a repository (bare or not) at path; message on failure. */
int sw_git_open(git_repository **out, const char *path);

#endif
