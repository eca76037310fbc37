/*
 * term.h - a program at a terminal the test holds (a pty), for the tests
 * of what a user types: `run` with a terminal, the add-on consoles.
 *
 *	static void teardown(void) { term_teardown(); ... }
 *
 *	struct term t;
 *	term_start(&t, &sb, sb.src, NULL, (const char *const[]){ SLIPWAY_BIN, "run", "-a", APP,
 *		   "sh", NULL }, 24, 80);
 *	term_expect(&t, "$ ");
 *	term_send(&t, "exit 3\n");
 *	cr_assert_eq(term_wait(&t), 3, "%s", t.out);
 *	term_close(&t);
 *
 * Helpers assert (Criterion); every wait is bounded (60 s).
 */
#ifndef SW_TEST_TERM_H
#define SW_TEST_TERM_H

#include "tests/integration/app_sandbox.h"

#include <stddef.h>
#include <sys/types.h>
#include <termios.h>

#define TERM_OUT_MAX (1024 * 1024)

/* A program at the test's terminal. */
struct term {
	int master, slave;   /* the test keeps the slave open: its modes stay readable */
	pid_t pid;
	struct termios before, after; /* after: read as it ended */
	char out[TERM_OUT_MAX];       /* everything it wrote */
	size_t n, mark;               /* term_expect() looks after mark */
};

/*
 * Starts argv in dir with sb's environment and extra ("K=V" entries,
 * NULL-ended; may be NULL), at a rows x cols terminal that is its
 * controlling terminal.
 */
void term_start(struct term *t, const struct app_sandbox *sb, const char *dir,
		const char *const *extra, const char *const *argv, int rows, int cols);

/* Reads what the program wrote within ms milliseconds (0: what is there); 0 at the end. */
int term_read(struct term *t, int ms);

/* Waits for needle in what it wrote after the last one found. */
void term_expect(struct term *t, const char *needle);

/* Types keys. */
void term_send(struct term *t, const char *keys);

/*
 * Waits for the program to end, reading what it writes (all of it, once
 * it ended): its exit status (128 + N when signal N ended it).  The modes
 * it left are in t->after.
 */
int term_wait(struct term *t);

/* Closes the terminal. */
void term_close(struct term *t);

/* Kills the program a failed test left at its terminal, if any (a suite's teardown). */
void term_teardown(void);

#endif
