/*
 * domains.h - an app's domains page.
 *
 * Part of dashboard/ (pages given as request.h has them, framed by layout.h):
 * uses runtime/, store/ and util/; prints nothing.
 *
 *   GET /apps/APP/domains   what `domains` shows: APP.DOMAIN, then the custom domains
 */
#ifndef SW_DASHBOARD_DOMAINS_H
#define SW_DASHBOARD_DOMAINS_H

#include "dashboard/response.h"

struct page_req;

void domains_page(struct page_req *q, struct response *res);

#endif
