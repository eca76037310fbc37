/*
 * caps.h - the capabilities the programs slipway starts inherit.
 *
 * Part of util/: includes nothing project-wide; prints nothing.
 *
 * A server user that is not root may be given CAP_NET_BIND_SERVICE as an
 * ambient capability (systemd's AmbientCapabilities=, or setpriv
 * --inh-caps --ambient-caps) so that the router's nginx listens on ports
 * 80 and 443.  Ambient capabilities pass to every program exec'ed, and
 * bubblewrap, which is not setuid, refuses to start with any ("Unexpected
 * capabilities but not setuid"); nor has app code any use for them.  So
 * slipway clears its ambient and inheritable sets as it starts, and gives
 * them back only to the supervision tree (s6-svscan), whose run programs
 * clear them again but for nginx's (runtime/supervisor.h).  This process
 * keeps its own permitted and effective sets: only children lose them.
 *
 *     caps_drop_inherited();          // main(), before anything starts a child
 *     ...
 *     if (fork() == 0) {
 *             caps_restore_inherited(); // only the tree that starts nginx
 *             execv(...);
 *     }
 */
#ifndef SW_CAPS_H
#define SW_CAPS_H

/*
 * Clears the ambient capabilities and the inheritable set of this process,
 * remembering them for caps_restore_inherited().  0, or -1 with errno set
 * (a kernel without ambient capabilities has none to clear: 0).
 */
int caps_drop_inherited(void);

/*
 * Gives back what caps_drop_inherited() cleared (those still permitted);
 * nothing if it cleared nothing.  Only system calls: async-signal-safe,
 * for a child between fork and exec.  0, or -1 with errno set.
 */
int caps_restore_inherited(void);

/*
 * 1 if this process may listen on TCP port: one at or above the kernel's
 * net.ipv4.ip_unprivileged_port_start (1024 unless changed), or any with
 * CAP_NET_BIND_SERVICE in its effective set; else 0.
 */
int caps_may_bind(int port);

#endif
