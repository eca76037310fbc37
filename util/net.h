/*
 * net.h - what the runtime asks of TCP ports on this machine.
 *
 * Part of util/: includes nothing outside util/; prints nothing.
 */
#ifndef SW_NET_H
#define SW_NET_H

#include <sys/types.h>

/* This machine's loopback address, where Slipway reaches what runs here. */
#define NET_LOOPBACK "127.0.0.1"

/* 1 when something accepts connections on 127.0.0.1:port now. */
int net_accepts(int port);

/* 1 when port can be bound on every address now (nothing listens on it). */
int net_port_free(int port);

/*
 * 1 when a server that sets SO_REUSEADDR, as nginx does, can listen on
 * address:port now (address: an IPv4 address, or "" for every address):
 * connections of an earlier server on it that are closing down
 * (TIME_WAIT) do not count, as they do for net_port_free().
 */
int net_port_listenable(const char *address, int port);

/*
 * Whether the process pid or one of its descendants holds a socket that
 * listens on TCP port (IPv4 or IPv6, any address) in its own network
 * namespace (the host's, or one of its own): 1 yes, 0 no (another
 * process's listener, or none), -1 when it cannot be told (/proc
 * unreadable).  What a port that accepts connections is worth: that they
 * reach the process started for it, not something else that took the port.
 */
int net_tree_listens(pid_t pid, int port);

/*
 * The inodes of the TCP sockets listening in pid's network namespace (any
 * port) that pid holds open, up to max into inodes; how many, -1 when it
 * cannot be told.  With net_holds_socket(): whether a process that shares
 * them (an nginx worker) still accepts on them.
 */
int net_listeners_held(pid_t pid, unsigned long *inodes, int max);

/* 1 when pid holds one of the n sockets inodes names open, 0 if not, -1 if unreadable (gone). */
int net_holds_socket(pid_t pid, const unsigned long *inodes, int n);

/*
 * 1 when pid's tree serves port: it accepts connections on 127.0.0.1 and
 * net_tree_listens() says yes.  0 otherwise, also when it cannot be told
 * (a process of the tree vanished mid-scan, /proc unreadable): the caller
 * asks again later.  What the gate and an instance's "up" wait for.
 */
int net_tree_serves(pid_t pid, int port);

#endif
