/*
 * standby.h - the control's side of its standby control: the ledger
 * mirrored after each release, and the fence that stops a control whose
 * standby was promoted (docs/hosts.md, "Standby control").
 *
 * Part of runtime/: uses util/ and store/; prints nothing.
 *
 * The standby is slipway.standby, ssh://USER@ADDRESS[:PORT]; it is
 * reached with OpenSSH and the control's own key (runtime/nodes.h), which
 * its authorized_keys forces to `slipway mirror-receive` (hosts:allow
 * --standby).  Every request names the control's epoch (store/standby.h):
 *
 *     slipway-mirror EPOCH                 is this server still the writer?
 *     slipway-mirror EPOCH has HEX...      which of these slugs are missing there
 *     slipway-mirror EPOCH slug HEX        the slug's bytes on stdin
 *     slipway-mirror EPOCH '/APP'          git receive-pack (git push --receive-pack)
 *
 * and a standby that was promoted answers "fenced: ..." to each: the
 * control then records itself fenced and makes no more releases.
 *
 *     if (standby_fence_check(root) < 0) ...;   // refuse the release: one line says why
 *     ... record the release (ledger_append) ...
 *     if (standby_mirror(root, app) < 0) ...;   // warn: the next release sends it again
 */
#ifndef SW_RUNTIME_STANDBY_H
#define SW_RUNTIME_STANDBY_H

/*
 * 0 when this server may record a release: it is the writer
 * (standby_writer_check()) and its standby, when one is set and answers,
 * was not promoted.  SW_EDENIED with one line naming the writer otherwise;
 * a standby found promoted is recorded (this server is fenced from then
 * on).  A standby that cannot be reached does not stop a release.
 */
int standby_fence_check(const char *root);

/*
 * Sends app's ledger to the standby, when one is set: first the slugs of
 * its releases the standby lacks, then, with one `git push --atomic`, its
 * branches, refs/releases/ and refs/slipway/.  SW_EDENIED when the standby
 * was promoted (recorded as by standby_fence_check()), SW_ERROR when it
 * could not be reached or refused (the message says which); everything
 * is sent again by the next mirror.
 */
int standby_mirror(const char *root, const char *app);

#endif
