/*
 * netns.h - several hosts on one machine for the tests: network
 * namespaces joined by a bridge, with addresses that exist only inside
 * them.
 *
 * A test bed is a bridge namespace holding a bridge and N host namespaces,
 * each with loopback up and an "eth0" whose veth peer is a port of that
 * bridge; host i has the address 10.231.0.(i + 2)/24 (the bridge
 * 10.231.0.1, each host's default route, so that an app's network has an
 * interface to copy).  Nothing links them to this machine's own namespace:
 * no route leads out of the bed (the bridge has none), and the same
 * addresses in another bed (another suite running beside this one) are
 * another network.  Names carry the pid of
 * the process that made them ("slipway-tb-PID-h0"), so suites never
 * collide; th_netns_up() first removes the beds of processes that are gone
 * (a test killed before its teardown).  Needs root and `ip netns`:
 * th_netns_require() skips the test without them.
 *
 *     static struct th_netns tb;
 *     th_netns_require();
 *     th_netns_up(&tb, 2);                          // in .init
 *     struct th_result r = th_netns_run(tb.ns[0], NULL, NULL, NULL, argv);
 *     pid_t sshd = th_sshd_start_opts(&(struct th_sshd_opts){
 *             .dir = d, .port = 22, .user = "root",
 *             .netns = tb.ns[1], .address = tb.addr[1] });
 *     pid_t run = th_netns_server_run(tb.ns[1], root, env, log);
 *     th_netns_down(&tb);                           // in .fini: kills and deletes all
 *
 * Strings are malloc'ed and the bed's; th_netns_down() frees them and takes
 * a bed zeroed or half made.
 */
#ifndef SW_TEST_NETNS_H
#define SW_TEST_NETNS_H

#include "tests/helpers.h"

#include <stddef.h>
#include <sys/types.h>

#define TH_NETNS_MAX 8

struct th_netns {
	char *bridge;                 /* the bridge's namespace */
	size_t n;                     /* host namespaces made */
	char *ns[TH_NETNS_MAX];       /* host i's namespace */
	char *addr[TH_NETNS_MAX];     /* host i's address, "10.231.0.(i + 2)" */
};

/* Skips the test unless it runs as root and `ip netns` works. */
void th_netns_require(void);

/* Makes the bed with n (1 .. TH_NETNS_MAX) host namespaces, asserted. */
void th_netns_up_at(struct th_at at, struct th_netns *tb, size_t n);
#define th_netns_up(...) th_netns_up_at(TH_AT, __VA_ARGS__)

/*
 * Kills every process in the bed's namespaces (SIGKILL, until none is
 * left), reaps those that were ours and deletes the namespaces; the bed is
 * zeroed.  Asserts nothing: it runs in .fini, after a failure too.
 */
void th_netns_down(struct th_netns *tb);

/* In a forked child: moves it into namespace ns; _exit(127) when it cannot. */
void th_netns_enter(const char *ns);

/* th_run() of argv inside namespace ns (`ip netns exec`). */
/*
 * ssh from namespace ns (in dir, with env) to login ("USER@ADDRESS") with
 * the key at key, running command there with input (NULL: none) on its
 * stdin; host keys are not checked (the bed's hosts are the test's own).
 */
struct th_result th_netns_ssh(const char *ns, const char *dir, const char *const *env,
			      const char *key, const char *login, const char *command,
			      const char *input);

struct th_result th_netns_run(const char *ns, const char *dir, const char *const *env,
			      const char *input, const char *const *argv);

/*
 * Starts argv inside namespace ns in the background, with env ("K=V",
 * NULL-terminated, may be NULL) added to ours, stdout and stderr to log
 * (appended), stdin /dev/null; it gets SIGTERM if the test dies.
 */
pid_t th_netns_spawn(const char *ns, const char *log, const char *const *env,
		     const char *const *argv);

/* 1 when something accepts TCP connections on address:port inside ns. */
int th_netns_port_open(const char *ns, const char *address, int port);

/*
 * `slipway --root ROOT server:run` inside ns (th_netns_spawn), waited for
 * until its server:status says the runtime runs (bounded; asserted).
 */
pid_t th_netns_server_run_at(struct th_at at, const char *ns, const char *root,
			     const char *const *env, const char *log);
#define th_netns_server_run(...) th_netns_server_run_at(TH_AT, __VA_ARGS__)

/* The pids of the processes in namespace ns whose command line holds what, into out; how many. */
size_t th_netns_pids(const char *ns, const char *what, pid_t *out, size_t max);

/*
 * hosts:add NAME URL on the control (namespace control_ns, environment
 * control_env) of the run host in host_ns (host_env): refused while the
 * host does not trust the control's key, with the hosts:allow line to run
 * there; run there, then hosts:add again (all asserted).
 */
void th_netns_join_at(struct th_at at, const char *control_ns, const char *const *control_env,
		      const char *host_ns, const char *const *host_env, const char *name,
		      const char *url);
#define th_netns_join(...) th_netns_join_at(TH_AT, __VA_ARGS__)

/* Skips the test unless `nft` is installed (scripts/deps) and runs as th_netns_require() says. */
void th_netns_require_nft(void);

/*
 * Cuts namespace ns off the bed: an nftables table of its own in it
 * ("inet slipway_cut") drops every packet in and out but its loopback's,
 * so that a host's own processes still reach one another and nothing else
 * reaches them (asserted).  th_netns_mend() deletes that table (asserted);
 * th_netns_down() takes it with the namespace.
 */
void th_netns_cut_at(struct th_at at, const char *ns);
#define th_netns_cut(...) th_netns_cut_at(TH_AT, __VA_ARGS__)
void th_netns_mend_at(struct th_at at, const char *ns);
#define th_netns_mend(...) th_netns_mend_at(TH_AT, __VA_ARGS__)

/* The names of the namespaces this machine has, one a line (`ip netns list`); malloc'ed. */
char *th_netns_list(void);

/*
 * Host i's places in a suite's sandbox sb: dir "SB/hI" (made, 0700), root
 * "DIR/root", url "ssh://root@ADDR" and log "DIR/server-run.log" (for
 * th_netns_server_run()); asserted.  th_netns_host_free() frees them and
 * takes a host zeroed or half made.
 */
struct th_netns_host {
	char *dir, *root, *url, *log;
};
void th_netns_host_at(struct th_at at, struct th_netns_host *h, const struct th_netns *tb,
		      const char *sb, size_t i);
#define th_netns_host(...) th_netns_host_at(TH_AT, __VA_ARGS__)
void th_netns_host_free(struct th_netns_host *h);

/*
 * Host i's environment as the several-host suites run slipway there: its
 * ssh directory "DIR/ssh" (made, 0700, for its sshd and its
 * authorized_keys) and env (NULL-terminated, for th_netns_run()):
 * SLIPWAY_ROOT, SLIPWAY_AUTHORIZED_KEYS, HOME, SLIPWAY_HTTP_ADDRESS=http
 * (where its router answers), SLIPWAY_HTTP_PORT=8080, LC_ALL=C.
 * th_netns_env_free() takes one zeroed or half made.
 */
struct th_netns_env {
	char *sshdir;
	char *kv[4];
	const char *env[8];
};
void th_netns_env_at(struct th_at at, struct th_netns_env *e, const struct th_netns_host *h,
		     const char *http);
#define th_netns_env(...) th_netns_env_at(TH_AT, __VA_ARGS__)
void th_netns_env_free(struct th_netns_env *e);

/*
 * Run host i's sshd (port 22 at its address, in its namespace, keys in
 * sshdir): root logs in with a key, and the sessions (the node agent) get
 * HOME, the router's settings server:run there has and the sanitizers'
 * options of this run (sshd passes no environment on).  Its pid.
 */
pid_t th_netns_agent_sshd(const struct th_netns *tb, size_t i, const char *sshdir,
			  const char *home);

/* Asserts r exited 0 (its output in the message); frees its stderr, returns its stdout. */
char *th_netns_ok_at(struct th_at at, struct th_result r);

/* Asserts a refusal: status, one line on stderr holding want, nothing on stdout. */
void th_netns_refused_at(struct th_at at, const struct th_result *r, int status,
			 const char *want);

/* 1 when pid is a live process (not a zombie). */
int th_pid_alive(pid_t pid);

#endif
