#define _GNU_SOURCE
#include "exec/appnet.h"

#include "util/error.h"
#include "util/fsutil.h"
#include "util/net.h"
#include "util/run.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long the forwarder may take to be ready (it takes ~50 ms here). */
#define READY_MS 10000
/* How long its routes may follow its saying it is ready. */
#define ROUTES_MS 1000

#define FIX "(install the passt package, or set slipway.appNetwork host)"

/* The forwarder's fd of the user namespace that owns the sandbox's network namespace. */
#define USERNS_FD 3
/* Its "pid file": a pipe it writes its pid to once ready (its port bound), or closes unwritten. */
#define READY_FD 4

/* pasta's options: see the header for what each promise rests on. */
static void forwarder_argv(int port, const int *host_ports, const char *dns, pid_t target,
			   struct strvec *a)
{
	strvec_push(a, APPNET_PROGRAM);
	strvec_push(a, "--foreground"); /* stays this process's child */
	strvec_push(a, "--quiet");
	strvec_push(a, "--config-net"); /* the host's address and routes, inside */
	strvec_push(a, "--no-map-gw");  /* the gateway is not the host's loopback */
	strvec_push(a, "--tcp-ports");  /* into the namespace: only $PORT, from 127.0.0.1 */
	if (port > 0)
		strvec_pushf(a, "%s/%d", NET_LOOPBACK, port);
	else
		strvec_push(a, "none");
	strvec_push(a, "--udp-ports");
	strvec_push(a, "none");
	strvec_push(a, "--tcp-ns");     /* out of it: only host_ports of the host's loopback */
	if (host_ports && host_ports[0] > 0) {
		struct buf list = BUF_INIT;
		for (size_t i = 0; host_ports[i] > 0; i++)
			buf_addf(&list, "%s%d", i ? "," : "", host_ports[i]);
		strvec_push(a, list.data);
		buf_release(&list);
	} else {
		strvec_push(a, "none");
	}
	strvec_push(a, "--udp-ns");
	strvec_push(a, "none");
	if (dns && *dns) {
		strvec_push(a, "--dns-forward"); /* UDP to dns:53 goes to the host's resolver */
		strvec_push(a, dns);
	}
	if (geteuid() == 0) {
		/* as root pasta would become nobody, who may not enter the sandbox's namespaces */
		strvec_push(a, "--runas");
		strvec_pushf(a, "%d:%d", (int)getuid(), (int)getgid());
	}
	/*
	 * bubblewrap nests a user namespace inside the one that owns the network
	 * namespace: pasta joins the owner (fd USERNS_FD, see appnet_start()),
	 * where the server user has the capabilities the network needs
	 */
	strvec_push(a, "--userns");
	strvec_pushf(a, "/proc/self/fd/%d", USERNS_FD);
	strvec_push(a, "--netns");
	strvec_pushf(a, "/proc/%d/ns/net", (int)target);
	strvec_push(a, "--no-netns-quit"); /* it is ended with the instance */
	strvec_push(a, "--pid");
	strvec_pushf(a, "/proc/self/fd/%d", READY_FD);
}

/* In the child: fd from becomes fd to, open across exec; -1 when it cannot. */
static int pass_fd(int from, int to)
{
	if (from == to)
		return fcntl(to, F_SETFD, 0);
	return dup2(from, to) < 0 ? -1 : 0;
}

static void exec_forwarder(char *const *argv, int err_fd, int userns, int ready)
{
	static const char *const env[] = { "PATH=" APPNET_PATH, NULL };
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setpgid(0, 0); /* a terminal's ^C is for the app, not its network */
	int null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    dup2(err_fd > 0 ? err_fd : null, 2) < 0)
		_exit(126);
	/* ready was made after userns: it is never USERNS_FD */
	if (pass_fd(userns, USERNS_FD) < 0 || pass_fd(ready, READY_FD) < 0)
		_exit(126);
	execvpe(argv[0], argv, (char *const *)env);
	_exit(127);
}

/* 1 when program is an executable file in one of path's directories. */
static int installed(const char *path, const char *program)
{
	char *dirs = xstrdup(path), *save = NULL;
	int found = 0;
	for (char *d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char *file = xasprintf("%s/%s", d, program);
		found = access(file, X_OK) == 0;
		free(file);
	}
	free(dirs);
	return found;
}

/* This process's user, by name where it has one. */
static char *user_name(void)
{
	struct passwd *pw = getpwuid(geteuid());
	return pw ? xstrdup(pw->pw_name) : xasprintf("uid %d", (int)geteuid());
}

/* Why tun does not open read-write for this user (errno e), as one line with the fix. */
static char *tun_refused(const char *tun, int e)
{
	struct stat st;
	char *user = user_name(), *why;
	if (e == ENOENT)
		why = xasprintf("%s does not exist (load the tun module: modprobe tun; or set "
				"slipway.appNetwork host)", tun);
	else if ((e == EACCES || e == EPERM) && stat(tun, &st) == 0)
		why = xasprintf("%s is not usable by %s (mode %04o; chmod 0666 %s, Debian's default, "
				"or set slipway.appNetwork host)", tun, user,
				(unsigned)(st.st_mode & 07777), tun);
	else
		why = xasprintf("%s is not usable by %s: %s (or set slipway.appNetwork host)", tun,
				user, strerror(e));
	free(user);
	return why;
}

int appnet_usable(const char *tun, char **why)
{
	*why = NULL;
	if (!installed(APPNET_PATH, APPNET_PROGRAM)) {
		*why = xasprintf("%s is not installed " FIX, APPNET_PROGRAM);
		return 0;
	}
	int fd = open(tun, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		*why = tun_refused(tun, errno);
		return 0;
	}
	close(fd);
	return 1;
}

/* The host's IPv4 default gateway, from /proc/net/route; 0 when it has none. */
static int gateway(char addr[APPNET_ADDR_MAX])
{
	char line[512];
	int found = 0;
	FILE *in = fopen("/proc/net/route", "re");
	while (in && !found && fgets(line, sizeof(line), in)) {
		char dev[32], dest[16];
		unsigned gw;
		/* Iface Destination Gateway (hex, in network byte order as the kernel stores it) */
		if (sscanf(line, "%31s %15s %x", dev, dest, &gw) == 3 && !strcmp(dest, "00000000") &&
		    gw) {
			struct in_addr a = { .s_addr = gw };
			found = inet_ntop(AF_INET, &a, addr, APPNET_ADDR_MAX) != NULL;
		}
	}
	if (in)
		fclose(in);
	return found;
}

static int loopback(const char *addr)
{
	return !strncmp(addr, "127.", 4) || !strcmp(addr, "::1");
}

int appnet_resolv_conf(const char *host_file, char **conf, char dns[APPNET_ADDR_MAX])
{
	char *text = NULL, *save = NULL, first[APPNET_ADDR_MAX] = "";
	struct buf out = BUF_INIT;
	int r = 0;

	*conf = NULL;
	if (fs_read_file(host_file, 65536, &text, NULL) < 0)
		return 0;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char word[16], addr[APPNET_ADDR_MAX];
		if (sscanf(l, "%15s %63s", word, addr) == 2 && !strcmp(word, "nameserver")) {
			if (!first[0])
				snprintf(first, sizeof(first), "%s", addr);
			continue; /* the nameservers are the one below */
		}
		buf_addf(&out, "%s\n", l);
	}
	if (first[0] && loopback(first) && gateway(dns)) {
		buf_addf(&out, "nameserver %s\n", dns);
		*conf = buf_detach(&out);
		r = 1;
	}
	buf_release(&out);
	free(text);
	return r;
}

/* 1 when the namespace of pid has a default route (IPv4 or IPv6) that is not the loopback's. */
static int has_default_route(pid_t pid)
{
	char path[64], line[512];
	int found = 0;
	snprintf(path, sizeof(path), "/proc/%d/net/route", (int)pid);
	FILE *in = fopen(path, "re");
	while (in && !found && fgets(line, sizeof(line), in)) {
		char dev[32], dest[16];
		found = sscanf(line, "%31s %15s", dev, dest) == 2 && strcmp(dev, "lo") &&
			!strcmp(dest, "00000000");
	}
	if (in)
		fclose(in);
	snprintf(path, sizeof(path), "/proc/%d/net/ipv6_route", (int)pid);
	in = fopen(path, "re");
	while (in && !found && fgets(line, sizeof(line), in)) {
		char dest[40], plen[4], dev[32];
		found = sscanf(line, "%39s %3s %*s %*s %*s %*s %*s %*s %*s %31s", dest, plen, dev) == 3 &&
			!strcmp(plen, "00") && strspn(dest, "0") == 32 && strcmp(dev, "lo");
	}
	if (in)
		fclose(in);
	return found;
}

/* Whether the forwarder wrote its pid on fd (1), closed it unwritten (0), or not yet (-1). */
static int said_ready(int fd, int wait_ms)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	char text[32];
	if (poll(&pf, 1, wait_ms) <= 0)
		return -1;
	ssize_t n = read(fd, text, sizeof(text));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? -1 : 0;
	return n > 0;
}

/* The forwarder ended before it was ready: why, as one line. */
static int failed(int st)
{
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return sw_error_set(SW_ERROR, "cannot start the app's network: %s is not installed "
				    FIX, APPNET_PROGRAM);
	if (WIFEXITED(st))
		return sw_error_set(SW_ERROR, "cannot start the app's network: %s exited with "
				    "status %d (its message is in the process's output)", APPNET_PROGRAM,
				    WEXITSTATUS(st));
	return sw_error_set(SW_ERROR, "cannot start the app's network: %s was killed by signal %d",
			    APPNET_PROGRAM, WTERMSIG(st));
}

/*
 * Waits (up to a second) until bubblewrap has set up the namespace's
 * loopback - its address, then the link up, which shows as lo's ::1 in
 * the namespace's if_inet6 - so that the forwarder's own configuration
 * never races bubblewrap's (bwrap reports its child before that child
 * sets up lo, and a request of each at once made bwrap fail, "loopback:
 * Failed RTM_NEWADDR").  Without IPv6 there is nothing to read: no wait.
 */
static void wait_loopback(pid_t target)
{
	char path[64], text[4096];
	snprintf(path, sizeof(path), "/proc/%d/net/if_inet6", (int)target);
	for (int i = 0; i < 1000; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return;
		ssize_t n = read(fd, text, sizeof(text) - 1);
		close(fd);
		if (n < 0)
			return;
		text[n] = '\0';
		if (strstr(text, " lo\n"))
			return;
		usleep(1000);
	}
}

int appnet_start(struct appnet *an, pid_t target, int port, const int *host_ports, const char *dns,
		 int err_fd)
{
	struct strvec argv = STRVEC_INIT;
	int err = 0, st, netns = -1, userns = -1, ready[2] = { -1, -1 };

	an->pid = 0;
	wait_loopback(target);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)target);
	if ((netns = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    (userns = ioctl(netns, NS_GET_USERNS)) < 0) {
		err = sw_error_errno(SW_ERROR, "cannot start the app's network: cannot open the "
				     "sandbox's network namespace");
		goto done;
	}
	if (pipe2(ready, O_CLOEXEC) < 0) {
		err = sw_error_errno(SW_ERROR, "cannot start the app's network");
		goto done;
	}
	forwarder_argv(port, host_ports, dns, target, &argv);
	pid_t pid = fork();
	if (pid < 0) {
		err = sw_error_errno(SW_ERROR, "cannot start the app's network");
		goto done;
	}
	if (pid == 0)
		exec_forwarder(argv.v, err_fd, userns, ready[1]);
	an->pid = pid;
	close(ready[1]);
	ready[1] = -1;
	/* ready once it says so: its port bound */
	long long end = run_now_ms() + READY_MS;
	int said;
	while ((said = said_ready(ready[0], 10)) < 0) {
		if (run_now_ms() >= end) {
			err = sw_error_set(SW_ERROR, "cannot start the app's network: %s was not ready "
					   "within %d s", APPNET_PROGRAM, READY_MS / 1000);
			appnet_stop(an);
			goto done;
		}
	}
	if (!said) {
		/* it gave up (a port it could not bind): its status says why */
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		an->pid = 0;
		err = failed(st);
		goto done;
	}
	/* its routes follow at once; a namespace that gets none still runs, inbound only */
	for (int i = 0; i < ROUTES_MS && !has_default_route(target); i++)
		nanosleep(&(struct timespec){ 0, 1000 * 1000 }, NULL);
done:
	if (netns >= 0)
		close(netns);
	if (userns >= 0)
		close(userns);
	for (int i = 0; i < 2; i++)
		if (ready[i] >= 0)
			close(ready[i]);
	strvec_clear(&argv);
	return err;
}

int appnet_running(struct appnet *an)
{
	int st;
	if (an->pid <= 0)
		return 0;
	if (waitpid(an->pid, &st, WNOHANG) == an->pid) {
		an->pid = 0;
		return 0;
	}
	return 1;
}

void appnet_stop(struct appnet *an)
{
	if (an->pid <= 0)
		return;
	kill(an->pid, SIGKILL); /* it holds no state worth a clean exit */
	while (waitpid(an->pid, NULL, 0) < 0 && errno == EINTR)
		;
	an->pid = 0;
}
