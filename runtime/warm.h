/*
 * warm.h - instances kept warm: the previous release's web instances,
 * out of the router but still running for slipway.warmPrevious after a
 * switch, so that going back to that release starts no process.
 *
 * Part of runtime/: uses util/ and runtime/supervisor.h; writes nothing
 * but the service files below.
 *
 * Two files of an instance's service (runtime/services.h) say it:
 *
 *   warm    "SINCE UNTIL": it left the router at SINCE and retires at
 *           UNTIL (seconds since the epoch); "0 0" once it serves again;
 *   serves  "N": the release it serves when that is not the one in its
 *           name (a release equivalent to its own took it over).
 *
 * Who keeps them and who retires them is release/warm.h; here is only
 * what an instance is.
 */
#ifndef SW_RUNTIME_WARM_H
#define SW_RUNTIME_WARM_H

#include <sys/types.h>

#include "util/util.h"

/* Marks the named services warm from now until until (seconds since the epoch). */
int warm_keep(const char *root, const struct strvec *names, long long until);

/*
 * 1 when the service is warm: *since and *until (either may be NULL) say
 * when it left the router and when it retires; 0 when it serves (or is no
 * service).
 */
int warm_is(const char *root, const char *name, long long *since, long long *until);

/*
 * The named services serve release version from now on: they are no
 * longer warm, and warm_release_of() says version.
 */
int warm_adopt(const char *root, const struct strvec *names, int version);

/* The release the service serves: its file "serves", else named (the version in its name). */
int warm_release_of(const char *root, const char *name, int named);

/*
 * Bytes of resident memory of pid and its descendants now (/proc); 0 when
 * pid is 0 or gone.
 */
long long warm_tree_rss(pid_t pid);

#endif
