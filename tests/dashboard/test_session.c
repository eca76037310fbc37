/*
 * dashboard/session: one-time login tokens and sessions - used once,
 * expiring, private files that hold only hashes of the secrets.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include "dashboard/session.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define T0 1800000000

static char *root;

static void setup(void)
{
	root = th_sandbox();
}

static void teardown(void)
{
	th_sandbox_free(root);
}

TestSuite(session, .init = setup, .fini = teardown, .timeout = 60);

static void login(const char *user, int op, time_t at, char secret[SESSION_SECRET_SIZE],
		  struct session *s)
{
	char token[SESSION_SECRET_SIZE];
	cr_assert_eq(session_token_create(root, user, op, at, token), 0, "%s", sw_error_last());
	cr_assert_eq(session_login(root, token, at, secret, s), 0, "%s", sw_error_last());
}

Test(session, a_token_logs_in_once)
{
	char token[SESSION_SECRET_SIZE], secret[SESSION_SECRET_SIZE], again[SESSION_SECRET_SIZE];
	struct session s = SESSION_INIT;
	cr_assert_eq(session_token_create(root, "alice", 0, T0, token), 0);
	cr_assert_eq(strlen(token), 64);
	cr_assert_eq(session_login(root, token, T0 + 5, secret, &s), 0, "%s", sw_error_last());
	cr_assert_str_eq(s.user, "alice");
	cr_assert_eq(s.operator, 0);
	cr_assert_eq(strlen(s.csrf), 64);
	cr_assert_str_neq(secret, token);
	cr_assert_eq(session_login(root, token, T0 + 6, again, &s), SW_ENOTFOUND);
	cr_assert(strstr(sw_error_last(), "expired or was used already"), "%s", sw_error_last());
	cr_assert_null(s.user);
	struct session o = SESSION_INIT;
	cr_assert_eq(session_open(root, secret, T0 + 7, &o), 0, "%s", sw_error_last());
	cr_assert_str_eq(o.user, "alice");
	session_release(&o);
}

Test(session, a_token_expires_after_two_minutes)
{
	char token[SESSION_SECRET_SIZE], secret[SESSION_SECRET_SIZE];
	struct session s = SESSION_INIT;
	cr_assert_eq(session_token_create(root, "alice", 0, T0, token), 0);
	cr_assert_eq(session_login(root, token, T0 + SESSION_TOKEN_TTL + 1, secret, &s), SW_ENOTFOUND);
	cr_assert(strstr(sw_error_last(), "expired"), "%s", sw_error_last());
	/* control: the same at the edge of its life works */
	cr_assert_eq(session_token_create(root, "alice", 0, T0, token), 0);
	cr_assert_eq(session_login(root, token, T0 + SESSION_TOKEN_TTL, secret, &s), 0);
	session_release(&s);
}

Test(session, malformed_and_unknown_tokens_are_refused)
{
	char secret[SESSION_SECRET_SIZE];
	struct session s = SESSION_INIT;
	cr_assert_eq(session_login(root, "../../etc/passwd", T0, secret, &s), SW_EINVALID);
	cr_assert_eq(session_login(root, "", T0, secret, &s), SW_EINVALID);
	cr_assert_eq(session_login(root, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789ABCDEF",
				   T0, secret, &s), SW_EINVALID);
	cr_assert_eq(session_login(root, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
				   T0, secret, &s), SW_ENOTFOUND);
}

Test(session, idle_for_eight_hours_ends)
{
	char secret[SESSION_SECRET_SIZE];
	struct session s = SESSION_INIT, o = SESSION_INIT;
	login("alice", 0, T0, secret, &s);
	cr_assert_eq(session_open(root, secret, T0 + SESSION_IDLE - 1, &o), 0, "%s", sw_error_last());
	cr_assert_eq(o.seen, T0 + SESSION_IDLE - 1, "a use moves its idle time");
	cr_assert_eq(session_open(root, secret, T0 + 2 * SESSION_IDLE - 2, &o), 0, "used, so not idle");
	cr_assert_eq(session_open(root, secret, T0 + 3 * SESSION_IDLE, &o), SW_ENOTFOUND);
	cr_assert(strstr(sw_error_last(), "expired"), "%s", sw_error_last());
	cr_assert_eq(session_open(root, secret, T0 + 2 * SESSION_IDLE - 2, &o), SW_ENOTFOUND,
		     "an expired session is gone");
	session_release(&s);
}

Test(session, ends_after_seven_days_even_in_use)
{
	char secret[SESSION_SECRET_SIZE];
	struct session s = SESSION_INIT, o = SESSION_INIT;
	login("alice", 0, T0, secret, &s);
	time_t t = T0;
	for (; t + SESSION_IDLE / 2 < T0 + SESSION_MAX_AGE; t += SESSION_IDLE / 2)
		cr_assert_eq(session_open(root, secret, t, &o), 0, "at +%lld", (long long)(t - T0));
	cr_assert_eq(session_open(root, secret, T0 + SESSION_MAX_AGE, &o), SW_ENOTFOUND);
	session_release(&s);
	session_release(&o);
}

/* The names in dir, and that each is a 0600 file holding no secret. */
static void check_private(const char *dir, const char *secret1, const char *secret2)
{
	struct stat st;
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0700, "%s is %o", dir, st.st_mode & 07777);
	DIR *d = opendir(dir);
	struct dirent *e;
	int files = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *p = th_path("%s/%s", dir, e->d_name);
		char *text = th_read(p, NULL);
		cr_assert_eq(stat(p, &st), 0);
		cr_assert_eq(st.st_mode & 07777, 0600, "%s is %o", p, st.st_mode & 07777);
		cr_assert_eq(strlen(e->d_name), 64, "named by a hash: %s", e->d_name);
		cr_assert_null(strstr(e->d_name, secret1));
		cr_assert_null(strstr(text, secret1), "%s holds the secret", p);
		if (secret2) {
			cr_assert_null(strstr(e->d_name, secret2));
			cr_assert_null(strstr(text, secret2));
		}
		files++;
		free(text);
		free(p);
	}
	closedir(d);
	cr_assert_eq(files, 1, "%s: %d files", dir, files);
}

Test(session, files_are_private_and_hold_only_hashes)
{
	umask(022);
	char token[SESSION_SECRET_SIZE], token2[SESSION_SECRET_SIZE], secret[SESSION_SECRET_SIZE];
	struct session s = SESSION_INIT;
	cr_assert_eq(session_token_create(root, "alice", 0, T0, token), 0);
	cr_assert_eq(session_token_create(root, "bob", 0, T0, token2), 0);
	cr_assert_eq(session_login(root, token, T0, secret, &s), 0);
	char *top = paths_dashboard_dir(root), *tokens = paths_dashboard_kind(root, "tokens"),
	     *sessions = paths_dashboard_kind(root, "sessions");
	struct stat st;
	cr_assert_eq(stat(top, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0700);
	check_private(tokens, token2, token);
	check_private(sessions, secret, token);
	free(top);
	free(tokens);
	free(sessions);
	session_release(&s);
}

Test(session, one_token_two_racing_logins_one_session)
{
	for (int round = 0; round < 20; round++) {
		char token[SESSION_SECRET_SIZE];
		cr_assert_eq(session_token_create(root, "alice", 0, T0, token), 0);
		/* both wait at a shared flag, then log in at once */
		volatile int *go = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE,
					MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		*go = 0;
		pid_t pids[2];
		for (int i = 0; i < 2; i++) {
			pids[i] = fork();
			cr_assert_geq(pids[i], 0);
			if (!pids[i]) {
				char secret[SESSION_SECRET_SIZE];
				struct session s = SESSION_INIT;
				while (!*go)
					;
				_exit(session_login(root, token, T0, secret, &s) == 0 ? 0 : 1);
			}
		}
		*go = 1;
		int won = 0;
		for (int i = 0; i < 2; i++) {
			int status;
			cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
			cr_assert(WIFEXITED(status));
			won += WEXITSTATUS(status) == 0;
		}
		munmap((void *)go, sizeof(int));
		cr_assert_eq(won, 1, "round %d: %d logins won", round, won);
	}
	char *sessions = paths_dashboard_kind(root, "sessions");
	cr_assert_eq(th_entries(sessions), 20, "one session per token");
	free(sessions);
}

Test(session, logout_ends_one_session_and_all_ends_a_users)
{
	char a1[SESSION_SECRET_SIZE], a2[SESSION_SECRET_SIZE], b1[SESSION_SECRET_SIZE],
		op[SESSION_SECRET_SIZE];
	struct session s = SESSION_INIT;
	login("alice", 0, T0, a1, &s);
	login("alice", 0, T0, a2, &s);
	login("bob", 0, T0, b1, &s);
	login("alice", 1, T0, op, &s); /* an operator of the same name is someone else */
	cr_assert_eq(session_end(root, a1), 0);
	cr_assert_eq(session_open(root, a1, T0, &s), SW_ENOTFOUND);
	cr_assert_eq(session_open(root, a2, T0, &s), 0, "the other session of alice stays");
	cr_assert_eq(session_end(root, a1), 0, "twice is fine");
	int n = -1;
	cr_assert_eq(session_end_user(root, "alice", 0, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(session_open(root, a2, T0, &s), SW_ENOTFOUND);
	cr_assert_eq(session_open(root, b1, T0, &s), 0, "bob's stays");
	cr_assert_eq(session_open(root, op, T0, &s), 0, "the operator's stays");
	cr_assert(s.operator);
	session_release(&s);
}

Test(session, prune_removes_only_what_expired)
{
	char old[SESSION_SECRET_SIZE], fresh[SESSION_SECRET_SIZE], tok[SESSION_SECRET_SIZE];
	struct session s = SESSION_INIT;
	login("alice", 0, T0, old, &s);
	login("alice", 0, T0 + SESSION_IDLE, fresh, &s);
	cr_assert_eq(session_token_create(root, "alice", 0, T0, tok), 0);
	/* a killed writer's temporary file: removed once an hour old, not before */
	char *leftover = th_path("%s/dashboard/sessions/x.tmp-abcdef", root);
	char *recent = th_path("%s/dashboard/sessions/y.tmp-abcdef", root);
	th_write(leftover, "half", 0600);
	th_write(recent, "half", 0600);
	struct timespec at_old[2] = { { .tv_sec = T0 }, { .tv_sec = T0 } };
	struct timespec at_new[2] = { { .tv_sec = T0 + SESSION_IDLE }, { .tv_sec = T0 + SESSION_IDLE } };
	cr_assert_eq(utimensat(AT_FDCWD, leftover, at_old, 0), 0);
	cr_assert_eq(utimensat(AT_FDCWD, recent, at_new, 0), 0);
	int n = 0;
	cr_assert_eq(session_prune(root, T0 + SESSION_IDLE + 10, &n), 0);
	cr_assert_eq(n, 3, "the old session, the old token and the old leftover: %d", n);
	cr_assert_not(fs_exists(leftover));
	cr_assert(fs_exists(recent));
	free(recent);
	cr_assert_eq(session_open(root, fresh, T0 + SESSION_IDLE + 10, &s), 0);
	cr_assert_eq(session_open(root, old, T0, &s), SW_ENOTFOUND);
	free(leftover);
	session_release(&s);
}

Test(session, gc_removes_expired_tokens_and_sessions)
{
	char old[SESSION_SECRET_SIZE], fresh[SESSION_SECRET_SIZE], tok[SESSION_SECRET_SIZE];
	struct session s = SESSION_INIT;
	time_t now = time(NULL);
	login("alice", 0, now - SESSION_MAX_AGE, old, &s);
	login("alice", 0, now, fresh, &s);
	cr_assert_eq(session_token_create(root, "alice", 0, now - 3600, tok), 0);
	char *home = th_path("HOME=%s", root);
	const char *env[] = { home, "GIT_CONFIG_NOSYSTEM=1", NULL };
	struct th_result r = th_runv(NULL, env, SLIPWAY_BIN, "--root", root, "gc", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	th_result_free(&r);
	char *sessions = paths_dashboard_kind(root, "sessions"), *tokens = paths_dashboard_kind(root, "tokens");
	cr_assert_eq(th_entries(sessions), 1, "the fresh session stays");
	cr_assert_eq(th_entries(tokens), 0);
	cr_assert_eq(session_open(root, fresh, now, &s), 0);
	free(sessions);
	free(tokens);
	free(home);
	session_release(&s);
}
