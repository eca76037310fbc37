/*
 * session.h - the dashboard's one-time login tokens and sessions.
 *
 * Part of dashboard/: uses store/ and util/; prints nothing.
 *
 * Both are files of mode 0600 in <root>/dashboard/tokens/ and
 * <root>/dashboard/sessions/ (directories of mode 0700, store/paths.h),
 * each named by the SHA-256 of its secret: the secret itself (64 hex
 * digits from getrandom) exists only in the URL and the cookie, so
 * reading the directory logs no one in.  Files are written temp + fsync +
 * rename.
 *
 *   token:    made by `dashboard:login`, good for SESSION_TOKEN_TTL seconds
 *             and once: session_login() takes it by renaming it away, so of
 *             two logins racing with one token exactly one gets a session.
 *   session:  ends SESSION_IDLE seconds after its last use or
 *             SESSION_MAX_AGE seconds after the login, whichever is first;
 *             session_end() at logout, session_end_user() for every
 *             session of a user (logout --all, keys:remove).
 *
 * A user is a remote user's name (access/access.h) or, for the operator,
 * the operator's actor name with .operator set: the operator sees every app.
 * Times are passed in (now) so that expiry can be tested.
 */
#ifndef SW_DASHBOARD_SESSION_H
#define SW_DASHBOARD_SESSION_H

#include <time.h>

#define SESSION_TOKEN_TTL 120
#define SESSION_IDLE (8 * 3600)
#define SESSION_MAX_AGE (7 * 24 * 3600)
/* a session's last use is written again only this long after the last write */
#define SESSION_SEEN_STEP 60

/* A secret: 64 lowercase hex digits and the NUL. */
#define SESSION_SECRET_SIZE 65

struct session {
	char *user;
	int operator;
	time_t created, seen; /* seen: the file's modification time */
	char csrf[SESSION_SECRET_SIZE]; /* the session's synchronizer token (csrf.h) */
};
#define SESSION_INIT { 0 }

/* A new login token for user into secret. */
int session_token_create(const char *root, const char *user, int operator, time_t now,
			 char secret[SESSION_SECRET_SIZE]);

/*
 * Takes the login token (once) and makes a session of its user: its
 * secret into secret, the session into out.  SW_ENOTFOUND "this login
 * link has expired or was used already ..." for a token that is unknown,
 * used or older than SESSION_TOKEN_TTL; SW_EINVALID for a malformed one.
 */
int session_login(const char *root, const char *token, time_t now,
		  char secret[SESSION_SECRET_SIZE], struct session *out);

/*
 * The session of secret into out, its last use set to now.  SW_ENOTFOUND
 * when there is none or it has expired (an expired one is removed).
 */
int session_open(const char *root, const char *secret, time_t now, struct session *out);

/* Ends the session of secret; one that does not exist is fine. */
int session_end(const char *root, const char *secret);

/*
 * Ends every session of user (operator: the operator's sessions, else a
 * remote user's); *n (may be NULL) counts them.
 */
int session_end_user(const char *root, const char *user, int operator, int *n);

/* Ends every session of every user; *n (may be NULL) counts them. */
int session_end_all(const char *root, int *n);

/* Removes expired tokens and sessions and stale temporary files; *n (may be NULL) counts them. */
int session_prune(const char *root, time_t now, int *n);

void session_release(struct session *s);

#endif
