#define _GNU_SOURCE
#include "tests/integration/pebble.h"
#include "tests/integration/certs_helpers.h"
#include "tests/integration/runtime_helpers.h"

#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* pebble's API certificate, for 127.0.0.1, from a CA of the test's (ca.pem) */
static const char make_pki[] =
	"ca 'Pebble API CA'\n"
	"leaf api 127.0.0.1 30 IP:127.0.0.1,DNS:localhost\n";

static void setenv_sb(struct app_sandbox *sb, char *kv)
{
	app_sandbox_setenv(sb, kv);
	free(kv);
}

/* curl with opts then url (certs_curl()); its output, asserted to succeed */
static struct th_result curl(const char *const *opts, const char *url)
{
	struct th_result r = certs_curl(opts, url);
	cr_assert_eq(r.status, 0, "curl %s exited %d: %s", url, r.status, r.err);
	return r;
}

void pebble_start(struct pebble *pb, struct app_sandbox *sb, int validity)
{
	*pb = (struct pebble){ .sb = sb, .pebble = -1, .dns = -1 };
	if (access("/usr/bin/pebble", X_OK) || access("/usr/bin/uacme", X_OK))
		cr_skip_test("pebble or uacme is not installed (scripts/deps)");
	pb->port = th_free_port();
	pb->mgmt = th_free_port();
	pb->dns_port = th_free_port();
	pb->dns_mgmt = th_free_port();
	pb->pki = certs_make_pki(sb, make_pki);
	pb->log = th_path("%s/pebble.log", sb->dir);
	setenv_sb(sb, th_path("PEBBLE_VA_NOSLEEP=1"));
	setenv_sb(sb, th_path("PEBBLE_WFE_NONCEREJECT=0"));
	setenv_sb(sb, th_path("SLIPWAY_ACME_DIRECTORY=https://127.0.0.1:%d/dir", pb->port));
	setenv_sb(sb, th_path("SLIPWAY_ACME_CA_BUNDLE=%s/ca.pem", pb->pki));
	setenv_sb(sb, th_path("SLIPWAY_ACME_RESOLVER=127.0.0.1:%d", pb->dns_port));
	/* pebble checks challenges on the router's port, where a CA checks port 80 */
	setenv_sb(sb, th_path("SLIPWAY_ACME_HTTP_PORT=%d", sb->http_port));

	char period[64] = "";
	if (validity)
		snprintf(period, sizeof(period), ",\"certificateValidityPeriod\":%d", validity);
	char *cfg = th_path("%s/pebble.json", sb->dir);
	char *json = th_path("{\"pebble\":{\"listenAddress\":\"127.0.0.1:%d\","
			     "\"managementListenAddress\":\"127.0.0.1:%d\",\"certificate\":\"%s/api.pem\","
			     "\"privateKey\":\"%s/api.key\",\"httpPort\":%d,\"tlsPort\":%d,"
			     "\"ocspResponderURL\":\"\",\"externalAccountBindingRequired\":false%s}}",
			     pb->port, pb->mgmt, pb->pki, pb->pki, sb->http_port, th_free_port(),
			     period);
	th_write(cfg, json, 0644);
	char *dns_addr = th_path("127.0.0.1:%d", pb->dns_port);
	char *mgmt = th_path("127.0.0.1:%d", pb->dns_mgmt);
	char *log = th_path("%s/challtestsrv.log", sb->dir);
	pb->dns = app_sandbox_start(sb, log, (const char *const[]){
		"/usr/bin/pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
		"-dns01", dns_addr, "-http01", "", "-https01", "", "-tlsalpn01", "", "-management",
		mgmt, NULL });
	pb->pebble = app_sandbox_start(sb, pb->log, (const char *const[]){
		"/usr/bin/pebble", "-config", cfg, "-dnsserver", dns_addr, NULL });
	app_sandbox_wait_for(pb->log, "ACME directory available");
	app_sandbox_wait_for(log, "Starting management server");
	free(cfg);
	free(json);
	free(dns_addr);
	free(mgmt);
	free(log);
}

static void kill_wait(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
}

void pebble_stop(struct pebble *pb)
{
	kill_wait(&pb->pebble);
	kill_wait(&pb->dns);
	free(pb->pki);
	free(pb->log);
	pb->pki = pb->log = NULL;
}

int pebble_setup(struct pebble *pb, struct app_sandbox *sb, const char *app,
		 const char *server_py, int validity)
{
	int https_port = th_free_port();
	char *kv = th_path("SLIPWAY_HTTPS_PORT=%d", https_port);
	rt_setup(sb, app, RT_ROUTER, server_py, (const char *const[]){ kv, NULL });
	free(kv);
	pebble_start(pb, sb, validity);
	return https_port;
}

void pebble_teardown(struct pebble *pb, struct app_sandbox *sb, pid_t *svscan)
{
	pebble_stop(pb);
	rt_stop(sb, svscan);
	app_sandbox_release(sb);
}

int pebble_orders(const struct pebble *pb)
{
	char *text = th_read(pb->log, NULL);
	int n = 0;
	for (const char *p = text; p && (p = strstr(p, "POST /order-plz")); p++)
		n++;
	free(text);
	return n;
}

char *pebble_root(const struct pebble *pb)
{
	char *url = th_path("https://127.0.0.1:%d/roots/0", pb->mgmt);
	char *pem = th_path("%s/pebble-root.pem", pb->sb->dir);
	/* -k: the management API's certificate is pebble's own */
	struct th_result r = curl((const char *const[]){ "-k", "-o", pem, NULL }, url);
	th_result_free(&r);
	free(url);
	return pem;
}

void pebble_point(const struct pebble *pb, const char *name, const char *address)
{
	char *url = th_path("http://127.0.0.1:%d/%s", pb->dns_mgmt, address ? "add-a" : "clear-a");
	char *body = address ? th_path("{\"host\":\"%s.\",\"addresses\":[\"%s\"]}", name, address)
			     : th_path("{\"host\":\"%s.\"}", name);
	struct th_result r = curl((const char *const[]){ "-d", body, NULL }, url);
	th_result_free(&r);
	free(url);
	free(body);
}

char *pebble_serial(int port, const char *name)
{
	char *cmd = th_path("openssl s_client -connect 127.0.0.1:%d -servername %s </dev/null "
			    "2>/dev/null | openssl x509 -noout -serial", port, name);
	struct th_result r = th_runv(NULL, NULL, "sh", "-c", cmd, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(!strncmp(r.out, "serial=", 7), "%s", r.out);
	char *out = strdup(r.out);
	th_result_free(&r);
	free(cmd);
	return out;
}
