/*
 * util/caps.h: what a process holding CAP_NET_BIND_SERVICE as an ambient
 * capability passes on after caps_drop_inherited() (nothing), and after
 * caps_restore_inherited() (the capability again), read from
 * /proc/self/status of a program it execs.
 */
#define _GNU_SOURCE
#include "util/caps.h"
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIND_CAP "0000000000000400"
#define NO_CAPS "0000000000000000"

/* In a child: makes CAP_NET_BIND_SERVICE inheritable and ambient (root may). */
static int raise_bind(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -1;
	data[0].inheritable |= 1u << CAP_NET_BIND_SERVICE;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -1;
	return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0);
}

/*
 * The CapInh and CapAmb lines a program exec'ed by a child shows, the child
 * having raised the capability (raise), then dropped (drop) and restored
 * (restore) what it inherits.
 */
static char *exec_sees(int raise, int drop, int restore)
{
	int fd[2];
	cr_assert_eq(pipe(fd), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(fd[1], 1);
		if ((raise && raise_bind() < 0) || (drop && caps_drop_inherited() < 0) ||
		    (restore && caps_restore_inherited() < 0))
			_exit(2);
		execl("/bin/grep", "grep", "-E", "^Cap(Inh|Amb):", "/proc/self/status", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	char buf[256];
	ssize_t n = read(fd[0], buf, sizeof(buf) - 1);
	close(fd[0]);
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	buf[n > 0 ? n : 0] = '\0';
	return strdup(buf);
}

Test(caps, children_inherit_nothing_after_a_drop_and_all_again_after_a_restore)
{
	if (geteuid() != 0)
		cr_skip_test("root is needed to raise an ambient capability");
	/* the control: what a child passes on when nothing is dropped */
	char *s = exec_sees(1, 0, 0);
	cr_assert_str_eq(s, "CapInh:\t" BIND_CAP "\nCapAmb:\t" BIND_CAP "\n");
	free(s);
	s = exec_sees(1, 1, 0);
	cr_assert_str_eq(s, "CapInh:\t" NO_CAPS "\nCapAmb:\t" NO_CAPS "\n");
	free(s);
	s = exec_sees(1, 1, 1);
	cr_assert_str_eq(s, "CapInh:\t" BIND_CAP "\nCapAmb:\t" BIND_CAP "\n");
	free(s);
	/* with nothing to drop, a restore gives nothing */
	s = exec_sees(0, 1, 1);
	cr_assert_str_eq(s, "CapInh:\t" NO_CAPS "\nCapAmb:\t" NO_CAPS "\n");
	free(s);
}
