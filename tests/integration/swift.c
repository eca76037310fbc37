/* A real S3 store for the tests: Swift with s3api (swift.h). */
#define _GNU_SOURCE
#include "tests/integration/swift.h"
#include "tests/integration/netns.h"
#include "tests/integration/sshd.h"
#include "tests/helpers.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const char *const servers[] = { "account", "container", "object", "proxy" };

void th_swift_require(void)
{
	if (access("/usr/bin/swift-proxy-server", X_OK) || access("/usr/bin/swift-object-server", X_OK) ||
	    access("/usr/bin/memcached", X_OK))
		cr_skip_test("swift-proxy, swift-object, swift-container, swift-account and memcached "
			     "are needed (run scripts/deps)");
}

/* The rings: one device, one replica, built with Swift's own RingBuilder in one process. */
static const char ring_script[] =
	"import os, sys\n"
	"from swift.common.ring import RingBuilder\n"
	"os.chdir(sys.argv[1])\n"
	"for i, n in enumerate(['account', 'container', 'object']):\n"
	"    b = RingBuilder(6, 1, 1)\n"
	"    b.add_dev({'id': 0, 'region': 1, 'zone': 1, 'ip': sys.argv[5],\n"
	"               'port': int(sys.argv[2 + i]), 'device': 'd1', 'weight': 1})\n"
	"    b.rebalance()\n"
	"    b.get_ring().save(n + '.ring.gz')\n";

/* Where the store listens: the address given to th_swift_start_in(), else 127.0.0.1. */
static const char *addr_of(const struct th_swift *s)
{
	return s->addr ? s->addr : "127.0.0.1";
}

static void write_configs(const struct th_swift *s, const int ports[5])
{
	char *p = th_path("%s/swift.conf", s->dir);
	th_write(p, "[swift-hash]\nswift_hash_path_suffix = slipwaytest\n"
		    "[storage-policy:0]\nname = Policy-0\ndefault = yes\n", 0644);
	free(p);
	/* the test's own user: Swift would switch to the system user "swift" */
	char *user = th_sshd_user();
	char *common = th_path("[DEFAULT]\nswift_dir = %s\ndevices = %s/srv\nmount_check = false\n"
			       "bind_ip = %s\nworkers = 0\nlog_level = WARNING\nuser = %s\n",
			       s->dir, s->dir, addr_of(s), user);
	free(user);
	for (int i = 0; i < 3; i++) {
		char *text = th_path("%sbind_port = %d\n[pipeline:main]\npipeline = %s-server\n"
				     "[app:%s-server]\nuse = egg:swift#%s\n",
				     common, ports[1 + i], servers[i], servers[i], servers[i]);
		p = th_path("%s/%s-server.conf", s->dir, servers[i]);
		th_write(p, text, 0644);
		free(p);
		free(text);
	}
	char *text = th_path(
		"%sbind_port = %d\n[pipeline:main]\n"
		"pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats "
		"s3api tempauth copy slo dlo proxy-logging proxy-server\n"
		"[app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\n"
		"error_suppression_limit = 1000\n"
		"[filter:catch_errors]\nuse = egg:swift#catch_errors\n"
		"[filter:gatekeeper]\nuse = egg:swift#gatekeeper\n"
		"[filter:healthcheck]\nuse = egg:swift#healthcheck\n"
		"[filter:proxy-logging]\nuse = egg:swift#proxy_logging\n"
		"[filter:cache]\nuse = egg:swift#memcache\nmemcache_servers = %s:%d\n"
		"[filter:listing_formats]\nuse = egg:swift#listing_formats\n"
		"[filter:s3api]\nuse = egg:swift#s3api\nlocation = us-east-1\n"
		"[filter:tempauth]\nuse = egg:swift#tempauth\nuser_test_tester = testing .admin\n"
		"[filter:copy]\nuse = egg:swift#copy\n[filter:slo]\nuse = egg:swift#slo\n"
		"[filter:dlo]\nuse = egg:swift#dlo\n",
		common, ports[0], addr_of(s), ports[4]);
	p = th_path("%s/proxy-server.conf", s->dir);
	th_write(p, text, 0644);
	free(p);
	free(text);
	free(common);
	p = th_path("%s/netrc", s->dir);
	text = th_path("machine %s login %s password %s\n", addr_of(s), TH_SWIFT_KEY_ID,
		       TH_SWIFT_SECRET);
	th_write(p, text, 0600);
	free(p);
	free(text);
}

static int port_open(const struct th_swift *s, int port)
{
	if (s->ns)
		return th_netns_port_open(s->ns, s->addr, port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

static pid_t spawn(const struct th_swift *s, const char *dir, const char *name,
		   char *const argv[])
{
	char *log = th_path("%s/%s.log", dir, name);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a crashed test */
		setpgid(0, 0);
		if (s->ns)
			th_netns_enter(s->ns);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int null = open("/dev/null", O_RDONLY);
		if (fd < 0 || null < 0 || dup2(fd, 2) < 0 || dup2(fd, 1) < 0 || dup2(null, 0) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	free(log);
	return pid;
}

static int healthy(const struct th_swift *s)
{
	char *url = th_path("%s/healthcheck", s->endpoint);
	const char *argv[] = { "curl", "-sf", "-o", "/dev/null", url, NULL };
	struct th_result r = s->ns ? th_netns_run(s->ns, NULL, NULL, NULL, argv)
				   : th_run(NULL, NULL, NULL, argv);
	free(url);
	int ok = r.status == 0;
	th_result_free(&r);
	return ok;
}

void th_swift_start(struct th_swift *s, const char *dir)
{
	th_swift_start_in(s, dir, NULL, NULL);
}

void th_swift_start_in(struct th_swift *s, const char *dir, const char *ns, const char *addr)
{
	int ports[5];
	memset(s, 0, sizeof(*s));
	s->ns = ns;
	s->addr = addr;
	for (int i = 0; i < 5; i++) {
		ports[i] = th_free_port();
		s->pids[i] = -1;
	}
	s->dir = xstrdup(dir);
	s->port = ports[0];
	s->endpoint = th_path("http://%s:%d", addr_of(s), ports[0]);
	char *srv = th_path("%s/srv/d1", dir);
	cr_assert_eq(fs_mkdir_p(srv, 0755), 0);
	free(srv);
	write_configs(s, ports);
	char a[3][8];
	for (int i = 0; i < 3; i++)
		snprintf(a[i], sizeof(a[i]), "%d", ports[1 + i]);
	struct th_result r = th_runv(NULL, NULL, "/usr/bin/python3", "-c", ring_script, dir, a[0],
				     a[1], a[2], addr_of(s), NULL);
	cr_assert_eq(r.status, 0, "swift rings: %s", r.err);
	th_result_free(&r);

	char mport[8];
	snprintf(mport, sizeof(mport), "%d", ports[4]);
	char *mc[] = { "/usr/bin/memcached", "-l", (char *)addr_of(s), "-p", mport, "-U", "0", "-m", "16",
		       "-u", "root", NULL };
	s->pids[0] = spawn(s, dir, "memcached", mc);
	for (int i = 0; i < 4; i++) {
		char *prog = th_path("/usr/bin/swift-%s-server", servers[i]);
		char *conf = th_path("%s/%s-server.conf", dir, servers[i]);
		char *argv[] = { "/usr/bin/python3", prog, conf, NULL };
		s->pids[1 + i] = spawn(s, dir, servers[i], argv);
		free(prog);
		free(conf);
	}
	int up = 0;
	for (int i = 0; i < 600 && !up; i++) { /* bounded: 60 s */
		/* every server first: the proxy holds back from one it found down */
		up = port_open(s, ports[1]) && port_open(s, ports[2]) && port_open(s, ports[3]) &&
		     healthy(s);
		if (!up)
			nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	}
	if (!up) {
		char *p = th_path("%s/proxy.log", dir);
		char *log = th_read(p, NULL);
		free(p);
		th_swift_stop(s);
		cr_assert_fail("swift did not start:\n%s", log ? log : "");
	}
	th_swift_bucket(s, TH_SWIFT_BUCKET);
}

void th_swift_bucket(const struct th_swift *s, const char *name)
{
	char *url = th_path("%s/%s", s->endpoint, name);
	int status = 0;
	char *body = NULL;
	for (int i = 0; i < 50; i++) { /* bounded: 10 s of a store still settling */
		free(body);
		body = th_swift_curl(s, &status, NULL, "-X", "PUT", url, NULL);
		if (status != 503)
			break;
		nanosleep(&(struct timespec){ 0, 200 * 1000 * 1000 }, NULL);
	}
	cr_assert_eq(status, 200, "making the bucket %s: %d %s", name, status, body);
	free(body);
	free(url);
}

/* The suite's store, started in the runner (th_swift_share_start). */
static struct th_swift shared;
static char *shared_dir;

void th_swift_share_start(void)
{
	if (access("/usr/bin/swift-proxy-server", X_OK) || access("/usr/bin/memcached", X_OK))
		return; /* each test skips (th_swift_shared) */
	const char *tmp = getenv("TMPDIR");
	shared_dir = xasprintf("%s/slipway-swift-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(shared_dir))
		abort();
	th_swift_start(&shared, shared_dir);
	char *v = xasprintf("%d %s", shared.port, shared.dir);
	setenv("SLIPWAY_TEST_SWIFT", v, 1);
	free(v);
}

void th_swift_share_stop(void)
{
	if (!shared_dir)
		return;
	th_swift_stop(&shared);
	fs_rm_rf(shared_dir);
	free(shared_dir);
	shared_dir = NULL;
}

void th_swift_shared(struct th_swift *s, char **bucket)
{
	th_swift_require();
	const char *v = getenv("SLIPWAY_TEST_SWIFT");
	cr_assert(v && strchr(v, ' '), "the suite's Swift did not start (th_swift_share_start)");
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 5; i++)
		s->pids[i] = -1;
	s->port = atoi(v);
	s->dir = xstrdup(strchr(v, ' ') + 1);
	s->endpoint = th_path("http://127.0.0.1:%d", s->port);
	*bucket = xasprintf("t%d", (int)getpid());
	th_swift_bucket(s, *bucket);
}

static void stop_one(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(-*pid, SIGTERM);
	kill(*pid, SIGTERM);
	int waited = 0;
	for (int i = 0; i < 100 && !waited; i++) { /* bounded: 10 s, then SIGKILL */
		waited = waitpid(*pid, NULL, WNOHANG) == *pid;
		if (!waited)
			nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	}
	if (!waited) {
		kill(-*pid, SIGKILL);
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	} else {
		kill(-*pid, SIGKILL); /* anything the server forked */
	}
	*pid = -1;
}

void th_swift_stop_proxy(struct th_swift *s)
{
	stop_one(&s->pids[4]);
}

void th_swift_stop(struct th_swift *s)
{
	for (int i = 4; i >= 0; i--)
		stop_one(&s->pids[i]);
	free(s->dir);
	free(s->endpoint);
	s->dir = s->endpoint = NULL;
}

char *th_swift_curl(const struct th_swift *s, int *status, const char *payload_hash, ...)
{
	const char *argv[64];
	size_t n = 0;
	char *netrc = th_path("%s/netrc", s->dir);
	char *hdr = th_path("x-amz-content-sha256: %s", payload_hash ? payload_hash : EMPTY_SHA256);
	argv[n++] = "curl";
	argv[n++] = "-s";
	argv[n++] = "-w";
	argv[n++] = "\n%{http_code}";
	argv[n++] = "--aws-sigv4";
	argv[n++] = "aws:amz:us-east-1:s3";
	argv[n++] = "--netrc-file";
	argv[n++] = netrc;
	argv[n++] = "-H";
	argv[n++] = hdr;
	va_list ap;
	va_start(ap, payload_hash);
	const char *a;
	while ((a = va_arg(ap, const char *)) && n < 63)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	struct th_result r = s->ns ? th_netns_run(s->ns, NULL, NULL, NULL, argv)
				   : th_run(NULL, NULL, NULL, argv);
	char *body = r.out;
	char *nl = strrchr(body, '\n');
	*status = nl ? atoi(nl + 1) : 0;
	if (nl)
		*nl = '\0';
	r.out = NULL;
	th_result_free(&r);
	free(netrc);
	free(hdr);
	return body;
}

char *th_swift_get(const struct th_swift *s, const char *path)
{
	char *url = th_path("%s%s", s->endpoint, path);
	int status = 0;
	char *body = th_swift_curl(s, &status, NULL, url, NULL);
	cr_assert_eq(status, 200, "GET %s: %d %s", path, status, body);
	free(url);
	return body;
}
