#define _GNU_SOURCE
#include "dashboard/session.h"

#include "store/addons.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKENS "tokens"
#define SESSIONS "sessions"
#define RECORD_MAX 4096
/* a temporary or taken file this old is a leftover of a killed process */
#define LEFTOVER_AGE 3600

void session_release(struct session *s)
{
	free(s->user);
	*s = (struct session)SESSION_INIT;
}

/* 64 lowercase hex digits */
static int secret_valid(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return 0;
	return n == SESSION_SECRET_SIZE - 1;
}

/* The file of secret in kind's directory, named by the secret's SHA-256. */
static char *entry_path(const char *root, const char *kind, const char *secret)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	EVP_Digest(secret, strlen(secret), md, &n, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return paths_dashboard_entry(root, kind, hex);
}

/* <root>/dashboard and its kind directory, mode 0700 whatever the umask. */
static int make_dirs(const char *root, const char *kind)
{
	char *top = paths_dashboard_dir(root), *dir = paths_dashboard_kind(root, kind);
	int err = fs_mkdir_p(dir, 0700);
	if (!err && (chmod(top, 0700) < 0 || chmod(dir, 0700) < 0))
		err = sw_error_errno(SW_ERROR, "cannot make '%s' private", dir);
	free(top);
	free(dir);
	return err;
}

/* user, operator, created (and csrf when csrf is not NULL) of a record */
static void record_put(struct buf *b, const char *user, int operator, time_t created,
		       const char *csrf)
{
	buf_addf(b, "user %s\noperator %d\ncreated %lld\n", user, operator, (long long)created);
	if (csrf)
		buf_addf(b, "csrf %s\n", csrf);
}

static int record_parse(const char *text, const char *path, struct session *out)
{
	const char *u = strncmp(text, "user ", 5) ? NULL : text + 5;
	const char *nl = u ? strchr(u, '\n') : NULL;
	long long created = 0;
	int op = 0, used = 0;
	if (!nl || nl == u || sscanf(nl + 1, "operator %d\ncreated %lld\n%n", &op, &created, &used) < 2 ||
	    !used)
		return sw_error_set(SW_ERROR, "'%s' is not a dashboard record", path);
	const char *rest = nl + 1 + used;
	if (!strncmp(rest, "csrf ", 5) && strlen(rest) == 5 + SESSION_SECRET_SIZE - 1 + 1)
		memcpy(out->csrf, rest + 5, SESSION_SECRET_SIZE - 1);
	out->user = xstrndup(u, (size_t)(nl - u));
	out->operator = op == 1;
	out->created = (time_t)created;
	return 0;
}

/* Reads the record at path into out (SW_ENOTFOUND if it is absent). */
static int record_read(const char *path, struct session *out)
{
	char *text = NULL;
	struct stat st;
	int err = fs_read_file(path, RECORD_MAX, &text, NULL);
	if (!err && stat(path, &st) < 0)
		err = sw_error_errno(errno == ENOENT ? SW_ENOTFOUND : SW_ERROR, "cannot stat '%s'", path);
	if (!err && !(err = record_parse(text, path, out)))
		out->seen = st.st_mtime;
	free(text);
	return err;
}

/* The modification time of path set to t: a session's last use. */
static int touch_at(const char *path, time_t t)
{
	struct timespec ts[2] = { { .tv_sec = t }, { .tv_sec = t } };
	if (utimensat(AT_FDCWD, path, ts, 0) < 0)
		return sw_error_errno(errno == ENOENT ? SW_ENOTFOUND : SW_ERROR,
				      "cannot touch '%s'", path);
	return 0;
}

/* Writes a record to kind's file of secret, its last use now. */
static int record_write(const char *root, const char *kind, const char *secret, const char *user,
			int operator, time_t now, const char *csrf)
{
	struct buf b = BUF_INIT;
	char *path = entry_path(root, kind, secret);
	int err = make_dirs(root, kind);
	if (!err && (strchr(user, '\n') || !*user))
		err = sw_error_set(SW_EINVALID, "invalid dashboard user name");
	record_put(&b, user, operator, now, csrf);
	if (!err)
		err = fs_write_atomic(path, b.data, b.len, 0600);
	if (!err)
		err = touch_at(path, now);
	buf_release(&b);
	free(path);
	return err;
}

int session_token_create(const char *root, const char *user, int operator, time_t now,
			 char secret[SESSION_SECRET_SIZE])
{
	int err = addon_random_hex(secret, (SESSION_SECRET_SIZE - 1) / 2);
	if (!err)
		err = record_write(root, TOKENS, secret, user, operator, now, NULL);
	return err;
}

static int link_expired(void)
{
	return sw_error_set(SW_ENOTFOUND, "this login link has expired or was used already: "
					  "run 'slipway dashboard:login' for a new one");
}

/*
 * Takes the token file away from every other login: a rename is atomic,
 * so one racer gets it and the others find nothing.
 */
static int token_take(const char *root, const char *token, struct session *t)
{
	char *path = entry_path(root, TOKENS, token), *taken = NULL;
	char tag[17];
	int err = addon_random_hex(tag, 8);
	if (!err) {
		taken = xasprintf("%s.taken-%s", path, tag);
		if (rename(path, taken) < 0)
			err = errno == ENOENT ? link_expired()
					      : sw_error_errno(SW_ERROR, "cannot take '%s'", path);
	}
	if (!err) {
		err = record_read(taken, t);
		unlink(taken);
	}
	free(path);
	free(taken);
	return err;
}

int session_login(const char *root, const char *token, time_t now,
		  char secret[SESSION_SECRET_SIZE], struct session *out)
{
	struct session t = SESSION_INIT;
	int err;
	session_release(out);
	if (!secret_valid(token))
		return sw_error_set(SW_EINVALID, "this is not a login token: copy the whole link "
						 "'slipway dashboard:login' printed");
	if ((err = token_take(root, token, &t)) < 0)
		goto done;
	if (now - t.created > SESSION_TOKEN_TTL || now < t.created) {
		err = link_expired();
		goto done;
	}
	if ((err = addon_random_hex(secret, (SESSION_SECRET_SIZE - 1) / 2)) < 0 ||
	    (err = addon_random_hex(out->csrf, (SESSION_SECRET_SIZE - 1) / 2)) < 0)
		goto done;
	err = record_write(root, SESSIONS, secret, t.user, t.operator, now, out->csrf);
	if (!err) {
		out->user = t.user;
		t.user = NULL;
		out->operator = t.operator;
		out->created = out->seen = now;
	}
done:
	session_release(&t);
	if (err < 0)
		session_release(out);
	return err;
}

static int expired(const struct session *s, time_t now)
{
	return now - s->seen >= SESSION_IDLE || now - s->created >= SESSION_MAX_AGE ||
	       now < s->created;
}

int session_open(const char *root, const char *secret, time_t now, struct session *out)
{
	char *path = NULL;
	int err;
	session_release(out);
	if (!secret || !secret_valid(secret))
		return sw_error_set(SW_ENOTFOUND, "no session");
	path = entry_path(root, SESSIONS, secret);
	if ((err = record_read(path, out)) < 0)
		goto done;
	if (expired(out, now)) {
		unlink(path);
		err = sw_error_set(SW_ENOTFOUND, "the session has expired: log in again");
	} else if (now - out->seen >= SESSION_SEEN_STEP) {
		/* a file removed meanwhile (a logout) stays removed: no rewrite */
		if (!(err = touch_at(path, now)))
			out->seen = now;
	}
done:
	if (err == SW_ENOTFOUND && !out->user) /* a file that was not there */
		sw_error_set(SW_ENOTFOUND, "no session");
	if (err < 0)
		session_release(out);
	free(path);
	return err;
}

int session_end(const char *root, const char *secret)
{
	if (!secret || !secret_valid(secret))
		return 0;
	char *path = entry_path(root, SESSIONS, secret);
	int err = 0;
	if (unlink(path) < 0 && errno != ENOENT)
		err = sw_error_errno(SW_ERROR, "cannot remove '%s'", path);
	free(path);
	return err;
}

/*
 * Calls fn on each file of kind's directory (but its temporary ones) with
 * its path and record; fn returns 1 to remove the file.  Other files
 * (temporary, taken) are removed once older than LEFTOVER_AGE when
 * leftovers is set.  *n counts what was removed.
 */
static int sweep(const char *root, const char *kind, time_t now, int leftovers,
		 int (*fn)(const struct session *s, const void *arg, time_t now), const void *arg,
		 int *n)
{
	char *dir = paths_dashboard_kind(root, kind);
	DIR *d = opendir(dir);
	struct dirent *e;
	int err = 0;
	if (!d) {
		err = errno == ENOENT ? 0 : sw_error_errno(SW_ERROR, "cannot read '%s'", dir);
		free(dir);
		return err;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *path = xasprintf("%s/%s", dir, e->d_name);
		struct session s = SESSION_INIT;
		struct stat st;
		int drop = 0;
		if (strlen(e->d_name) == SESSION_SECRET_SIZE - 1 && !strchr(e->d_name, '.')) {
			if (!record_read(path, &s))
				drop = fn(&s, arg, now);
		} else if (leftovers && !lstat(path, &st)) {
			drop = now - st.st_mtime >= LEFTOVER_AGE;
		}
		if (drop && !unlink(path) && n)
			(*n)++;
		session_release(&s);
		free(path);
	}
	closedir(d);
	free(dir);
	return err;
}

static int token_expired(const struct session *s, const void *arg, time_t now)
{
	(void)arg;
	return now - s->created > SESSION_TOKEN_TTL || now < s->created;
}

static int session_expired(const struct session *s, const void *arg, time_t now)
{
	(void)arg;
	return expired(s, now);
}

struct user_match {
	const char *user;
	int operator;
};

static int of_user(const struct session *s, const void *arg, time_t now)
{
	const struct user_match *m = arg;
	(void)now;
	return s->operator == m->operator && !strcmp(s->user, m->user);
}

int session_end_user(const char *root, const char *user, int operator, int *n)
{
	struct user_match m = { user, operator ? 1 : 0 };
	int count = 0;
	int err = sweep(root, SESSIONS, 0, 0, of_user, &m, &count);
	if (n)
		*n = count;
	return err;
}

static int any(const struct session *s, const void *arg, time_t now)
{
	(void)s, (void)arg, (void)now;
	return 1;
}

int session_end_all(const char *root, int *n)
{
	int count = 0;
	int err = sweep(root, SESSIONS, 0, 0, any, NULL, &count);
	if (n)
		*n = count;
	return err;
}

int session_prune(const char *root, time_t now, int *n)
{
	int count = 0;
	int err = sweep(root, TOKENS, now, 1, token_expired, NULL, &count);
	if (!err)
		err = sweep(root, SESSIONS, now, 1, session_expired, NULL, &count);
	if (n)
		*n = count;
	return err;
}
