#define _GNU_SOURCE
#include "tests/helpers.h"

#include "util/fsutil.h"
#include "util/gitutil.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

extern char **environ;

char *th_sandbox(void)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/slipway-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	cr_assert(mkdtemp(dir), "mkdtemp failed");
	return dir;
}

void th_sandbox_free(char *dir)
{
	if (dir)
		fs_rm_rf(dir);
	free(dir);
}

struct th_result th_run(const char *dir, const char *const *env,
			const char *input, const char *const *argv)
{
	int out[2], err[2], in[2];
	cr_assert(pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0 &&
		  pipe2(in, O_CLOEXEC) == 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (dir && chdir(dir) < 0)
			_exit(127);
		for (size_t i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	close(in[0]);
	size_t ilen = input ? strlen(input) : 0, ioff = 0;
	if (!ilen) {
		close(in[1]);
		in[1] = -1;
	} else {
		fcntl(in[1], F_SETFL, O_NONBLOCK);
	}
	struct buf bo = BUF_INIT, be = BUF_INIT;
	buf_adds(&bo, "");
	buf_adds(&be, "");
	int open_fds = 2;
	while (open_fds > 0) {
		struct pollfd p[3] = {
			{ out[0], POLLIN, 0 }, { err[0], POLLIN, 0 },
			{ in[1], POLLOUT, 0 } };
		int n = poll(p, in[1] >= 0 ? 3 : 2, -1);
		if (n < 0 && errno == EINTR)
			continue;
		cr_assert(n >= 0);
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char chunk[65536];
			ssize_t r = read(p[i].fd, chunk, sizeof(chunk));
			if (r > 0) {
				buf_add(i == 0 ? &bo : &be, chunk, (size_t)r);
			} else if (r == 0 || errno != EINTR) {
				close(p[i].fd);
				if (i == 0)
					out[0] = -1;
				else
					err[0] = -1;
				open_fds--;
			}
		}
		if (in[1] >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(in[1], input + ioff, ilen - ioff);
			if (w > 0)
				ioff += (size_t)w;
			if (w < 0 || ioff == ilen) {
				close(in[1]);
				in[1] = -1;
			}
		}
		if (out[0] < 0 && err[0] < 0)
			break;
	}
	if (in[1] >= 0)
		close(in[1]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	struct th_result r;
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r.out = buf_detach(&bo);
	r.err = buf_detach(&be);
	return r;
}

struct th_result th_runva(const char *dir, const char *const *env, va_list ap)
{
	const char *argv[64];
	size_t n = 0;
	while (n < 63 && (argv[n] = va_arg(ap, const char *)))
		n++;
	argv[n] = NULL;
	return th_run(dir, env, NULL, argv);
}

struct th_result th_runv(const char *dir, const char *const *env, ...)
{
	va_list ap;
	va_start(ap, env);
	struct th_result r = th_runva(dir, env, ap);
	va_end(ap);
	return r;
}

void th_result_free(struct th_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

void th_write(const char *path, const char *content, unsigned mode)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		fs_mkdir_p(dir, 0755);
	}
	free(dir);
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	cr_assert(fd >= 0, "cannot write %s", path);
	cr_assert(fs_write_all(fd, content, strlen(content)) == 0);
	fchmod(fd, mode);
	close(fd);
}

char *th_path(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p;
	cr_assert(vasprintf(&p, fmt, ap) >= 0);
	va_end(ap);
	return p;
}

char *th_read(const char *path, size_t *len)
{
	char *out;
	if (fs_read_file(path, (size_t)1 << 30, &out, len) < 0)
		return NULL;
	return out;
}

int th_count(const char *s, const char *needle)
{
	int n = 0;
	const char *line = s;
	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (memmem(line, len, needle, strlen(needle)))
			n++;
		line = end ? end + 1 : NULL;
	}
	return n;
}

/* 1 if nothing on this machine holds TCP port (any address, TIME_WAIT included). */
static int port_free(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	int ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

int th_free_port(void)
{
	/*
	 * Not one the kernel picks: those are in its ephemeral range
	 * (32768-60999), where any test's outgoing connection (curl, git,
	 * ssh) may take it as its source port before the test binds it.
	 * 10000-19899: below slipway.portRange (20000-29999) and the add-ons'
	 * range (30000-30999), with room for th_addon_port_range()'s 20 more.
	 * Never the same one twice in a process.
	 */
	static int given[256];
	static size_t n;
	static unsigned seed;
	if (!seed)
		seed = (unsigned)getpid() ^ (unsigned)time(NULL);
	for (int tries = 0; tries < 10000; tries++) {
		int port = 10000 + (int)(rand_r(&seed) % 9900), again = 0;
		for (size_t i = 0; i < n && !again; i++)
			again = given[i] == port;
		if (again || !port_free(port))
			continue;
		given[n++ % 256] = port;
		return port;
	}
	cr_assert_fail("no free port in 10000-19899");
	return -1;
}

static struct {
	char *items[512];
	size_t n;
} kept;

char *th_keep(char *p)
{
	if (!p)
		abort();
	if (kept.n < sizeof(kept.items) / sizeof(kept.items[0]))
		kept.items[kept.n++] = p;
	return p;
}

void th_keep_free(void)
{
	for (size_t i = 0; i < kept.n; i++)
		free(kept.items[i]);
	kept.n = 0;
}

void th_corrupt(const char *file)
{
	chmod(file, 0644);
	size_t len;
	char *bytes = th_read(file, &len);
	cr_assert_not_null(bytes);
	cr_assert_gt(len, 20);
	int fd = open(file, O_WRONLY);
	cr_assert_geq(fd, 0);
	bytes[len / 2] ^= 0x5a;
	cr_assert_eq(pwrite(fd, bytes + len / 2, 1, (off_t)(len / 2)), 1);
	close(fd);
	free(bytes);
}

int th_processes_with(const char *needle)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char *p = th_path("/proc/%s/cmdline", e->d_name);
		char buf[4096];
		FILE *f = fopen(p, "r");
		size_t len = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		if (f)
			fclose(f);
		for (size_t i = 0; i < len; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[len] = '\0';
		n += strstr(buf, needle) != NULL;
		free(p);
	}
	if (d)
		closedir(d);
	return n;
}

pid_t th_parent_of(pid_t pid)
{
	char *path = th_path("/proc/%d/stat", (int)pid), *text = th_read(path, NULL);
	const char *paren = text ? strrchr(text, ')') : NULL;
	int ppid = 0;
	if (paren)
		sscanf(paren + 1, " %*c %d", &ppid);
	free(text);
	free(path);
	return (pid_t)ppid;
}

void th_git_home(const char *home)
{
	char *global = th_path("%s/.gitconfig", home);
	th_write(global, "", 0644);
	free(global);
	sw_git_init();
	cr_assert_eq(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, home), 0);
	cr_assert_eq(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, home), 0);
	cr_assert_eq(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, home), 0);
}

int th_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

void th_become_test_user(const char *own)
{
	if (geteuid() != 0)
		return;
	const char *name = getenv("SLIPWAY_TEST_USER");
	struct passwd *pw = getpwnam(name && *name ? name : "nobody");
	cr_assert(pw, "no user '%s' to run the add-on tests as", name && *name ? name : "nobody");
	if (own)
		cr_assert_eq(chown(own, pw->pw_uid, pw->pw_gid), 0);
	cr_assert_eq(setgroups(0, NULL), 0);
	cr_assert_eq(setgid(pw->pw_gid), 0);
	cr_assert_eq(setuid(pw->pw_uid), 0);
	/* a process that changed its uid is not dumpable: LeakSanitizer could not trace itself */
	prctl(PR_SET_DUMPABLE, 1);
}

char *th_addon_port_range(void)
{
	/* out of slipway.portRange, so suites running at once do not meet */
	int p = th_free_port();
	return th_path("%d-%d", p, p + 20 > 65535 ? 65535 : p + 20);
}
