/*
 * say.h - the lines a push and the commands show, in the three kinds the
 * Heroku build output has, and the one of its command line's refusals:
 *
 *     -----> Building demo from main (1a2b3c4)        SAY_STEP: a step
 *      !     Release command failed                   SAY_WARN: a warning or error
 *            Procfile declares types -> web           SAY_DETAIL: more of the step above
 *      !    demo has no releases.                     SAY_ERROR: a command refuses or fails
 *
 * Part of util/: includes nothing outside util/; it prints only to the
 * FILE * (or line callback, or buf) it is given.
 *
 * The one place these prefixes are written: no other file spells them.
 * A line goes where the caller says - the pusher's terminal, stderr, a
 * build's log - and a FILE * is flushed after each line, so what the
 * pusher sees keeps pace with the work.
 *
 *     say(out, SAY_STEP, "Released v%d: %s", v, why);
 *     say(out, SAY_WARN, "%.*s; v%d is still live", (int)first, why, v);
 *     say_lines(out, SAY_DETAIL, why + first);  // the rest, each line indented
 */
#ifndef SW_SAY_H
#define SW_SAY_H

#include <stddef.h>
#include <stdio.h>

#include "util/run.h"
#include "util/util.h"

enum say_kind {
	SAY_STEP,   /* "-----> " */
	SAY_WARN,   /* " !     " */
	SAY_DETAIL, /* "       " */
	SAY_ERROR,  /* " !    " (four spaces: the command line's, on stderr) */
};

/* The kind's prefix: seven characters, six for SAY_ERROR. */
const char *say_prefix(enum say_kind kind);

/* Writes the prefix, the text and "\n" to out, then flushes out. */
void say(FILE *out, enum say_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The same for the line[0..len) as it is (it may hold any byte but "\n"). */
void say_line(FILE *out, enum say_kind kind, const char *line, size_t len);

/* Each line of text that is not empty, as say_line() writes it. */
void say_lines(FILE *out, enum say_kind kind, const char *text);

/* Appends the prefix and the text, without "\n", to b. */
void say_addf(struct buf *b, enum say_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Hands the line (prefix and text, without "\n") to on_line; nothing if on_line is NULL. */
void say_to(run_line_fn on_line, void *ctx, enum say_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
