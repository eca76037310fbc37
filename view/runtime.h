/*
 * runtime.h - what runs, as JSON: `ps`, `domains` and `server:status`.
 *
 * Part of view/: may use every folder below hooks/; prints nothing.  Each
 * appends one JSON document and "\n" to out; the caller prints it.
 */
#ifndef SW_VIEW_RUNTIME_H
#define SW_VIEW_RUNTIME_H

#include <stddef.h>

#include "runtime/services.h"
#include "runtime/supervisor.h"
#include "util/util.h"

/* `ps --json`: the instances s[0..n), Heroku's dyno fields. */
void view_ps_json(struct buf *out, const struct service_info *s, size_t n);

/* `domains --json`: app.domain (the default), then each custom domain. */
void view_domains_json(struct buf *out, const char *app, const char *domain,
		       const struct strvec *custom);

/* `server:status --json`: st, and the router's state as a word ("running", "system", ...). */
void view_server_status_json(struct buf *out, const struct supervisor_status *st,
			     const char *router);

#endif
