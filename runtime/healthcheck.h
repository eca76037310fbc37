/*
 * healthcheck.h - what a new web instance must answer before it takes
 * traffic: the app's own checks, in app.json at the root of its tree
 * (Dokku's schema).
 *
 * Part of runtime/: uses util/, store/ and exec/; writes only to the FILE * or
 * callback it is given.
 *
 *     {"healthchecks": {"web": [
 *         {"type": "startup", "path": "/health", "attempts": 5,
 *          "timeout": 5, "wait": 1, "content": "ok", "initialDelay": 0}]}}
 *
 * Each check: GET path at the instance's address and port with the app's
 * Host, answered 2xx or 3xx within timeout seconds (and holding
 * content, if given), tried up to attempts times, wait seconds apart,
 * after initialDelay.  Defaults: attempts 5, timeout 5, wait 1.  Without
 * app.json (or without "healthchecks.web") the gate is the port alone.
 */
#ifndef SW_HEALTHCHECK_H
#define SW_HEALTHCHECK_H

#define HEALTHCHECKS_MAX 8

struct healthcheck {
	char path[512];
	char content[256];   /* "" when not asked for */
	int attempts, timeout, wait, initial_delay;
};

struct healthchecks {
	struct healthcheck v[HEALTHCHECKS_MAX];
	int n;
};

/*
 * The web checks of the release whose slug is hex.  SW_EINVALID with a
 * one-line message naming what is wrong when app.json is not JSON, has an
 * unknown check field or type, or a value out of range.
 */
int healthchecks_load(const char *root, const char *hex, struct healthchecks *hc);

/*
 * Runs the checks against the instance at address ("ADDRESS:PORT", where
 * its host says it is reached: runtime/host.h) with Host: host.  0 when
 * all pass; SW_ETIMEOUT with *why (malloc'ed): "web.1 failed its health
 * check GET /health: HTTP 500 after 5 attempts".
 */
int healthchecks_run(const struct healthchecks *hc, const char *instance, const char *address,
		     const char *host, char **why);

/*
 * The checks of the release whose slug is hex, as an instance already
 * serving is checked again and again (the automatic rollback's watch, a
 * warm instance taken back): each tried once, right away.  *host
 * (malloc'ed) gets the app's Host, APP.DOMAIN of the root's settings.
 * Fails as healthchecks_load() does, or as the settings cannot be read.
 */
int healthchecks_load_once(const char *root, const char *app, const char *hex,
			   struct healthchecks *hc, char **host);

#endif
