/*
 * client.h - output to a client that may stop reading.
 *
 * Part of cli/: may use every folder; with hooks/ the only one that prints on
 * its own.
 *
 * A writer (a push hook, config:set, rollback) must finish its release
 * even when the one reading its output is gone.  A closed pipe is easy
 * (writes fail with EPIPE, SIGPIPE is ignored); a reader that is still
 * there but never reads again is not: git-receive-pack keeps the hook's
 * pipe open after its pusher disconnected, and once the pipe is full every
 * write would block for good, with the app lock held.  client_guard()
 * puts a stream in front of such a file descriptor: each write waits at
 * most `timeout_sec` for room, and a client that lets it time out is taken
 * for gone - the rest of the output is dropped and the work goes on.
 *
 * Terminals are left alone (a person at one may pause it with ^S).
 *
 *     client_guard(&stdout, STDOUT_FILENO, 60);   // after SIGPIPE is ignored
 */
#ifndef SW_CLIENT_H
#define SW_CLIENT_H

#include <stdio.h>

/*
 * Replaces *stream (stdout or stderr, on fd) with a guarded stream when fd
 * is a pipe or a socket; stderr stays unbuffered.  Returns 0, or -1 (and
 * leaves *stream) when the stream cannot be made.
 */
int client_guard(FILE **stream, int fd, int timeout_sec);

/* 1 once a guarded stream has given up on its client. */
int client_gone(void);

/*
 * Flushes and closes the guarded streams (not their file descriptors) and
 * puts the original stdout and stderr back.  The result of the flush: 0,
 * or EOF with errno set.
 */
int client_release(void);

#endif
