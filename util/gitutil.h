/*
 * gitutil.h - glue between libgit2 and the project's errors.
 *
 * Part of util/: includes nothing outside util/; prints nothing.
 */
#ifndef SW_GITUTIL_H
#define SW_GITUTIL_H

#include <git2.h>

/* Initializes libgit2 once per process (safe to call often). */
void sw_git_init(void);

/*
 * Lets libgit2 free what it holds, for a process that has finished with
 * git and lives on (an instance's supervisor); sw_git_init() starts again.
 */
void sw_git_shutdown(void);

/* Sets the message to "<what>: <libgit2's last error>" and returns code. */
int sw_git_error(int code, const char *what);

/* Opens a repository (bare or not) at path; message on failure. */
int sw_git_open(git_repository **out, const char *path);

/*
 * Opens the repository to read objects a push brought.  In a pre-receive
 * hook they are still in git's quarantine, which git names in the
 * environment (GIT_QUARANTINE_PATH, GIT_OBJECT_DIRECTORY and
 * GIT_ALTERNATE_OBJECT_DIRECTORIES): the repository is then opened the way
 * the environment says.  Never write through this handle: objects written
 * there vanish with the quarantine.
 */
int sw_git_open_pushed(git_repository **out, const char *path);

#endif
