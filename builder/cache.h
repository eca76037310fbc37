/*
 * cache.h - an app's build cache (<root>/cache/<app>, the CACHE_DIR every
 * bin/compile gets), kept between builds.
 *
 * Part of builder/: uses util/, store/, exec/ and release/, never hooks/; writes only
 * to the FILE * or callback it is given.
 */
#ifndef SW_CACHE_H
#define SW_CACHE_H

/*
 * Empties the app's build cache, holding the app lock (waiting up to
 * slipway.lockTimeout, store/settings.h, for a running build), so the next build starts
 * with an empty CACHE_DIR.  *files (may be NULL) gets how many entries were
 * at its top level.  SW_ENOTFOUND if the app does not exist.
 */
int cache_purge(const char *root, const char *app, unsigned long *files);

#endif
