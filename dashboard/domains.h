/*
 * domains.h - an app's domains page.
 *
 * Part of dashboard/: uses runtime/, store/ and util/; prints nothing.
 *
 *   GET /apps/APP/domains   what `domains` shows: APP.DOMAIN, then the custom domains
 */
#ifndef SW_DASHBOARD_DOMAINS_H
#define SW_DASHBOARD_DOMAINS_H

#include "dashboard/apppage.h"
#include "dashboard/response.h"

void domains_page(const struct app_request *a, struct response *res);

#endif
