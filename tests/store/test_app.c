/*
 * store/app: what a git remote's URL names - an ssh server (its login and
 * port) or a path here, and the app.
 */
#include "tests/helpers.h"

#include "store/app.h"
#include "util/error.h"

#include <criterion/criterion.h>
#include <string.h>

static void parses(const char *url, enum app_remote_kind kind, const char *login,
		   const char *port, const char *app)
{
	struct app_remote r = APP_REMOTE_INIT;
	cr_assert_eq(app_remote_parse(&r, url), 0, "'%s': %s", url, sw_error_last());
	cr_assert_eq(r.kind, kind, "'%s': kind %d", url, r.kind);
	if (login)
		cr_assert_str_eq(r.login, login, "'%s'", url);
	else
		cr_assert_null(r.login, "'%s'", url);
	if (port)
		cr_assert_str_eq(r.port, port, "'%s'", url);
	else
		cr_assert_null(r.port, "'%s'", url);
	if (app)
		cr_assert_str_eq(r.app, app, "'%s'", url);
	else
		cr_assert_null(r.app, "'%s': app %s", url, r.app);
	cr_assert_null(r.ssh_command);
	app_remote_release(&r);
}

Test(app_remote, ssh_urls_name_the_login_the_port_and_the_app)
{
	parses("git@host:myapp.git", APP_REMOTE_SSH, "git@host", NULL, "myapp");
	parses("host:myapp.git", APP_REMOTE_SSH, "host", NULL, "myapp");
	parses("host:~/myapp.git", APP_REMOTE_SSH, "host", NULL, "myapp");
	parses("deploy.example.com:apps/my-app2", APP_REMOTE_SSH, "deploy.example.com", NULL,
	       "my-app2");
	parses("ssh://git@host/myapp.git", APP_REMOTE_SSH, "git@host", NULL, "myapp");
	parses("ssh://git@127.0.0.1:2222/myapp.git", APP_REMOTE_SSH, "git@127.0.0.1", "2222",
	       "myapp");
	parses("ssh://host/~/myapp.git/", APP_REMOTE_SSH, "host", NULL, "myapp");
	parses("git+ssh://host/myapp", APP_REMOTE_SSH, "host", NULL, "myapp");
	parses("ssh+git://u@host:22/x/myapp.git", APP_REMOTE_SSH, "u@host", "22", "myapp");
	parses("ssh://git@[::1]:2222/myapp.git", APP_REMOTE_SSH, "git@::1", "2222", "myapp");
	parses("git@[::1]:myapp.git", APP_REMOTE_SSH, "git@::1", NULL, "myapp");
	/* a server, but no valid app name: the command must be told -a APP */
	parses("git@host:MyApp.git", APP_REMOTE_SSH, "git@host", NULL, NULL);
	parses("ssh://host/", APP_REMOTE_SSH, "host", NULL, NULL);
}

Test(app_remote, paths_and_file_urls_are_local)
{
	parses("/srv/git/apps/myapp.git", APP_REMOTE_LOCAL, NULL, NULL, "myapp");
	parses("../apps/myapp.git", APP_REMOTE_LOCAL, NULL, NULL, "myapp");
	parses("./x/y:z/myapp.git", APP_REMOTE_LOCAL, NULL, NULL, "myapp");
	parses("file:///srv/apps/myapp.git", APP_REMOTE_LOCAL, NULL, NULL, "myapp");
	parses("https://git.example.com/team/myapp.git", APP_REMOTE_OTHER, NULL, NULL, "myapp");
}

static void refused(const char *url, const char *msg)
{
	struct app_remote r = APP_REMOTE_INIT;
	cr_assert_eq(app_remote_parse(&r, url), SW_EINVALID, "'%s' was accepted", url);
	cr_assert(strstr(sw_error_last(), msg), "'%s': %s", url, sw_error_last());
	app_remote_release(&r);
	cr_assert_null(r.login);
	cr_assert_null(r.app);
}

Test(app_remote, hosts_that_ssh_would_take_for_options_are_refused)
{
	refused("-oProxyCommand=touch%20x:myapp.git", "names no usable ssh host");
	refused("ssh://-oProxyCommand=x/myapp.git", "names no usable ssh host");
	refused("ssh://-u@host/myapp.git", "names no usable ssh host");
	refused("ssh:///myapp.git", "names no usable ssh host");
	refused(":myapp.git", "names no usable ssh host");
	refused("ssh://host:22x/myapp.git", "invalid port '22x'");
	refused("ssh://host:/myapp.git", "invalid port ''");
}
