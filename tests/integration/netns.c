/* Several hosts on one machine: network namespaces and a bridge (netns.h). */
#define _GNU_SOURCE
#include "tests/integration/netns.h"
#include "tests/integration/sshd.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
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

#define PREFIX "slipway-tb-"
#define NETNS_DIR "/run/netns"

static void pause_ms(long ms)
{
	nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000L }, NULL);
}

void th_netns_require(void)
{
	if (geteuid() != 0)
		cr_skip_test("network namespaces need root");
	struct th_result r = th_runv(NULL, NULL, "ip", "netns", "list", NULL);
	int ok = r.status == 0;
	th_result_free(&r);
	if (!ok)
		cr_skip_test("`ip netns` is needed (iproute2, run scripts/deps)");
}

/* Runs `ip ARGS...`, asserted to succeed. */
#define IP(at, ...) ip_at(at, (const char *const[]){ "ip", __VA_ARGS__, NULL })
static void ip_at(struct th_at at, const char *const *argv)
{
	struct th_result r = th_run(NULL, NULL, NULL, argv);
	struct buf line = BUF_INIT;
	for (size_t i = 0; argv[i]; i++)
		buf_addf(&line, "%s%s", i ? " " : "", argv[i]);
	cr_assert_eq(r.status, 0, "at %s:%d: %s: %s", at.file, at.line, line.data, r.err);
	buf_release(&line);
	th_result_free(&r);
}

/* SIGKILL to every process in ns until none is left (about 10 s at most). */
static void kill_all_in(const char *ns)
{
	for (int round = 0; round < 100; round++) {
		struct th_result r = th_runv(NULL, NULL, "ip", "netns", "pids", ns, NULL);
		int any = 0;
		char *save = NULL;
		for (char *w = strtok_r(r.out, " \n", &save); w; w = strtok_r(NULL, " \n", &save)) {
			pid_t pid = (pid_t)atoi(w);
			if (pid > 1 && pid != getpid()) {
				kill(pid, SIGKILL);
				any = 1;
			}
		}
		th_result_free(&r);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			; /* ours: reaped, so they leave the namespace */
		if (!any)
			return;
		pause_ms(100);
	}
}

static void delete_ns(const char *ns)
{
	kill_all_in(ns);
	struct th_result r = th_runv(NULL, NULL, "ip", "netns", "del", ns, NULL);
	th_result_free(&r);
}

/* Removes the beds whose maker ("slipway-tb-PID-...") is gone. */
static void sweep_stale(void)
{
	DIR *d = opendir(NETNS_DIR);
	struct dirent *e;
	struct strvec stale = STRVEC_INIT;
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, PREFIX, strlen(PREFIX)))
			continue;
		pid_t pid = (pid_t)atoi(e->d_name + strlen(PREFIX));
		if (pid > 0 && kill(pid, 0) < 0 && errno == ESRCH)
			strvec_push(&stale, e->d_name);
	}
	if (d)
		closedir(d);
	/* host namespaces before bridges: a bridge goes with its ports */
	for (size_t i = 0; i < stale.n; i++)
		if (!strstr(stale.v[i], "-bridge"))
			delete_ns(stale.v[i]);
	for (size_t i = 0; i < stale.n; i++)
		if (strstr(stale.v[i], "-bridge"))
			delete_ns(stale.v[i]);
	strvec_clear(&stale);
}

/*
 * The machine's name servers, as the bed's hosts see them: an answer at
 * once that no name exists (NXDOMAIN), from a responder in the bridge's
 * namespace holding their addresses.  Without it a lookup there (python's
 * http.server asks for its own name when it binds) waits out the
 * resolver's timeouts: the bridge leads nowhere further.
 */
static void no_names_answer(int fd)
{
	unsigned char q[1500];
	struct sockaddr_in from;
	for (;;) {
		socklen_t len = sizeof(from);
		ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &len);
		if (n < 12)
			continue;
		q[2] = (unsigned char)(0x80 | (q[2] & 0x79)); /* a response, its opcode and RD kept */
		q[3] = 0x83;                                   /* RA, NXDOMAIN */
		(void)sendto(fd, q, (size_t)n, 0, (struct sockaddr *)&from, len);
	}
}

/* A responder bound to addr in the bridge's namespace (bound: its answers come from addr). */
static void no_names_spawn(const struct th_netns *tb, struct in_addr addr)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid > 0)
		return;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	th_netns_enter(tb->bridge);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(53), .sin_addr = addr };
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		_exit(1);
	no_names_answer(fd);
}

static void no_names_start(struct th_at at, const struct th_netns *tb)
{
	char *conf = th_read("/etc/resolv.conf", NULL);
	for (char *p = conf, *save = NULL, *l; conf && (l = strtok_r(p, "\n", &save)); p = NULL) {
		char addr[64], cidr[80];
		struct in_addr a;
		if (sscanf(l, "nameserver %63s", addr) != 1 || inet_pton(AF_INET, addr, &a) != 1 ||
		    (ntohl(a.s_addr) >> 24) == 127)
			continue; /* the bed's own loopback refuses at once already */
		snprintf(cidr, sizeof(cidr), "%s/32", addr);
		IP(at, "-n", tb->bridge, "addr", "replace", cidr, "dev", "lo");
		no_names_spawn(tb, a);
	}
	free(conf);
}

void th_netns_up_at(struct th_at at, struct th_netns *tb, size_t n)
{
	cr_assert(n >= 1 && n <= TH_NETNS_MAX, "at %s:%d: %zu hosts", at.file, at.line, n);
	sweep_stale();
	memset(tb, 0, sizeof(*tb));
	int pid = (int)getpid();
	tb->bridge = th_path(PREFIX "%d-bridge", pid);
	IP(at, "netns", "add", tb->bridge);
	IP(at, "-n", tb->bridge, "link", "set", "lo", "up");
	IP(at, "-n", tb->bridge, "link", "add", "br0", "type", "bridge");
	IP(at, "-n", tb->bridge, "addr", "add", "10.231.0.1/24", "dev", "br0");
	IP(at, "-n", tb->bridge, "link", "set", "br0", "up");
	no_names_start(at, tb);
	for (size_t i = 0; i < n; i++) {
		char port[32], cidr[48];
		tb->ns[i] = th_path(PREFIX "%d-h%zu", pid, i);
		tb->addr[i] = th_path("10.231.0.%zu", i + 2);
		tb->n = i + 1;
		snprintf(port, sizeof(port), "veth%zu", i);
		snprintf(cidr, sizeof(cidr), "%s/24", tb->addr[i]);
		IP(at, "netns", "add", tb->ns[i]);
		IP(at, "-n", tb->ns[i], "link", "set", "lo", "up");
		/* made in the bridge's namespace, its peer moved into the host's at once */
		IP(at, "-n", tb->bridge, "link", "add", port, "type", "veth", "peer", "name", "eth0",
		   "netns", tb->ns[i]);
		IP(at, "-n", tb->bridge, "link", "set", port, "master", "br0", "up");
		IP(at, "-n", tb->ns[i], "addr", "add", cidr, "dev", "eth0");
		IP(at, "-n", tb->ns[i], "link", "set", "eth0", "up");
		/*
		 * a default route, to the bridge, which leads nowhere further: an app's
		 * network (pasta, exec/appnet.h) copies the interface that has one
		 */
		IP(at, "-n", tb->ns[i], "route", "add", "default", "via", "10.231.0.1");
	}
}

void th_netns_down(struct th_netns *tb)
{
	for (size_t i = 0; i < tb->n; i++) {
		delete_ns(tb->ns[i]);
		free(tb->ns[i]);
		free(tb->addr[i]);
	}
	if (tb->bridge)
		delete_ns(tb->bridge);
	free(tb->bridge);
	memset(tb, 0, sizeof(*tb));
}

void th_netns_enter(const char *ns)
{
	char path[512];
	snprintf(path, sizeof(path), NETNS_DIR "/%s", ns);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
		_exit(127);
	close(fd);
}

struct th_result th_netns_run(const char *ns, const char *dir, const char *const *env,
			      const char *input, const char *const *argv)
{
	size_t n = 0;
	while (argv[n])
		n++;
	const char **all = xcalloc(n + 5, sizeof(*all));
	all[0] = "ip";
	all[1] = "netns";
	all[2] = "exec";
	all[3] = ns;
	for (size_t i = 0; i < n; i++)
		all[4 + i] = argv[i];
	struct th_result r = th_run(dir, env, input, all);
	free(all);
	return r;
}

struct th_result th_netns_ssh(const char *ns, const char *dir, const char *const *env,
			      const char *key, const char *login, const char *command,
			      const char *input)
{
	const char *argv[] = { "ssh", "-F", "/dev/null", "-T", "-i", key, "-o", "IdentitiesOnly=yes",
			       "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
			       "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
			       login, command, NULL };
	return th_netns_run(ns, dir, env, input, argv);
}

pid_t th_netns_spawn(const char *ns, const char *log, const char *const *env,
		     const char *const *argv)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive a crashed test */
		setpgid(0, 0);
		th_netns_enter(ns);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || null < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || dup2(null, 0) < 0)
			_exit(127);
		for (size_t i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

int th_netns_port_open(const char *ns, const char *address, int port)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		th_netns_enter(ns);
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		if (fd < 0 || inet_pton(AF_INET, address, &a.sin_addr) != 1)
			_exit(2);
		_exit(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 ? 0 : 1);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

pid_t th_netns_server_run_at(struct th_at at, const char *ns, const char *root,
			     const char *const *env, const char *log)
{
	const char *argv[] = { SLIPWAY_BIN, "--root", root, "server:run", NULL };
	pid_t pid = th_netns_spawn(ns, log, env, argv);
	const char *status[] = { SLIPWAY_BIN, "--root", root, "server:status", "--json", NULL };
	int up = 0, gone = 0;
	for (int i = 0; i < 300 && !up && !gone; i++) {
		struct th_result r = th_netns_run(ns, NULL, env, NULL, status);
		up = !strncmp(r.out, "{\"running\":true,", 16);
		th_result_free(&r);
		gone = waitpid(pid, NULL, WNOHANG) == pid;
		if (!up && !gone)
			pause_ms(100);
	}
	char *said = th_read(log, NULL);
	cr_assert(up, "at %s:%d: server:run in %s did not start:\n%s", at.file, at.line, ns,
		  said ? said : "");
	free(said);
	return pid;
}

size_t th_netns_pids(const char *ns, const char *what, pid_t *out, size_t max)
{
	struct th_result r = th_runv(NULL, NULL, "ip", "netns", "pids", ns, NULL);
	size_t n = 0;
	for (char *p = r.out, *save = NULL, *t; (t = strtok_r(p, "\n", &save)) && n < max; p = NULL) {
		size_t len = 0;
		char *f = th_path("/proc/%s/cmdline", t), *cmd = th_read(f, &len);
		for (size_t k = 0; cmd && k + 1 < len; k++)
			if (!cmd[k])
				cmd[k] = ' ';
		if (cmd && strstr(cmd, what))
			out[n++] = (pid_t)atoi(t);
		free(cmd);
		free(f);
	}
	th_result_free(&r);
	return n;
}

#define ALLOW "run on it as its operator: slipway hosts:allow '"

void th_netns_join_at(struct th_at at, const char *control_ns, const char *const *control_env,
		      const char *host_ns, const char *const *host_env, const char *name,
		      const char *url)
{
	const char *add[] = { SLIPWAY_BIN, "hosts:add", name, url, NULL };
	struct th_result r = th_netns_run(control_ns, NULL, control_env, NULL, add);
	const char *p = strstr(r.err, ALLOW);
	cr_assert(p, "at %s:%d: %s", at.file, at.line, r.err);
	p += strlen(ALLOW);
	char *key = xstrndup(p, strcspn(p, "'"));
	th_result_free(&r);
	const char *allow[] = { SLIPWAY_BIN, "hosts:allow", key, NULL };
	free(th_netns_ok_at(at, th_netns_run(host_ns, NULL, host_env, NULL, allow)));
	free(th_netns_ok_at(at, th_netns_run(control_ns, NULL, control_env, NULL, add)));
	free(key);
}

void th_netns_require_nft(void)
{
	th_netns_require();
	if (access("/usr/sbin/nft", X_OK))
		cr_skip_test("nft is needed (nftables, run scripts/deps)");
}

/* `nft -f -` of rules inside ns, asserted. */
static void nft_at(struct th_at at, const char *ns, const char *rules)
{
	const char *argv[] = { "nft", "-f", "-", NULL };
	struct th_result r = th_netns_run(ns, NULL, NULL, rules, argv);
	cr_assert_eq(r.status, 0, "at %s:%d: nft in %s: %s\n%s", at.file, at.line, ns, r.err, rules);
	th_result_free(&r);
}

void th_netns_cut_at(struct th_at at, const char *ns)
{
	nft_at(at, ns, "table inet slipway_cut {\n"
		       "\tchain in {\n\t\ttype filter hook input priority 0; policy drop;\n"
		       "\t\tiif lo accept\n\t}\n"
		       "\tchain out {\n\t\ttype filter hook output priority 0; policy drop;\n"
		       "\t\toif lo accept\n\t}\n"
		       "}\n");
}

void th_netns_mend_at(struct th_at at, const char *ns)
{
	nft_at(at, ns, "delete table inet slipway_cut\n");
}

char *th_netns_list(void)
{
	struct th_result r = th_runv(NULL, NULL, "ip", "netns", "list", NULL);
	char *out = r.out;
	r.out = NULL;
	th_result_free(&r);
	return out;
}

void th_netns_host_at(struct th_at at, struct th_netns_host *h, const struct th_netns *tb,
		      const char *sb, size_t i)
{
	h->dir = th_path("%s/h%zu", sb, i);
	h->root = th_path("%s/root", h->dir);
	h->url = th_path("ssh://root@%s", tb->addr[i]);
	h->log = th_path("%s/server-run.log", h->dir);
	cr_assert_eq(mkdir(h->dir, 0700), 0, "at %s:%d: mkdir %s", at.file, at.line, h->dir);
}

void th_netns_host_free(struct th_netns_host *h)
{
	free(h->dir);
	free(h->root);
	free(h->url);
	free(h->log);
	*h = (struct th_netns_host){ 0 };
}

void th_netns_env_at(struct th_at at, struct th_netns_env *e, const struct th_netns_host *h,
		     const char *http)
{
	e->sshdir = th_path("%s/ssh", h->dir);
	cr_assert_eq(mkdir(e->sshdir, 0700), 0, "at %s:%d: mkdir %s", at.file, at.line, e->sshdir);
	e->kv[0] = th_path("SLIPWAY_ROOT=%s", h->root);
	e->kv[1] = th_path("SLIPWAY_AUTHORIZED_KEYS=%s/authorized_keys", e->sshdir);
	e->kv[2] = th_path("HOME=%s", h->dir);
	e->kv[3] = th_path("SLIPWAY_HTTP_ADDRESS=%s", http);
	const char *env[] = { e->kv[0], e->kv[1], e->kv[2], e->kv[3],
			      "SLIPWAY_HTTP_PORT=8080", "LC_ALL=C", NULL };
	memcpy(e->env, env, sizeof(env));
}

void th_netns_env_free(struct th_netns_env *e)
{
	for (int k = 0; k < 4; k++)
		free(e->kv[k]);
	free(e->sshdir);
	*e = (struct th_netns_env){ 0 };
}

pid_t th_netns_agent_sshd(const struct th_netns *tb, size_t i, const char *sshdir,
			  const char *home)
{
	char *env = th_path("SLIPWAY_HTTP_ADDRESS=%s SLIPWAY_HTTP_PORT=8080", tb->addr[i]);
	pid_t pid = th_sshd_start_opts(&(struct th_sshd_opts){
		.dir = sshdir, .port = 22, .user = "root", .netns = tb->ns[i],
		.address = tb->addr[i], .config = "PermitRootLogin prohibit-password\n",
		.home = home, .setenv = env });
	free(env);
	return pid;
}

char *th_netns_ok_at(struct th_at at, struct th_result r)
{
	cr_assert_eq(r.status, 0, "at %s:%d: exit %d\nstdout: %s\nstderr: %s", at.file, at.line,
		     r.status, r.out, r.err);
	free(r.err);
	return r.out;
}

void th_netns_refused_at(struct th_at at, const struct th_result *r, int status,
			 const char *want)
{
	cr_assert_eq(r->status, status, "at %s:%d: exit %d\nstdout: %s\nstderr: %s", at.file,
		     at.line, r->status, r->out, r->err);
	const char *nl = strchr(r->err, '\n');
	cr_assert(nl && !nl[1], "at %s:%d: not one line: %s", at.file, at.line, r->err);
	cr_assert(strstr(r->err, want), "at %s:%d: no '%s' in: %s", at.file, at.line, want, r->err);
	cr_assert_str_eq(r->out, "", "at %s:%d", at.file, at.line);
}

int th_pid_alive(pid_t pid)
{
	char *p = th_path("/proc/%d/stat", (int)pid), *s = th_read(p, NULL);
	const char *paren = s ? strrchr(s, ')') : NULL;
	int yes = paren && paren[1] == ' ' && paren[2] != 'Z';
	free(s);
	free(p);
	return yes;
}
