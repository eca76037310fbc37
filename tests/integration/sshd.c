/* A real sshd for the tests (sshd.h). */
#define _GNU_SOURCE
#include "tests/integration/sshd.h"
#include "tests/integration/netns.h"
#include "tests/helpers.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void th_sshd_require(void)
{
	if (access("/usr/sbin/sshd", X_OK) || access("/usr/bin/ssh", X_OK))
		cr_skip_test("openssh-server and openssh-client are needed (run scripts/deps)");
}

/* 1 when sshd accepts connections where o says it listens. */
static int port_open(const struct th_sshd_opts *o)
{
	const char *address = o->address ? o->address : "127.0.0.1";
	if (o->netns)
		return th_netns_port_open(o->netns, address, o->port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o->port) };
	inet_pton(AF_INET, address, &a.sin_addr);
	int ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

char *th_sshd_user(void)
{
	struct passwd *pw = getpwuid(getuid());
	cr_assert(pw, "who am I?");
	return xstrdup(pw->pw_name);
}

void th_keygen(const char *path, const char *comment)
{
	struct th_result r = th_runv(NULL, NULL, "ssh-keygen", "-q", "-t", "ed25519", "-N", "",
				     "-C", comment, "-f", path, NULL);
	cr_assert_eq(r.status, 0, "ssh-keygen: %s", r.err);
	th_result_free(&r);
}

char *th_keygen_in(const char *dir, const char *name, const char *comment)
{
	char *path = th_path("%s/%s", dir, name);
	th_keygen(path, comment);
	return path;
}

pid_t th_sshd_start(const char *dir, int port, const char *user)
{
	return th_sshd_start_opts(&(struct th_sshd_opts){ .dir = dir, .port = port, .user = user });
}

pid_t th_sshd_start_opts(const struct th_sshd_opts *o)
{
	const char *dir = o->dir, *user = o->user;
	int port = o->port;
	pid_t sshd_pid;
	char *host_key = th_path("%s/host_key", dir);
	th_keygen(host_key, "host");
	mkdir("/run/sshd", 0755); /* privilege separation directory */
	char *cfg = th_path("%s/sshd_config", dir);
	char *text = th_path("%sPort %d\nListenAddress %s\nHostKey %s\nPidFile %s/sshd.pid\n"
			     "AuthorizedKeysFile %s/authorized_keys\nStrictModes no\nUsePAM no\n"
			     "PubkeyAuthentication yes\nPasswordAuthentication no\n"
			     "KbdInteractiveAuthentication no\nPermitRootLogin forced-commands-only\n"
			     "AllowUsers %s\nPermitUserEnvironment no\nPrintMotd no\n"
			     "LogLevel VERBOSE\n",
			     o->config ? o->config : "", port, o->address ? o->address : "127.0.0.1",
			     host_key, dir, dir, user);
	/* a sanitizer build's options reach the sessions too (sshd clears the environment;
	   the first SetEnv line is the one that counts, so all go on one line) */
	static const char *const pass[] = { "ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS", NULL };
	/* HOME: sessions read the server user's git config from the sandbox (server_config) */
	char *setenv_line = th_path("SetEnv SLIPWAY_TEST=1 HOME=%s%s%s", o->home ? o->home : dir,
				    o->setenv ? " " : "", o->setenv ? o->setenv : "");
	for (size_t i = 0; pass[i]; i++) {
		const char *v = getenv(pass[i]);
		if (v && *v && !strpbrk(v, " \t\n\"'")) {
			char *more = th_path("%s %s=%s", setenv_line, pass[i], v);
			free(setenv_line);
			setenv_line = more;
		}
	}
	char *more = th_path("%s%s\n", text, setenv_line);
	free(text);
	free(setenv_line);
	text = more;
	th_write(cfg, text, 0600);
	char *log = th_path("%s/sshd.log", dir);
	sshd_pid = fork();
	cr_assert(sshd_pid >= 0);
	if (sshd_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive a crashed test */
		if (o->netns)
			th_netns_enter(o->netns);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int null = open("/dev/null", O_RDONLY);
		if (fd < 0 || null < 0 || dup2(fd, 2) < 0 || dup2(fd, 1) < 0 || dup2(null, 0) < 0)
			_exit(127);
		execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-e", "-f", cfg, (char *)NULL);
		_exit(127);
	}
	/* wait (bounded) until it listens */
	int up = 0;
	for (int i = 0; i < 200 && !up; i++) {
		int st;
		if (waitpid(sshd_pid, &st, WNOHANG) == sshd_pid) {
			sshd_pid = -1;
			break;
		}
		up = port_open(o);
		if (!up)
			nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	char *logtext = th_read(log, NULL);
	cr_assert(up, "sshd did not start:\n%s", logtext ? logtext : "");
	free(logtext);
	free(log);
	free(text);
	free(cfg);
	free(host_key);
	return sshd_pid;
}

void th_write_hi_app(const char *dir)
{
	char *p = th_path("%s/Procfile", dir);
	th_write(p, "web: ./run.sh\n", 0644);
	free(p);
	p = th_path("%s/run.sh", dir);
	th_write(p, "#!/bin/sh\necho hi\n", 0755);
	free(p);
}

void th_sshd_stop(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
}
