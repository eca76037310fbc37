#include "dashboard/response.h"

#include "dashboard/html.h"

#include <stdio.h>

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

void response_release(struct response *res)
{
	buf_release(&res->headers);
	buf_release(&res->body);
	if (res->arg_free)
		res->arg_free(res->arg);
	*res = (struct response)RESPONSE_INIT;
}

void response_format(const struct response *res, struct buf *out)
{
	buf_addf(out, "Status: %d %s\r\nContent-Type: %s\r\n", res->status, status_text(res->status),
		 res->type ? res->type : "text/html; charset=utf-8");
	buf_adds(out, "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'; "
		      "form-action 'self'; base-uri 'none'\r\n"
		      "X-Content-Type-Options: nosniff\r\n"
		      "Referrer-Policy: same-origin\r\n"
		      "X-Frame-Options: DENY\r\n"
		      "Cache-Control: no-store\r\n");
	buf_add(out, res->headers.data, res->headers.len);
	if (res->stream) {
		buf_adds(out, "\r\n"); /* the stream follows, until it ends */
		return;
	}
	buf_addf(out, "Content-Length: %zu\r\n\r\n", res->body.len);
	buf_add(out, res->body.data, res->body.len);
}

void response_message(struct response *res, int status, const char *title, const char *text)
{
	res->status = status;
	buf_reset(&res->body);
	html_page_open(&res->body, title);
	buf_adds(&res->body, "<h1>");
	html_escape(&res->body, title);
	buf_adds(&res->body, "</h1>\n<p>");
	html_escape(&res->body, text);
	buf_adds(&res->body, "</p>\n<p><a href=\"/\">Apps</a></p>\n");
	html_page_close(&res->body);
}

void response_redirect(struct response *res, const char *to)
{
	res->status = 303;
	buf_addf(&res->headers, "Location: %s\r\n", to);
}
