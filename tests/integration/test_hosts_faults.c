/*
 * Faults across hosts, in network namespaces (netns.h): a control whose
 * router is the front, three run hosts h1, h2, h3 (each a real sshd and a
 * `slipway server:run` of its own, joined with hosts:add) and a client
 * with its own address in the bed.  The control builds the app,
 * hosts:apply places it on the three, and from then on each release the
 * control makes goes live on the three by itself (prepare on each, then
 * switch all, else abort all); the front sends the app's requests to the
 * three hosts' routers.  The client's load is bounded
 * (a count and a time, whichever comes first) and stops when told.
 *
 * Checked: v2 deployed to the three under load costs no request, and
 * every host serves v2 after; h3 cut off by an nftables drop rule in its
 * own namespace while the hosts prepare makes the release abort - no host
 * switches, v1 serves everywhere, config:set exits 1 naming h3 and the
 * release is recorded failed - h3 out of the app's hosts, releases:retry
 * makes it live on h1 and h2, and h3, mended and put back, takes it with
 * hosts:apply (the control run); h3 cut off after h1 switched (h1's
 * onRelease program holds its switch there) makes h1 and h2 go back to
 * the live release, and so does the control killed at that moment;
 * kill -9 of every instance on one host, then on two, in the middle of
 * the load costs no GET.  The teardown leaves no namespace.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOSTS 4  /* 0: the control (the front); 1 to 3: run hosts h1, h2, h3 */
#define CLIENT 4 /* the client's namespace */
#define PORT "8080"
#define DOMAIN "faults.test"
#define APP "shop"
#define LOAD_MAX 3000   /* requests a load sends at most */
#define LOAD_MAX_S 150  /* seconds a load lasts at most (a release on a busy machine: ~60 s) */

/* web answers "greeting $GREETING", once it has slept BOOT_S seconds (none unless set). */
static const char procfile[] =
	"web: sleep ${BOOT_S:-0} && mkdir -p /tmp/site && "
	"echo \"greeting $GREETING\" > /tmp/site/index.html && "
	"cd /tmp/site && exec python3 -m http.server $PORT\n";

static struct th_netns tb;
static char *sb;
static struct th_netns_host hs[HOSTS];
static char *kv[HOSTS][3];
static const char *env[HOSTS][12];

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

/*
 * Host i's settings, in the .gitconfig of its HOME (its sshd gives the node
 * agent the same HOME): its router at its address, the app's processes on
 * the host's network.
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

/*
 * The control makes app, says GREETING=greeting, and commits the Procfile
 * in a work tree of its own: sb's control dir/DIR (malloc'ed).
 */
static char *app_source(const char *app, const char *greeting, const char *dir)
{
	char *src = th_path("%s/%s", hs[0].dir, dir), *file = th_path("%s/Procfile", src);
	char *var = th_path("GREETING=%s", greeting);
	cr_assert_eq(mkdir(src, 0700), 0);
	th_write(file, procfile, 0644);
	free(OK(0, "apps:create", app));
	free(OK(0, "config:set", var, "-a", app));
	const char *const *steps[] = {
		(const char *const[]){ "git", "init", "-q", "-b", "main", NULL },
		(const char *const[]){ "git", "add", "Procfile", NULL },
		(const char *const[]){ "git", "commit", "-qm", greeting, NULL },
	};
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++)
		free(th_netns_ok_at(TH_AT, on(0, src, steps[k])));
	free(var);
	free(file);
	return src;
}

/* The control makes the app, says GREETING=one and pushes it: built there. */
static void push_app(void)
{
	char *src = app_source(APP, "one", "src");
	char *repo = th_path("%s/apps/" APP ".git", hs[0].root);
	const char *argv[] = { "git", "push", "-q", repo, "main", NULL };
	free(th_netns_ok_at(TH_AT, on(0, src, argv)));
	free(repo);
	free(src);
}

static void setup(void)
{
	th_netns_require_nft();
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
		if (i > 0)
			th_sshd_start_opts(&(struct th_sshd_opts){
				.dir = hs[i].dir, .port = 22, .user = "root", .netns = tb.ns[i],
				.address = tb.addr[i] });
		th_netns_server_run(tb.ns[i], hs[i].root, env[i], hs[i].log);
	}
	push_app();
	for (int i = 1; i < HOSTS; i++) {
		char *name = th_path("h%d", i);
		th_netns_join(tb.ns[0], env[0], tb.ns[i], env[i], name, hs[i].url);
		free(name);
	}
	/* the three run hosts serve the app, the control only fronts it */
	free(OK(0, "apps:hosts:set", "h1,h2,h3", "-a", APP));
	/* web=3 over the three: one each */
	free(OK(0, "ps:scale", "web=3", "-a", APP));
	char *out = OK(0, "hosts:apply", "-a", APP);
	cr_assert(strstr(out, "... done, v2 runs on h1, h2, h3\n"), "%s", out);
	free(out);
}

static void teardown(void)
{
	th_netns_down(&tb); /* every process in the namespaces with them */
	for (int i = 0; i < HOSTS; i++) {
		for (int k = 0; k < 3; k++)
			free(kv[i][k]);
		th_netns_host_free(&hs[i]);
	}
	if (sb)
		th_sandbox_free(sb);
	sb = NULL;
}

TestSuite(hosts_faults, .init = setup, .fini = teardown, .timeout = 400);

/* The page host i's router serves for app, curl'ed from the control ("" for none). */
static char *page_of(int i, const char *app)
{
	char *u = th_path("http://%s:" PORT "/", tb.addr[i]), *host = th_path("Host: %s." DOMAIN, app);
	const char *argv[] = { "curl", "-sS", "--max-time", "10", "-H", host, u, NULL };
	struct th_result r = on(0, NULL, argv);
	free(host);
	free(u);
	free(r.err);
	return r.out;
}

static char *page_on(int i)
{
	return page_of(i, APP);
}

/* Asserts the routers of run hosts h1 to h<last> serve want. */
static void hosts_serve_at(struct th_at at, int last, const char *want)
{
	for (int i = 1; i <= last; i++) {
		char *page = page_on(i);
		cr_assert_str_eq(page, want, "at %s:%d: h%d", at.file, at.line, i);
		free(page);
	}
}
#define HOSTS_SERVE(want) hosts_serve_at(TH_AT, HOSTS - 1, want)
#define H1_H2_SERVE(want) hosts_serve_at(TH_AT, 2, want)

/*
 * A load from the client's namespace through the front: GETs one after
 * another, each answer's body and status on a line ("greeting one 200"),
 * until the stop file exists, LOAD_MAX requests or LOAD_MAX_S seconds.
 */
struct load {
	pid_t pid;
	char *out, *stop;
};

static void load_start(struct load *l, const char *name)
{
	l->out = th_path("%s/%s.out", sb, name);
	l->stop = th_path("%s/%s.stop", sb, name);
	char *script = th_path(
		"i=0; end=$(( $(date +%%s) + %d )); "
		"while [ $i -lt %d ] && [ $(date +%%s) -lt $end ] && [ ! -e %s ]; do i=$((i + 1)); "
		"b=$(curl -s --max-time 20 -w ' %%{http_code}' -H 'Host: " APP "." DOMAIN "' "
		"http://%s:" PORT "/); echo \"$b\" | tr -d '\\n'; echo; sleep 0.02; done",
		LOAD_MAX_S, LOAD_MAX, l->stop, tb.addr[0]);
	const char *argv[] = { "sh", "-c", script, NULL };
	l->pid = th_netns_spawn(tb.ns[CLIENT], l->out, NULL, argv);
	free(script);
}

/* Stops the load; its lines (malloc'ed). */
static char *load_stop(struct load *l)
{
	th_write(l->stop, "", 0644);
	int st = 0;
	cr_assert_eq(waitpid(l->pid, &st, 0), l->pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the load ended with %d", st);
	char *lines = th_read(l->out, NULL);
	cr_assert(lines);
	free(l->out);
	free(l->stop);
	return lines;
}

/* How many lines of a load are exactly "greeting WORD 200". */
static int answered(const char *lines, const char *word)
{
	char *want = th_path("greeting %s 200", word);
	int n = 0;
	for (const char *l = lines; *l;) {
		size_t len = strcspn(l, "\n");
		n += len == strlen(want) && !strncmp(l, want, len);
		l += len + (l[len] == '\n');
	}
	free(want);
	return n;
}

/* How many lines a load wrote. */
static int nlines(const char *lines)
{
	int n = 0;
	for (const char *p = lines; (p = strchr(p, '\n')); p++)
		n++;
	return n;
}

/* A load through the front for 2 s (name: its files): every answer is "greeting WORD". */
static void front_answers_at(struct th_at at, const char *name, const char *word)
{
	struct load l;
	load_start(&l, name);
	sleep(2);
	char *lines = load_stop(&l);
	cr_assert(nlines(lines) > 0 && answered(lines, word) == nlines(lines), "at %s:%d: %s",
		  at.file, at.line, lines);
	free(lines);
}
#define FRONT_ANSWERS(name, word) front_answers_at(TH_AT, name, word)

/* Names of the app's services on host i, space-separated (malloc'ed). */
static char *services_on(int i)
{
	char *scan = th_path("%s/services", hs[i].root);
	DIR *d = opendir(scan);
	struct dirent *e;
	struct buf b = BUF_INIT;
	cr_assert(d, "no %s", scan);
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, APP ".v", strlen(APP ".v")))
			buf_addf(&b, "%s ", e->d_name);
	closedir(d);
	free(scan);
	return buf_detach(&b);
}

/* The state host i's node agent answers for the app, through the control's key. */
static char *state_on(int i)
{
	char *key = th_path("%s/hosts/id_ed25519", hs[0].root), *login = th_path("root@%s", tb.addr[i]);
	char *out = th_netns_ok_at(TH_AT, th_netns_ssh(tb.ns[0], hs[0].dir, env[0], key, login,
							"state " APP, NULL));
	free(login);
	free(key);
	return out;
}

/* The "instances" and "version" members of an agent's answer, as one string (malloc'ed). */
static char *running(const char *answer)
{
	const char *p = strstr(answer, "\"instances\":\""), *v = strstr(answer, "\"version\":");
	cr_assert(p && v, "%s", answer);
	p += strlen("\"instances\":\"");
	v += strlen("\"version\":");
	return th_path("v%.*s %.*s", (int)strcspn(v, ","), v, (int)strcspn(p, "\""), p);
}

/* What an agent's state answer says is live: "release N status S" (malloc'ed). */
static char *live(const char *answer)
{
	const char *r = strstr(answer, "\"release\":"), *st = strstr(answer, "\"status\":\"");
	cr_assert(r && st, "%s", answer);
	r += strlen("\"release\":");
	st += strlen("\"status\":\"");
	return th_path("release %.*s status %.*s", (int)strcspn(r, ","), r, (int)strcspn(st, "\""),
		       st);
}

/* The pids of the app's web processes on host i, into out; how many. */
static size_t instances_of(int i, pid_t *out, size_t max)
{
	return th_netns_pids(tb.ns[i], "python3 -m http.server", out, max);
}

/* kill -9 of every instance on host i; how many there were (asserted some). */
static size_t kill_instances(int i)
{
	pid_t pids[16];
	size_t n = instances_of(i, pids, 16), killed = 0;
	for (size_t k = 0; k < n; k++)
		killed += kill(pids[k], SIGKILL) == 0;
	cr_assert_gt(killed, 0, "h%d runs no instance", i);
	return killed;
}

Test(hosts_faults, a_release_to_three_hosts_and_kill_9_on_them_under_load_fail_no_request)
{
	struct load l;
	load_start(&l, "deploy");
	sleep(1); /* the load is under way before the release (a wait, not a measure) */
	char *out = OK(0, "config:set", "GREETING=two", "-a", APP);
	cr_assert(strstr(out, "-----> Releasing v3 to h1, h2, h3... done\n"), "%s", out);
	free(out);
	sleep(1); /* and goes on after it */
	char *lines = load_stop(&l);
	int one = answered(lines, "one"), two = answered(lines, "two");
	/* every request answered, by v1 until the switch and v2 after: the load spanned it */
	cr_assert_eq(one + two, nlines(lines), "%d failed:\n%s", nlines(lines) - one - two, lines);
	cr_assert(one > 0 && two > 0, "%s", lines);
	cr_assert_lt(nlines(lines), LOAD_MAX, "the load ended before the release did:\n%s", lines);
	free(lines);
	HOSTS_SERVE("greeting two\n");
	/* kill -9 of every instance on h1, then on h1 and h2, in the middle of a load */
	load_start(&l, "kill");
	sleep(1);
	kill_instances(1);
	sleep(3); /* the load goes on through h1's restart (a wait, not a measure) */
	kill_instances(1);
	kill_instances(2);
	sleep(3);
	lines = load_stop(&l);
	cr_assert(nlines(lines) > 0 && answered(lines, "two") == nlines(lines), "%d failed:\n%s",
		  nlines(lines) - answered(lines, "two"), lines);
	free(lines);
	/* s6 started them again: every host serves */
	int up = 0;
	for (int k = 0; k < 100 && !up; k++) {
		pid_t p[4];
		up = instances_of(1, p, 4) > 0 && instances_of(2, p, 4) > 0;
		if (!up)
			usleep(100 * 1000);
	}
	cr_assert(up);
	for (int i = 1; i < HOSTS; i++) {
		char *page = NULL;
		for (int k = 0; k < 50; k++) {
			free(page);
			page = page_on(i);
			if (!strcmp(page, "greeting two\n"))
				break;
			usleep(200 * 1000);
		}
		cr_assert_str_eq(page, "greeting two\n", "h%d", i);
		free(page);
	}
}

Test(hosts_faults, a_host_cut_off_while_another_prepares_aborts_the_switch_everywhere)
{
	char *before[HOSTS] = { NULL }, *live_before = NULL;
	for (int i = 1; i < HOSTS; i++) {
		char *state = state_on(i);
		before[i] = running(state);
		if (i == 3)
			live_before = live(state);
		free(state);
	}
	char *services = services_on(1);

	/* the new release's web takes 3 s to serve: each host's prepare takes as long */
	char *out = th_path("%s/apply.out", sb), *err = th_path("%s/apply.err", sb);
	char *log = th_path("%s/apply.log", sb);
	char *cmd = th_path("exec %s config:set GREETING=two BOOT_S=3 -a " APP " >%s 2>%s",
			    SLIPWAY_BIN, out, err);
	const char *argv[] = { "sh", "-c", cmd, NULL };
	pid_t apply = th_netns_spawn(tb.ns[0], log, env[0], argv);

	/* the hosts prepare (a service of v2 appears beside v1's on h1): h3 is cut off now,
	   its web of v2 still short of its gate (3 s) */
	int prepared = 0;
	for (int k = 0; k < 2400 && !prepared; k++) {
		char *now = services_on(1);
		prepared = strcmp(now, services) != 0;
		free(now);
		if (!prepared)
			usleep(50 * 1000);
	}
	cr_assert(prepared, "h1 prepared nothing in 120 s");
	th_netns_cut(tb.ns[3]);
	int st = 0;
	cr_assert_eq(waitpid(apply, &st, 0), apply);

	/* exit 1: the release failed on every host, h3 named, v2 still live */
	char *said = th_read(out, NULL), *why = th_read(err, NULL);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "exit %d\n%s%s", st, said, why);
	char *all = th_path("%s%s", said, why);
	cr_assert(strstr(all, "-----> Releasing v3 to h1, h2, h3... failed\n"), "%s", all);
	char *want = th_path("h3: cannot reach root@%s port 22: ", tb.addr[3]);
	cr_assert(strstr(all, want), "%s", all);
	cr_assert(strstr(all, "v2 is still live"), "%s", all);
	free(want);
	free(all);
	char *releases = OK(0, "releases", "-a", APP);
	cr_assert(strstr(releases, "v3") && strstr(releases, "failed"), "%s", releases);
	free(releases);

	/* no host switched: h1 and h2 run what they ran and serve the old release, as the front does */
	for (int i = 1; i <= 2; i++) {
		char *state = state_on(i), *now = running(state);
		cr_assert_str_eq(now, before[i], "h%d: %s", i, state);
		free(now);
		free(state);
		char *page = page_on(i);
		cr_assert_str_eq(page, "greeting one\n", "h%d", i);
		free(page);
	}
	FRONT_ANSWERS("after-abort", "one");
	/* h1's own second release, the one prepared there, failed saying h3 could not take it */
	char *output = OK(1, "releases:output", "v2", "-a", APP);
	cr_assert(strstr(output, "h3: cannot reach root@"), "%s", output);
	free(output);

	/* the way on without h3: out of the app's hosts, the release again goes live on h1, h2 */
	free(OK(0, "apps:hosts:set", "h1,h2", "-a", APP));
	char *done = OK(0, "releases:retry", "-a", APP);
	cr_assert(strstr(done, "-----> Releasing v4 to h1, h2... done\n"), "%s", done);
	free(done);
	H1_H2_SERVE("greeting two\n");

	/*
	 * h3 again in the bed: it switched to nothing, and serves the old
	 * release (the hosts prepare at once: what it may have prepared before
	 * the cut waits out its hold, or the next release replaces it)
	 */
	th_netns_mend(tb.ns[3]);
	char *state = state_on(3), *now = live(state);
	cr_assert_str_eq(now, live_before, "h3: %s", state);
	free(now);
	free(state);
	char *page = page_on(3);
	cr_assert_str_eq(page, "greeting one\n");
	free(page);

	/* the control run: h3, back among the app's hosts and reachable, takes the release */
	free(OK(0, "apps:hosts:set", "h1,h2,h3", "-a", APP));
	done = OK(0, "hosts:apply", "-a", APP);
	cr_assert(strstr(done, "... done, v4 runs on h1, h2, h3\n"), "%s", done);
	free(done);
	HOSTS_SERVE("greeting two\n");

	free(why);
	free(said);
	free(cmd);
	free(log);
	free(err);
	free(out);
	free(services);
	free(live_before);
	for (int i = 1; i < HOSTS; i++)
		free(before[i]);

	/* the teardown takes every namespace, h3's cut with it, and every process */
	th_netns_cut(tb.ns[3]);
	char *names[HOSTS + 2];
	names[0] = xstrdup(tb.bridge);
	for (int i = 0; i <= HOSTS; i++)
		names[i + 1] = xstrdup(tb.ns[i]);
	th_netns_down(&tb);
	char *list = th_netns_list();
	for (int i = 0; i < HOSTS + 2; i++) {
		cr_assert_null(strstr(list, names[i]), "%s is left:\n%s", names[i], list);
		free(names[i]);
	}
	for (int i = 0; i < HOSTS; i++)
		cr_assert_eq(th_processes_with(hs[i].root), 0, "processes of %s are left", hs[i].root);
	free(list);
}

/* Waits up to 120 s for path to exist; whether it does. */
static int appears(const char *path)
{
	for (int k = 0; k < 1200; k++) {
		if (access(path, F_OK) == 0)
			return 1;
		usleep(100 * 1000);
	}
	return 0;
}

/* The shell line line on the control, started in its namespace: its pid, its output in sb/NAME.out. */
static pid_t run_async(const char *name, const char *line)
{
	char *cmd = th_path("%s >%s/%s.out 2>&1", line, sb, name);
	char *log = th_path("%s/%s.log", sb, name);
	const char *argv[] = { "sh", "-c", cmd, NULL };
	pid_t pid = th_netns_spawn(tb.ns[0], log, env[0], argv);
	free(log);
	free(cmd);
	return pid;
}

/* config:set of vars on the control, run_async(): the pid is slipway's own. */
static pid_t set_async(const char *name, const char *vars)
{
	char *line = th_path("exec %s config:set %s -a " APP, SLIPWAY_BIN, vars);
	pid_t pid = run_async(name, line);
	free(line);
	return pid;
}

/* Waits until host i's router serves want, up to 120 s; asserts it does. */
static void comes_to(int i, const char *want)
{
	char *page = NULL;
	for (int k = 0; k < 240; k++) {
		free(page);
		if (!strcmp(page = page_on(i), want))
			break;
		usleep(500 * 1000);
	}
	cr_assert_str_eq(page, want, "h%d", i);
	free(page);
}

/*
 * h1's operator program (slipway.onRelease) runs once a release is live
 * there, writes the release to mark and holds h1's switch while the file
 * hold is there: h1 has switched, h2 and h3 have not.
 */
static void hold_h1_switch(const char *mark, const char *hold)
{
	char *hook = th_path("%s/on-release", hs[1].dir);
	char *script = th_path("#!/bin/sh\necho \"$SLIPWAY_RELEASE\" > %s.tmp && mv %s.tmp %s\n"
			       "i=0\nwhile [ -e %s ] && [ $i -lt 600 ]; do sleep 0.1; "
			       "i=$((i + 1)); done\n", mark, mark, mark, hold);
	th_write(hook, script, 0755);
	char *cfg = th_path("%s/.gitconfig", hs[1].dir);
	struct th_result r = th_runv(NULL, NULL, "git", "config", "--file", cfg, "--add",
				     "slipway.onRelease", hook, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	free(cfg);
	free(script);
	free(hook);
}

/*
 * The shell line on the control (its files: sb/NAME.*) while h1 holds
 * its switch (hold_h1_switch()): fault(arg) once h1 switched, then h1 goes
 * on.  Its output (malloc'ed); *st its wait status.
 */
static char *held_at_h1(const char *mark, const char *hold, const char *name, const char *line,
			void (*fault)(const void *), const void *arg, int *st)
{
	th_write(hold, "", 0644);
	pid_t pid = run_async(name, line);
	cr_assert(appears(mark), "h1 never switched");
	fault(arg);
	cr_assert_eq(unlink(hold), 0);
	cr_assert_eq(waitpid(pid, st, 0), pid);
	char *out = th_path("%s/%s.out", sb, name), *all = th_read(out, NULL);
	free(out);
	return all;
}

/* held_at_h1() of config:set GREETING=two. */
static char *set_held_at_h1(const char *mark, const char *hold, const char *name,
			    void (*fault)(const void *), const void *arg, int *st)
{
	char *line = th_path("exec %s config:set GREETING=two -a " APP, SLIPWAY_BIN);
	char *all = held_at_h1(mark, hold, name, line, fault, arg, st);
	free(line);
	return all;
}

static void cut_h3(const void *arg)
{
	(void)arg;
	th_netns_cut(tb.ns[3]);
}

/* A file nginx refuses among the control's router files: its nginx -t fails. */
static void break_nginx(const void *path)
{
	th_write(path, "this is not nginx;\n", 0644);
}

Test(hosts_faults, a_switch_cut_short_puts_the_hosts_that_switched_back)
{
	char *state = state_on(3), *live_before = live(state);
	free(state);
	char *mark = th_path("%s/h1-live", sb), *hold = th_path("%s/hold", sb);
	hold_h1_switch(mark, hold);

	/* h3 is cut off once h1 switched: h1's switch ends, h2 switches, h3 cannot */
	int st = 0;
	char *all = set_held_at_h1(mark, hold, "cut", cut_h3, NULL, &st);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "exit %d\n%s", st, all);
	cr_assert(strstr(all, "-----> Releasing v3 to h1, h2, h3... failed\n"), "%s", all);
	char *want = th_path("h3: cannot reach root@%s port 22: ", tb.addr[3]);
	cr_assert(strstr(all, want), "%s", all);
	cr_assert(strstr(all, "v2 is still live"), "%s", all);
	cr_assert_null(strstr(all, "could not all be switched back"), "%s", all);
	char *releases = OK(0, "releases", "-a", APP);
	cr_assert(strstr(releases, "v3") && strstr(releases, "failed"), "%s", releases);

	/* h1 and h2, switched to v3, went back: they serve v2 as the control says, as the front does */
	H1_H2_SERVE("greeting one\n");
	FRONT_ANSWERS("after-back", "one");

	/* h3 again in the bed: it never switched */
	th_netns_mend(tb.ns[3]);
	state = state_on(3);
	char *now = live(state);
	cr_assert_str_eq(now, live_before, "h3: %s", state);
	HOSTS_SERVE("greeting one\n");

	/* the control run: the release again, nothing cut off, goes live on all three */
	char *done = OK(0, "releases:retry", "-a", APP);
	cr_assert(strstr(done, "-----> Releasing v4 to h1, h2, h3... done\n"), "%s", done);
	HOSTS_SERVE("greeting two\n");

	/*
	 * the control killed (kill -9) once h1 switched to v5: its guard
	 * fails v5 and puts h1 back on v4; h2 and h3 never switch
	 */
	cr_assert_eq(unlink(mark), 0);
	th_write(hold, "", 0644);
	pid_t set = set_async("kill", "GREETING=three");
	cr_assert(appears(mark), "h1 never switched");
	cr_assert_eq(kill(set, SIGKILL), 0);
	cr_assert_eq(waitpid(set, &st, 0), set);
	cr_assert_eq(unlink(hold), 0);
	comes_to(1, "greeting two\n");
	char *after = OK(0, "releases", "-a", APP);
	cr_assert(strstr(after, "v5") && strstr(after, "failed"), "%s", after);
	HOSTS_SERVE("greeting two\n");

	free(after);
	free(done);
	free(now);
	free(state);
	free(releases);
	free(want);
	free(all);
	free(hold);
	free(mark);
	free(live_before);
}

Test(hosts_faults, the_controls_own_switch_failing_puts_the_hosts_that_switched_back)
{
	/* the control serves the app too: one web instance on each of the four */
	free(OK(0, "apps:hosts:set", "local,h1,h2,h3", "-a", APP));
	free(OK(0, "ps:scale", "web=4", "-a", APP));
	char *page = page_on(0);
	cr_assert_str_eq(page, "greeting one\n");
	free(page);
	HOSTS_SERVE("greeting one\n");

	/*
	 * once h1 switched, a file nginx refuses lands among the control's
	 * router files: h2 and h3 switch, then the control's own switch fails
	 * at its nginx -t
	 */
	char *mark = th_path("%s/h1-live", sb), *hold = th_path("%s/hold", sb);
	char *bad = th_path("%s/router/apps/zz-broken.conf", hs[0].root);
	hold_h1_switch(mark, hold);
	int st = 0;
	char *all = set_held_at_h1(mark, hold, "own", break_nginx, bad, &st);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "exit %d\n%s", st, all);
	cr_assert(strstr(all, "zz-broken.conf"), "%s", all);
	cr_assert_null(strstr(all, "could not all be put back"), "%s", all);
	char *releases = OK(0, "releases", "-a", APP);
	cr_assert(strstr(releases, "v3") && strstr(releases, "failed"), "%s", releases);

	/* h1, h2 and h3 switched to v3 and went back: all four serve v2, as the control says */
	HOSTS_SERVE("greeting one\n");
	page = page_on(0);
	cr_assert_str_eq(page, "greeting one\n");
	free(page);

	/* nginx's file gone, the release again goes live on all four */
	cr_assert_eq(unlink(bad), 0);
	char *done = OK(0, "releases:retry", "-a", APP);
	cr_assert(strstr(done, "-----> Releasing v4 to local, h1, h2, h3... done\n"), "%s", done);
	HOSTS_SERVE("greeting two\n");

	free(done);
	free(releases);
	free(all);
	free(bad);
	free(hold);
	free(mark);
}

/* Waits up to 30 s until host i runs no instance of the app; how many it runs then. */
static size_t instances_gone(int i)
{
	pid_t pids[16];
	size_t n = 0;
	for (int k = 0; k < 60 && (n = instances_of(i, pids, 16)); k++)
		usleep(500 * 1000);
	return n;
}

Test(hosts_faults, a_host_apps_hosts_set_leaves_out_stops_the_apps_instances)
{
	pid_t pids[16];
	cr_assert_gt(instances_of(3, pids, 16), 0, "h3 runs its share");
	char *out = OK(0, "apps:hosts:set", "h1,h2", "-a", APP);
	cr_assert(strstr(out, "Setting the hosts of " APP " to h1,h2... done\n"
			      "Stopping " APP "'s instances on h3, no longer one of its hosts... done\n"),
		  "%s", out);
	free(out);
	cr_assert_eq(instances_gone(3), 0, "h3 still runs the app");
	H1_H2_SERVE("greeting one\n");
	FRONT_ANSWERS("after-h3", "one");

	/* h2 cut off: left out all the same, its instance cannot be stopped yet */
	th_netns_cut(tb.ns[2]);
	struct th_result r = SW(0, "apps:hosts:set", "h1", "-a", APP);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "Stopping " APP "'s instances on h2, no longer one of its "
				"hosts... failed\n"), "%s", r.out);
	char *want = th_path("h2: cannot reach root@%s port 22: ", tb.addr[2]);
	cr_assert(strstr(r.err, want), "%s", r.err);
	cr_assert(strstr(r.err, ": they get no requests; 'slipway hosts:apply -a " APP "' stops "
				"them once h2 answers\n"), "%s", r.err);
	th_result_free(&r);
	FRONT_ANSWERS("after-h2", "one");

	/* h2 back: it still runs it, until hosts:apply stops it */
	th_netns_mend(tb.ns[2]);
	cr_assert_gt(instances_of(2, pids, 16), 0, "h2 runs its instance while it was cut off");
	out = OK(0, "hosts:apply", "-a", APP);
	cr_assert(strstr(out, "Stopping " APP "'s instances on h2, no longer one of its hosts... "
			      "done\n"), "%s", out);
	cr_assert_eq(instances_gone(2), 0, "h2 still runs the app");
	free(out);
	/* and only once: nothing is left to stop */
	out = OK(0, "hosts:apply", "-a", APP);
	cr_assert_null(strstr(out, "Stopping"), "%s", out);
	free(out);
	hosts_serve_at(TH_AT, 1, "greeting one\n");
	FRONT_ANSWERS("after-apply", "one");
	free(want);
}

Test(hosts_faults, a_first_release_cut_short_stops_on_the_hosts_that_switched)
{
	/* a second app, its hosts h1, h2, h3, its code never live */
	char *src = app_source("first", "first", "first");
	char *repo = th_path("%s/apps/first.git", hs[0].root);
	free(OK(0, "apps:hosts:set", "h1,h2,h3", "-a", "first"));

	/* h3 is cut off once h1 switched to the first release: h2 switched too */
	char *mark = th_path("%s/h1-live", sb), *hold = th_path("%s/hold", sb);
	char *push = th_path("cd %s && git push -q %s main", src, repo);
	hold_h1_switch(mark, hold);
	int st = 0;
	char *all = held_at_h1(mark, hold, "first", push, cut_h3, NULL, &st);
	/* the push itself is taken (slipway.failedReleaseExit is off) */
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit %d\n%s", st, all);
	cr_assert(strstr(all, "Releasing v2 to h1, h2, h3... failed"), "%s", all);
	char *want = th_path("h3: cannot reach root@%s port 22: ", tb.addr[3]);
	cr_assert(strstr(all, want), "%s", all);
	cr_assert_null(strstr(all, "could not all stop it"), "%s", all);

	/* h1 and h2 stopped what they switched to: it serves no one there */
	for (int i = 1; i <= 2; i++) {
		char *page = page_of(i, "first");
		cr_assert_null(strstr(page, "greeting first"), "h%d: %s", i, page);
		free(page);
	}
	/* the app they do serve is untouched */
	H1_H2_SERVE("greeting one\n");

	free(want);
	free(all);
	free(push);
	free(hold);
	free(mark);
	free(repo);
	free(src);
}
