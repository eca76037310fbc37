/*
 * tty.h - a terminal for a process that runs elsewhere: a pseudo-terminal
 * pair, the client's terminal in raw mode, and the bytes copied between
 * them (what `slipway run` does when its stdin is a terminal, as
 * `heroku run` does).
 *
 * Part of util/: includes nothing outside util/; prints nothing.
 *
 * The process gets the pair's slave as its stdin, stdout, stderr and
 * controlling terminal; this process keeps the master.  While it runs, the
 * client's terminal is raw: every key, ^C and ^Z included, goes to the
 * slave's line discipline, which makes the signals for the process's
 * foreground group.  The relay copies the client's input to the master and
 * the master's output to the client, and passes the client's window size
 * on at every SIGWINCH.
 *
 *     struct tty_pty t = TTY_PTY_INIT;
 *     if (tty_pty_open(&t, 0) < 0) ...;       // size of fd 0's terminal
 *     ... start the process with t.slave as its terminal ...
 *     tty_pty_close_slave(&t);                 // ours: the master then sees its hangup
 *     tty_raw(&t, 0);
 *     struct tty_relay r;
 *     tty_relay_start(&r, &t, 0, 1);
 *     while (running) {
 *             struct pollfd pfd[TTY_RELAY_FDS];
 *             int n = tty_relay_fds(&r, pfd);
 *             ppoll(pfd, n, NULL, &mask);      // SIGWINCH unblocked in mask
 *             tty_relay_step(&r, pfd, n);
 *     }
 *     tty_relay_drain(&r);                     // what it wrote before it ended
 *     tty_relay_stop(&r);
 *     tty_pty_release(&t);                     // the client's modes back
 */
#ifndef SW_TTY_H
#define SW_TTY_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <termios.h>

#define TTY_NAME_MAX 64

struct tty_pty {
	int master, slave;          /* -1 when closed */
	char name[TTY_NAME_MAX];    /* the slave's path: /dev/pts/N */
	int raw_fd;                 /* >= 0: the terminal tty_raw() changed, saved in modes */
	struct termios modes;
};
#define TTY_PTY_INIT { .master = -1, .slave = -1, .raw_fd = -1 }

/*
 * Opens a pair (both close-on-exec, the master non-blocking) whose size is
 * that of the terminal on size_fd (none when it has none).  SW_ERROR when the system has no pty
 * left.
 */
int tty_pty_open(struct tty_pty *t, int size_fd);

/* Closes this process's copy of the slave, once the process has its own. */
void tty_pty_close_slave(struct tty_pty *t);

/*
 * Puts the terminal on fd in raw mode (no echo, no line editing, no
 * signals from keys, no output processing), its modes saved in t; 0 when
 * fd is no terminal (nothing to do).
 */
int tty_raw(struct tty_pty *t, int fd);

/* Restores the modes tty_raw() saved (once), closes what is open. */
void tty_pty_release(struct tty_pty *t);

#define TTY_RELAY_BUF 4096
#define TTY_RELAY_FDS 4

struct tty_relay {
	int in, out, master;        /* the client's input and output; t's master */
	int in_open, master_open;   /* not yet at end (or error) */
	char to_master[TTY_RELAY_BUF];
	size_t to_master_n;
	char to_out[TTY_RELAY_BUF];
	size_t to_out_n;
	sigset_t old_mask;
	struct sigaction old_winch;
};

/*
 * Starts copying between in/out and t's master: SIGWINCH is caught and
 * blocked (let it in only while waiting, in ppoll's mask), and the window
 * size is passed on once now, in case it changed since tty_pty_open().
 */
void tty_relay_start(struct tty_relay *r, const struct tty_pty *t, int in, int out);

/* Fills pfd (TTY_RELAY_FDS entries) with what to wait for; how many. */
int tty_relay_fds(const struct tty_relay *r, struct pollfd *pfd);

/* Copies what pfd says is ready, and the window size after a SIGWINCH. */
void tty_relay_step(struct tty_relay *r, const struct pollfd *pfd, int n);

/*
 * After the process ended: copies to out what the master still holds,
 * without waiting for more.
 */
void tty_relay_drain(struct tty_relay *r);

/* SIGWINCH's handling and the signal mask as they were before tty_relay_start(). */
void tty_relay_stop(struct tty_relay *r);

#endif
