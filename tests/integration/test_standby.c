/*
 * The ledger mirrored to a standby control, and its promotion, across
 * network namespaces (netns.h): a control and a standby, each with a root
 * of its own, the standby with a real sshd.  The standby allows the
 * control's key with hosts:allow --standby; each release on the control
 * sends the app's slugs and ledger there (same releases, fsck clean); the
 * standby refuses pushes and releases until server:promote, after which
 * pushes to it go on from the next version; the old control is then fenced
 * (its next release refused, nothing recorded), and the standby's gate
 * refuses its mirror push by epoch.  A control run: the same mirror push
 * without the gate overwrites the new writer's release.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"
#include "tests/integration/netns.h"
#include "tests/integration/sshd.h"
#include "store/cas.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOSTS 2 /* 0: the control; 1: its standby */
#define APP "shop"
#define ALLOW "run on it as its operator: slipway hosts:allow '"

static struct th_netns tb;
static char *sb, *standby_url;
static struct th_netns_host hs[HOSTS];
static char *sshdir[HOSTS], *src[HOSTS], *repo[HOSTS];
static char *kv[HOSTS][4];
static const char *env[HOSTS][13];
static pid_t sshd = -1;

static void setup(void)
{
	th_netns_require();
	th_sshd_require();
	sb = th_sandbox();
	th_netns_up(&tb, HOSTS);
	standby_url = th_path("ssh://root@%s", tb.addr[1]);
	for (int i = 0; i < HOSTS; i++) {
		th_netns_host(&hs[i], &tb, sb, i);
		sshdir[i] = th_path("%s/ssh", hs[i].dir);
		src[i] = th_path("%s/src", hs[i].dir);
		repo[i] = th_path("%s/apps/%s.git", hs[i].root, APP);
		cr_assert_eq(mkdir(sshdir[i], 0700), 0);
		kv[i][0] = th_path("SLIPWAY_ROOT=%s", hs[i].root);
		kv[i][1] = th_path("SLIPWAY_AUTHORIZED_KEYS=%s/authorized_keys", sshdir[i]);
		kv[i][2] = th_path("HOME=%s", hs[i].dir);
		kv[i][3] = th_path("SLIPWAY_STANDBY=%s", i == 0 ? standby_url : "");
		const char *e[] = { kv[i][0], kv[i][1], kv[i][2], kv[i][3],
				    "SLIPWAY_USER=alice@example.com", "LC_ALL=C", "TZ=UTC",
				    "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=t",
				    "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
				    "GIT_COMMITTER_EMAIL=t@example.com", NULL };
		memcpy(env[i], e, sizeof(e));
	}
	sshd = th_sshd_start_opts(&(struct th_sshd_opts){
		.dir = sshdir[1], .port = 22, .user = "root", .netns = tb.ns[1],
		.address = tb.addr[1], .config = "PermitRootLogin prohibit-password\n" });
}

static void teardown(void)
{
	th_netns_down(&tb);
	for (int i = 0; i < HOSTS; i++) {
		for (int k = 0; k < 4; k++)
			free(kv[i][k]);
		th_netns_host_free(&hs[i]);
		free(sshdir[i]);
		free(src[i]);
		free(repo[i]);
	}
	free(standby_url);
	if (sb)
		th_sandbox_free(sb);
	sb = NULL;
}

TestSuite(standby, .init = setup, .fini = teardown, .timeout = 180);

/* argv run on host i (inside its namespace, with its environment). */
static struct th_result on(int i, const char *const *argv)
{
	return th_netns_run(tb.ns[i], hs[i].dir, env[i], NULL, argv);
}
#define SW(i, ...) on(i, (const char *const[]){ SLIPWAY_BIN, __VA_ARGS__, NULL })
#define GIT(i, ...) on(i, (const char *const[]){ "git", "-C", src[i], __VA_ARGS__, NULL })

#define OK(r) th_netns_ok_at(TH_AT, (r))

/* Asserts a refusal: status, one line on stderr holding want, nothing on stdout; frees r. */
static void refused_at(struct th_at at, struct th_result r, int status, const char *want)
{
	th_netns_refused_at(at, &r, status, want);
	th_result_free(&r);
}
#define REFUSED(...) refused_at(TH_AT, __VA_ARGS__)

/* The releases of APP on host i, as JSON (malloc'ed). */
static char *releases(int i)
{
	return OK(SW(i, "releases", "-a", APP, "--json"));
}

/* How many releases APP has on host i. */
static int release_count(int i)
{
	char *json = releases(i);
	int n = th_count(json, "\"version\":");
	free(json);
	return n;
}

/* Asserts fsck finds host i's root consistent. */
static void fsck_clean_at(struct th_at at, int i)
{
	char *out = th_netns_ok_at(at, SW(i, "fsck"));
	cr_assert_str_eq(out, "fsck: everything is consistent\n", "at %s:%d", at.file, at.line);
	free(out);
}
#define FSCK_CLEAN(i) fsck_clean_at(TH_AT, i)

/* Asserts the standby holds the control's n releases of APP, the same, and fsck finds it clean. */
static void mirrored_at(struct th_at at, int n)
{
	char *a = th_netns_ok_at(at, SW(0, "releases", "-a", APP, "--json"));
	char *b = th_netns_ok_at(at, SW(1, "releases", "-a", APP, "--json"));
	cr_assert_eq(th_count(a, "\"version\":"), n, "at %s:%d: %s", at.file, at.line, a);
	cr_assert_str_eq(a, b, "at %s:%d", at.file, at.line);
	free(a);
	free(b);
	fsck_clean_at(at, 1);
}
#define MIRRORED(n) mirrored_at(TH_AT, n)

/* A commit of index.txt = content in host i's checkout. */
static void commit(int i, const char *content)
{
	char *f = th_path("%s/index.txt", src[i]);
	th_write(f, content, 0644);
	free(OK(GIT(i, "add", "-A")));
	free(OK(GIT(i, "commit", "-q", "-m", content)));
	free(f);
}

/* git push of the checkout's main to APP on host i (a path there: the push runs its hooks). */
static struct th_result push(int i)
{
	return GIT(i, "push", repo[i], "main");
}

/* The standby allows the control's key (as hosts:add's refusal names it). */
static void allow_standby(void)
{
	struct th_result r = SW(0, "hosts:add", "tmp", standby_url);
	const char *p = strstr(r.err, ALLOW);
	cr_assert(p, "%s", r.err);
	p += strlen(ALLOW);
	char *key = xstrndup(p, strcspn(p, "'"));
	th_result_free(&r);
	char *out = OK(SW(1, "hosts:allow", "--standby", key));
	cr_assert(strstr(out, "to mirror its ledger here, as its standby... done\n"), "%s", out);
	free(out);
	free(key);
}

/* APP created on the control, with a checkout whose main has a Procfile and index.txt. */
static void app_on_control(void)
{
	free(OK(SW(0, "apps:create", APP)));
	cr_assert_eq(mkdir(src[0], 0700), 0);
	free(OK(GIT(0, "init", "-q", "-b", "main")));
	char *pf = th_path("%s/Procfile", src[0]);
	th_write(pf, "web: ./run\n", 0644);
	free(pf);
	commit(0, "one");
}

/* v1 pushed and v2 by config:set on the control, mirrored to the standby. */
static void two_releases_mirrored(void)
{
	allow_standby();
	app_on_control();
	struct th_result r = push(0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "Released v1"), "%s", r.err);
	cr_assert_null(strstr(r.err, "standby"), "%s", r.err);
	th_result_free(&r);
	free(OK(SW(0, "config:set", "FOO=bar", "-a", APP)));
}

static char *hostname(void)
{
	char h[256] = "";
	gethostname(h, sizeof(h) - 1);
	return xstrdup(h);
}

Test(standby, the_ledger_is_mirrored_and_the_standby_refuses_to_write_until_promoted)
{
	two_releases_mirrored();
	MIRRORED(2);

	/* a standby takes no user push and makes no release, and says who does */
	cr_assert_eq(mkdir(src[1], 0700), 0);
	free(OK(GIT(1, "clone", "-q", repo[1], ".")));
	commit(1, "two");
	struct th_result r = push(1);
	cr_assert_neq(r.status, 0);
	cr_assert(strstr(r.err, "Push refused: this server is a standby of slipway@"), "%s", r.err);
	cr_assert(strstr(r.err, ", which makes the releases: push there (or make this one the "
				"writer: slipway server:promote)"), "%s", r.err);
	th_result_free(&r);
	REFUSED(SW(1, "config:set", "FOO=baz", "-a", APP), 1, "this server is a standby of");
	cr_assert_eq(release_count(1), 2);

	/* promotion: confirmed by this server's name, then the writer */
	char *host = hostname(), *want = th_path("--confirm %s\n", host);
	REFUSED(SW(1, "server:promote"), 1, want);
	free(want);
	cr_assert_eq(release_count(1), 2);
	char *out = OK(SW(1, "server:promote", "--confirm", host));
	cr_assert(strstr(out, "Promoting this server to the writer, fencing slipway@"), "%s", out);
	cr_assert(strstr(out, "... done, epoch 1\n"), "%s", out);
	free(out);
	REFUSED(SW(1, "server:promote", "--confirm", host), 1, "this server is the writer already");
	free(host);

	/* pushes go on there: v3, no gap, fsck clean */
	r = push(1);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "Released v3"), "%s", r.err);
	th_result_free(&r);
	cr_assert_eq(release_count(1), 3);
	FSCK_CLEAN(1);

	/* the old control is fenced at its next release: refused, nothing recorded */
	want = th_path("this server was fenced: %s was promoted to the writer in its place: push "
		       "there", standby_url);
	REFUSED(SW(0, "config:set", "FOO=old", "-a", APP), 1, want);
	REFUSED(SW(0, "config:set", "FOO=old", "-a", APP), 1, want);
	free(want);
	cr_assert_eq(release_count(0), 2);
	out = OK(SW(1, "releases:info", "v3", "-a", APP));
	cr_assert(strstr(out, "Deploy"), "%s", out);
	free(out);
}

/* The control's mirror push of APP's ledger to the standby's sshd, as standby_mirror() sends it. */
static struct th_result mirror_push(long long epoch)
{
	char *key = th_path("%s/hosts/id_ed25519", hs[0].root);
	char *ssh = th_path("GIT_SSH_COMMAND=ssh -F /dev/null -i %s -o IdentitiesOnly=yes "
			    "-o BatchMode=yes -o StrictHostKeyChecking=no "
			    "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR", key);
	char *rp = th_path("--receive-pack=slipway-mirror %lld", epoch);
	char *dest = th_path("%s/%s", standby_url, APP);
	const char *e[] = { ssh, "HOME=/nonexistent", NULL };
	const char *argv[] = { "git", "-C", repo[0], "push", "--atomic", rp, dest,
			       "+refs/releases/*:refs/releases/*", "+refs/slipway/*:refs/slipway/*",
			       NULL };
	struct th_result r = th_netns_run(tb.ns[0], hs[0].dir, e, NULL, argv);
	free(dest);
	free(rp);
	free(ssh);
	free(key);
	return r;
}

Test(standby, the_old_control_mirror_push_is_refused_by_epoch_and_would_overwrite_without_it)
{
	two_releases_mirrored();
	char *host = hostname();
	free(OK(SW(1, "server:promote", "--confirm", host)));
	free(host);
	free(OK(SW(1, "config:set", "FOO=new", "-a", APP)));
	char *v3 = OK(SW(1, "releases:info", "v3", "-a", APP));
	cr_assert(strstr(v3, "Set FOO config vars"), "%s", v3);

	/* the old control, fencing turned off there: it records its own v3 */
	char *state = th_path("%s/hosts/standby", hs[0].root);
	unlink(state);
	free(state);
	kv[0][3][strlen("SLIPWAY_STANDBY=")] = '\0';
	free(OK(SW(0, "config:set", "BAR=old", "-a", APP)));
	cr_assert_eq(release_count(0), 3);

	/* its mirror push, at its epoch 0: refused by the standby's gate, v3 kept */
	struct th_result r = mirror_push(0);
	cr_assert_neq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "fenced: this server is the writer since epoch 1 and takes no "
				"mirror push\n"), "%s", r.err);
	th_result_free(&r);
	char *now = OK(SW(1, "releases:info", "v3", "-a", APP));
	cr_assert(strstr(now, "Set FOO config vars") && strstr(now, "FOO: new"), "%s", now);
	free(now);

	/*
	 * the control run: the same receive-pack as the standby's gate runs, without
	 * the gate's epoch check, overwrites the writer's v3
	 */
	const char *argv[] = { "git", "-C", repo[0], "push", "--atomic",
			       "--receive-pack=git -c core.hooksPath=/dev/null -c "
			       "transfer.hideRefs=!refs/releases -c transfer.hideRefs=!refs/slipway "
			       "receive-pack", repo[1],
			       "+refs/releases/*:refs/releases/*", "+refs/slipway/*:refs/slipway/*",
			       NULL };
	free(OK(th_netns_run(tb.ns[0], hs[0].dir, NULL, NULL, argv)));
	now = OK(SW(1, "releases:info", "v3", "-a", APP));
	cr_assert(strstr(now, "Set BAR config vars"), "%s", now);
	free(now);
	free(v3);
}

Test(standby, a_mirror_that_fails_never_fails_the_release_and_the_next_one_catches_up)
{
	/* the standby does not trust the control's key yet: the release is made, with a warning */
	app_on_control();
	struct th_result r = push(0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "Released v1"), "%s", r.err);
	char *want = th_path(" !     the standby did not take v1: cannot reach the standby %s: "
			     "root@%s: Permission denied (publickey). (the next release sends it "
			     "again)", standby_url, tb.addr[1]);
	cr_assert(strstr(r.err, want), "no '%s' in:\n%s", want, r.err);
	free(want);
	th_result_free(&r);
	cr_assert_eq(release_count(0), 1);

	/* trusted now: the next release sends both */
	allow_standby();
	char *out = OK(SW(0, "config:set", "FOO=bar", "-a", APP));
	cr_assert_null(strstr(out, "standby"), "%s", out);
	free(out);
	MIRRORED(2);
}

Test(standby, promotion_is_refused_while_fsck_finds_a_problem)
{
	two_releases_mirrored();
	/* the slug of v1 and v2 gone from the standby's store */
	struct th_result r = SW(1, "releases:info", "v1", "-a", APP);
	const char *p = strstr(r.out, "SHA256:");
	cr_assert(p, "%s", r.out);
	char *hex = xstrndup(p + 7, 64);
	th_result_free(&r);
	char *slug = th_path("%s/store/sha256/%.2s/%s.tar.zst", hs[1].root, hex, hex + 2);
	cr_assert_eq(unlink(slug), 0, "%s", slug);
	char *host = hostname();
	char *want = th_path("cannot promote: fsck found 2 problems, the first: %s: ", APP);
	REFUSED(SW(1, "server:promote", "--confirm", host), 1, want);
	/* nothing changed: still a standby, refused the same way */
	REFUSED(SW(1, "server:promote", "--confirm", host), 1, want);
	free(want);
	free(host);
	free(slug);
	free(hex);
}

/*
 * mirror-receive's "slug HEX" on the standby, as its forced command runs it
 * (SSH_ORIGINAL_COMMAND), with bytes on stdin and slipway.maxSlugSize max.
 */
static struct th_result mirror_slug(const char *hex, const char *bytes, const char *max)
{
	char *cmd = th_path("SSH_ORIGINAL_COMMAND=slipway-mirror 0 slug %s", hex);
	char *limit = th_path("SLIPWAY_MAX_SLUG_SIZE=%s", max);
	const char *e[16];
	size_t n = 0;
	for (; env[1][n]; n++)
		e[n] = env[1][n];
	e[n++] = cmd;
	e[n++] = limit;
	e[n] = NULL;
	const char *argv[] = { SLIPWAY_BIN, "mirror-receive", NULL };
	struct th_result r = th_netns_run(tb.ns[1], hs[1].dir, e, bytes, argv);
	free(limit);
	free(cmd);
	return r;
}

/* 1 when the standby's store holds hex; asserts no temp file is left there. */
static int stored_on_standby(const char *hex)
{
	char *p = th_path("%s/store/sha256/%.2s/%s.tar.zst", hs[1].root, hex, hex + 2);
	char *tmp = th_path("%s/store/tmp", hs[1].root);
	int yes = access(p, F_OK) == 0;
	cr_assert_eq(th_entries(tmp), 0, "a temp file is left in %s", tmp);
	free(tmp);
	free(p);
	return yes;
}

Test(standby, a_mirrored_slug_is_stored_only_within_the_size_limit_and_under_its_own_name)
{
	allow_standby();
	const char *bytes = "the bytes of a slug\n";
	char hex[CAS_HEX_LEN + 1], other[CAS_HEX_LEN + 1];
	cr_assert_eq(cas_hash_data(bytes, strlen(bytes), hex), 0);
	cr_assert_eq(cas_hash_data("x", 1, other), 0);

	/* more bytes than the standby's slipway.maxSlugSize: refused, nothing stored */
	REFUSED(mirror_slug(hex, bytes, "19"), 1, "the slug sent is larger than "
		"slipway.maxSlugSize (19 bytes): nothing was stored");
	cr_assert(!stored_on_standby(hex));

	/* bytes that are not what the name says: refused, nothing stored */
	char *want = th_path("the slug sent is corrupt: its bytes hash to %.12s... "
			     "(nothing was stored)", hex);
	REFUSED(mirror_slug(other, bytes, "20"), 1, want);
	cr_assert(!stored_on_standby(other) && !stored_on_standby(hex));
	free(want);

	/* the control run: the bytes under their own name, at the limit, are stored */
	struct th_result r = mirror_slug(hex, bytes, "20");
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	cr_assert(stored_on_standby(hex));
}
