/*
 * util/net: a port that accepts connections is told apart by who listens
 * on it - the process started for it (or one of its children), or
 * something else.
 */
#define _GNU_SOURCE
#include "util/net.h"

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A socket listening on a free port of 127.0.0.1; its port in *port. */
static int listen_any(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 4), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* A child that sleeps (and holds what it inherited unless told to close it). */
static pid_t child(int close_fd)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		if (close_fd >= 0)
			close(close_fd);
		pause();
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

Test(net, the_listening_process_and_its_parents_tree_own_the_port)
{
	int port, fd = listen_any(&port);
	cr_assert_eq(net_accepts(port), 1);
	cr_assert_eq(net_tree_listens(getpid(), port), 1);
	close(fd);
	cr_assert_eq(net_tree_listens(getpid(), port), 0, "nothing listens any more");
}

Test(net, a_listener_in_a_child_counts_for_the_parent_not_for_a_sibling)
{
	int port, fd = listen_any(&port);
	pid_t holder = fork();
	cr_assert(holder >= 0);
	if (holder == 0) {
		pause();
		_exit(0);
	}
	close(fd); /* only the child listens now */
	pid_t other = child(-1);
	cr_assert_eq(net_accepts(port), 1);
	cr_assert_eq(net_tree_listens(getpid(), port), 1, "the child is in this process's tree");
	cr_assert_eq(net_tree_listens(holder, port), 1);
	cr_assert_eq(net_tree_listens(other, port), 0, "a sibling does not own the port");
	reap(other);
	reap(holder);
}

Test(net, a_port_nobody_listens_on_is_nobodys)
{
	int port, fd = listen_any(&port);
	close(fd);
	cr_assert_eq(net_accepts(port), 0);
	cr_assert_eq(net_tree_listens(getpid(), port), 0);
}

/* The pid of a process that has just exited (and been reaped). */
static pid_t gone_pid(void)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

Test(net, a_tree_serves_its_port_only_when_it_surely_listens)
{
	int port, fd = listen_any(&port);
	cr_assert_eq(net_tree_serves(getpid(), port), 1);
	/* the process the gate asked about is gone: it cannot be told, which is not "up" */
	pid_t gone = gone_pid();
	cr_assert_eq(net_tree_listens(gone, port), -1, "a vanished process cannot be read");
	cr_assert_eq(net_tree_serves(gone, port), 0, "a port taken by another process served");
	/* a service that is down has no pid (0): the port another process listens on is not its */
	cr_assert_eq(net_tree_serves(0, port), 0, "a down service served its port");
	close(fd);
	cr_assert_eq(net_tree_serves(getpid(), port), 0, "nothing listens any more");
}

/* What an nginx worker that stopped accepting looks like: it closed the listening socket it shares. */
Test(net, a_process_that_closed_a_shared_listening_socket_holds_it_no_more)
{
	int port, fd = listen_any(&port);
	struct stat st;
	cr_assert_eq(fstat(fd, &st), 0);
	unsigned long socks[8];
	int n = net_listeners_held(getpid(), socks, 8), mine = 0;
	for (int i = 0; i < n; i++)
		mine |= socks[i] == (unsigned long)st.st_ino;
	cr_assert(mine, "the listening socket is among the %d this process holds", n);
	pid_t holder = child(-1), closer = child(fd);
	int r = 1;
	for (int i = 0; i < 200 && r; i++) {
		r = net_holds_socket(closer, socks, n);
		if (r)
			usleep(10 * 1000);
	}
	cr_assert_eq(r, 0, "the child that closed it holds it no more");
	cr_assert_eq(net_holds_socket(holder, socks, n), 1, "the one that kept it still holds it");
	reap(closer);
	cr_assert_eq(net_holds_socket(closer, socks, n), -1, "a process that is gone cannot be told");
	reap(holder);
	close(fd);
}
