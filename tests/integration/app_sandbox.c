#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"

#include "util/util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/file.h>
#include <unistd.h>

/*
 * One of the 50 blocks of 200 ports in 20000-29999 that no other test
 * holds: the first whose lock file this process can lock.  The lock is
 * held until the process exits (each test runs in its own).
 */
static int port_block(void)
{
	static int held = -1;
	for (int k = 0; held < 0 && k < 50; k++) {
		char *path = th_path("/tmp/slipway-test-ports.%d.lock", k);
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
		free(path);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
			held = k; /* fd stays open: the lock with it */
		else if (fd >= 0)
			close(fd);
	}
	cr_assert(held >= 0, "every block of test ports is taken");
	return held;
}

void app_sandbox_init(struct app_sandbox *s, const char *app, unsigned flags)
{
	static const char *const base[] = {
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
		"GIT_CONFIG_NOSYSTEM=1", NULL,
	};
	memset(s, 0, sizeof(*s));
	s->dir = th_sandbox();
	s->root = th_path("%s/root", s->dir);
	s->src = th_path("%s/src", s->dir);
	s->app = xstrdup(app);
	s->repo = th_path("%s/apps/%s.git", s->root, app);
	cr_assert_eq(mkdir(s->src, 0755), 0, "cannot make %s", s->src);

	char *kv = th_path("SLIPWAY_ROOT=%s", s->root);
	app_sandbox_setenv(s, kv);
	free(kv);
	kv = th_path("HOME=%s", s->dir);
	app_sandbox_setenv(s, kv);
	free(kv);
	for (size_t i = 0; base[i]; i++)
		app_sandbox_setenv(s, base[i]);
	/* the router of this root listens on 127.0.0.1 only, on a port of its own */
	s->http_port = th_free_port();
	kv = th_path("SLIPWAY_HTTP_PORT=%d", s->http_port);
	app_sandbox_setenv(s, kv);
	free(kv);
	app_sandbox_setenv(s, "SLIPWAY_HTTP_ADDRESS=127.0.0.1");
	/*
	 * and its instances get ports of their own: tests running side by side
	 * (suites, and a suite's tests) would otherwise hand out the same ports
	 * of 20000-29999, and one root's instance find its port taken by another
	 */
	int first = 20000 + port_block() * 200;
	kv = th_path("SLIPWAY_PORT_RANGE=%d-%d", first, first + 199);
	app_sandbox_setenv(s, kv);
	free(kv);
	if (flags & APP_SANDBOX_BATCH) {
		app_sandbox_setenv(s, "GIT_TERMINAL_PROMPT=0");
		app_sandbox_setenv(s, "LC_ALL=C");
	}
	if (flags & APP_SANDBOX_CREATE)
		app_sandbox_create(s, NULL);
}

/* 1 when pid's command line names dir, or it works in dir (s6-supervise does). */
static int uses_dir(pid_t pid, const char *dir)
{
	size_t dn = strlen(dir), n = 0;
	char *p = th_path("/proc/%d/cmdline", (int)pid), *s = th_read(p, &n), cwd[4096];
	int hit = 0;
	for (size_t i = 0; s && i + dn <= n && !hit; i++)
		hit = !memcmp(s + i, dir, dn);
	free(s);
	free(p);
	p = th_path("/proc/%d/cwd", (int)pid);
	ssize_t k = readlink(p, cwd, sizeof(cwd) - 1);
	free(p);
	if (!hit && k > 0) {
		cwd[k] = '\0';
		hit = !strncmp(cwd, dir, dn) && (cwd[dn] == '/' || cwd[dn] == '\0' || cwd[dn] == ' ');
	}
	return hit;
}

/*
 * The processes that name the sandbox or work in it, and their children
 * (nginx's workers), into hit; how many.
 */
static size_t find_leftovers(const char *dir, pid_t *hit, size_t max)
{
	pid_t self = getpid();
	size_t nhit = 0;
	for (int pass = 0; pass < 2; pass++) {
		DIR *d = opendir("/proc");
		struct dirent *e;
		while (d && (e = readdir(d)) && nhit < max) {
			if (e->d_name[0] < '1' || e->d_name[0] > '9')
				continue;
			pid_t pid = (pid_t)atoi(e->d_name), pp = pass ? th_parent_of(pid) : 0;
			int known = 0, child = 0;
			for (size_t k = 0; k < nhit; k++) {
				known |= hit[k] == pid;
				child |= hit[k] == pp;
			}
			if (pid != self && !known && (pass ? child : uses_dir(pid, dir)))
				hit[nhit++] = pid;
		}
		if (d)
			closedir(d);
	}
	return nhit;
}

/*
 * Nothing a test started outlives it: every such process is stopped first
 * (so no supervisor starts a new one meanwhile), then killed, until none is
 * left - by pid, never by name.
 */
static void kill_leftovers(const char *dir)
{
	pid_t hit[512];
	for (int round = 0; round < 5; round++) {
		size_t n = find_leftovers(dir, hit, 512);
		if (!n)
			return;
		for (size_t k = 0; k < n; k++)
			kill(hit[k], SIGSTOP);
		for (size_t k = 0; k < n; k++)
			kill(hit[k], SIGKILL);
		nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
}

/* Whether pid names dir or works in it, and one of its arguments holds name. */
static int named_in(pid_t pid, const char *dir, const char *name)
{
	size_t len = 0;
	char *p = th_path("/proc/%d/cmdline", (int)pid), *cmd = th_read(p, &len);
	int named = 0;
	for (size_t i = 0; cmd && i < len && !named; i += strlen(cmd + i) + 1)
		named = strstr(cmd + i, name) != NULL;
	free(cmd);
	free(p);
	return named && uses_dir(pid, dir);
}

static int kill_named(const char *dir, const char *name, int outermost)
{
	pid_t self = getpid(), found[256], parent[256];
	int n = 0, killed = 0;
	/* every one first: a child whose parent was just killed is no longer seen as its */
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d)) && n < 256) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		pid_t pid = (pid_t)atoi(e->d_name);
		if (pid != self && named_in(pid, dir, name)) {
			parent[n] = th_parent_of(pid);
			found[n++] = pid;
		}
	}
	if (d)
		closedir(d);
	for (int i = 0; i < n; i++) {
		int inner = 0;
		/* a child of a named process has the same arguments after a fork */
		for (int k = 0; outermost && k < n && !inner; k++)
			inner = parent[i] == found[k];
		if (!inner && kill(found[i], SIGKILL) == 0)
			killed++;
	}
	return killed;
}

int app_sandbox_kill_named(const char *dir, const char *name)
{
	return kill_named(dir, name, 0);
}

int app_sandbox_kill_outermost(const char *dir, const char *name)
{
	return kill_named(dir, name, 1);
}

void app_sandbox_release(struct app_sandbox *s)
{
	if (s->dir)
		kill_leftovers(s->dir);
	th_sandbox_free(s->dir);
	free(s->root);
	free(s->src);
	free(s->repo);
	free(s->app);
	for (size_t i = 0; i < s->nenv; i++)
		free((char *)s->env[i]);
	memset(s, 0, sizeof(*s));
}

void app_sandbox_setenv(struct app_sandbox *s, const char *kv)
{
	cr_assert(s->nenv < APP_SANDBOX_ENV_MAX, "too many environment entries");
	s->env[s->nenv++] = xstrdup(kv);
	s->env[s->nenv] = NULL;
}

struct th_result app_sandbox_run(const struct app_sandbox *s, const char *dir,
				 const char *input, const char *const *argv)
{
	return th_run(dir ? dir : s->src, s->env, input, argv);
}

struct th_result app_sandbox_runv(const struct app_sandbox *s, const char *dir, ...)
{
	va_list ap;
	va_start(ap, dir);
	struct th_result r = th_runva(dir ? dir : s->src, s->env, ap);
	va_end(ap);
	return r;
}

char *app_sandbox_must_at(struct th_at at, struct th_result r, const char *what)
{
	cr_assert_eq(r.status, 0, "at %s:%d: %s: exit %d\nstdout: %s\nstderr: %s", at.file, at.line,
		     what, r.status, r.out, r.err);
	free(r.err);
	return r.out;
}

void app_sandbox_refused_at(struct th_at at, struct th_result r, int status, const char *err)
{
	cr_assert_eq(r.status, status, "at %s:%d: exit %d, stderr: %s", at.file, at.line, r.status,
		     r.err);
	cr_assert_str_eq(r.err, err, "at %s:%d: stderr is\n%s\nnot\n%s", at.file, at.line, r.err, err);
	cr_assert_str_eq(r.out, "", "at %s:%d: stdout is not empty: %s", at.file, at.line, r.out);
	th_result_free(&r);
}

void app_sandbox_refused_line_at(struct th_at at, struct th_result r, const char *line)
{
	char *err = th_path(" !    %s\n", line);
	app_sandbox_refused_at(at, r, 1, err);
	free(err);
}

void app_sandbox_init_addons(struct app_sandbox *sb, const char *app)
{
	/* the user must reach the sandbox: /tmp is open to everyone, a $TMPDIR may not be */
	if (geteuid() == 0)
		setenv("TMPDIR", "/tmp", 1);
	th_become_test_user(NULL);
	app_sandbox_init(sb, app, 0);
	app_sandbox_setenv(sb, "SLIPWAY_USER=alice@example.com");
	char *ports = th_addon_port_range(), *range = th_path("SLIPWAY_ADDON_PORT_RANGE=%s", ports);
	free(ports);
	app_sandbox_setenv(sb, range);
	free(range);
}

char *app_sandbox_chomp(char *line)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

void app_sandbox_create_at(struct th_at at, const struct app_sandbox *s, const char *option)
{
	free(SANDBOX_OK_AT(at, s, s->dir, SLIPWAY_BIN, "apps:create", s->app, option));
}

void app_sandbox_write(const struct app_sandbox *s, const char *name, const char *content,
		       unsigned mode)
{
	char *p = th_path("%s/%s", s->src, name);
	th_write(p, content, mode);
	free(p);
}

void app_sandbox_checkout_at(struct th_at at, const struct app_sandbox *s, const char *dir,
			     const char *branch, const char *msg)
{
	if (!dir)
		dir = s->src;
	char *opt = th_path("init.defaultBranch=%s", branch);
	free(SANDBOX_OK_AT(at, s, s->dir, "git", "-c", opt, "init", "-q", dir));
	free(opt);
	if (msg) {
		free(SANDBOX_OK_AT(at, s, dir, "git", "add", "-A"));
		free(SANDBOX_OK_AT(at, s, dir, "git", "commit", "-q", "-m", msg));
	}
	free(SANDBOX_OK_AT(at, s, dir, "git", "remote", "add", "heroku", s->repo));
}

char *app_sandbox_head_at(struct th_at at, const struct app_sandbox *s, const char *dir)
{
	char *sha = app_sandbox_chomp(SANDBOX_OK_AT(at, s, dir, "git", "rev-parse", "HEAD"));
	cr_assert_eq(strlen(sha), 40, "at %s:%d: HEAD is '%s'", at.file, at.line, sha);
	return sha;
}

char *app_sandbox_push_at(struct th_at at, const struct app_sandbox *s, const char *refspec)
{
	struct th_result r = SANDBOX_RUN(s, NULL, "git", "push", "heroku", refspec);
	cr_assert_eq(r.status, 0, "at %s:%d: git push heroku %s: exit %d\n%s", at.file, at.line,
		     refspec, r.status, r.err);
	free(r.out);
	return r.err;
}

char *app_sandbox_push_status(const struct app_sandbox *s, const char *refspec, int *status)
{
	struct th_result r = SANDBOX_RUN(s, NULL, "git", "push", "heroku", refspec);
	*status = r.status;
	free(r.out);
	return r.err;
}

char *app_sandbox_push_rejected_at(struct th_at at, const struct app_sandbox *s,
				   const char *refspec)
{
	struct th_result r = SANDBOX_RUN(s, NULL, "git", "push", "heroku", refspec);
	cr_assert_neq(r.status, 0, "at %s:%d: git push heroku %s succeeded:\n%s", at.file, at.line,
		      refspec, r.err);
	cr_assert(strstr(r.err, "(pre-receive hook declined)"), "at %s:%d: git push heroku %s:\n%s",
		  at.file, at.line, refspec, r.err);
	free(r.out);
	return r.err;
}

int app_sandbox_release_count(const struct app_sandbox *s)
{
	char *json = SANDBOX_OK(s, s->dir, SLIPWAY_BIN, "releases", "-a", s->app, "--json", "-n",
				"100000");
	int n = 0;
	for (const char *p = json; (p = strstr(p, "\"version\":")); p++)
		n++;
	free(json);
	return n;
}

int app_sandbox_has_ref(const struct app_sandbox *s, const char *ref)
{
	struct th_result r = SANDBOX_RUN(s, s->dir, "git", "--git-dir", s->repo, "rev-parse",
					 "--verify", "-q", ref);
	int found = r.status == 0;
	th_result_free(&r);
	return found;
}

char *app_sandbox_ref_at(struct th_at at, const struct app_sandbox *s, const char *ref)
{
	struct th_result r = SANDBOX_RUN(s, s->dir, "git", "--git-dir", s->repo, "rev-parse",
					 "--verify", "-q", ref);
	cr_assert_eq(r.status, 0, "at %s:%d: no ref %s in %s", at.file, at.line, ref, s->repo);
	free(r.err);
	return app_sandbox_chomp(r.out);
}

int app_sandbox_runs_left(const struct app_sandbox *s)
{
	char *runs = th_path("%s/runs", s->root);
	int n = th_entries(runs);
	free(runs);
	return n;
}

pid_t app_sandbox_start(const struct app_sandbox *s, const char *log, const char *const *argv)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		for (size_t i = 0; i < s->nenv; i++)
			putenv((char *)s->env[i]);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int null = open("/dev/null", O_RDONLY);
		if (fd < 0 || null < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || dup2(null, 0) < 0 ||
		    chdir(s->src) < 0)
			_exit(127);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

void app_sandbox_wait_for_at(struct th_at at, const char *file, const char *needle)
{
	for (int i = 0; i < 400; i++) {
		char *text = th_read(file, NULL);
		int seen = text && strstr(text, needle);
		free(text);
		if (seen)
			return;
		nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	char *text = th_read(file, NULL);
	cr_assert_fail("at %s:%d: '%s' never appeared in:\n%s", at.file, at.line, needle,
		       text ? text : "");
}

double app_sandbox_clock(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int app_sandbox_signal(pid_t pid, int sig, double *took)
{
	int st;
	double t0 = app_sandbox_clock();
	cr_assert_eq(kill(pid, sig), 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	*took = app_sandbox_clock() - t0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
