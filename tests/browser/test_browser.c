/*
 * The dashboard in a real browser: headless Chromium, driven by Selenium
 * (browser.py), through the real router, supervision tree and sshd.
 * Chromium resolves *.apps.test to 127.0.0.1, so the dashboard
 * (dashboard.apps.test) and the apps (APP.apps.test) are on one site, as
 * on a server whose dashboard is inside the apps' domain; on localhost the
 * browser would withhold the cookie by itself and prove nothing.
 *
 * A login link from `dashboard:login` over ssh opens alice's app list; from
 * it, the Activity tab, "Roll back to here", the preview naming the commit
 * undone, and its button make her rollback, which the router serves; twice
 * in a row, each page saying it is done.
 *
 * The attack: the page of another app ("evil") submits a form, and does a
 * fetch with credentials, to the dashboard's POST /logout while alice is
 * logged in, once without her token and once with it (as if it had leaked,
 * so the Origin check stands alone); then the same to POST
 * /apps/shop/rollback, with the release pinned right.  Refused: her session
 * stays, no release is made, the router serves what it did.  The control
 * run is the same attack against slipway-csrf-off (csrf_off.c), where each
 * logout round logs her out and the first rollback round rolls back (the
 * others then pin a release no longer current).
 *
 * A running build's page follows its output: a line written while it is
 * open appears, its markup as text and its colour as a span, and the page
 * then says how the build ended.
 *
 * Skipped only when Chromium, ChromeDriver or Selenium is missing
 * (scripts/deps installs them): the executable exits 77, which ctest
 * reports as skipped.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"
#include "tests/integration/app_sandbox.h"
#include "tests/integration/dashboard_sandbox.h"
#include "tests/integration/runtime_helpers.h"
#include "tests/integration/sshd.h"

#include "store/builds.h"
#include "util/error.h"

#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOGINS 4

/*
 * The evil app: its page posts the fields of ?form (urlencoded), and the
 * token after '#' as "csrf", to the URL ?to: as a form it submits at once
 * (?mode=form) or as a fetch with credentials (?mode=fetch), whose answer
 * it cannot read and needs not: the title says "sent" once it is back.
 */
static const char evil_server_py[] =
	"import http.server, os\n"
	"PAGE = b'''<!DOCTYPE html><title>Win a prize</title><h1>Win a prize</h1>\n"
	"<form id=f method=post></form>\n"
	"<script>\n"
	"var q = new URLSearchParams(location.search), f = document.getElementById('f');\n"
	"var body = new URLSearchParams(q.get('form') || '');\n"
	"body.set('csrf', location.hash.slice(1));\n"
	"f.action = q.get('to');\n"
	"body.forEach(function (v, k) {\n"
	"  var i = document.createElement('input');\n"
	"  i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i);\n"
	"});\n"
	"if (q.get('mode') === 'form') f.submit();\n"
	"else fetch(q.get('to'), { method: 'POST', credentials: 'include', mode: 'no-cors',\n"
	"    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },\n"
	"    body: body.toString() }).then(\n"
	"  function () { document.title = 'sent'; }, function () { document.title = 'sent'; });\n"
	"</script>'''\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def do_GET(s):\n"
	"        s.send_response(200); s.send_header('Content-Type', 'text/html')\n"
	"        s.send_header('Content-Length', str(len(PAGE))); s.end_headers()\n"
	"        s.wfile.write(PAGE)\n"
	"    def log_message(s, *a): pass\n"
	"http.server.ThreadingHTTPServer(('', int(os.environ['PORT'])), H).serve_forever()\n";

static struct app_sandbox sb;
static struct dash ds;
static char *evil, *profile;

/* Why the browser tests cannot run here (NULL: they can). */
static const char *browser_missing(void)
{
	if (access("/usr/bin/chromium", X_OK) || access("/usr/bin/chromedriver", X_OK))
		return "chromium and chromium-driver are needed (run scripts/deps)";
	struct th_result r = th_runv(NULL, NULL, "/usr/bin/python3", "-c", "import selenium", NULL);
	int missing = r.status != 0;
	th_result_free(&r);
	return missing ? "python3-selenium is needed (run scripts/deps)" : NULL;
}

/* Without a browser the whole suite is skipped: ctest's SKIP_RETURN_CODE (tests/CMakeLists.txt). */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	(void)set;
	const char *why = browser_missing();
	if (why) {
		fprintf(stderr, "skipped: %s\n", why);
		exit(77);
	}
}

/* The evil app's code, committed in <dir>/evil and pushed to its repository. */
static void push_evil(void)
{
	char *dir = th_path("%s/evil", sb.dir), *repo = th_path("%s/apps/evil.git", sb.root);
	char *file = th_path("%s/server.py", dir);
	free(SANDBOX_OK(&sb, sb.dir, "git", "-c", "init.defaultBranch=main", "init", "-q", dir));
	th_write(file, evil_server_py, 0644);
	free(file);
	file = th_path("%s/Procfile", dir);
	th_write(file, "web: exec python3 -u server.py\n", 0644);
	free(SANDBOX_OK(&sb, dir, "git", "add", "-A"));
	free(SANDBOX_OK(&sb, dir, "git", "commit", "-q", "-m", "prize"));
	free(SANDBOX_OK(&sb, dir, "git", "push", "-q", repo, "main"));
	free(file);
	free(repo);
	free(dir);
}

static void setup(void)
{
	const char *why = browser_missing();
	if (why)
		cr_skip_test("%s", why);
	th_sshd_require();
	rt_setup(&sb, "shop", RT_ROUTER, rt_version_server_py, NULL);
	dash_setup(&ds, &sb);
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "apps:create", "evil"));
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "access:add", "alice", "-a", "shop"));
	evil = th_path("http://evil.apps.test:%d", sb.http_port);
	profile = th_path("%s/chromium", sb.dir);
}

/* Whether the process pid names the sandbox in its argv. */
static int names_sandbox(pid_t pid)
{
	char *path = th_path("/proc/%d/cmdline", pid);
	FILE *f = fopen(path, "r");
	static char arg[65536];
	size_t n = f ? fread(arg, 1, sizeof(arg) - 1, f) : 0, dn = strlen(sb.dir);
	int found = 0;
	arg[n] = '\0';
	for (size_t i = 0; i < n && !found; i += strlen(arg + i) + 1) {
		const char *at = strstr(arg + i, sb.dir);
		found = at && (at[dn] == '/' || at[dn] == '\0');
	}
	if (f)
		fclose(f);
	free(path);
	return found;
}

/*
 * What browser.py would have quit had it not been killed: Chromium (its
 * profile and, with HOME, its crash handler's files are in the sandbox)
 * and ChromeDriver (its log is): found by the sandbox's path, never by name.
 */
static void kill_browser(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		pid_t pid = atoi(e->d_name);
		if (pid > 0 && pid != getpid() && names_sandbox(pid))
			kill(pid, SIGKILL);
	}
	if (d)
		closedir(d);
}

static void teardown(void)
{
	dash_teardown(&ds);
	if (sb.dir)
		kill_browser();
	app_sandbox_release(&sb);
	free(evil);
	free(profile);
}

TestSuite(browser, .init = setup, .fini = teardown, .timeout = 240);

/* server:start by slipway (or the control's slipway-csrf-off); waits for the dashboard. */
static void start(const char *slipway)
{
	char *out = SANDBOX_OK(&sb, NULL, slipway, "server:start");
	const char *p = strstr(out, "(pid ");
	cr_assert(p, "%s", out);
	ds.svscan = (pid_t)atoi(p + 5);
	free(out);
	dash_wait_ready(&ds);
}

/* Waits (generously) until the router serves host's page. */
static void wait_page(const char *host)
{
	char *body = NULL;
	for (int i = 0; i < 300 && !(body = rt_page(&sb, host)); i++)
		rt_pause_ms(100);
	cr_assert(body, "%s never answered through the router", host);
	free(body);
}

/* dashboard:login by alice over ssh: the link it prints. */
static char *login_link(void)
{
	struct th_result r = dash_ssh_alice(&ds, "dashboard:login");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	char *want = th_path("%s/login#", ds.base);
	char *at = strstr(r.out, want);
	cr_assert(at, "%s\nwant %s", r.out, want);
	char *link = strndup(at, strlen(want) + 64);
	free(want);
	th_result_free(&r);
	return link;
}

/* browser.py with args after the profile; asserts it exited 0; what it printed. */
static char *browse(const char *const *args)
{
	const char *argv[2 * LOGINS + 8] = { "/usr/bin/python3", BROWSER_PY, profile };
	size_t n = 3;
	while (*args)
		argv[n++] = *args++;
	argv[n] = NULL;
	char *home = th_path("HOME=%s", sb.dir);
	const char *env[] = { home, NULL };
	struct th_result r = th_run(sb.dir, env, NULL, argv);
	free(home);
	cr_assert_eq(r.status, 0, "browser.py %s: exit %d\n%s%s", argv[3], r.status, r.out, r.err);
	char *out = r.out;
	r.out = NULL;
	th_result_free(&r);
	return out;
}

Test(browser, the_login_link_opens_the_list_of_the_users_apps)
{
	start(SLIPWAY_BIN);
	free(app_sandbox_push(&sb, "main"));
	push_evil();
	char *link = login_link();
	char *out = browse((const char *[]){ "apps", link, NULL });
	char *sha = app_sandbox_head(&sb, NULL);
	char *want = th_path("title: Apps - Slipway\nrow: shop | v1 | Deploy %.7s | ", sha);
	cr_assert(strstr(out, want), "%s\nwant: %s", out, want);
	free(want);
	free(sha);
	cr_assert_null(strstr(out, "row: evil"), "another user's app shown to alice:\n%s", out);
	free(out);
	free(link);
}

/* shop's page through the router: its version file, once it answers */
static char *shop_page(void)
{
	wait_page("shop.apps.test");
	return rt_page(&sb, "shop.apps.test");
}

/* shop's code says what, committed with message and pushed */
static void push_shop(const char *what, const char *message)
{
	app_sandbox_write(&sb, "version", what, 0644);
	free(SANDBOX_OK(&sb, NULL, "git", "commit", "-q", "-am", message));
	free(app_sandbox_push(&sb, "main"));
}

/*
 * Two in a row from one browser: the second's switch waits for the
 * router's requests in flight, the button's own among them, on a
 * connection the browser reuses.
 */
Test(browser, rollbacks_pressed_in_the_activity_are_the_users_and_serve_the_old_code)
{
	start(SLIPWAY_BIN);
	free(app_sandbox_push(&sb, "main"));
	push_shop("two\n", "Say two");
	push_shop("three\n", "Say three");
	char *link = login_link();
	char *out = browse((const char *[]){ "rollback", link, "shop", "2", "1", NULL });
	cr_assert(strstr(out, "preview: === shop v3 -> v2\npreview: Code: 1 commit undone "), "%s",
		  out);
	cr_assert(strstr(out, " Say three\n"), "the commit undone is not named:\n%s", out);
	cr_assert(strstr(out, "shown: Rollback\nshown: Rolling back shop to v2... done, v4\n"), "%s",
		  out);
	cr_assert(strstr(out, "preview: === shop v4 -> v1\npreview: Code: 1 commit undone "), "%s",
		  out);
	cr_assert(strstr(out, "shown: Rollback\nshown: Rolling back shop to v1... done, v5\n"), "%s",
		  out);
	free(out);
	free(link);
	out = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "releases", "-a", "shop", "--json");
	cr_assert(strstr(out, "[{\"version\":5,\"description\":\"Rollback to v1\","
			      "\"user\":{\"email\":\"alice\"}"), "%s", out);
	cr_assert(strstr(out, "{\"version\":4,\"description\":\"Rollback to v2\","
			      "\"user\":{\"email\":\"alice\"}"), "%s", out);
	free(out);
	cr_assert_eq(app_sandbox_release_count(&sb), 5);
	for (int i = 0; i < 100 && (out = shop_page()) && strcmp(out, "one\n"); i++) {
		free(out);
		rt_pause_ms(100);
	}
	cr_assert_str_eq(out, "one\n");
	free(out);
}

/*
 * The attack, each kind from the evil app's page, on POST path with the
 * fields forms[i] (urlencoded; the token is the page's to add); what
 * browser.py saw.
 */
static char *attack(const char *path, const char *const forms[LOGINS])
{
	char *links[LOGINS];
	const char *argv[2 * LOGINS + 5] = { "attack", ds.base, evil, path };
	for (int i = 0; i < LOGINS; i++) {
		links[i] = login_link();
		argv[4 + 2 * i] = forms[i];
		argv[5 + 2 * i] = links[i];
	}
	argv[2 * LOGINS + 4] = NULL;
	char *out = browse(argv);
	for (int i = 0; i < LOGINS; i++)
		free(links[i]);
	return out;
}

static int sessions(void)
{
	char *dir = th_path("%s/dashboard/sessions", sb.root);
	int n = th_entries(dir);
	free(dir);
	return n;
}

/* What the attacks need: shop's v1 and v2 (its version file "one", then "two"), and the evil app. */
static void push_all(void)
{
	free(app_sandbox_push(&sb, "main"));
	app_sandbox_write(&sb, "version", "two\n", 0644);
	free(SANDBOX_OK(&sb, NULL, "git", "commit", "-q", "-am", "two"));
	free(app_sandbox_push(&sb, "main"));
	push_evil();
	wait_page("evil.apps.test");
}

static const char *const no_fields[LOGINS] = { "", "", "", "" };
/* the confirmation of a rollback to v1, v2 being current: the one that rolls back */
static const char *const rollback_fields[LOGINS] = { "target=1&current=2", "target=1&current=2",
						     "target=1&current=2", "target=1&current=2" };

Test(browser, an_apps_page_posting_to_the_dashboard_is_refused_and_changes_nothing)
{
	start(SLIPWAY_BIN);
	push_all();
	char *out = attack("/logout", no_fields);
	cr_assert_str_eq(out,
			 "form: shown Refused: the form has no token of this session: reload the "
			 "page and try again, session kept\n"
			 "form with the token: shown Refused: the form was sent from another site, "
			 "session kept\n"
			 "fetch: shown sent, session kept\n"
			 "fetch with the token: shown sent, session kept\n");
	cr_assert_eq(sessions(), 1, "alice's session ended (or a link made another)");
	free(out);
	out = attack("/apps/shop/rollback", rollback_fields);
	cr_assert_str_eq(out,
			 "form: shown Refused: the form has no token of this session: reload the "
			 "page and try again, session kept\n"
			 "form with the token: shown Refused: the form was sent from another site, "
			 "session kept\n"
			 "fetch: shown sent, session kept\n"
			 "fetch with the token: shown sent, session kept\n");
	free(out);
	cr_assert_eq(app_sandbox_release_count(&sb), 2, "a release was made");
	out = shop_page();
	cr_assert_str_eq(out, "two\n");
	free(out);
}

Test(browser, control_without_the_checks_the_same_attack_logs_out_and_rolls_back)
{
	start(SLIPWAY_CSRF_OFF_BIN);
	push_all();
	char *out = attack("/logout", no_fields);
	cr_assert_str_eq(out,
			 "form: shown Log in to Slipway, session ended\n"
			 "form with the token: shown Log in to Slipway, session ended\n"
			 "fetch: shown sent, session ended\n"
			 "fetch with the token: shown sent, session ended\n");
	cr_assert_eq(sessions(), 0, "the attack failed even without the checks");
	free(out);
	/*
	 * the same forms: the first rolls back, the others find v2 no longer
	 * current (what the page shows for each is not asserted: a round may
	 * come while the first rollback still runs)
	 */
	out = attack("/apps/shop/rollback", rollback_fields);
	free(out);
	/* a rollback runs right after its answer: the router serves v1's code once it is done */
	for (int i = 0; i < 300 && (out = shop_page()) && strcmp(out, "one\n"); i++) {
		free(out);
		rt_pause_ms(100);
	}
	cr_assert_str_eq(out, "one\n");
	free(out);
	cr_assert_eq(app_sandbox_release_count(&sb), 3, "more than one rollback made");
	out = SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "releases", "-a", "shop");
	cr_assert(strstr(out, "\nv3  Rollback to v1  alice  "), "%s", out);
	free(out);
}

/* 1 once the file holds needle, within 120 s (Chromium starts slowly on busy cores). */
static int wait_file(const char *file, const char *needle)
{
	for (int i = 0; i < 1200; i++) {
		char *text = th_read(file, NULL);
		int found = text && strstr(text, needle);
		free(text);
		if (found)
			return 1;
		rt_pause_ms(100);
	}
	return 0;
}

Test(browser, a_running_builds_page_shows_its_lines_as_they_come_then_how_it_ended)
{
	start(SLIPWAY_BIN);
	struct build_record r = BUILD_RECORD_INIT;
	FILE *log;
	r.user = strdup("alice");
	r.source = strdup("main");
	cr_assert_eq(builds_begin(sb.root, "shop", &r, 100, &log), 0, "%s", sw_error_last());
	fputs("-----> Building\n", log);
	fflush(log);
	char *link = login_link(), *path = th_path("/apps/shop/builds/%d", r.id);
	char *out = th_path("%s/build.out", sb.dir);
	const char *argv[] = { "/usr/bin/python3", BROWSER_PY, profile, "build", link, path, NULL };
	pid_t pid = app_sandbox_start(&sb, out, argv);
	cr_assert(wait_file(out, "note: The build is running: its output follows as it comes.\n"));
	/* written while the page is open: it comes, escaped, its colour a span */
	fputs("-----> Done <b>x</b> \033[32mgreen\033[0m\n", log);
	fclose(log);
	r.status = BUILD_SUCCEEDED;
	cr_assert_eq(builds_update(sb.root, "shop", &r), 0, "%s", sw_error_last());
	cr_assert(wait_file(out, "note: The build succeeded. Reload the page for its release.\n"));
	int status = -1;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	char *text = th_read(out, NULL);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", text);
	cr_assert(strstr(text, "page: -----> Building\nnote: "), "%s", text);
	cr_assert(strstr(text, "output: -----> Building\noutput: -----> Done <b>x</b> green\n"), "%s", text);
	cr_assert(strstr(text, "markup: -----&gt; Done &lt;b&gt;x&lt;/b&gt; <span class=\"ansi-32\">green"
			       "</span>\n"), "%s", text);
	cr_assert(strstr(text, "elements: 0\n"), "%s", text);
	free(text);
	free(out);
	free(path);
	free(link);
	build_record_release(&r);
}
