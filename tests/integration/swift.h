/*
 * swift.h - a real S3 store for the tests: OpenStack Swift (Debian's
 * swift-* packages) with its s3api middleware, one node, one replica, on
 * 127.0.0.1 at free ports, its files in a directory of the test's own.
 *
 *     th_swift_require();                     // skips the test without Swift
 *     struct th_swift s;
 *     th_swift_start(&s, dir);                // bucket "slugs" made
 *     ... S3 at s.endpoint, key TH_SWIFT_KEY_ID / TH_SWIFT_SECRET ...
 *     th_swift_stop(&s);                      // kills every daemon it started
 *
 * The daemons (memcached for tempauth, the account, container and object
 * servers and the proxy) run in the foreground of children that die with
 * the test, from their Debian entry points with configs in dir, never as
 * system services.  tempauth's S3 access key holds a ':' ("test:tester").
 */
#ifndef SW_TEST_SWIFT_H
#define SW_TEST_SWIFT_H

#include <sys/types.h>

#define TH_SWIFT_KEY_ID "test:tester"
#define TH_SWIFT_SECRET "testing"
#define TH_SWIFT_BUCKET "slugs"

struct th_swift {
	char *dir;
	char *endpoint;        /* "http://127.0.0.1:PORT" */
	int port;
	pid_t pids[5];         /* memcached, account, container, object, proxy */
	const char *ns;        /* the network namespace it runs in (not owned); NULL: ours */
	const char *addr;      /* the address it listens on there (not owned); NULL: 127.0.0.1 */
};

/* Skips the test when Swift or memcached is not installed. */
void th_swift_require(void);

/* Starts the store in dir (created) and makes the bucket TH_SWIFT_BUCKET. */
void th_swift_start(struct th_swift *s, const char *dir);

/*
 * The same inside the network namespace ns (netns.h), listening on addr
 * there (both the caller's, kept until th_swift_stop()): endpoint is
 * "http://ADDR:PORT", reached from the bed's other namespaces only, and
 * th_swift_curl() runs curl inside ns.
 */
void th_swift_start_in(struct th_swift *s, const char *dir, const char *ns, const char *addr);

/* Stops every daemon (bounded wait, then SIGKILL); frees the strings. */
void th_swift_stop(struct th_swift *s);

/* Makes a bucket (retrying while the store settles). */
void th_swift_bucket(const struct th_swift *s, const char *name);

/*
 * One store for a whole suite, started once by the runner: a suite calls
 * th_swift_share_start() from ReportHook(PRE_ALL) and th_swift_share_stop()
 * from ReportHook(POST_ALL) (TH_SWIFT_SHARE_PRE_ALL and
 * TH_SWIFT_SHARE_POST_ALL, after criterion.h, write them); each test gets
 * it with th_swift_shared() and a bucket of its own in *bucket
 * (malloc'ed), so tests running side by side never see each other's
 * objects.  th_swift_stop() of what th_swift_shared() gave frees its
 * strings only.
 */
void th_swift_share_start(void);
void th_swift_share_stop(void);
void th_swift_shared(struct th_swift *s, char **bucket);

/* Criterion names a hook by its line: the two stand on lines of their own. */
#define TH_SWIFT_SHARE_PRE_ALL                                                 \
	ReportHook(PRE_ALL)(struct criterion_test_set *set)                    \
	{                                                                      \
		(void)set;                                                     \
		th_swift_share_start();                                        \
	}
#define TH_SWIFT_SHARE_POST_ALL                                                \
	ReportHook(POST_ALL)(struct criterion_global_stats *stats)             \
	{                                                                      \
		(void)stats;                                                   \
		th_swift_share_stop();                                         \
	}

/* Stops only the proxy: the store stops answering (connection refused). */
void th_swift_stop_proxy(struct th_swift *s);

/*
 * curl --aws-sigv4 against the store (the credentials from a netrc file,
 * since the key id holds ':'), with x-amz-content-sha256: payload_hash
 * (NULL: the empty body's) and the extra curl arguments given, NULL
 * terminated: th_swift_curl(&s, &status, NULL, "-X", "DELETE", url, NULL).
 * Returns the body (malloc'ed) and the HTTP status in *status.
 */
char *th_swift_curl(const struct th_swift *s, int *status, const char *payload_hash, ...);

/* th_swift_curl() of a GET of path ("/slugs?list-type=2"), asserting 200. */
char *th_swift_get(const struct th_swift *s, const char *path);

#endif
