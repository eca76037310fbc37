/*
 * standby.h - this server's part in mirroring the ledger (docs/hosts.md,
 * "Standby control"): the writer, a standby, or a writer fenced off.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * The state is one line in <root>/hosts/standby, replaced whole:
 *
 *     EPOCH ROLE NAME
 *
 * EPOCH counts promotions (0 before any); ROLE is "writer", "standby" (it
 * takes the mirror pushes of the control NAME names and makes no release)
 * or "fenced" (a writer whose standby was promoted: NAME is the new writer,
 * and it makes no release).  No file is "0 writer -": a server on its own.
 *
 * A mirror push carries the sender's epoch; a standby takes it only when
 * that epoch is not older than its own (standby_take_mirror), so a control
 * promoted away can never overwrite the ledger of the writer after it.
 */
#ifndef SW_STANDBY_H
#define SW_STANDBY_H

enum standby_role { STANDBY_WRITER, STANDBY_STANDBY, STANDBY_FENCED };

struct standby_state {
	long long epoch;
	enum standby_role role;
	char *name;             /* malloc'ed; "-" when none */
};
#define STANDBY_STATE_INIT { 0, STANDBY_WRITER, NULL }
void standby_state_release(struct standby_state *s);

/* Reads root's state (no file: 0 writer -). */
int standby_read(const char *root, struct standby_state *out);

/* Replaces root's state (temp file, fsync, rename). */
int standby_write(const char *root, const struct standby_state *s);

/*
 * 0 when this server may make releases; SW_EDENIED with one line naming
 * the writer when it is a standby or fenced.
 */
int standby_writer_check(const char *root);

/*
 * 0 when a mirror push of a control at epoch may go in (this server is a
 * standby and epoch is not older than its own; a newer one is adopted);
 * SW_EDENIED with one line starting "fenced:" otherwise.
 */
int standby_take_mirror(const char *root, long long epoch);

#endif
