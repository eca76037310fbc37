#define _GNU_SOURCE
#include "util/tty.h"

#include "util/error.h"
#include "util/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int tty_pty_open(struct tty_pty *t, int size_fd)
{
	struct winsize ws;
	int have_size = ioctl(size_fd, TIOCGWINSZ, &ws) == 0;
	if (openpty(&t->master, &t->slave, t->name, NULL, have_size ? &ws : NULL) < 0) {
		t->master = t->slave = -1;
		return sw_error_errno(SW_ERROR, "cannot open a terminal for the process");
	}
	fcntl(t->master, F_SETFD, FD_CLOEXEC);
	fcntl(t->slave, F_SETFD, FD_CLOEXEC);
	/* never blocks the relay: input the process does not read must not stop its output */
	fcntl(t->master, F_SETFL, fcntl(t->master, F_GETFL) | O_NONBLOCK);
	return 0;
}

void tty_pty_close_slave(struct tty_pty *t)
{
	if (t->slave >= 0)
		close(t->slave);
	t->slave = -1;
}

int tty_raw(struct tty_pty *t, int fd)
{
	struct termios raw;
	if (tcgetattr(fd, &t->modes) < 0)
		return 0;
	raw = t->modes;
	cfmakeraw(&raw);
	if (tcsetattr(fd, TCSADRAIN, &raw) < 0)
		return sw_error_errno(SW_ERROR, "cannot put the terminal in raw mode");
	t->raw_fd = fd;
	return 0;
}

void tty_pty_release(struct tty_pty *t)
{
	if (t->raw_fd >= 0)
		tcsetattr(t->raw_fd, TCSADRAIN, &t->modes);
	t->raw_fd = -1;
	tty_pty_close_slave(t);
	if (t->master >= 0)
		close(t->master);
	t->master = -1;
}

static volatile sig_atomic_t resized;

static void on_winch(int sig)
{
	(void)sig;
	resized = 1;
}

/* The client's window size to the master: the kernel tells the process (SIGWINCH). */
static void pass_size(const struct tty_relay *r)
{
	struct winsize ws;
	if (ioctl(r->in, TIOCGWINSZ, &ws) == 0)
		ioctl(r->master, TIOCSWINSZ, &ws);
}

void tty_relay_start(struct tty_relay *r, const struct tty_pty *t, int in, int out)
{
	struct sigaction sa = { .sa_handler = on_winch };
	sigset_t winch;
	memset(r, 0, sizeof(*r));
	r->in = in;
	r->out = out;
	r->master = t->master;
	r->in_open = r->master_open = 1;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGWINCH, &sa, &r->old_winch);
	sigemptyset(&winch);
	sigaddset(&winch, SIGWINCH);
	sigprocmask(SIG_BLOCK, &winch, &r->old_mask);
	resized = 0;
	pass_size(r);
}

int tty_relay_fds(const struct tty_relay *r, struct pollfd *pfd)
{
	int n = 0;
	/* input is read only when there is room for it, output the same */
	if (r->in_open && r->to_master_n < sizeof(r->to_master))
		pfd[n++] = (struct pollfd){ .fd = r->in, .events = POLLIN };
	if (r->master_open) {
		short ev = r->to_out_n < sizeof(r->to_out) ? POLLIN : 0;
		if (r->to_master_n)
			ev |= POLLOUT;
		pfd[n++] = (struct pollfd){ .fd = r->master, .events = ev };
	}
	if (r->to_out_n)
		pfd[n++] = (struct pollfd){ .fd = r->out, .events = POLLOUT };
	return n;
}

/* Reads what fd has into buf after *len; 0 at its end or on an error. */
static int fill(int fd, char *buf, size_t size, size_t *len)
{
	ssize_t got = read(fd, buf + *len, size - *len);
	if (got < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (got <= 0)
		return 0; /* the master says EIO once no slave is open */
	*len += (size_t)got;
	return 1;
}

/* Writes what buf holds to fd, as much as it takes; 0 on an error (the rest dropped). */
static int flush(int fd, char *buf, size_t *len)
{
	ssize_t put = write(fd, buf, *len);
	if (put < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (put < 0) {
		*len = 0; /* nobody reads it any more: the process must not block on it */
		return 0;
	}
	memmove(buf, buf + put, *len - (size_t)put);
	*len -= (size_t)put;
	return 1;
}

void tty_relay_step(struct tty_relay *r, const struct pollfd *pfd, int n)
{
	if (resized) { /* first: input typed after a resize finds the new size */
		resized = 0;
		pass_size(r);
	}
	for (int i = 0; i < n; i++) {
		short ev = pfd[i].revents;
		if (!ev)
			continue;
		/* a hangup comes whatever was asked: read only with room for what it brings */
		int readable = ev & (POLLIN | POLLHUP | POLLERR);
		if (pfd[i].fd == r->in && readable && r->to_master_n < sizeof(r->to_master))
			r->in_open = fill(r->in, r->to_master, sizeof(r->to_master), &r->to_master_n);
		else if (pfd[i].fd == r->master) {
			if ((ev & POLLOUT) && r->to_master_n)
				flush(r->master, r->to_master, &r->to_master_n);
			if (readable && r->to_out_n < sizeof(r->to_out))
				r->master_open = fill(r->master, r->to_out, sizeof(r->to_out),
						      &r->to_out_n);
		} else if (pfd[i].fd == r->out && (ev & (POLLOUT | POLLERR | POLLHUP))) {
			flush(r->out, r->to_out, &r->to_out_n);
		}
	}
}

void tty_relay_drain(struct tty_relay *r)
{
	fs_write_all(r->out, r->to_out, r->to_out_n);
	r->to_out_n = 0;
	while (r->master_open) {
		struct pollfd p = { .fd = r->master, .events = POLLIN };
		if (poll(&p, 1, 0) <= 0 || !p.revents)
			break;
		r->master_open = fill(r->master, r->to_out, sizeof(r->to_out), &r->to_out_n);
		fs_write_all(r->out, r->to_out, r->to_out_n);
		r->to_out_n = 0;
	}
}

void tty_relay_stop(struct tty_relay *r)
{
	sigaction(SIGWINCH, &r->old_winch, NULL);
	sigprocmask(SIG_SETMASK, &r->old_mask, NULL);
}
