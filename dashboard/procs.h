/*
 * procs.h - an app's processes page: what `ps` shows, a restart, and
 * maintenance mode.
 *
 * Part of dashboard/ (pages given as request.h has them, framed by layout.h):
 * uses view/, release/, runtime/, store/ and util/;
 * prints nothing.
 *
 *   GET  /apps/APP/processes          `ps`, whether maintenance is on, the forms below
 *   POST /apps/APP/processes/restart  `ps:restart [TYPE]`: every instance (or, with type=TYPE,
 *                                     each of a process type of the current release) replaced
 *                                     by a new one
 *   POST /apps/APP/maintenance        state=on|off: `maintenance:on` / `maintenance:off`
 *
 * The POSTs run what the commands run, under the app's lock, and log
 * "Restart all by USER (dashboard)" ("Restart web by ...") or "Maintenance mode on by USER
 * (dashboard)" as slipway[api].  What the command checks first is checked
 * before the answer: a refusal is the page with its reason and status
 * (409 for a restart without a release or a runtime, 400 for a bad
 * state or a type the current release does not have) and nothing changed.  Otherwise the answer is 303 to the
 * processes page (maintenance's state already set), and the switch runs
 * once the answer is out (response.h's after), under the same lock: a
 * restart stops the old web instances only when the router's workers of
 * the earlier configuration have finished their requests (router_drain),
 * and this very request is one of them.
 */
#ifndef SW_DASHBOARD_PROCS_H
#define SW_DASHBOARD_PROCS_H

#include "dashboard/response.h"

struct page_req;

void procs_page(struct page_req *q, struct response *res);
void procs_restart(struct page_req *q, struct response *res);
void procs_maintenance(struct page_req *q, struct response *res);

#endif
