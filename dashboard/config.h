/*
 * config.h - an app's config vars page: names shown, values masked.
 *
 * Part of dashboard/ (pages given as request.h has them, framed by layout.h):
 * uses runtime/, store/ and util/; prints nothing.
 *
 *   GET  /apps/APP/config         the vars of the latest release (those `config`
 *                                 shows), each value as CONFIG_MASK; a var an
 *                                 add-on manages says which (store/attach.h)
 *   POST /apps/APP/config/reveal  the same with the values, in that answer only
 *                                 (not cached), logged as "Config vars revealed
 *                                 by USER (dashboard)"
 */
#ifndef SW_DASHBOARD_CONFIG_H
#define SW_DASHBOARD_CONFIG_H

#include "dashboard/response.h"

struct page_req;

#define CONFIG_MASK "••••••••"

void config_page(struct page_req *q, struct response *res);
void config_reveal(struct page_req *q, struct response *res);

#endif
