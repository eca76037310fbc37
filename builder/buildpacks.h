/*
 * buildpacks.h - the ordered list of buildpacks an app is built with.
 *
 * Part of builder/: uses util/, store/, exec/ and release/, never hooks/; writes only
 * to the FILE * or callback it is given.
 *
 * The list lives in the app repository as the file "slipway-buildpacks",
 * a list file (store/listfile.h): one spec a line.  An empty list means
 * "no list": the build then uses the pushed tree's .buildpacks file, else
 * detects one of the shipped buildpacks.  Changes take the app lock (lock.h,
 * waiting slipway.lockTimeout, store/settings.h), so they never interleave with a
 * build or with each other.  What a spec may look like is the builder's
 * business (bpsource.h); this module only keeps the strings, after checking
 * they are one line of printable bytes.
 *
 *     struct strvec l = STRVEC_INIT;
 *     buildpacks_add(root, "myapp", "/srv/buildpacks/go", 0, &l);
 *     for (size_t i = 0; i < l.n; i++) puts(l.v[i]);
 *     strvec_clear(&l);
 */
#ifndef SW_BUILDPACKS_H
#define SW_BUILDPACKS_H

#include "util/util.h"

/* Longest spec kept, in bytes. */
#define BUILDPACKS_SPEC_MAX 1024
/* Most buildpacks in one list. */
#define BUILDPACKS_MAX 32

/* Reads the app's list into out (empty when none is set). */
int buildpacks_list(const char *root, const char *app, struct strvec *out);

/*
 * Inserts spec at 1-based position index (0 = at the end).  SW_EEXISTS if it
 * is already in the list; SW_EINVALID for an index beyond the end + 1, a
 * full list, or a spec that is empty, too long, or holds blanks or control
 * characters.  after (may be NULL, must be empty) gets the new list.
 */
int buildpacks_add(const char *root, const char *app, const char *spec, int index,
		   struct strvec *after);

/*
 * Removes spec, or (spec NULL) the buildpack at 1-based position index.
 * SW_ENOTFOUND if it is not in the list; SW_EINVALID for a bad index.
 * after (may be NULL, must be empty) gets the new list.
 */
int buildpacks_remove(const char *root, const char *app, const char *spec, int index,
		      struct strvec *after);

/*
 * Sets the list to spec alone (index 0), or replaces the buildpack at
 * 1-based position index with it (index 1 on an empty list sets it).
 * SW_EEXISTS if spec is already at another position; SW_EINVALID for a bad
 * index or spec.  after (may be NULL, must be empty) gets the new list.
 */
int buildpacks_set(const char *root, const char *app, const char *spec, int index,
		   struct strvec *after);

/* Empties the list. */
int buildpacks_clear(const char *root, const char *app);

/*
 * The shipped buildpacks: each one's directory name, the name Heroku gives
 * the buildpack of the same language (NULL if none) and what its bin/detect
 * looks for, for the pusher.
 */
struct buildpacks_shipped {
	const char *name;
	const char *heroku;
	const char *looks_for;
};

/* The shipped buildpack named name (its own or Heroku's name), or NULL. */
const struct buildpacks_shipped *buildpacks_shipped_find(const char *name);

/* Checks a spec's bytes (see buildpacks_add); SW_EINVALID with a message. */
int buildpacks_spec_check(const char *spec);

/*
 * Parses a list file's text (a .buildpacks file: one spec a line, blank
 * lines and '#' comments skipped, surrounding blanks trimmed) into out.
 * SW_EINVALID names the line of a bad spec or says the list is too long.
 */
int buildpacks_parse(const char *text, size_t len, struct strvec *out);

#endif
