#define _GNU_SOURCE
#include "runtime/https.h"

#include "runtime/logs.h"
#include "runtime/router.h"
#include "store/domains.h"
#include "util/error.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct https_target https_target_of(const char *name)
{
	return (struct https_target){ .name = name, .dashboard = !strcmp(name, CERTS_DASHBOARD) };
}

const char *https_target_label(const struct https_target *t)
{
	return t->dashboard ? "the dashboard" : t->name;
}

int https_target_hosts(const char *root, const struct https_target *t, struct strvec *hosts)
{
	struct router_listen l;
	char *host = NULL;
	int err;
	if (t->dashboard) {
		if (!(err = domains_dashboard_host(&host)))
			strvec_push(hosts, host);
		free(host);
		return err;
	}
	if (!(err = router_listen_read(root, &l))) {
		strvec_pushf(hosts, "%s.%s", t->name, l.domain);
		/* domains_list() appends */
		err = domains_list(root, t->name, hosts);
	}
	return err;
}

int https_target_switch(const char *root, const struct https_target *t)
{
	return t->dashboard ? router_dashboard_switch(root) : router_switch(root, t->name, NULL, NULL);
}

void https_target_event(const char *root, const struct https_target *t, const char *who,
			const char *fmt, ...)
{
	va_list ap;
	char *text = NULL;
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	if (t->dashboard)
		logs_server_event(root, who, "%s", text ? text : "");
	else
		logs_event(root, t->name, who, "%s", text ? text : "");
	free(text);
}

/*
 * Installs chain and key (chain NULL: removes the certificate) and switches
 * the router, the file before put back on failure; says doing on out.  1
 * when there was a certificate before, 0 when none, or the error.
 */
static int change(const char *root, const struct https_target *t, const char *chain,
		  const char *key, FILE *out, const char *doing)
{
	struct sw_error_state first;
	char *old = NULL;
	int err = certs_read(root, t->name, &old);
	if (err == SW_ENOTFOUND && chain)
		err = 0;
	if (err < 0)
		return err;
	if (out) {
		fprintf(out, "%s %s... ", doing, https_target_label(t));
		fflush(out);
	}
	err = chain ? certs_install(root, t->name, chain, key) : certs_remove(root, t->name);
	if (!err)
		err = https_target_switch(root, t);
	if (err < 0) {
		sw_error_save(&first, err);
		/* what the router refused is not kept */
		certs_restore(root, t->name, old);
		err = sw_error_restore(&first);
	}
	if (out)
		fprintf(out, "%s\n", err < 0 ? "failed" : "done");
	if (!err)
		err = old != NULL;
	if (old)
		/* the key leaves no copy in freed memory */
		explicit_bzero(old, strlen(old));
	free(old);
	return err;
}

int https_cert_put(const char *root, const struct https_target *t, const struct strvec *hosts,
		   const char *chain, const char *key, unsigned flags, FILE *out,
		   struct cert_info *info)
{
	int err = certs_check(chain, key, hosts, flags | (t->dashboard ? CERTS_FOR_DASHBOARD : 0),
			      info);
	return err < 0 ? err : change(root, t, chain, key, out, "Adding SSL certificate to");
}

int https_cert_remove(const char *root, const struct https_target *t, FILE *out)
{
	int err = change(root, t, NULL, NULL, out, "Removing SSL certificate from");
	return err < 0 ? err : 0;
}
