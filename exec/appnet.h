/*
 * appnet.h - an app process's own network: the forwarder that connects a
 * sandbox's empty network namespace to the host.
 *
 * Part of exec/: uses util/; writes only to the fd it is given.
 *
 * Under slipway.appNetwork private (the default) every process and
 * one-off starts in a network namespace of its own (bubblewrap's, with
 * only its loopback), and appnet_start() attaches pasta (Debian's passt
 * package) to it:
 *
 *   outbound       connections and UDP (DNS) leave through the host's
 *                  sockets, as the host's own would; the namespace gets
 *                  the host's address and routes
 *   inbound        only the host's 127.0.0.1:port reaches port inside (for
 *                  a web process, its $PORT); nothing when port is 0
 *   the host       none of its loopback services (sshd, the router, other
 *                  apps' instances) is reachable from inside: no port of
 *                  the host is forwarded into the namespace and the
 *                  gateway is not mapped to the host - but the ports asked
 *                  for (host_ports: the app's add-ons'), each the host's
 *                  127.0.0.1:P reached at 127.0.0.1:P inside
 *
 * What the app binds inside stays inside: another app binding the same
 * port number changes nothing on the host, and no app can take or exhaust
 * another's port.
 *
 * The forwarder is a child of the caller, dies with it (PR_SET_PDEATHSIG)
 * and is ended by appnet_stop().
 *
 *     struct appnet an = APPNET_INIT;
 *     if (appnet_start(&an, child_pid, port, NULL, NULL, out_fd) == 0) {
 *             ... let the sandbox run, wait for it ...
 *     }
 *     appnet_stop(&an);
 */
#ifndef SW_APPNET_H
#define SW_APPNET_H

#include <sys/types.h>

/* The forwarder: the program pasta, looked for in APPNET_PATH. */
#define APPNET_PROGRAM "pasta"
#define APPNET_PATH "/usr/local/bin:/usr/bin:/bin"

/* The device the forwarder opens inside each namespace: its end of the network's tap. */
#define APPNET_TUN "/dev/net/tun"

struct appnet {
	pid_t pid;       /* the forwarder; 0 when none runs */
};
#define APPNET_INIT { 0 }

/* An IPv4 or IPv6 address as text, with its NUL. */
#define APPNET_ADDR_MAX 64

/*
 * Whether this user's app processes can get their own network here: the
 * forwarder is installed (in APPNET_PATH) and tun (APPNET_TUN; a test
 * gives a file of its own) opens read-write for this user, as the
 * forwarder opens it.  1; or 0 with *why (malloc'ed), one line naming the
 * cause and the fix ("/dev/net/tun is not usable by git (mode 0600; chmod
 * 0666 /dev/net/tun, Debian's default)").  Makes nothing; for
 * server:status and server:start to say before an instance fails.
 */
int appnet_usable(const char *tun, char **why);

/*
 * The resolv.conf the namespace needs when the host's (host_file) names a
 * resolver on the host's loopback first (systemd-resolved's 127.0.0.53, a
 * local dnsmasq), which nothing inside reaches: the host's file with its
 * nameservers replaced by the host's gateway address, which the forwarder
 * then maps to that resolver.  1 with *conf (malloc'ed) and dns (that
 * address) set; 0 when the host's file serves inside as it is.
 */
int appnet_resolv_conf(const char *host_file, char **conf, char dns[APPNET_ADDR_MAX]);

/*
 * Starts the forwarder for the network namespace of target (a process of
 * the sandbox: bubblewrap's "child-pid") and waits until it is ready: the
 * namespace configured and, when port > 0, the host's 127.0.0.1:port bound
 * for it.  host_ports (0-terminated, or NULL): the host's loopback ports
 * that connections to the same port on the namespace's loopback reach.
 * dns (appnet_resolv_conf()'s, or NULL): the address inside whose DNS
 * queries go to the host's first resolver.  Its error messages go to
 * err_fd (> 0; else /dev/null).  SW_ERROR with one line naming the cause
 * and the fix (install passt, or set slipway.appNetwork host) when it
 * cannot; nothing then runs.
 */
int appnet_start(struct appnet *an, pid_t target, int port, const int *host_ports, const char *dns,
		 int err_fd);

/* 1 while the forwarder runs (it is reaped when it has ended). */
int appnet_running(struct appnet *an);

/* Ends the forwarder and reaps it; nothing when none runs. */
void appnet_stop(struct appnet *an);

#endif
