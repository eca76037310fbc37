/*
 * runtime_helpers.h - the running side of an app sandbox, for the runtime
 * tests: the supervision tree started and stopped by its pid, the app's
 * service directories, and HTTP to an instance's port.
 *
 * Strings returned are malloc'ed and the caller's.
 */
#ifndef SW_TEST_RUNTIME_HELPERS_H
#define SW_TEST_RUNTIME_HELPERS_H

#include "tests/integration/app_sandbox.h"
#include "util/util.h"

#include <sys/types.h>

/*
 * The sandbox most runtime tests start from: skips the test when s6 (and,
 * with RT_ROUTER, nginx) is missing; makes sb for app with env ("K=V",
 * NULL-terminated; may be NULL) set; writes server.py (the given source),
 * the file version ("one") and a Procfile running server.py as web; creates
 * the app and commits it all ("one") on main.
 */
#define RT_ROUTER 1u
void rt_setup_at(struct th_at at, struct app_sandbox *sb, const char *app, unsigned flags,
		 const char *server_py, const char *const *env);
#define rt_setup(...) rt_setup_at(TH_AT, __VA_ARGS__)

/*
 * An app's server.py: GET / answers the code's version (the file
 * /app/version); with /app/crash it binds, then exits a second later;
 * GET /unlisten answers, then closes its port and runs on, listening
 * nowhere.
 */
extern const char rt_version_server_py[];

/* `slipway server:start`, asserted; the pid it reports. */
pid_t rt_start_at(struct th_at at, struct app_sandbox *sb);
#define rt_start(...) rt_start_at(TH_AT, __VA_ARGS__)

/* `slipway server:stop`, then SIGKILL to *svscan if it was started (by pid, never by name). */
void rt_stop(struct app_sandbox *sb, pid_t *svscan);

/* "rt.v2-5.web.1" as "rt.v2.web.1": which release and instance, not which generation. */
char *rt_without_generation(const char *name);

/* The app's service directories (without their generation), sorted, space-separated
 * (the router's and other apps' are not the app's). */
char *rt_services(struct app_sandbox *sb);

/* <root>/services/APP.vN-G.INSTANCE, whatever G is (the first found; NULL: none). */
char *rt_service_dir(struct app_sandbox *sb, int version, const char *instance);

/* The port of v's instance, asserted to exist. */
int rt_port_at(struct th_at at, struct app_sandbox *sb, int version, const char *instance);
#define rt_port(...) rt_port_at(TH_AT, __VA_ARGS__)

/* GET / on port: the body, or NULL when nothing answers. */
char *rt_get(int port);

/* GET / through sb's router for host: the body, or NULL when it did not answer 200. */
char *rt_page(struct app_sandbox *sb, const char *host);

/* rt_get() until it answers, up to about 10 s. */
char *rt_wait_get(int port);

/* 1 once nothing answers on port any more (up to about 5 s), else 0. */
int rt_wait_gone(int port);

/*
 * How many processes (not this one, not zombies) work in sb's root or
 * below it, or name it in their argv; "PID ARGV" lines of them into list
 * (may be NULL).
 */
int rt_processes_of(struct app_sandbox *sb, struct buf *list);

/*
 * How many of the processes rt_processes_of() counts are neither svscan nor
 * below it: left outside the supervision tree; "PID ARGV" lines into list.
 */
int rt_outside_tree(struct app_sandbox *sb, pid_t svscan, struct buf *list);

/* rt_outside_tree() until it is 0, up to about 10 s; the last count (list: its lines). */
int rt_wait_inside_tree(struct app_sandbox *sb, pid_t svscan, struct buf *list);

/* The pid of the s6-supervise working in the service directory dir, 0 when none runs. */
pid_t rt_supervisor_of(const char *dir);

/* rt_supervisor_of() until it is neither 0 nor old, up to about 10 s; 0 when none came. */
pid_t rt_wait_new_supervisor(const char *dir, pid_t old);

/* Sleeps ms milliseconds. */
void rt_pause_ms(int ms);

#endif
