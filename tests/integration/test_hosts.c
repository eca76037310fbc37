/*
 * Run hosts joining a control, across network namespaces (netns.h): a
 * control and two run hosts, each with a real sshd and a root of its own
 * (the run hosts' runtimes running, `slipway server:run`).  hosts:add
 * reaches a host's node agent with the control's own key; a host that does
 * not trust that key yet is refused with the hosts:allow line to run there,
 * and joins once it is run; a host of another version, or with a clock far
 * from the control's, is refused; nothing is recorded by a refusal; the
 * forced command gives the key no shell (a control run: the same key
 * without it gets one); hosts:remove; and the teardown leaves nothing.
 * With S3 (Swift in a namespace of the bed's own, swift.h), the run hosts
 * fetch a release's slug from the bucket themselves; an object changed
 * there, or the store stopped, fails the release on every host before any
 * switches, and v1 serves on.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"
#include "tests/integration/netns.h"
#include "tests/integration/sshd.h"
#include "tests/integration/swift.h"
#include "store/cas.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOSTS 3 /* 0: the control; 1 and 2: run hosts */
#define STORE HOSTS /* the bed's namespace of the S3 store (swift.h), started by the tests of S3 */
#define ALLOW "run on it as its operator: slipway hosts:allow '"

static struct th_netns tb;
static char *sb;
static struct th_netns_host hs[HOSTS];
static struct th_netns_env ev[HOSTS];
static pid_t sshd[HOSTS], run[HOSTS];
static struct th_swift swift;

static void setup(void)
{
	th_netns_require();
	th_sshd_require();
	if (access("/usr/bin/s6-svscan", X_OK))
		cr_skip_test("s6 is needed (run scripts/deps)");
	sb = th_sandbox();
	th_netns_up(&tb, HOSTS + 1);
	for (int i = 0; i < HOSTS; i++) {
		th_netns_host(&hs[i], &tb, sb, i);
		/* a run host's router answers at its address, which exists only inside the bed */
		th_netns_env(&ev[i], &hs[i], i ? tb.addr[i] : "127.0.0.1");
		sshd[i] = run[i] = -1;
		if (i == 0)
			continue;
		sshd[i] = th_netns_agent_sshd(&tb, i, ev[i].sshdir, hs[i].dir);
		run[i] = th_netns_server_run(tb.ns[i], hs[i].root, ev[i].env, hs[i].log);
	}
}

static void teardown(void)
{
	th_swift_stop(&swift);
	memset(&swift, 0, sizeof(swift));
	th_netns_down(&tb); /* every process in the namespaces with them */
	for (int i = 0; i < HOSTS; i++) {
		th_netns_env_free(&ev[i]);
		th_netns_host_free(&hs[i]);
	}
	if (sb)
		th_sandbox_free(sb);
	sb = NULL;
}

TestSuite(hosts, .init = setup, .fini = teardown, .timeout = 360);

/* argv run on host i (inside its namespace, with its environment). */
static struct th_result on(int i, const char *const *argv)
{
	return th_netns_run(tb.ns[i], hs[i].dir, ev[i].env, NULL, argv);
}
#define SW(i, ...) on(i, (const char *const[]){ SLIPWAY_BIN, __VA_ARGS__, NULL })

#define OK(i, ...) th_netns_ok_at(TH_AT, SW(i, __VA_ARGS__))

/* Asserts a refusal of r: status, one line on stderr holding want, nothing on stdout. */
#define REFUSED(r, ...) th_netns_refused_at(TH_AT, &(r), __VA_ARGS__)

/* s with each run of spaces made one. */
static char *squeeze(const char *s)
{
	char *out = xstrdup(s), *w = out;
	for (const char *p = s; *p; p++)
		if (*p != ' ' || w == out || w[-1] != ' ')
			*w++ = *p;
	*w = '\0';
	return out;
}

/* What `hosts` on the control lists, spaces squeezed. */
static char *hosts_list(void)
{
	char *out = OK(0, "hosts"), *s = squeeze(out);
	free(out);
	return s;
}

/* Asserts the control recorded nothing: no host but local, no list, no host key learnt. */
static void nothing_recorded_at(struct th_at at)
{
	char *list = hosts_list();
	char *want = th_path("=== Hosts\nlocal this server up %s\nNo run hosts yet.", "0.1.0");
	cr_assert(!strncmp(list, want, strlen(want)), "at %s:%d: %s", at.file, at.line, list);
	char *file = th_path("%s/hosts/hosts", hs[0].root);
	char *kh = th_path("%s/hosts/known_hosts", hs[0].root);
	cr_assert(access(file, F_OK) && access(kh, F_OK), "at %s:%d: %s or %s exists", at.file,
		  at.line, file, kh);
	free(kh);
	free(file);
	free(want);
	free(list);
}
#define NOTHING_RECORDED() nothing_recorded_at(TH_AT)

/* The key a refused hosts:add says to allow (malloc'ed). */
static char *key_to_allow(const struct th_result *r)
{
	const char *p = strstr(r->err, ALLOW);
	cr_assert(p, "%s", r->err);
	p += strlen(ALLOW);
	return xstrndup(p, strcspn(p, "'"));
}

/* hosts:add of host i, refused as untrusted; then hosts:allow of the key it names there. */
static void allow_control_on(int i)
{
	struct th_result r = SW(0, "hosts:add", "tmp", hs[i].url);
	char *key = key_to_allow(&r);
	th_result_free(&r);
	free(OK(i, "hosts:allow", key));
	free(key);
}

/* The control's public key line. */
static char *control_key(void)
{
	char *p = th_path("%s/hosts/id_ed25519.pub", hs[0].root), *k = th_read(p, NULL);
	cr_assert(k, "no %s", p);
	k[strcspn(k, "\n")] = '\0';
	free(p);
	return k;
}

/* Host i's authorized_keys becomes text. */
static void authorize(int i, const char *text)
{
	char *p = th_path("%s/authorized_keys", ev[i].sshdir);
	th_write(p, text, 0600);
	free(p);
}

/*
 * Host i's authorized_keys forces the control's key to a script that
 * answers hello as an agent of version, clock_offset_s seconds off.
 */
static void force_other_agent(int i, const char *version, long clock_offset_s)
{
	char *script = th_path("%s/other-agent", hs[i].dir);
	char *text = th_path("#!/bin/sh\nprintf '{\"slipway\":\"%s\",\"clock_ms\":%%s,"
			     "\"request\":\"hello\"}\\n' \"$(( ($(date +%%s) + %ld) * 1000 ))\"\n",
			     version, clock_offset_s);
	th_write(script, text, 0755);
	char *key = control_key(), *line = th_path("restrict,command=\"%s\" %s\n", script, key);
	authorize(i, line);
	free(line);
	free(key);
	free(text);
	free(script);
}

/* ssh from the control to host i with the control's key, running command with input on stdin. */
static struct th_result control_ssh_in(int i, const char *command, const char *input)
{
	char *key = th_path("%s/hosts/id_ed25519", hs[0].root), *login = th_path("root@%s", tb.addr[i]);
	struct th_result r = th_netns_ssh(tb.ns[0], hs[0].dir, ev[0].env, key, login, command, input);
	free(login);
	free(key);
	return r;
}

static struct th_result control_ssh(int i, const char *command)
{
	return control_ssh_in(i, command, NULL);
}

Test(hosts, a_host_joins_once_it_trusts_the_control_key_and_is_listed)
{
	/* h1 trusts no key yet: refused with what to run there, nothing recorded */
	struct th_result r = SW(0, "hosts:add", "h1", hs[1].url);
	char *hint = th_path("root@%s does not trust this server's key yet: " ALLOW "ssh-ed25519 ",
			     tb.addr[1]);
	REFUSED(r, 1, hint);
	free(hint);
	NOTHING_RECORDED();

	/* the line run on h1, as printed: then it joins */
	char *key = key_to_allow(&r);
	th_result_free(&r);
	char *out = OK(1, "hosts:allow", key);
	cr_assert(!strncmp(out, "Trusting the control key SHA256:", 32), "%s", out);
	cr_assert(strstr(out, "to run the node agent... done\n"), "%s", out);
	free(out);
	out = OK(0, "hosts:add", "h1", hs[1].url);
	char *want = th_path("Adding host h1 at %s... done, slipway 0.1.0\n", hs[1].url);
	cr_assert_str_eq(out, want);
	free(want);
	free(out);
	char *list = hosts_list();
	want = th_path("=== Hosts\nlocal this server up 0.1.0\nh1 %s up 0.1.0\n", hs[1].url);
	cr_assert_str_eq(list, want);
	free(want);
	free(list);

	/* allowed twice: one line still */
	out = OK(1, "hosts:allow", key);
	cr_assert(strstr(out, "... done, it was already\n"), "%s", out);
	free(out);
	char *p = th_path("%s/authorized_keys", ev[1].sshdir), *keys = th_read(p, NULL);
	cr_assert_eq(th_count(keys, "node-agent"), 1, "%s", keys);
	free(keys);
	free(p);

	/* h2 does not trust the key: refused, h1 alone is listed; h1 again: refused */
	r = SW(0, "hosts:add", "h2", hs[2].url);
	REFUSED(r, 1, ALLOW);
	th_result_free(&r);
	r = SW(0, "hosts:add", "h1", hs[1].url);
	REFUSED(r, 1, "there is already a host 'h1'");
	th_result_free(&r);
	list = hosts_list();
	cr_assert(strstr(list, "\nh1 "), "%s", list);
	cr_assert_null(strstr(list, "h2"), "%s", list);
	free(list);

	/* h1's sshd gone: listed as unreachable, with the version it joined with */
	th_sshd_stop(&sshd[1]);
	list = hosts_list();
	want = th_path("\nh1 %s unreachable 0.1.0\n", hs[1].url);
	cr_assert(strstr(list, want), "%s", list);
	free(want);
	free(list);
	free(key);
}

Test(hosts, a_host_of_another_version_or_clock_is_refused)
{
	allow_control_on(2); /* makes the control's key */
	/* h2's login shell (bash, run by sshd) prints a line before every answer */
	char *rc = th_path("%s/.bashrc", hs[2].dir);
	th_write(rc, "echo 'Welcome to h2'\n", 0644);
	struct th_result r = SW(0, "hosts:add", "h2", hs[2].url);
	char *want = th_path("root@%s printed 'Welcome to h2' before the node agent's answer: the "
			     "start-up files of root's login shell there must print nothing",
			     tb.addr[2]);
	REFUSED(r, 1, want);
	th_result_free(&r);
	free(want);
	NOTHING_RECORDED();
	cr_assert_eq(unlink(rc), 0);
	free(rc);

	force_other_agent(2, "9.9.9", 0);
	r = SW(0, "hosts:add", "h2", hs[2].url);
	REFUSED(r, 1, "host 'h2' runs slipway 9.9.9, this server 0.1.0: install the same version");
	th_result_free(&r);
	NOTHING_RECORDED();

	force_other_agent(2, "0.1.0", -3600);
	r = SW(0, "hosts:add", "h2", hs[2].url);
	REFUSED(r, 1, "host 'h2' has a clock 3"); /* 3599.x s: its clock ticks in seconds */
	cr_assert(strstr(r.err, " s behind this server's (at most 5 s): synchronise both (NTP)\n"),
		  "%s", r.err);
	th_result_free(&r);
	NOTHING_RECORDED();

	/* the control run: the same script answering this version and clock joins, its shell silent */
	force_other_agent(2, "0.1.0", 0);
	free(OK(0, "hosts:add", "h2", hs[2].url));
	char *list = hosts_list();
	cr_assert(strstr(list, "\nh2 "), "%s", list);
	free(list);
}

Test(hosts, a_removed_host_is_listed_no_more_and_its_host_key_forgotten)
{
	allow_control_on(1);
	allow_control_on(2);
	free(OK(0, "hosts:add", "h1", hs[1].url));
	free(OK(0, "hosts:add", "h2", hs[2].url));
	char *kh = th_path("%s/hosts/known_hosts", hs[0].root), *keys = th_read(kh, NULL);
	cr_assert(strstr(keys, tb.addr[1]) && strstr(keys, tb.addr[2]), "%s", keys);
	free(keys);
	char *out = OK(0, "hosts:remove", "h1");
	cr_assert_str_eq(out, "Removing host h1... done\n");
	free(out);
	char *list = hosts_list();
	cr_assert_null(strstr(list, "h1"), "%s", list);
	cr_assert(strstr(list, "\nh2 "), "%s", list);
	free(list);
	/* its host key is forgotten, h2's kept */
	keys = th_read(kh, NULL);
	cr_assert(!strstr(keys, tb.addr[1]) && strstr(keys, tb.addr[2]), "%s", keys);
	free(keys);
	free(kh);
	struct th_result r = SW(0, "hosts:remove", "h1");
	REFUSED(r, 1, "there is no host 'h1' (see: slipway hosts)");
	th_result_free(&r);
	/* and it joins again */
	free(OK(0, "hosts:add", "h1", hs[1].url));
}

Test(hosts, the_control_key_runs_the_node_agent_and_no_shell)
{
	allow_control_on(1);
	struct th_result r = control_ssh(1, "ping");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(!strncmp(r.out, "{\"slipway\":\"0.1.0\",\"clock_ms\":", 29), "%s", r.out);
	th_result_free(&r);
	r = control_ssh(1, "bash -c id");
	REFUSED(r, 2, "the node agent does not answer 'bash': it answers hello, ping, slug, "
		   "slug-s3, apply, state and logs");
	th_result_free(&r);

	/* the control run: the same key without the forced command gets a shell */
	char *key = control_key(), *line = th_path("%s\n", key);
	authorize(1, line);
	r = control_ssh(1, "bash -c id");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "uid=0("), "%s", r.out);
	th_result_free(&r);
	free(line);
	free(key);
}

/*
 * The app the control pushes: web answers "greeting $GREETING" from a page it writes,
 * once it has kept FILL_MB megabytes in its /tmp (none unless set).
 */
#define APP "shop"
static const char procfile[] =
	"web: dd if=/dev/zero of=/tmp/fill bs=1M count=${FILL_MB:-0} 2>/dev/null && "
	"mkdir -p /tmp/site && echo \"greeting $GREETING\" > /tmp/site/index.html && "
	"cd /tmp/site && exec python3 -m http.server $PORT\n";

/* git argv run in the control's namespace, in its working tree, asserted. */
static void git_at(struct th_at at, const char *src, const char *const *argv)
{
	struct th_result r = th_netns_run(tb.ns[0], src, ev[0].env, NULL, argv);
	cr_assert_eq(r.status, 0, "at %s:%d: %s: exit %d\n%s%s", at.file, at.line, argv[1],
		     r.status, r.out, r.err);
	th_result_free(&r);
}
#define GIT(src, ...) git_at(TH_AT, src, (const char *const[]){ "git", __VA_ARGS__, NULL })

/*
 * The control makes APP, sets its hosts (apps:hosts:set) and pushes its
 * first release (v1), which goes to those hosts by itself.
 */
static void push_app(const char *hosts)
{
	char *src = th_path("%s/src", hs[0].dir), *file = th_path("%s/Procfile", src);
	char *repo = th_path("%s/apps/%s.git", hs[0].root, APP);
	cr_assert_eq(mkdir(src, 0700), 0);
	th_write(file, procfile, 0644);
	free(OK(0, "apps:create", APP));
	free(OK(0, "apps:hosts:set", hosts, "-a", APP));
	GIT(src, "init", "-q", "-b", "main");
	GIT(src, "add", "Procfile");
	GIT(src, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "v1");
	GIT(src, "push", "-q", repo, "main");
	free(repo);
	free(file);
	free(src);
}

/* The page host i's router serves for APP, curl'ed from the control ("" for none). */
static char *page_on(int i)
{
	char *u = th_path("http://%s:8080/", tb.addr[i]);
	const char *argv[] = { "curl", "-sS", "--max-time", "10", "-H", "Host: " APP ".localhost",
			       u, NULL };
	struct th_result r = on(0, argv);
	free(u);
	free(r.err);
	return r.out;
}

/* The instance lines of hosts:apply's output, pids and all (after its first line). */
static const char *instances_of(const char *out)
{
	const char *nl = strchr(out, '\n');
	cr_assert(nl, "%s", out);
	return nl + 1;
}

/* 1 when host i's slug store holds hex. */
static int stored_on(int i, const char *hex)
{
	char *p = th_path("%s/store/sha256/%.2s/%s.tar.zst", hs[i].root, hex, hex + 2);
	int yes = access(p, F_OK) == 0;
	free(p);
	return yes;
}

Test(hosts, the_control_makes_a_host_run_its_release_through_the_node_agent)
{
	allow_control_on(1);
	free(OK(0, "hosts:add", "h1", hs[1].url));
	/* the app's releases stay on the control: h1 runs what is applied to it */
	push_app("local");

	/* v1 applied: the slug travels, h1 makes the app, starts it and its router serves it */
	char *out = OK(0, "hosts:apply", "h1", "-a", APP);
	cr_assert(!strncmp(out, "Applying shop's current release to h1... done, v1 runs there\n",
			   61), "%s", out);
	cr_assert(strstr(out, "shop.v1-") && strstr(out, ".web.1  up  127.0.0.1:"), "%s", out);
	cr_assert(strstr(out, "  gate passed\n"), "%s", out);
	char *page = page_on(1);
	cr_assert_str_eq(page, "greeting \n");
	free(page);

	/* the same document again: nothing changes, the same instance with the same pid */
	char *again = OK(0, "hosts:apply", "h1", "-a", APP);
	cr_assert(strstr(again, "done, v1 runs there already (nothing changed)\n"), "%s", again);
	cr_assert_str_eq(instances_of(again), instances_of(out));
	free(again);
	free(out);

	/* a config change on the control is v2; applied, h1 serves it */
	free(OK(0, "config:set", "GREETING=two", "-a", APP));
	out = OK(0, "hosts:apply", "h1", "-a", APP);
	cr_assert(strstr(out, "done, v2 runs there\n"), "%s", out);
	page = page_on(1);
	cr_assert_str_eq(page, "greeting two\n");
	free(page);
	free(out);

	/* h1 says the same when asked for its state */
	struct th_result r = control_ssh(1, "state " APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "\"app\":\"shop\",\"version\":2,"), "%s", r.out);
	th_result_free(&r);
}

Test(hosts, the_node_agent_stores_a_slug_only_when_its_bytes_are_its_name)
{
	allow_control_on(1);
	char real[CAS_HEX_LEN + 1], other[CAS_HEX_LEN + 1];
	const char *bytes = "the bytes of a slug\n";
	cr_assert_eq(cas_hash_data(bytes, strlen(bytes), real), 0);
	cr_assert_eq(cas_hash_data("x", 1, other), 0);

	/* bytes that are not what the name says: refused, nothing stored */
	char *req = th_path("slug %s", other);
	struct th_result r = control_ssh_in(1, req, bytes);
	char *want = th_path("the slug sent is corrupt: its bytes hash to %.12s... "
			     "(nothing was stored)", real);
	REFUSED(r, 2, want);
	th_result_free(&r);
	cr_assert(!stored_on(1, other) && !stored_on(1, real));
	free(want);
	free(req);

	/* the control run: the same bytes under their own name are stored, once */
	req = th_path("slug %s", real);
	r = control_ssh_in(1, req, bytes);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "\"stored\":true,\"size\":20}"), "%s", r.out);
	th_result_free(&r);
	cr_assert(stored_on(1, real));
	r = control_ssh_in(1, req, "");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "\"stored\":false,\"size\":20}"), "%s", r.out);
	th_result_free(&r);
	free(req);

	/* hosts:apply of an app with nothing deployed, or to a host not joined: refused */
	free(OK(0, "hosts:add", "h1", hs[1].url));
	free(OK(0, "apps:create", APP));
	r = SW(0, "hosts:apply", "h1", "-a", APP);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "Applying shop's current release to h1... failed\n");
	cr_assert_str_eq(r.err, " !    shop has no release with code to run yet (deploy it first)\n");
	th_result_free(&r);
	r = SW(0, "hosts:apply", "h9", "-a", APP);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "h9") && !strchr(r.err, '\n')[1], "%s", r.err);
	th_result_free(&r);
	char *made = th_path("%s/apps/%s.git", hs[1].root, APP);
	cr_assert_neq(access(made, F_OK), 0, "%s was made", made);
	free(made);

	/* a desired state naming a slug h1 lacks: refused, no app made there */
	char *doc = th_path("{\"app\":\"ghost\",\"version\":1,\"slug\":\"%s\",\"phase\":\"switch\","
			    "\"process.web\":\"sleep 600\",\"instances.web\":1}", other);
	r = control_ssh_in(1, "apply", doc);
	want = th_path("this host has no slug %s: send it first", other);
	REFUSED(r, 1, want);
	th_result_free(&r);
	char *ghost = th_path("%s/apps/ghost.git", hs[1].root);
	cr_assert_neq(access(ghost, F_OK), 0, "%s was made", ghost);
	free(ghost);
	free(want);
	free(doc);
}

/* Host i's state of APP, as its node agent answers it. */
static char *state_on(int i)
{
	struct th_result r = control_ssh(i, "state " APP);
	cr_assert_eq(r.status, 0, "%s", r.err);
	free(r.err);
	return r.out;
}

/* The "instances" member of an agent's answer (malloc'ed). */
static char *instances_in(const char *answer)
{
	const char *p = strstr(answer, "\"instances\":\"");
	cr_assert(p, "%s", answer);
	p += strlen("\"instances\":\"");
	return xstrndup(p, strcspn(p, "\""));
}

Test(hosts, a_release_goes_live_on_every_host_or_on_none)
{
	allow_control_on(1);
	allow_control_on(2);
	free(OK(0, "hosts:add", "h1", hs[1].url));
	free(OK(0, "hosts:add", "h2", hs[2].url));
	/* v1 goes to h1 and h2 by itself; web=2 spreads one instance to each */
	push_app("h1,h2");
	free(OK(0, "ps:scale", "web=2", "-a", APP));

	/* no host named: the app's hosts take v1 again */
	char *out = OK(0, "hosts:apply", "h1", "h2", "-a", APP);
	const char *first = "Applying shop's current release to h1, h2... done, v1 runs on h1, h2\n";
	cr_assert(!strncmp(out, first, strlen(first)), "%s", out);
	/* each its one instance (ps:scale gave h2 its one in place: no release of its own) */
	cr_assert(strstr(out, "\nh1  shop.v1-1.web.1  up  ") && strstr(out, "\nh2  shop.v1-1.web.1  up  "),
		  "%s", out);
	free(out);
	for (int i = 1; i <= 2; i++) {
		char *page = page_on(i);
		cr_assert_str_eq(page, "greeting \n", "h%d", i);
		free(page);
	}
	char *state = state_on(1), *before = instances_in(state);
	free(state);

	/* h2's operator gives the app's /tmp 8M there: a v2 keeping 16M fails its gate on h2 only */
	const char *tmp[] = { "git", "config", "--file", NULL, "slipway.tmpSize", "8M", NULL };
	char *config = th_path("%s/apps/%s.git/config", hs[2].root, APP);
	tmp[3] = config;
	free(th_netns_ok_at(TH_AT, on(2, tmp)));
	/* and waits 5 s, not 60, for an instance to serve: v2 fails there once they are over */
	const char *boot[] = { "git", "config", "--file", config, "slipway.bootTimeout", "5", NULL };
	free(th_netns_ok_at(TH_AT, on(2, boot)));
	struct th_result r = SW(0, "config:set", "GREETING=two", "FILL_MB=16", "-a", APP);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "Releasing v2 to h1, h2... failed\n"), "%s", r.out);
	const char *h2 = strstr(r.out, "h2: "), *nl = h2 ? strchr(h2, '\n') : NULL;
	cr_assert(h2 && nl && strstr(h2, ": web.1 did not ") < nl, "not one line: %s", r.out);
	th_result_free(&r);
	/* both hosts serve v1 still, and h1 runs what it ran: v2's instances are gone */
	for (int i = 1; i <= 2; i++) {
		char *page = page_on(i);
		cr_assert_str_eq(page, "greeting \n", "h%d", i);
		free(page);
	}
	state = state_on(1);
	char *after = instances_in(state);
	cr_assert_str_eq(after, before, "%s", state);
	cr_assert(strstr(state, "\"version\":1,"), "%s", state);
	free(after);
	free(state);
	/* h1's own release of v2 failed, saying which host did not take it and why */
	char *why = OK(1, "releases:output", "v2", "-a", APP);
	cr_assert(strstr(why, "h2: ") && strstr(why, "web.1 did not "), "%s", why);
	free(why);
	state = state_on(2);
	cr_assert(strstr(state, "\"version\":1,"), "%s", state);
	free(state);

	/* v1 applied again: nothing changes anywhere */
	out = OK(0, "hosts:apply", "h1", "h2", "-a", APP);
	cr_assert(strstr(out, "done, v1 runs on h1, h2\n"), "%s", out);
	free(out);
	state = state_on(1);
	after = instances_in(state);
	cr_assert_str_eq(after, before, "%s", state);
	free(after);
	free(state);

	/* v3 keeps nothing in /tmp: it passes everywhere (h2 waits 60 s again), and both serve it */
	const char *unset[] = { "git", "config", "--file", config, "--unset", "slipway.bootTimeout",
				NULL };
	free(th_netns_ok_at(TH_AT, on(2, unset)));
	free(config);
	free(OK(0, "config:set", "FILL_MB=0", "-a", APP));
	out = OK(0, "hosts:apply", "h1", "h2", "-a", APP);
	cr_assert(strstr(out, "done, v3 runs on h1, h2\n"), "%s", out);
	free(out);
	for (int i = 1; i <= 2; i++) {
		char *page = page_on(i);
		cr_assert_str_eq(page, "greeting two\n", "h%d", i);
		free(page);
	}
	free(before);
}

/* The SHA-256 of the one slug host i's store holds (malloc'ed). */
static char *the_slug_on(int i)
{
	char *cmd = th_path("ls %s/store/sha256/*/ | head -n 1", hs[i].root);
	const char *argv[] = { "sh", "-c", cmd, NULL };
	char *out = th_netns_ok_at(TH_AT, on(i, argv));
	char *dirp = th_path("%s/store/sha256", hs[i].root);
	const char *argv2[] = { "ls", dirp, NULL };
	char *two = th_netns_ok_at(TH_AT, on(i, argv2));
	char *hex = th_path("%.2s%.62s", two, out);
	free(two);
	free(dirp);
	free(out);
	free(cmd);
	return hex;
}

/* A desired state of APP on host i's slug: web serves word, in phase, held hold_s seconds. */
static char *document(int i, int version, const char *word, const char *phase, int hold_s)
{
	char *hex = the_slug_on(i);
	char *doc = th_path("{\"app\":\"" APP "\",\"version\":%d,\"slug\":\"%s\",\"phase\":\"%s\","
			    "\"hold_s\":%d,\"process.web\":\"mkdir -p /tmp/w && cd /tmp/w && "
			    "echo %s > index.html && exec python3 -m http.server $PORT\","
			    "\"instances.web\":1}", version, hex, phase, hold_s, word);
	free(hex);
	return doc;
}

static char *apply_on(int i, const char *doc)
{
	struct th_result r = control_ssh_in(i, "apply", doc);
	cr_assert_eq(r.status, 0, "%s", r.err);
	free(r.err);
	return r.out;
}

Test(hosts, a_prepared_release_waits_for_its_switch_until_its_deadline)
{
	allow_control_on(1);
	free(OK(0, "hosts:add", "h1", hs[1].url));
	push_app("local");
	free(OK(0, "hosts:apply", "h1", "-a", APP));
	char *state = state_on(1), *v1 = instances_in(state);
	free(state);

	/* prepared: a second instance up and gated beside v1's, which serves on */
	char *doc = document(1, 7, "held", "prepare", 600);
	char *out = apply_on(1, doc), *both = instances_in(out);
	cr_assert(strstr(out, "\"changed\":true"), "%s", out);
	cr_assert(strstr(both, v1) && strlen(both) > strlen(v1), "%s", out);
	free(out);
	char *page = page_on(1);
	cr_assert_str_eq(page, "greeting \n");
	free(page);
	/* again: nothing changes; a repair spares it, as its deadline has not passed */
	out = apply_on(1, doc);
	cr_assert(strstr(out, "\"changed\":false"), "%s", out);
	free(out);
	free(OK(1, "fsck", "--repair", "-a", APP));
	state = state_on(1);
	char *now = instances_in(state);
	cr_assert_str_eq(now, both, "%s", state);
	free(now);
	free(state);
	free(doc);

	/* the switch makes it live; the old instance goes */
	doc = document(1, 7, "held", "switch", 600);
	out = apply_on(1, doc);
	cr_assert(strstr(out, "\"version\":7,"), "%s", out);
	free(out);
	page = page_on(1);
	cr_assert_str_eq(page, "held\n");
	free(page);
	free(doc);

	/* prepared with a deadline 1 s away, and no switch comes: recovery fails it */
	doc = document(1, 8, "gone", "prepare", 1);
	free(apply_on(1, doc));
	free(doc);
	sleep(2); /* past the deadline (a wait, not a measure) */
	out = OK(1, "fsck", "--repair", "-a", APP);
	cr_assert(strstr(out, "was prepared but never switched: it failed"), "%s", out);
	free(out);
	/* h1's third release was the abandoned one: nothing of it runs */
	state = state_on(1);
	cr_assert(!strstr(state, "shop.v3-") && strstr(state, "\"version\":7,"), "%s", state);
	free(state);
	page = page_on(1);
	cr_assert_str_eq(page, "held\n");
	free(page);
	out = OK(1, "releases:output", "v3", "-a", APP);
	cr_assert(strstr(out, "prepared but neither switched nor aborted before its deadline"),
		  "%s", out);
	free(out);
	free(both);
	free(v1);
}

Test(hosts, the_teardown_leaves_no_namespace_and_no_process)
{
	char *names[HOSTS + 1];
	names[0] = xstrdup(tb.bridge);
	for (int i = 0; i < HOSTS; i++)
		names[i + 1] = xstrdup(tb.ns[i]);
	for (int i = 1; i < HOSTS; i++)
		cr_assert(th_pid_alive(sshd[i]) && th_pid_alive(run[i]));
	th_netns_down(&tb);
	char *list = th_netns_list();
	for (int i = 0; i <= HOSTS; i++) {
		cr_assert_null(strstr(list, names[i]), "%s is left:\n%s", names[i], list);
		free(names[i]);
	}
	for (int i = 1; i < HOSTS; i++)
		cr_assert(!th_pid_alive(sshd[i]) && !th_pid_alive(run[i]),
			  "host %d's sshd or server:run is left", i);
	struct buf left = BUF_INIT;
	for (int i = 1; i < HOSTS; i++)
		cr_assert_eq(th_processes_with(hs[i].root), 0, "processes of %s are left", hs[i].root);
	buf_release(&left);
	free(list);
}

/* The S3 store in the bed's namespace of its own, and the control's settings for it. */
static void s3_store_up(void)
{
	th_swift_require();
	char *dir = th_path("%s/s3", sb), *secret = th_path("%s/s3-secret", hs[0].dir);
	th_swift_start_in(&swift, dir, tb.ns[STORE], tb.addr[STORE]);
	th_write(secret, TH_SWIFT_SECRET "\n", 0600);
	const char *set[][2] = { { "slipway.s3Endpoint", swift.endpoint },
				 { "slipway.s3Bucket", TH_SWIFT_BUCKET },
				 { "slipway.s3AccessKeyId", TH_SWIFT_KEY_ID },
				 { "slipway.s3SecretFile", secret } };
	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
		const char *argv[] = { "git", "config", "--global", set[i][0], set[i][1], NULL };
		free(th_netns_ok_at(TH_AT, on(0, argv)));
	}
	free(secret);
	free(dir);
}

/*
 * h1 and h2 join the control, which pushes APP's v1; its releases stay on
 * the control, so that only hosts:apply h1 h2 sends them (and the test
 * chooses when the slug travels).
 */
static void two_hosts_and_v1(void)
{
	allow_control_on(1);
	allow_control_on(2);
	free(OK(0, "hosts:add", "h1", hs[1].url));
	free(OK(0, "hosts:add", "h2", hs[2].url));
	push_app("local");
}

/* The control pushes v2, whose web answers "v2 $GREETING": a slug of its own. */
static void push_v2(void)
{
	char *src = th_path("%s/src", hs[0].dir), *file = th_path("%s/Procfile", src);
	char *repo = th_path("%s/apps/%s.git", hs[0].root, APP);
	th_write(file, "web: mkdir -p /tmp/site && echo \"v2 $GREETING\" > /tmp/site/index.html && "
		       "cd /tmp/site && exec python3 -m http.server $PORT\n", 0644);
	GIT(src, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "v2");
	GIT(src, "push", "-q", repo, "main");
	free(repo);
	free(file);
	free(src);
}

static int add_hex(const char *hex, uint64_t size, void *ctx)
{
	(void)size;
	strvec_push(ctx, hex);
	return 0;
}

/* The slug of the control's store that is not but (NULL: its only one), malloc'ed. */
static char *control_slug_but(const char *but)
{
	struct strvec all = STRVEC_INIT;
	cr_assert_eq(cas_foreach(hs[0].root, add_hex, &all), 0);
	cr_assert_eq(all.n, but ? 2u : 1u, "the control's store holds %zu slugs", all.n);
	char *hex = xstrdup(all.v[but && !strcmp(all.v[0], but) ? 1 : 0]);
	strvec_clear(&all);
	return hex;
}

/* Asserts host i serves page, runs version of APP and has no slug hex nor a temp file. */
static void serves_without_at(struct th_at at, int i, const char *page, int version,
			      const char *hex)
{
	char *got = page_on(i), *state = state_on(i);
	char *v = th_path("\"version\":%d,", version);
	char *tmp = th_path("%s/store/tmp", hs[i].root);
	cr_assert_str_eq(got, page, "at %s:%d: h%d", at.file, at.line, i);
	cr_assert(strstr(state, v), "at %s:%d: h%d: %s", at.file, at.line, i, state);
	cr_assert(!hex || !stored_on(i, hex), "at %s:%d: h%d stored %s", at.file, at.line, i, hex);
	cr_assert_eq(th_entries(tmp), 0, "at %s:%d: a temp file is left in %s", at.file, at.line, tmp);
	free(tmp);
	free(v);
	free(state);
	free(got);
}
#define SERVES_WITHOUT(...) serves_without_at(TH_AT, __VA_ARGS__)

Test(hosts, with_s3_the_run_hosts_fetch_the_slug_themselves_not_over_ssh)
{
	s3_store_up();
	two_hosts_and_v1();
	/* the control keeps no bytes it could send over ssh: only the bucket has the slug */
	char *hex = control_slug_but(NULL), *path = cas_path(hs[0].root, hex);
	cr_assert_eq(unlink(path), 0);

	char *out = OK(0, "hosts:apply", "h1", "h2", "-a", APP);
	cr_assert(strstr(out, "done, v1 runs on h1, h2\n"), "%s", out);
	for (int i = 1; i <= 2; i++) {
		cr_assert(stored_on(i, hex), "h%d has no slug %s", i, hex);
		SERVES_WITHOUT(i, "greeting \n", 1, NULL);
	}
	free(out);
	free(path);
	free(hex);
}

/* The S3 store up, v1 live on h1 and h2, then v2 pushed: v2's slug (malloc'ed). */
static char *v1_live_then_v2(void)
{
	s3_store_up();
	two_hosts_and_v1();
	free(OK(0, "hosts:apply", "h1", "h2", "-a", APP));
	char *v1 = control_slug_but(NULL);
	push_v2();
	char *v2 = control_slug_but(v1);
	free(v1);
	return v2;
}

/* hosts:apply of APP to h1 and h2 fails: "... failed", one line naming h1 and holding want. */
static void apply_fails_at(struct th_at at, const char *want)
{
	struct th_result r = SW(0, "hosts:apply", "h1", "h2", "-a", APP);
	cr_assert_eq(r.status, 1, "at %s:%d: %s%s", at.file, at.line, r.out, r.err);
	cr_assert(strstr(r.out, "... failed\n"), "at %s:%d: %s", at.file, at.line, r.out);
	const char *nl = strchr(r.err, '\n');
	cr_assert(nl && !nl[1], "at %s:%d: not one line: %s", at.file, at.line, r.err);
	cr_assert(strstr(r.err, "h1: ") && strstr(r.err, want), "at %s:%d: no '%s' in: %s",
		  at.file, at.line, want, r.err);
	th_result_free(&r);
}
#define APPLY_FAILS(want) apply_fails_at(TH_AT, want)

Test(hosts, a_slug_changed_in_s3_is_refused_by_every_host_and_v1_serves_on)
{
	char *v2 = v1_live_then_v2();

	/* someone who may write to the bucket puts other bytes under v2's name */
	const char *evil = "evil bytes";
	char evil_hex[CAS_HEX_LEN + 1];
	cr_assert_eq(cas_hash_data(evil, strlen(evil), evil_hex), 0);
	char *file = th_path("%s/evil", sb);
	char *url = th_path("%s/" TH_SWIFT_BUCKET "/slipway/slugs/%s.tar.zst", swift.endpoint, v2);
	th_write(file, evil, 0644);
	int status = 0;
	free(th_swift_curl(&swift, &status, evil_hex, "-T", file, url, NULL));
	cr_assert_eq(status, 200);

	char *want = th_path("cannot fetch slug %.12s... from S3 at %s/" TH_SWIFT_BUCKET ": its "
			     "object is corrupt: its bytes hash to %.12s... (nothing was stored)",
			     v2, swift.endpoint, evil_hex);
	APPLY_FAILS(want);
	for (int i = 1; i <= 2; i++)
		SERVES_WITHOUT(i, "greeting \n", 1, v2);

	/* the control run: the slug's own bytes back in the bucket, v2 goes live everywhere */
	char *real = cas_path(hs[0].root, v2);
	free(th_swift_curl(&swift, &status, v2, "-T", real, url, NULL));
	cr_assert_eq(status, 200);
	char *out = OK(0, "hosts:apply", "h1", "h2", "-a", APP);
	cr_assert(strstr(out, "done, v2 runs on h1, h2\n"), "%s", out);
	for (int i = 1; i <= 2; i++)
		SERVES_WITHOUT(i, "v2 \n", 2, NULL);
	free(out);
	free(real);
	free(want);
	free(url);
	free(file);
	free(v2);
}

Test(hosts, a_stopped_s3_store_refuses_the_apply_before_any_host_switches)
{
	char *v2 = v1_live_then_v2();

	th_swift_stop_proxy(&swift);
	char *want = th_path("cannot fetch slug %.12s... from S3 at %s/" TH_SWIFT_BUCKET ": S3 "
			     "endpoint '%s' is unreachable: ", v2, swift.endpoint, swift.endpoint);
	APPLY_FAILS(want);
	for (int i = 1; i <= 2; i++)
		SERVES_WITHOUT(i, "greeting \n", 1, v2);
	free(want);
	free(v2);
}
