/*
 * sbcheck.h - the sandbox's start check, made again only when what it
 * depends on has changed.
 *
 * Part of exec/: uses util/ and store/; prints nothing.
 *
 * sandbox_check() starts an empty sandbox so that a machine where none can
 * start fails with one clear line (install bubblewrap, allow user
 * namespaces) instead of bwrap's own.  It protects nothing: the job itself
 * still runs in bwrap, or fails to start.  Whether it passes depends only on
 *
 *   - the bubblewrap program: slipway.bwrap, or each "bwrap" of the PATHs it
 *     is looked up in (device, inode, size, mode, owner, mtime and ctime, so
 *     an upgrade, a replacement or a chmod counts as a change; absent counts
 *     too),
 *   - the check's command line (the sandbox's settings),
 *   - the kernel (its release and version) and its policy on unprivileged
 *     user namespaces (kernel.unprivileged_userns_clone,
 *     user.max_user_namespaces, kernel.apparmor_restrict_unprivileged_userns,
 *     read each time), and the user it runs as.
 *
 * sandbox_check_once() hashes all of these (SHA-256).  A check that passes
 * leaves an empty stamp <root>/sandbox-checked/<hash>; while the stamp is
 * there, the same check passes at once (a few stat()s and reads instead of
 * a sandbox start).  A failing check leaves nothing and is made every time.
 * What the key does not cover - bwrap's shared libraries changed under it,
 * the namespace limit reached - shows as the job's own start failing, in
 * bwrap's words.  Stamps are never removed: one is added per kernel, bwrap
 * and setting combination.
 */
#ifndef SW_SBCHECK_H
#define SW_SBCHECK_H

#include "exec/sandbox.h"

/*
 * sandbox_check(sb), skipped when a stamp under root says it passed with
 * the same key.  0 at once when the sandbox is off.  A stamp that cannot be
 * written is not an error (the next call checks again).
 */
int sandbox_check_once(const struct sandbox *sb, const char *root);

#endif
