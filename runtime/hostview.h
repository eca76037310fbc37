/*
 * hostview.h - what the control shows of an app across the hosts that
 * run it: the instances of each (`ps`), their logs merged by time
 * (`logs`), and which hosts run a release (`releases:info`).
 *
 * Part of runtime/: uses util/, store/ and the runtime's modules below it
 * (runtime/nodes.h to ask a run host's node agent, release/agent.h's
 * `state APP` and `logs APP N`); prints nothing.
 *
 * The hosts are the app's (store/apphosts.h); "local", this server, is
 * always asked, since the control's own instances and the app's events
 * (its releases, its scaling) are kept here.  A run host that cannot be
 * asked is not an error of the whole: its name and why go to a list of
 * failures, one line each ("h2: unreachable: cannot reach ..."), for the
 * caller to print, and the rest is shown.
 *
 * Log lines merge by their stamps (runtime/logs.h: UTC, fixed width), the
 * oldest first; lines of one stamp keep the order of the hosts, local
 * first, then each host's own order.  With run hosts each line names its
 * host after its stamp, where syslog puts a host name:
 *
 *     2026-12-07T01:02:03.456789+00:00 h1 app[web.1]: GET / 200
 *
 *     struct strvec hosts = STRVEC_INIT, failed = STRVEC_INIT;
 *     if (hostview_hosts(root, app, &hosts) < 0) ...;
 *     if (hostview_ps(root, app, &hosts, &s, &n, &failed) < 0) ...;
 *     for (i = 0; i < failed.n; i++) say(stderr, SAY_ERROR, "%s", failed.v[i]);
 */
#ifndef SW_HOSTVIEW_H
#define SW_HOSTVIEW_H

#include <stddef.h>

#include "runtime/logs.h"
#include "runtime/services.h"
#include "util/util.h"

/*
 * The app's hosts into out: "local" first, then its run hosts
 * (apphosts_list()).  Returns how many run hosts there are (0: the app
 * runs here only, and is shown as on a single server), or an error.
 */
int hostview_hosts(const char *root, const char *app, struct strvec *out);

/*
 * The instances of the app on each of hosts (from hostview_hosts(); "local"
 * is host_list()) into *out (malloc'ed, free it), sorted as
 * services_list() sorts them, by type, then warm last, then host in the
 * order of hosts, then index.  Each instance's host points at its name in
 * hosts (which must outlive *out) when there are run hosts among them,
 * else is NULL; a run host's version is the control's release it runs (0
 * when unknown).  failed gets a line for each run host that could not be
 * asked.
 */
int hostview_ps(const char *root, const char *app, const struct strvec *hosts,
		struct service_info **out, size_t *n, struct strvec *failed);

/*
 * The parsing half of hostview_ps(): the instances of a node agent's
 * `state` answer (release/apply.h) appended to *out and *n, their host
 * NULL.  SW_EINVALID when answer is not such a document.
 */
int hostview_parse_state(const char *answer, struct service_info **out, size_t *n);

/* One host's log lines, as `logs` shows them, one a '\n'. */
struct hostview_lines {
	const char *host;   /* shown after each line's stamp; NULL: not shown */
	const char *text;   /* the lines (the caller's) */
	size_t len;
	size_t malformed;   /* set by the merge: lines left out, not starting with a stamp */
};

/*
 * Merges the lines of src[0..nsrc) by stamp as above and appends the
 * newest n of them to out, oldest first, each "STAMP HOST REST" when its
 * source has a host.  A line not starting with a stamp and a blank (an
 * answer gone wrong) is left out and counted in its source's malformed;
 * unless raw, control characters and bytes that are not UTF-8 show as
 * \xHH (buf_add_shown()), whoever sent them.
 */
void hostview_logs_merge(struct hostview_lines *src, size_t nsrc, size_t n, int raw,
			 struct buf *out);

/*
 * `logs` across hosts: the last n lines passing f of each of hosts
 * (local's from host_logs(), a run host's from its agent), merged,
 * written to out.  failed gets a line for each run host that could not be
 * asked, and for each whose answer held lines that are not log lines.
 */
int hostview_logs(const char *root, const char *app, const struct strvec *hosts,
		  const struct logs_filter *f, size_t n, FILE *out, struct strvec *failed);

/*
 * The hosts of hosts that run the app's release version now into out:
 * "local" when an instance of it serves here, a run host when its agent
 * says it runs it; a run host that could not be asked is named "NAME
 * (unreachable)".
 */
int hostview_runs(const char *root, const char *app, const struct strvec *hosts, int version,
		  struct strvec *out);

#endif
