/*
 * server.h - the dashboard's server: SCGI on a unix socket, behind nginx.
 *
 * Part of dashboard/: uses runtime/, store/ and util/; prints nothing.
 *
 * One process listens on <root>/dashboard/dashboard.sock (mode 0600 in a
 * 0700 directory: only the server user, whose nginx passes the dashboard's
 * host to it, can connect) and forks a child per connection, at most
 * SERVER_MAX_CHILDREN at once: a request that reads many ledgers does not
 * hold up the others, its memory is gone when it ends, and a crash ends
 * one request, not the server.  A child reads one request (headers and
 * body within scgi.h's limits, each read and write within
 * SERVER_IO_TIMEOUT seconds, the whole within SERVER_REQUEST_TIMEOUT),
 * writes one response and exits; a streamed response (response.h) runs
 * on after its headers, without that alarm, bounded by itself (a page
 * that streams also limits how many of its streams may be open at once,
 * so streams never hold every child).  SIGTERM or SIGINT ends the loop;
 * children finish their request.
 *
 * dashboard_service_write() writes the s6 service "dashboard" that runs
 * `slipway dashboard:run` (server:start calls it).
 */
#ifndef SW_DASHBOARD_SERVER_H
#define SW_DASHBOARD_SERVER_H

#define SERVER_MAX_CHILDREN 16
#define SERVER_IO_TIMEOUT 10
#define SERVER_REQUEST_TIMEOUT 30

/* The service's name in the supervision tree. */
#define DASHBOARD_SERVICE "dashboard"

/* Serves until SIGTERM or SIGINT: 0, or an error if the socket cannot be had. */
int dashboard_serve(const char *root);

/* Writes (or rewrites) the s6 service that runs exe's dashboard:run for root. */
int dashboard_service_write(const char *root, const char *exe);

#endif
