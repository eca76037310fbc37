/*
 * ansi.h - build output with its colours, as HTML.
 *
 * Part of dashboard/: uses util/ and dashboard/html.h; prints nothing.
 *
 * Build output is the pusher's terminal text: escape sequences among
 * attacker-influenced bytes.  Only SGR sequences (ESC [ ... m) of a
 * whitelist become markup - bold (1) and the 16 foreground colours (30-37,
 * 90-97), each a <span class="ansi-N">, reset by 0 or 39 or 22 as by a
 * terminal - and every other sequence is dropped.  The text between goes
 * through html_escape().
 */
#ifndef SW_DASHBOARD_ANSI_H
#define SW_DASHBOARD_ANSI_H

#include <stddef.h>

struct buf;

/* Appends text[0..len) as escaped HTML with its whitelisted colours as spans. */
void ansi_html(struct buf *b, const char *text, size_t len);

#endif
