/*
 * browser.h - opening a link in the user's browser, as `heroku login` does.
 *
 * Part of cli/: may use every folder; with hooks/ the only one that prints on
 * its own (this module prints nothing).
 *
 * A browser can open here when one is shown to a person: on macOS (`open`)
 * unless this is an ssh session, elsewhere when $DISPLAY or
 * $WAYLAND_DISPLAY is set and `xdg-open` is on PATH.  The opener runs in a
 * session of its own with stdin, stdout and stderr on /dev/null, and is
 * not waited for (it may wait for the browser it starts); only that it
 * could be started is known.
 *
 *     const char *opener = browser_opener();
 *     if (!opener)
 *             ...print the link instead...
 *     else if (browser_open(opener, url) < 0)
 *             ...sw_error_last(), and the link...
 */
#ifndef SW_BROWSER_H
#define SW_BROWSER_H

/* The program that opens links here ("xdg-open" or "open"), or NULL when no browser can open. */
const char *browser_opener(void);

/* Starts opener with url.  0, or -1 with the error set when it could not be started. */
int browser_open(const char *opener, const char *url);

#endif
