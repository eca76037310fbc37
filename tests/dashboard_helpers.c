#define _GNU_SOURCE
#include "tests/dashboard_helpers.h"

#include "tests/release_helpers.h"

#include "access/access.h"
#include "dashboard/pages.h"
#include "dashboard/scgi.h"
#include "dashboard/session.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void dh_answer(const struct dashboard *d, const struct dh_call *c, struct response *res)
{
	struct buf h = BUF_INIT, req = BUF_INIT;
	const char *body = c->body ? c->body : "";
	const char *pairs[][2] = {
		{ "REQUEST_METHOD", c->method }, { "DOCUMENT_URI", c->path },
		{ "QUERY_STRING", c->query }, { "SERVER_PORT", "8080" },
		{ "HTTP_HOST", DH_HOST ":8080" }, { "HTTP_COOKIE", c->cookie },
		{ "HTTP_ORIGIN", c->origin }, { "HTTP_SEC_FETCH_SITE", c->site },
		{ "HTTPS", c->https }, { "HTTP_LAST_EVENT_ID", c->last_event_id },
	};
	char length[32];
	snprintf(length, sizeof(length), "%zu", strlen(body));
	buf_add(&h, "CONTENT_LENGTH", sizeof("CONTENT_LENGTH"));
	buf_add(&h, length, strlen(length) + 1);
	buf_add(&h, "SCGI\0" "1", sizeof("SCGI\0" "1"));
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		if (!pairs[i][1])
			continue;
		buf_add(&h, pairs[i][0], strlen(pairs[i][0]) + 1);
		buf_add(&h, pairs[i][1], strlen(pairs[i][1]) + 1);
	}
	buf_addf(&req, "%zu:", h.len);
	buf_add(&req, h.data, h.len);
	buf_adds(&req, ",");
	buf_adds(&req, body);
	struct scgi_request r = SCGI_REQUEST_INIT;
	cr_assert_eq(scgi_parse(&r, req.data, req.len), 0, "%s", sw_error_last());
	*res = (struct response)RESPONSE_INIT;
	dashboard_answer(d, &r, time(NULL), res);
	scgi_request_release(&r);
	buf_release(&h);
	buf_release(&req);
}

char *dh_log_in(const struct dashboard *d, const char *user, int operator)
{
	char token[SESSION_SECRET_SIZE];
	cr_assert_eq(session_token_create(d->root, user, operator, time(NULL), token), 0);
	char *body = xasprintf("token=%s", token);
	struct response res;
	dh_answer(d, &(struct dh_call){ .method = "POST", .path = "/login", .body = body,
					.origin = DH_OWN, .site = "same-origin" }, &res);
	cr_assert_eq(res.status, 303, "%s", res.body.data);
	char *set = strstr(res.headers.data, "Set-Cookie: slipway_session=");
	cr_assert(set, "%s", res.headers.data);
	char *cookie = xstrndup(set + strlen("Set-Cookie: "), strlen("slipway_session=") + 64);
	response_release(&res);
	free(body);
	return cookie;
}

char *dh_root(struct dashboard *d)
{
	char *root = rh_root();
	d->root = root;
	d->host = DH_HOST;
	rh_app(root, "alices");
	rh_app(root, "bobs");
	cr_assert_eq(access_add(root, "alices", "alice"), 0, "%s", sw_error_last());
	cr_assert_eq(access_add(root, "bobs", "bob"), 0, "%s", sw_error_last());
	return root;
}
