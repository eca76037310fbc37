/*
 * exec/appnet: whether this user's app processes can get a network of
 * their own (appnet_usable()): a tap device the user cannot open
 * read-write is refused with its mode and the fix; the same file opened
 * to everyone is fine (the control); a missing one says so.  Asked as an
 * unprivileged user, since root opens any file: as nobody when the tests
 * run as root.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include "exec/appnet.h"

#include <criterion/criterion.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOBODY 65534

static char *dir, *tun;

static void setup(void)
{
	dir = th_sandbox();
	/* nobody reaches the file through its directory */
	cr_assert_eq(chmod(dir, 0755), 0);
	tun = th_path("%s/tun", dir);
}

static void teardown(void)
{
	free(tun);
	th_sandbox_free(dir);
}

TestSuite(appnet, .init = setup, .fini = teardown, .timeout = 60);

struct answer {
	int usable;
	char why[1024];
};

/* appnet_usable(path) asked by an unprivileged user (a child, as nobody under root). */
static struct answer ask(const char *path)
{
	struct answer a = { -1, "" };
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (geteuid() == 0 &&
		    (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0))
			_exit(1);
		char *why = NULL;
		struct answer got = { appnet_usable(path, &why), "" };
		snprintf(got.why, sizeof(got.why), "%s", why ? why : "");
		_exit(write(fds[1], &got, sizeof(got)) == (ssize_t)sizeof(got) ? 0 : 1);
	}
	close(fds[1]);
	cr_assert_eq(read(fds[0], &a, sizeof(a)), (ssize_t)sizeof(a), "the child did not answer");
	close(fds[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return a;
}

/* The name the unprivileged user of ask() goes by. */
static char *asker(void)
{
	struct passwd *pw = getpwuid(geteuid() == 0 ? NOBODY : geteuid());
	return pw ? strdup(pw->pw_name) : th_path("uid %d", geteuid() == 0 ? NOBODY : (int)geteuid());
}

Test(appnet, a_device_the_user_cannot_open_is_refused_with_its_mode_and_the_fix)
{
	if (access("/usr/bin/" APPNET_PROGRAM, X_OK))
		cr_skip_test(APPNET_PROGRAM " is needed (run scripts/deps)");
	/* root's 0600 (as /dev/net/tun is where it is not Debian's default); our own 0000 else */
	int mode = geteuid() == 0 ? 0600 : 0;
	th_write(tun, "", mode);
	cr_assert_eq(chmod(tun, mode), 0);
	char *user = asker();
	char *want = th_path("%s is not usable by %s (mode %04o; chmod 0666 %s, Debian's default, "
			     "or set slipway.appNetwork host)", tun, user, mode, tun);
	struct answer a = ask(tun);
	cr_assert_eq(a.usable, 0);
	cr_assert_str_eq(a.why, want);

	/* the control: the same file, open to everyone */
	cr_assert_eq(chmod(tun, 0666), 0);
	a = ask(tun);
	cr_assert_eq(a.usable, 1, "%s", a.why);
	cr_assert_str_eq(a.why, "");
	free(want);
	free(user);
}

Test(appnet, a_missing_device_says_so)
{
	if (access("/usr/bin/" APPNET_PROGRAM, X_OK))
		cr_skip_test(APPNET_PROGRAM " is needed (run scripts/deps)");
	struct answer a = ask(tun);
	char *want = th_path("%s does not exist (load the tun module: modprobe tun; or set "
			     "slipway.appNetwork host)", tun);
	cr_assert_eq(a.usable, 0);
	cr_assert_str_eq(a.why, want);
	free(want);
}
