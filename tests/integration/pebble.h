/*
 * pebble.h - a real ACME CA for the automatic certificates' suites:
 * Debian's pebble, with pebble-challtestsrv as the DNS that both pebble
 * and the checks before an order ask (every name 127.0.0.1 unless
 * pointed elsewhere), on free ports of 127.0.0.1.  Its HTTP-01 checks go
 * to the sandbox's router port.
 *
 *	static struct app_sandbox sb;
 *	static struct pebble pb;
 *	static void setup(void)
 *	{
 *		rt_setup(&sb, ...);            // the sandbox first: its dir and router port
 *		pebble_start(&pb, &sb, 0);     // skips without pebble or uacme
 *	}
 *	static void teardown(void) { pebble_stop(&pb); ... app_sandbox_release(&sb); }
 *
 * or, for the runtime's suites, https_port = pebble_setup(&pb, &sb, APP,
 * server_py, 0) and pebble_teardown(&pb, &sb, &svscan).
 *
 * pebble_start() sets the sandbox's slipway.acmeDirectory, acmeCaBundle
 * (the test's CA, which made pebble's API certificate), acmeResolver and
 * acmeHttpPort (the router's port) to point at them.  Helpers assert
 * (Criterion); every wait is bounded.
 */
#ifndef SW_TEST_PEBBLE_H
#define SW_TEST_PEBBLE_H

#include "tests/integration/app_sandbox.h"

#include <sys/types.h>

struct pebble {
	struct app_sandbox *sb;
	pid_t pebble, dns;
	int port, mgmt;         /* its ACME API, its management API */
	int dns_port, dns_mgmt; /* challtestsrv's DNS, its management API */
	char *pki;              /* the test's CA and pebble's API certificate */
	char *log;              /* what pebble says: its orders */
};

/*
 * Starts pebble for sb, its certificates valid for validity seconds (0:
 * its default, 5 years), once sb is made.  Skips the test when pebble or
 * uacme is not installed.
 */
void pebble_start(struct pebble *pb, struct app_sandbox *sb, int validity);

/* Kills pebble and the DNS (by pid) and frees what pebble_start() made. */
void pebble_stop(struct pebble *pb);

/*
 * rt_setup() of app with the router and server_py, slipway.httpsPort a
 * free port, then pebble_start() with validity: the HTTPS port.
 */
int pebble_setup(struct pebble *pb, struct app_sandbox *sb, const char *app,
		 const char *server_py, int validity);

/* pebble_stop(), rt_stop() of svscan and app_sandbox_release(): all gone. */
void pebble_teardown(struct pebble *pb, struct app_sandbox *sb, pid_t *svscan);

/* How many orders pebble has been sent. */
int pebble_orders(const struct pebble *pb);

/* The root that issues pebble's chains, fetched into sb's dir: its file (malloc'ed). */
char *pebble_root(const struct pebble *pb);

/* The DNS answers name with address (A) from now on, or as before with NULL. */
void pebble_point(const struct pebble *pb, const char *name, const char *address);

/* The serial of the certificate served on 127.0.0.1:port for the TLS name ("serial=…"). */
char *pebble_serial(int port, const char *name);

#endif
