#define _GNU_SOURCE
#include "runtime/oneoff.h"

#include "exec/limits.h"
#include "exec/procenv.h"
#include "exec/sandbox.h"
#include "exec/overlay.h"
#include "store/formation.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A port nothing listens on now, the kernel's pick; 5000 when it has none. */
static int free_port(void)
{
	int port = 5000;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	socklen_t len = sizeof(a);
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0 && ntohs(a.sin_port))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int check_opts(const struct oneoff_opts *o, int *stop)
{
	if (!o->n || !o->words || !o->words[0])
		return sw_error_set(SW_EINVALID, "no command to run");
	if (!o->release->slug[0])
		return sw_error_set(SW_ENOTFOUND, "release v%d of %s has no slug to run: push code first",
				    o->release->version, o->app);
	*stop = o->stop_timeout_sec;
	if (*stop <= 0)
		return settings_read_seconds(o->root, o->app, &SETTING_STOP_TIMEOUT, stop);
	return 0;
}

/* Starts the sandbox; where /app cannot be an overlay, with a copy of the slug. */
static int start_app(const struct procenv_start_opts *so, const struct oneoff_opts *o,
		     struct procenv_proc *p)
{
	int err = procenv_start(so, p);
	if (!err || !so->overlay->failed)
		return err;
	if (!(err = overlay_copy(so->overlay, o->root, o->release->slug)))
		err = procenv_start(so, p);
	return err;
}

/*
 * A one-off's cgroup, with the app's limits as an instance's (its type:
 * "run"), its memory o->size's when given; at the hard limit the kernel's
 * OOM killer ends it, nothing watching.  A malformed setting refuses the
 * run (SW_EINVALID).
 */
static int open_limits(const struct oneoff_opts *o, struct limits *l)
{
	struct limits_spec spec;
	int err = limits_spec_read(o->root, o->app, "run", &spec);
	spec.kernel_kills = 1;
	if (o->size)
		spec.memory = o->size->memory;
	return err ? err : limits_open(l, o->root, o->app, "run", &spec);
}

int oneoff_run(const struct oneoff_opts *o, int *status)
{
	struct sandbox sb = SANDBOX_INIT;
	struct overlay ov = OVERLAY_INIT;
	struct limits lim = LIMITS_INIT;
	struct strvec env = STRVEC_INIT, inner = STRVEC_INIT;
	const char *dir = NULL;
	char dyno[32];
	int stop = 0, err;

	*status = -1;
	/* from here on, a client gone or a ^C stops the process, and the run dir goes */
	procenv_catch_stops((const int[]){ SIGTERM, SIGINT, SIGHUP, 0 });
	snprintf(dyno, sizeof(dyno), "run.%d", (int)getpid());
	if ((err = check_opts(o, &stop)) ||
	    (err = sandbox_init(&sb, o->root, o->app, SANDBOX_RUN)) ||
	    (err = sandbox_check(&sb)) ||
	    (err = overlay_open(&ov, o->root, o->app, dyno, o->release->slug, &sb)))
		goto done;
	if (procenv_stop_asked()) {
		*status = 128 + SIGTERM; /* stopped before it started */
		goto done;
	}
	dir = ov.dir;
	sandbox_mount(&sb, dir, "/app", 1);
	procenv_env(&o->release->config, free_port(), dyno, &sb, dir, &env);
	procenv_argv(o->words, o->n, &inner);
	if ((err = open_limits(o, &lim)))
		goto done;
	sb.limits = &lim;
	struct procenv_start_opts so = { .sb = &sb, .argv = (const char *const *)inner.v,
					 .dir = dir, .env = env.v, .keep_stdin = 1,
					 .own_group = 1, .overlay = &ov };
	struct procenv_proc p;
	if ((err = start_app(&so, o, &p)))
		goto done;
	*status = procenv_wait(&p, stop);
	procenv_release(&p);
	if (*status < 0)
		err = sw_error_errno(SW_ERROR, "cannot wait for %s", dyno);
done:
	limits_close(&lim);
	overlay_close(&ov); /* what it changed goes with it */
	sandbox_release(&sb);
	strvec_clear(&env);
	strvec_clear(&inner);
	return err;
}
