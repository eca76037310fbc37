/*
 * assets.h - the dashboard's static files (its scripts), served by nginx.
 *
 * Part of dashboard/: uses store/ and util/; prints nothing.
 *
 * Each asset is a file its pages link, named by its content: login.js
 * is /static/login.3f2a9c1d.js, the 8 first hex digits of its SHA-256, so
 * a browser may keep it for good (nginx sends it with `expires max`) and a
 * new content is a new name.  The bodies are in the binary; the names are
 * computed from them when the process first asks (the server does so
 * before it forks a request's process), and assets_write() puts the files
 * where the router's server block for the dashboard serves /static/ from:
 * <root>/dashboard/static/ (runtime/router.c).  dashboard_serve() writes
 * them when it starts, so the running binary's files are the ones there.
 *
 *     buf_addf(b, "<script src=\"%s\"></script>\n", assets_url("login.js"));
 */
#ifndef SW_DASHBOARD_ASSETS_H
#define SW_DASHBOARD_ASSETS_H

#include <stddef.h>

/* NAME.HASH8.EXT and '\0' fit in this. */
#define ASSETS_NAME_MAX 64

/* The URL path of the asset called name ("login.js"): "/static/login.3f2a9c1d.js".  name must be one. */
const char *assets_url(const char *name);

/* The body of the asset called name, or NULL when there is none. */
const char *assets_body(const char *name);

/* The file name of name ("login.js") with body: "login.HASH8.js" into out. */
void assets_file_name(char out[ASSETS_NAME_MAX], const char *name, const char *body);

/*
 * Writes every asset into <root>/dashboard/static/ (made 0755 when
 * missing) under its hashed name, each temp -> fsync -> rename, and
 * removes the files there that are no asset's any more.  0, or -1 with
 * the error set.
 */
int assets_write(const char *root);

#endif
