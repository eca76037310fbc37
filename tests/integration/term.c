#define _GNU_SOURCE
#include "tests/integration/term.h"

#include <criterion/criterion.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

static struct term *running; /* stopped by term_teardown() if a test fails */

void term_start(struct term *t, const struct app_sandbox *sb, const char *dir,
		const char *const *extra, const char *const *argv, int rows, int cols)
{
	struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
	memset(t, 0, sizeof(*t));
	cr_assert_eq(openpty(&t->master, &t->slave, NULL, NULL, &ws), 0);
	cr_assert_eq(tcgetattr(t->slave, &t->before), 0);
	running = t;
	t->pid = fork();
	cr_assert_geq(t->pid, 0);
	if (t->pid == 0) {
		for (size_t i = 0; i < sb->nenv; i++)
			putenv((char *)sb->env[i]);
		for (size_t i = 0; extra && extra[i]; i++)
			putenv((char *)extra[i]);
		if (setsid() < 0 || ioctl(t->slave, TIOCSCTTY, 0) < 0 || dup2(t->slave, 0) < 0 ||
		    dup2(t->slave, 1) < 0 || dup2(t->slave, 2) < 0 || chdir(dir) < 0)
			_exit(127);
		close(t->master);
		close(t->slave);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
}

int term_read(struct term *t, int ms)
{
	struct pollfd p = { .fd = t->master, .events = POLLIN };
	while (poll(&p, 1, ms) > 0 && t->n < TERM_OUT_MAX - 1) {
		ssize_t got = read(t->master, t->out + t->n, TERM_OUT_MAX - 1 - t->n);
		if (got <= 0)
			return 0; /* EIO: no slave is open any more */
		t->n += (size_t)got;
		t->out[t->n] = '\0';
		ms = 0;
	}
	return 1;
}

void term_expect(struct term *t, const char *needle)
{
	for (int i = 0; i < 600; i++) {
		char *at = strstr(t->out + t->mark, needle);
		if (at) {
			t->mark = (size_t)(at - t->out) + strlen(needle);
			return;
		}
		term_read(t, 100);
	}
	cr_assert_fail("'%s' never came; the terminal shows:\n%s", needle, t->out);
}

void term_send(struct term *t, const char *keys)
{
	cr_assert_eq(write(t->master, keys, strlen(keys)), (ssize_t)strlen(keys));
}

int term_wait(struct term *t)
{
	int st;
	for (int i = 0; i < 600; i++) {
		if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
			t->pid = -1;
			running = NULL;
			/* its modes now; then, the slave closed, all it wrote up to the end */
			cr_assert_eq(tcgetattr(t->slave, &t->after), 0);
			close(t->slave);
			t->slave = -1;
			for (int j = 0; j < 600 && term_read(t, 100); j++)
				;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		term_read(t, 100);
	}
	cr_assert_fail("it never ended; the terminal shows:\n%s", t->out);
	return -1;
}

void term_close(struct term *t)
{
	close(t->master);
	if (t->slave >= 0)
		close(t->slave);
}

void term_teardown(void)
{
	if (running && running->pid > 0) {
		kill(running->pid, SIGKILL);
		waitpid(running->pid, NULL, 0);
	}
	running = NULL;
}
