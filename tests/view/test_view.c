/*
 * test_view.c - view/: the JSON documents the commands print, byte for
 * byte in the shape Heroku's API has them (releases, builds, apps,
 * domains), and strings in them escaped whatever bytes they hold.
 */
#include "view/builds.h"
#include "view/runtime.h"
#include "view/view.h"
#include "view/diff.h"
#include "store/diff.h"

#include <criterion/criterion.h>
#include <string.h>

#define SHA "0123456789abcdef0123456789abcdef01234567"
#define T0 1764979200 /* 2025-12-06T00:00:00Z */

static void make_release(struct release *r, int version)
{
	r->version = version;
	r->description = strdup("Deploy 0123456");
	r->user = strdup("ann@example.com");
	r->created = T0;
	memcpy(r->commit, SHA, sizeof(SHA));
}

Test(view, release_json_as_releases_lists_it)
{
	struct release r = RELEASE_INIT;
	struct buf out = BUF_INIT;
	make_release(&r, 2);
	memset(r.slug, 'a', 64);
	r.slug_size = 1234;
	view_release_json(&out, &r, 1, 0, NULL);
	cr_assert_str_eq(out.data,
			 "{\"version\":2,\"description\":\"Deploy 0123456\","
			 "\"user\":{\"email\":\"ann@example.com\"},\"created_at\":\"2025-12-06T00:00:00Z\","
			 "\"status\":\"succeeded\",\"current\":true,\"commit\":\"" SHA "\","
			 "\"slug\":{\"checksum\":\"SHA256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
			 "\"size\":1234}}");
	buf_release(&out);
	release_release(&r);
}

Test(view, release_json_with_details_and_odd_strings)
{
	struct release r = RELEASE_INIT;
	struct buf out = BUF_INIT;
	make_release(&r, 3);
	r.commit[0] = '\0';
	r.rollback_of = 1;
	proc_list_set(&r.procs, "web", "node \"server.js\"");
	config_set(&r.config, "A", "x\ny\xff");
	view_release_json(&out, &r, 0, 1, "its slug is gone");
	cr_assert_str_eq(out.data,
			 "{\"version\":3,\"description\":\"Deploy 0123456\","
			 "\"user\":{\"email\":\"ann@example.com\"},\"created_at\":\"2025-12-06T00:00:00Z\","
			 "\"status\":\"succeeded\",\"current\":false,\"commit\":null,\"slug\":null,"
			 "\"rollback_of\":1,\"process_types\":{\"web\":\"node \\\"server.js\\\"\"},"
			 "\"config_vars\":{\"A\":\"x\\ny\\ufffd\"},\"addons\":[],\"eligible_for_rollback\":false,"
			 "\"ineligible_reason\":\"its slug is gone\"}");
	buf_release(&out);
	release_release(&r);
}

Test(view, releases_json_puts_one_release_a_line)
{
	struct release r[2] = { RELEASE_INIT, RELEASE_INIT };
	struct buf out = BUF_INIT;
	make_release(&r[0], 2);
	make_release(&r[1], 1);
	view_releases_json(&out, r, 2, 2);
	cr_assert(strstr(out.data, "\"slug\":null},\n {\"version\":1,"), "%s", out.data);
	cr_assert_eq(out.data[0], '[');
	cr_assert_str_eq(out.data + out.len - 3, "}]\n");
	buf_release(&out);
	release_release(&r[0]);
	release_release(&r[1]);

	view_releases_json(&out, NULL, 0, 0);
	cr_assert_str_eq(out.data, "[]\n");
	buf_release(&out);
}

Test(view, builds_json)
{
	struct build_record b[2] = { { .id = 2, .status = BUILD_SUCCEEDED, .commit = SHA,
				       .user = "ann", .source = "main", .created = T0, .release = 5 },
				     { .id = 1, .status = BUILD_FAILED, .user = "bob",
				       .source = "retry", .created = T0 } };
	struct buf out = BUF_INIT;
	view_builds_json(&out, b, 2);
	cr_assert_str_eq(out.data,
			 "[{\"id\":2,\"status\":\"succeeded\",\"commit\":\"" SHA "\",\"user\":{\"email\":"
			 "\"ann\"},\"created_at\":\"2025-12-06T00:00:00Z\",\"source\":\"main\","
			 "\"release\":{\"version\":5}},\n"
			 " {\"id\":1,\"status\":\"failed\",\"commit\":null,\"user\":{\"email\":\"bob\"},"
			 "\"created_at\":\"2025-12-06T00:00:00Z\",\"source\":\"retry\",\"release\":null}]\n");
	buf_release(&out);
}

Test(view, names_and_domains_json)
{
	struct strvec v = STRVEC_INIT;
	struct buf out = BUF_INIT;
	view_names_json(&out, &v);
	cr_assert_str_eq(out.data, "[]\n");
	strvec_push(&v, "www.example.com");
	strvec_push(&v, "api.example.com");
	buf_reset(&out);
	view_names_json(&out, &v);
	cr_assert_str_eq(out.data, "[\"www.example.com\",\"api.example.com\"]\n");
	buf_reset(&out);
	view_domains_json(&out, "demo", "localhost", &v);
	cr_assert_str_eq(out.data, "[{\"hostname\":\"demo.localhost\",\"kind\":\"default\"},"
				   "{\"hostname\":\"www.example.com\",\"kind\":\"custom\"},"
				   "{\"hostname\":\"api.example.com\",\"kind\":\"custom\"}]\n");
	buf_release(&out);
	strvec_clear(&v);
}

static char *web_command(void *ctx, const struct service_info *s)
{
	(void)ctx;
	(void)s;
	return strdup("npm start");
}

/* ps: the type's count is of those that serve; a warm one says its memory and when it retires */
Test(view, ps_and_its_json_show_a_warm_instance_after_those_that_serve)
{
	struct service_info s[2] = {
		{ .name = "a.v4-2.web.1", .type = "web", .index = 1, .version = 4, .port = 20417,
		  .up = 1, .state = "up", .since = T0 },
		{ .name = "a.v3-1.web.1", .type = "web", .index = 1, .version = 3, .port = 20388,
		  .up = 1, .state = "warm", .since = T0, .warm_until = T0 + 52, .rss = 24100000 },
	};
	struct buf out = BUF_INIT;
	view_ps(&out, s, 2, web_command, NULL, T0 + 3600 * 25);
	cr_assert_str_eq(out.data, "=== web (1): npm start\n"
		"web.1: up 2025/12/06 00:00:00 +0000  v4, port 20417\n"
		"web.1: warm 2025/12/06 00:00:00 +0000  v3, port 20388, 24.1 MB, retires in 0s\n");
	buf_reset(&out);
	view_ps_json(&out, s, 2);
	cr_assert(strstr(out.data, "\"state\":\"warm\",\"release\":3,\"port\":20388,"
		  "\"since\":\"2025-12-06T00:00:00Z\",\"memory\":24100000,"
		  "\"retires_at\":\"2025-12-06T00:00:52Z\"}"), "%s", out.data);
	cr_assert(strstr(out.data, "\"state\":\"up\",\"release\":4,\"port\":20417,"
		  "\"since\":\"2025-12-06T00:00:00Z\"}"), "%s", out.data);
	buf_release(&out);
}

/* ps of an app with run hosts: each instance says its host after its time; JSON adds "host" */
Test(view, ps_names_each_instances_host_when_it_is_set)
{
	struct service_info s[2] = {
		{ .name = "a.v4-2.web.1", .type = "web", .index = 1, .version = 4, .port = 20417,
		  .up = 1, .state = "up", .since = T0, .host = "local" },
		{ .name = "a.v2-1.web.1", .type = "web", .index = 1, .version = 4, .port = 5000,
		  .up = 1, .state = "up", .since = T0, .host = "h1" },
	};
	struct buf out = BUF_INIT;
	view_ps(&out, s, 2, web_command, NULL, T0 + 3600 * 25);
	cr_assert_str_eq(out.data, "=== web (2): npm start\n"
		"web.1: up 2025/12/06 00:00:00 +0000 on local  v4, port 20417\n"
		"web.1: up 2025/12/06 00:00:00 +0000 on h1  v4, port 5000\n");
	buf_reset(&out);
	view_ps_json(&out, s, 2);
	cr_assert(strstr(out.data, "\"state\":\"up\",\"host\":\"h1\",\"release\":4,\"port\":5000,"),
		  "%s", out.data);
	buf_release(&out);
}

/* releases:info of an app with run hosts names those that run it, or none */
Test(view, release_info_names_the_hosts_that_run_it)
{
	struct release r = RELEASE_INIT;
	struct buf out = BUF_INIT;
	struct strvec hosts = STRVEC_INIT;
	make_release(&r, 4);
	view_release_info(&out, &r, 1, NULL, &hosts, r.created);
	cr_assert(strstr(out.data, "\nHosts:     none\n"), "%s", out.data);
	buf_reset(&out);
	strvec_push(&hosts, "local");
	strvec_push(&hosts, "h2 (unreachable)");
	view_release_info(&out, &r, 1, NULL, &hosts, r.created);
	cr_assert(strstr(out.data, "\nHosts:     local, h2 (unreachable)\nEligible for Rollback?: "),
		  "%s", out.data);
	buf_reset(&out);
	view_release_info(&out, &r, 1, NULL, NULL, r.created);
	cr_assert(!strstr(out.data, "Hosts:"), "%s", out.data);
	buf_release(&out);
	strvec_clear(&hosts);
	release_release(&r);
}

Test(view, a_releases_add_ons_are_shown_with_the_names_they_are_attached_as)
{
	struct release r = RELEASE_INIT;
	struct buf out = BUF_INIT;
	struct strvec vars = STRVEC_INIT;
	make_release(&r, 4);
	strvec_push(&vars, "DATABASE_URL");
	cr_assert_eq(attach_add(&r.addons, "DATABASE", "postgresql-amber-12", &vars), 0);
	cr_assert_eq(attach_add(&r.addons, "REDIS", "redis-clear-7", NULL), 0);
	view_release_json(&out, &r, 1, 1, NULL);
	cr_assert(strstr(out.data, "\"addons\":[{\"name\":\"postgresql-amber-12\",\"as\":\"DATABASE\","
			 "\"config_vars\":[\"DATABASE_URL\"]},{\"name\":\"redis-clear-7\",\"as\":"
			 "\"REDIS\",\"config_vars\":[]}]"), "%s", out.data);
	buf_release(&out);
	view_release_info(&out, &r, 1, NULL, NULL, r.created);
	cr_assert(strstr(out.data, "\nAddons:    postgresql-amber-12 (DATABASE), redis-clear-7 (REDIS)\n"),
		  "%s", out.data);
	buf_release(&out);
	strvec_clear(&vars);
	release_release(&r);
}

Test(view, a_diff_lists_add_ons_only_for_apps_that_have_some)
{
	struct release_diff d = { .a = RELEASE_INIT, .b = RELEASE_INIT };
	struct buf out = BUF_INIT;
	make_release(&d.a, 1);
	make_release(&d.b, 2);
	view_diff_text(&out, "shop", &d, 0);
	cr_assert_null(strstr(out.data, "Addons"), "%s", out.data);
	buf_release(&out);
	cr_assert_eq(attach_add(&d.b.addons, "DATABASE", "postgresql-amber-12", NULL), 0);
	addons_diff(&d.a.addons, &d.b.addons, &d.addons);
	view_diff_text(&out, "shop", &d, 0);
	cr_assert(strstr(out.data, "\nAddons: 1 attached, 0 detached, 0 changed\n"
			 "  + DATABASE: postgresql-amber-12\n"), "%s", out.data);
	buf_release(&out);
	diff_pairs_release(&d.addons);
	release_release(&d.a);
	release_release(&d.b);
}
