/*
 * `slipway run` with a terminal (Heroku's `heroku run bash`): when run's
 * stdin is a terminal, the command gets one of its own - tty names it, its
 * size is the client's and follows it, an interactive shell reads what is
 * typed, job control works - locally and through ssh (the laptop client
 * asks ssh for -t for run only); the client's terminal modes are back as
 * they were afterwards, and the exit status is the command's.  --no-tty,
 * or no terminal, keep everything as it was.
 *
 * The test is the user at a terminal: a pseudo-terminal of its own whose
 * slave is run's stdin, stdout, stderr and controlling terminal.
 */
#define _GNU_SOURCE
#include "tests/integration/app_sandbox.h"
#include "tests/integration/term.h"
#include "tests/integration/sshd.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define APP "app"

static struct app_sandbox sb;

static void setup(void)
{
	app_sandbox_init(&sb, APP, APP_SANDBOX_BATCH);
	app_sandbox_write(&sb, "Procfile", "web: sleep 300\n", 0644);
	app_sandbox_setenv(&sb, "TERM=vt100");
	app_sandbox_create(&sb, NULL);
	app_sandbox_checkout(&sb, NULL, "main", "first");
	free(app_sandbox_push(&sb, "main"));
}

static void teardown(void)
{
	term_teardown();
	app_sandbox_release(&sb);
}

TestSuite(run_tty, .init = setup, .fini = teardown, .timeout = 180);

/* The test's terminal is in raw mode (run put it so while the command runs). */
static void assert_raw(const struct term *t)
{
	struct termios now;
	cr_assert_eq(tcgetattr(t->slave, &now), 0);
	cr_assert_eq(now.c_lflag & (ICANON | ECHO | ISIG), 0, "the terminal is not raw:\n%s", t->out);
}

/* Its modes as the program ended are the ones it had before it started. */
static void assert_modes_back(const struct term *t)
{
	struct termios now = t->after;
	cr_assert_eq(now.c_iflag, t->before.c_iflag);
	cr_assert_eq(now.c_oflag, t->before.c_oflag);
	cr_assert_eq(now.c_cflag, t->before.c_cflag);
	cr_assert_eq(now.c_lflag, t->before.c_lflag, "the terminal was left changed");
	cr_assert_eq(memcmp(now.c_cc, t->before.c_cc, sizeof(now.c_cc)), 0);
}

/*
 * Types keys until the shell answers needle: what comes asynchronously (a
 * resize) or what a shell may drop (a line typed as ^C ends a command).
 */
static void expect_answer(struct term *t, const char *keys, const char *needle)
{
	for (int i = 0; i < 30; i++) {
		term_send(t, keys);
		for (int j = 0; j < 20; j++) { /* up to 2 s for each try: 60 s in all */
			term_read(t, 100);
			if (strstr(t->out + t->mark, needle)) {
				term_expect(t, needle);
				return;
			}
		}
	}
	cr_assert_fail("'%s' never came:\n%s", needle, t->out);
}

/*
 * An interactive shell at the terminal, as the user types: tty names a
 * /dev/pts, the size is the client's and follows a resize, job control is
 * on (the terminal is the shell's controlling terminal), the exit status
 * passes through.
 */
static void interactive_shell(struct term *t)
{
	term_send(t, "tty; echo \"A$((6*7))B$TERM\"\n");
	term_expect(t, "/dev/pts/");
	term_expect(t, "A42Bvt100"); /* the client's TERM */
	assert_raw(t);
	expect_answer(t, "stty size\n", "33 99");
	struct winsize ws = { .ws_row = 40, .ws_col = 120 };
	cr_assert_eq(ioctl(t->master, TIOCSWINSZ, &ws), 0);
	expect_answer(t, "stty size\n", "40 120");
	/* ^C reaches what runs in the shell, not run: the shell goes on */
	term_send(t, "sh -c 'echo R$((1))Y; exec sleep 300'\n"); /* R1Y: it is the foreground */
	term_expect(t, "R1Y");
	term_send(t, "\003");
	expect_answer(t, "echo \"C$((1+1))D\"\n", "C2D");
	term_send(t, "exit 3\n");
	cr_assert_eq(term_wait(t), 3, "%s", t->out);
	cr_assert_null(strstr(t->out, "job control turned off"), "%s", t->out);
	cr_assert_null(strstr(t->out, "not a tty"), "%s", t->out);
	assert_modes_back(t);
}

Test(run_tty, run_at_a_terminal_gives_the_command_a_terminal_of_its_own)
{
	struct term t;
	term_start(&t, &sb, sb.src, NULL, (const char *const[]){ SLIPWAY_BIN, "run", "-a", APP, "sh", NULL },
		   33, 99);
	interactive_shell(&t);
	term_close(&t);
	cr_assert_eq(app_sandbox_runs_left(&sb), 0);

	/* a command that a signal ends: 128+signal, as without a terminal */
	term_start(&t, &sb, sb.src, NULL,
		   (const char *const[]){ SLIPWAY_BIN, "run", "-a", APP, "tty; kill -KILL $$", NULL },
		   24, 80);
	cr_assert_eq(term_wait(&t), 128 + SIGKILL, "%s", t.out);
	cr_assert(strstr(t.out, "/dev/pts/"), "%s", t.out);
	assert_modes_back(&t);
	term_close(&t);

	/* much typed in, much written out: every byte both ways, to the last */
	term_start(&t, &sb, sb.src, NULL,
		   (const char *const[]){ SLIPWAY_BIN, "run", "-a", APP,
					  "echo go; head -n 300 | wc -l; seq 1 20000", NULL },
		   24, 80);
	term_expect(&t, "go");
	char line[64];
	memset(line, 'x', sizeof(line) - 2);
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = '\0';
	for (int i = 0; i < 300; i++) {
		term_send(&t, line);
		term_read(&t, 0); /* its echo: the terminal must not fill up */
	}
	cr_assert_eq(term_wait(&t), 0, "%s", t.out);
	cr_assert(strstr(t.out, "\r\n300\r\n1\r\n2\r\n"), "%s", t.out);
	cr_assert(strstr(t.out, "\r\n19999\r\n20000\r\n"), "the end is missing:\n%s",
		  t.out + (t.n > 200 ? t.n - 200 : 0));
	term_close(&t);

	/* unsandboxed (slipway.sandbox none) the same */
	term_start(&t, &sb, sb.src, (const char *const[]){ "SLIPWAY_SANDBOX=none", NULL },
		   (const char *const[]){ SLIPWAY_BIN, "run", "-a", APP,
					  "tty; stty size; stty -g < /dev/tty > /dev/null && echo ctty; exit 2",
					  NULL },
		   24, 80);
	cr_assert_eq(term_wait(&t), 2, "%s", t.out);
	cr_assert(strstr(t.out, "/dev/pts/") && strstr(t.out, "24 80") && strstr(t.out, "ctty"),
		  "%s", t.out);
	assert_modes_back(&t);
	term_close(&t);
}

Test(run_tty, no_tty_or_no_terminal_keeps_the_command_without_one)
{
	/*
	 * the control: --no-tty at a terminal gives no terminal of its own and
	 * leaves the client's modes alone (the command has the client's
	 * stdin and stdout as they are, as before: bwrap shows that terminal
	 * as /dev/console, never as the command's controlling terminal)
	 */
	struct term t;
	term_start(&t, &sb, sb.src, NULL,
		   (const char *const[]){ SLIPWAY_BIN, "run", "-a", APP, "--no-tty",
					  "tty; stty -g >/dev/null 2>&1 < /dev/tty || echo no-ctty; exit 4",
					  NULL },
		   24, 80);
	cr_assert_eq(term_wait(&t), 4, "%s", t.out);
	cr_assert_null(strstr(t.out, "/dev/pts/"), "%s", t.out);
	cr_assert(strstr(t.out, "no-ctty"), "%s", t.out);
	assert_modes_back(&t);
	term_close(&t);

	/* -x (Heroku's --exit-code) is taken; the status was always the command's */
	struct th_result r = SANDBOX_RUN(&sb, NULL, SLIPWAY_BIN, "run", "-a", APP, "-x", "tty; exit 6");
	cr_assert_eq(r.status, 6, "%s", r.err);
	cr_assert_str_eq(r.out, "not a tty\n");
	th_result_free(&r);
}

Test(run_tty, run_through_ssh_asks_for_a_terminal_and_gets_one)
{
	th_sshd_require();
	char *user = th_sshd_user();
	int port = th_free_port();
	char *key = th_keygen_in(sb.dir, "alice", "alice@laptop");
	char *pub = th_path("%s.pub", key);
	char *keys = th_path("SLIPWAY_AUTHORIZED_KEYS=%s/authorized_keys", sb.dir);
	app_sandbox_setenv(&sb, keys);
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "keys:add", "alice", pub));
	free(SANDBOX_OK(&sb, NULL, SLIPWAY_BIN, "access:add", "alice", "-a", APP));
	pid_t sshd = th_sshd_start(sb.dir, port, user);
	char *url = th_path("ssh://%s@127.0.0.1:%d/%s.git", user, port, APP);
	free(SANDBOX_OK(&sb, NULL, "git", "remote", "add", "laptop", url));
	char *ssh = th_path("GIT_SSH_COMMAND=ssh -F /dev/null -i %s -o StrictHostKeyChecking=no "
			    "-o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o BatchMode=yes "
			    "-o LogLevel=ERROR", key);

	struct term t;
	term_start(&t, &sb, sb.src, (const char *const[]){ ssh, NULL },
		   (const char *const[]){ SLIPWAY_BIN, "run", "-r", "laptop", "-a", APP, "sh", NULL },
		   33, 99);
	interactive_shell(&t);
	term_close(&t);

	/* the control: --no-tty asks ssh for no terminal */
	term_start(&t, &sb, sb.src, (const char *const[]){ ssh, NULL },
		   (const char *const[]){ SLIPWAY_BIN, "run", "-r", "laptop", "-a", APP, "--no-tty",
					  "tty; exit 4", NULL },
		   24, 80);
	cr_assert_eq(term_wait(&t), 4, "%s", t.out);
	cr_assert(strstr(t.out, "not a tty"), "%s", t.out);
	assert_modes_back(&t);
	term_close(&t);

	/*
	 * a key line of an earlier version (restrict alone): the server refuses
	 * the terminal and ssh, which asked for one, gives up with one line;
	 * --no-tty still works (the line gets pty when the keys are next written)
	 */
	char *file = th_path("%s/authorized_keys", sb.dir);
	char *text = th_read(file, NULL);
	cr_assert(!strncmp(text, "restrict,pty,command=", 21), "%s", text);
	char *old = th_path("restrict,%s", text + 13);
	th_write(file, old, 0600);
	term_start(&t, &sb, sb.src, (const char *const[]){ ssh, NULL },
		   (const char *const[]){ SLIPWAY_BIN, "run", "-r", "laptop", "-a", APP, "tty", NULL },
		   24, 80);
	cr_assert_neq(term_wait(&t), 0, "%s", t.out);
	cr_assert(strstr(t.out, "PTY allocation request failed"), "%s", t.out);
	assert_modes_back(&t);
	term_close(&t);
	term_start(&t, &sb, sb.src, (const char *const[]){ ssh, NULL },
		   (const char *const[]){ SLIPWAY_BIN, "run", "-r", "laptop", "-a", APP, "--no-tty",
					  "tty; exit 4", NULL },
		   24, 80);
	cr_assert_eq(term_wait(&t), 4, "%s", t.out);
	cr_assert(strstr(t.out, "not a tty"), "%s", t.out);
	term_close(&t);
	free(old);
	free(text);
	free(file);

	th_sshd_stop(&sshd);
	free(ssh);
	free(url);
	free(keys);
	free(pub);
	free(key);
	free(user);
}
