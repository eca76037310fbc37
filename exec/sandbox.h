/*
 * sandbox.h - where app and buildpack code runs: a bubblewrap sandbox.
 *
 * Part of exec/: uses util/ and store/; writes only to the FILE * or
 * callback it is given.
 *
 * Every program that comes from a push - a buildpack's bin/detect,
 * bin/compile and bin/release, the export files they leave, the release
 * phase, and the app's processes - runs through sandbox_run().  Inside, it
 * sees only:
 *
 *   /usr, /bin, /lib*, /sbin     the system, read-only
 *   /etc/...                     only what programs need (resolv.conf, hosts,
 *                                nsswitch.conf, ssl/, ca-certificates*,
 *                                passwd, group, alternatives/, localtime,
 *                                ld.so.*), read-only
 *   /dev, /proc, /tmp            a minimal /dev, a new /proc, a private /tmp
 *   the job's own directories    at fixed paths, added with sandbox_mount():
 *                                for a build /app (BUILD_DIR), /cache, /env
 *                                (read-only) and /buildpacks; for the release
 *                                phase and processes the release's slug at /app
 *   /run/addons/<alias>/         for the release phase and processes, the
 *                                socket directory of each add-on the release
 *                                attaches (sandbox_addons()), writable; nothing
 *                                else of the add-on's directory
 *
 * and never the root (other apps, the store, the ledger, locks), the server
 * user's home and keys, the slipway binary or the server's environment: the
 * environment is the one run_opts.env gives (only PATH when it gives none),
 * never inherited.  It gets new
 * user, PID, IPC, UTS and cgroup namespaces, its own session, and dies with
 * its parent; it shares the host's network unless the settings say not to
 * (a process started with procenv_start() gets a network of its own under
 * slipway.appNetwork private, the default: exec/appnet.h; there, the
 * ports of its add-ons are the only ones of the host's loopback it reaches).
 * Core dumps are off, no file it writes may exceed max_file_size and its
 * /tmp holds at most slipway.tmpSize (1G by default).
 *
 * Paths: callers work with host paths.  sandbox_run() rewrites every
 * argument and the working directory that lie under a mount to the path
 * inside; sandbox_path() does the same for values the caller puts in the
 * environment (HOME=/app).
 *
 * Settings (store/settings.h): slipway.sandbox ("bwrap", the default, or
 * "none": app code then runs unsandboxed, as the server user, and every
 * build says so), slipway.bwrap (the bubblewrap program, default bwrap
 * from /usr/bin:/bin), for builds slipway.buildNetwork ("shared", the
 * default, or "none") and for processes slipway.appNetwork ("private", the
 * default, or "host").
 *
 *     struct sandbox sb = SANDBOX_INIT;
 *     if (sandbox_init(&sb, root, app, SANDBOX_BUILD) < 0 || sandbox_check(&sb) < 0) ...;
 *     sandbox_mount(&sb, app_dir, "/app", 1);
 *     struct run_opts o = RUN_OPTS_INIT; o.argv = argv; o.env = env; o.dir = app_dir;
 *     err = sandbox_run(&sb, &o, &status);
 *     sandbox_release(&sb);
 */
#ifndef SW_SANDBOX_H
#define SW_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

#include "util/run.h"

struct limits;

/* Add-ons a sandbox reaches at most (a release's attachments). */
#define SANDBOX_ADDONS_MAX 16
#define SANDBOX_MOUNTS_MAX (8 + SANDBOX_ADDONS_MAX)

/* Where an attached add-on's socket directory is inside: /run/addons/<alias in lower case>. */
#define SANDBOX_ADDONS_DIR "/run/addons"

/* The PATH of everything that runs inside. */
#define SANDBOX_PATH "/usr/local/bin:/usr/bin:/bin"

enum sandbox_use {
	SANDBOX_BUILD,    /* buildpacks: the network per slipway.buildNetwork */
	SANDBOX_RUN,      /* the release phase and processes: the network per slipway.appNetwork */
};

struct sandbox_mount {
	char *host;       /* owned */
	char *inside;     /* owned; absolute */
	int writable;
};

struct sandbox {
	enum sandbox_use use;
	int off;                    /* slipway.sandbox none: runs unsandboxed */
	int network;                /* shares the host's network */
	int appnet;                 /* slipway.appNetwork private (and sandboxed): procenv_start()
	                               gives a process a network of its own (exec/appnet.h) */
	int block_fd;               /* > 0: what runs inside waits for a byte on this fd */
	int resolv_fd;              /* > 0: /etc/resolv.conf inside is what this fd holds */
	/*
	 * a pseudo-terminal's slave (/dev/pts/N, the caller's; NULL: none):
	 * inside, /dev/pts holds it alone, at the same path, so that the
	 * process finds its terminal's name (tty(1)); the sandbox's own
	 * /dev/ptmx is then gone
	 */
	const char *tty;
	unsigned long long max_file_size; /* RLIMIT_FSIZE of what runs inside; 0 = none */
	unsigned long long tmp_size; /* the size of its /tmp (a tmpfs); 0 = the kernel's default */
	char *bwrap;                /* owned; slipway.bwrap, NULL = "bwrap" from PATH */
	int (*check)(void *ctx);    /* run_opts.check for every run that sets none */
	void *check_ctx;
	int check_ms;
	/*
	 * the cgroups every run joins before anything of it runs (exec/limits.h;
	 * the caller's, may be NULL) - sandbox_run() and procenv_start() alike;
	 * a run that cannot join them does not run
	 */
	const struct limits *limits;
	struct sandbox_mount mounts[SANDBOX_MOUNTS_MAX];
	size_t n;
	/*
	 * 0-terminated: the host's loopback ports that its own network reaches
	 * at the same port (the add-ons', sandbox_addons()); unused without one
	 */
	int host_ports[SANDBOX_ADDONS_MAX + 1];
};
#define SANDBOX_INIT { .network = 1 }

/*
 * Reads the app's settings for one use.  A malformed setting is
 * SW_EINVALID naming where it was set.
 */
int sandbox_init(struct sandbox *sb, const char *root, const char *app, enum sandbox_use use);

/* Makes the host directory `host` appear at `inside` (absolute, fixed). */
void sandbox_mount(struct sandbox *sb, const char *host, const char *inside, int writable);

/*
 * Where an add-on attached as alias has its socket directory inside:
 * SANDBOX_ADDONS_DIR/<alias in lower case> ("DATABASE":
 * "/run/addons/database"), malloc'ed.
 */
char *sandbox_addon_dir(const char *alias);

/*
 * Makes the add-ons of attachments (a release's, store/attach.h) reachable
 * from inside, for SANDBOX_RUN: each one's socket directory
 * (<root>/addons/NAME/run) at SANDBOX_ADDONS_DIR/<alias in lower case>,
 * writable (connecting to a unix socket writes), and under a network of
 * its own its port (store/addons.h) at 127.0.0.1:PORT.  An add-on that no
 * longer exists, or has no socket directory yet, is left out: connecting
 * to it fails inside as to a server that is down.  Nothing with the
 * sandbox off (the process has the host's view).  SW_EINVALID for more
 * than SANDBOX_ADDONS_MAX; SW_ERROR when a record cannot be read.
 */
struct attachments;
int sandbox_addons(struct sandbox *sb, const char *root, const struct attachments *a);

/*
 * The path that host has inside (malloc'ed): under a mount, the mount's
 * inside path plus the rest; otherwise (or with the sandbox off) host.
 */
char *sandbox_path(const struct sandbox *sb, const char *host);

/*
 * Checks that the sandbox can start on this machine, by starting an empty
 * one.  SW_ERROR with one line naming the cause and the fix (install
 * bubblewrap, allow unprivileged user namespaces, or set slipway.sandbox
 * none).  0 at once when the sandbox is off.
 */
int sandbox_check(const struct sandbox *sb);

/*
 * run_child() inside the sandbox: o's argv, dir and env as described above;
 * its timeout, output handling and results are run_child()'s.  For
 * SANDBOX_RUN (the release phase) under slipway.appNetwork private, the
 * command gets a network of its own, outbound only (exec/appnet.h).
 */
int sandbox_run(const struct sandbox *sb, const struct run_opts *o, int *status);

/*
 * The bwrap command line that runs argv in dir inside the sandbox (paths
 * rewritten as sandbox_run() does), for callers that start it themselves;
 * info_fd >= 0 asks bwrap to write its JSON status there (its "child-pid"
 * and "pid-namespace").  Appended to out.
 */
void sandbox_command(const struct sandbox *sb, const char *const *argv, const char *dir,
		     int info_fd, struct strvec *out);

/*
 * Reads what bwrap wrote on its info fd (sandbox_command()'s info_fd) until
 * it closes it: its PID namespace's inode and its "child-pid", the first
 * process inside; each 0 when it wrote none (it failed).
 */
void sandbox_read_info(int fd, unsigned long long *ns, pid_t *child);

/*
 * Appends "PATH=..." and "HOME=<home as seen inside>" to env: SANDBOX_PATH,
 * or the server's PATH when the sandbox is off (its tools live there).
 */
void sandbox_env(const struct sandbox *sb, const char *home, struct strvec *env);

void sandbox_release(struct sandbox *sb);

#endif
