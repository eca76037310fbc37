/*
 * The front, across network namespaces (netns.h): a control whose router
 * is the front, two run hosts and a client.  Each run host serves the app
 * as a Slipway server of its own (the app pushed to its own root inside
 * its namespace, its instances answering "served by hN"); the control
 * knows the hosts (hosts:add) and the app, and its nginx sends the app's
 * requests to the hosts' routers.  The client's requests name the app in
 * their Host header and reach only the front.  Checked: the front answers
 * from both hosts; apps:hosts:set h2 leaves only h2; kill -9 of every
 * instance on h1 costs no GET, nor does h1 held down - and the same front
 * without its retries of a host's 502 and 503 (the control run) fails
 * requests; hosts:remove --drain h1 takes h1 out of the app's file first,
 * and requests keep succeeding; hosts:remove h2 takes it out after.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"
#include "tests/integration/netns.h"
#include "tests/integration/sshd.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOSTS 3  /* 0: the control (the front); 1 and 2: run hosts h1, h2 */
#define CLIENT 3 /* the client's namespace */
#define PORT "8080"
#define DOMAIN "front.test"
#define ALLOW "run on it as its operator: slipway hosts:allow '"

static const char server_py[] =
	"import http.server, os\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    protocol_version = 'HTTP/1.1'\n"
	"    def do_GET(self):\n"
	"        b = ('served by %s\\n' % os.environ.get('WHO', '?')).encode()\n"
	"        self.send_response(200)\n"
	"        self.send_header('Content-Length', str(len(b)))\n"
	"        self.end_headers()\n"
	"        self.wfile.write(b)\n"
	"    def log_message(self, *a):\n"
	"        pass\n"
	"http.server.ThreadingHTTPServer(('', int(os.environ['PORT'])), H).serve_forever()\n";

static struct th_netns tb;
static char *sb, *src;
static struct th_netns_host hs[HOSTS];
static char *kv[HOSTS][3];
static const char *env[HOSTS][12];
static pid_t sshd[HOSTS];

static const char *const git_env[] = {
	"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
	"GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
	"LC_ALL=C",
};

/* argv run on host i (inside its namespace, with its environment), in cwd (NULL: its dir). */
static struct th_result on(int i, const char *cwd, const char *const *argv)
{
	return th_netns_run(tb.ns[i], cwd ? cwd : hs[i].dir, env[i], NULL, argv);
}
#define SW(i, ...) on(i, NULL, (const char *const[]){ SLIPWAY_BIN, __VA_ARGS__, NULL })

#define OK(i, ...) th_netns_ok_at(TH_AT, SW(i, __VA_ARGS__))

/* The app's source, a git repository of its own: server.py answering "served by $WHO". */
static void write_app(void)
{
	src = th_path("%s/src", sb);
	cr_assert_eq(mkdir(src, 0755), 0);
	char *p = th_path("%s/server.py", src);
	th_write(p, server_py, 0644);
	free(p);
	p = th_path("%s/Procfile", src);
	th_write(p, "web: exec python3 -u server.py\n", 0644);
	free(p);
	const char *const *steps[] = {
		(const char *const[]){ "git", "init", "-q", "-b", "main", NULL },
		(const char *const[]){ "git", "add", "-A", NULL },
		(const char *const[]){ "git", "commit", "-qm", "one", NULL },
	};
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++)
		free(th_netns_ok_at(TH_AT, on(0, src, steps[k])));
}

/*
 * Host i's settings, in the .gitconfig of its HOME (its sshd gives the
 * agent the same).  The app's processes share the host's network: pasta
 * finds no route to copy in a namespace of the bed, which is itself the
 * host's own network.
 */
static void write_settings(int i)
{
	char *p = th_path("%s/.gitconfig", hs[i].dir);
	char *text = th_path("[slipway]\n\thttpAddress = %s\n\thttpPort = " PORT "\n"
			     "\tdomain = " DOMAIN "\n\tappNetwork = host\n", tb.addr[i]);
	th_write(p, text, 0644);
	free(text);
	free(p);
}

/* hosts:add hN, once host i trusts the control's key (the line a first refusal gives). */
static void join(int i)
{
	char *name = th_path("h%d", i);
	struct th_result r = SW(0, "hosts:add", name, hs[i].url);
	const char *p = strstr(r.err, ALLOW);
	cr_assert(p, "%s", r.err);
	p += strlen(ALLOW);
	char *key = xstrndup(p, strcspn(p, "'"));
	th_result_free(&r);
	free(OK(i, "hosts:allow", key));
	free(OK(0, "hosts:add", name, hs[i].url));
	free(key);
	free(name);
}

/* The app on run host i: created, WHO=hN, pushed to its own root inside its namespace. */
static void deploy(int i)
{
	char *who = th_path("WHO=h%d", i), *repo = th_path("%s/apps/myapp.git", hs[i].root);
	free(OK(i, "apps:create", "myapp"));
	free(OK(i, "config:set", who, "-a", "myapp"));
	struct th_result r = on(i, src, (const char *const[]){ "git", "push", repo, "main", NULL });
	free(th_netns_ok_at(TH_AT, r));
	free(repo);
	free(who);
}

static void setup(void)
{
	th_netns_require();
	th_sshd_require();
	if (access("/usr/bin/s6-svscan", X_OK) || access("/usr/sbin/nginx", X_OK))
		cr_skip_test("s6 and nginx are needed (run scripts/deps)");
	sb = th_sandbox();
	th_netns_up(&tb, HOSTS + 1);
	for (int i = 0; i < HOSTS; i++) {
		th_netns_host(&hs[i], &tb, sb, i);
		kv[i][0] = th_path("SLIPWAY_ROOT=%s", hs[i].root);
		kv[i][1] = th_path("HOME=%s", hs[i].dir);
		kv[i][2] = th_path("SLIPWAY_AUTHORIZED_KEYS=%s/authorized_keys", hs[i].dir);
		size_t k = 0;
		for (int e = 0; e < 3; e++)
			env[i][k++] = kv[i][e];
		for (size_t g = 0; g < sizeof(git_env) / sizeof(git_env[0]); g++)
			env[i][k++] = git_env[g];
		env[i][k] = NULL;
		write_settings(i);
		sshd[i] = -1;
		if (i > 0)
			/* its HOME is its dir too: the agent reads the same settings */
			sshd[i] = th_sshd_start_opts(&(struct th_sshd_opts){
				.dir = hs[i].dir, .port = 22, .user = "root", .netns = tb.ns[i],
				.address = tb.addr[i] });
		th_netns_server_run(tb.ns[i], hs[i].root, env[i], hs[i].log);
	}
	write_app();
	/* the control knows the app (it runs no instance of it): its file follows each join */
	free(OK(0, "apps:create", "myapp"));
	for (int i = 1; i < HOSTS; i++) {
		deploy(i);
		join(i);
	}
}

static void teardown(void)
{
	th_netns_down(&tb); /* every process in the namespaces with them */
	for (int i = 0; i < HOSTS; i++) {
		for (int k = 0; k < 3; k++)
			free(kv[i][k]);
		th_netns_host_free(&hs[i]);
	}
	free(src);
	if (sb)
		th_sandbox_free(sb);
	sb = NULL;
}

TestSuite(front, .init = setup, .fini = teardown, .timeout = 240);

/*
 * n GETs of the app from the client's namespace through the front, one
 * after another (HTTP/1.1): each answer's status and body on a line,
 * "200 served by h1", into a malloc'ed text.
 */
static char *get_n(int n)
{
	char *script = th_path(
		"i=0; while [ $i -lt %d ]; do i=$((i + 1)); "
		"b=$(curl -s --http1.1 --max-time 20 -o - -w ' %%{http_code}' "
		"-H 'Host: myapp." DOMAIN "' http://%s:" PORT "/) ; echo \"$b\" | tr -d '\\n'; echo; "
		"done", n, tb.addr[0]);
	struct th_result r = th_netns_run(tb.ns[CLIENT], NULL, NULL, NULL,
					  (const char *const[]){ "sh", "-c", script, NULL });
	cr_assert_eq(r.status, 0, "%s", r.err);
	free(script);
	free(r.err);
	return r.out;
}

/* How many of the lines of get_n() are not "served by WHO 200" for a WHO of want's. */
static int failed(const char *lines, const char *want)
{
	int bad = 0;
	for (const char *l = lines; *l;) {
		size_t n = strcspn(l, "\n");
		int ok = n > 4 && !strncmp(l + n - 4, " 200", 4) && !strncmp(l, "served by h", 11);
		if (ok && want)
			ok = strchr(want, l[11]) != NULL;
		bad += !ok;
		l += n + (l[n] == '\n');
	}
	return bad;
}

/* The pids of processes in host i's namespace whose command line holds what. */
static size_t pids_of(int i, const char *what, pid_t *out, size_t max)
{
	struct th_result r = th_runv(NULL, NULL, "ip", "netns", "pids", tb.ns[i], NULL);
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

/* Asserts what apps:hosts on the control says for the app. */
static void hosts_are_at(struct th_at at, const char *want)
{
	char *out = th_netns_ok_at(at, SW(0, "apps:hosts", "-a", "myapp"));
	cr_assert_str_eq(out, want, "at %s:%d", at.file, at.line);
	free(out);
}
#define HOSTS_ARE(want) hosts_are_at(TH_AT, want)

/* The control's file for the app. */
static char *front_file(void)
{
	char *p = th_path("%s/router/apps/myapp.conf", hs[0].root), *text = th_read(p, NULL);
	cr_assert(text, "no %s", p);
	free(p);
	return text;
}

/* s6-svc FLAG on every service of the app on host i (-d: down and held there; -u: up). */
static void app_services(int i, const char *flag)
{
	char *scan = th_path("%s/services", hs[i].root);
	DIR *d = opendir(scan);
	struct dirent *e;
	int n = 0;
	cr_assert(d, "no %s", scan);
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "myapp.v", 7) && strstr(e->d_name, ".web.")) {
			char *svc = th_path("%s/%s", scan, e->d_name);
			struct th_result r = th_runv(NULL, NULL, "s6-svc", flag, svc, NULL);
			cr_assert_eq(r.status, 0, "s6-svc %s %s: %s", flag, svc, r.err);
			th_result_free(&r);
			free(svc);
			n++;
		}
	closedir(d);
	cr_assert_gt(n, 0, "no web service in %s", scan);
	free(scan);
}

/* The control's nginx loads its files again (SIGHUP to its master). */
static void front_reload(void)
{
	char *p = th_path("%s/router/nginx.pid", hs[0].root), *text = th_read(p, NULL);
	cr_assert(text, "no %s", p);
	cr_assert_eq(kill((pid_t)atoi(text), SIGHUP), 0);
	sleep(1); /* the old workers stop taking connections: nginx's own pace, not asserted */
	free(text);
	free(p);
}

Test(front, answers_from_its_hosts_through_failures_and_drains)
{
	/* hosts:add recorded where each host's router listens, and the app's file names both */
	char *p = th_path("%s/hosts/hosts", hs[0].root), *hosts = th_read(p, NULL);
	char *want = th_path("h1 %s 0.1.0 %s:" PORT "\n", hs[1].url, tb.addr[1]);
	cr_assert(strstr(hosts, want), "%s", hosts);
	free(want);
	free(hosts);
	free(p);
	/* joining hosts sends them none of an app they do not run (by default, its hosts run it) */
	HOSTS_ARE("=== myapp Hosts (all)\nlocal\n");
	/* each run host serves the app it was pushed to: named, they get its requests */
	free(OK(0, "apps:hosts:set", "local,h1,h2", "-a", "myapp"));
	HOSTS_ARE("=== myapp Hosts\nlocal\nh1\nh2\n");

	/* both hosts answer */
	char *seen = get_n(20);
	cr_assert_eq(failed(seen, "12"), 0, "%s", seen);
	cr_assert(strstr(seen, "served by h1 200") && strstr(seen, "served by h2 200"), "%s", seen);
	free(seen);

	/* an unknown host is refused: one line, exit 1, nothing changed */
	struct th_result r = SW(0, "apps:hosts:set", "h2,h9", "-a", "myapp");
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert_str_eq(r.err, " !    there is no host 'h9': give hosts of 'slipway hosts' "
				"(local is this server), or all\n");
	cr_assert_str_eq(r.out, "");
	th_result_free(&r);
	HOSTS_ARE("=== myapp Hosts\nlocal\nh1\nh2\n");

	/* h2 only: only h2 answers */
	free(OK(0, "apps:hosts:set", "h2", "-a", "myapp"));
	HOSTS_ARE("=== myapp Hosts\nh2\n");
	seen = get_n(10);
	cr_assert_eq(failed(seen, "2"), 0, "%s", seen);
	free(seen);
	free(OK(0, "apps:hosts:set", "local,h1,h2", "-a", "myapp"));

	/* kill -9 of every instance on h1: s6 starts them again; meanwhile the front retries */
	pid_t pids[16];
	size_t n = pids_of(1, "server.py", pids, 16);
	cr_assert_gt(n, 0);
	for (size_t k = 0; k < n; k++)
		kill(pids[k], SIGKILL);
	seen = get_n(200);
	cr_assert_eq(failed(seen, "12"), 0, "%s", seen);
	free(seen);

	/* h1's instances held down: its router answers 503, and none of it reaches the client */
	app_services(1, "-d");
	seen = get_n(20);
	cr_assert_eq(failed(seen, "2"), 0, "%s", seen);
	free(seen);

	/* the control run: the same front without retrying a host's 502 and 503 fails requests */
	char *conf = front_file();
	char *line = strstr(conf, "\t\tproxy_next_upstream error timeout http_502 http_503;\n");
	cr_assert(line, "%s", conf);
	memmove(line, line + strlen("\t\tproxy_next_upstream error timeout http_502 http_503;\n"),
		strlen(line + strlen("\t\tproxy_next_upstream error timeout http_502 http_503;\n")) + 1);
	p = th_path("%s/router/apps/myapp.conf", hs[0].root);
	th_write(p, conf, 0644);
	free(p);
	free(conf);
	front_reload();
	seen = get_n(20);
	cr_assert_gt(failed(seen, "2"), 0, "%s", seen);
	free(seen);
	app_services(1, "-u");

	/* drained: the app's file no longer names h1, and requests keep succeeding */
	char *out = OK(0, "hosts:remove", "--drain", "h1");
	cr_assert_str_eq(out, "Removing host h1... done\n");
	free(out);
	conf = front_file();
	cr_assert_null(strstr(conf, tb.addr[1]), "%s", conf);
	cr_assert(strstr(conf, "proxy_next_upstream error timeout http_502 http_503;"), "%s", conf);
	free(conf);
	seen = get_n(20);
	cr_assert_eq(failed(seen, "2"), 0, "%s", seen);
	free(seen);

	/* removed without --drain: the file follows after; no host left, the app's error page */
	free(OK(0, "hosts:remove", "h2"));
	conf = front_file();
	cr_assert_null(strstr(conf, tb.addr[2]), "%s", conf);
	free(conf);
	seen = get_n(1);
	cr_assert(strstr(seen, "Application error") && strstr(seen, " 503\n"), "%s", seen);
	free(seen);
}
