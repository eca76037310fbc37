/*
 * runtime/router: the settings it listens on and the URL it gives; the
 * app's file a switch writes (its web instances, its host names, the
 * maintenance and "no web processes" pages) and puts back when the reload
 * is refused; and, with the real nginx under a real s6 tree in a throwaway
 * root, the pages it serves and a refused configuration that changes
 * nothing.
 */
#define _GNU_SOURCE
#include "tests/integration/runtime_helpers.h"
#include "tests/release_helpers.h"

#include "runtime/router.h"
#include "runtime/supervisor.h"
#include "store/domains.h"
#include "store/maintenance.h"
#include "util/error.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *root;
static int http_port;
static pid_t svscan = -1, backend = -1;

static void setup(void)
{
	root = rh_root();
	rh_app(root, "demo");
	http_port = th_free_port();
	char *port = th_path("%d", http_port);
	setenv("SLIPWAY_HTTP_PORT", port, 1);
	setenv("SLIPWAY_HTTP_ADDRESS", "127.0.0.1", 1);
	setenv("SLIPWAY_DOMAIN", "apps.example.com", 1);
	free(port);
	char *services = th_path("%s/services", root);
	cr_assert_eq(mkdir(services, 0700), 0);
	free(services);
}

static void teardown(void)
{
	if (svscan > 0) {
		router_stop(root, 10);
		supervisor_stop(root, 10);
		kill(svscan, SIGKILL);
		waitpid(svscan, NULL, 0);
	}
	if (backend > 0) {
		kill(backend, SIGKILL);
		waitpid(backend, NULL, 0);
	}
	th_sandbox_free(root);
}

TestSuite(router, .init = setup, .fini = teardown, .timeout = 120);

/* The app's router file now (malloc'ed; NULL when there is none). */
static char *app_file(void)
{
	char *path = th_path("%s/router/apps/demo.conf", root), *text = th_read(path, NULL);
	free(path);
	return text;
}

/* A web (or other) instance of the app's release 1 that holds port, as the services write it. */
static void service_with_port(const char *instance, int port)
{
	char *dir = th_path("%s/services/demo.v1-1.%s", root, instance);
	cr_assert_eq(mkdir(dir, 0755), 0);
	char *path = th_path("%s/port", dir), *text = th_path("%d\n", port);
	th_write(path, text, 0644);
	free(text);
	free(path);
	free(dir);
}

/* The call under test, in one place: a switch to names (NULL: all) but except. */
static int switch_to(const char *const *names, const char *const *except)
{
	struct strvec n = STRVEC_INIT, e = STRVEC_INIT;
	for (size_t i = 0; names && names[i]; i++)
		strvec_push(&n, names[i]);
	for (size_t i = 0; except && except[i]; i++)
		strvec_push(&e, except[i]);
	int err = router_switch(root, "demo", names ? &n : NULL, except ? &e : NULL);
	strvec_clear(&n);
	strvec_clear(&e);
	return err;
}

Test(router, listens_where_the_settings_say_and_refuses_what_is_not_a_port_address_or_domain)
{
	struct router_listen l;
	cr_assert_eq(router_listen_read(root, &l), 0, "%s", sw_error_last());
	cr_assert_eq(l.port, http_port);
	cr_assert_str_eq(l.address, "127.0.0.1");
	cr_assert_str_eq(l.domain, "apps.example.com");
	char *url = router_url(root, "demo"), *want = th_path("http://demo.apps.example.com:%d/",
							     http_port);
	cr_assert_str_eq(url, want);
	free(url);
	free(want);
	setenv("SLIPWAY_HTTP_PORT", "80", 1);
	url = router_url(root, "demo");
	cr_assert_str_eq(url, "http://demo.apps.example.com/", "no :80 in the URL");
	free(url);

	setenv("SLIPWAY_HTTP_PORT", "65536", 1);
	cr_assert_eq(router_listen_read(root, &l), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(),
			 "$SLIPWAY_HTTP_PORT: invalid value '65536': use a TCP port, 1 to 65535");
	setenv("SLIPWAY_HTTP_PORT", "8080", 1);
	setenv("SLIPWAY_HTTP_ADDRESS", "::1", 1);
	cr_assert_eq(router_listen_read(root, &l), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "$SLIPWAY_HTTP_ADDRESS: invalid value '::1': use an IPv4 "
			 "address such as 127.0.0.1, or nothing for every address");
	setenv("SLIPWAY_HTTP_ADDRESS", "", 1);
	setenv("SLIPWAY_DOMAIN", "bad domain", 1);
	cr_assert_eq(router_listen_read(root, &l), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "$SLIPWAY_DOMAIN: invalid value 'bad domain': use a host "
			 "name such as example.com");
	cr_assert_null(router_url(root, "demo"));
}

Test(router, a_switch_points_the_app_at_its_web_instances_by_all_its_names)
{
	cr_assert_eq(domains_add(root, "demo", "www.example.org", "apps.example.com"), 0, "%s",
		     sw_error_last());
	service_with_port("web.1", 20001);
	service_with_port("web.2", 20002);
	service_with_port("worker.1", 20003);
	cr_assert_eq(switch_to(NULL, NULL), 0, "%s", sw_error_last());
	char *conf = app_file();
	cr_assert_not_null(conf);
	cr_assert(strstr(conf, "\tserver 127.0.0.1:20001 max_fails=0;\n"
			       "\tserver 127.0.0.1:20002 max_fails=0;\n"), "%s", conf);
	cr_assert_null(strstr(conf, "20003"), "a worker takes no requests: %s", conf);
	cr_assert(strstr(conf, "\"127.0.0.1:20002\" web.2;"), "%s", conf);
	cr_assert(strstr(conf, "\tserver_name demo.apps.example.com www.example.org;\n"), "%s", conf);
	char *listen = th_path("\tlisten 127.0.0.1:%d;\n", http_port);
	cr_assert(strstr(conf, listen), "%s", conf);
	free(listen);
	free(conf);

	cr_assert_eq(switch_to((const char *[]){ "demo.v1-1.web.2", NULL }, NULL), 0, "%s",
		     sw_error_last());
	conf = app_file();
	cr_assert_null(strstr(conf, "20001"), "only the names given: %s", conf);
	cr_assert(strstr(conf, "127.0.0.1:20002"), "%s", conf);
	free(conf);
	cr_assert_eq(switch_to(NULL, (const char *[]){ "demo.v1-1.web.2", NULL }), 0, "%s",
		     sw_error_last());
	conf = app_file();
	cr_assert(strstr(conf, "127.0.0.1:20001"), "%s", conf);
	cr_assert_null(strstr(conf, "20002"), "all but those going: %s", conf);
	free(conf);
}

Test(router, without_web_instances_or_in_maintenance_the_app_gets_its_page)
{
	service_with_port("worker.1", 20003);
	cr_assert_eq(switch_to(NULL, NULL), 0, "%s", sw_error_last());
	char *conf = app_file();
	cr_assert(strstr(conf, "code=H14 desc=\"No web processes running\""), "%s", conf);
	cr_assert(strstr(conf, "alias pages/app-error.html;"), "%s", conf);
	cr_assert_null(strstr(conf, "upstream slipway_"), "%s", conf);
	free(conf);

	service_with_port("web.1", 20001);
	cr_assert_eq(maintenance_set(root, "demo", 1), 0);
	cr_assert_eq(switch_to(NULL, NULL), 0, "%s", sw_error_last());
	conf = app_file();
	cr_assert(strstr(conf, "code=H80 desc=\"Maintenance mode\""), "%s", conf);
	cr_assert(strstr(conf, "alias pages/maintenance.html;"), "%s", conf);
	cr_assert_null(strstr(conf, "20001"), "%s", conf);
	free(conf);

	cr_assert_eq(router_forget(root, "demo"), 0, "%s", sw_error_last());
	cr_assert_null(app_file(), "apps:destroy: the app's file goes");
	cr_assert_eq(router_forget(root, "demo"), 0, "forgetting twice is fine");
}

static void global_config(const char *key, const char *value)
{
	char *cfg = th_path("%s/.gitconfig", root);
	struct th_result r = th_runv(NULL, NULL, "git", "config", "--file", cfg, "--add", key,
				     value, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	free(cfg);
}

Test(router, with_the_operators_nginx_a_failed_reload_puts_the_old_file_back)
{
	service_with_port("web.1", 20001);
	cr_assert_eq(switch_to(NULL, NULL), 0, "%s", sw_error_last());
	char *before = app_file();
	cr_assert_not_null(before);

	setenv("SLIPWAY_ROUTER", "apache", 1);
	cr_assert_eq(router_system(), 0);
	cr_assert_eq(switch_to(NULL, NULL), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "$SLIPWAY_ROUTER: invalid value 'apache': use own "
			 "(Slipway runs nginx) or system (an nginx of yours)");

	setenv("SLIPWAY_ROUTER", "system", 1);
	cr_assert_eq(router_system(), 1);
	service_with_port("web.2", 20002);
	cr_assert_eq(switch_to(NULL, NULL), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "slipway.router system needs slipway.routerReload: the "
			 "command that reloads your nginx, one word per value");
	char *after = app_file();
	cr_assert_str_eq(after, before, "the old file is back");
	free(after);

	char *reload = th_path("%s/reload", root);
	th_write(reload, "#!/bin/sh\necho checking\necho \"nginx: [emerg] $1 is bad\"\nexit 1\n", 0755);
	global_config("slipway.routerReload", reload);
	global_config("slipway.routerReload", "demo.conf");
	cr_assert_eq(switch_to(NULL, NULL), SW_ERROR);
	char *want = th_path("the router's reload (%s) failed: nginx: [emerg] demo.conf is bad", reload);
	cr_assert_str_eq(sw_error_last(), want);
	after = app_file();
	cr_assert_str_eq(after, before, "the old file is back");
	free(after);

	th_write(reload, "#!/bin/sh\nexit 0\n", 0755);
	cr_assert_eq(switch_to(NULL, NULL), 0, "%s", sw_error_last());
	after = app_file();
	char *abs = th_path("alias %s/router/pages/app-error.html;", root);
	cr_assert(strstr(after, "127.0.0.1:20002"), "%s", after);
	cr_assert(strstr(after, abs), "absolute paths for the operator's nginx: %s", after);
	free(abs);
	free(after);
	free(want);
	free(reload);
	free(before);
}

Test(router, refuses_to_start_on_a_port_in_use_or_without_nginx)
{
	if (access("/usr/sbin/nginx", X_OK))
		cr_skip_test("nginx is needed (run scripts/deps)");
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)http_port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 1), 0);
	cr_assert_eq(router_check(root), SW_ERROR);
	char *want = th_path("the router cannot listen on port %d: it is in use (set another with: "
			     "git config --global slipway.httpPort PORT)", http_port);
	cr_assert_str_eq(sw_error_last(), want);
	cr_assert_eq(router_prepare(root), SW_ERROR);
	cr_assert_str_eq(sw_error_last(), want);
	char *dir = th_path("%s/services/router", root);
	cr_assert_neq(access(dir, F_OK), 0, "no router service was written");
	close(fd);
	cr_assert_eq(router_check(root), 0, "%s", sw_error_last());

	setenv("SLIPWAY_NGINX", "/nonexistent/nginx", 1);
	cr_assert_eq(router_installed(root), 0);
	cr_assert_eq(router_check(root), SW_ERROR);
	cr_assert_str_eq(sw_error_last(), "nginx is not installed: install the nginx-light package "
			 "(or set slipway.nginx)");
	free(dir);
	free(want);
}

/* GET / through the router with Host: host; the status, the body into *body (may be NULL). */
static int get(const char *host, char **body)
{
	char *url = th_path("http://127.0.0.1:%d/", http_port), *hdr = th_path("Host: %s", host);
	struct th_result r = th_runv(NULL, NULL, "curl", "-s", "-m", "20", "-o", "-", "-w",
				     "\n%{http_code}", "-H", hdr, url, NULL);
	char *nl = strrchr(r.out, '\n');
	cr_assert_not_null(nl, "%s", r.err);
	int code = atoi(nl + 1);
	*nl = '\0';
	if (body)
		*body = xstrdup(r.out);
	th_result_free(&r);
	free(hdr);
	free(url);
	return code;
}

/* A backend on a free port of 127.0.0.1 whose every page is "backend says hi". */
static int start_backend(void)
{
	int port = th_free_port();
	char *dir = th_path("%s/www", root), *index = th_path("%s/index.html", dir);
	th_write(index, "backend says hi\n", 0644);
	char ports[16];
	snprintf(ports, sizeof(ports), "%d", port);
	backend = fork();
	cr_assert_geq(backend, 0);
	if (backend == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execl("/usr/bin/python3", "python3", "-m", "http.server", "-b", "127.0.0.1",
		      "-d", dir, ports, (char *)NULL);
		_exit(127);
	}
	free(rt_wait_get(port));
	free(index);
	free(dir);
	return port;
}

Test(router, the_real_nginx_serves_each_page_and_keeps_its_config_when_a_new_one_is_refused)
{
	if (access("/usr/sbin/nginx", X_OK) || access("/usr/bin/s6-svscan", X_OK))
		cr_skip_test("nginx and s6 are needed (run scripts/deps)");
	cr_assert_eq(router_prepare(root), 0, "%s", sw_error_last());
	struct supervisor_status st;
	cr_assert_eq(supervisor_start(root, &st), 0, "%s", sw_error_last());
	svscan = st.pid;
	cr_assert_eq(router_wait_running(root, 10), 1, "s6 runs the router");
	cr_assert_eq(router_health(root), ROUTER_CURRENT);

	char *body = NULL;
	cr_assert_eq(get("demo.apps.example.com", &body), 503);
	cr_assert(strstr(body, "Application error"), "no web instance yet: %s", body);
	free(body);
	cr_assert_eq(get("nosuch.apps.example.com", &body), 404);
	cr_assert(strstr(body, "No such app"), "%s", body);
	free(body);

	service_with_port("web.1", start_backend());
	cr_assert_eq(switch_to(NULL, NULL), 0, "%s", sw_error_last());
	cr_assert_eq(get("demo.apps.example.com", &body), 200);
	cr_assert_str_eq(body, "backend says hi\n");
	free(body);
	cr_assert_eq(router_health(root), ROUTER_CURRENT);

	/* a file nginx refuses (another app's, broken by hand): the switch changes nothing */
	char *before = app_file(), *other = th_path("%s/router/apps/other.conf", root);
	th_write(other, "this is not nginx\n", 0644);
	cr_assert_eq(maintenance_set(root, "demo", 1), 0);
	cr_assert_eq(switch_to(NULL, NULL), SW_ERROR);
	cr_assert(!strncmp(sw_error_last(), "the router refused the new configuration: ", 42),
		  "%s", sw_error_last());
	char *after = app_file();
	cr_assert_str_eq(after, before, "the old file is back");
	cr_assert_eq(get("demo.apps.example.com", &body), 200, "still served as before");
	free(body);
	cr_assert_eq(unlink(other), 0);
	cr_assert_eq(switch_to(NULL, NULL), 0, "%s", sw_error_last());
	cr_assert_eq(get("demo.apps.example.com", &body), 503);
	cr_assert(strstr(body, "Offline for maintenance"), "%s", body);
	free(body);

	/* a file changed behind its back (no switch, no reload): what it serves is stale */
	char *conf = th_path("%s/router/apps/demo.conf", root), *text = app_file();
	char *edited = th_path("%s# edited by hand\n", text);
	th_write(conf, edited, 0644);
	cr_assert_eq(router_health(root), ROUTER_STALE);
	cr_assert_eq(switch_to(NULL, NULL), 0, "%s", sw_error_last());
	cr_assert_eq(router_health(root), ROUTER_CURRENT);
	free(edited);
	free(text);
	free(conf);

	cr_assert_eq(router_stop(root, 10), 0, "%s", sw_error_last());
	cr_assert_eq(router_running(root), 0);
	cr_assert_eq(router_health(root), ROUTER_STOPPED);
	free(after);
	free(other);
	free(before);
}

Test(router, for_the_operators_nginx_prepare_writes_the_includes_and_runs_its_reload)
{
	setenv("SLIPWAY_ROUTER", "system", 1);
	char *reload = th_path("%s/reload", root), *called = th_path("%s/reloaded", root);
	char *script = th_path("#!/bin/sh\necho \"$@\" >> '%s'\n", called);
	th_write(reload, script, 0755);
	global_config("slipway.routerReload", reload);
	global_config("slipway.routerReload", "now");
	cr_assert_eq(router_prepare(root), 0, "%s", sw_error_last());
	char *said = th_read(called, NULL);
	cr_assert_str_eq(said, "now\n", "its reload ran once, as an argv");
	char *http = th_path("%s/router/http.conf", root), *main_conf = th_path("%s/router/nginx.conf",
										 root);
	cr_assert_eq(access(http, F_OK), 0, "the operator's nginx includes http.conf");
	cr_assert_neq(access(main_conf, F_OK), 0, "no nginx.conf of Slipway's own");
	char *conf = app_file();
	cr_assert_not_null(conf, "every app's file is written");
	char *abs = th_path("alias %s/router/pages/app-error.html;", root);
	cr_assert(strstr(conf, abs), "%s", conf);
	free(abs);
	free(conf);
	free(main_conf);
	free(http);
	free(said);
	free(script);
	free(called);
	free(reload);
}

Test(router, the_operators_nginx_needs_a_root_it_can_name)
{
	setenv("SLIPWAY_ROUTER", "system", 1);
	char *odd = th_path("%s/odd root", root);
	cr_assert_eq(mkdir(odd, 0755), 0);
	cr_assert_eq(router_check(odd), SW_EINVALID);
	char *want = th_path("slipway.router system needs a root whose path has only letters, "
			     "digits and / . _ - (not '%s')", odd);
	cr_assert_str_eq(sw_error_last(), want);
	free(want);
	free(odd);
}
