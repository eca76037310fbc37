/*
 * runtime/instance: one process instance in the foreground - its command
 * in the sandbox at /app after the profile scripts, with PORT and DYNO the
 * platform's; its output and events stamped and labelled on this
 * process's stdout; a web instance up once it listens; a SIGTERM passed
 * on, SIGKILL after the stop timeout; bad options refused before anything
 * runs.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"
#include "tests/integration/runtime_helpers.h"
#include "tests/release_helpers.h"

#include "runtime/instance.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *root, *log_path;
static char hex[65];

static void setup(void)
{
	root = rh_root();
	rh_app(root, "demo");
	log_path = th_path("%s/instance.log", root);
	rh_slug(root, hex, ".profile.d/greet.sh", "export FROM_PROFILE=profiled\n",
		"server.py", "import http.server, os\n"
			     "http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])),"
			     " http.server.SimpleHTTPRequestHandler).serve_forever()\n", NULL);
}

static void teardown(void)
{
	free(log_path);
	th_sandbox_free(root);
}

TestSuite(instance, .init = setup, .fini = teardown, .timeout = 60);

struct job {
	struct release r;
	struct instance_opts o;
};

static void job_init(struct job *j, const char *type, int index, int port, const char *command)
{
	memset(j, 0, sizeof(*j));
	j->r = (struct release)RELEASE_INIT;
	j->r.version = 3;
	memcpy(j->r.slug, hex, 65);
	proc_list_set(&j->r.procs, type, command);
	j->o = (struct instance_opts){ .root = root, .app = "demo", .release = &j->r,
				       .type = type, .index = index, .port = port };
}

/* The call under test, in the child: its result on the last line of the log. */
static void run_job(void *ctx)
{
	struct job *j = ctx;
	int status = -1;
	int err = instance_run(&j->o, &status);
	printf("instance_run: %d, status %d\n", err, status);
}

/* What the log says, once the child is done. */
static char *finish(pid_t pid)
{
	cr_assert_eq(rh_child_wait(pid), 0);
	char *text = th_read(log_path, NULL);
	cr_assert_not_null(text);
	return text;
}

/* 1 when text has a line " SOURCE[LABEL]: rest" after a time stamp. */
static int has_line(const char *text, const char *rest)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *sp = strchr(p, ' '), *nl = strchr(p, '\n');
		size_t n = strlen(rest);
		if (sp && (!nl || sp < nl) && sp - p >= 20 && p[4] == '-' && p[10] == 'T' &&
		    !strncmp(sp + 1, rest, n) && (sp[1 + n] == '\n' || !sp[1 + n]))
			return 1;
	}
	return 0;
}

Test(instance, a_worker_runs_at_app_after_the_profile_with_the_platforms_port_and_dyno)
{
	struct job j;
	job_init(&j, "worker", 2, 20002, "echo \"$DYNO $PORT $HOME $(pwd) $GREETING $FROM_PROFILE\"; exit 3");
	config_set(&j.r.config, "GREETING", "hi");
	config_set(&j.r.config, "PORT", "1");
	config_set(&j.r.config, "DYNO", "evil.1");
	char *text = finish(rh_child(log_path, NULL, run_job, &j));
	cr_assert(strstr(text, "instance_run: 0, status 3\n"), "%s", text);
	cr_assert(has_line(text, "slipway[worker.2]: Starting process with command `echo \"$DYNO "
			   "$PORT $HOME $(pwd) $GREETING $FROM_PROFILE\"; exit 3`"), "%s", text);
	cr_assert(has_line(text, "slipway[worker.2]: State changed from starting to up"), "%s", text);
	cr_assert(has_line(text, "app[worker.2]: worker.2 20002 /app /app hi profiled"), "%s", text);
	cr_assert(has_line(text, "slipway[worker.2]: Process exited with status 3"), "%s", text);
	free(text);
	release_release(&j.r);
}

Test(instance, bad_options_are_refused_before_anything_runs)
{
	struct job j;
	job_init(&j, "web", 1, 20001, "touch /tmp/ran");
	j.o.type = "clock";
	int status = 0;
	cr_assert_eq(instance_run(&j.o, &status), SW_ENOTFOUND);
	cr_assert_str_eq(sw_error_last(), "release v3 has no process type 'clock'");
	j.o.type = "web";
	j.o.index = 0;
	cr_assert_eq(instance_run(&j.o, &status), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "invalid instance web.0 on port 20001");
	j.o.index = 1;
	j.o.port = 70000;
	cr_assert_eq(instance_run(&j.o, &status), SW_EINVALID);
	j.o.port = 20001;
	j.r.slug[0] = '\0';
	cr_assert_eq(instance_run(&j.o, &status), SW_ENOTFOUND);
	cr_assert_str_eq(sw_error_last(), "release v3 has no slug to run");
	cr_assert_eq(status, -1, "nothing ran");
	char *runs = th_path("%s/runs", root);
	cr_assert_eq(th_entries(runs), 0, "no copy of the slug was made");
	free(runs);
	release_release(&j.r);
}

Test(instance, a_web_instance_is_up_once_it_listens_and_a_sigterm_reaches_it)
{
	struct job j;
	int port = th_free_port();
	job_init(&j, "web", 1, port,
		 "trap 'echo got TERM; kill $server; exit 0' TERM; python3 server.py & server=$!; wait");
	pid_t pid = rh_child(log_path, NULL, run_job, &j);
	app_sandbox_wait_for(log_path, "slipway[web.1]: State changed from starting to up");
	char *page = rt_get(port);
	cr_assert_not_null(page, "it listens on $PORT once up");
	free(page);
	cr_assert_eq(kill(pid, SIGTERM), 0);
	char *text = finish(pid);
	cr_assert(has_line(text, "app[web.1]: got TERM"), "%s", text);
	cr_assert(has_line(text, "slipway[web.1]: Process exited with status 0"), "%s", text);
	cr_assert(strstr(text, "instance_run: 0, status 0\n"), "%s", text);
	free(text);
	release_release(&j.r);
}

Test(instance, what_ignores_sigterm_is_killed_after_the_stop_timeout)
{
	struct job j;
	job_init(&j, "worker", 1, 20001,
		 "trap 'echo ignoring TERM' TERM; echo ready; while :; do sleep 0.1; done");
	j.o.stop_timeout_sec = 1;
	pid_t pid = rh_child(log_path, NULL, run_job, &j);
	app_sandbox_wait_for(log_path, "app[worker.1]: ready");
	cr_assert_eq(kill(pid, SIGTERM), 0);
	char *text = finish(pid);
	cr_assert(has_line(text, "app[worker.1]: ignoring TERM"), "%s", text);
	cr_assert(has_line(text, "slipway[worker.1]: Process exited with status 137"), "%s", text);
	cr_assert(strstr(text, "instance_run: 0, status 137\n"), "%s", text);
	free(text);
	release_release(&j.r);
}
