/*
 * listfile.h - a short list of lines kept in an app's repository.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * Some of an app's state is a list that Slipway keeps as a file of its own
 * in the app's repository (store/paths.h): its collaborators
 * (access/access.h), its domains (store/domains.h), its buildpacks
 * (builder/buildpacks.h) and its formation (store/formation.h).  One entry
 * a line; surrounding blanks, blank lines and lines starting with '#' are
 * ignored (util/util.h text_lines), a line holding a NUL byte is refused.
 *
 * Readers take no lock.  The file is replaced with fs_write_atomic()
 * (mode 0644), so they and a crash see either the old list or the new one.
 * Writers change it under one lock, so two changes never lose one another:
 * listfile_edit() takes it around reading, changing and writing; a caller
 * who holds it already reads with listfile_read() and writes with
 * listfile_write().
 *
 *     static const struct listfile names = { .path = paths_access_file, .max = 1 << 20 };
 *
 *     static int add_bob(struct strvec *lines, void *ctx)
 *     {
 *             strvec_push(lines, "bob");
 *             return 0;
 *     }
 *     err = listfile_edit(&names, root, "myapp", add_bob, NULL);
 */
#ifndef SW_LISTFILE_H
#define SW_LISTFILE_H

#include <stddef.h>

#include "util/util.h"

/* One list file: a constant its module defines once. */
struct listfile {
	/* The file of an app: a function of store/paths.h. */
	char *(*path)(const char *root, const char *app);
	/* The longest file read, in bytes: a longer one is SW_EINVALID. */
	size_t max;
	/*
	 * What becomes of each line read (trimmed, NUL-terminated), given how
	 * many were kept before it: 1 it is kept, 0 it is left out, or a
	 * negative sw_code with the message set, which fails the read with
	 * "line N: " before the message.  NULL keeps every line.
	 */
	int (*check)(const char *line, size_t kept);
	/*
	 * The lock listfile_edit() takes: NULL for the app's own lock,
	 * <root>/locks/<app>.lock (util/lock.h); else the list's own lock,
	 * <root>/locks/<app>.<lock>.lock.  Either is waited for by the one
	 * policy, app_lock_wait() (store/appctx.h).
	 */
	const char *lock;
};

/* The lines of text kept by f->check, appended to out (a .buildpacks file's text, say). */
int listfile_parse(const struct listfile *f, const char *text, size_t len, struct strvec *out);

/* The app's list, appended to out: nothing when the file does not exist. */
int listfile_read(const struct listfile *f, const char *root, const char *app,
		  struct strvec *out);

/* Replaces the app's list with lines, one a line.  The caller holds f's lock. */
int listfile_write(const struct listfile *f, const char *root, const char *app,
		   const struct strvec *lines);

/*
 * Reads, changes and writes the app's list under f's lock: edit(lines,
 * ctx) gets the list as it is and changes lines in place.  When edit
 * returns non-zero (a negative sw_code with the message set) nothing is
 * written and that is returned.  SW_ELOCKED when the lock stayed busy.
 */
int listfile_edit(const struct listfile *f, const char *root, const char *app,
		  int (*edit)(struct strvec *lines, void *ctx), void *ctx);

#endif
