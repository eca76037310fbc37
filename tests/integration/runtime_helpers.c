#define _GNU_SOURCE
#include "tests/integration/runtime_helpers.h"

#include "util/util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void rt_pause_ms(int ms)
{
	nanosleep(&(struct timespec){ ms / 1000, (long)(ms % 1000) * 1000000L }, NULL);
}

void rt_setup_at(struct th_at at, struct app_sandbox *sb, const char *app, unsigned flags,
		 const char *server_py, const char *const *env)
{
	if (access("/usr/bin/s6-svscan", X_OK))
		cr_skip_test("s6 is needed (run scripts/deps)");
	if ((flags & RT_ROUTER) && access("/usr/sbin/nginx", X_OK))
		cr_skip_test("nginx is needed (run scripts/deps)");
	app_sandbox_init(sb, app, APP_SANDBOX_BATCH);
	for (size_t i = 0; env && env[i]; i++)
		app_sandbox_setenv(sb, env[i]);
	app_sandbox_write(sb, "server.py", server_py, 0644);
	app_sandbox_write(sb, "version", "one\n", 0644);
	app_sandbox_write(sb, "Procfile", "web: exec python3 -u server.py\n", 0644);
	app_sandbox_create_at(at, sb, NULL);
	app_sandbox_checkout_at(at, sb, NULL, "main", "one");
}

pid_t rt_start_at(struct th_at at, struct app_sandbox *sb)
{
	char *out = SANDBOX_OK_AT(at, sb, NULL, SLIPWAY_BIN, "server:start");
	const char *p = strstr(out, "(pid ");
	cr_assert(p, "at %s:%d: %s", at.file, at.line, out);
	pid_t pid = (pid_t)atoi(p + 5);
	free(out);
	return pid;
}

void rt_stop(struct app_sandbox *sb, pid_t *svscan)
{
	struct th_result r = SANDBOX_RUN(sb, NULL, SLIPWAY_BIN, "server:stop");
	th_result_free(&r);
	if (*svscan > 0)
		kill(*svscan, SIGKILL);
	*svscan = -1;
}

char *rt_without_generation(const char *name)
{
	const char *dash = strchr(name, '-'), *dot = dash ? strchr(dash, '.') : NULL;
	if (!dot)
		return strdup(name);
	return th_path("%.*s%s", (int)(dash - name), name, dot);
}

/* The names of the app's services in <root>/services ("APP.…"), sorted. */
static void service_names(struct app_sandbox *sb, struct strvec *v)
{
	char *dir = th_path("%s/services", sb->root);
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t an = strlen(sb->app);
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, sb->app, an) && e->d_name[an] == '.')
			strvec_push(v, e->d_name);
	if (d)
		closedir(d);
	strvec_sort(v);
	free(dir);
}

char *rt_services(struct app_sandbox *sb)
{
	struct strvec v = STRVEC_INIT;
	struct buf b = BUF_INIT;
	service_names(sb, &v);
	for (size_t i = 0; i < v.n; i++) {
		char *name = rt_without_generation(v.v[i]);
		buf_addf(&b, "%s%s", i ? " " : "", name);
		free(name);
	}
	strvec_clear(&v);
	return buf_detach(&b);
}

char *rt_service_dir(struct app_sandbox *sb, int version, const char *instance)
{
	struct strvec v = STRVEC_INIT;
	char *want = th_path("%s.v%d.%s", sb->app, version, instance), *found = NULL;
	service_names(sb, &v);
	for (size_t i = 0; i < v.n && !found; i++) {
		char *name = rt_without_generation(v.v[i]);
		if (!strcmp(name, want))
			found = th_path("%s/services/%s", sb->root, v.v[i]);
		free(name);
	}
	strvec_clear(&v);
	free(want);
	return found;
}

int rt_port_at(struct th_at at, struct app_sandbox *sb, int version, const char *instance)
{
	char *dir = rt_service_dir(sb, version, instance);
	cr_assert(dir, "at %s:%d: no service of v%d's %s", at.file, at.line, version, instance);
	char *p = th_path("%s/port", dir), *s = th_read(p, NULL);
	cr_assert(s, "at %s:%d: no %s", at.file, at.line, p);
	int port = atoi(s);
	free(s);
	free(p);
	free(dir);
	return port;
}

char *rt_get(int port)
{
	char *url = th_path("http://127.0.0.1:%d/", port);
	struct th_result r = th_runv(NULL, NULL, "curl", "-sS", "--max-time", "5", url, NULL);
	free(url);
	char *body = r.status == 0 ? strdup(r.out) : NULL;
	th_result_free(&r);
	return body;
}

char *rt_wait_get(int port)
{
	char *body = NULL;
	for (int i = 0; i < 200 && !body; i++) {
		body = rt_get(port);
		if (!body)
			rt_pause_ms(50);
	}
	return body;
}

int rt_wait_gone(int port)
{
	for (int i = 0; i < 100; i++) {
		char *body = rt_get(port);
		if (!body)
			return 1;
		free(body);
		rt_pause_ms(50);
	}
	return 0;
}

/* 1 when /proc/PID/stat says pid has exited and waits for its parent. */
static int zombie(const char *pid)
{
	char *path = th_path("/proc/%s/stat", pid), *text = th_read(path, NULL);
	const char *paren = text ? strrchr(text, ')') : NULL;
	int z = !paren || paren[1] != ' ' || paren[2] == 'Z' || paren[2] == 'X';
	free(text);
	free(path);
	return z;
}

/* 1 when pid is svscan or one of its descendants. */
static int below(pid_t pid, pid_t svscan)
{
	for (int depth = 0; pid > 1 && depth < 64; depth++, pid = th_parent_of(pid))
		if (pid == svscan)
			return 1;
	return 0;
}

/* Every process of sb's root (outside_of > 0: only those not in that pid's tree). */
static int processes_of(struct app_sandbox *sb, pid_t outside_of, struct buf *list)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t rl = strlen(sb->root);
	int n = 0;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9' || atoi(e->d_name) == (int)getpid() ||
		    zombie(e->d_name))
			continue;
		char cwd[PATH_MAX] = "", *link = th_path("/proc/%s/cwd", e->d_name);
		ssize_t cl = readlink(link, cwd, sizeof(cwd) - 1);
		cwd[cl > 0 ? cl : 0] = '\0';
		free(link);
		char *path = th_path("/proc/%s/cmdline", e->d_name);
		size_t len = 0;
		char *argv = th_read(path, &len);
		free(path);
		int in_argv = 0;
		for (size_t i = 0; argv && i < len; i++) {
			if (!argv[i])
				argv[i] = ' ';
			in_argv |= i + rl <= len && !strncmp(argv + i, sb->root, rl);
		}
		int in_cwd = !strncmp(cwd, sb->root, rl) && (cwd[rl] == '\0' || cwd[rl] == '/');
		if ((in_cwd || in_argv) &&
		    (outside_of <= 0 || !below((pid_t)atoi(e->d_name), outside_of))) {
			n++;
			if (list)
				buf_addf(list, "%s %s\n", e->d_name, argv ? argv : "");
		}
		free(argv);
	}
	if (d)
		closedir(d);
	return n;
}

int rt_processes_of(struct app_sandbox *sb, struct buf *list)
{
	return processes_of(sb, 0, list);
}

int rt_outside_tree(struct app_sandbox *sb, pid_t svscan, struct buf *list)
{
	cr_assert_gt(svscan, 1);
	return processes_of(sb, svscan, list);
}

int rt_wait_inside_tree(struct app_sandbox *sb, pid_t svscan, struct buf *list)
{
	int n = 0;
	for (int i = 0; i < 100; i++) {
		if (list)
			buf_reset(list);
		if (!(n = rt_outside_tree(sb, svscan, list)))
			break;
		rt_pause_ms(100);
	}
	return n;
}

pid_t rt_supervisor_of(const char *dir)
{
	char real[PATH_MAX];
	if (!realpath(dir, real))
		return 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;
	while (d && (e = readdir(d)) && !found) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9' || zombie(e->d_name))
			continue;
		char cwd[PATH_MAX] = "", *link = th_path("/proc/%s/cwd", e->d_name);
		ssize_t cl = readlink(link, cwd, sizeof(cwd) - 1);
		cwd[cl > 0 ? cl : 0] = '\0';
		free(link);
		char *path = th_path("/proc/%s/cmdline", e->d_name), *argv = th_read(path, NULL);
		if (argv && !strcmp(argv, "s6-supervise") && !strcmp(cwd, real))
			found = (pid_t)atoi(e->d_name);
		free(argv);
		free(path);
	}
	if (d)
		closedir(d);
	return found;
}

pid_t rt_wait_new_supervisor(const char *dir, pid_t old)
{
	for (int i = 0; i < 100; i++) {
		pid_t now = rt_supervisor_of(dir);
		if (now && now != old)
			return now;
		rt_pause_ms(100);
	}
	return 0;
}

char *rt_page(struct app_sandbox *sb, const char *host)
{
	char *url = th_path("http://127.0.0.1:%d/", sb->http_port), *hdr = th_path("Host: %s", host);
	struct th_result r = th_runv(NULL, NULL, "curl", "-sf", "--max-time", "10", "-H", hdr, url,
				     NULL);
	char *body = r.status == 0 ? strdup(r.out) : NULL;
	th_result_free(&r);
	free(hdr);
	free(url);
	return body;
}

const char rt_version_server_py[] =
	"import http.server, os, threading, time\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def do_GET(s):\n"
	"        b = open('/app/version').read().encode()\n"
	"        s.send_response(200); s.send_header('Content-Length', str(len(b)))\n"
	"        s.end_headers(); s.wfile.write(b)\n"
	"        if s.path == '/unlisten':\n"
	"            threading.Thread(target=srv.shutdown).start()\n"
	"    def log_message(s, *a): pass\n"
	"srv = http.server.ThreadingHTTPServer(('', int(os.environ['PORT'])), H)\n"
	"if os.path.exists('/app/crash'):\n"
	"    threading.Thread(target=srv.serve_forever, daemon=True).start()\n"
	"    time.sleep(1); os._exit(3)\n"
	"srv.serve_forever()\n"
	"srv.server_close()\n"
	"while True: time.sleep(3600)\n";
