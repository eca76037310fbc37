/*
 * agent.h - the node agent: what a run host answers its control.
 *
 * Part of runtime/: uses util/ and store/; writes only to the buf it is
 * given.
 *
 * A control reaches a run host over ssh with its own key (runtime/nodes.h),
 * which the run host's authorized_keys forces to `slipway node-agent`
 * (access/keys.h: keys_allow_agent), so the key runs nothing else: no
 * shell, no other command, no forwarding.  The agent reads one request
 * line (sshd's SSH_ORIGINAL_COMMAND, else a line on stdin) and answers
 * one JSON document on a line (util/json.h):
 *
 *   hello    {"slipway":"0.1.0","clock_ms":1765061234567,"request":"hello"}
 *   ping     the same, "request":"ping"
 *
 * `slipway` is its version and `clock_ms` its clock (milliseconds since
 * the epoch), which the control checks when the host joins.  Anything else
 * is refused (SW_EINVALID): the caller prints the one line and exits 2.
 * The agent lives in runtime/ because what it is to do next (apply a
 * desired-state document: start an app's instances through their gate on
 * this host, switch, and report their state) is the runtime's work,
 * through runtime/host.h; the requests that come next, `apply` and
 * `state`, are rows of its table.
 *
 *     struct buf answer = BUF_INIT;
 *     if (agent_answer(root, getenv("SSH_ORIGINAL_COMMAND"), &answer) < 0) ...;
 */
#ifndef SW_AGENT_H
#define SW_AGENT_H

#include "util/util.h"

/* The longest request line read. */
#define AGENT_REQUEST_MAX 4096

/*
 * Appends the answer to request (a line, its '\n' and surrounding blanks
 * ignored) to out, with its '\n'.  SW_EINVALID, naming the requests there
 * are, for anything but one of them.
 */
int agent_answer(const char *root, const char *request, struct buf *out);

#endif
