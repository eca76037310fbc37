/*
 * error.h - error codes and the last error message.
 *
 * Part of util/: includes nothing outside util/; prints nothing.
 *
 * Library functions return 0 on success or one of the negative codes below
 * and leave a human-readable message (lowercase, no trailing newline) that
 * sw_error_last() returns until the next sw_error_set().  The message is
 * per thread: a worker thread hands it to the thread that reports it
 * (sw_error_save()).  Only front-ends (cli/ and hooks/) turn codes into exit
 * statuses.
 *
 *     if (thing_do(...) < 0)
 *             say(stderr, SAY_WARN, "%s", sw_error_last());    // util/say.h
 */
#ifndef SW_ERROR_H
#define SW_ERROR_H

enum sw_code {
	SW_OK = 0,
	SW_ERROR = -1,     /* anything unexpected (I/O, library failure) */
	SW_ENOTFOUND = -2, /* the named thing does not exist */
	SW_EEXISTS = -3,   /* the thing to create already exists */
	SW_ELOCKED = -4,   /* someone else holds the lock; waited long enough */
	SW_EINVALID = -5,  /* the request is malformed (bad name, bad value) */
	SW_ETIMEOUT = -6,  /* a child process ran out of time */
	SW_ECONFLICT = -7, /* a compare-and-swap lost a race */
	SW_EDENIED = -8,   /* the caller may not do this (a policy, not a malformed request) */
};

/* Sets the message (printf format) and returns code, for `return sw_error_set(...)`. */
int sw_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Like sw_error_set() but appends ": strerror(errno)". */
int sw_error_errno(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The message of the last error ("unknown error" if none was set). */
const char *sw_error_last(void);

/*
 * Puts the formatted text in front of the current message, as is, and
 * returns code.  Ending fmt with ": " gives the usual form:
 *
 *     if ((err = run_child(&ro, &status)) < 0)
 *             return sw_error_prefix(err, "cannot source '%s': ", path);
 *     // "cannot source 'export': cannot run '/bin/sh': ..."
 */
int sw_error_prefix(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Messages are cut to this many bytes, the NUL included. */
#define SW_ERROR_MSG_MAX 4096

/*
 * A saved error: a code and a copy of the message, plain data with nothing
 * to free.  A failure path saves the first error, cleans up (which may set
 * errors of its own) and restores it, so the caller sees the cause:
 *
 *     struct sw_error_state first;
 *     sw_error_save(&first, err);
 *     fs_rm_rf(tmp);
 *     return sw_error_restore(&first);
 *
 * A worker thread saves its failure into shared state (under its lock) and
 * the thread that reports it restores it.
 */
struct sw_error_state {
	int code;
	char msg[SW_ERROR_MSG_MAX];
};

/* Saves code and this thread's current message into st; returns code. */
int sw_error_save(struct sw_error_state *st, int code);

/* Makes st's message this thread's current one again; returns its code. */
int sw_error_restore(const struct sw_error_state *st);

#endif
