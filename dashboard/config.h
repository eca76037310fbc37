/*
 * config.h - an app's config vars page: names shown, values masked.
 *
 * Part of dashboard/: uses runtime/, store/ and util/; prints nothing.
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

#include "dashboard/apppage.h"
#include "dashboard/response.h"

#define CONFIG_MASK "••••••••"

void config_page(const struct app_request *a, struct response *res);
void config_reveal(const struct app_request *a, struct response *res);

#endif
