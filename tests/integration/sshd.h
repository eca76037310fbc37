/*
 * sshd.h - a real OpenSSH server for the tests, on 127.0.0.1 as the
 * test's own user.
 *
 *     th_sshd_require();                       // skips the test without OpenSSH
 *     th_keygen(key, "alice@laptop");          // key and key.pub
 *     pid_t pid = th_sshd_start(dir, th_free_port(), user);
 *     ... ssh -p PORT user@127.0.0.1 ...
 *     th_sshd_stop(&pid);
 */
#ifndef SW_TEST_SSHD_H
#define SW_TEST_SSHD_H

#include <sys/types.h>

/* Skips the test when sshd or ssh is not installed. */
void th_sshd_require(void);

/* The test's own user name, the one sshd lets in (malloc'ed). */
char *th_sshd_user(void);

/* A new ed25519 key pair without passphrase: path and path.pub. */
void th_keygen(const char *path, const char *comment);

/* th_keygen() of dir/name; returns that path (malloc'ed). */
char *th_keygen_in(const char *dir, const char *name, const char *comment);

/*
 * Starts sshd on 127.0.0.1:port for user only, in the foreground of a
 * child that dies with the test, and waits until it listens
 * (th_sshd_start_opts() with only dir, port and user).  Its files
 * are in dir: host_key, sshd_config, sshd.log, sshd.pid, and the keys it
 * accepts, dir/authorized_keys.  Sessions get HOME=dir (the server user's
 * git config is dir/.gitconfig), SLIPWAY_TEST=1 and the sanitizers'
 * options.  Returns its pid.
 */
pid_t th_sshd_start(const char *dir, int port, const char *user);

/* Where and how th_sshd_start_opts() runs sshd. */
struct th_sshd_opts {
	const char *dir;      /* its files, as th_sshd_start() */
	int port;
	const char *user;     /* the one user it lets in */
	const char *address;  /* ListenAddress; NULL: 127.0.0.1 */
	const char *netns;    /* a namespace of a test bed (netns.h) to run in; NULL: ours */
	const char *config;   /* sshd_config lines put first (the first value of a keyword
	                         counts, so they win over th_sshd_start()'s); NULL: none */
	const char *home;     /* the sessions' HOME; NULL: dir (never the user's own: a
	                         machine's shell start-up files are not the test's) */
	const char *setenv;   /* more "NAME=VALUE" words for the sessions' SetEnv; NULL: none */
};

/* th_sshd_start() as o says; waits until it listens at o->address inside o->netns. */
pid_t th_sshd_start_opts(const struct th_sshd_opts *o);

/* The app the ssh suites push, written into dir: "web: ./run.sh", run.sh echoing hi. */
void th_write_hi_app(const char *dir);

/* Stops the sshd *pid started (if any) and sets *pid to -1. */
void th_sshd_stop(pid_t *pid);

#endif
