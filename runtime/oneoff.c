#define _GNU_SOURCE
#include "runtime/oneoff.h"

#include "exec/limits.h"
#include "exec/procenv.h"
#include "exec/sandbox.h"
#include "exec/overlay.h"
#include "store/formation.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/tty.h"
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

/* The command's terminal, in the sandbox too; this process's stdin raw from now on. */
static int open_tty(struct tty_pty *t, struct sandbox *sb)
{
	int err = tty_pty_open(t, 0);
	if (!err)
		sb->tty = t->name;
	return err ? err : tty_raw(t, 0);
}

int oneoff_run(const struct oneoff_opts *o, int *status)
{
	struct sandbox sb = SANDBOX_INIT;
	struct overlay ov = OVERLAY_INIT;
	struct limits lim = LIMITS_INIT;
	struct strvec env = STRVEC_INIT, inner = STRVEC_INIT;
	struct tty_pty t = TTY_PTY_INIT;
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
	if ((err = sandbox_addons(&sb, o->root, &o->release->addons)))
		goto done;
	procenv_env(&o->release->config, free_port(), dyno, &sb, dir, &env);
	const char *term = getenv("TERM");
	if (o->tty && term && *term)
		strvec_pushf(&env, "TERM=%s", term); /* what draws on it must know the kind */
	procenv_argv(o->words, o->n, &inner);
	if ((err = open_limits(o, &lim)))
		goto done;
	sb.limits = &lim;
	if (o->tty && (err = open_tty(&t, &sb)))
		goto done;
	struct procenv_start_opts so = { .sb = &sb, .argv = (const char *const *)inner.v,
					 .dir = dir, .env = env.v, .keep_stdin = 1,
					 .own_group = 1, .overlay = &ov, .tty_fd = t.slave };
	struct procenv_proc p;
	if ((err = start_app(&so, o, &p)))
		goto done;
	tty_pty_close_slave(&t); /* the process's now: the master sees its end */
	if (o->tty) {
		struct tty_relay relay;
		tty_relay_start(&relay, &t, 0, 1);
		*status = procenv_wait_tty(&p, stop, &relay);
		tty_relay_stop(&relay);
	} else {
		*status = procenv_wait(&p, stop);
	}
	procenv_release(&p);
	if (*status < 0)
		err = sw_error_errno(SW_ERROR, "cannot wait for %s", dyno);
done:
	tty_pty_release(&t); /* the client's terminal as it was */
	limits_close(&lim);
	overlay_close(&ov); /* what it changed goes with it */
	sandbox_release(&sb);
	strvec_clear(&env);
	strvec_clear(&inner);
	return err;
}
