/*
 * nodes.h - the control's side of its run hosts: its own ssh key, a
 * request to a host's node agent over ssh, and a host joining.
 *
 * Part of runtime/: uses util/ and store/; prints nothing.
 *
 * The control reaches a run host with OpenSSH and nothing else: `ssh` in
 * batch mode (no password, no prompt) with the control's own key,
 * <root>/hosts/id_ed25519 (ed25519, made by ssh-keygen the first time it
 * is needed, 0600), and the host keys it learnt, <root>/hosts/known_hosts
 * (store/paths.h).  The run host's authorized_keys forces that key to run
 * `slipway node-agent` (release/agent.h), so the request is the agent's
 * one line and the answer its JSON.
 *
 * A host joins (node_join) when the control can reach its agent with that
 * key and its answer to `hello` holds the control's own Slipway version
 * and a clock within NODE_CLOCK_SKEW_MAX_MS of the control's.  Its host
 * key is then learnt: the join talks to it with ssh's accept-new (a key
 * not seen yet is taken, a different one for a name known is refused) on
 * a copy of known_hosts that replaces the file only when the host is
 * recorded, so a refused join records nothing.  Every later request
 * (node_ping, node_call) checks the host key strictly.
 *
 *     struct node_hello h = NODE_HELLO_INIT;
 *     if (node_join(root, "h1", "ssh://slipway@10.0.0.2", &h) < 0) ...;  // one line says why
 *     node_hello_release(&h);
 */
#ifndef SW_NODES_H
#define SW_NODES_H

#include "store/hosts.h"
#include "store/release.h"
#include "util/util.h"

/* How far a host's clock may be from the control's when it joins. */
#define NODE_CLOCK_SKEW_MAX_MS 5000

/* What the agent answered to hello or ping. */
struct node_hello {
	char *version;       /* its Slipway version (malloc'ed) */
	long long clock_ms;  /* its clock, milliseconds since the epoch */
	long long skew_ms;   /* how far outside the control's own clock around the call (0: within) */
	char *router;        /* "ADDRESS:PORT" of its router as the control reaches it (malloc'ed),
	                        ADDRESS the host URL's when it listens on every address;
	                        NULL when it did not say (an older agent) */
};
#define NODE_HELLO_INIT { 0 }
void node_hello_release(struct node_hello *h);

/* The control's public key line (malloc'ed, no '\n'); the key pair is made if missing. */
int node_key(const char *root, char **pub);

/*
 * Sends request to the agent of the host at url, with the file input
 * (may be NULL: nothing) on its stdin, and appends its answer to
 * out.  known_hosts: the file of host keys; learn: 1 for ssh's accept-new,
 * 0 for a strict check.  SW_EDENIED when the host does not trust the
 * control's key (the message says what to run on it); SW_ERROR when it
 * cannot be reached, its host key does not match, or the agent refused
 * (the message says which, with ssh's or the agent's own line).
 */
int node_call(const char *root, const struct host_url *url, const char *request,
	      const char *input, const char *known_hosts, int learn, struct buf *out);

/*
 * Joins the host name at url: checks both, calls hello, refuses a version
 * other than this one or a clock skew over NODE_CLOCK_SKEW_MAX_MS
 * (SW_EINVALID, saying which and how far), else records the host
 * (store/hosts.h) and its host key.  On any failure nothing is recorded.
 * *out gets the answer.
 */
int node_join(const char *root, const char *name, const char *url, struct node_hello *out);

/*
 * Removes the host name from the list, and its host key from known_hosts
 * unless another host recorded is reached at the same address and port (a
 * machine installed again is then learnt again when it joins).
 * SW_ENOTFOUND if there is no such host.
 */
int node_remove(const char *root, const char *name);

/* hello's answer from a recorded host (strict host key), as node_call() fails. */
int node_ping(const char *root, const struct host_rec *h, struct node_hello *out);

/*
 * Makes the app's current release the one the recorded host runs: the
 * desired state (release/apply.h) built from the control's ledger, its
 * formation (each type's count: the host's share, node_release_of()) and its
 * domains, in phase (today "switch").  The slug goes first (the agent's
 * slug request: read only when the host's store lacks it; with S3
 * configured here (store/s3.h), slug-s3 instead: the host fetches it from
 * the bucket, its settings sent on stdin from memory), then the
 * document (config vars and all) from memory, never a file; out
 * gets the host's answer (the app's state there).  SW_ENOTFOUND for a
 * host or app unknown; SW_EINVALID for an app with no code deployed;
 * otherwise as node_call() fails, with the agent's own line.
 */
int node_apply(const char *root, const char *host, const char *app, const char *phase,
	       struct buf *out);

/*
 * Makes the app's current release the one every host of hosts runs, in
 * two phases (release/apply.h): each host prepares it - its instances
 * started beside the old ones and gated, the old ones serving on; all
 * hosts at once - and only once all have does each switch to it.  When
 * one cannot prepare, every host aborts (what it started stops, its
 * release fails with the reason) and the error is the line of the first
 * such host in hosts: "h2: web.1 ...".  out
 * gets the hosts' answers to the switch, one a line.  A host that fails
 * its switch is named the same way: those after it abort, and those
 * switched before it go back to the app's current release (when the
 * release switched to was another, node_release_of(); when the app has
 * none with code yet, they stop the new one's instances:
 * node_release_none()); one that cannot is named in the message, with
 * the hosts:apply that mends it.
 */
int node_release(const char *root, const char *app, const struct strvec *hosts,
		 struct buf *out);

/*
 * node_release() of r, a release of the app on the control (NULL: its
 * current one), with counts the formation spread over the app's hosts
 * (NULL: the app's own; else one count per type of the release, the
 * ps:scale to come).  Each host runs its share (store/formation.h
 * formation_share() over store/apphosts.h apphosts_placement()); a host
 * named that is not among the app's hosts runs the whole formation.
 */
int node_release_of(const char *root, const char *app, const struct release *r,
		    const int *counts, const struct strvec *hosts, struct buf *out);

/*
 * node_release_of() of r with a count of 0 for every type: the hosts keep
 * r (in place, as ps:scale does, on a host that runs it) and run none of
 * it.  r holds its process types and config vars (LEDGER_READ_PROCS,
 * LEDGER_READ_CONFIG).
 */
int node_release_none(const char *root, const char *app, const struct release *r,
		      const struct strvec *hosts, struct buf *out);

/*
 * The app's instances on the recorded run host stop: its current release
 * there with a count of 0 for every type (in place, as ps:scale does, when
 * the host runs that release), then the host is no longer recorded as
 * running it (store/apphosts.h).  For a host apps:hosts:set left out.
 * Fails as node_release_of() does; nothing is forgotten then.
 */
int node_withdraw(const char *root, const char *app, const char *host, struct buf *out);

/*
 * The app's state on the recorded host (its agent's answer to `state APP`)
 * into out; with health, the app's health checks run there once against
 * each web instance of its release that is up (`state APP health`).
 */
int node_state(const char *root, const char *host, const char *app, int health,
	       struct buf *out);

/*
 * The run hosts the app is placed on, into out (appended): its hosts
 * (store/apphosts.h apphosts_placement()) but "local"; none on a root
 * without run hosts.
 */
int node_run_hosts(const char *root, const char *app, struct strvec *out);

#endif
