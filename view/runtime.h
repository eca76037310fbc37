/*
 * runtime.h - what runs, as JSON: `ps`, `domains` and `server:status`.
 *
 * Part of view/: may use every folder below hooks/; prints nothing.  Each
 * appends one JSON document and "\n" to out; the caller prints it.
 */
#ifndef SW_VIEW_RUNTIME_H
#define SW_VIEW_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/services.h"
#include "runtime/supervisor.h"
#include "util/util.h"

/*
 * `ps`: for each type, "=== type (count): command", then a line per
 * instance of s[0..n) (sorted by type, as services_list() gives them; the
 * count is of those that serve), with " on HOST" after its time when its
 * host is set (an app with run hosts); a warm one (the previous release's, kept
 * out of the router) adds its memory and when it retires;
 * command_of(ctx, s) returns the command of s's type (malloc'ed; it is
 * freed here), asked once per type.  Times as view_when() with now.
 */
void view_ps(struct buf *out, const struct service_info *s, size_t n,
	     char *(*command_of)(void *ctx, const struct service_info *s), void *ctx, int64_t now);

/*
 * A command_of for view_ps() whose ctx is the app's ledger (struct
 * ledger *): the command of s's type in s's release ("" when unknown).
 */
char *view_ps_command_in_ledger(void *ctx, const struct service_info *s);

/*
 * `ps --json`: the instances s[0..n), Heroku's dyno fields, "host" when it
 * is set; a warm one adds
 * "memory" (bytes) and "retires_at".
 */
void view_ps_json(struct buf *out, const struct service_info *s, size_t n);

/* `domains --json`: app.domain (the default), then each custom domain. */
void view_domains_json(struct buf *out, const char *app, const char *domain,
		       const struct strvec *custom);

/* What server:status says beside the supervisor's state (the caller finds it out). */
struct server_facts {
	const char *router;          /* a word: "running", "system", "stale", ... */
	int limits;                  /* 1: the instances' limits are enforced */
	const char *limits_detail;   /* how ("cgroup v1 (memory, pids, cpu)"), or why not */
	const char *network;         /* the apps' network: "private", "host" or "unusable" */
	const char *network_detail;  /* how, which setting, or why it is unusable */
	const struct strvec *warnings; /* what the text warns of (a certificate near its end); may be NULL */
};

/*
 * `server:status --json`: st, then f as "router", "limits" {"enforced",
 * "detail"}, "warnings" [lines] and "network" {"mode", "detail"}.
 */
void view_server_status_json(struct buf *out, const struct supervisor_status *st,
			     const struct server_facts *f);

#endif
