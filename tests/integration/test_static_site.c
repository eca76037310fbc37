/*
 * The shipped static buildpack through the router (real nginx, s6 and
 * curl): the site's pages are served, its dotfiles, dot-directories and
 * the app's own app.json, Procfile and static.json are not, unless
 * static.json names the directory to serve.
 */
#define _GNU_SOURCE
#include "tests/integration/runtime_helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define APP "site"

static struct app_sandbox sb;
static pid_t svscan = -1;

static void setup(void)
{
	if (access("/usr/bin/s6-svscan", X_OK) || access("/usr/sbin/nginx", X_OK))
		cr_skip_test("s6 and nginx are needed (run scripts/deps)");
	app_sandbox_init(&sb, APP, APP_SANDBOX_BATCH);
	app_sandbox_write(&sb, "index.html", "<p>the site</p>\n", 0644);
	app_sandbox_write(&sb, "css/site.css", "body { margin: 0 }\n", 0644);
	app_sandbox_write(&sb, ".env", "SECRET=dotenv-secret\n", 0644);
	app_sandbox_write(&sb, ".gitignore", "gitignore-secret\n", 0644);
	app_sandbox_write(&sb, ".hidden/notes.txt", "hidden-secret\n", 0644);
	app_sandbox_write(&sb, "app.json", "{\"name\": \"app-json-secret\"}\n", 0644);
	app_sandbox_write(&sb, "Procfile", "worker: sleep 1000 # procfile-secret\n", 0644);
	app_sandbox_create(&sb, NULL);
	char *link = th_path("%s/envlink", sb.src);
	cr_assert_eq(symlink(".env", link), 0);
	free(link);
	app_sandbox_checkout(&sb, NULL, "main", "site");
}

static void teardown(void)
{
	rt_stop(&sb, &svscan);
	app_sandbox_release(&sb);
}

TestSuite(static_site, .init = setup, .fini = teardown, .timeout = 240);

/* GET path through the router: its status, and the body in *body (may be NULL). */
static int get(const char *path, char **body)
{
	char *url = th_path("http://127.0.0.1:%d%s", sb.http_port, path);
	struct th_result r = th_runv(NULL, NULL, "curl", "-sS", "--max-time", "10", "-H",
				     "Host: " APP ".localhost", "-w", "\n%{http_code}", url, NULL);
	char *nl = strrchr(r.out, '\n');
	int code = r.status == 0 && nl ? atoi(nl + 1) : 0;
	if (body)
		*body = nl ? strndup(r.out, (size_t)(nl - r.out)) : strdup("");
	th_result_free(&r);
	free(url);
	return code;
}

static void assert_served(const char *path, const char *want)
{
	char *body = NULL;
	int code = get(path, &body);
	cr_assert_eq(code, 200, "%s: status %d, body %s", path, code, body);
	cr_assert(strstr(body, want), "%s: %s", path, body);
	free(body);
}

static void assert_not_found(const char *path, const char *secret)
{
	char *body = NULL;
	int code = get(path, &body);
	cr_assert_eq(code, 404, "%s: status %d, body %s", path, code, body);
	cr_assert_null(strstr(body, secret), "%s served: %s", path, body);
	free(body);
}

/* Waits for the site's first answer through the router. */
static void wait_served(void)
{
	for (int i = 0; i < 100 && get("/", NULL) != 200; i++)
		rt_pause_ms(100);
}

Test(static_site, serves_the_site_but_no_dotfile_and_no_app_file)
{
	svscan = rt_start(&sb);
	char *out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "remote: -----> Static app detected"), "%s", out);
	free(out);
	wait_served();
	assert_served("/", "<p>the site</p>");
	assert_served("/index.html", "<p>the site</p>");
	assert_served("/css/site.css", "margin");

	assert_not_found("/.env", "dotenv-secret");
	assert_not_found("/%2eenv", "dotenv-secret");
	assert_not_found("/css/../.env", "dotenv-secret");
	assert_not_found("/envlink", "dotenv-secret");
	assert_not_found("/.gitignore", "gitignore-secret");
	assert_not_found("/.hidden/notes.txt", "hidden-secret");
	assert_not_found("/.slipway/static-server.py", "http.server");
	assert_not_found("/app.json", "app-json-secret");
	assert_not_found("/Procfile", "procfile-secret");
	assert_not_found("/css/", "site.css");

	/* static.json naming the directory to serve opts in to its app files; dotfiles stay out */
	app_sandbox_write(&sb, "static.json", "{\"root\": \".\"}\n", 0644);
	char *none = SANDBOX_OK(&sb, NULL, "git", "add", "-A");
	free(none);
	free(SANDBOX_OK(&sb, NULL, "git", "commit", "-qm", "root"));
	out = app_sandbox_push(&sb, "main");
	cr_assert(strstr(out, "Released v2"), "%s", out);
	free(out);
	for (int i = 0; i < 100 && get("/app.json", NULL) != 200; i++)
		rt_pause_ms(100);
	assert_served("/app.json", "app-json-secret");
	assert_served("/Procfile", "procfile-secret");
	assert_not_found("/.env", "dotenv-secret");
}
