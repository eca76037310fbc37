/*
 * instance.h - one process instance of a release (web.1, worker.2), run
 * in the foreground: what a supervised service runs.
 *
 * Part of runtime/: uses util/, store/ and exec/; writes only to the FILE * or
 * callback it is given (the instance's own output goes to this process's
 * stdout and stderr, for its supervisor's logger).
 *
 * As on Heroku: the process type's command runs with /bin/sh -c in the
 * sandbox (runtime/sandbox.h), in the release's slug at /app
 * (exec/overlay.h: writable and its own, lost when the instance ends), with
 * HOME=/app and /app as its directory; /app/.profile.d/ *.sh and then
 * /app/.profile are sourced first.  Its environment is the release's
 * config vars plus PORT, DYNO=TYPE.N and PATH (PORT and DYNO are the
 * platform's: a config var of that name does not win).  The release's
 * add-ons (its attachments) are reachable: exec/sandbox.h sandbox_addons().
 *
 * Network: a network of its own (exec/appnet.h; slipway.appNetwork host:
 * the host's), reached only through the host's 127.0.0.1:port, reaching
 * of the host's loopback only its add-ons' ports; when its
 * forwarder ends, the instance is killed, and its supervisor starts it
 * again.
 *
 * Stopping: bubblewrap passes no signal on, so a SIGTERM (or SIGINT) to
 * this process is sent on to every process of the instance's PID
 * namespace - what the app sees is Heroku's SIGTERM - and whatever still
 * runs after stop_timeout_sec gets SIGKILL.  If this process dies, the
 * sandbox dies with it.
 *
 * Output: what the processes write (stdout and stderr) goes to this
 * process's stdout a line at a time, each stamped and labelled in the
 * app's log format (runtime/logs.h: "app[web.1]: ..."), and so do the
 * instance's events ("slipway[web.1]: Starting process with command `...`",
 * "State changed from starting to up", "Process exited with status 143").
 * A web instance is up once the app itself listens on its port (in its
 * own network: exec/appnet.h, whose forwarder listening on the host does
 * not count) and the port accepts connections; any other is up once it
 * started.
 *
 * Under a supervisor (state_dir set): the file "state" there says
 * "starting", "up", "crashed" or "down", since when, and the pid of the
 * process that wrote it (instance:run's own, the one s6 runs), and once up
 * the pid of the process the sandbox started (the app's tree, without its
 * network's forwarder), as "up 1764601234 4242 4250"; an instance that
 * exits by itself is "crashed", and its next start waits: at once after
 * the first crash, then 1 s, doubling to at most 5 minutes (a run of a
 * minute or more starts the count over).  A new service directory - a new
 * release or a restart - starts with no crashes.
 *
 *     struct instance_opts o = { .root = root, .app = "myapp", .release = &r,
 *                                .type = "web", .index = 1, .port = 20001 };
 *     err = instance_run(&o, &status);
 */
#ifndef SW_INSTANCE_H
#define SW_INSTANCE_H

#include "store/release.h"

struct instance_opts {
	const char *root;
	const char *app;
	const struct release *release;  /* slug, process types, config; the caller's */
	const char *type;               /* a process type of the release */
	int index;                      /* N of TYPE.N, from 1 */
	int port;                       /* $PORT */
	int stop_timeout_sec;           /* SIGTERM to SIGKILL; 0 = slipway.stopTimeout (30) */
	const char *state_dir;          /* its service directory, or NULL (see below) */
};

/*
 * Runs the instance until it exits; *status gets its exit code (128+signal
 * when killed).  SW_ENOTFOUND when the release has no such process type;
 * SW_EINVALID for a bad type, index or port; SW_ERROR when the sandbox or
 * the slug's copy cannot be made.
 */
int instance_run(const struct instance_opts *o, int *status);

#endif
