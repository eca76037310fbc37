/*
 * net.h - what the runtime asks of TCP ports on this machine.
 *
 * Part of util/: includes nothing outside util/; prints nothing.
 */
#ifndef SW_NET_H
#define SW_NET_H

/* 1 when something accepts connections on 127.0.0.1:port now. */
int net_accepts(int port);

/* 1 when port can be bound on every address now (nothing listens on it). */
int net_port_free(int port);

#endif
