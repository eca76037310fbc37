/*
 * shipdetect.h - the shipped buildpacks' bin/detect, answered without a sandbox.
 *
 * Part of builder/: uses util/ and store/; prints nothing.
 *
 * Each buildpack shipped with Slipway (buildpacks/<name>/) has a bin/detect
 * that only tests which names the top of BUILD_DIR holds.  This module knows
 * those scripts by the SHA-256 of their bytes, and for one of them gives the
 * answer running it would give - applies or not, and its first output line -
 * with a few fstatat() calls instead of a sandbox and a shell.
 *
 * It answers only when it can be sure the script would answer the same:
 *   - bin/ is a directory and bin/detect a regular file with execute
 *     permission (not a symlink: the sandbox resolves those in its own view),
 *     whose bytes hash to one of the scripts Slipway ships: an edited copy,
 *     a user's buildpack or a later version of a script runs as always;
 *   - every name the script tests is absent, a directory, a regular file or
 *     another kind of file; a symlink, or a name it cannot stat, leaves the
 *     answer to the script.
 * The caller decides which buildpacks it asks about (the pipeline: those it
 * names by a shipped name); the hash alone already pins the behaviour.
 *
 *     err = shipdetect_answer(bp_dir, label, build_dir, &name);
 *     if (err == SHIPDETECT_RUN)
 *             err = buildpack_detect(sb, bp_dir, ..., &name);
 */
#ifndef SW_SHIPDETECT_H
#define SW_SHIPDETECT_H

/* Not answered here: run the buildpack's bin/detect (buildpack_detect). */
#define SHIPDETECT_RUN 1

/*
 * 0 = applies, *name_out (malloc'ed) the line its bin/detect prints;
 * SW_ENOTFOUND = does not apply (the message buildpack_detect() sets, naming
 * the buildpack by label, or by bp_dir when label is NULL); SHIPDETECT_RUN =
 * not answered, *name_out NULL.  bp_dir and build_dir are host paths.
 */
int shipdetect_answer(const char *bp_dir, const char *label, const char *build_dir,
		      char **name_out);

#endif
