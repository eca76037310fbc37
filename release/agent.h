/*
 * agent.h - the node agent: what a run host answers its control.
 *
 * Part of release/: uses util/, store/, runtime/ and release/apply.h;
 * writes only to the buf it is given.
 *
 * A control reaches a run host over ssh with its own key (runtime/nodes.h),
 * which the run host's authorized_keys forces to `slipway node-agent`
 * (access/keys.h: keys_allow_agent), so the key runs nothing else: no
 * shell, no other command, no forwarding.  The agent reads one request
 * line (sshd's SSH_ORIGINAL_COMMAND, else a line on stdin), reads what the
 * request takes on stdin (the rest of it), and answers one JSON document on
 * a line (util/json.h), flat so that the control reads it with
 * json_flat_get():
 *
 *   hello       {"slipway":"0.1.0","clock_ms":1765061234567,"request":"hello"}
 *   ping        the same, "request":"ping"
 *   slug SHA    stdin: the slug's bytes.  Stored in this host's slug store
 *               (store/cas.h: cas_store_stream) once their SHA-256 is
 *               SHA, at most slipway.maxSlugSize of them: {"slug":SHA,
 *               "stored":true,"size":N}; when the store has it already,
 *               nothing is read and nothing changes: "stored":false.
 *   slug-s3 SHA stdin: the control's S3 settings (store/s3.h:
 *               s3_json_write), its secret too, kept in memory only.  The
 *               slug fetched from the bucket into the store as slug stores
 *               it (s3_slug_fetch): the same answer, "from":"s3" when it
 *               was fetched; a fetch that fails is refused with its line.
 *   apply       stdin: a desired-state document (release/apply.h), made
 *               this host's: its answer is apply_state()'s.
 *   state APP [health]
 *               the app's instances on this host (release/apply.h); with
 *               health, each web instance of its release that is up also
 *               says how the app's health checks went, run once now.
 *   logs APP N [ps=TYPE[.N]] [source=app|slipway] [all]
 *               the app's last N (1 to LOGS_MAX_LINES) log lines here,
 *               filtered and shown as `logs` does (runtime/logs.h), the
 *               newest that fit in a million bytes: a line
 *               {"app":APP,"lines":K}, then the K lines.  Not one
 *               document: log lines are the apps' output, passed on as
 *               the lines they are.
 *
 * `slipway` is its version and `clock_ms` its clock (milliseconds since
 * the epoch), which the control checks when the host joins.  A request
 * refused (SW_EINVALID for one the agent does not know or malformed, else
 * the refusal's own code) has its one line set; the caller prints it and
 * exits 2 (SW_EINVALID) or 1.
 *
 *     struct agent_in in = { .root = root, .self = exe, .in = stdin };
 *     struct buf answer = BUF_INIT;
 *     if (agent_answer(&in, getenv("SSH_ORIGINAL_COMMAND"), &answer) < 0) ...;
 */
#ifndef SW_AGENT_H
#define SW_AGENT_H

#include <stdio.h>

#include "util/util.h"

/* The longest request line read. */
#define AGENT_REQUEST_MAX 4096

/* Where the agent answers, and what it reads a request's body from. */
struct agent_in {
	const char *root;  /* this host's root */
	const char *self;  /* absolute path of the slipway executable (an app created here) */
	FILE *in;          /* the request's body: the rest of stdin */
};

/*
 * Appends the answer to request (a line, its '\n' and surrounding blanks
 * ignored) to out, with its '\n'.  SW_EINVALID, naming the requests there
 * are, for anything but one of them.
 */
int agent_answer(const struct agent_in *a, const char *request, struct buf *out);

#endif
