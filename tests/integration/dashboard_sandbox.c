#define _GNU_SOURCE
#include "tests/integration/dashboard_sandbox.h"

#include "tests/integration/runtime_helpers.h"
#include "tests/integration/sshd.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dash_git_config(struct dash *ds, const char *key, const char *value)
{
	char *file = th_path("%s/.gitconfig", ds->sb->dir);
	free(SANDBOX_OK(ds->sb, NULL, "git", "config", "--file", file, key, value));
	free(file);
}

void dash_setup(struct dash *ds, struct app_sandbox *sb)
{
	*ds = (struct dash){ .sb = sb, .svscan = -1, .sshd = -1 };
	th_sshd_require();
	char *keys = th_path("SLIPWAY_AUTHORIZED_KEYS=%s/authorized_keys", sb->dir);
	app_sandbox_setenv(sb, keys);
	free(keys);
	/* what ssh sessions read too: the server user's git config */
	char port[16];
	snprintf(port, sizeof(port), "%d", sb->http_port);
	dash_git_config(ds, "slipway.domain", "apps.test");
	dash_git_config(ds, "slipway.httpPort", port);
	dash_git_config(ds, "slipway.httpAddress", "127.0.0.1");
	ds->key_alice = th_keygen_in(sb->dir, "alice", "alice@laptop");
	char *pub = th_path("%s.pub", ds->key_alice);
	free(SANDBOX_OK(sb, NULL, SLIPWAY_BIN, "keys:add", "alice", pub));
	free(pub);
	char *user = th_sshd_user();
	ds->ssh_port = th_free_port();
	ds->login = th_path("%s@127.0.0.1", user);
	ds->sshd = th_sshd_start(sb->dir, ds->ssh_port, user);
	free(user);
	ds->resolve = th_path(DASH_HOST ":%d:127.0.0.1", sb->http_port);
	ds->base = th_path("http://" DASH_HOST ":%d", sb->http_port);
}

void dash_start(struct dash *ds)
{
	ds->svscan = rt_start(ds->sb);
}

void dash_teardown(struct dash *ds)
{
	if (!ds->sb)
		return;
	rt_stop(ds->sb, &ds->svscan);
	th_sshd_stop(&ds->sshd);
	free(ds->key_alice);
	free(ds->login);
	free(ds->resolve);
	free(ds->base);
	ds->sb = NULL;
}

struct th_result dash_ssh_alice(struct dash *ds, const char *command)
{
	char p[16];
	snprintf(p, sizeof(p), "%d", ds->ssh_port);
	const char *argv[] = { "ssh", "-F", "/dev/null", "-T", "-i", ds->key_alice, "-p", p,
			       "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
			       "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
			       "-o", "LogLevel=ERROR", ds->login, command, NULL };
	return app_sandbox_run(ds->sb, NULL, NULL, argv);
}

struct dash_answer dash_http(struct dash *ds, const char *path, const char *form,
			     const char *cookie, const char *origin)
{
	return dash_http_at(ds->base, ds->resolve, NULL, path, form, cookie, origin);
}

struct dash_answer dash_http_at(const char *base, const char *resolve, const char *cacert,
				const char *path, const char *form, const char *cookie,
				const char *origin)
{
	char *url = th_path("%s%s", base, path);
	char *cookie_h = cookie ? th_path("Cookie: %s", cookie) : NULL;
	char *origin_h = origin ? th_path("Origin: %s", origin) : NULL;
	const char *argv[24] = { "curl", "-sS", "-i", "--max-time", "60", "--resolve", resolve };
	size_t n = 7;
	if (cacert) {
		argv[n++] = "--cacert";
		argv[n++] = cacert;
	}
	if (form) {
		argv[n++] = "--data-raw";
		argv[n++] = form;
	}
	if (cookie_h) {
		argv[n++] = "-H";
		argv[n++] = cookie_h;
	}
	if (origin_h) {
		argv[n++] = "-H";
		argv[n++] = origin_h;
	}
	argv[n++] = url;
	argv[n] = NULL;
	struct th_result r = th_run(NULL, NULL, NULL, argv);
	cr_assert_eq(r.status, 0, "curl %s: %s", path, r.err);
	struct dash_answer a = { 0, r.out };
	sscanf(r.out, "HTTP/%*s %d", &a.status);
	r.out = NULL;
	th_result_free(&r);
	free(url);
	free(cookie_h);
	free(origin_h);
	return a;
}

void dash_wait_ready(struct dash *ds)
{
	for (int i = 0; i < 600; i++) {
		char *url = th_path("%s/login", ds->base);
		struct th_result r = th_runv(NULL, NULL, "curl", "-s", "-o", "/dev/null", "-w",
					     "%{http_code}", "--max-time", "5", "--resolve",
					     ds->resolve, url, NULL);
		int up = r.out && !strcmp(r.out, "200");
		th_result_free(&r);
		free(url);
		if (up)
			return;
		rt_pause_ms(100);
	}
	cr_assert_fail("the dashboard did not answer at %s/login", ds->base);
}

char *dash_login_token(struct dash *ds)
{
	struct th_result r = dash_ssh_alice(ds, "dashboard:login");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	char *want = th_path("%s/login#", ds->base);
	char *at = strstr(r.out, want);
	cr_assert(at, "%s\nwant %s", r.out, want);
	cr_assert(strstr(r.out, "as alice"), "%s", r.out);
	char *token = strndup(at + strlen(want), 64);
	cr_assert_eq(strspn(token, "0123456789abcdef"), 64, "%s", r.out);
	free(want);
	th_result_free(&r);
	return token;
}

char *dash_log_in(struct dash *ds)
{
	dash_wait_ready(ds);
	char *token = dash_login_token(ds);
	char *form = th_path("token=%s", token);
	struct dash_answer a = dash_http(ds, "/login", form, NULL, ds->base);
	cr_assert_eq(a.status, 303, "%s", a.text);
	char *set = strstr(a.text, "Set-Cookie: slipway_session=");
	cr_assert(set, "%s", a.text);
	cr_assert(strstr(set, "HttpOnly; SameSite=Strict"), "%s", a.text);
	char *cookie = strndup(set + strlen("Set-Cookie: "), strlen("slipway_session=") + 64);
	free(a.text);
	free(form);
	free(token);
	return cookie;
}

char *dash_field(const char *page, const char *name)
{
	char *want = th_path("name=\"%s\" value=\"", name);
	const char *at = strstr(page, want);
	cr_assert(at, "no field %s in %s", name, page);
	at += strlen(want);
	free(want);
	return strndup(at, strcspn(at, "\""));
}
