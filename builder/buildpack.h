/*
 * buildpack.h - Heroku's classic buildpack API: bin/detect, bin/compile, bin/release.
 *
 * Part of builder/: uses util/, store/, exec/ and release/, never hooks/; writes only
 * to the FILE * or callback it is given.
 *
 * A buildpack is a directory with bin/detect, bin/compile and bin/release.
 * Each runs in the sandbox sb (runtime/sandbox.h: argv arrays, own process
 * group, output streamed line by line through on_line), which must mount
 * bp_dir and the directories passed to it; paths here are host paths.
 * Messages name the buildpack by label, what the user called it (a shipped
 * name, a git URL#ref); a NULL label names it by bp_dir.  A bin/ script
 * that is a regular file without execute permission is run with /bin/sh,
 * after a warning line to on_line naming the buildpack and the script.
 *
 *   bin/detect BUILD_DIR              exit 0 = applies; first stdout line = name
 *   bin/compile BUILD_DIR CACHE_DIR ENV_DIR
 *   bin/release BUILD_DIR             YAML on stdout:
 *        default_process_types: { web: "cmd", ... }
 *        config_vars: { KEY: "value", ... }
 *        addons: [ ... ]   (accepted, ignored)
 */
#ifndef SW_BUILDPACK_H
#define SW_BUILDPACK_H

#include <stddef.h>

#include "builder/procfile.h"
#include "exec/sandbox.h"
#include "util/run.h"
#include "store/config.h"

/* Limit on bin/release output; more is refused. */
#define BUILDPACK_RELEASE_MAX (1024 * 1024)

/* Time limits (seconds) for bin/detect and bin/release. */
#define BUILDPACK_DETECT_TIMEOUT 60
#define BUILDPACK_RELEASE_TIMEOUT 60

/*
 * Runs bin/detect.  0 = applies, *name_out (malloc'ed) = its first stdout
 * line trimmed, or the directory's basename if it printed nothing.
 * SW_ENOTFOUND = does not apply (non-zero exit).  Other codes: could not run
 * (a missing bin/detect, or one that is not a file, is SW_ERROR "buildpack
 * '<label>' has no executable bin/detect", never SW_ENOTFOUND).  detect's stderr goes to
 * on_line.  Scripts are run by absolute path with build_dir as cwd and env
 * as their environment.
 */
int buildpack_detect(const struct sandbox *sb, const char *bp_dir, const char *label,
		     const char *build_dir, const char *const *env, run_line_fn on_line, void *ctx,
		     char **name_out);

/*
 * Runs bin/compile with env (NULL = inherit) in build_dir as cwd.  0 = it
 * exited 0; SW_ERROR with message "failed to compile" on non-zero exit;
 * SW_ETIMEOUT when timeout_sec passed (its process group is killed);
 * SW_EINVALID when the sandbox's check stopped it (its message says why);
 * SW_ENOTFOUND when there is no bin/compile.  stdout and stderr go to on_line.
 */
int buildpack_compile(const struct sandbox *sb, const char *bp_dir, const char *label,
		      const char *build_dir, const char *cache_dir, const char *env_dir,
		      const char *const *env, int timeout_sec,
		      run_line_fn on_line, void *ctx);

/*
 * Runs bin/release (absent bin/release = nothing to add) and parses its YAML
 * with libyaml into procs (default_process_types) and vars (config_vars),
 * appending/replacing entries.  Malformed or hostile YAML (syntax errors, a
 * top level that is not a mapping, aliases/anchors, non-scalar values where
 * scalars belong, more than BUILDPACK_RELEASE_MAX bytes) is SW_EINVALID with
 * a clear message; nothing crashes.  A non-zero exit of bin/release is
 * SW_ERROR.  procs and vars are changed only when the whole output is valid.
 */
int buildpack_release(const struct sandbox *sb, const char *bp_dir, const char *label,
		      const char *build_dir, const char *const *env, run_line_fn on_line, void *ctx,
		      struct proc_list *procs, struct config *vars);

/* Parses bin/release output (exposed for tests and fuzzing). */
int buildpack_parse_release(const char *yaml, size_t len,
			    struct proc_list *procs, struct config *vars);

#endif
