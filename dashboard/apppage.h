/*
 * apppage.h - what one of an app's pages gets, and the frame it is drawn in.
 *
 * Part of dashboard/: uses util/ only; prints nothing.
 *
 * pages.c answers /apps/APP/<page> only for a session whose user may use
 * APP as they could over ssh (access.h: a collaborator; the operator: every
 * app).  Anyone else gets 404, the same answer as for an app that does not
 * exist, and no page function runs.  A POST's form has passed csrf.h before
 * its function runs.  What a page changes it changes as the CLI command
 * does, with the session's user as its `By`, and says in the app's log as
 * "... by USER (dashboard)".
 */
#ifndef SW_DASHBOARD_APPPAGE_H
#define SW_DASHBOARD_APPPAGE_H

#include <time.h>

struct buf;
struct form;
struct scgi_request;

/* One request to an app's page, already let through. */
struct app_request {
	const char *root;
	const char *app;
	const char *user;         /* the session's user: the `By` of what the page changes */
	int operator;             /* the server's operator, not a user */
	const char *csrf;         /* the session's token, for the page's forms */
	const struct form *form;  /* a POST's fields (checked); empty for a GET */
	const struct scgi_request *scgi;
	time_t now;
};

/* The start of an app's page: title, who is logged in, the app's pages. */
void apppage_open(const struct app_request *a, struct buf *b, const char *title);

/* The end of an app's page. */
void apppage_close(struct buf *b);

/* A POST form to action (a path under /apps/APP) carrying the session's token. */
void apppage_form_open(const struct app_request *a, struct buf *b, const char *action);

#endif
