#define _GNU_SOURCE
#include "runtime/instance.h"

#include "runtime/sandbox.h"
#include "runtime/unpack.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Sources the slug's profile scripts, then runs the command given as $1 (never spliced in). */
static const char launcher[] =
	"for f in /app/.profile.d/*.sh; do [ -r \"$f\" ] && . \"$f\"; done; "
	"[ -r /app/.profile ] && . /app/.profile; "
	"exec /bin/sh -c \"$1\"";

static volatile sig_atomic_t stop_asked;

static void on_stop(int sig)
{
	(void)sig;
	stop_asked = 1;
}

static void make_env(const struct instance_opts *o, const struct sandbox *sb, const char *dir,
		     struct strvec *env)
{
	const struct config *cfg = &o->release->config;
	for (size_t i = 0; i < cfg->n; i++)
		if (strcmp(cfg->items[i].key, "PORT") && strcmp(cfg->items[i].key, "DYNO"))
			strvec_pushf(env, "%s=%s", cfg->items[i].key, cfg->items[i].value);
	strvec_pushf(env, "PORT=%d", o->port);
	strvec_pushf(env, "DYNO=%s.%d", o->type, o->index);
	sandbox_env(sb, dir, env);
}

/* The "pid-namespace" and "child-pid" bwrap wrote on fd; 0 when it wrote none. */
static void read_info(int fd, unsigned long long *ns, pid_t *child)
{
	char text[2048];
	size_t n = 0;
	ssize_t r;
	while (n < sizeof(text) - 1 && (r = read(fd, text + n, sizeof(text) - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += (size_t)r;
	}
	text[n] = '\0';
	char *p = strstr(text, "\"pid-namespace\":");
	*ns = p ? strtoull(p + 16, NULL, 10) : 0;
	p = strstr(text, "\"child-pid\":");
	*child = p ? (pid_t)atoi(p + 12) : 0;
}

/* Sends sig to every process in the PID namespace whose inode is ns, but its init. */
static void signal_namespace(unsigned long long ns, pid_t init, int sig)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d))) {
		pid_t pid = (pid_t)atoi(e->d_name);
		if (pid <= 0 || pid == init)
			continue;
		char path[64];
		struct stat st;
		snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
		if (stat(path, &st) == 0 && (unsigned long long)st.st_ino == ns)
			kill(pid, sig);
	}
	closedir(d);
}

/* Waits for the sandbox, passing a stop on to its processes. */
static int supervise(pid_t bwrap, unsigned long long ns, pid_t init, int stop_sec)
{
	long long kill_at = 0;
	int st;
	for (;;) {
		pid_t r = waitpid(bwrap, &st, kill_at ? WNOHANG : 0);
		if (r == bwrap)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
		if (stop_asked && !kill_at) {
			if (ns)
				signal_namespace(ns, init, SIGTERM);
			else
				kill(bwrap, SIGTERM);
			kill_at = run_now_ms() + stop_sec * 1000LL;
		}
		if (kill_at) {
			if (run_now_ms() >= kill_at) {
				/* the namespace's init takes everything in it along */
				kill(init > 0 ? init : bwrap, SIGKILL);
				kill(bwrap, SIGKILL);
			}
			nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
		}
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int check_opts(const struct instance_opts *o, const char **command)
{
	if (!proc_name_valid(o->type) || o->index < 1 || o->index > 1000 || o->port < 1 ||
	    o->port > 65535)
		return sw_error_set(SW_EINVALID, "invalid instance %s.%d on port %d", o->type,
				    o->index, o->port);
	if (!o->release->slug[0])
		return sw_error_set(SW_ENOTFOUND, "release v%d has no slug to run",
				    o->release->version);
	*command = proc_list_get(&o->release->procs, o->type);
	if (!*command)
		return sw_error_set(SW_ENOTFOUND, "release v%d has no process type '%s'",
				    o->release->version, o->type);
	return 0;
}

int instance_run(const struct instance_opts *o, int *status)
{
	struct sandbox sb = SANDBOX_INIT;
	struct strvec env = STRVEC_INIT, argv = STRVEC_INIT;
	char *run = NULL, *dir = NULL;
	const char *command = NULL;
	int info[2] = { -1, -1 }, err;
	char label[80];

	*status = -1;
	snprintf(label, sizeof(label), "%s.%d", o->type, o->index);
	if ((err = check_opts(o, &command)) ||
	    (err = sandbox_init(&sb, o->root, o->app, SANDBOX_RUN)) ||
	    (err = sandbox_check(&sb)) ||
	    (err = unpack_for_instance(o->root, o->app, label, o->release->slug, &run)))
		goto done;
	dir = xasprintf("%s/app", run);
	sandbox_mount(&sb, dir, "/app", 1);
	make_env(o, &sb, dir, &env);
	const char *inner[] = { "/bin/sh", "-c", launcher, "sh", command, NULL };
	if (pipe2(info, O_CLOEXEC) < 0) {
		err = sw_error_errno(SW_ERROR, "cannot start %s.%d", o->type, o->index);
		goto done;
	}
	if (sb.off)
		for (size_t i = 0; inner[i]; i++)
			strvec_push(&argv, inner[i]);
	else
		sandbox_command(&sb, inner, dir, 3, &argv);

	struct sigaction sa = { .sa_handler = on_stop };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	pid_t pid = fork();
	if (pid < 0) {
		err = sw_error_errno(SW_ERROR, "cannot start %s.%d", o->type, o->index);
		goto done;
	}
	if (pid == 0) {
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		sigaction(SIGTERM, &dfl, NULL);
		sigaction(SIGINT, &dfl, NULL);
		sigaction(SIGPIPE, &dfl, NULL);
		sigaction(SIGHUP, &dfl, NULL);
		int null = open("/dev/null", O_RDONLY);
		struct rlimit core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &core);
		if (sb.max_file_size) {
			struct rlimit fs = { sb.max_file_size, sb.max_file_size };
			setrlimit(RLIMIT_FSIZE, &fs); /* lowering only: a failure leaves ours */
		}
		if (info[1] == 3)
			fcntl(3, F_SETFD, 0);
		if (null < 0 || dup2(null, 0) < 0 || (info[1] != 3 && dup2(info[1], 3) < 0) ||
		    (!sb.off && chdir("/") < 0) || (sb.off && chdir(dir) < 0))
			_exit(127);
		execvpe(argv.v[0], argv.v, env.v);
		_exit(127);
	}
	close(info[1]);
	info[1] = -1;
	unsigned long long ns = 0;
	pid_t init = 0;
	if (!sb.off)
		read_info(info[0], &ns, &init);
	int stop = o->stop_timeout_sec;
	/* the instance runs: a malformed setting must not stop it */
	if (stop <= 0 && settings_read_seconds(o->root, o->app, &SETTING_STOP_TIMEOUT, &stop) < 0)
		stop = 30;
	*status = supervise(pid, ns, init, stop);
	if (*status < 0)
		err = sw_error_errno(SW_ERROR, "cannot wait for %s.%d", o->type, o->index);
done:
	if (info[0] >= 0)
		close(info[0]);
	if (info[1] >= 0)
		close(info[1]);
	if (run)
		unpack_remove(run); /* the instance's changes go with it */
	sandbox_release(&sb);
	strvec_clear(&env);
	strvec_clear(&argv);
	free(run);
	free(dir);
	return err;
}
