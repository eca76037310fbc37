#include "dashboard/domains.h"

#include "dashboard/html.h"
#include "dashboard/layout.h"
#include "dashboard/request.h"
#include "runtime/router.h"
#include "store/domains.h"
#include "util/error.h"

static void domain_item(struct buf *b, const char *name)
{
	buf_adds(b, "<li>");
	html_escape(b, name);
	buf_adds(b, "</li>\n");
}

void domains_page(struct page_req *q, struct response *res)
{
	struct strvec list = STRVEC_INIT;
	struct router_listen l;
	struct buf *b = &res->body;
	if (router_listen_read(q->d->root, &l) < 0 || domains_list(q->d->root, q->app, &list) < 0) {
		response_message(res, 500, "Error", sw_error_last());
		return;
	}
	layout_open(b, q, "Domains");
	buf_adds(b, "<h1>Domains</h1>\n");
	buf_adds(b, "<h2>Slipway domain</h2>\n<ul id=\"default-domain\">\n");
	struct buf own = BUF_INIT;
	buf_addf(&own, "%s.%s", q->app, l.domain);
	domain_item(b, own.data);
	buf_release(&own);
	buf_adds(b, "</ul>\n<h2>Custom domains</h2>\n");
	if (!list.n) {
		buf_adds(b, "<p>None. Add one with <code>slipway domains:add</code>.</p>\n");
	} else {
		buf_adds(b, "<ul id=\"custom-domains\">\n");
		for (size_t i = 0; i < list.n; i++)
			domain_item(b, list.v[i]);
		buf_adds(b, "</ul>\n");
	}
	layout_close(b);
	strvec_clear(&list);
}
