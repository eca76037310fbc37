/*
 * html.h - the one way text reaches a page: escaped.
 *
 * Part of dashboard/: uses util/ only; prints nothing.
 *
 * Everything a page shows is attacker-influenced (app names, commit
 * messages, build output, user names): it goes through html_escape(),
 * which is right both between tags and inside a quoted attribute.  Only
 * the page's own markup is added with buf_adds().
 *
 *     buf_adds(&b, "<td>");
 *     html_escape(&b, release->description);
 *     buf_adds(&b, "</td>");
 */
#ifndef SW_DASHBOARD_HTML_H
#define SW_DASHBOARD_HTML_H

struct buf;

/*
 * Appends s with & < > " ' as character references.  Bytes that are not
 * well-formed UTF-8 become U+FFFD and control characters other than tab and
 * newline are dropped, so the page is always valid UTF-8 text.
 */
void html_escape(struct buf *b, const char *s);

/* The start of a page: doctype, charset, the escaped title, <body>. */
void html_page_open(struct buf *b, const char *title);

/* The end of a page. */
void html_page_close(struct buf *b);

#endif
