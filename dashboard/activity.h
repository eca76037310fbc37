/*
 * activity.h - an app's history in the dashboard: the Activity tab, a
 * build's output, a release, the rollback preview and its confirmation,
 * and the app's settings page.
 *
 * Part of dashboard/: uses view/, release/, store/ and util/; prints
 * nothing.  Each is a page of pages.c's route table, which has checked
 * the session, the app (q->app: the user may use it) and a POST's token.
 *
 *   GET  /apps/APP/activity        releases and builds, newest first
 *   GET  /apps/APP/builds/ID       a build's whole kept output
 *   GET  /apps/APP/releases/vN     releases:info and the diff from the current release
 *   GET  /apps/APP/rollback/vN     what a rollback to vN would change, and its confirm form
 *   POST /apps/APP/rollback        target=N, current=M: checked (a stale page, one whose
 *                                  vM is no longer current, changes nothing), answered
 *                                  with 303 to the result page, then the rollback runs -
 *                                  made only while vM is still current
 *   GET  /apps/APP/rollback/vN/result?from=M&at=T  what it did: under way (the page
 *                                  looks again each second), done, failed, or refused
 *   GET  /apps/APP/settings        the app's slipway.repoUrl
 *   POST /apps/APP/settings        repo_url=...: sets it (checked), "" unsets it
 */
#ifndef SW_DASHBOARD_ACTIVITY_H
#define SW_DASHBOARD_ACTIVITY_H

/* The newest releases the Activity tab shows (builds: all that are kept). */
#define ACTIVITY_RELEASES_SHOWN 1000

struct buf;
struct page_req;
struct response;
struct settings;

void activity_page(struct page_req *q, struct response *res);
void activity_build_page(struct page_req *q, struct response *res);
void activity_release_page(struct page_req *q, struct response *res);
void rollback_preview_page(struct page_req *q, struct response *res);
void rollback_post(struct page_req *q, struct response *res);
void rollback_result_page(struct page_req *q, struct response *res);
void app_settings_page(struct page_req *q, struct response *res);
void app_settings_post(struct page_req *q, struct response *res);

/*
 * The first 7 of commit (40 hex), linked to the commit through fmt
 * (slipway.repoUrl, checked) when fmt is not NULL.
 */
void activity_commit_link(struct buf *b, const char *fmt, const char *commit);

/* The version in q->arg ("v3" or "3"): 0, else -1 and 404 in res. */
int activity_version(struct page_req *q, struct response *res, int *v);

/* "/apps/APP" and rest, escaped for an attribute. */
void activity_app_href(struct buf *b, const struct page_req *q, const char *rest);

#endif
